//! `lws_snapshot_rollback`: roll a container back to one of its snapshots (`pct rollback`),
//! optionally starting it afterwards.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Action, Diagnostics, Progress};

use super::find_container;
use crate::cloud::{ContainerId, Shared};
use crate::pve::snapshot;
use crate::tf::schema::{bool as boolean, config_schema, optional, required, string};
use crate::tf::{error_at, known, path};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RollbackConfig {
    pub snapshot_id: Value<String>,
    pub start: Value<bool>,
}

pub struct SnapshotRollback {
    shared: Arc<Shared>,
}

impl SnapshotRollback {
    pub fn new(shared: Arc<Shared>) -> Self {
        SnapshotRollback { shared }
    }
}

fn check(config: &RollbackConfig, diags: &mut Diagnostics) -> Option<(ContainerId, String)> {
    super::child_id(&config.snapshot_id, "snapshot_id", diags)
}

#[async_trait]
impl Action for SnapshotRollback {
    type Config<'a> = RollbackConfig;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "Roll a container back to a snapshot (`pct rollback`): its disk and configuration become the snapshot's, and what changed since is lost. Proxmox stops a running container first.",
            vec![
                ("snapshot_id", required(string(), "The snapshot, `<region>/<az>/<vmid>/<name>` (an `lws_snapshot`'s `id`).")),
                ("start", optional(boolean(), "Start the container after the rollback (default `false`, as Proxmox).")),
            ],
        ))
    }

    async fn plan<'a>(&self, diags: &mut Diagnostics, config: RollbackConfig) {
        check(&config, diags);
    }

    async fn invoke<'a>(&self, diags: &mut Diagnostics, config: RollbackConfig, progress: &Progress) {
        let Some((id, name)) = check(&config, diags) else { return };
        let Some(cloud) = self.shared.cloud(diags) else { return };
        let Some(found) = find_container(&cloud, diags, "snapshot_id", &id).await else { return };
        if snapshot::find(&found.listing.config, &name).is_none() {
            error_at(diags, path(&["snapshot_id"]), format!("container {id} has no snapshot '{name}'"), "");
            return;
        }
        let start = known(&config.start).unwrap_or(false);
        progress.say(format!("rolling container {id} back to snapshot '{name}'"));
        let result =
            snapshot::rollback(found.host.as_ref(), id.vmid, &name, start, Some(Duration::from_secs(600))).await;
        found.host.forget(id.vmid).await;
        match result {
            Ok(()) => {
                progress.say(format!("container {id} is at snapshot '{name}'{}", if start { ", started" } else { "" }))
            }
            Err(e) => diags.root_error(format!("rolling container {id} back to '{name}' failed"), e.to_string()),
        }
    }
}
