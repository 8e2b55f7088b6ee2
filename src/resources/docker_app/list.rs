//! `list "lws_docker_app"` (plugin protocol 6.10, `terraform query`): the Docker apps of every
//! running container on the configured hosts (the LWS tool's layout, `/opt/lws/apps/<name>/`),
//! by region, zone, container and a name pattern, each as the resource reads it. Every
//! container asked costs a `pct exec`, and every app found another: narrow the list with the
//! filters on a large estate.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Diagnostics, ListResource, Listed};

use super::{state_from, DockerAppState, IDENTITY};
use crate::cloud::{estate, ContainerId, Shared};
use crate::pve::docker;
use crate::tf::schema::{config_schema, optional, string};
use crate::tf::{error_at, known, path};

/// The `config { … }` block of `list "lws_docker_app"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListConfig {
    pub region: Value<String>,
    pub az: Value<String>,
    pub container_id: Value<String>,
    pub name: Value<String>,
}

pub struct DockerAppList {
    shared: Arc<Shared>,
}

impl DockerAppList {
    pub fn new(shared: Arc<Shared>) -> Self {
        DockerAppList { shared }
    }
}

#[async_trait]
impl ListResource for DockerAppList {
    type Config<'a> = ListConfig;
    type Object = DockerAppState;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "The Docker apps of every running container on the configured hosts that match the filters (`terraform query`). Each container asked costs one command inside it: narrow the list on a large estate.",
            vec![
                ("region", optional(string(), "Only this region (default: every configured region).")),
                ("az", optional(string(), "Only this availability zone.")),
                ("container_id", optional(string(), "Only this container's apps, `<region>/<az>/<vmid>`.")),
                ("name", optional(string(), "Only app names matching this pattern (`*` any run, `?` one character).")),
            ],
        ))
    }

    async fn list<'a>(&self, diags: &mut Diagnostics, config: ListConfig, limit: usize) -> Vec<Listed<DockerAppState>> {
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
            // Nothing can be asked inside a stopped container.
            if !placed.listing.running() {
                continue;
            }
            let names = match docker::apps(placed.host.as_ref(), container.vmid).await {
                Ok(names) => names,
                Err(e) => {
                    diags.root_warning(format!("the apps of container {container} were not listed"), e.to_string());
                    continue;
                }
            };
            for name in names {
                if known(&config.name).is_some_and(|p| !crate::ssh::config_file::wildcard(&p, &name)) {
                    continue;
                }
                let deployed = match docker::inspect(placed.host.as_ref(), container.vmid, &name).await {
                    Ok(Some(deployed)) => deployed,
                    Ok(None) => continue,
                    Err(e) => {
                        diags.root_warning(format!("app {name} of container {container} was not read"), e.to_string());
                        continue;
                    }
                };
                let state = state_from(&deployed, &container, &name, &DockerAppState::default(), &[]);
                let Some(identity) = IDENTITY.of(&state.id) else { continue };
                found.push(Listed { identity, display_name: format!("{name} in {container}"), object: state });
                if limit > 0 && found.len() >= limit {
                    return found;
                }
            }
        }
        found
    }
}
