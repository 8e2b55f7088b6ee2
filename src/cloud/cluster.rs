//! One Proxmox cluster, or one standalone host: what its members share through `/etc/pve`
//! (pve-cluster's pmxcfs replicates it to every node), so what the provider keeps once for
//! all of them: the container inventory, the marks of containers written since it was read,
//! and the VMID allocator. Hosts of one cluster (zones on its nodes) hold the same [`Cluster`].
//!
//! The inventory is read once, through whichever member asks first (single-flight: the others
//! wait for that read). What is not shared is each node's LXC: a node's running states come
//! from its own `lxc-ls`, asked by its own host the first time it reads the inventory
//! ([`crate::pve::inventory`] says why `/cluster/resources` is not enough).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;

use super::Allocator;
use crate::pve::inventory::{self, Inventory};
use crate::pve::{PveError, Runner};

pub struct Cluster {
    /// What tells this cluster from every other ([`crate::cloud::Host::cluster_key`]).
    pub key: String,
    /// The cached inventory; holding this lock is what makes reads single-flight.
    cache: Mutex<Option<Arc<Inventory>>>,
    /// Containers changed since the inventory was read. Apart from `cache`, so marking one never
    /// waits for a read in flight; each read takes every mark made before it started.
    stale: std::sync::Mutex<BTreeSet<u32>>,
    /// The inventory as last read, for readers that need no re-read of changed containers
    /// and must not queue behind one (VMID allocation).
    latest: std::sync::RwLock<Option<Arc<Inventory>>>,
    allocator: Arc<Allocator>,
    /// Whole-cluster reads so far (what the cache saves is measured by it).
    full_reads: AtomicUsize,
}

impl Cluster {
    fn new(key: &str) -> Cluster {
        Cluster {
            key: key.to_owned(),
            cache: Mutex::new(None),
            stale: std::sync::Mutex::new(BTreeSet::new()),
            latest: std::sync::RwLock::new(None),
            allocator: Arc::default(),
            full_reads: AtomicUsize::new(0),
        }
    }

    /// VMID reservations of this cluster (one VMID space for all its nodes).
    pub fn allocator(&self) -> Arc<Allocator> {
        self.allocator.clone()
    }

    /// How many times the whole cluster was read.
    pub fn full_reads(&self) -> usize {
        self.full_reads.load(Ordering::Relaxed)
    }

    /// The cluster's containers, read through `via` (a member host, on node `node`): fetched
    /// once for every member; containers written since are re-read first (one command for all
    /// of them), and `node`'s running states come from its own LXC.
    pub async fn inventory(&self, via: &dyn Runner, node: &str) -> Result<Arc<Inventory>, PveError> {
        let mut cache = self.cache.lock().await;
        let stale = std::mem::take(&mut *self.stale_marks());
        let result = match cache.clone() {
            Some(cached) if stale.is_empty() && cached.lxc_nodes.contains(node) => return Ok(cached),
            // A full read covers every mark made before it started.
            None => self.read_all(via, node).await,
            Some(cached) => Self::refresh(&cached, via, node, &stale).await,
        };
        match result {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *cache = Some(fresh.clone());
                if let Ok(mut latest) = self.latest.write() {
                    *latest = Some(fresh.clone());
                }
                Ok(fresh)
            }
            Err(e) => {
                self.stale_marks().extend(stale);
                Err(e)
            }
        }
    }

    async fn read_all(&self, via: &dyn Runner, node: &str) -> Result<Inventory, PveError> {
        self.full_reads.fetch_add(1, Ordering::Relaxed);
        let mut fresh = inventory::fetch(via).await?;
        // The read's `lxc-ls` ran on `node` (named by its hostname, which Proxmox's node name is
        // the first label of; a configured `node` may say otherwise).
        fresh.lxc_nodes.insert(node.to_owned());
        Ok(fresh)
    }

    async fn refresh(
        cached: &Inventory,
        via: &dyn Runner,
        node: &str,
        stale: &BTreeSet<u32>,
    ) -> Result<Inventory, PveError> {
        let mut patched = cached.clone();
        if !stale.is_empty() {
            let fresh = inventory::fetch_containers(via, node, stale).await?;
            patched.patch(stale, node, fresh);
        }
        if !patched.lxc_nodes.contains(node) {
            let (named, running) = inventory::fetch_running(via).await?;
            patched.set_running(&named, &running);
            patched.lxc_nodes.insert(node.to_owned());
        }
        Ok(patched)
    }

    fn stale_marks(&self) -> std::sync::MutexGuard<'_, BTreeSet<u32>> {
        self.stale.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The inventory as last read, even if containers changed since (`None` if never read):
    /// enough to choose VMIDs, since the allocator remembers every id this process used.
    pub fn last_inventory(&self) -> Option<Arc<Inventory>> {
        self.latest.read().ok().and_then(|l| l.clone())
    }

    /// Container `vmid` changed: re-read it before the next answer.
    pub fn forget(&self, vmid: u32) {
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

/// Every cluster the provider has met, by key: hosts found to share one get the same.
#[derive(Default)]
pub struct Clusters {
    known: std::sync::Mutex<HashMap<String, Arc<Cluster>>>,
}

impl Clusters {
    /// The cluster with `key`, met now if never before.
    pub fn join(&self, key: &str) -> Arc<Cluster> {
        let mut known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        known.entry(key.to_owned()).or_insert_with(|| Arc::new(Cluster::new(key))).clone()
    }

    /// Every cluster met so far, by key.
    pub fn all(&self) -> Vec<Arc<Cluster>> {
        let known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut all: Vec<Arc<Cluster>> = known.values().cloned().collect();
        all.sort_by(|a, b| a.key.cmp(&b.key));
        all
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex as StdMutex;

    use async_trait::async_trait;

    use super::*;
    use crate::pve::Script;
    use crate::ssh::Output;

    /// A cluster's state as its nodes would report it: container → (node, running).
    type World = Arc<StdMutex<BTreeMap<u32, (&'static str, bool)>>>;

    /// One node answering the inventory's three scripts from `world`, counting what it ran.
    struct Node {
        name: &'static str,
        world: World,
        ran: StdMutex<Vec<String>>,
        down: std::sync::atomic::AtomicBool,
    }

    impl Node {
        fn new(name: &'static str, world: &World) -> Node {
            Node { name, world: world.clone(), ran: StdMutex::default(), down: Default::default() }
        }

        fn ran(&self) -> Vec<String> {
            self.ran.lock().expect("lock").clone()
        }

        fn configs(&self, only: Option<&[u32]>) -> String {
            let world = self.world.lock().expect("lock");
            let wanted = |v: &u32| only.is_none_or(|o| o.contains(v));
            world
                .iter()
                .filter(|(v, _)| wanted(v))
                .map(|(v, (node, _))| format!("==> /etc/pve/nodes/{node}/lxc/{v}.conf <==\nhostname: ct{v}\n\n"))
                .collect()
        }

        /// `/cluster/resources` as pvestatd left it: every container still `stopped`.
        fn resources(&self) -> String {
            let world = self.world.lock().expect("lock");
            let entries: Vec<String> = world
                .iter()
                .map(|(v, (node, _))| {
                    format!("{{\"type\":\"lxc\",\"vmid\":{v},\"node\":\"{node}\",\"status\":\"stopped\"}}")
                })
                .collect();
            format!("[{}]", entries.join(","))
        }

        fn running_here(&self) -> String {
            let world = self.world.lock().expect("lock");
            let running: Vec<String> =
                world.iter().filter(|(_, (n, r))| *n == self.name && *r).map(|(v, _)| v.to_string()).collect();
            format!("\n\u{1e}RUNNING {}.example.com\nexit 0\n{}\n", self.name, running.join("\n"))
        }
    }

    #[async_trait]
    impl Runner for Node {
        fn label(&self) -> &str {
            self.name
        }

        async fn execute(&self, script: &Script) -> anyhow::Result<Output> {
            if self.down.load(Ordering::Relaxed) {
                anyhow::bail!("connection refused");
            }
            self.ran.lock().expect("lock").push(script.summary.clone());
            let stdout = if script.summary.starts_with("read container configs") {
                format!("{}{}\n\u{1e}RESOURCES\n{}\n", self.configs(None), self.running_here(), self.resources())
            } else if script.summary == "list running containers" {
                self.running_here()
            } else if let Some(list) = script.summary.strip_prefix("re-read containers ") {
                let vmids: Vec<u32> = list.split(", ").filter_map(|v| v.parse().ok()).collect();
                let world = self.world.lock().expect("lock").clone();
                let mut out = self.configs(Some(&vmids));
                let mut elsewhere = false;
                for v in &vmids {
                    match world.get(v) {
                        Some((node, running)) if *node == self.name => {
                            let state = if *running { "RUNNING" } else { "STOPPED" };
                            out.push_str(&format!("\n\u{1e}STATE {v}\nexit 0\nState:          {state}\n"));
                        }
                        Some(_) => elsewhere = true,
                        None => {}
                    }
                }
                if elsewhere {
                    out.push_str(&format!("\n\u{1e}RESOURCES\n{}\n", self.resources()));
                }
                out
            } else {
                anyhow::bail!("unexpected script {}", script.summary)
            };
            Ok(Output { status: Some(0), stdout: stdout.into_bytes(), stderr: Vec::new() })
        }
    }

    fn world(containers: &[(u32, &'static str, bool)]) -> World {
        Arc::new(StdMutex::new(containers.iter().map(|(v, n, r)| (*v, (*n, *r))).collect()))
    }

    fn running(inventory: &Inventory, vmid: u32) -> bool {
        inventory.containers[&vmid].running()
    }

    #[tokio::test]
    async fn members_share_one_read_and_each_asks_its_own_lxc() {
        let world = world(&[(100, "pve1", true), (101, "pve2", true)]);
        let (pve1, pve2) = (Node::new("pve1", &world), Node::new("pve2", &world));
        let cluster = Cluster::new("cluster:duo:pve1,pve2");

        let seen_by_1 = cluster.inventory(&pve1, "pve1").await.expect("read");
        assert!(running(&seen_by_1, 100));
        assert!(!running(&seen_by_1, 101), "pve2's state is /cluster/resources' until pve2 asks its LXC");
        let seen_by_2 = cluster.inventory(&pve2, "pve2").await.expect("read");
        assert!(running(&seen_by_2, 100) && running(&seen_by_2, 101), "both from LXC now");
        let again = cluster.inventory(&pve1, "pve1").await.expect("read");
        assert!(Arc::ptr_eq(&again, &seen_by_2), "nothing changed: the cached inventory");

        assert_eq!(cluster.full_reads(), 1);
        assert_eq!(pve1.ran(), ["read container configs and /cluster/resources"]);
        assert_eq!(pve2.ran(), ["list running containers"]);
    }

    #[tokio::test]
    async fn a_write_re_reads_only_its_container_for_every_member() {
        let world = world(&[(100, "pve1", false), (101, "pve1", false), (102, "pve2", false)]);
        let (pve1, pve2) = (Node::new("pve1", &world), Node::new("pve2", &world));
        let cluster = Cluster::new("k");
        cluster.inventory(&pve1, "pve1").await.expect("read");
        cluster.inventory(&pve2, "pve2").await.expect("read");

        world.lock().expect("lock").insert(100, ("pve1", true));
        world.lock().expect("lock").insert(103, ("pve1", true));
        cluster.forget(100);
        cluster.forget(103);
        // pve2 sees pve1's write without reading the whole cluster again.
        let seen_by_2 = cluster.inventory(&pve2, "pve2").await.expect("read");
        assert!(seen_by_2.containers.contains_key(&103), "a new container is found");
        assert_eq!(cluster.full_reads(), 1);
        assert_eq!(pve2.ran().last().map(String::as_str), Some("re-read containers 100, 103"));
        // pve2 saw pve1's containers only through /cluster/resources: pve1 asks its LXC again.
        let seen_by_1 = cluster.inventory(&pve1, "pve1").await.expect("read");
        assert!(running(&seen_by_1, 100) && running(&seen_by_1, 103));
        assert_eq!(pve1.ran().last().map(String::as_str), Some("list running containers"));
    }

    #[tokio::test]
    async fn a_failed_read_keeps_the_marks_and_invalidate_reads_everything_again() {
        let world = world(&[(100, "pve1", false)]);
        let pve1 = Node::new("pve1", &world);
        let cluster = Cluster::new("k");
        cluster.inventory(&pve1, "pve1").await.expect("read");
        world.lock().expect("lock").insert(100, ("pve1", true));
        cluster.forget(100);
        pve1.down.store(true, Ordering::Relaxed);
        assert!(cluster.inventory(&pve1, "pve1").await.is_err());
        assert!(!running(&cluster.last_inventory().expect("read once"), 100), "the last read is kept");
        pve1.down.store(false, Ordering::Relaxed);
        assert!(running(&cluster.inventory(&pve1, "pve1").await.expect("read"), 100), "the mark survived");

        cluster.invalidate().await;
        assert!(cluster.last_inventory().is_none());
        cluster.inventory(&pve1, "pve1").await.expect("read");
        assert_eq!(cluster.full_reads(), 2);
    }

    #[test]
    fn hosts_meet_one_cluster_per_key() {
        let clusters = Clusters::default();
        let a = clusters.join("cluster:duo:pve1,pve2");
        let b = clusters.join("cluster:duo:pve1,pve2");
        let c = clusters.join("standalone:pve:SHA256:x");
        assert!(Arc::ptr_eq(&a, &b) && !Arc::ptr_eq(&a, &c));
        assert_eq!(clusters.all().len(), 2);
    }
}
