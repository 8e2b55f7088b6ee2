//! Live figures of containers and nodes, shared by `pct status --verbose`, `pvesh get
//! /nodes/{node}/lxc…` and `/cluster/resources`. The numbers are simulated but consistent: a
//! stopped container uses nothing, a running one a stable share of what it was given.

use serde_json::{json, Map, Value};

use super::ct::Ct;

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
