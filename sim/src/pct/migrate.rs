//! `pct migrate <vmid> <target> [--restart] [--online]`: move a container to another node of
//! the same cluster — its config (within the shared `/etc/pve`), its local volumes and its
//! guest filesystem. Shared-storage volumes stay where they are.

use std::fs;
use std::time::Instant;

use crate::clock::datetime;
use crate::cluster::{find_storage, ClusterInfo};
use crate::context::Node;
use crate::ct::{split_volid, volume_path, Ct};
use crate::journal::epoch_secs;
use crate::lock::{lock_ct, DEFAULT_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

use super::power::{start_container, stop_now};

const MIGRATE: Spec = Spec {
    usage: "pct migrate <vmid> <target> [OPTIONS]",
    args: &[("vmid", Kind::Vmid), ("target", Kind::Str { min_len: 1, max_len: 64 })],
    opts: &[&[
        Opt { name: "bwlimit", kind: Kind::Number { min: 0.0, max: f64::MAX } },
        Opt { name: "online", kind: Kind::Bool },
        Opt { name: "restart", kind: Kind::Bool },
        Opt { name: "target-storage", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "timeout", kind: Kind::Int { min: 0, max: i64::MAX } },
    ]],
    families: &[],
};

fn log(line: &str) {
    println!("{} {line}", datetime(epoch_secs()));
}

pub fn migrate(node: &Node, argv: &[String]) -> Outcome {
    let params = MIGRATE.parse(argv)?;
    let vmid = params.vmid(0);
    let target_name = params.arg(1).to_owned();
    if target_name == node.name {
        return Err(Failure::new("target is local node."));
    }
    crate::cluster::check_cfs_quorum(node)?;
    let info = ClusterInfo::load(node)?;
    let Some(member) = info.member(&target_name).filter(|_| info.is_clustered()) else {
        return Err(Failure::new(format!("no such cluster node '{target_name}'")));
    };
    if !member.online {
        return Err(Failure::new(format!("target node '{target_name}' is not online")));
    }
    let target = node.sibling(&target_name);
    let started = Instant::now();

    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let mut ct = Ct::load(node, vmid)?;
    ct.check_lock(&[])?;
    let was_running = ct.is_running();
    let restart = params.flag("restart");
    if was_running && !restart {
        if !params.flag("online") {
            return Err(Failure::new("can't migrate running container without --online or --restart"));
        }
        log(&format!("starting migration of CT {vmid} to node '{target_name}' ({})", member.ip));
        log("lxc live migration is currently not implemented");
        log("aborting phase 1 - cleanup resources");
        return Err(Failure::new("migration aborted"));
    }
    if was_running {
        log(&format!("shutdown CT {vmid}"));
        stop_now(&ct)?;
    }
    ct.conf.current.set("lock", "migrate");
    ct.save()?;
    log(&format!("starting migration of CT {vmid} to node '{target_name}' ({})", member.ip));

    for (_, disk) in ct.disks() {
        let Some(volid) = disk.get("volume").map(str::to_owned) else { continue };
        let Some((storage_id, _)) = split_volid(&volid) else { continue };
        let storage = find_storage(node, storage_id)?;
        if storage.shared {
            log(&format!("volume '{volid}' is on shared storage '{storage_id}'"));
            continue;
        }
        log(&format!("found local volume '{volid}' (in current VM config)"));
        let (from, to) = (volume_path(node, &volid)?, volume_path(&target, &volid)?);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::rename(&from, &to)?;
        if let Some(dir) = from.parent() {
            let _ = fs::remove_dir(dir);
        }
        log(&format!("volume '{volid}' is '{volid}' on the target"));
    }

    // The config moves within the cluster filesystem; the guest filesystem moves between nodes.
    ct.conf.current.remove("lock");
    let moved = Ct { vmid, node: target.clone(), conf: ct.conf.clone() };
    moved.save()?;
    fs::remove_file(node.conf_path(vmid))?;
    let (from_dir, to_dir) = (node.ct_root(vmid), target.ct_root(vmid));
    if let (Some(from), Some(to)) = (from_dir.parent(), to_dir.parent()) {
        if from.exists() {
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(from, to)?;
        }
    }
    log("start final cleanup");
    if was_running {
        log("start container on target node");
        start_container(&target, vmid)?;
    }
    let secs = started.elapsed().as_secs();
    log(&format!(
        "migration finished successfully (duration {:02}:{:02}:{:02})",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    ));
    Ok(())
}
