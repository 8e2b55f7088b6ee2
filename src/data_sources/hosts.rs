//! `lws_hosts`: every configured host — region, zone, address, node name, whether it answers,
//! its Proxmox version. An unreachable host is reported as such, not as an error, unless
//! `require_reachable = true`.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use crate::cloud::Host;
use crate::cloud::Shared;
use crate::pve::cluster::version;
use crate::tf::known;
use crate::tf::schema::{attributes, bool as boolean, computed, number, optional, string};

use super::{check_region, hosts_in};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HostInfo {
    pub region: Value<String>,
    pub az: Value<String>,
    pub address: Value<String>,
    pub port: Value<i64>,
    pub user: Value<String>,
    pub node: Value<String>,
    pub reachable: Value<bool>,
    pub pve_version: Value<String>,
    pub error: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HostsState {
    pub region: Value<String>,
    pub require_reachable: Value<bool>,
    pub hosts: Value<Vec<HostInfo>>,
}

pub struct HostsDataSource {
    shared: Arc<Shared>,
}

impl HostsDataSource {
    pub fn new(shared: Arc<Shared>) -> Self {
        HostsDataSource { shared }
    }
}

async fn probe(host: &Host) -> HostInfo {
    let endpoint = host.remote().endpoint();
    let mut info = HostInfo {
        region: Value::Value(host.region.clone()),
        az: Value::Value(host.az.clone()),
        address: Value::Value(endpoint.address.clone()),
        port: Value::Value(i64::from(endpoint.port)),
        user: Value::Value(endpoint.user.clone()),
        node: Value::Null,
        reachable: Value::Value(false),
        pve_version: Value::Null,
        error: Value::Null,
    };
    match host.node().await {
        Ok(node) => {
            info.node = Value::Value(node);
            info.reachable = Value::Value(true);
            match version(host).await {
                Ok(v) => info.pve_version = Value::Value(v),
                Err(e) => info.error = Value::Value(e.to_string()),
            }
        }
        Err(e) => info.error = Value::Value(e.to_string()),
    }
    info
}

#[async_trait]
impl DataSource for HostsDataSource {
    type State<'a> = HostsState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let host = attributes(vec![
            ("region", computed(string(), "Region.")),
            ("az", computed(string(), "Availability zone.")),
            ("address", computed(string(), "Address the provider connects to.")),
            ("port", computed(number(), "SSH port.")),
            ("user", computed(string(), "SSH user.")),
            ("node", computed(string(), "Proxmox node name (null when unreachable).")),
            ("reachable", computed(boolean(), "Whether the host answered over SSH.")),
            ("pve_version", computed(string(), "`pve-manager` version, e.g. `8.4.1`.")),
            ("error", computed(string(), "Why the host is unreachable, if it is.")),
        ]);
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "Every configured Proxmox host, whether it answers, and its Proxmox version.",
                ),
                attributes: attributes(vec![
                    ("region", optional(string(), "Only hosts of this region.")),
                    (
                        "require_reachable",
                        optional(boolean(), "Fail instead of reporting unreachable hosts (default `false`)."),
                    ),
                    (
                        "hosts",
                        computed(AttributeType::AttributeList(host), "One entry per host, in region/zone order."),
                    ),
                ]),
                ..Block::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let cloud = self.shared.cloud(diags)?;
        let region = known(&config.region);
        check_region(&cloud, region.as_deref(), diags)?;
        let hosts = hosts_in(&cloud, region.as_deref(), None);
        let infos: Vec<HostInfo> = join_all(hosts.iter().map(|h| probe(h))).await;
        if known(&config.require_reachable) == Some(true) {
            for info in infos.iter().filter(|i| i.reachable == Value::Value(false)) {
                diags.root_error(
                    format!(
                        "host {}/{} is unreachable",
                        known(&info.region).unwrap_or_default(),
                        known(&info.az).unwrap_or_default()
                    ),
                    known(&info.error).unwrap_or_default(),
                );
            }
        }
        Some(HostsState { hosts: Value::Value(infos), ..config })
    }
}
