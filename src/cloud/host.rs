//! One availability zone's Proxmox host: runs scripts over its SSH connection (through
//! `sudo -n` when configured), knows its node name and cluster, and caches the cluster's
//! container inventory for reads.
//!
//! The first use of a host fetches its facts and the whole inventory in one round trip;
//! concurrent readers wait for that one fetch (single-flight). A write marks the containers it
//! touched stale ([`Host::forget`]) and the next read re-reads just those, in one command; a
//! write beyond single containers (security groups) drops the cache ([`Host::invalidate`]).

use std::collections::BTreeSet;
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
    /// The cached inventory; holding this lock is what makes fetches single-flight.
    cache: Mutex<Option<Arc<Inventory>>>,
    /// Containers changed since the inventory was read. Apart from `cache`, so marking one never
    /// waits for a fetch in flight; each fetch takes every mark made before it started.
    stale: std::sync::Mutex<BTreeSet<u32>>,
    /// The inventory as last read, for readers that need no re-read of changed containers
    /// and must not queue behind one (VMID allocation).
    latest: std::sync::RwLock<Option<Arc<Inventory>>>,
    /// One lock per container, for work inside it that must not run twice at once.
    guest_locks: std::sync::Mutex<std::collections::HashMap<u32, Arc<Mutex<()>>>>,
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
            cache: Mutex::new(None),
            stale: std::sync::Mutex::new(BTreeSet::new()),
            latest: std::sync::RwLock::new(None),
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

    /// Node name and cluster membership, learnt on first contact (with the inventory).
    pub async fn facts(&self) -> Result<&Facts, PveError> {
        if let Some(facts) = self.facts.get() {
            return Ok(facts);
        }
        self.inventory().await?;
        self.facts.get_or_try_init(|| async { self.facts_from(cluster::status(self).await?) }).await
    }

    fn facts_from(&self, status: ClusterStatus) -> Result<Facts, PveError> {
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
    }

    pub async fn node(&self) -> Result<String, PveError> {
        Ok(self.facts().await?.node.clone())
    }

    /// Hosts with the same key share `/etc/pve`: the same Proxmox cluster (its name and its
    /// nodes: two clusters may share a name), or the same standalone host (its address).
    pub async fn cluster_key(&self) -> Result<String, PveError> {
        let facts = self.facts().await?;
        Ok(match &facts.cluster.name {
            Some(name) => {
                let mut nodes: Vec<&str> = facts.cluster.nodes.iter().map(|n| n.name.as_str()).collect();
                nodes.sort_unstable();
                format!("cluster:{name}:{}", nodes.join(","))
            }
            None => format!("standalone:{}:{}", self.remote.endpoint().address, self.remote.endpoint().port),
        })
    }

    /// The cluster's containers: fetched once and shared by concurrent readers; containers
    /// written since are re-read first (one command for all of them).
    pub async fn inventory(&self) -> Result<Arc<Inventory>, PveError> {
        let mut cache = self.cache.lock().await;
        let stale = std::mem::take(&mut *self.stale_marks());
        let result = match cache.clone() {
            // A full read covers every mark made before it started.
            None => self.fetch_all().await,
            Some(cached) if stale.is_empty() => return Ok(cached),
            Some(cached) => {
                let node = self.facts.get().map(|f| f.node.clone()).unwrap_or_default();
                inventory::fetch_containers(self, &node, &stale).await.map(|fresh| {
                    let mut patched = (*cached).clone();
                    patched.patch(&stale, fresh);
                    Arc::new(patched)
                })
            }
        };
        match result {
            Ok(fresh) => {
                *cache = Some(fresh.clone());
                self.remember(&fresh);
                Ok(fresh)
            }
            Err(e) => {
                self.stale_marks().extend(stale);
                Err(e)
            }
        }
    }

    async fn fetch_all(&self) -> Result<Arc<Inventory>, PveError> {
        let snapshot = inventory::fetch(self, self.facts.get().is_none()).await?;
        if let Some(status) = snapshot.status {
            let _ = self.facts.set(self.facts_from(status)?);
        }
        Ok(Arc::new(snapshot.inventory))
    }

    fn stale_marks(&self) -> std::sync::MutexGuard<'_, BTreeSet<u32>> {
        self.stale.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn remember(&self, inventory: &Arc<Inventory>) {
        if let Ok(mut latest) = self.latest.write() {
            *latest = Some(inventory.clone());
        }
    }

    /// The inventory as last read, even if containers changed since (read once if never):
    /// enough to choose VMIDs, since the allocator remembers every id this process used.
    pub async fn last_inventory(&self) -> Result<Arc<Inventory>, PveError> {
        let latest = self.latest.read().ok().and_then(|l| l.clone());
        match latest {
            Some(inventory) => Ok(inventory),
            None => self.inventory().await,
        }
    }

    /// Container `vmid` changed on this cluster: re-read it before the next answer.
    pub async fn forget(&self, vmid: u32) {
        self.stale_marks().insert(vmid);
    }

    /// Forget the cached inventory (after a change beyond single containers).
    pub async fn invalidate(&self) {
        let mut cache = self.cache.lock().await;
        *cache = None;
        if let Ok(mut latest) = self.latest.write() {
            *latest = None;
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
