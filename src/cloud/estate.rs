//! Every container of the configured zones, for what lists them all (`terraform query`): each
//! under the zone of its own node, once per cluster, read with one inventory per zone.

use std::collections::BTreeSet;
use std::sync::Arc;

use tf_provider::Diagnostics;

use super::{Cloud, Host};
use crate::pve::firewall_file::FirewallFile;
use crate::pve::inventory::Listing;

/// One container, where it lives.
pub struct Placed {
    pub region: String,
    pub az: String,
    pub host: Arc<Host>,
    pub listing: Listing,
    pub firewall: Option<FirewallFile>,
}

/// The regions a filter names (every configured one when `None`); an error naming the region
/// when it is not configured.
pub fn regions(cloud: &Cloud, wanted: Option<String>, diags: &mut Diagnostics) -> Vec<String> {
    match wanted {
        Some(region) if cloud.zones(&region).is_none() => {
            diags.root_error(
                format!("unknown region '{region}'"),
                format!("configured: {}", cloud.region_names().join(", ")),
            );
            Vec::new()
        }
        Some(region) => vec![region],
        None => cloud.region_names(),
    }
}

/// Every container of `regions` (and of zone `az` when given). A zone that cannot be read is a
/// warning naming it, and the others are still listed.
pub async fn containers(cloud: &Cloud, regions: &[String], az: Option<&str>, diags: &mut Diagnostics) -> Vec<Placed> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for region in regions {
        for zone in cloud.zones(region).unwrap_or_default() {
            if az.is_some_and(|want| want != zone) {
                continue;
            }
            let Some(host) = cloud.host(region, &zone) else { continue };
            let (node, inventory) = match (host.node().await, host.inventory().await) {
                (Ok(node), Ok(inventory)) => (node, inventory),
                (Err(e), _) | (_, Err(e)) => {
                    diags.root_warning(format!("{region}/{zone} was not listed"), e.to_string());
                    continue;
                }
            };
            let cluster = host.cluster_key().await.unwrap_or_default();
            // A cluster's inventory holds every node's containers: each is listed under the zone
            // of its own node only.
            for listing in inventory.containers.values().filter(|l| l.node == node) {
                if seen.insert((cluster.clone(), listing.vmid)) {
                    found.push(Placed {
                        region: region.clone(),
                        az: zone.clone(),
                        host: host.clone(),
                        listing: listing.clone(),
                        firewall: inventory.container_firewalls.get(&listing.vmid).cloned(),
                    });
                }
            }
        }
    }
    found
}

/// The `config { … }` of a list of things that live in containers (snapshots, apps): where to
/// look, and a pattern for their names.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct InContainers {
    pub region: tf_provider::value::Value<String>,
    pub az: tf_provider::value::Value<String>,
    pub container_id: tf_provider::value::Value<String>,
    pub name: tf_provider::value::Value<String>,
}

impl InContainers {
    /// The attributes of the block, for things called `what` (e.g. "snapshot").
    pub fn attributes(what: &str) -> Vec<(&'static str, tf_provider::schema::Attribute)> {
        use crate::tf::schema::{optional, string};
        vec![
            ("region", optional(string(), "Only this region (default: every configured region).")),
            ("az", optional(string(), "Only this availability zone.")),
            ("container_id", optional(string(), &format!("Only this container's {what}s, `<region>/<az>/<vmid>`."))),
            (
                "name",
                optional(
                    string(),
                    &format!("Only {what} names matching this pattern (`*` any run, `?` one character)."),
                ),
            ),
        ]
    }

    /// The containers to look in, each with its id; an error at `container_id` when it is not one.
    pub async fn containers(&self, cloud: &Cloud, diags: &mut Diagnostics) -> Vec<(super::ContainerId, Placed)> {
        use crate::tf::{error_at, known, path};
        let only = match known(&self.container_id).map(|id| id.parse::<super::ContainerId>()) {
            Some(Ok(id)) => Some(id),
            Some(Err(e)) => {
                error_at(diags, path(&["container_id"]), "invalid container_id", e);
                return Vec::new();
            }
            None => None,
        };
        let region = known(&self.region).or_else(|| only.as_ref().map(|id| id.region.clone()));
        let regions = regions(cloud, region, diags);
        containers(cloud, &regions, known(&self.az).as_deref(), diags)
            .await
            .into_iter()
            .map(|placed| {
                let id = super::ContainerId {
                    region: placed.region.clone(),
                    az: placed.az.clone(),
                    vmid: placed.listing.vmid,
                };
                (id, placed)
            })
            .filter(|(id, _)| only.as_ref().is_none_or(|o| o.region == id.region && o.vmid == id.vmid))
            .collect()
    }

    /// Whether `name` passes the `name` pattern.
    pub fn wants(&self, name: &str) -> bool {
        crate::tf::known(&self.name).is_none_or(|pattern| crate::ssh::config_file::wildcard(&pattern, name))
    }
}
