//! `lws_status`: live figures per host — CPU, memory, each storage's use, uptime, load, and
//! how many containers run or stand still (what the LWS tool's `px status` showed). An
//! unreachable host is reported as such, as `lws_hosts` does, unless `require_reachable = true`.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use crate::cloud::Host;
use crate::cloud::Shared;
use crate::pve::node::status_and_storages;
use crate::pve::PveError;
use crate::tf::known;
use crate::tf::schema::{attributes, bool as boolean, computed, number, optional, string};

use super::{check_az, check_region, hosts_in};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StorageInfo {
    pub name: Value<String>,
    #[serde(rename = "type")]
    pub kind: Value<String>,
    pub active: Value<bool>,
    pub shared: Value<bool>,
    pub used: Value<i64>,
    pub total: Value<i64>,
    pub available: Value<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HostStatus {
    pub region: Value<String>,
    pub az: Value<String>,
    pub node: Value<String>,
    pub reachable: Value<bool>,
    pub error: Value<String>,
    pub cpu_usage: Value<f64>,
    pub cpus: Value<i64>,
    pub memory_used: Value<i64>,
    pub memory_total: Value<i64>,
    pub uptime: Value<i64>,
    pub load_average: Value<Vec<f64>>,
    pub containers_running: Value<i64>,
    pub containers_stopped: Value<i64>,
    pub storages: Value<Vec<StorageInfo>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StatusState {
    pub region: Value<String>,
    pub az: Value<String>,
    pub require_reachable: Value<bool>,
    pub hosts: Value<Vec<HostStatus>>,
}

pub struct StatusDataSource {
    shared: Arc<Shared>,
}

impl StatusDataSource {
    pub fn new(shared: Arc<Shared>) -> Self {
        StatusDataSource { shared }
    }
}

async fn host_status(host: &Host) -> Result<HostStatus, PveError> {
    let node = host.node().await?;
    let (status, storages) = status_and_storages(host, &node).await?;
    let inventory = host.inventory().await?;
    let mine = inventory.containers.values().filter(|l| l.node == node);
    let (running, stopped) = mine.fold((0, 0), |(r, s), l| if l.running() { (r + 1, s) } else { (r, s + 1) });
    Ok(HostStatus {
        region: Value::Value(host.region.clone()),
        az: Value::Value(host.az.clone()),
        node: Value::Value(node),
        reachable: Value::Value(true),
        error: Value::Null,
        cpu_usage: status.cpu.map(Value::Value).unwrap_or(Value::Null),
        cpus: Value::Value(i64::from(status.cpuinfo.cpus)),
        memory_used: Value::Value(status.memory.used as i64),
        memory_total: Value::Value(status.memory.total as i64),
        uptime: Value::Value(status.uptime as i64),
        load_average: Value::Value(status.load_average.clone()),
        containers_running: Value::Value(running),
        containers_stopped: Value::Value(stopped),
        storages: Value::Value(
            storages
                .into_iter()
                .map(|s| StorageInfo {
                    name: Value::Value(s.storage),
                    kind: Value::Value(s.kind),
                    active: Value::Value(s.active == 1),
                    shared: Value::Value(s.shared == 1),
                    used: Value::Value(s.used as i64),
                    total: Value::Value(s.total as i64),
                    available: Value::Value(s.avail as i64),
                })
                .collect(),
        ),
    })
}

#[async_trait]
impl DataSource for StatusDataSource {
    type State<'a> = StatusState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let storage = attributes(vec![
            ("name", computed(string(), "Storage id.")),
            ("type", computed(string(), "Storage type (`dir`, `lvmthin`, `zfspool`, …).")),
            ("active", computed(boolean(), "Whether the storage is active.")),
            ("shared", computed(boolean(), "Whether the storage is shared by the cluster's nodes.")),
            ("used", computed(number(), "Bytes used.")),
            ("total", computed(number(), "Bytes in all.")),
            ("available", computed(number(), "Bytes free.")),
        ]);
        let host = attributes(vec![
            ("region", computed(string(), "Region.")),
            ("az", computed(string(), "Availability zone.")),
            ("node", computed(string(), "Proxmox node name (null when unreachable).")),
            ("reachable", computed(boolean(), "Whether the host answered; the figures are null when it did not.")),
            ("error", computed(string(), "Why the host could not be read, if it could not.")),
            ("cpu_usage", computed(number(), "CPU usage, 0 to 1.")),
            ("cpus", computed(number(), "Logical CPUs.")),
            ("memory_used", computed(number(), "Memory in use, bytes.")),
            ("memory_total", computed(number(), "Memory in all, bytes.")),
            ("uptime", computed(number(), "Seconds since boot.")),
            (
                "load_average",
                computed(AttributeType::List(Box::new(AttributeType::Number)), "1, 5 and 15 minute load averages."),
            ),
            ("containers_running", computed(number(), "Containers running on this node.")),
            ("containers_stopped", computed(number(), "Containers stopped on this node.")),
            ("storages", computed(AttributeType::AttributeList(storage), "The node's storages.")),
        ]);
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "Live status of each host: CPU, memory, storages, uptime, load and container counts. A host that does not answer is listed with `reachable = false` and its `error`, as `lws_hosts` lists it, unless `require_reachable = true`.",
                ),
                attributes: attributes(vec![
                    ("region", optional(string(), "Only hosts of this region.")),
                    ("az", optional(string(), "Only this availability zone.")),
                    (
                        "require_reachable",
                        optional(boolean(), "Fail instead of reporting unreachable hosts (default `false`)."),
                    ),
                    ("hosts", computed(AttributeType::AttributeList(host), "One entry per host, reachable or not.")),
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
        let (region, az) = (known(&config.region), known(&config.az));
        check_region(&cloud, region.as_deref(), diags)?;
        check_az(&cloud, region.as_deref(), az.as_deref(), diags)?;
        let hosts = hosts_in(&cloud, region.as_deref(), az.as_deref());
        let results = join_all(hosts.iter().map(|h| host_status(h))).await;
        let mut statuses = Vec::new();
        for (host, result) in hosts.iter().zip(results) {
            match result {
                Ok(status) => statuses.push(status),
                Err(e) if known(&config.require_reachable) == Some(true) => {
                    diags.root_error(format!("cannot read the status of {}/{}", host.region, host.az), e.to_string())
                }
                Err(e) => statuses.push(HostStatus {
                    region: Value::Value(host.region.clone()),
                    az: Value::Value(host.az.clone()),
                    reachable: Value::Value(false),
                    error: Value::Value(e.to_string()),
                    ..HostStatus::default()
                }),
            }
        }
        Some(StatusState { hosts: Value::Value(statuses), ..config })
    }
}
