//! `pct start|stop|shutdown|reboot`: the container's power state, with Proxmox's checks.

use crate::context::Node;
use crate::ct::{missing_config, Ct};
use crate::guest;
use crate::lock::{lock_ct, DEFAULT_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

/// Bridges every simulated node has.
pub const BRIDGES: &[&str] = &["vmbr0", "vmbr1"];

const START: Spec = Spec {
    usage: "pct start <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[Opt { name: "skiplock", kind: Kind::Bool }, Opt { name: "debug", kind: Kind::Bool }]],
    families: &[],
};

const STOP: Spec = Spec {
    usage: "pct stop <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[Opt { name: "skiplock", kind: Kind::Bool }, Opt { name: "overrule-shutdown", kind: Kind::Bool }]],
    families: &[],
};

const SHUTDOWN: Spec = Spec {
    usage: "pct shutdown <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[
        Opt { name: "forceStop", kind: Kind::Bool },
        Opt { name: "timeout", kind: Kind::Int { min: 0, max: i64::MAX } },
    ]],
    families: &[],
};

const REBOOT: Spec = Spec {
    usage: "pct reboot <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[Opt { name: "timeout", kind: Kind::Int { min: 0, max: i64::MAX } }]],
    families: &[],
};

pub fn start(node: &Node, argv: &[String]) -> Outcome {
    let params = START.parse(argv)?;
    let vmid = params.vmid(0);
    // A missing config fails inside the task, so with the task's exit code.
    if !node.conf_path(vmid).exists() {
        return Err(Failure::new(missing_config(node, vmid).message));
    }
    let skiplock = params.flag("skiplock");
    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let ct = Ct::load(node, vmid)?;
    if ct.is_running() {
        return Err(Failure::new(format!("CT {vmid} already running")));
    }
    // `vm_start`: after "already running", before the lock check of the task.
    crate::cluster::check_cfs_quorum(node)?;
    if !skiplock {
        ct.check_lock(&["mounted"])?;
    }
    drop(ct);
    start_locked(node, vmid)
}

/// Start `vmid` (used by `pct create --start` and migrations too).
pub fn start_container(node: &Node, vmid: u32) -> Outcome {
    start_locked(node, vmid)
}

fn start_locked(node: &Node, vmid: u32) -> Outcome {
    let mut ct = Ct::load(node, vmid)?;
    if ct.is_template() {
        return Err(Failure::new("you can't start a CT if it's a template"));
    }
    if ct.is_running() {
        return Err(Failure::new(format!("CT {vmid} already running")));
    }
    if !ct.conf.pending.is_empty() {
        ct.apply_pending();
        ct.save()?;
    }
    // Proxmox plugs each veth into its bridge at start (PVE::Network): a missing bridge fails
    // the start, not the create.
    for (_, net) in ct.networks() {
        if let Some(bridge) = net.get("bridge").filter(|b| !BRIDGES.contains(b)) {
            return Err(Failure::new(format!(
                "bridge '{bridge}' does not exist\nstartup for container '{vmid}' failed"
            )));
        }
    }
    ct.start_lxc()?;
    guest::on_start(&ct)
}

pub fn stop(node: &Node, argv: &[String]) -> Outcome {
    let params = STOP.parse(argv)?;
    let vmid = params.vmid(0);
    let ct = Ct::try_load(node, vmid)?;
    let Some(ct) = ct.filter(Ct::is_running) else {
        return Err(Failure::new(format!("CT {vmid} not running")));
    };
    if !params.flag("skiplock") {
        ct.check_lock(&[])?;
    }
    stop_now(&ct)
}

pub fn shutdown(node: &Node, argv: &[String]) -> Outcome {
    let params = SHUTDOWN.parse(argv)?;
    let vmid = params.vmid(0);
    let ct = Ct::try_load(node, vmid)?;
    let Some(ct) = ct.filter(Ct::is_running) else {
        return Err(Failure::new(format!("CT {vmid} not running")));
    };
    ct.check_lock(&[])?;
    // pve-container `src/PVE/API2/LXC/Status.pm` `vm_shutdown`: `$timeout // 60`, then
    // `PVE::LXC::vm_stop($vmid, 0, $timeout, $forceStop)` (`lxc-stop --timeout`, `--nokill`
    // unless forceStop).
    let timeout = params.get("timeout").and_then(|t| t.parse().ok()).unwrap_or(60);
    guest::on_stop(&ct)?;
    ct.stop_lxc(Some((timeout, !params.flag("forceStop"))))
}

pub fn reboot(node: &Node, argv: &[String]) -> Outcome {
    let params = REBOOT.parse(argv)?;
    let vmid = params.vmid(0);
    let ct = Ct::try_load(node, vmid)?;
    let Some(ct) = ct.filter(Ct::is_running) else {
        return Err(Failure::new(format!("VM {vmid} not running")));
    };
    // pve-container `src/PVE/LXC.pm` `vm_reboot`: a clean stop that kills after the timeout
    // (lxc-stop's own default when none is given), then a start.
    let timeout = params.get("timeout").and_then(|t| t.parse().ok()).unwrap_or(60);
    guest::on_stop(&ct)?;
    ct.stop_lxc(Some((timeout, false)))?;
    start_locked(node, vmid)
}

/// Stop a running container immediately, `lxc-stop --kill` (what stop, and
/// destroy/rollback/migrate need).
pub fn stop_now(ct: &Ct) -> Outcome {
    guest::on_stop(ct)?;
    ct.stop_lxc(None)
}
