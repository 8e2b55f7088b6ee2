//! `list "lws_snapshot"` (plugin protocol 6.10, `terraform query`): the snapshots of every
//! container on the configured hosts, by region, zone, container and a name pattern, each as the
//! resource reads it.

use std::sync::Arc;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{Diagnostics, ListResource, Listed};

use super::{state_of, SnapshotState, IDENTITY};
use crate::cloud::estate::InContainers;
use crate::cloud::Shared;
use crate::pve::snapshot;
use crate::tf::schema::config_schema;

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
    type Config<'a> = InContainers;
    type Object = SnapshotState;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "The snapshots of every container on the configured hosts that match the filters (`terraform query`).",
            InContainers::attributes("snapshot"),
        ))
    }

    async fn list<'a>(
        &self,
        diags: &mut Diagnostics,
        config: InContainers,
        limit: usize,
    ) -> Vec<Listed<SnapshotState>> {
        let Some(cloud) = self.shared.cloud(diags) else { return Vec::new() };
        let mut found = Vec::new();
        for (container, placed) in config.containers(&cloud, diags).await {
            for name in placed.listing.config.snapshots.keys() {
                if !config.wants(name) {
                    continue;
                }
                let Some(snap) = snapshot::find(&placed.listing.config, name) else { continue };
                if snap.snapstate.is_some() {
                    continue; // half taken or half removed: not a snapshot to list
                }
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
