//! The LWS cloud as the provider sees it: regions of availability zones, each zone one
//! Proxmox [`Host`]; named instance sizes; defaults from the LWS file; ids of the form
//! `<region>/<az>/<vmid>`. Built once per provider process from validated settings.

pub mod allocator;
pub mod cluster;
pub mod estate;
pub mod host;
pub mod id;
pub mod locate;
pub mod settings;
pub mod shared;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use allocator::Allocator;
pub use cluster::{Cluster, Clusters};
pub use host::Host;
pub use id::ContainerId;
pub use settings::{CloudSpec, InstanceSize};
pub use shared::Shared;

use crate::ssh::{Endpoint, Limits, Remote};

/// Defaults every resource falls back to.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    pub storage: String,
    pub bridge: String,
    pub start_vmid: u32,
    pub onboot: bool,
}

pub struct Cloud {
    regions: BTreeMap<String, BTreeMap<String, Arc<Host>>>,
    pub sizes: BTreeMap<String, InstanceSize>,
    pub default_region: Option<String>,
    pub defaults: Defaults,
    /// Every cluster met, shared by its member hosts.
    clusters: Arc<Clusters>,
}

impl Cloud {
    /// Build hosts (no connection is made until a host is used).
    pub fn new(spec: CloudSpec) -> Cloud {
        let limits = Limits {
            connect_timeout: spec.ssh.connect_timeout,
            command_timeout: spec.ssh.command_timeout,
            retries: spec.ssh.retries,
            max_sessions: spec.ssh.max_sessions_per_host,
        };
        let mut regions: BTreeMap<String, BTreeMap<String, Arc<Host>>> = BTreeMap::new();
        // One connection per bastion, shared by every host behind it.
        let mut bastions: HashMap<String, Arc<Remote>> = HashMap::new();
        let clusters = Arc::new(Clusters::default());
        for h in spec.hosts {
            let mut via: Option<(String, Arc<Remote>)> = None;
            for hop in &h.via {
                let key = format!(
                    "{}{}@{}:{}",
                    via.as_ref().map(|(k, _)| format!("{k} > ")).unwrap_or_default(),
                    hop.user,
                    hop.address,
                    hop.port
                );
                let remote = bastions
                    .entry(key.clone())
                    .or_insert_with(|| {
                        let endpoint = Endpoint {
                            label: format!("bastion {}@{}:{}", hop.user, hop.address, hop.port),
                            address: hop.address.clone(),
                            port: hop.port,
                            user: hop.user.clone(),
                            credentials: hop.credentials.clone(),
                            host_key: hop.host_key.clone(),
                        };
                        let remote = Remote::new(endpoint, limits);
                        Arc::new(match &via {
                            Some((_, outer)) => remote.through(outer.clone()),
                            None => remote,
                        })
                    })
                    .clone();
                via = Some((key, remote));
            }
            let endpoint = Endpoint {
                label: format!("{}/{}", h.region, h.az),
                address: h.address,
                port: h.port,
                user: h.user,
                credentials: h.credentials,
                host_key: h.host_key,
            };
            let limits = Limits { connect_timeout: h.connect_timeout.unwrap_or(limits.connect_timeout), ..limits };
            let remote = match via {
                Some((_, bastion)) => Remote::new(endpoint, limits).through(bastion),
                None => Remote::new(endpoint, limits),
            };
            let host = Host::new(&h.region, &h.az, remote, h.sudo, h.node, clusters.clone());
            regions.entry(h.region).or_default().insert(h.az, Arc::new(host));
        }
        Cloud {
            regions,
            sizes: spec.sizes,
            default_region: spec.default_region,
            defaults: Defaults {
                storage: spec.default_storage.unwrap_or_else(|| "local-lvm".to_owned()),
                bridge: spec.default_network.unwrap_or_else(|| "vmbr0".to_owned()),
                start_vmid: spec.start_vmid.unwrap_or(100),
                onboot: spec.default_onboot.unwrap_or(false),
            },
            clusters,
        }
    }

    pub fn region_names(&self) -> Vec<String> {
        self.regions.keys().cloned().collect()
    }

    pub fn zones(&self, region: &str) -> Option<Vec<String>> {
        self.regions.get(region).map(|zones| zones.keys().cloned().collect())
    }

    pub fn host(&self, region: &str, az: &str) -> Option<Arc<Host>> {
        self.regions.get(region)?.get(az).cloned()
    }

    /// Every host, in region/az order.
    pub fn hosts(&self) -> Vec<Arc<Host>> {
        self.regions.values().flat_map(|zones| zones.values().cloned()).collect()
    }

    /// Every cluster met so far.
    pub fn clusters(&self) -> Vec<Arc<Cluster>> {
        self.clusters.all()
    }
}
