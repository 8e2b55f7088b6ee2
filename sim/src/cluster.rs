//! Cluster-wide facts: which nodes form the cluster, and the storages they share
//! (`/etc/pve/storage.cfg`), plus creating a fresh cluster state.

use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::context::{write_atomic, Node};
use super::output::Failure;

/// Templates every node's `local` storage starts with (issue #2), with plausible sizes.
pub const INITIAL_TEMPLATES: [(&str, u64); 2] = [
    ("debian-12-standard_12.7-1_amd64.tar.zst", 126 << 20),
    ("ubuntu-24.04-standard_24.04-2_amd64.tar.zst", 141 << 20),
];

/// What `pveam available` offers: (section, template, size in bytes).
pub const AVAILABLE_TEMPLATES: [(&str, &str, u64); 12] = [
    ("mail", "proxmox-mail-gateway-8.1-standard_8.1-1_amd64.tar.zst", 480 << 20),
    ("system", "alpine-3.20-default_20240908_amd64.tar.xz", 3 << 20),
    ("system", "archlinux-base_20240911-1_amd64.tar.zst", 180 << 20),
    ("system", "centos-9-stream-default_20240828_amd64.tar.xz", 98 << 20),
    ("system", "debian-11-standard_11.7-1_amd64.tar.zst", 118 << 20),
    ("system", "debian-12-standard_12.7-1_amd64.tar.zst", 126 << 20),
    ("system", "fedora-40-default_20240909_amd64.tar.xz", 96 << 20),
    ("system", "rockylinux-9-default_20240912_amd64.tar.xz", 104 << 20),
    ("system", "ubuntu-22.04-standard_22.04-1_amd64.tar.zst", 124 << 20),
    ("system", "ubuntu-24.04-standard_24.04-2_amd64.tar.zst", 141 << 20),
    ("turnkeylinux", "debian-12-turnkey-nextcloud_18.1-1_amd64.tar.gz", 412 << 20),
    ("turnkeylinux", "debian-12-turnkey-wordpress_18.0-1_amd64.tar.gz", 305 << 20),
];

const STORAGE_CFG: &str = "dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images
";

/// Sim-private record of the cluster's members (`DIR/clusters/<c>/cluster.json`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ClusterInfo {
    pub name: String,
    pub nodes: Vec<Member>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub id: u32,
    pub ip: String,
    #[serde(default = "yes")]
    pub online: bool,
    /// When the simulated node "booted" (its uptime counts from here).
    #[serde(default)]
    pub booted_at: u64,
}

fn yes() -> bool {
    true
}

impl ClusterInfo {
    pub fn load(node: &Node) -> Result<Self, Failure> {
        let path = node.cluster_dir().join("cluster.json");
        let text = fs::read_to_string(&path)
            .map_err(|e| Failure::new(format!("lws-sim: cannot read {}: {e}", path.display())))?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn save(&self, node: &Node) -> Result<(), Failure> {
        let text = serde_json::to_string_pretty(self)?;
        write_atomic(&node.cluster_dir().join("cluster.json"), &text)?;
        for member in &self.nodes {
            let sibling = node.sibling(&member.name);
            write_atomic(&sibling.members_path(), &self.members_text(&member.name))?;
        }
        Ok(())
    }

    /// `/etc/pve/.members` as node `local` reads it: pmxcfs makes it up for the reader (pve-cluster
    /// `src/pmxcfs/status.c` `cfs_create_memberlist_msg`), so each node sees its own `nodename`.
    /// A standalone host has no corosync nodes: `nodename` and `version` only.
    pub fn members_text(&self, local: &str) -> String {
        if !self.is_clustered() {
            return format!("{{\n\"nodename\": \"{local}\",\n\"version\": 0\n}}\n");
        }
        let version = self.nodes.len();
        let mut text = format!("{{\n\"nodename\": \"{local}\",\n\"version\": {version},\n");
        text.push_str(&format!(
            "\"cluster\": {{ \"name\": \"{}\", \"version\": {version}, \"nodes\": {}, \"quorate\": {} }},\n",
            self.name,
            self.nodes.len(),
            u8::from(self.quorate())
        ));
        text.push_str("\"nodelist\": {\n");
        let entries: Vec<String> = self
            .nodes
            .iter()
            .map(|m| {
                format!(
                    "  \"{}\": {{ \"id\": {}, \"online\": {}, \"ip\": \"{}\"}}",
                    m.name,
                    m.id,
                    u8::from(m.online),
                    m.ip
                )
            })
            .collect();
        text.push_str(&entries.join(",\n"));
        text.push_str("\n  }\n}\n");
        text
    }

    /// A cluster of one node is a standalone Proxmox host: no corosync, no quorum questions.
    pub fn is_clustered(&self) -> bool {
        self.nodes.len() > 1
    }

    pub fn member(&self, name: &str) -> Option<&Member> {
        self.nodes.iter().find(|m| m.name == name)
    }

    pub fn quorate(&self) -> bool {
        let online = self.nodes.iter().filter(|m| m.online).count();
        !self.is_clustered() || online * 2 > self.nodes.len()
    }
}

/// pve-cluster `src/PVE/Cluster.pm` `check_cfs_quorum`, which create, restore, clone, migrate
/// and start call before anything else.
pub fn check_cfs_quorum(node: &Node) -> Result<(), Failure> {
    if writable(node)? {
        Ok(())
    } else {
        Err(Failure::new("cluster not ready - no quorum?"))
    }
}

/// Whether pmxcfs takes writes on `node`: a node without quorum refuses every write under
/// `/etc/pve` with EACCES (pve-cluster `src/pmxcfs/dcdb.c` `dcdb_send_fuse_message`).
pub fn writable(node: &Node) -> Result<bool, Failure> {
    Ok(ClusterInfo::load(node)?.quorate())
}

/// Create (or extend) a cluster's state with `node` as a member. Existing state is kept, so a
/// restarted simulator finds its containers again.
pub fn ensure_node(node: &Node, ip: &str) -> Result<(), Failure> {
    let pve = node.pve_dir();
    fs::create_dir_all(node.lxc_dir())?;
    fs::create_dir_all(pve.join("nodes").join(&node.name).join("qemu-server"))?;
    fs::create_dir_all(node.firewall_dir())?;
    if !pve.join("storage.cfg").exists() {
        write_atomic(&pve.join("storage.cfg"), STORAGE_CFG)?;
    }
    for dir in ["run/lock/lxc", "run/lxc", "ct", "var/lib/vz/images", "var/lib/vz/dump"] {
        fs::create_dir_all(node.local_dir().join(dir))?;
    }
    let cache = node.var_lib_vz().join("template/cache");
    fs::create_dir_all(&cache)?;
    for (name, size) in INITIAL_TEMPLATES {
        let path = cache.join(name);
        if !path.exists() {
            create_sparse(&path, size)?;
        }
    }

    let mut info =
        ClusterInfo::load(node).unwrap_or_else(|_| ClusterInfo { name: node.cluster.clone(), nodes: vec![] });
    if info.member(&node.name).is_none() {
        let id = info.nodes.iter().map(|m| m.id).max().unwrap_or(0) + 1;
        info.nodes.push(Member {
            name: node.name.clone(),
            id,
            ip: ip.to_owned(),
            online: true,
            booted_at: super::journal::epoch_secs(),
        });
    }
    // Every start: a node that joined changes what the others' `.members` say.
    info.save(node)?;
    if info.is_clustered() {
        write_atomic(&pve.join("corosync.conf"), &corosync_conf(&info))?;
    }
    Ok(())
}

/// A sparse file of `size` bytes: looks as large as a real volume, costs no disk.
pub fn create_sparse(path: &std::path::Path, size: u64) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let file = fs::File::create(path)?;
    file.set_len(size)
}

fn corosync_conf(info: &ClusterInfo) -> String {
    let mut text = String::from("logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n");
    for m in &info.nodes {
        text.push_str(&format!(
            "  node {{\n    name: {}\n    nodeid: {}\n    quorum_votes: 1\n    ring0_addr: {}\n  }}\n",
            m.name, m.id, m.ip
        ));
    }
    text.push_str(&format!(
        "}}\n\nquorum {{\n  provider: corosync_votequorum\n}}\n\ntotem {{\n  cluster_name: {}\n  config_version: {}\n  interface {{\n    linknumber: 0\n  }}\n  ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}}\n",
        info.name,
        info.nodes.len()
    ));
    text
}

/// One storage from `/etc/pve/storage.cfg`.
#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub id: String,
    pub kind: String,
    pub path: Option<String>,
    pub vgname: Option<String>,
    pub content: Vec<String>,
    pub shared: bool,
    pub disabled: bool,
    /// `prune-backups` as written (`keep-last=3,keep-daily=7`): vzdump's retention here.
    pub prune_backups: Option<String>,
}

impl Storage {
    pub fn supports(&self, content: &str) -> bool {
        self.content.iter().any(|c| c == content)
    }

    /// File-based storages keep volumes as files under a directory.
    pub fn is_dir_like(&self) -> bool {
        matches!(self.kind.as_str(), "dir" | "nfs" | "cifs" | "cephfs")
    }

    /// Where this storage's files live for `node`.
    pub fn base_dir(&self, node: &Node) -> PathBuf {
        if self.shared {
            return node.cluster_dir().join("shared").join(&self.id);
        }
        match (&self.path, self.kind.as_str()) {
            (Some(path), _) => {
                // Paths outside the mapped prefixes live under the node's own root.
                let mapped = node.host_path(path);
                if mapped.as_os_str() == path.as_str() {
                    node.local_dir().join(path.trim_start_matches('/'))
                } else {
                    mapped
                }
            }
            (None, "lvmthin" | "lvm") => node.local_dir().join("lvm").join(self.vgname.as_deref().unwrap_or("pve")),
            (None, _) => node.local_dir().join("storage").join(&self.id),
        }
    }

    /// Total capacity we pretend the storage has.
    pub fn capacity(&self) -> u64 {
        match self.kind.as_str() {
            "dir" => 94 << 30,
            "lvmthin" | "lvm" => 348 << 30,
            _ => 1 << 40,
        }
    }
}

/// Parse `/etc/pve/storage.cfg` (sections `type: id`, then tab-indented `key value` lines).
pub fn load_storages(node: &Node) -> Result<Vec<Storage>, Failure> {
    let text = fs::read_to_string(node.pve_dir().join("storage.cfg")).unwrap_or_default();
    Ok(parse_storage_cfg(&text))
}

/// Storage types pve-storage marks shared whatever the file says (`src/PVE/Storage/Plugin.pm`
/// `@SHARED_STORAGE`, applied in `parse_config`).
const SHARED_STORAGE: &[&str] = &["iscsi", "nfs", "cifs", "rbd", "cephfs", "iscsidirect", "zfs", "drbd", "pbs"];

pub fn parse_storage_cfg(text: &str) -> Vec<Storage> {
    let mut storages: Vec<Storage> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            if let Some((kind, id)) = line.split_once(':') {
                storages.push(Storage {
                    id: id.trim().to_owned(),
                    kind: kind.trim().to_owned(),
                    path: None,
                    vgname: None,
                    content: vec![],
                    shared: SHARED_STORAGE.contains(&kind.trim()),
                    disabled: false,
                    prune_backups: None,
                });
            }
            continue;
        }
        let Some(storage) = storages.last_mut() else { continue };
        let line = line.trim();
        let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let value = value.trim();
        match key {
            "path" => storage.path = Some(value.to_owned()),
            "vgname" => storage.vgname = Some(value.to_owned()),
            "content" => storage.content = value.split(',').map(|s| s.trim().to_owned()).collect(),
            "shared" => storage.shared |= value == "1",
            "disable" => storage.disabled = value != "0",
            "prune-backups" => storage.prune_backups = Some(value.to_owned()),
            _ => {}
        }
    }
    storages
}

pub fn find_storage(node: &Node, id: &str) -> Result<Storage, Failure> {
    let storages = load_storages(node)?;
    storages.into_iter().find(|s| s.id == id).ok_or_else(|| Failure::new(format!("storage '{id}' does not exist")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_storage_cfg_has_local_and_local_lvm() {
        let storages = parse_storage_cfg(STORAGE_CFG);
        assert_eq!(storages.len(), 2);
        assert_eq!(storages[0].id, "local");
        assert!(storages[0].supports("vztmpl"));
        assert!(!storages[0].supports("rootdir"));
        assert_eq!(storages[1].kind, "lvmthin");
        assert!(storages[1].supports("rootdir"));
    }
}
