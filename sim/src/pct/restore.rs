//! `pct restore <vmid> <archive> [OPTIONS]`: pve-container `src/PVE/CLI/pct.pm` maps it to
//! `create_vm` with `restore => 1` (`src/PVE/API2/LXC.pm`); the worker is
//! `PVE::LXC::Create::restore_archive` and `restore_configuration_from_etc_vzdump`
//! (`sanitize_and_merge_config`).
//!
//! In order: the VMID unused (or `--force` over a stopped container), the archive a `backup`
//! volume, a storage taking container directories; then, with `lock: create`, the config read
//! from the archive (`recovering backed-up configuration from …`), the root disk allocated with
//! the archive's size on `--storage` (or as `--rootfs` says), the archive extracted into it, and
//! the configs merged: what the command line gives wins, the archive gives the rest (not
//! `digest`, `rootfs`, `snapshots`, `parent`, `mpN`, `unusedN`, `template`; `unprivileged` from
//! the archive unless given); `--unique` gives every network device a new MAC. A failure inside
//! the worker removes the new disk and config and is `unable to restore CT <vmid> - <why>`.

use std::fs;
use std::process::Command;

use crate::cluster::find_storage;
use crate::context::{write_atomic, Node};
use crate::ct::{allocate_disk, free_disk, random_mac, split_volid, Ct};
use crate::formats::pct_conf::ConfigFile;
use crate::formats::property_string::PropertyString;
use crate::formats::text::{format_size, parse_size};
use crate::lock::{lock_ct, CREATE_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Params, Spec};

use super::create::{canonical_network, print_mkfs, CREATE_ONLY, STORED_AS_GIVEN};
use super::schema::{CONTAINER_FAMILIES, CONTAINER_OPTS};

const USAGE: &str = "pct restore <vmid> <ostemplate> [OPTIONS]";

const RESTORE: Spec = Spec {
    usage: USAGE,
    args: &[("vmid", Kind::Vmid), ("ostemplate", Kind::Str { min_len: 1, max_len: 255 })],
    opts: &[CONTAINER_OPTS, CREATE_ONLY],
    families: CONTAINER_FAMILIES,
};

/// Archive keys `sanitize_and_merge_config` never copies.
fn not_from_archive(key: &str) -> bool {
    matches!(key, "digest" | "rootfs" | "snapshots" | "unprivileged" | "parent" | "template" | "lock")
        || key.strip_prefix("mp").is_some_and(|n| n.parse::<u32>().is_ok())
        || key.strip_prefix("unused").is_some_and(|n| n.parse::<u32>().is_ok())
}

pub fn restore(node: &Node, argv: &[String]) -> Outcome {
    let params = RESTORE.parse(argv)?;
    let vmid = params.vmid(0);
    let archive = params.arg(1).to_owned();
    crate::cluster::check_cfs_quorum(node)?;
    let existing = Ct::try_load(node, vmid)?;
    match (&existing, params.flag("force")) {
        (Some(ct), true) if ct.is_running() => {
            return Err(Failure::with_code(255, "can't overwrite running container"))
        }
        (Some(ct), true) if ct.get("protection") == Some("1") => {
            return Err(Failure::with_code(255, format!("unable to restore CT {vmid} - protection mode enabled")))
        }
        (Some(_), true) => {}
        _ => {
            if let Some(owner) = node.locate(vmid) {
                return Err(Failure::with_code(255, format!("CT {vmid} already exists on node '{owner}'")));
            }
        }
    }
    // `check_volume_access($rpcenv, $authuser, $storage_cfg, $vmid, $archive, 'backup')`.
    let (archive_storage, volname) = split_volid(&archive)
        .ok_or_else(|| Failure::with_code(255, format!("unable to parse volume ID '{archive}'")))?;
    let archive_store = find_storage(node, archive_storage).map_err(|e| Failure::with_code(255, e.message))?;
    let Some(file) = volname.strip_prefix("backup/").filter(|f| !f.contains('/')) else {
        return Err(Failure::with_code(
            255,
            format!("unable to use volume {archive} - content type needs to be 'backup'"),
        ));
    };
    let storage_id = params.get("storage").unwrap_or("local").to_owned();
    // `create_vm`'s `$check_and_activate_storage`: the storage of `--rootfs` when given, else
    // `--storage`, must be enabled and take container directories — before any task.
    let rootfs_storage = params
        .get("rootfs")
        .and_then(|spec| PropertyString::parse(spec, Some("volume")).ok())
        .and_then(|ps| ps.get("volume").and_then(|v| v.split_once(':')).map(|(sid, _)| sid.to_owned()))
        .unwrap_or_else(|| storage_id.clone());
    let storage = find_storage(node, &rootfs_storage).map_err(|e| Failure::with_code(255, e.message))?;
    if storage.disabled {
        return Err(Failure::with_code(255, format!("storage '{rootfs_storage}' is disabled")));
    }
    if !storage.supports("rootdir") {
        return Err(Failure::params(
            &[("storage".into(), format!("storage '{rootfs_storage}' does not support container directories"))],
            USAGE,
        ));
    }

    let _lock = lock_ct(node, vmid, CREATE_TIMEOUT)?;
    let previous = existing.as_ref().map(|ct| ct.conf.clone());
    let mut placeholder = previous.clone().unwrap_or_default();
    placeholder.current.set("lock", "create");
    write_atomic(&node.conf_path(vmid), &placeholder.write())?;
    if existing.is_none() {
        crate::status::forget(node, vmid);
        crate::status::record(node, vmid, crate::status::Event::Created);
    }
    let unlock_or_remove = |node: &Node| match &previous {
        Some(conf) => write_atomic(&node.conf_path(vmid), &conf.write()),
        None => fs::remove_file(node.conf_path(vmid)),
    };

    println!("recovering backed-up configuration from '{archive}'");
    let path = archive_store.base_dir(node).join("dump").join(file);
    if !path.is_file() {
        let _ = unlock_or_remove(node);
        // `recover_config` → pve-storage `abs_filesystem_path` → `Plugin::activate_volume`.
        return Err(Failure::with_code(
            255,
            format!("unable to restore CT {vmid} - volume '{archive}' does not exist"),
        ));
    }
    let backed_up = match read_archive_config(&path) {
        Ok(conf) => conf,
        Err(e) => {
            let _ = unlock_or_remove(node);
            return Err(Failure::with_code(255, format!("unable to restore CT {vmid} - {}", e.message.trim_end())));
        }
    };

    // Storage-only mode: the archive's rootfs size on `--storage`; else `--rootfs` as given.
    let rootfs_spec = match params.get("rootfs") {
        Some(spec) => spec.to_owned(),
        None => {
            let old = backed_up.current.get("rootfs").unwrap_or_default();
            let size =
                PropertyString::parse(old, Some("volume")).ok().and_then(|ps| ps.get("size").and_then(parse_size));
            let Some(bytes) = size else {
                let _ = unlock_or_remove(node);
                return Err(Failure::with_code(
                    255,
                    format!("unable to restore CT {vmid} - unable to detect disk size - please specify rootfs (size)"),
                ));
            };
            format!("{storage_id}:{}", (bytes as f64 / f64::from(1u32 << 30)).ceil().max(1.0))
        }
    };
    let mut rootfs = PropertyString::parse(&rootfs_spec, Some("volume")).unwrap_or_default();
    let volume = rootfs.get("volume").unwrap_or_default().to_owned();
    let (disk_storage_id, size_gib) = volume.split_once(':').unwrap_or((storage_id.as_str(), volume.as_str()));
    let size_gib: f64 = size_gib.parse().map_err(|_| {
        Failure::with_code(255, format!("unable to parse volume size '{volume}' (only new volumes can be created)"))
    })?;
    let disk_storage = find_storage(node, disk_storage_id).map_err(|e| Failure::with_code(255, e.message))?;

    let size = (size_gib * f64::from(1u32 << 30)).round() as u64;
    let (volid, alloc_log) = allocate_disk(node, &disk_storage, vmid, size)?;
    println!("{alloc_log}");
    print_mkfs(size);

    let old_root_volumes: Vec<String> = existing
        .as_ref()
        .map(|ct| ct.disks().into_iter().filter_map(|(_, ps)| ps.get("volume").map(str::to_owned)).collect())
        .unwrap_or_default();
    let root = node.ct_root(vmid);
    if existing.is_some() {
        let _ = fs::remove_dir_all(&root);
    }
    fs::create_dir_all(&root)?;
    println!("restoring '{archive}' now..");
    let shown = format!("{}/dump/{file}", archive_store.path.as_deref().unwrap_or("/var/lib/vz").trim_end_matches('/'));
    println!("extracting archive '{shown}'");
    if let Err(e) = extract(&path, &root) {
        let _ = free_disk(node, &volid);
        let _ = fs::remove_dir_all(&root);
        let _ = unlock_or_remove(node);
        return Err(Failure::with_code(255, format!("unable to restore CT {vmid} - {}", e.message.trim_end())));
    }
    let fw = fs::read_to_string(root.join("etc/vzdump/pct.fw")).unwrap_or_default();
    if !fw.trim().is_empty() {
        write_atomic(&node.firewall_dir().join(format!("{vmid}.fw")), &fw)?;
    }
    let _ = fs::remove_dir_all(root.join("etc/vzdump"));
    println!("merging backed-up and given configuration..");

    rootfs.set("volume", volid);
    rootfs.set("size", format_size(size));
    let conf = merge(vmid, &params, &backed_up, rootfs.to_canonical(Some("volume"), &[]));
    let ct = Ct { vmid, node: node.clone(), conf };
    ct.save()?;
    // `--force`: the old container's volumes go once the new ones exist.
    for old in old_root_volumes {
        let _ = free_disk(node, &old);
    }
    if params.flag("start") {
        if let Err(failure) = super::power::start_container(node, vmid) {
            eprintln!("{}", failure.message.trim_end());
        }
    }
    Ok(())
}

/// `recover_config_from_tar`: `./etc/vzdump/pct.conf` from the archive (GNU tar recognises the
/// compression itself when reading a file).
fn read_archive_config(path: &std::path::Path) -> Result<ConfigFile, Failure> {
    let out = Command::new("tar").arg("-xOf").arg(path).arg("./etc/vzdump/pct.conf").output()?;
    if !out.status.success() {
        return Err(Failure::new("ERROR: archive contains no configuration file"));
    }
    Ok(ConfigFile::parse(&String::from_utf8_lossy(&out.stdout)))
}

/// `restore_tar_archive`: `tar xpf - --totals … -C <root> --skip-old-files --anchored --exclude
/// ./dev/*`; tar's `Total bytes read` line is shown.
fn extract(path: &std::path::Path, root: &std::path::Path) -> Outcome {
    let out = Command::new("tar")
        .arg("xpf")
        .arg(path)
        .arg("--totals")
        .arg("--numeric-owner")
        .arg("-C")
        .arg(root)
        .arg("--skip-old-files")
        .arg("--anchored")
        .arg("--exclude")
        .arg("./dev/*")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(Failure::new(format!("command 'tar xpf' failed: {}", stderr.trim())));
    }
    for line in stderr.lines().filter(|l| l.starts_with("Total bytes read")) {
        println!("{line}");
    }
    Ok(())
}

/// `sanitize_and_merge_config`, then the defaults `create_vm` applies.
fn merge(vmid: u32, params: &Params, archive: &ConfigFile, rootfs: String) -> ConfigFile {
    let mut conf = ConfigFile::default();
    let section = &mut conf.current;
    for (key, value) in &archive.current.options {
        if !not_from_archive(key) && params.get(key).is_none() {
            section.set(key.clone(), value.clone());
        }
    }
    section.description = archive.current.description.clone();
    section.lxc = archive.current.lxc.clone();
    for key in STORED_AS_GIVEN.iter().chain(["hostname", "memory", "swap", "nameserver", "tags"].iter()) {
        if let Some(value) = params.get(key) {
            section.set(*key, value);
        }
    }
    // `create_vm`: `$conf->{unprivileged} = 1 if $unprivileged` — never written as 0.
    let unprivileged = match params.get("unprivileged") {
        Some(given) => crate::formats::fw_conf::perl_true(given),
        None => archive.current.get("unprivileged").is_some_and(crate::formats::fw_conf::perl_true),
    };
    section.options.remove("unprivileged");
    if unprivileged {
        section.set("unprivileged", "1");
    }
    if let Some(description) = params.get("description") {
        section.description = Some(description.to_owned()).filter(|d| !d.is_empty());
    }
    for (key, value) in &params.opts {
        if key.starts_with("net") && key[3..].parse::<u32>().is_ok() {
            section.set(key.clone(), canonical_network(value, None));
        }
    }
    if params.flag("unique") {
        let nets: Vec<(String, String)> = section
            .options
            .iter()
            .filter(|(k, _)| k.starts_with("net") && k[3..].parse::<u32>().is_ok())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, value) in nets {
            let mut net = PropertyString::parse(&value, None).unwrap_or_default();
            net.set("hwaddr", random_mac());
            section.set(key, net.to_canonical(None, &["name"]));
        }
    }
    if section.get("hostname").is_none() {
        section.set("hostname", format!("CT{vmid}"));
    }
    if section.get("memory").is_none() {
        section.set("memory", "512");
    }
    if section.get("swap").is_none() {
        section.set("swap", "512");
    }
    section.set("rootfs", rootfs);
    conf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_config_never_gives_volumes_or_identity_keys() {
        for key in ["rootfs", "mp0", "unused3", "digest", "template", "parent", "lock"] {
            assert!(not_from_archive(key), "{key}");
        }
        for key in ["hostname", "memory", "net0", "description", "mpx"] {
            assert!(!not_from_archive(key), "{key}");
        }
    }
}
