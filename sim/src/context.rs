//! Where a simulated node keeps its state, and who is asking.
//!
//! A state directory holds every simulated cluster:
//! ```text
//! DIR/hosts.json                       region/az -> cluster, node, port (written by `serve`)
//! DIR/commands.log                     one JSON line per SSH command and per Proxmox tool run
//! DIR/bin/                             pct, pvesh, ... as links to lws-sim (the PATH of every command)
//! DIR/clusters/<cluster>/etc/pve/      the cluster filesystem (pmxcfs), shared by its nodes
//! DIR/clusters/<cluster>/nodes/<node>/ node-local: var/lib/vz, run/lock/lxc, run/lxc, ct/<vmid>
//! ```
//! Tools learn their node from the environment set by the shell wrapper (`LWS_SIM_*`).

use std::fs;
use std::path::{Path, PathBuf};

use super::output::Failure;

pub const ENV_STATE: &str = "LWS_SIM_STATE";
pub const ENV_CLUSTER: &str = "LWS_SIM_CLUSTER";
pub const ENV_NODE: &str = "LWS_SIM_NODE";
pub const ENV_HOST: &str = "LWS_SIM_HOST";
pub const ENV_LATENCY: &str = "LWS_SIM_LATENCY";

/// Proxmox's absolute paths that the shell wrapper maps onto the state directory.
pub const MAPPED_PREFIXES: [&str; 4] = ["/etc/pve/.members", "/etc/pve", "/var/lib/vz", "/run/lock/lxc"];

/// One simulated node, seen from a command running on it.
#[derive(Debug, Clone)]
pub struct Node {
    pub state: PathBuf,
    pub cluster: String,
    pub name: String,
    /// `region/az` of the SSH host this node is reached through (for the command log).
    pub host_label: String,
}

impl Node {
    pub fn new(state: &Path, cluster: &str, name: &str, host_label: &str) -> Self {
        Node {
            state: state.to_path_buf(),
            cluster: cluster.to_owned(),
            name: name.to_owned(),
            host_label: host_label.to_owned(),
        }
    }

    /// The node a tool runs on, from the variables the shell wrapper exports.
    pub fn from_env() -> Result<Self, Failure> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| {
                Failure::new(format!(
                    "lws-sim: {name} is not set; run Proxmox commands through an lws-sim host \
                     (`lws-sim serve` or `lws-sim shell`)"
                ))
            })
        };
        Ok(Node {
            state: PathBuf::from(var(ENV_STATE)?),
            cluster: var(ENV_CLUSTER)?,
            name: var(ENV_NODE)?,
            host_label: std::env::var(ENV_HOST).unwrap_or_default(),
        })
    }

    /// Another node of the same cluster.
    pub fn sibling(&self, name: &str) -> Node {
        Node { name: name.to_owned(), ..self.clone() }
    }

    pub fn cluster_dir(&self) -> PathBuf {
        self.state.join("clusters").join(&self.cluster)
    }

    /// `/etc/pve` of this cluster.
    pub fn pve_dir(&self) -> PathBuf {
        self.cluster_dir().join("etc/pve")
    }

    /// Node-local root (what `/` is for node-local Proxmox paths).
    pub fn local_dir(&self) -> PathBuf {
        self.cluster_dir().join("nodes").join(&self.name)
    }

    /// `/etc/pve/nodes/<node>/lxc`.
    pub fn lxc_dir(&self) -> PathBuf {
        self.pve_dir().join("nodes").join(&self.name).join("lxc")
    }

    pub fn conf_path(&self, vmid: u32) -> PathBuf {
        self.lxc_dir().join(format!("{vmid}.conf"))
    }

    /// Proxmox's name for the config file in messages: `nodes/<node>/lxc/<vmid>.conf`.
    pub fn conf_display(&self, vmid: u32) -> String {
        format!("nodes/{}/lxc/{vmid}.conf", self.name)
    }

    pub fn lock_dir(&self) -> PathBuf {
        self.local_dir().join("run/lock/lxc")
    }

    /// Runtime state of a running container (exists only while it runs).
    pub fn runtime_path(&self, vmid: u32) -> PathBuf {
        self.local_dir().join("run/lxc").join(format!("{vmid}.json"))
    }

    /// LXC's own config of a container (`/var/lib/lxc/<vmid>/config`), which Proxmox writes when it
    /// starts one (pve-container `src/PVE/LXC.pm` `update_lxc_config`, called by the prestart of
    /// `vm_start`): until then LXC does not know the container on this node.
    pub fn lxc_config_path(&self, vmid: u32) -> PathBuf {
        self.local_dir().join("var/lib/lxc").join(vmid.to_string()).join("config")
    }

    /// The simulated container's filesystem, where `pct exec` runs.
    pub fn ct_root(&self, vmid: u32) -> PathBuf {
        self.local_dir().join("ct").join(vmid.to_string()).join("rootfs")
    }

    pub fn var_lib_vz(&self) -> PathBuf {
        self.local_dir().join("var/lib/vz")
    }

    pub fn firewall_dir(&self) -> PathBuf {
        self.pve_dir().join("firewall")
    }

    /// Names of every node of this cluster that has a directory under `/etc/pve/nodes`.
    pub fn cluster_nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = fs::read_dir(self.pve_dir().join("nodes"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.path().is_dir())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        nodes.sort();
        nodes
    }

    /// Which node of the cluster holds container `vmid`, if any.
    pub fn locate(&self, vmid: u32) -> Option<String> {
        self.cluster_nodes().into_iter().find(|node| self.sibling(node).conf_path(vmid).exists())
    }

    /// Every (node, vmid) of the cluster, sorted by vmid.
    pub fn all_containers(&self) -> Vec<(String, u32)> {
        let mut all = Vec::new();
        for node in self.cluster_nodes() {
            for vmid in self.sibling(&node).local_vmids() {
                all.push((node.clone(), vmid));
            }
        }
        all.sort_by_key(|(_, vmid)| *vmid);
        all
    }

    /// Container ids whose config lives on this node.
    pub fn local_vmids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = fs::read_dir(self.lxc_dir())
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        name.strip_suffix(".conf")?.parse().ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// The real Proxmox path each mapped prefix stands for on this node.
    /// (`.members` first: it is node-local although it lies under `/etc/pve`.)
    pub fn path_mappings(&self) -> [(&'static str, PathBuf); 4] {
        [
            (MAPPED_PREFIXES[0], self.members_path()),
            (MAPPED_PREFIXES[1], self.pve_dir()),
            (MAPPED_PREFIXES[2], self.var_lib_vz()),
            (MAPPED_PREFIXES[3], self.lock_dir()),
        ]
    }

    /// What this node reads as `/etc/pve/.members` (pmxcfs writes it for the reader).
    pub fn members_path(&self) -> PathBuf {
        self.local_dir().join("pmxcfs/.members")
    }

    /// Resolve a path as a command on the real host would see it.
    pub fn host_path(&self, path: &str) -> PathBuf {
        for (prefix, target) in self.path_mappings() {
            if let Some(rest) = path.strip_prefix(prefix) {
                if rest.is_empty() || rest.starts_with('/') {
                    return PathBuf::from(format!("{}{rest}", target.display()));
                }
            }
        }
        PathBuf::from(path)
    }
}

/// Write `contents` to `path` atomically (temp file + rename), creating parent directories —
/// pmxcfs never shows a half-written config.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    fs::write(&tmp, contents)?;
    fs::rename(&tmp, path)
}
