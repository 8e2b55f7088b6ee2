//! Everything about a cluster's containers in one round trip: every config file under
//! `/etc/pve/nodes/*/lxc/` and one `pvesh get /cluster/resources --type vm`. A refresh of any
//! number of containers costs one SSH command and one Proxmox tool run.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::command::Script;
use super::config_file::ConfigFile;
use super::error::PveError;
use super::firewall_file::FirewallFile;
use super::runner::{run, Runner};

/// Marks the start of each part of the output (a byte no config file contains).
const MARK: char = '\u{1e}';

/// One VM or container as `/cluster/resources` lists it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub vmid: u32,
    pub node: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uptime: Option<u64>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub maxmem: Option<u64>,
    #[serde(default)]
    pub mem: Option<u64>,
    #[serde(default)]
    pub maxdisk: Option<u64>,
    #[serde(default)]
    pub disk: Option<u64>,
}

/// A container found in the cluster.
#[derive(Debug, Clone)]
pub struct Listing {
    pub vmid: u32,
    /// The node whose directory holds the config.
    pub node: String,
    pub config: ConfigFile,
    pub resource: Option<Resource>,
}

impl Listing {
    pub fn running(&self) -> bool {
        self.resource.as_ref().and_then(|r| r.status.as_deref()) == Some("running")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub containers: BTreeMap<u32, Listing>,
    /// Every VMID in use in the cluster, VMs included (for allocation).
    pub used_ids: BTreeSet<u32>,
    /// `/etc/pve/firewall/cluster.fw` (security groups).
    pub cluster_firewall: FirewallFile,
    /// `/etc/pve/firewall/<vmid>.fw` of each container that has one.
    pub container_firewalls: BTreeMap<u32, FirewallFile>,
}

/// The one-round-trip script.
pub fn script() -> Script {
    Script::raw(
        "read container configs and /cluster/resources",
        "for f in /etc/pve/nodes/*/lxc/*.conf; do [ -f \"$f\" ] || continue; printf '\\n\\036FILE %s\\n' \"$f\"; cat \"$f\"; done; \
         for f in /etc/pve/firewall/*.fw; do [ -f \"$f\" ] || continue; printf '\\n\\036FW %s\\n' \"$f\"; cat \"$f\"; done; \
         printf '\\n\\036RESOURCES\\n'; pvesh get /cluster/resources --type vm --output-format json",
    )
}

/// Read the script's output.
pub fn parse(stdout: &str) -> Result<Inventory, String> {
    let mut inventory = Inventory::default();
    let mut resources: Vec<Resource> = Vec::new();
    let mut saw_resources = false;
    for part in stdout.split(MARK).skip(1) {
        let (header, body) = part.split_once('\n').unwrap_or((part, ""));
        if let Some(path) = header.strip_prefix("FILE ") {
            let Some((node, vmid)) = node_and_vmid(path) else { continue };
            inventory
                .containers
                .insert(vmid, Listing { vmid, node: node.to_owned(), config: ConfigFile::parse(body), resource: None });
        } else if let Some(path) = header.strip_prefix("FW ") {
            let file = FirewallFile::parse(body);
            match path.rsplit('/').next().and_then(|n| n.strip_suffix(".fw")) {
                Some("cluster") => inventory.cluster_firewall = file,
                Some(id) => {
                    if let Ok(vmid) = id.parse() {
                        inventory.container_firewalls.insert(vmid, file);
                    }
                }
                None => {}
            }
        } else if header == "RESOURCES" {
            saw_resources = true;
            resources = serde_json::from_str(body.trim()).map_err(|e| format!("/cluster/resources: {e}"))?;
        }
    }
    if !saw_resources {
        return Err("the output has no /cluster/resources part".to_owned());
    }
    for resource in resources {
        inventory.used_ids.insert(resource.vmid);
        if let Some(listing) = inventory.containers.get_mut(&resource.vmid) {
            if resource.kind == "lxc" {
                listing.resource = Some(resource);
            }
        }
    }
    inventory.used_ids.extend(inventory.containers.keys().copied());
    Ok(inventory)
}

/// `/etc/pve/nodes/<node>/lxc/<vmid>.conf` → (node, vmid).
fn node_and_vmid(path: &str) -> Option<(&str, u32)> {
    let rest = path.strip_prefix("/etc/pve/nodes/").or_else(|| path.split("/etc/pve/nodes/").nth(1))?;
    let (node, file) = rest.split_once("/lxc/")?;
    Some((node, file.strip_suffix(".conf")?.parse().ok()?))
}

pub async fn fetch(runner: &dyn Runner) -> Result<Inventory, PveError> {
    let script = script();
    let summary = script.summary.clone();
    let output = run(runner, script).await?;
    parse(&output.stdout_text()).map_err(|message| PveError::Unreadable {
        host: runner.label().to_owned(),
        command: summary,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_and_resources_are_matched_by_vmid() {
        let out = "\n\u{1e}FILE /etc/pve/nodes/pve1/lxc/100.conf\narch: amd64\nhostname: web\nmemory: 512\n\
                   \n\u{1e}FILE /etc/pve/nodes/pve2/lxc/101.conf\nhostname: db\n\
                   \n\u{1e}FW /etc/pve/firewall/cluster.fw\n[group web]\n\nIN ACCEPT -p tcp -dport 80\n\n\
                   \n\u{1e}FW /etc/pve/firewall/100.fw\n[RULES]\n\nGROUP web\n\n\
                   \n\u{1e}RESOURCES\n[{\"id\":\"lxc/100\",\"type\":\"lxc\",\"vmid\":100,\"node\":\"pve1\",\"status\":\"running\",\"name\":\"web\"},\
                   {\"id\":\"qemu/200\",\"type\":\"qemu\",\"vmid\":200,\"node\":\"pve1\",\"status\":\"stopped\"}]\n";
        let inventory = parse(out).expect("parses");
        assert_eq!(inventory.containers.len(), 2);
        let web = &inventory.containers[&100];
        assert_eq!(web.node, "pve1");
        assert_eq!(web.config.current.get("hostname"), Some("web"));
        assert!(web.running());
        assert!(inventory.containers[&101].resource.is_none());
        assert_eq!(inventory.used_ids.iter().copied().collect::<Vec<_>>(), vec![100, 101, 200]);
        assert_eq!(inventory.cluster_firewall.groups["web"].rules[0].dport.as_deref(), Some("80"));
        assert_eq!(inventory.container_firewalls[&100].rules[0].action, "web");
    }

    #[test]
    fn an_empty_cluster_is_an_empty_inventory() {
        let inventory = parse("\n\u{1e}RESOURCES\n[]\n").expect("parses");
        assert!(inventory.containers.is_empty());
        assert!(parse("garbage").is_err());
    }
}
