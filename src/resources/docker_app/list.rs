//! `list "lws_docker_app"` (plugin protocol 6.10, `terraform query`): the Docker apps of every
//! running container on the configured hosts (the LWS tool's layout, `/opt/lws/apps/<name>/`),
//! by region, zone, container and a name pattern, each as the resource reads it. Every
//! container asked costs a `pct exec`, and every app found another: narrow the list with the
//! filters on a large estate.

use std::sync::Arc;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{Diagnostics, ListResource, Listed};

use super::{state_from, DockerAppState, IDENTITY};
use crate::cloud::estate::InContainers;
use crate::cloud::Shared;
use crate::pve::docker;
use crate::tf::schema::config_schema;

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
    type Config<'a> = InContainers;
    type Object = DockerAppState;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "The Docker apps of every running container on the configured hosts that match the filters (`terraform query`). Each container asked costs one command inside it: narrow the list on a large estate.",
            InContainers::attributes("app"),
        ))
    }

    async fn list<'a>(
        &self,
        diags: &mut Diagnostics,
        config: InContainers,
        limit: usize,
    ) -> Vec<Listed<DockerAppState>> {
        let Some(cloud) = self.shared.cloud(diags) else { return Vec::new() };
        let mut found = Vec::new();
        for (container, placed) in config.containers(&cloud, diags).await {
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
                if !config.wants(&name) {
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
