//! `DIR/hosts.json`: which simulated hosts exist, how to reach them, and the settings every
//! command on them shares (latency, sudo behaviour). Written by `serve`, read by `shell`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::context::{write_atomic, Node};
use super::output::Failure;

pub const REGISTRY_FILE: &str = "hosts.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostEntry {
    /// `region/az`.
    pub label: String,
    pub region: String,
    pub az: String,
    pub cluster: String,
    pub node: String,
    pub address: String,
    pub port: u16,
    /// `SHA256:…` of the host key, as the provider's `host_key` pin takes it.
    pub host_key_fingerprint: String,
    /// `ssh-ed25519 AAAA…`, as a known_hosts line takes it.
    pub host_public_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registry {
    /// `embedded` (our russh server) or `openssh` (a real sshd per host).
    pub server: String,
    pub user: String,
    pub client_key_file: String,
    pub password_file: String,
    #[serde(default)]
    pub latency: String,
    /// `nopasswd` (sudo -n works) or `password` (sudo -n fails as on a host that wants one).
    #[serde(default = "nopasswd")]
    pub sudo: String,
    /// Seconds between two simulated `pvestatd` updates of guest status (Proxmox: 10).
    #[serde(default = "pvestatd_interval")]
    pub pvestatd_interval: f64,
    /// Whether a DHCP server answers on the simulated bridges (`serve --no-dhcp`: none does).
    #[serde(default = "yes")]
    pub dhcp: bool,
    /// Whether hosts can be switched off and on (`serve --power-switch`, [`crate::power`]).
    #[serde(default)]
    pub power_switch: bool,
    /// The `serve` process, so containers it leaves behind when it dies are known as orphans.
    #[serde(default)]
    pub serve_pid: u32,
    pub hosts: Vec<HostEntry>,
}

fn pvestatd_interval() -> f64 {
    crate::status::PVESTATD_INTERVAL
}

fn yes() -> bool {
    true
}

fn nopasswd() -> String {
    "nopasswd".to_owned()
}

impl Registry {
    pub fn load(state: &Path) -> Result<Registry, Failure> {
        let path = state.join(REGISTRY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Failure::new(format!(
                "lws-sim: cannot read {} ({e}); start the simulator with `lws-sim serve`",
                path.display()
            ))
        })?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn save(&self, state: &Path) -> Result<(), Failure> {
        write_atomic(&state.join(REGISTRY_FILE), &serde_json::to_string_pretty(self)?)?;
        Ok(())
    }

    pub fn host(&self, label: &str) -> Result<&HostEntry, Failure> {
        self.hosts.iter().find(|h| h.label == label).ok_or_else(|| {
            Failure::new(format!(
                "lws-sim: no simulated host '{label}' (known: {})",
                self.hosts.iter().map(|h| h.label.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

impl HostEntry {
    pub fn node(&self, state: &Path) -> Node {
        Node::new(state, &self.cluster, &self.node, &self.label)
    }
}

/// A host given on the command line: `region/az` (cluster = region, node = az) or
/// `region/az@cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    pub region: String,
    pub az: String,
    pub cluster: String,
    /// The Proxmox node name (default: the zone's name).
    pub node: String,
}

impl HostSpec {
    /// `REGION/AZ[@CLUSTER][=NODE]`.
    pub fn parse(text: &str) -> Result<HostSpec, String> {
        let (text, node) = match text.split_once('=') {
            Some((t, n)) => (t, Some(n)),
            None => (text, None),
        };
        let (location, cluster) = match text.split_once('@') {
            Some((l, c)) => (l, Some(c)),
            None => (text, None),
        };
        let (region, az) = location.split_once('/').ok_or_else(|| format!("host '{text}' is not REGION/AZ"))?;
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let cluster = cluster.unwrap_or(region);
        let node = node.unwrap_or(az);
        if !valid(region) || !valid(az) || !valid(cluster) || !valid(node) {
            return Err(format!("host '{text}': names may use letters, digits, '-' and '_'"));
        }
        Ok(HostSpec {
            region: region.to_owned(),
            az: az.to_owned(),
            cluster: cluster.to_owned(),
            node: node.to_owned(),
        })
    }

    pub fn label(&self) -> String {
        format!("{}/{}", self.region, self.az)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_specs_default_the_cluster_to_the_region() {
        let spec = HostSpec::parse("eu-south-1/az1").expect("valid");
        assert_eq!(spec.cluster, "eu-south-1");
        assert_eq!(spec.label(), "eu-south-1/az1");
        assert_eq!(HostSpec::parse("eu/az3@other").expect("valid").cluster, "other");
        assert!(HostSpec::parse("no-slash").is_err());
        assert!(HostSpec::parse("a b/az1").is_err());
    }
}
