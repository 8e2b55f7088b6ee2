//! `list "lws_security_group"` (plugin protocol 6.10, `terraform query`): every security group
//! of the configured regions' cluster firewalls, by region and a name pattern, each as the
//! resource reads it.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Diagnostics, ListResource, Listed};

use super::{read, SecurityGroupState, IDENTITY};
use crate::cloud::locate::region_host;
use crate::cloud::{estate, Shared};
use crate::tf::known;
use crate::tf::schema::{config_schema, optional, string};

/// The `config { … }` block of `list "lws_security_group"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListConfig {
    pub region: Value<String>,
    pub name: Value<String>,
}

pub struct SecurityGroupList {
    shared: Arc<Shared>,
}

impl SecurityGroupList {
    pub fn new(shared: Arc<Shared>) -> Self {
        SecurityGroupList { shared }
    }
}

#[async_trait]
impl ListResource for SecurityGroupList {
    type Config<'a> = ListConfig;
    type Object = SecurityGroupState;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
        "Every security group of the configured regions' cluster firewalls that matches the filters (`terraform query`).",
        vec![
            ("region", optional(string(), "Only this region (default: every configured region).")),
            ("name", optional(string(), "Only names matching this pattern (`*` any run, `?` one character).")),
        ],
    ))
    }

    async fn list<'a>(
        &self,
        diags: &mut Diagnostics,
        config: ListConfig,
        limit: usize,
    ) -> Vec<Listed<SecurityGroupState>> {
        let Some(cloud) = self.shared.cloud(diags) else { return Vec::new() };
        let regions = estate::regions(&cloud, known(&config.region), diags);
        let mut found = Vec::new();
        for region in regions {
            let Some(host) = region_host(&cloud, &region) else { continue };
            let names: Vec<String> = match host.inventory().await {
                Ok(inventory) => inventory.cluster_firewall.groups.keys().cloned().collect(),
                Err(e) => {
                    diags.root_warning(format!("{region} was not listed"), e.to_string());
                    continue;
                }
            };
            for name in names {
                if known(&config.name).is_some_and(|p| !crate::ssh::config_file::wildcard(&p, &name)) {
                    continue;
                }
                let Ok(Some(state)) = read(&host, &region, &name, &SecurityGroupState::default()).await else {
                    continue;
                };
                let Some(identity) = IDENTITY.of(&state.id) else { continue };
                found.push(Listed { identity, display_name: format!("{name} ({region})"), object: state });
                if limit > 0 && found.len() >= limit {
                    return found;
                }
            }
        }
        found
    }
}
