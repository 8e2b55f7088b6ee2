//! A node dropping out of its cluster and coming back (`lws-sim membership`): what corosync
//! would report when the cluster network between the nodes fails while SSH still reaches them.
//!
//! The membership lives in the cluster's `cluster.json`; every node reads it for `pvecm status`,
//! `/cluster/status`, `/etc/pve/.members` and quorum (more than half of the nodes online,
//! pve-cluster's votequorum with one vote each). Without quorum, pmxcfs refuses writes under
//! `/etc/pve`, so `pct create|clone|migrate|start` fail with `check_cfs_quorum`'s message,
//! other config writes with `file_set_contents`'s "Permission denied" ([`crate::ct`]), and
//! cluster locks with `cfs-lock '…' error: no quorum!` ([`crate::lock`]).

use crate::cluster::ClusterInfo;
use crate::output::Failure;

pub const HELP: &str = "\
lws-sim membership --state DIR --host REGION/AZ online|offline

Mark a simulated node online or offline in its cluster's membership (its SSH server keeps
answering). A cluster whose online nodes are not more than half loses quorum: every node of it
then refuses writes under /etc/pve as Proxmox does.";

/// `lws-sim membership`.
pub fn main(argv: &[String]) -> i32 {
    let word = |w: &str| match w {
        "online" => Some(true),
        "offline" => Some(false),
        _ => None,
    };
    let (state, host, online) = match crate::power::host_switch_args(argv, "membership", HELP, word) {
        Ok(args) => args,
        Err(code) => return code,
    };
    match set(&state, &host, online) {
        Ok(()) => 0,
        Err(f) => f.report(),
    }
}

fn set(state: &std::path::Path, label: &str, online: bool) -> Result<(), Failure> {
    let registry = crate::registry::Registry::load(state)?;
    let node = registry.host(label)?.node(state);
    let _lock = crate::lock::lock_cluster_ids(&node)?;
    let mut info = ClusterInfo::load(&node)?;
    let member = info
        .nodes
        .iter_mut()
        .find(|m| m.name == node.name)
        .ok_or_else(|| Failure::new(format!("lws-sim membership: node '{}' is not in its cluster", node.name)))?;
    member.online = online;
    info.save(&node)
}
