//! `lws_container_power`: start, stop, shut down (cleanly, within a timeout) or reboot a
//! container — `pct start|stop|shutdown|reboot` on its node.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Action, Diagnostics, Progress};

use super::find_container;
use crate::cloud::{ContainerId, Shared};
use crate::pve::lxc;
use crate::tf::schema::{config_schema, number, optional, required, string};
use crate::tf::{error_at, known, path};

const OPERATIONS: [&str; 4] = ["start", "stop", "shutdown", "reboot"];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PowerConfig {
    pub container_id: Value<String>,
    pub operation: Value<String>,
    pub timeout: Value<i64>,
}

pub struct ContainerPower {
    shared: Arc<Shared>,
}

impl ContainerPower {
    pub fn new(shared: Arc<Shared>) -> Self {
        ContainerPower { shared }
    }
}

fn check(config: &PowerConfig, diags: &mut Diagnostics) -> Option<(ContainerId, String)> {
    let id = super::container_id(&config.container_id, diags)?;
    let operation = known(&config.operation)?;
    if !OPERATIONS.contains(&operation.as_str()) {
        error_at(
            diags,
            path(&["operation"]),
            format!("unknown operation '{operation}'"),
            format!("one of {}", OPERATIONS.join(", ")),
        );
        return None;
    }
    if known(&config.timeout).is_some_and(|t| !(1..=86_400).contains(&t)) {
        error_at(diags, path(&["timeout"]), "invalid timeout", "seconds, from 1 to 86400");
        return None;
    }
    Some((id, operation))
}

#[async_trait]
impl Action for ContainerPower {
    type Config<'a> = PowerConfig;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "Start, stop, shut down or reboot a container (`pct start|stop|shutdown|reboot`). Terraform's state is not changed: a container whose `started` says otherwise shows up as drift on the next plan.",
            vec![
                ("container_id", required(string(), "The container, `<region>/<az>/<vmid>` (an `lws_container`'s `id`).")),
                ("operation", required(string(), "`start`, `stop` (at once), `shutdown` (clean, within `timeout`, then stopped) or `reboot` (clean stop within `timeout`, then start).")),
                ("timeout", optional(number(), "Seconds a `shutdown` or `reboot` waits for the container to stop cleanly (default 60, as Proxmox).")),
            ],
        ))
    }

    async fn plan<'a>(&self, diags: &mut Diagnostics, config: PowerConfig) {
        check(&config, diags);
    }

    async fn invoke<'a>(&self, diags: &mut Diagnostics, config: PowerConfig, progress: &Progress) {
        let Some((id, operation)) = check(&config, diags) else { return };
        let Some(cloud) = self.shared.cloud(diags) else { return };
        let Some(found) = find_container(&cloud, diags, "container_id", &id).await else { return };
        let running = found.listing.running();
        let timeout = known(&config.timeout).map(|t| t as u64);
        // Room for Proxmox's own timeout and its task around it.
        let limit = Some(Duration::from_secs(timeout.unwrap_or(60) + 60));
        let host = found.host.as_ref();
        let result = match operation.as_str() {
            "start" if running => {
                progress.say(format!("container {id} is already running"));
                Ok(())
            }
            "stop" | "shutdown" if !running => {
                progress.say(format!("container {id} is already stopped"));
                Ok(())
            }
            "start" => {
                progress.say(format!("starting container {id}"));
                lxc::start(host, id.vmid, limit).await
            }
            "stop" => {
                progress.say(format!("stopping container {id}"));
                lxc::stop(host, id.vmid, limit).await
            }
            "shutdown" => {
                progress.say(format!("shutting container {id} down (up to {}s)", timeout.unwrap_or(60)));
                lxc::shutdown(host, id.vmid, timeout, limit).await
            }
            _ => {
                progress.say(format!("rebooting container {id}"));
                lxc::reboot(host, id.vmid, timeout, limit).await
            }
        };
        found.host.forget(id.vmid).await;
        match result {
            Ok(()) => progress.say(format!("container {id}: {operation} done")),
            Err(e) => diags.root_error(format!("{operation} of container {id} failed"), e.to_string()),
        }
    }
}
