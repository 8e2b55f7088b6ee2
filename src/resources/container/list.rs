//! `list "lws_container"` (plugin protocol 6.10, `terraform query`, Terraform ≥ 1.14): every
//! container on the configured hosts, filtered by region, zone, tags, hostname pattern and power
//! state, each with its identity and, when Terraform asks, its state as the resource reads it —
//! the bulk adoption path: `terraform query -generate-config-out=adopt.tf`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Diagnostics, ListResource, Listed};

use super::state::ContainerState;
use super::{read, IDENTITY};
use crate::cloud::{estate, Shared};
use crate::tf::schema::{config_schema, optional, set_of_strings, string};
use crate::tf::{known, Set};

/// The `config { … }` block of `list "lws_container"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListConfig {
    pub region: Value<String>,
    pub az: Value<String>,
    pub tags: Set<String>,
    pub hostname: Value<String>,
    pub status: Value<String>,
}

pub struct ContainerList {
    shared: Arc<Shared>,
}

impl ContainerList {
    pub fn new(shared: Arc<Shared>) -> Self {
        ContainerList { shared }
    }
}

fn schema() -> Schema {
    config_schema(
        "Every container on the configured hosts that matches all the filters given (`terraform query`).",
        vec![
            ("region", optional(string(), "Only this region (default: every configured region).")),
            ("az", optional(string(), "Only this availability zone.")),
            ("tags", optional(set_of_strings(), "Only containers that have all these tags.")),
            ("hostname", optional(string(), "Only hostnames matching this pattern (`*` any run, `?` one character).")),
            ("status", optional(string(), "Only `running` or only `stopped` containers.")),
        ],
    )
}

#[async_trait]
impl ListResource for ContainerList {
    type Config<'a> = ListConfig;
    type Object = ContainerState;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn list<'a>(&self, diags: &mut Diagnostics, config: ListConfig, limit: usize) -> Vec<Listed<ContainerState>> {
        let Some(cloud) = self.shared.cloud(diags) else { return Vec::new() };
        let status = known(&config.status);
        if status.as_deref().is_some_and(|s| s != "running" && s != "stopped") {
            diags.root_error("invalid status filter", "status is `running` or `stopped`");
            return Vec::new();
        }
        let wanted_tags: Vec<String> =
            known(&config.tags).map(|t| t.iter().filter_map(known).collect()).unwrap_or_default();
        let regions = estate::regions(&cloud, known(&config.region), diags);
        let mut found = Vec::new();
        for placed in estate::containers(&cloud, &regions, known(&config.az).as_deref(), diags).await {
            let listing = &placed.listing;
            if status.as_deref().is_some_and(|s| (s == "running") != listing.running()) {
                continue;
            }
            let state = match read::state_from_listing(
                listing,
                placed.firewall.as_ref(),
                &placed.host,
                &placed.region,
                &placed.az,
                &ContainerState::default(),
            )
            .await
            {
                Ok(state) => state,
                Err(e) => {
                    diags.root_warning(format!("container {} is left out", listing.vmid), e);
                    continue;
                }
            };
            let hostname = known(&state.hostname).unwrap_or_default();
            if known(&config.hostname).is_some_and(|p| !crate::ssh::config_file::wildcard(&p, &hostname)) {
                continue;
            }
            let tags: Vec<String> =
                known(&state.tags).map(|t| t.iter().filter_map(known).collect()).unwrap_or_default();
            if !wanted_tags.iter().all(|t| tags.contains(t)) {
                continue;
            }
            let Some(identity) = IDENTITY.of(&state.id) else { continue };
            let display_name = format!("{hostname} ({})", known(&state.id).unwrap_or_default());
            found.push(Listed { identity, display_name, object: state });
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
        found
    }
}
