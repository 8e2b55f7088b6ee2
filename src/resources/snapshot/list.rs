//! `list "lws_snapshot"` (plugin protocol 6.10, `terraform query`): the snapshots of every
//! container on the configured hosts, by region, zone, container and a name pattern, each as the
//! resource reads it.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Diagnostics, ListResource, Listed};

use super::{state_of, SnapshotState, IDENTITY};
use crate::cloud::{estate, ContainerId, Shared};
use crate::pve::snapshot;
use crate::tf::schema::{config_schema, optional, string};
use crate::tf::{error_at, known, path};

/// The `config { … }` block of `list "lws_snapshot"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListConfig {
    pub region: Value<String>,
    pub az: Value<String>,
    pub container_id: Value<String>,
    pub name: Value<String>,
}

pub struct SnapshotList {
    shared: Arc<Shared>,
}

impl SnapshotList {
    pub fn new(shared: Arc<Shared>) -> Self {
        SnapshotList { shared }
    }
}

#[async_trait]
impl ListResource for SnapshotList {
    type Config<'a> = ListConfig;
    type Object = SnapshotState;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "The snapshots of every container on the configured hosts that match the filters (`terraform query`).",
            vec![
                ("region", optional(string(), "Only this region (default: every configured region).")),
                ("az", optional(string(), "Only this availability zone.")),
                ("container_id", optional(string(), "Only this container's snapshots, `<region>/<az>/<vmid>`.")),
                ("name", optional(string(), "Only names matching this pattern (`*` any run, `?` one character).")),
            ],
        ))
    }

    async fn list<'a>(&self, diags: &mut Diagnostics, config: ListConfig, limit: usize) -> Vec<Listed<SnapshotState>> {
        let Some(cloud) = self.shared.cloud(diags) else { return Vec::new() };
        let only = match known(&config.container_id).map(|id| id.parse::<ContainerId>()) {
            Some(Ok(id)) => Some(id),
            Some(Err(e)) => {
                error_at(diags, path(&["container_id"]), "invalid container_id", e);
                return Vec::new();
            }
            None => None,
        };
        let region = known(&config.region).or_else(|| only.as_ref().map(|id| id.region.clone()));
        let regions = estate::regions(&cloud, region, diags);
        let mut found = Vec::new();
        for placed in estate::containers(&cloud, &regions, known(&config.az).as_deref(), diags).await {
            let container =
                ContainerId { region: placed.region.clone(), az: placed.az.clone(), vmid: placed.listing.vmid };
            if only.as_ref().is_some_and(|id| id.region != container.region || id.vmid != container.vmid) {
                continue;
            }
            for name in placed.listing.config.snapshots.keys() {
                if known(&config.name).is_some_and(|p| !crate::ssh::config_file::wildcard(&p, name)) {
                    continue;
                }
                let Some(snap) = snapshot::find(&placed.listing.config, name) else { continue };
                let state = state_of(&container, snap, &SnapshotState::default());
                let Some(identity) = IDENTITY.of(&state.id) else { continue };
                found.push(Listed { identity, display_name: format!("{name} of {container}"), object: state });
                if limit > 0 && found.len() >= limit {
                    return found;
                }
            }
        }
        found
    }
}
