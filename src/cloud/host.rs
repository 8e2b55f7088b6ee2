//! One availability zone's Proxmox host: runs scripts over its SSH connection (through
//! `sudo -n` when configured), knows its node name and cluster, and caches the cluster's
//! container inventory for reads (single-flight; writes invalidate it).

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, OnceCell};

use crate::pve::cluster::{self, ClusterStatus};
use crate::pve::inventory::{self, Inventory};
use crate::pve::{PveError, Runner, Script};
use crate::ssh::quote::quote;
use crate::ssh::{Output, Remote};

/// What a host says about itself, asked once per provider process.
#[derive(Debug, Clone)]
pub struct Facts {
    pub node: String,
    pub cluster: ClusterStatus,
}

pub struct Host {
    pub region: String,
    pub az: String,
    label: String,
    remote: Remote,
    sudo: bool,
    configured_node: Option<String>,
    facts: OnceCell<Facts>,
    inventory: Mutex<Option<Arc<Inventory>>>,
}

impl Host {
    pub fn new(region: &str, az: &str, remote: Remote, sudo: bool, configured_node: Option<String>) -> Host {
        Host {
            region: region.to_owned(),
            az: az.to_owned(),
            label: format!("{region}/{az}"),
            remote,
            sudo,
            configured_node,
            facts: OnceCell::new(),
            inventory: Mutex::new(None),
        }
    }

    pub fn remote(&self) -> &Remote {
        &self.remote
    }

    /// Node name and cluster membership (one `pvesh get /cluster/status`, cached).
    pub async fn facts(&self) -> Result<&Facts, PveError> {
        self.facts
            .get_or_try_init(|| async {
                let status = cluster::status(self).await?;
                let node = match (&self.configured_node, status.local_node()) {
                    (Some(n), _) => n.clone(),
                    (None, Some(n)) => n.to_owned(),
                    (None, None) => {
                        return Err(PveError::Unreadable {
                            host: self.label.clone(),
                            command: "pvesh get /cluster/status".to_owned(),
                            message: "no entry is marked local; set `node` for this host".to_owned(),
                        })
                    }
                };
                Ok(Facts { node, cluster: status })
            })
            .await
    }

    pub async fn node(&self) -> Result<String, PveError> {
        Ok(self.facts().await?.node.clone())
    }

    /// Hosts with the same key share `/etc/pve`: same Proxmox cluster, or the same host.
    pub async fn cluster_key(&self) -> Result<String, PveError> {
        let facts = self.facts().await?;
        Ok(match &facts.cluster.name {
            Some(name) => format!("cluster:{name}"),
            None => format!("standalone:{}:{}", self.remote.endpoint().address, self.remote.endpoint().port),
        })
    }

    /// The cluster's containers, fetched once and shared by concurrent readers.
    pub async fn inventory(&self) -> Result<Arc<Inventory>, PveError> {
        let mut slot = self.inventory.lock().await;
        if let Some(cached) = slot.as_ref() {
            return Ok(cached.clone());
        }
        let fresh = Arc::new(inventory::fetch(self).await?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forget the cached inventory (after any change on this host).
    pub async fn invalidate(&self) {
        *self.inventory.lock().await = None;
    }
}

#[async_trait]
impl Runner for Host {
    fn label(&self) -> &str {
        &self.label
    }

    async fn execute(&self, script: &Script) -> anyhow::Result<Output> {
        let text = if self.sudo { format!("sudo -n sh -c {}", quote(&script.text)) } else { script.text.clone() };
        tracing::debug!(host = %self.label, command = %script.summary, "ssh exec");
        tracing::trace!(host = %self.label, script = %text, stdin_bytes = script.stdin.as_ref().map(Vec::len), "ssh exec detail");
        let output = self.remote.exec(&text, script.stdin.as_deref(), script.timeout).await?;
        tracing::debug!(host = %self.label, command = %script.summary, status = ?output.status, "ssh exec done");
        Ok(output)
    }
}
