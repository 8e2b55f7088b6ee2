//! A node dropping out of its cluster and coming back (`lws-sim membership`): what corosync
//! would report when the cluster network between the nodes fails while SSH still reaches them.
//!
//! The membership lives in the cluster's `cluster.json`; every node reads it for `pvecm status`,
//! `/cluster/status`, `/etc/pve/.members` and quorum (more than half of the nodes online,
//! pve-cluster's votequorum with one vote each). Without quorum, pmxcfs refuses writes under
//! `/etc/pve`, so `pct create|clone|migrate|start` fail with `check_cfs_quorum`'s message,
//! other config writes with `file_set_contents`'s "Permission denied" ([`crate::ct`]), and
//! cluster locks with `cfs-lock '…' error: no quorum!` ([`crate::lock`]).

use std::path::PathBuf;

use crate::cluster::ClusterInfo;
use crate::output::Failure;

pub const HELP: &str = "\
lws-sim membership --state DIR --host REGION/AZ online|offline

Mark a simulated node online or offline in its cluster's membership (its SSH server keeps
answering). A cluster whose online nodes are not more than half loses quorum: every node of it
then refuses writes under /etc/pve as Proxmox does.";

/// `lws-sim membership`.
pub fn main(argv: &[String]) -> i32 {
    let mut state = None;
    let mut host = None;
    let mut online = None;
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--state" => state = args.next().map(PathBuf::from),
            "--host" => host = args.next().cloned(),
            "online" => online = Some(true),
            "offline" => online = Some(false),
            "-h" | "--help" => {
                println!("{HELP}");
                return 0;
            }
            _ => online = None,
        }
    }
    let (Some(state), Some(host), Some(online)) = (state, host, online) else {
        return Failure::with_code(2, format!("lws-sim membership: bad arguments\n\n{HELP}")).report();
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
