//! `lws_container` (data source): look one container up by `id`, by `vmid`, or by `hostname`,
//! and read what Proxmox reports about it — the same attributes the resource reads.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use crate::cloud::locate::locate;
use crate::cloud::Shared;
use crate::cloud::{Cloud, ContainerId};
use crate::resources::container::read::state_from_listing;
use crate::resources::container::state::{ContainerState, FeaturesState, NetworkState};
use crate::tf::schema::{attributes, bool as boolean, computed, number, optional_computed, set_of_strings, string};
use crate::tf::{error_at, known, path, List, Set};

use super::{check_region, hosts_in};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerInfo {
    pub id: Value<String>,
    pub region: Value<String>,
    pub az: Value<String>,
    pub vmid: Value<i64>,
    pub hostname: Value<String>,
    pub node: Value<String>,
    pub memory: Value<i64>,
    pub cores: Value<i64>,
    pub cpulimit: Value<f64>,
    pub swap: Value<i64>,
    pub disk_size: Value<i64>,
    pub storage: Value<String>,
    pub network: Value<Vec<NetworkState>>,
    pub nameserver: Value<String>,
    pub unprivileged: Value<bool>,
    pub features: Value<FeaturesState>,
    pub start_on_boot: Value<bool>,
    pub tags: Set<String>,
    pub description: Value<String>,
    pub security_groups: List<String>,
    pub status: Value<String>,
    pub ipv4_address: Value<String>,
    pub mac_address: Value<String>,
}

impl From<ContainerState> for ContainerInfo {
    fn from(s: ContainerState) -> Self {
        ContainerInfo {
            id: s.id,
            region: s.region,
            az: s.az,
            vmid: s.vmid,
            hostname: s.hostname,
            node: s.node,
            memory: s.memory,
            cores: s.cores,
            cpulimit: s.cpulimit,
            swap: s.swap,
            disk_size: s.disk_size,
            storage: s.storage,
            network: s.network,
            nameserver: s.nameserver,
            unprivileged: s.unprivileged,
            features: s.features,
            start_on_boot: s.start_on_boot,
            tags: s.tags,
            description: s.description,
            security_groups: s.security_groups,
            status: s.status,
            ipv4_address: s.ipv4_address,
            mac_address: s.mac_address,
        }
    }
}

pub struct ContainerDataSource {
    shared: Arc<Shared>,
}

impl ContainerDataSource {
    pub fn new(shared: Arc<Shared>) -> Self {
        ContainerDataSource { shared }
    }
}

/// A container found: where, and its id.
struct Found {
    region: String,
    az: String,
    vmid: u32,
}

async fn search(cloud: &Cloud, region: Option<&str>, matches: impl Fn(u32, &str) -> bool) -> Vec<Found> {
    let mut found = Vec::new();
    let mut seen_clusters = Vec::new();
    for host in hosts_in(cloud, region, None) {
        let Ok(key) = host.cluster_key().await else { continue };
        if seen_clusters.contains(&key) {
            continue;
        }
        seen_clusters.push(key);
        let Ok(inventory) = host.inventory().await else { continue };
        for listing in inventory.containers.values() {
            // A config that cannot be read still has a name: the file's `hostname` line.
            let hostname = listing.config.current.get("hostname").map(str::to_owned);
            let hostname = hostname.unwrap_or_else(|| format!("CT{}", listing.vmid));
            if !matches(listing.vmid, &hostname) {
                continue;
            }
            // `locate` then finds the zone whose node holds it.
            found.push(Found { region: host.region.clone(), az: host.az.clone(), vmid: listing.vmid });
        }
    }
    found
}

#[async_trait]
impl DataSource for ContainerDataSource {
    type State<'a> = ContainerInfo;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let network = attributes(vec![
            ("name", computed(string(), "Interface name.")),
            ("bridge", computed(string(), "Host bridge.")),
            ("ip", computed(string(), "`dhcp`, `manual` or address/prefix.")),
            ("gateway", computed(string(), "IPv4 gateway.")),
            ("vlan", computed(number(), "VLAN tag.")),
            ("firewall", computed(boolean(), "Whether the Proxmox firewall filters this interface.")),
            ("mac_address", computed(string(), "MAC address.")),
        ]);
        let features = attributes(vec![
            ("nesting", computed(boolean(), "Nested containers allowed.")),
            ("keyctl", computed(boolean(), "keyctl() allowed.")),
            ("fuse", computed(boolean(), "FUSE allowed.")),
        ]);
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "Look up one container by `id`, `vmid` or `hostname` (exactly one).",
                ),
                attributes: attributes(vec![
                    ("id", optional_computed(string(), "`<region>/<az>/<vmid>`.")),
                    ("vmid", optional_computed(number(), "VMID; must be unique among the searched clusters.")),
                    ("hostname", optional_computed(string(), "Hostname; must match exactly one container.")),
                    ("region", optional_computed(string(), "Search only this region (with `vmid` or `hostname`).")),
                    ("az", computed(string(), "Availability zone whose node holds the container.")),
                    ("node", computed(string(), "Proxmox node.")),
                    ("memory", computed(number(), "Memory in MiB.")),
                    ("cores", computed(number(), "CPU cores (null: all of the host's).")),
                    ("cpulimit", computed(number(), "CPU limit (null: none).")),
                    ("swap", computed(number(), "Swap in MiB.")),
                    ("disk_size", computed(number(), "Root disk in GiB.")),
                    ("storage", computed(string(), "Storage of the root disk.")),
                    ("network", computed(AttributeType::AttributeList(network), "Network interfaces.")),
                    ("nameserver", computed(string(), "DNS servers.")),
                    ("unprivileged", computed(boolean(), "Whether the container is unprivileged.")),
                    ("features", computed(AttributeType::AttributeSingle(features), "Container features.")),
                    ("start_on_boot", computed(boolean(), "Started when the host boots.")),
                    ("tags", computed(set_of_strings(), "Tags.")),
                    ("description", computed(string(), "Description.")),
                    (
                        "security_groups",
                        computed(
                            AttributeType::List(Box::new(AttributeType::String)),
                            "Security groups its firewall uses.",
                        ),
                    ),
                    ("status", computed(string(), "`running` or `stopped`.")),
                    ("ipv4_address", computed(string(), "IPv4 address of the first interface.")),
                    ("mac_address", computed(string(), "MAC address of the first interface.")),
                ]),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        let given =
            [!config.id.is_null(), !config.vmid.is_null(), !config.hostname.is_null()].iter().filter(|g| **g).count();
        if given != 1 {
            error_at(
                diags,
                path(&["id"]),
                "give exactly one of id, vmid, hostname",
                "the container is looked up by one of them",
            );
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let cloud = self.shared.cloud(diags)?;
        let region = known(&config.region);
        check_region(&cloud, region.as_deref(), diags)?;
        let found = if let Some(id) = known(&config.id) {
            match id.parse::<ContainerId>() {
                Ok(id) => vec![Found { region: id.region, az: id.az, vmid: id.vmid }],
                Err(e) => {
                    error_at(diags, path(&["id"]), "invalid id", e);
                    return None;
                }
            }
        } else if let Some(vmid) = known(&config.vmid) {
            search(&cloud, region.as_deref(), |id, _| i64::from(id) == vmid).await
        } else {
            let wanted = known(&config.hostname).unwrap_or_default();
            search(&cloud, region.as_deref(), |_, name| name == wanted).await
        };
        let what = known(&config.id)
            .or(known(&config.vmid).map(|v| format!("VMID {v}")))
            .or(known(&config.hostname).map(|h| format!("hostname '{h}'")))
            .unwrap_or_default();
        let place = match found.as_slice() {
            [one] => one,
            [] => {
                diags.root_error(format!("no container with {what}"), "searched the configured hosts");
                return None;
            }
            many => {
                let ids: Vec<String> = many.iter().map(|f| format!("{}/{}/{}", f.region, f.az, f.vmid)).collect();
                diags.root_error(
                    format!("{} containers match {what}", many.len()),
                    format!("look one up by id: {}", ids.join(", ")),
                );
                return None;
            }
        };
        // Where the container is now (its id may name the zone it was migrated from), read on
        // its own node.
        let id = ContainerId { region: place.region.clone(), az: place.az.clone(), vmid: place.vmid };
        let located = match locate(&cloud, &id, false).await {
            Ok(Some(located)) => located,
            Ok(None) => {
                diags.root_error(format!("container {} does not exist in region {}", place.vmid, place.region), "");
                return None;
            }
            Err(e) => {
                diags.root_error(format!("cannot read container {}", place.vmid), e);
                return None;
            }
        };
        let firewall = match located.host.inventory().await {
            Ok(inventory) => inventory.container_firewalls.get(&place.vmid).cloned(),
            Err(e) => {
                diags.root_error(format!("cannot read {}/{}", place.region, located.az), e.to_string());
                return None;
            }
        };
        let state = state_from_listing(
            &located.listing,
            firewall.as_ref(),
            &located.host,
            &place.region,
            &located.az,
            &ContainerState::default(),
        )
        .await;
        let state = match state {
            Ok(state) => state,
            Err(e) => {
                diags.root_error(format!("cannot read container {}", place.vmid), e);
                return None;
            }
        };
        let mut info = ContainerInfo::from(state);
        // An `id` given stays as written (Terraform keeps configured values); `az` says where
        // the container is now.
        if let Some(id) = known(&config.id) {
            info.id = Value::Value(id);
        }
        Some(info)
    }
}
