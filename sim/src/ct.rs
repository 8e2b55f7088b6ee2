//! One simulated container: its config file, its runtime state (running or not), its volumes
//! and the directory that stands for its root filesystem.

use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::formats::pct_conf::ConfigFile;
use crate::formats::property_string::PropertyString;
use crate::formats::text::{format_size, parse_size};

use super::cluster::{create_sparse, find_storage, Storage};
use super::context::{write_atomic, Node};
use super::journal::epoch_secs;
use super::output::Failure;
use super::rng;

/// A container whose config lives on `node`.
pub struct Ct {
    pub vmid: u32,
    pub node: Node,
    pub conf: ConfigFile,
}

/// What a running container has that a stopped one has not.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Runtime {
    pub started_at: u64,
    pub pid: u32,
}

impl Ct {
    /// Load container `vmid` from this node, with Proxmox's error when it is not here.
    pub fn load(node: &Node, vmid: u32) -> Result<Ct, Failure> {
        Self::try_load(node, vmid)?.ok_or_else(|| missing_config(node, vmid))
    }

    pub fn try_load(node: &Node, vmid: u32) -> Result<Option<Ct>, Failure> {
        match fs::read_to_string(node.conf_path(vmid)) {
            Ok(raw) => Ok(Some(Ct { vmid, node: node.clone(), conf: ConfigFile::parse(&raw) })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Write the config through pmxcfs: refused without quorum as pve-common `PVE/File.pm`
    /// `file_set_contents` reports it (its temp file `<path>.tmp.<pid>` cannot be opened).
    pub fn save(&self) -> Result<(), Failure> {
        if !crate::cluster::writable(&self.node)? {
            return Err(Failure::new(format!(
                "unable to open file '/etc/pve/nodes/{}/lxc/{}.conf.tmp.{}' - Permission denied",
                self.node.name,
                self.vmid,
                std::process::id()
            )));
        }
        write_atomic(&self.node.conf_path(self.vmid), &self.conf.write())?;
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.conf.current.get(key)
    }

    pub fn hostname(&self) -> String {
        self.get("hostname").map(str::to_owned).unwrap_or_else(|| format!("CT{}", self.vmid))
    }

    pub fn memory_mib(&self) -> u64 {
        self.get("memory").and_then(|v| v.parse().ok()).unwrap_or(512)
    }

    /// pve-container `LXC.pm` `vmstatus`/`update_lxc_config`: `$conf->{swap} // 0` (512 is only
    /// what create writes when not told).
    pub fn swap_mib(&self) -> u64 {
        self.get("swap").and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub fn is_template(&self) -> bool {
        self.get("template") == Some("1")
    }

    /// `CT is locked (<value>)` unless the config has no `lock:` or one of `allowed`.
    pub fn check_lock(&self, allowed: &[&str]) -> Result<(), Failure> {
        match self.get("lock") {
            Some(lock) if !allowed.contains(&lock) => Err(Failure::new(format!("CT is locked ({lock})"))),
            _ => Ok(()),
        }
    }

    pub fn runtime(&self) -> Option<Runtime> {
        let text = fs::read_to_string(self.node.runtime_path(self.vmid)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Whether LXC runs this container on its node (one `lxc-ls` per process, see [`crate::lxc`]).
    pub fn is_running(&self) -> bool {
        crate::lxc::running(&self.node).contains(&self.vmid)
    }

    pub fn uptime(&self) -> u64 {
        self.runtime().map(|r| epoch_secs().saturating_sub(r.started_at)).unwrap_or(0)
    }

    /// Start the container as a real LXC container and note when.
    pub fn start_lxc(&self) -> Result<(), Failure> {
        let pid = crate::lxc::start(self)?;
        let runtime = Runtime { started_at: epoch_secs(), pid };
        write_atomic(&self.node.runtime_path(self.vmid), &serde_json::to_string(&runtime)?)?;
        crate::status::record(&self.node, self.vmid, crate::status::Event::Started);
        Ok(())
    }

    /// Stop the LXC container: killed, or shut down cleanly within `shutdown`'s timeout (killed
    /// after it unless its flag says not to).
    pub fn stop_lxc(&self, shutdown: Option<(u64, bool)>) -> Result<(), Failure> {
        let pid = self.runtime().map(|r| r.pid);
        crate::lxc::stop(&self.node, self.vmid, pid, shutdown)?;
        match fs::remove_file(self.node.runtime_path(self.vmid)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => {
                crate::status::record(&self.node, self.vmid, crate::status::Event::Stopped);
                Ok(())
            }
        }
    }

    /// The directory standing for `/` inside the container.
    pub fn root(&self) -> PathBuf {
        self.node.ct_root(self.vmid)
    }

    /// `rootfs` and `mpN` volume strings of the current config.
    pub fn disks(&self) -> Vec<(String, PropertyString)> {
        self.conf
            .current
            .options
            .iter()
            .filter(|(k, _)| is_volume_key(k))
            .filter_map(|(k, v)| Some((k.clone(), PropertyString::parse(v, Some("volume")).ok()?)))
            .collect()
    }

    /// Size of the root disk in bytes (`maxdisk`).
    pub fn rootfs_size(&self) -> u64 {
        self.get("rootfs")
            .and_then(|v| PropertyString::parse(v, Some("volume")).ok())
            .and_then(|p| p.get("size").and_then(parse_size))
            .unwrap_or(0)
    }

    /// Network devices `netN` of the current config.
    pub fn networks(&self) -> Vec<(String, PropertyString)> {
        self.conf
            .current
            .options
            .iter()
            .filter(|(k, _)| k.starts_with("net") && k[3..].parse::<u32>().is_ok())
            .filter_map(|(k, v)| Some((k.clone(), PropertyString::parse(v, None).ok()?)))
            .collect()
    }

    /// The IPv4 address (CIDR) a network of this container has while it runs: its static `ip`, or
    /// the simulated DHCP lease; none for `manual` or no `ip`.
    pub fn ipv4_cidr(&self, net: &PropertyString) -> Option<String> {
        match net.get("ip") {
            Some("dhcp") => Some(dhcp_address(self.vmid)),
            Some("manual") | None => None,
            Some(cidr) => Some(cidr.to_owned()),
        }
    }

    /// Apply `[pve:pending]` to the current config (what a start does).
    pub fn apply_pending(&mut self) {
        let pending = std::mem::take(&mut self.conf.pending);
        if let Some(deleted) = pending.options.get("delete") {
            for key in deleted.split(',') {
                self.conf.current.remove(key);
            }
        }
        for (key, value) in pending.options {
            if key != "delete" {
                self.conf.current.set(key, value);
            }
        }
        if pending.description.is_some() {
            self.conf.current.description = pending.description;
        }
    }
}

pub fn missing_config(node: &Node, vmid: u32) -> Failure {
    Failure::with_code(2, format!("Configuration file '{}' does not exist", node.conf_display(vmid)))
}

/// A fresh MAC address with the Proxmox prefix `BC:24:11`.
pub fn random_mac() -> String {
    let r = rng::next();
    format!("BC:24:11:{:02X}:{:02X}:{:02X}", (r >> 16) & 0xff, (r >> 8) & 0xff, r & 0xff)
}

/// The address a container's DHCP client would get on the simulated bridge.
pub fn dhcp_address(vmid: u32) -> String {
    format!("10.10.{}.{}/24", (vmid / 250) % 256, vmid % 250 + 2)
}

/// `rootfs` or `mpN`: the keys whose values are volumes (pve-container `src/PVE/LXC/Config.pm`
/// `valid_volume_keys`).
pub fn is_volume_key(key: &str) -> bool {
    key == "rootfs" || (key.starts_with("mp") && key[2..].parse::<u32>().is_ok())
}

/// A volume id split into its storage and name: `local-lvm:vm-100-disk-0`.
pub fn split_volid(volid: &str) -> Option<(&str, &str)> {
    volid.split_once(':')
}

/// Where the file behind `volid` lives on `node`.
pub fn volume_path(node: &Node, volid: &str) -> Result<PathBuf, Failure> {
    let (storage_id, name) =
        split_volid(volid).ok_or_else(|| Failure::new(format!("unable to parse volume ID '{volid}'")))?;
    let storage = find_storage(node, storage_id)?;
    Ok(volume_path_in(node, &storage, name))
}

fn volume_path_in(node: &Node, storage: &Storage, name: &str) -> PathBuf {
    let base = storage.base_dir(node);
    if storage.is_dir_like() {
        match name.strip_prefix("vztmpl/") {
            Some(file) => base.join("template/cache").join(file),
            None => base.join("images").join(name),
        }
    } else {
        base.join(name)
    }
}

/// Allocate a new disk for `vmid` on `storage`: returns the volume id and the task log line.
pub fn allocate_disk(node: &Node, storage: &Storage, vmid: u32, size: u64) -> Result<(String, String), Failure> {
    for index in 0.. {
        let name = if storage.is_dir_like() {
            format!("{vmid}/vm-{vmid}-disk-{index}.raw")
        } else {
            format!("vm-{vmid}-disk-{index}")
        };
        let path = volume_path_in(node, storage, &name);
        if path.exists() {
            continue;
        }
        create_sparse(&path, size)?;
        let log = if storage.is_dir_like() {
            format!("Formatting '{}', fmt=raw size={size} preallocation=off", host_display(storage, &name))
        } else {
            format!("  Logical volume \"vm-{vmid}-disk-{index}\" created.")
        };
        return Ok((format!("{}:{name}", storage.id), log));
    }
    unreachable!("the disk index search is unbounded")
}

/// What a task log calls a file volume: its path on the real host.
fn host_display(storage: &Storage, name: &str) -> String {
    let base = storage.path.clone().unwrap_or_else(|| format!("/mnt/pve/{}", storage.id));
    format!("{base}/images/{name}")
}

/// Remove a disk volume; returns the task log line.
pub fn free_disk(node: &Node, volid: &str) -> Result<String, Failure> {
    let path = volume_path(node, volid)?;
    let _ = fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        let _ = fs::remove_dir(dir); // only succeeds once the vmid's image directory is empty
    }
    let name = split_volid(volid).map(|(_, n)| n).unwrap_or(volid);
    Ok(if name.contains('/') {
        format!("Removed volume '{volid}'")
    } else {
        format!("  Logical volume \"{name}\" successfully removed.")
    })
}

/// Rewrite a volume string's `size=` after a resize.
pub fn with_size(volume: &str, bytes: u64) -> String {
    let mut ps = PropertyString::parse(volume, Some("volume")).unwrap_or_default();
    ps.set("size", format_size(bytes));
    ps.to_canonical(Some("volume"), &[])
}
