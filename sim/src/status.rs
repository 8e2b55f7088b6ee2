//! Live figures of containers and nodes, shared by `pct status --verbose`, `pvesh get
//! /nodes/{node}/lxc…` and `/cluster/resources`. The numbers are simulated but consistent: a
//! stopped container uses nothing, a running one a stable share of what it was given.

use std::io::Write;

use serde_json::{json, Map, Value};

use super::context::Node;
use super::ct::Ct;
use super::journal;

/// `pvestatd` refreshes guest status every 10 s (pve-manager `PVE/Service/pvestatd.pm`,
/// `$updatetime = 10`).
pub const PVESTATD_INTERVAL: f64 = 10.0;
/// The interval the simulator was started with (`serve --pvestatd-interval`).
pub const ENV_PVESTATD_INTERVAL: &str = "LWS_SIM_PVESTATD_INTERVAL";

/// What happened to a guest, for the simulated `pvestatd`'s view of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Created,
    Started,
    Stopped,
}

fn history_path(node: &Node, vmid: u32) -> std::path::PathBuf {
    node.cluster_dir().join("pvestatd").join(format!("{vmid}.log"))
}

/// Note an event of `vmid` (cluster-wide: the RRD data pvestatd writes is shared by pmxcfs).
pub fn record(node: &Node, vmid: u32, event: Event) {
    let path = history_path(node, vmid);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let word = match event {
        Event::Created => "created",
        Event::Started => "running",
        Event::Stopped => "stopped",
    };
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(format!("{} {word}\n", journal::now()).as_bytes());
    }
}

/// Forget a destroyed guest's history (a new guest may take its VMID).
pub fn forget(node: &Node, vmid: u32) {
    let _ = std::fs::remove_file(history_path(node, vmid));
}

/// The status `/cluster/resources` shows: what the guest was at pvestatd's last update (updates
/// fall on multiples of the interval), `None` when that update came before the guest existed —
/// pve-manager `PVE/API2Tools.pm` `extract_vm_stats` then says `status: unknown` and nothing else.
/// A guest with no recorded history (made before the simulator recorded any) shows as it is.
pub fn pvestatd_status(ct: &Ct) -> Option<&'static str> {
    let now_running = if ct.is_running() { "running" } else { "stopped" };
    let interval: f64 =
        std::env::var(ENV_PVESTATD_INTERVAL).ok().and_then(|v| v.parse().ok()).unwrap_or(PVESTATD_INTERVAL);
    if interval <= 0.0 {
        return Some(now_running);
    }
    let Ok(mut text) = std::fs::read_to_string(history_path(&ct.node, ct.vmid)) else { return Some(now_running) };
    // A container that stopped without the simulator stopping it (LXC's own `lxc-stop`, a crash
    // of its init): pvestatd notices at its next update, so note the stop when first seen.
    let last = text.lines().last().and_then(|l| l.split_once(' ')).map(|(_, word)| word == "running");
    if last == Some(true) && now_running == "stopped" {
        record(&ct.node, ct.vmid, Event::Stopped);
        text = std::fs::read_to_string(history_path(&ct.node, ct.vmid)).unwrap_or(text);
    }
    let last_update = (journal::now() / interval).floor() * interval;
    let mut seen = None;
    for line in text.lines() {
        let Some((time, word)) = line.split_once(' ') else { continue };
        let Ok(time) = time.parse::<f64>() else { continue };
        if time > last_update {
            break;
        }
        seen = Some(if word == "running" { "running" } else { "stopped" });
    }
    seen
}

/// CPUs every simulated node has.
pub const NODE_CPUS: u64 = 8;
/// Memory every simulated node has.
pub const NODE_MEMORY: u64 = 64 << 30;

/// The status fields Proxmox reports for one container (`vmstatus`).
pub fn container_status(ct: &Ct) -> Map<String, Value> {
    let running = ct.is_running();
    let maxmem = ct.memory_mib() << 20;
    let maxswap = ct.swap_mib() << 20;
    let maxdisk = ct.rootfs_size();
    let uptime = if running { ct.uptime() } else { 0 };
    let cpus: f64 = ct
        .get("cpulimit")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .or_else(|| ct.get("cores").and_then(|v| v.parse().ok()))
        .unwrap_or(NODE_CPUS as f64);

    let mut status = Map::new();
    status.insert("cpus".into(), number(cpus));
    status.insert("cpu".into(), json!(if running { 0.0123 } else { 0.0 }));
    status.insert("disk".into(), json!(if running { maxdisk / 5 } else { 0 }));
    status.insert("diskread".into(), json!(if running { 52_428_800 + uptime * 4096 } else { 0 }));
    status.insert("diskwrite".into(), json!(if running { 10_485_760 + uptime * 2048 } else { 0 }));
    if let Some(lock) = ct.get("lock") {
        status.insert("lock".into(), json!(lock));
    }
    status.insert("maxdisk".into(), json!(maxdisk));
    status.insert("maxmem".into(), json!(maxmem));
    status.insert("maxswap".into(), json!(maxswap));
    status.insert("mem".into(), json!(if running { maxmem / 8 } else { 0 }));
    status.insert("name".into(), json!(ct.hostname()));
    status.insert("netin".into(), json!(if running { 1_048_576 + uptime * 512 } else { 0 }));
    status.insert("netout".into(), json!(if running { 524_288 + uptime * 256 } else { 0 }));
    if let Some(runtime) = ct.runtime() {
        status.insert("pid".into(), json!(runtime.pid));
    }
    status.insert("status".into(), json!(if running { "running" } else { "stopped" }));
    status.insert("swap".into(), json!(0));
    if let Some(tags) = ct.get("tags") {
        status.insert("tags".into(), json!(tags));
    }
    if ct.is_template() {
        status.insert("template".into(), json!(1));
    }
    status.insert("type".into(), json!("lxc"));
    status.insert("uptime".into(), json!(uptime));
    status.insert("vmid".into(), json!(ct.vmid));
    status
}

/// Whole numbers print as integers, as Perl's JSON encoder does for numeric scalars.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}
