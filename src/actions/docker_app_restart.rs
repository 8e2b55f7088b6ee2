//! `lws_docker_app_restart`: restart every service of a Docker app (`docker compose restart`
//! inside its container).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Action, Diagnostics, Progress};

use super::find_container;
use crate::cloud::{ContainerId, Shared};
use crate::pve::docker;
use crate::tf::schema::{config_schema, required, string};
use crate::tf::{error_at, path};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RestartConfig {
    pub app_id: Value<String>,
}

pub struct DockerAppRestart {
    shared: Arc<Shared>,
}

impl DockerAppRestart {
    pub fn new(shared: Arc<Shared>) -> Self {
        DockerAppRestart { shared }
    }
}

fn check(config: &RestartConfig, diags: &mut Diagnostics) -> Option<(ContainerId, String)> {
    super::child_id(&config.app_id, "app_id", diags)
}

#[async_trait]
impl Action for DockerAppRestart {
    type Config<'a> = RestartConfig;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "Restart every service of a Docker app (`docker compose restart` in its container), e.g. after a configuration file it mounts changed.",
            vec![("app_id", required(string(), "The app, `<region>/<az>/<vmid>/<name>` (an `lws_docker_app`'s `id`)."))],
        ))
    }

    async fn plan<'a>(&self, diags: &mut Diagnostics, config: RestartConfig) {
        check(&config, diags);
    }

    async fn invoke<'a>(&self, diags: &mut Diagnostics, config: RestartConfig, progress: &Progress) {
        let Some((id, app)) = check(&config, diags) else { return };
        let Some(cloud) = self.shared.cloud(diags) else { return };
        let Some(found) = find_container(&cloud, diags, "app_id", &id).await else { return };
        if !found.listing.running() {
            error_at(
                diags,
                path(&["app_id"]),
                format!("container {id} is not running"),
                "start it first (lws_container_power)",
            );
            return;
        }
        progress.say(format!("restarting app '{app}' in container {id}"));
        match docker::restart(found.host.as_ref(), id.vmid, &app, Some(Duration::from_secs(600))).await {
            Ok(true) => progress.say(format!("app '{app}' restarted")),
            Ok(false) => error_at(diags, path(&["app_id"]), format!("container {id} has no app '{app}'"), ""),
            Err(e) => diags.root_error(format!("restarting app '{app}' in container {id} failed"), e.to_string()),
        }
    }
}
