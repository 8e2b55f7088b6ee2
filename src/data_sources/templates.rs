//! `lws_templates`: OS templates on a host's storage (`pveam list`), optionally filtered by a
//! regular expression on the file name; and, on request, what `pveam available` offers.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use crate::cloud::Shared;
use crate::pve::templates::{available, list};
use crate::tf::schema::{attributes, bool as boolean, computed, number, optional, optional_computed, string};
use crate::tf::{error_at, known, path};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TemplateInfo {
    pub volid: Value<String>,
    pub name: Value<String>,
    pub size_mb: Value<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AvailableInfo {
    pub name: Value<String>,
    pub section: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TemplatesState {
    pub region: Value<String>,
    pub az: Value<String>,
    pub storage: Value<String>,
    pub name_regex: Value<String>,
    pub include_available: Value<bool>,
    pub templates: Value<Vec<TemplateInfo>>,
    pub available: Value<Vec<AvailableInfo>>,
}

pub struct TemplatesDataSource {
    shared: Arc<Shared>,
}

impl TemplatesDataSource {
    pub fn new(shared: Arc<Shared>) -> Self {
        TemplatesDataSource { shared }
    }
}

fn compile(pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(pattern).map_err(|e| e.to_string())
}

#[async_trait]
impl DataSource for TemplatesDataSource {
    type State<'a> = TemplatesState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let template = attributes(vec![
            ("volid", computed(string(), "Volume id to use as `lws_container.template`.")),
            ("name", computed(string(), "File name.")),
            ("size_mb", computed(number(), "Size in MiB.")),
        ]);
        let offered = attributes(vec![
            ("name", computed(string(), "Template name (download with `pveam download <storage> <name>`).")),
            ("section", computed(string(), "`system`, `mail` or `turnkeylinux`.")),
        ]);
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown("OS templates on a host's storage, for `lws_container.template`."),
                attributes: attributes(vec![
                    ("region", optional_computed(string(), "Region (default: the provider's).")),
                    ("az", optional_computed(string(), "Availability zone (default: the region's first).")),
                    ("storage", optional_computed(string(), "Storage holding templates (default `local`).")),
                    (
                        "name_regex",
                        optional(string(), "Only templates whose file name matches this regular expression."),
                    ),
                    (
                        "include_available",
                        optional(boolean(), "Also list what `pveam available` offers for download (default `false`)."),
                    ),
                    (
                        "templates",
                        computed(AttributeType::AttributeList(template), "Templates on the storage, sorted by name."),
                    ),
                    (
                        "available",
                        computed(
                            AttributeType::AttributeList(offered),
                            "Downloadable templates (with `include_available`).",
                        ),
                    ),
                ]),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(pattern) = known(&config.name_regex) {
            if let Err(e) = compile(&pattern) {
                error_at(
                    diags,
                    path(&["name_regex"]),
                    "invalid name_regex",
                    format!("'{pattern}' is not a regular expression: {e}"),
                );
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let cloud = self.shared.cloud(diags)?;
        let region = match known(&config.region).or_else(|| cloud.default_region.clone()) {
            Some(r) => r,
            None => {
                error_at(
                    diags,
                    path(&["region"]),
                    "region is not set",
                    "set region here or a default region on the provider",
                );
                return None;
            }
        };
        let Some(zones) = cloud.zones(&region) else {
            error_at(
                diags,
                path(&["region"]),
                format!("unknown region '{region}'"),
                format!("configured regions: {}", cloud.region_names().join(", ")),
            );
            return None;
        };
        let az = known(&config.az).unwrap_or_else(|| zones[0].clone());
        let Some(host) = cloud.host(&region, &az) else {
            error_at(
                diags,
                path(&["az"]),
                format!("unknown availability zone '{az}'"),
                format!("zones of {region}: {}", zones.join(", ")),
            );
            return None;
        };
        let storage = known(&config.storage).unwrap_or_else(|| "local".to_owned());
        let filter = match known(&config.name_regex).map(|p| compile(&p)) {
            Some(Ok(re)) => Some(re),
            Some(Err(e)) => {
                error_at(diags, path(&["name_regex"]), "invalid name_regex", e);
                return None;
            }
            None => None,
        };
        let templates = match list(host.as_ref(), &storage).await {
            Ok(t) => t,
            Err(e) => {
                error_at(
                    diags,
                    path(&["storage"]),
                    format!("cannot list templates of storage '{storage}' on {region}/{az}"),
                    e.to_string(),
                );
                return None;
            }
        };
        let matches = |name: &str| filter.as_ref().is_none_or(|re| re.is_match(name));
        let mut infos: Vec<TemplateInfo> = templates
            .into_iter()
            .filter(|t| matches(&t.name))
            .map(|t| TemplateInfo {
                volid: Value::Value(t.volid),
                name: Value::Value(t.name),
                size_mb: Value::Value(t.size_mb),
            })
            .collect();
        infos.sort_by_key(|t| known(&t.name));
        let offered = if known(&config.include_available) == Some(true) {
            match available(host.as_ref()).await {
                Ok(list) => Value::Value(
                    list.into_iter()
                        .filter(|(_, name)| matches(name))
                        .map(|(section, name)| AvailableInfo {
                            name: Value::Value(name),
                            section: Value::Value(section),
                        })
                        .collect(),
                ),
                Err(e) => {
                    diags.root_error(format!("pveam available failed on {region}/{az}"), e.to_string());
                    return None;
                }
            }
        } else {
            Value::Value(vec![])
        };
        Some(TemplatesState {
            region: Value::Value(region),
            az: Value::Value(az),
            storage: Value::Value(storage),
            templates: Value::Value(infos),
            available: offered,
            ..config
        })
    }
}
