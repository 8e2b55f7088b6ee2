//! Container locks as Proxmox takes them: a node-local `flock` on
//! `/run/lock/lxc/pve-config-<vmid>.lock` with a timeout (10 s, 5 s when creating), and the real
//! messages while waiting and on timeout. Because the file is a real file under the mapped
//! `/run/lock/lxc`, `flock(1)` run over SSH contends with the simulator exactly as on a host.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::time::{Duration, Instant};

use super::context::Node;
use super::output::Failure;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const CREATE_TIMEOUT: Duration = Duration::from_secs(5);

/// Held while alive; the kernel releases the `flock` when the file closes.
pub struct Held {
    _file: File,
}

/// Take container `vmid`'s config lock on `node`.
pub fn lock_ct(node: &Node, vmid: u32, timeout: Duration) -> Result<Held, Failure> {
    let shown = format!("/run/lock/lxc/pve-config-{vmid}.lock");
    lock_path(&node.lock_dir().join(format!("pve-config-{vmid}.lock")), &shown, timeout)
}

/// The simulator's own lock on `<state>/faults.json`.
pub fn lock_faults(state: &std::path::Path) -> Result<Held, Failure> {
    lock_path(&state.join("faults.lock"), "faults.lock", Duration::from_secs(10))
}

/// A short cluster-wide lock standing in for pmxcfs's atomic "this VMID is new" check.
pub fn lock_cluster_ids(node: &Node) -> Result<Held, Failure> {
    let path = node.cluster_dir().join("vmid-allocation.lock");
    lock_path(&path, "/etc/pve/priv/lock/vmid-allocation", Duration::from_secs(30))
}

/// pmxcfs's cluster lock on a shared file (`cfs_lock_file`, e.g. `jobs.cfg`).
pub fn lock_cfs_file(node: &Node, file: &str) -> Result<Held, Failure> {
    let name = file.replace('.', "_");
    let path = node.cluster_dir().join(format!("file-{name}.lock"));
    lock_path(&path, "", DEFAULT_TIMEOUT)
        .map_err(|_| Failure::new(format!("cfs-lock 'file-{name}' error: got lock request timeout")))
}

fn lock_path(path: &std::path::Path, shown: &str, timeout: Duration) -> Result<Held, Failure> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    if file.try_lock().is_ok() {
        return Ok(Held { _file: file });
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "trying to acquire lock...");
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        if file.try_lock().is_ok() {
            let _ = writeln!(stderr, " OK");
            return Ok(Held { _file: file });
        }
    }
    let _ = writeln!(stderr);
    Err(Failure::new(format!("can't lock file '{shown}' - got timeout")))
}

/// pmxcfs's cluster lock on a firewall config (`firewall-cluster` or `firewall-<vmid>`).
pub fn lock_firewall(node: &Node, id: &str) -> Result<Held, Failure> {
    let path = node.cluster_dir().join(format!("firewall-{id}.lock"));
    lock_path(&path, "", DEFAULT_TIMEOUT)
        .map_err(|_| Failure::new(format!("cfs-lock 'firewall-{id}' error: got lock request timeout")))
}
