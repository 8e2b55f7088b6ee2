//! The provider: its configuration block, and `configure`, which reads the LWS config file,
//! merges the inline settings over it, validates everything (each problem a diagnostic naming
//! its attribute) and builds the [`Cloud`] every resource and data source uses. No host is
//! contacted here: connections open when a resource first needs its host.

pub mod config;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::ValueEmpty;
use tf_provider::{Diagnostics, DynamicAction, DynamicDataSource, DynamicListResource, DynamicResource, Provider};

use crate::cloud::settings::{merge, parse_file, validate, Settings};
use crate::cloud::{Cloud, Shared};
use crate::resources;
use crate::tf::path_of;
use config::ProviderConfig;

/// The warning for host keys that are not checked.
const UNCHECKED: (&str, &str) = (
    "host keys are not verified for hosts without a host_key pin",
    "ssh.strict_host_key_checking = false (or StrictHostKeyChecking no in ssh_config) accepts any key these hosts present, a changed one included, so anyone on the network path can impersonate them. Pin them with host_key, or list them in known_hosts and drop the setting.",
);

pub struct LwsProvider {
    shared: Arc<Shared>,
}

impl LwsProvider {
    pub fn new() -> Self {
        LwsProvider { shared: Arc::new(Shared::default()) }
    }
}

impl Default for LwsProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Provider for LwsProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        config::validate(&config, diags);
        // Said here too: Terraform shows the warnings of validation on every plan and apply,
        // not always those of `configure`.
        if matches!(&config.ssh, tf_provider::value::Value::Value(ssh) if ssh.strict_host_key_checking == tf_provider::value::Value::Value(false))
        {
            diags.root_warning(UNCHECKED.0, UNCHECKED.1);
        }
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        tracing::debug!(%terraform_version, "configuring the lws provider");
        config::validate(&config, diags);
        let file = match config::config_file(&config) {
            Some(path) => match parse_file(&path) {
                Ok(settings) => settings,
                Err(problems) => {
                    for problem in problems {
                        diags.error("Invalid LWS configuration file", problem.message, path_of(&problem.attribute));
                    }
                    return Some(());
                }
            },
            None => Settings::default(),
        };
        let inline = config::inline_settings(&config, diags);
        let merged = merge(file, inline);
        for key in &merged.ignored_keys {
            tracing::debug!(key, "LWS config key accepted and not used by the provider");
        }
        match validate(merged, config::default_region(&config), config::ssh_overrides(&config)) {
            Ok(spec) => {
                // Verification off is a choice to make knowingly, and to see on every run: a pin
                // (`host_key`) is still enforced, but anything else is accepted, a changed key too.
                let unchecked: Vec<String> = spec
                    .hosts
                    .iter()
                    .filter(|h| {
                        matches!(
                            h.host_key,
                            crate::ssh::HostKeyPolicy::AcceptAny | crate::ssh::HostKeyPolicy::Unchecked(_)
                        )
                    })
                    .map(|h| format!("{}/{}", h.region, h.az))
                    .collect();
                if !unchecked.is_empty() {
                    diags.root_warning(format!("host keys are not verified for {}", unchecked.join(", ")), UNCHECKED.1);
                }
                if diags.errors.is_empty() {
                    self.shared.set(Cloud::new(spec));
                }
            }
            Err(problems) => {
                for problem in problems {
                    diags.error("Invalid LWS configuration", problem.message, path_of(&problem.attribute));
                }
            }
        }
        Some(())
    }

    fn get_resources(&self, _diags: &mut Diagnostics) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        Some(resources::all(&self.shared))
    }

    fn get_data_sources(&self, _diags: &mut Diagnostics) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        Some(crate::data_sources::all(&self.shared))
    }

    fn get_list_resources(&self, _diags: &mut Diagnostics) -> Option<HashMap<String, Box<dyn DynamicListResource>>> {
        Some(resources::lists(&self.shared))
    }

    fn get_actions(&self, _diags: &mut Diagnostics) -> Option<HashMap<String, Box<dyn DynamicAction>>> {
        Some(crate::actions::all(&self.shared))
    }
}
