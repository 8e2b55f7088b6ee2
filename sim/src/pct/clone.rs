//! `pct clone <vmid> <newid> [OPTIONS]`: a copy of a container's current config and disks.

use std::fs;

use crate::formats::property_string::PropertyString;
use crate::formats::text::format_size;

use crate::cluster::{find_storage, ClusterInfo};
use crate::context::{write_atomic, Node};
use crate::ct::{allocate_disk, is_volume_key, random_mac, split_volid, volume_path, Ct};
use crate::lock::{lock_cluster_ids, lock_ct, DEFAULT_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

use super::schema::dns_name;

const CLONE: Spec = Spec {
    usage: "pct clone <vmid> <newid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid), ("newid", Kind::Vmid)],
    opts: &[&[
        Opt { name: "bwlimit", kind: Kind::Number { min: 0.0, max: f64::MAX } },
        Opt { name: "description", kind: Kind::Str { min_len: 0, max_len: 8192 } },
        Opt { name: "full", kind: Kind::Bool },
        Opt { name: "hostname", kind: Kind::Format(dns_name) },
        Opt { name: "pool", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "snapname", kind: Kind::Str { min_len: 1, max_len: 40 } },
        Opt { name: "storage", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "target", kind: Kind::Str { min_len: 1, max_len: 64 } },
    ]],
    families: &[],
};

pub fn clone(node: &Node, argv: &[String]) -> Outcome {
    let params = CLONE.parse(argv)?;
    crate::cluster::check_cfs_quorum(node)?;
    let (vmid, newid) = (params.vmid(0), params.vmid(1));
    let source = Ct::load(node, vmid)?;
    source.check_lock(&[])?;
    let full = params.get("full").map(|f| f == "1").unwrap_or(!source.is_template());
    if !full && params.get("storage").is_some() {
        return Err(Failure::new("parameter 'storage' not allowed for linked clones"));
    }
    if let Some(pool) = params.get("pool") {
        return Err(Failure::new(format!("403 Permission check failed (pool '{pool}' does not exist)")));
    }
    let target = match params.get("target") {
        Some(t) if t != node.name => {
            if ClusterInfo::load(node)?.member(t).is_none() {
                return Err(Failure::new(format!("no such cluster node '{t}'")));
            }
            node.sibling(t)
        }
        _ => node.clone(),
    };
    if let Some(storage) = params.get("storage") {
        if target.name != node.name && !find_storage(node, storage)?.shared {
            return Err(Failure::new(format!("can't clone to non-shared storage '{storage}'")));
        }
    }
    let section = match params.get("snapname") {
        Some(snap) => source
            .conf
            .snapshots
            .get(snap)
            .cloned()
            .ok_or_else(|| Failure::new(format!("snapshot '{snap}' does not exist")))?,
        None => source.conf.current.clone(),
    };

    // Reserve the new id exactly as a create would.
    let _new_lock = lock_ct(&target, newid, DEFAULT_TIMEOUT)?;
    {
        let _ids = lock_cluster_ids(node)?;
        if let Some(owner) = node.locate(newid) {
            return Err(Failure::new(format!("CT {newid} already exists on node '{owner}'")));
        }
        write_atomic(&target.conf_path(newid), "lock: create\n")?;
        crate::status::forget(&target, newid);
        crate::status::record(&target, newid, crate::status::Event::Created);
    }
    let undo = |e: Failure| {
        let _ = fs::remove_file(target.conf_path(newid));
        e
    };

    // pve-container `src/PVE/API2/LXC.pm` `clone_vm` checks every volume before copying any: a
    // full clone of a running source needs `--snapname` whatever the storage (pve-container 5.x's
    // text, PVE 8; 6.x says "Full clone of a running container is only possible from a
    // snapshot"), and another node needs every volume on shared storage.
    let mut shared_vm = true;
    for (key, value) in section.options.iter() {
        let Some(volid) = is_volume_key(key).then(|| PropertyString::parse(value, Some("volume")).ok()).flatten()
        else {
            continue;
        };
        let volid = volid.get("volume").unwrap_or_default().to_owned();
        let storage_id = match params.get("storage") {
            Some(s) => s.to_owned(),
            None => split_volid(&volid).map(|(s, _)| s.to_owned()).unwrap_or_default(),
        };
        if !find_storage(node, &storage_id).map_err(undo)?.shared {
            shared_vm = false;
            if target.name != node.name {
                eprintln!("found non-shared volume: {volid}");
            }
        }
        if full && source.is_running() && params.get("snapname").is_none() {
            return Err(undo(Failure::new("Cannot do full clones on a running container without snapshots")));
        }
    }
    if target.name != node.name && !shared_vm {
        return Err(undo(Failure::new(format!("can't clone CT to node '{}' (CT uses local storage)", target.name))));
    }

    let mut cloned = Ct { vmid: newid, node: target.clone(), conf: Default::default() };
    let mut new_section = section.clone();
    for key in ["parent", "snaptime", "lock", "snapstate"] {
        new_section.remove(key);
    }
    new_section.description = params.get("description").map(str::to_owned).or(section.description.clone());
    if let Some(hostname) = params.get("hostname") {
        new_section.set("hostname", hostname);
    }
    for (key, value) in section.options.iter() {
        if key.starts_with("net") && key[3..].parse::<u32>().is_ok() {
            let mut net = PropertyString::parse(value, None).unwrap_or_default();
            net.set("hwaddr", random_mac());
            new_section.set(key.clone(), net.to_canonical(None, &["name"]));
        }
        if !is_volume_key(key) {
            continue;
        }
        let mut disk = PropertyString::parse(value, Some("volume")).unwrap_or_default();
        let old_volid = disk.get("volume").unwrap_or_default().to_owned();
        let old_storage = split_volid(&old_volid).map(|(s, _)| s.to_owned()).unwrap_or_default();
        let storage_id = params.get("storage").map(str::to_owned).unwrap_or(old_storage);
        let storage = find_storage(node, &storage_id).map_err(undo)?;
        let size = fs::metadata(volume_path(node, &old_volid)?).map(|m| m.len()).unwrap_or(4 << 30);
        println!("create full clone of mountpoint {key} ({old_volid})");
        let (volid, log) = allocate_disk(&target, &storage, newid, size).map_err(undo)?;
        println!("{log}");
        disk.set("volume", volid);
        disk.set("size", format_size(size));
        new_section.set(key.clone(), disk.to_canonical(Some("volume"), &[]));
    }
    cloned.conf.current = new_section;

    // Copy the guest filesystem, so files written inside the source exist in the clone.
    copy_tree(&source.root(), &cloned.root())?;
    cloned.save()
}

pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&src)?;
            let _ = std::os::unix::fs::symlink(link, &dst);
        } else {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}
