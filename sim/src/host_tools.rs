//! Host-level tools: `hostname`, `pveversion`, `pvecm`, `pveam`, `pvesm`, `lxc-info`.

use std::fs;

use super::clock::datetime;
use super::cluster::{create_sparse, find_storage, load_storages, ClusterInfo, AVAILABLE_TEMPLATES};
use super::context::Node;
use super::ct::Ct;
use super::journal::epoch_secs;
use super::output::{Failure, Outcome};
use super::params::{Kind, Opt, Spec};

pub const PVE_MANAGER: &str = "pve-manager/8.4.1/2a5fa54a8503f96d";
pub const KERNEL: &str = "6.8.12-9-pve";

pub fn hostname(node: &Node, _argv: &[String]) -> Outcome {
    println!("{}", node.name);
    Ok(())
}

pub fn pveversion(_node: &Node, argv: &[String]) -> Outcome {
    if argv.iter().any(|a| a == "-v" || a == "--verbose") {
        println!("proxmox-ve: 8.4.0 (running kernel: {KERNEL})");
        println!("pve-manager: 8.4.1 (running version: 8.4.1/2a5fa54a8503f96d)");
        println!("pve-container: 5.3.0");
        println!("pve-firewall: 5.1.1");
        println!("lxc-pve: 6.0.0-1");
        return Ok(());
    }
    println!("{PVE_MANAGER} (running kernel: {KERNEL})");
    Ok(())
}

/// `lxc-info …`: LXC's own tool on this node's lxcpath (see [`crate::lxc`]), so what it prints
/// (lxc `src/lxc/tools/lxc_info.c`) and when a container "doesn't exist" (no LXC config yet:
/// Proxmox writes it at the first start) are LXC's.
pub fn lxc_info(node: &Node, argv: &[String]) -> Outcome {
    crate::lxc::run_tool(node, "lxc-info", argv)
}

/// `lxc-ls …`: LXC's own tool on this node's lxcpath (lxc `src/lxc/tools/lxc_ls.c`).
pub fn lxc_ls(node: &Node, argv: &[String]) -> Outcome {
    crate::lxc::run_tool(node, "lxc-ls", argv)
}

pub fn pvecm(node: &Node, argv: &[String]) -> Outcome {
    let info = ClusterInfo::load(node)?;
    if !info.is_clustered() {
        return Err(Failure::new(
            "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?",
        ));
    }
    match argv.first().map(String::as_str) {
        Some("status") => pvecm_status(node, &info),
        Some("nodes") => {
            print!("{}", membership(node, &info, false));
            Ok(())
        }
        Some(other) => Err(Failure::new(format!("ERROR: unknown command 'pvecm {other}'"))),
        None => Err(Failure::new("USAGE: pvecm <COMMAND> [ARGS] [OPTIONS]")),
    }
}

fn membership(node: &Node, info: &ClusterInfo, hex_ids: bool) -> String {
    let mut out = String::from("\nMembership information\n----------------------\n    Nodeid      Votes Name\n");
    for m in info.nodes.iter().filter(|m| m.online) {
        let local = if m.name == node.name { " (local)" } else { "" };
        if hex_ids {
            out.push_str(&format!("0x{:08x}          1 {}{local}\n", m.id, m.ip));
        } else {
            out.push_str(&format!("{:>10} {:>10} {}{local}\n", m.id, 1, m.name));
        }
    }
    out
}

fn pvecm_status(node: &Node, info: &ClusterInfo) -> Outcome {
    let total = info.nodes.len();
    let online = info.nodes.iter().filter(|m| m.online).count();
    let quorum = total / 2 + 1;
    let quorate = info.quorate();
    let local_id = info.member(&node.name).map(|m| m.id).unwrap_or(1);
    let mut out = String::from("Cluster information\n-------------------\n");
    out.push_str(&format!("{:<17} {}\n", "Name:", info.name));
    out.push_str(&format!("{:<17} {}\n", "Config Version:", total));
    out.push_str(&format!("{:<17} {}\n", "Transport:", "knet"));
    out.push_str(&format!("{:<17} {}\n", "Secure auth:", "on"));
    out.push_str("\nQuorum information\n------------------\n");
    // corosync `tools/corosync-quorumtool.c`: `printf("Date:             %s", ctime(&t))`.
    out.push_str(&format!("{:<17} {}\n", "Date:", crate::clock::ctime(epoch_secs())));
    out.push_str(&format!("{:<17} {}\n", "Quorum provider:", "corosync_votequorum"));
    out.push_str(&format!("{:<17} {}\n", "Nodes:", online));
    out.push_str(&format!("{:<17} 0x{:08x}\n", "Node ID:", local_id));
    out.push_str(&format!("{:<17} {}.{:x}\n", "Ring ID:", 1, total * 16));
    out.push_str(&format!("{:<17} {}\n", "Quorate:", if quorate { "Yes" } else { "No" }));
    out.push_str("\nVotequorum information\n----------------------\n");
    out.push_str(&format!("{:<17} {}\n", "Expected votes:", total));
    out.push_str(&format!("{:<17} {}\n", "Highest expected:", total));
    out.push_str(&format!("{:<17} {}\n", "Total votes:", online));
    if quorate {
        out.push_str(&format!("{:<17} {}  \n", "Quorum:", quorum));
        out.push_str(&format!("{:<17} {}\n", "Flags:", "Quorate "));
    } else {
        out.push_str(&format!("{:<17} {} Activity blocked\n", "Quorum:", quorum));
        out.push_str(&format!("{:<17} \n", "Flags:"));
    }
    out.push_str(&membership(node, info, true));
    print!("{out}");
    if quorate {
        Ok(())
    } else {
        Err(Failure::with_code(2, ""))
    }
}

const PVEAM_AVAILABLE: Spec = Spec {
    usage: "pveam available [OPTIONS]",
    args: &[],
    opts: &[&[Opt { name: "section", kind: Kind::Enum(&["system", "mail", "turnkeylinux"]) }]],
    families: &[],
};

pub fn pveam(node: &Node, argv: &[String]) -> Outcome {
    let rest = argv.get(1..).unwrap_or_default();
    match argv.first().map(String::as_str) {
        Some("available") => {
            let params = PVEAM_AVAILABLE.parse(rest)?;
            let section = params.get("section");
            // pveam.pm `available`: `printf "%-15s %-60s %s\n", section, template, architecture`.
            for (sect, template, _) in AVAILABLE_TEMPLATES {
                if section.is_none_or(|s| s == sect) {
                    let arch = if template.contains("_arm64") { "arm64" } else { "amd64" };
                    println!("{sect:<15} {template:<60} {arch}");
                }
            }
            Ok(())
        }
        Some("list") => pveam_list(node, rest),
        Some("download") => pveam_download(node, rest),
        Some("remove") => {
            const REMOVE: Spec = Spec {
                usage: "pveam remove <template_path>",
                args: &[("template_path", Kind::Str { min_len: 1, max_len: 255 })],
                opts: &[],
                families: &[],
            };
            let params = REMOVE.parse(rest)?;
            crate::storage_content::remove_template(node, params.arg(0))
        }
        Some("update") => {
            println!("update successful");
            Ok(())
        }
        Some(other) => Err(Failure::new(format!("ERROR: unknown command 'pveam {other}'"))),
        None => Err(Failure::new("USAGE: pveam <COMMAND> [ARGS] [OPTIONS]")),
    }
}

fn template_storage(node: &Node, id: &str) -> Result<super::cluster::Storage, Failure> {
    let storage = find_storage(node, id)?;
    if !storage.supports("vztmpl") {
        return Err(Failure::new("Storage does not support templates!"));
    }
    Ok(storage)
}

fn pveam_list(node: &Node, argv: &[String]) -> Outcome {
    const LIST: Spec = Spec {
        usage: "pveam list <storage>",
        args: &[("storage", Kind::Str { min_len: 1, max_len: 64 })],
        opts: &[],
        families: &[],
    };
    let params = LIST.parse(argv)?;
    // pve-manager `PVE/CLI/pveam.pm` `index`: `storage_check_enabled` before the content check.
    let storage = find_storage(node, params.arg(0))?;
    if storage.disabled {
        return Err(Failure::new(format!("storage '{}' is disabled", storage.id)));
    }
    let storage = template_storage(node, params.arg(0))?;
    let dir = storage.base_dir(node).join("template/cache");
    let mut entries: Vec<(String, u64)> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| Some((e.file_name().into_string().ok()?, e.metadata().ok()?.len())))
                .filter(|(name, _)| crate::storage_content::template_format(name).is_some())
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by_key(|(name, _)| name.to_lowercase());
    println!("{:<60} {:<6}", "NAME", "SIZE");
    for (name, size) in entries {
        let volid = format!("{}:vztmpl/{name}", storage.id);
        println!("{volid:<60} {:<4.2}MB", size as f64 / 1_048_576.0);
    }
    Ok(())
}

fn pveam_download(node: &Node, argv: &[String]) -> Outcome {
    const DOWNLOAD: Spec = Spec {
        usage: "pveam download <storage> <template>",
        args: &[
            ("storage", Kind::Str { min_len: 1, max_len: 64 }),
            ("template", Kind::Str { min_len: 1, max_len: 255 }),
        ],
        opts: &[],
        families: &[],
    };
    // pve-manager `PVE/API2/Nodes.pm` `apl_download`, in its order: the catalogue, the storage,
    // its content; then a worker task (`download_file_from_url`, pve-common `PVE/Tools.pm`)
    // whose output the CLI shows and whose failure only reaches stderr (pveam has no
    // `$upid_exit`: `run_cli_handler` exits 0).
    let params = DOWNLOAD.parse(argv)?;
    let name = params.arg(1);
    let Some((_, _, size)) = AVAILABLE_TEMPLATES.iter().find(|(_, t, _)| *t == name) else {
        return Err(Failure::params(&[("template".into(), "no such template".into())], DOWNLOAD.usage));
    };
    let storage = find_storage(node, params.arg(0))?;
    if storage.disabled {
        return Err(Failure::new(format!("storage '{}' is disabled", storage.id)));
    }
    if !storage.supports("vztmpl") {
        return Err(Failure::new(format!("storage '{}' does not support templates", storage.id)));
    }
    let path = storage.base_dir(node).join("template/cache").join(name);
    let shown = format!("{}/template/cache/{name}", storage.path.as_deref().unwrap_or("/var/lib/vz"));
    let url = format!("http://download.proxmox.com/images/system/{name}");
    println!("downloading {url} to {shown}");
    if path.exists() {
        println!("calculating checksum of existing file...OK, got correct file already, no need to download");
        return Ok(());
    }
    println!("--{}--  {url}", datetime(epoch_secs()));
    println!("Length: {size} ({}M) [application/octet-stream]", size >> 20);
    create_sparse(&path, *size)?;
    println!("calculating checksum...OK, checksum verified");
    println!("download of '{url}' to '{shown}' finished");
    Ok(())
}

/// Bytes a storage holds on `node`: its files, or the volumes carved out of it.
pub fn storage_used(node: &Node, storage: &super::cluster::Storage) -> u64 {
    fn walk(dir: &std::path::Path) -> u64 {
        fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| match e.file_type() {
                        Ok(t) if t.is_dir() => walk(&e.path()),
                        _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&storage.base_dir(node))
}

pub fn pvesm(node: &Node, argv: &[String]) -> Outcome {
    match argv.first().map(String::as_str) {
        Some("status") => {
            let storages = load_storages(node)?;
            let width = storages.iter().map(|s| s.id.len()).max().unwrap_or(4).max(4) + 1;
            println!(
                "{:<width$} {:>10} {:>10} {:>15} {:>15} {:>15} {:>8}",
                "Name", "Type", "Status", "Total", "Used", "Available", "%"
            );
            for s in storages {
                let status = if s.disabled { "disabled" } else { "active" };
                let total = s.capacity() / 1024;
                let used = storage_used(node, &s) / 1024;
                let percent =
                    if total > 0 { format!("{:7.2}%", used as f64 * 100.0 / total as f64) } else { "     N/A".into() };
                println!(
                    "{:<width$} {:>10} {:>10} {:>15} {:>15} {:>15} {percent}",
                    s.id,
                    s.kind,
                    status,
                    total,
                    used,
                    total.saturating_sub(used)
                );
            }
            Ok(())
        }
        Some("free") => {
            const FREE: Spec = Spec {
                usage: "pvesm free <volume> [OPTIONS]",
                args: &[("volume", Kind::Str { min_len: 1, max_len: 4096 })],
                opts: &[&[Opt { name: "storage", kind: Kind::Str { min_len: 1, max_len: 64 } }]],
                families: &[],
            };
            let params = FREE.parse(argv.get(1..).unwrap_or_default())?;
            crate::storage_content::free_backup(node, params.arg(0))
        }
        // pve-storage `PVE/CLI/pvesm.pm` `path`: the path, no existence check.
        Some("path") => {
            const PATH: Spec = Spec {
                usage: "pvesm path <volume>",
                args: &[("volume", Kind::Str { min_len: 1, max_len: 4096 })],
                opts: &[],
                families: &[],
            };
            let params = PATH.parse(argv.get(1..).unwrap_or_default())?;
            println!("{}", crate::storage_content::pvesm_path(node, params.arg(0))?);
            Ok(())
        }
        Some(other) => Err(Failure::new(format!("ERROR: unknown command 'pvesm {other}'"))),
        None => Err(Failure::new("USAGE: pvesm <COMMAND> [ARGS] [OPTIONS]")),
    }
}

/// Number of running and stopped containers on a node (for node status views).
pub fn container_counts(node: &Node) -> (usize, usize) {
    let mut running = 0;
    let mut stopped = 0;
    for vmid in node.local_vmids() {
        if let Ok(Some(ct)) = Ct::try_load(node, vmid) {
            if ct.is_running() {
                running += 1;
            } else {
                stopped += 1;
            }
        }
    }
    (running, stopped)
}
