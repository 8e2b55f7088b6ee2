//! One availability zone's Proxmox host: runs scripts over its SSH connection (through
//! `sudo -n` when configured), knows its node name and the [`Cluster`] it belongs to, and
//! reads the container inventory through that cluster (one cache for all its members).
//!
//! First contact reads `/etc/pve/.members` (pmxcfs's own file: no Perl start-up, so it costs
//! one SSH round trip): the node's name and its cluster's, and the cluster's nodes, which with
//! the name tell clusters apart ([`Host::cluster_key`]). A write
//! marks the containers it touched stale ([`Host::forget`]) and the next read re-reads just
//! those, in one command; a write beyond single containers (security groups) drops the cache
//! ([`Host::invalidate`]). Both act on the cluster, so every member sees them.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, OnceCell};

use super::cluster::{Cluster, Clusters};
use crate::pve::cluster::{self, ClusterStatus};
use crate::pve::inventory::Inventory;
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
    /// Every cluster the provider knows, to find this host's in.
    clusters: Arc<Clusters>,
    cluster: OnceCell<Arc<Cluster>>,
    /// One lock per container, for work inside it that must not run twice at once.
    guest_locks: std::sync::Mutex<std::collections::HashMap<u32, Arc<Mutex<()>>>>,
}

impl Host {
    pub fn new(
        region: &str,
        az: &str,
        remote: Remote,
        sudo: bool,
        configured_node: Option<String>,
        clusters: Arc<Clusters>,
    ) -> Host {
        Host {
            region: region.to_owned(),
            az: az.to_owned(),
            label: format!("{region}/{az}"),
            remote,
            sudo,
            configured_node,
            facts: OnceCell::new(),
            clusters,
            cluster: OnceCell::new(),
            guest_locks: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Hold container `vmid` for work that cannot run twice in it at once: two `apt-get install`
    /// fail on dpkg's lock (`/var/lib/dpkg/lock-frontend`), so two apps landing on one new
    /// container install Docker one after the other (the second then finds it installed).
    pub async fn lock_guest(&self, vmid: u32) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = match self.guest_locks.lock() {
            Ok(mut locks) => locks.entry(vmid).or_default().clone(),
            Err(poisoned) => poisoned.into_inner().entry(vmid).or_default().clone(),
        };
        lock.lock_owned().await
    }

    pub fn remote(&self) -> &Remote {
        &self.remote
    }

    /// Node name and cluster membership, learnt on first contact.
    pub async fn facts(&self) -> Result<&Facts, PveError> {
        self.facts.get_or_try_init(|| async { self.facts_from(cluster::members(self).await?) }).await
    }

    fn facts_from(&self, status: ClusterStatus) -> Result<Facts, PveError> {
        let node = match (&self.configured_node, status.local_node()) {
            (Some(n), _) => n.clone(),
            (None, Some(n)) => n.to_owned(),
            (None, None) => {
                return Err(PveError::Unreadable {
                    host: self.label.clone(),
                    command: "cat /etc/pve/.members".to_owned(),
                    message: "no node is named as the local one; set `node` for this host".to_owned(),
                })
            }
        };
        Ok(Facts { node, cluster: status })
    }

    pub async fn node(&self) -> Result<String, PveError> {
        Ok(self.facts().await?.node.clone())
    }

    /// Hosts with the same key share `/etc/pve`: the same Proxmox cluster (its name and its
    /// nodes: two clusters may share a name), or the same standalone host (its node name and
    /// the host key it presented: installers name every host `pve`, and one machine may be
    /// reached at two addresses).
    pub async fn cluster_key(&self) -> Result<String, PveError> {
        let facts = self.facts().await?;
        Ok(match &facts.cluster.name {
            Some(name) => {
                let mut nodes: Vec<&str> = facts.cluster.nodes.iter().map(|n| n.name.as_str()).collect();
                nodes.sort_unstable();
                format!("cluster:{name}:{}", nodes.join(","))
            }
            None => match self.remote.presented_host_key() {
                Some(key) => format!("standalone:{}:{key}", facts.node),
                // Reached, so a key was presented; an address is the next best identity.
                None => format!(
                    "standalone:{}@{}:{}",
                    facts.node,
                    self.remote.endpoint().address,
                    self.remote.endpoint().port
                ),
            },
        })
    }

    /// The cluster this host is a node of (learnt on first contact).
    pub async fn cluster(&self) -> Result<&Arc<Cluster>, PveError> {
        self.cluster.get_or_try_init(|| async { Ok(self.clusters.join(&self.cluster_key().await?)) }).await
    }

    /// The cluster's containers, read once for all its members; containers written since are
    /// re-read first (one command for all of them).
    pub async fn inventory(&self) -> Result<Arc<Inventory>, PveError> {
        let node = self.node().await?;
        self.cluster().await?.inventory(self, &node).await
    }

    /// The inventory as last read, even if containers changed since (read once if never):
    /// enough to choose VMIDs, since the allocator remembers every id this process used.
    pub async fn last_inventory(&self) -> Result<Arc<Inventory>, PveError> {
        match self.cluster().await?.last_inventory() {
            Some(inventory) => Ok(inventory),
            None => self.inventory().await,
        }
    }

    /// Container `vmid` changed on this cluster: re-read it before the next answer.
    pub async fn forget(&self, vmid: u32) {
        // Unknown only if the host cannot be reached, and then nothing of it is cached.
        if let Ok(cluster) = self.cluster().await {
            cluster.forget(vmid);
        }
    }

    /// Forget the cluster's cached inventory (after a change beyond single containers).
    pub async fn invalidate(&self) {
        if let Ok(cluster) = self.cluster().await {
            cluster.invalidate().await;
        }
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
        let output =
            self.remote.exec_watched(&text, script.stdin.as_deref(), script.timeout, script.watch.as_ref()).await?;
        tracing::debug!(host = %self.label, command = %script.summary, status = ?output.status, "ssh exec done");
        Ok(output)
    }
}
