//! `lws_clusters`: the Proxmox clusters behind the configured hosts — name, quorum (from
//! `pvecm status`), nodes with their online state, and which availability zones they serve.
//! A host outside any cluster is reported as a standalone "cluster" of one node.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use crate::cloud::Shared;
use crate::pve::cluster::{self, quorum};
use crate::tf::known;
use crate::tf::schema::{attributes, bool as boolean, computed, list_of_strings, number, optional, string};

use super::{check_region, hosts_in};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NodeInfo {
    pub name: Value<String>,
    pub id: Value<i64>,
    pub online: Value<bool>,
    pub ip: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ClusterInfo {
    pub name: Value<String>,
    pub standalone: Value<bool>,
    pub quorate: Value<bool>,
    pub expected_votes: Value<i64>,
    pub total_votes: Value<i64>,
    pub availability_zones: Value<Vec<String>>,
    pub nodes: Value<Vec<NodeInfo>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ClustersState {
    pub region: Value<String>,
    pub clusters: Value<Vec<ClusterInfo>>,
    pub unreachable: Value<Vec<String>>,
}

pub struct ClustersDataSource {
    shared: Arc<Shared>,
}

impl ClustersDataSource {
    pub fn new(shared: Arc<Shared>) -> Self {
        ClustersDataSource { shared }
    }
}

#[async_trait]
impl DataSource for ClustersDataSource {
    type State<'a> = ClustersState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let node = attributes(vec![
            ("name", computed(string(), "Node name.")),
            ("id", computed(number(), "Corosync node id (0 on a standalone host).")),
            ("online", computed(boolean(), "Whether the node is online.")),
            ("ip", computed(string(), "The node's cluster address.")),
        ]);
        let cluster = attributes(vec![
            ("name", computed(string(), "Cluster name (`standalone:<region>/<az>` for a host outside any cluster).")),
            ("standalone", computed(boolean(), "A single host without a cluster.")),
            ("quorate", computed(boolean(), "Whether the cluster has quorum (always true when standalone).")),
            ("expected_votes", computed(number(), "Votes expected by corosync.")),
            ("total_votes", computed(number(), "Votes present.")),
            (
                "availability_zones",
                computed(list_of_strings(), "Configured zones (`region/az`) served by this cluster."),
            ),
            ("nodes", computed(AttributeType::AttributeList(node), "Nodes of the cluster.")),
        ]);
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "The Proxmox clusters behind the configured hosts, with quorum and node states.",
                ),
                attributes: attributes(vec![
                    ("region", optional(string(), "Only clusters serving this region.")),
                    (
                        "clusters",
                        computed(AttributeType::AttributeList(cluster), "One entry per cluster (or standalone host)."),
                    ),
                    (
                        "unreachable",
                        computed(
                            list_of_strings(),
                            "Zones (`region/az`) whose host did not answer, so whose cluster is unknown.",
                        ),
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
        let mut clusters: Vec<(String, ClusterInfo)> = Vec::new();
        let mut unreachable = Vec::new();
        for host in hosts_in(&cloud, region.as_deref(), None) {
            let zone = format!("{}/{}", host.region, host.az);
            let (key, facts) = match (host.cluster_key().await, host.facts().await) {
                (Ok(key), Ok(facts)) => (key, facts.clone()),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::debug!(%zone, error = %e, "host unreachable; its cluster is unknown");
                    unreachable.push(zone);
                    continue;
                }
            };
            if let Some((_, existing)) = clusters.iter_mut().find(|(k, _)| *k == key) {
                if let Value::Value(zones) = &mut existing.availability_zones {
                    zones.push(zone);
                }
                continue;
            }
            let standalone = facts.cluster.name.is_none();
            let votes = if standalone {
                None
            } else {
                match quorum(host.as_ref()).await {
                    Ok(q) => q,
                    Err(e) => {
                        diags.root_error(format!("pvecm status failed on {zone}"), e.to_string());
                        return None;
                    }
                }
            };
            // The API's view of the nodes (it knows a standalone node's address too).
            let listed = match cluster::status(host.as_ref()).await {
                Ok(status) => status.nodes,
                Err(e) => {
                    diags.root_error(format!("pvesh get /cluster/status failed on {zone}"), e.to_string());
                    return None;
                }
            };
            let nodes = listed
                .iter()
                .map(|n| NodeInfo {
                    name: Value::Value(n.name.clone()),
                    id: Value::Value(i64::from(n.id)),
                    online: Value::Value(n.online),
                    ip: n.ip.clone().map(Value::Value).unwrap_or(Value::Null),
                })
                .collect();
            let info = ClusterInfo {
                name: Value::Value(facts.cluster.name.clone().unwrap_or_else(|| format!("standalone:{zone}"))),
                standalone: Value::Value(standalone),
                quorate: Value::Value(votes.as_ref().map(|q| q.quorate).unwrap_or(true)),
                expected_votes: Value::Value(votes.as_ref().map(|q| i64::from(q.expected_votes)).unwrap_or(1)),
                total_votes: Value::Value(votes.as_ref().map(|q| i64::from(q.total_votes)).unwrap_or(1)),
                availability_zones: Value::Value(vec![zone]),
                nodes: Value::Value(nodes),
            };
            clusters.push((key, info));
        }
        Some(ClustersState {
            clusters: Value::Value(clusters.into_iter().map(|(_, c)| c).collect()),
            unreachable: Value::Value(unreachable),
            ..config
        })
    }
}
