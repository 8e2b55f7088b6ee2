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
    lock_cfs(node, &format!("file-{}", file.replace('.', "_")))
}

/// pmxcfs's cluster lock on a firewall config (`firewall-cluster` or `firewall-<vmid>`).
pub fn lock_firewall(node: &Node, id: &str) -> Result<Held, Failure> {
    lock_cfs(node, &format!("firewall-{id}"))
}

/// pve-cluster `src/PVE/Cluster.pm` `$cfs_lock`: while another holder has it, `trying to
/// acquire cfs lock '<id>' ...` at most once a second; after the timeout,
/// `cfs-lock '<id>' error: got lock request timeout`.
/// Without quorum the lock directory cannot be made (pmxcfs refuses the `mkdir`) until the
/// timeout, and the error is then `cfs-lock '<id>' error: no quorum!`.
fn lock_cfs(node: &Node, lockid: &str) -> Result<Held, Failure> {
    if !crate::cluster::writable(node)? {
        let started = Instant::now();
        while started.elapsed() < DEFAULT_TIMEOUT {
            std::thread::sleep(Duration::from_secs(1));
            eprintln!("trying to acquire cfs lock '{lockid}' ...");
            if crate::cluster::writable(node)? {
                return lock_cfs(node, lockid);
            }
        }
        return Err(Failure::new(format!("cfs-lock '{lockid}' error: no quorum!")));
    }
    let path = node.cluster_dir().join(format!("{lockid}.lock"));
    let waiting = format!("trying to acquire cfs lock '{lockid}' ...\n");
    wait_for_lock(&path, &waiting, DEFAULT_TIMEOUT)?
        .ok_or_else(|| Failure::new(format!("cfs-lock '{lockid}' error: got lock request timeout")))
}

/// pve-common `PVE/Tools.pm` `lock_file_full`: `trying to acquire lock...`, then ` OK` or,
/// after the timeout, `can't lock file '<path>' - got timeout`.
fn lock_path(path: &std::path::Path, shown: &str, timeout: Duration) -> Result<Held, Failure> {
    wait_for_lock(path, "trying to acquire lock...", timeout)?
        .ok_or_else(|| Failure::new(format!("can't lock file '{shown}' - got timeout")))
}

/// Take the `flock` on `path`, printing `waiting` when it is held elsewhere (once for a
/// message without a line end, once a second otherwise); `None` after `timeout`.
fn wait_for_lock(path: &std::path::Path, waiting: &str, timeout: Duration) -> Result<Option<Held>, Failure> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    if file.try_lock().is_ok() {
        return Ok(Some(Held { _file: file }));
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{waiting}");
    let one_line = !waiting.ends_with('\n');
    let started = Instant::now();
    let mut said = 0;
    while started.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(50));
        if file.try_lock().is_ok() {
            if one_line {
                let _ = writeln!(stderr, " OK");
            }
            return Ok(Some(Held { _file: file }));
        }
        let seconds = started.elapsed().as_secs();
        if !one_line && seconds > said {
            said = seconds;
            let _ = write!(stderr, "{waiting}");
        }
    }
    if one_line {
        let _ = writeln!(stderr);
    }
    Ok(None)
}
