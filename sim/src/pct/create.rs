//! `pct create <vmid> <ostemplate> [OPTIONS]` (task `vzcreate`).
//!
//! Order as in pve-container: parameter and storage checks, then — under the container's file
//! lock — the "VMID unused" check and a placeholder config with `lock: create`, disk allocation,
//! template extraction (a missing template fails here, after allocation, and cleans up), the final
//! config, and an optional start.

use std::fs;

use crate::formats::pct_conf::ConfigFile;
use crate::formats::property_string::PropertyString;
use crate::formats::text::{format_size, normalize_tags};

use crate::cluster::find_storage;
use crate::context::{write_atomic, Node};
use crate::ct::{allocate_disk, free_disk, random_mac, split_volid, volume_path, Ct};
use crate::guest;
use crate::lock::{lock_cluster_ids, lock_ct, CREATE_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Params, Spec};
use crate::rng;

use super::schema::{CONTAINER_FAMILIES, CONTAINER_OPTS, OSTYPES};

pub(super) const CREATE_ONLY: &[Opt] = &[
    Opt { name: "force", kind: Kind::Bool },
    Opt { name: "ignore-unpack-errors", kind: Kind::Bool },
    Opt { name: "password", kind: Kind::Str { min_len: 5, max_len: 4096 } },
    Opt { name: "pool", kind: Kind::Str { min_len: 1, max_len: 64 } },
    Opt { name: "restore", kind: Kind::Bool },
    Opt { name: "ssh-public-keys", kind: Kind::Str { min_len: 0, max_len: 4096 } },
    Opt { name: "start", kind: Kind::Bool },
    Opt { name: "storage", kind: Kind::Str { min_len: 1, max_len: 64 } },
    Opt { name: "unique", kind: Kind::Bool },
];

pub const USAGE: &str = "pct create <vmid> <ostemplate> [OPTIONS]";

const CREATE: Spec = Spec {
    usage: USAGE,
    args: &[("vmid", Kind::Vmid), ("ostemplate", Kind::Str { min_len: 1, max_len: 255 })],
    opts: &[CONTAINER_OPTS, CREATE_ONLY],
    families: CONTAINER_FAMILIES,
};

/// Options copied into the config as given (after validation).
pub(super) const STORED_AS_GIVEN: &[&str] = &[
    "arch",
    "cmode",
    "console",
    "cores",
    "cpulimit",
    "cpuunits",
    "features",
    "hookscript",
    "onboot",
    "ostype",
    "protection",
    "searchdomain",
    "startup",
    "template",
    "timezone",
    "tty",
    "unprivileged",
];

pub fn create(node: &Node, argv: &[String]) -> Outcome {
    let params = CREATE.parse(argv)?;
    let vmid = params.vmid(0);
    let template = params.arg(1).to_owned();

    // Where the root disk goes: `--rootfs STORAGE:GiB`, a bare number on `--storage`, or 4 GiB.
    let default_storage = params.get("storage").unwrap_or("local").to_owned();
    let rootfs_spec = params.get("rootfs").map(str::to_owned).unwrap_or_else(|| format!("{default_storage}:4"));
    let mut rootfs = PropertyString::parse(&rootfs_spec, Some("volume")).unwrap_or_default();
    let volume = rootfs.get("volume").unwrap_or_default().to_owned();
    let (disk_storage_id, size_gib) = match volume.split_once(':') {
        Some((sid, size)) => (sid.to_owned(), size.to_owned()),
        None => (default_storage.clone(), volume.clone()),
    };
    let size_gib: f64 = size_gib.parse().map_err(|_| {
        Failure::new(format!("unable to parse volume size '{volume}' (only new volumes can be created)"))
    })?;
    let disk_storage = find_storage(node, &disk_storage_id)?;
    if disk_storage.disabled {
        return Err(Failure::new(format!("storage '{disk_storage_id}' is disabled")));
    }
    if !disk_storage.supports("rootdir") {
        return Err(Failure::params(
            &[("storage".into(), format!("storage '{disk_storage_id}' does not support container directories"))],
            USAGE,
        ));
    }
    if let Some(pool) = params.get("pool") {
        return Err(Failure::new(format!("403 Permission check failed (pool '{pool}' does not exist)")));
    }
    let (template_storage, template_name) =
        split_volid(&template).ok_or_else(|| Failure::new(format!("unable to parse volume ID '{template}'")))?;
    let template_store = find_storage(node, template_storage)?;
    if !template_name.starts_with("vztmpl/") || !template_store.supports("vztmpl") {
        return Err(Failure::new(format!("unable to use volume {template} - content type needs to be 'vztmpl'")));
    }
    crate::cluster::check_cfs_quorum(node)?;
    let ssh_keys = match params.get("ssh-public-keys") {
        Some(path) => Some(read_ssh_keys(node, path)?),
        None => None,
    };

    // pve-container `create_vm`: `check_vmid_unused` ("CT N already exists on node 'x'"), then
    // `create_and_lock_config` under the node-local config lock, whose write pmxcfs refuses with
    // EEXIST when another node wrote that VMID meanwhile (pmxcfs `memdb.c` `memdb_rename`).
    if let Some(owner) = node.locate(vmid) {
        return Err(Failure::new(format!("CT {vmid} already exists on node '{owner}'")));
    }
    if crate::faults::take(&node.state, "vmid-race", &vmid.to_string())? {
        race_from_another_node(node, vmid)?;
    }
    let _lock = lock_ct(node, vmid, CREATE_TIMEOUT)?;
    {
        let _ids = lock_cluster_ids(node)?;
        match node.locate(vmid) {
            Some(owner) if owner == node.name => {
                return Err(Failure::new(format!("CT {vmid} already exists on node '{owner}'")));
            }
            Some(_) => {
                return Err(Failure::new(format!(
                    "unable to create CT {vmid} - close (rename) atomic file '/etc/pve/nodes/{}/lxc/{vmid}.conf' failed: File exists",
                    node.name
                )));
            }
            None => {}
        }
        write_atomic(&node.conf_path(vmid), "lock: create\n")?;
        crate::status::forget(node, vmid);
        crate::status::record(node, vmid, crate::status::Event::Created);
    }

    let size = (size_gib * f64::from(1u32 << 30)).round() as u64;
    let (volid, alloc_log) = match allocate_disk(node, &disk_storage, vmid, size) {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(node.conf_path(vmid));
            return Err(e);
        }
    };
    println!("{alloc_log}");
    print_mkfs(size);

    let template_path = volume_path(node, &template)?;
    if !template_path.exists() {
        let _ = free_disk(node, &volid);
        let _ = fs::remove_file(node.conf_path(vmid));
        // `restore_archive` → pve-storage `abs_filesystem_path` → `activate_volumes` →
        // `Plugin::activate_volume`: "volume '<volid>' does not exist" (before its own
        // "can't find file").
        return Err(Failure::new(format!("unable to create CT {vmid} - volume '{template}' does not exist")));
    }
    let file_name = template_name.trim_start_matches("vztmpl/");
    let shown_template = format!(
        "{}/template/cache/{file_name}",
        template_store.path.clone().unwrap_or_else(|| "/var/lib/vz".to_owned())
    );
    println!("extracting archive '{shown_template}'");
    println!("Total bytes read: 521134080 (497MiB, 224MiB/s)");

    rootfs.set("volume", volid);
    rootfs.set("size", format_size(size));
    let conf = build_config(vmid, &params, file_name, rootfs.to_canonical(Some("volume"), &[]));
    let ct = Ct { vmid, node: node.clone(), conf };
    let arch = ct.get("arch").unwrap_or("amd64").to_owned();
    println!("Detected container architecture: {arch}");
    for key in ["rsa", "ecdsa", "ed25519"] {
        println!("Creating SSH host key 'ssh_host_{key}_key' - this may take some time ...");
        println!("done: SHA256:{} root@{}", rng::hex(43), ct.hostname());
    }

    guest::init_root(&ct, file_name)?;
    if let Some(keys) = ssh_keys {
        guest::install_authorized_keys(&ct, &keys)?;
    }
    if let Some(password) = params.get("password") {
        guest::set_password(&ct.root(), "root", password)?;
    }
    ct.save()?;
    if params.flag("start") {
        // pve-container `src/PVE/API2/LXC.pm` `create_vm`: the start is `vm_start` called after
        // the create's locked part, as a task of its own; the created container stays whatever the
        // start does. Proxmox's exit status for a failed start there is not verified (pve-cli.md
        // §8 [INF]): the simulator takes the unkind reading — the error is printed, the create
        // exits 0 — so callers must check the state afterwards.
        if let Err(failure) = super::power::start_container(node, vmid) {
            eprintln!("{}", failure.message.trim_end());
        }
    }
    Ok(())
}

fn build_config(vmid: u32, params: &Params, template_file: &str, rootfs: String) -> ConfigFile {
    let mut conf = ConfigFile::default();
    let section = &mut conf.current;
    for key in STORED_AS_GIVEN {
        if let Some(value) = params.get(key) {
            section.set(*key, value);
        }
    }
    section.set("hostname", params.get("hostname").map(str::to_owned).unwrap_or_else(|| format!("CT{vmid}")));
    section.set("memory", params.get("memory").unwrap_or("512"));
    section.set("swap", params.get("swap").unwrap_or("512"));
    if section.get("arch").is_none() {
        section.set("arch", detect_arch(template_file));
    }
    if section.get("ostype").is_none() {
        section.set("ostype", detect_ostype(template_file));
    }
    if let Some(ns) = params.get("nameserver") {
        section.set("nameserver", ns.split([',', ';', ' ']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "));
    }
    if let Some(tags) = params.get("tags") {
        let tags = normalize_tags(tags);
        if !tags.is_empty() {
            section.set("tags", tags.join(";"));
        }
    }
    if let Some(description) = params.get("description").filter(|d| !d.is_empty()) {
        section.description = Some(description.to_owned());
    }
    for (key, value) in &params.opts {
        if key.starts_with("net") && key[3..].parse::<u32>().is_ok() {
            section.set(key.clone(), canonical_network(value, None));
        } else if key.starts_with("mp") && key[2..].parse::<u32>().is_ok() {
            section.set(key.clone(), value.clone());
        }
    }
    section.set("rootfs", rootfs);
    conf
}

/// A network device as Proxmox stores it: a MAC (kept, or fresh), `type=veth`, canonical order.
pub fn canonical_network(value: &str, old_mac: Option<&str>) -> String {
    let mut net = PropertyString::parse(value, None).unwrap_or_default();
    if net.get("hwaddr").is_none() {
        net.set("hwaddr", old_mac.map(str::to_owned).unwrap_or_else(random_mac));
    }
    if net.get("type").is_none() {
        net.set("type", "veth");
    }
    net.to_canonical(None, &["name"])
}

fn detect_ostype(template_file: &str) -> String {
    let distro = template_file.split(['-', '_']).next().unwrap_or_default().to_lowercase();
    let distro = if distro == "rockylinux" { "centos".to_owned() } else { distro };
    if OSTYPES.contains(&distro.as_str()) {
        distro
    } else {
        "unmanaged".to_owned()
    }
}

fn detect_arch(template_file: &str) -> &'static str {
    if template_file.contains("_arm64") {
        "arm64"
    } else if template_file.contains("_i386") {
        "i386"
    } else {
        "amd64"
    }
}

/// `--ssh-public-keys` names a file on the host; its keys must look like OpenSSH public keys.
fn read_ssh_keys(node: &Node, path: &str) -> Result<String, Failure> {
    let text = fs::read_to_string(node.host_path(path))
        .map_err(|_| Failure::new(format!("can't open '{path}' - No such file or directory")))?;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let kind_ok =
            words.next().is_some_and(|k| k.starts_with("ssh-") || k.starts_with("ecdsa-") || k.starts_with("sk-"));
        let blob_ok = words.next().is_some_and(|b| b.len() > 16 && b.starts_with("AAAA"));
        if !kind_ok || !blob_ok {
            return Err(Failure::new("SSH public key validation error"));
        }
    }
    Ok(text)
}

pub(super) fn print_mkfs(size: u64) {
    let blocks = size / 4096;
    println!("Creating filesystem with {blocks} 4k blocks and {} inodes", blocks / 4);
    println!("Filesystem UUID: {}-{}-{}-{}-{}", rng::hex(8), rng::hex(4), rng::hex(4), rng::hex(4), rng::hex(12));
    println!(
        "Superblock backups stored on blocks: \n\t32768, 98304, 163840, 229376, 294912, 819200, 884736, 1605632\n"
    );
    println!("Allocating group tables: done                            ");
    println!("Writing inode tables: done                            ");
    println!("Creating journal (16384 blocks): done");
    println!("Multiple mount protection is enabled with update interval 5 seconds.");
    println!("Writing superblocks and filesystem accounting information: done\n");
}

/// The `vmid-race` fault: another client's container `vmid` appears on another node of the
/// cluster (on this node when it is alone), stopped, with a config of its own.
fn race_from_another_node(node: &Node, vmid: u32) -> Result<(), Failure> {
    let other = node.cluster_nodes().into_iter().find(|n| *n != node.name).unwrap_or_else(|| node.name.clone());
    let other = node.sibling(&other);
    let _ids = lock_cluster_ids(node)?;
    write_atomic(
        &other.conf_path(vmid),
        &format!("arch: amd64\nhostname: racer\nmemory: 512\nostype: debian\nrootfs: local-lvm:vm-{vmid}-disk-0,size=8G\nswap: 512\n"),
    )?;
    crate::status::forget(&other, vmid);
    crate::status::record(&other, vmid, crate::status::Event::Created);
    Ok(())
}
