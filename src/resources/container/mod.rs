//! `lws_container`: one LXC container (schema, validation, plan, create/read/update/delete,
//! import). The parts live beside this file: [`state`] (schema and state), [`validate`],
//! [`plan`], [`apply`], [`read`].

pub mod apply;
pub mod list;
mod plan;
pub mod read;
pub mod state;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::zone_of_node;
use crate::cloud::Shared;
use crate::cloud::{Cloud, ContainerId, Host};
use crate::pve::inventory::Listing;
use crate::tf::{known, Operation, Timeouts};

use crate::tf::identity::{Identity, AZ, REGION, VMID};
use apply::Secrets;
use plan::{Move, Placement};
use state::{ContainerState, Private};

/// The identity (protocol 6.9): the parts of `id`, the import id.
const IDENTITY: Identity = Identity(&[REGION, AZ, VMID]);

pub struct ContainerResource {
    shared: Arc<Shared>,
}

impl ContainerResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        ContainerResource { shared }
    }
}

fn placement_of(state: &ContainerState) -> Option<Placement> {
    Some(Placement { region: known(&state.region)?, az: known(&state.az)? })
}

fn host_of(cloud: &Cloud, state: &ContainerState, diags: &mut Diagnostics) -> Option<Arc<Host>> {
    let at = placement_of(state)?;
    let host = at.host(cloud);
    if host.is_none() {
        diags.root_error(
            format!("availability zone {}/{} is not configured", at.region, at.az),
            "the container's region and availability zone must stay in the provider configuration (the LWS file or the regions block) to manage it",
        );
    }
    host
}

/// Read the container back into state, after an apply: `Ok(None)` when it is gone, an error
/// when it could not be read (never taken for absence).
async fn read_back(
    host: &Host,
    vmid: u32,
    at: &Placement,
    prior: &ContainerState,
) -> Result<Option<ContainerState>, String> {
    match apply::find(host, vmid).await.map_err(|e| e.to_string())? {
        Some(listing) => state_of(host, listing, at, prior).await.map(Some),
        None => Ok(None),
    }
}

/// What state keeps of a container Proxmox has but that could not be read back: its id and
/// what was planned, with the values only Proxmox could tell left empty (Terraform refuses
/// unknown values after an apply). Returned with an error, so Terraform taints it and the next
/// apply replaces it: once Proxmox has a VMID, state has it.
fn unread(planned: ContainerState, at: &Placement, vmid: u32) -> ContainerState {
    fn settled<T>(v: Value<T>) -> Value<T> {
        match v {
            Value::Unknown => Value::Null,
            other => other,
        }
    }
    let network = match planned.network {
        Value::Value(nets) => Value::Value(
            nets.into_iter().map(|n| state::NetworkState { mac_address: settled(n.mac_address), ..n }).collect(),
        ),
        other => settled(other),
    };
    ContainerState {
        id: Value::Value(format!("{}/{}/{vmid}", at.region, at.az)),
        vmid: Value::Value(i64::from(vmid)),
        hostname: settled(planned.hostname),
        node: settled(planned.node),
        status: settled(planned.status),
        ipv4_address: settled(planned.ipv4_address),
        mac_address: settled(planned.mac_address),
        network,
        ..planned
    }
}

async fn state_of(
    host: &Host,
    listing: Listing,
    at: &Placement,
    prior: &ContainerState,
) -> Result<ContainerState, String> {
    let vmid = listing.vmid;
    let firewall = apply::firewall_of(host, vmid).await;
    read::state_from_listing(&listing, firewall.as_ref(), host, &at.region, &at.az, prior).await
}

#[async_trait]
impl Resource for ContainerResource {
    type State<'a> = ContainerState;
    type PrivateState<'a> = Option<Private>;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(state::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate::validate(&config, diags);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (Some(at), Some(vmid)) = (placement_of(&state), known(&state.vmid)) else {
            return Some((state, private));
        };
        let Some(host) = host_of(&cloud, &state, diags) else { return Some((state, private)) };
        let inventory = match host.inventory().await {
            Ok(i) => i,
            Err(e) => {
                diags.root_error(format!("cannot read container {vmid} on {}/{}", at.region, at.az), e.to_string());
                return Some((state, private));
            }
        };
        let listing = inventory.containers.get(&(vmid as u32))?; // gone: Terraform plans to create it again
        if let Some(evidence) = read::replaced_since(&state, listing) {
            // Someone else's container now: never adopted, updated or destroyed as ours.
            let id = format!("{}/{}/{vmid}", at.region, at.az);
            diags.root_warning(
                format!("container {id} is not the one Terraform created"),
                format!(
                    "{evidence}: it was destroyed and created again outside Terraform under the same VMID. Terraform leaves it alone and forgets it, so the plan creates a new container for this resource. If it is in fact this resource's container, import it instead: terraform import <address> {id}"
                ),
            );
            return None;
        }
        let host_node = host.node().await.ok();
        let az = if host_node.as_deref() == Some(listing.node.as_str()) {
            at.az.clone()
        } else {
            zone_of_node(&cloud, &host, &listing.node).await.unwrap_or(at.az.clone())
        };
        let host = cloud.host(&at.region, &az).unwrap_or(host);
        let firewall = inventory.container_firewalls.get(&(vmid as u32));
        match read::state_from_listing(listing, firewall, &host, &at.region, &az, &state).await {
            Ok(fresh) => Some((fresh, private)),
            Err(e) => {
                diags.root_error(format!("cannot read container {vmid}"), e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        _proposed: Self::State<'a>,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let at = plan::placement(&config, &cloud, diags)?;
        let desired = plan::desired(&config, &cloud, &at, diags)?;
        plan::check_source(&desired, "creating a container", diags);
        plan::check_clone(&cloud, &at, &desired, diags).await;
        Some((plan::plan_create(desired), None))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _proposed: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let cloud = self.shared.cloud(diags)?;
        let at = plan::placement(&config, &cloud, diags)?;
        let desired = plan::desired(&config, &cloud, &at, diags)?;
        let zone_move = match placement_of(&prior) {
            Some(old) if old.region == at.region && old.az != at.az => {
                let (from, to) = (old.host(&cloud), at.host(&cloud));
                match (from, to) {
                    (Some(from), Some(to)) => match (from.cluster_key().await, to.cluster_key().await) {
                        (Ok(a), Ok(b)) if a == b => Move::Migrate,
                        (Ok(_), Ok(_)) => Move::Replace,
                        (Err(e), _) | (_, Err(e)) => {
                            diags.root_error(
                                "cannot tell whether the new availability zone is in the same Proxmox cluster",
                                e.to_string(),
                            );
                            return None;
                        }
                    },
                    _ => Move::Replace,
                }
            }
            _ => Move::None,
        };
        let private_now = private.clone().unwrap_or_default();
        let (planned, replace) = plan::plan_update(&prior, desired, &private_now, zone_move, diags);
        if !replace.is_empty() {
            // The replacement is made again: refuse before the old one is destroyed.
            plan::check_source(&planned, "replacing this container creates it again, which", diags);
            plan::check_clone(&cloud, &at, &planned, diags).await;
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let at = placement_of(&planned)?;
        let host = host_of(&cloud, &planned, diags)?;
        let timeout = Timeouts::get(&planned.timeouts, Operation::Create, Duration::from_secs(20 * 60));
        let secret = Secrets { password_wo: known(&config.password_wo), rotated: true };
        match apply::create(&cloud, &host, &planned, &secret, timeout).await {
            // `finish_create` leaves the cached view current: no second re-read.
            Ok(vmid) => match apply::current(&host, vmid).await {
                Ok(Some(listing)) => match state_of(&host, listing, &at, &planned).await {
                    Ok(state) => Some((state, None)),
                    Err(e) => {
                        diags.root_error(
                            format!("container {vmid} was created, but reading it back failed"),
                            format!("{e}\n\nIt is kept in state, marked tainted: the next apply replaces it."),
                        );
                        Some((unread(planned, &at, vmid), None))
                    }
                },
                Ok(None) => {
                    diags.root_error(format!("container {vmid} vanished right after it was created"), "");
                    None
                }
                Err(e) => {
                    diags.root_error(
                        format!("container {vmid} was created, but reading it back failed"),
                        format!("{e}\n\nIt is kept in state, marked tainted: the next apply replaces it."),
                    );
                    Some((unread(planned, &at, vmid), None))
                }
            },
            Err(failed) => {
                diags.root_error("creating the container failed", failed.error.clone());
                let vmid = failed.created_vmid?;
                // The container exists: keep it in state (Terraform marks it tainted and
                // replaces it on the next apply) rather than leave it unmanaged.
                let state = match read_back(&host, vmid, &at, &planned).await {
                    Ok(Some(state)) => state,
                    _ => unread(planned, &at, vmid),
                };
                Some((state, None))
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        planned: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let at = placement_of(&planned)?;
        let vmid = known(&prior.vmid)? as u32;
        let timeout = Timeouts::get(&planned.timeouts, Operation::Update, Duration::from_secs(20 * 60));
        // A new `password_wo_version` sends the write-only password again (not the version an
        // import adopted from the configuration).
        let imported = private.as_ref().is_some_and(|p| p.imported);
        let rotated = planned.password_wo_version != prior.password_wo_version && !imported;
        let secret = Secrets { password_wo: known(&config.password_wo), rotated };
        let result = apply::update(&cloud, &prior, &planned, &secret, timeout).await;
        match &result {
            Ok(warnings) => {
                for warning in warnings {
                    diags.root_warning("change applies at the next start", warning.clone());
                }
            }
            Err(error) => diags.root_error("updating the container failed", error.clone()),
        }
        let host = cloud.host(&at.region, &at.az)?;
        match read_back(&host, vmid, &at, &planned).await {
            // Partly applied or not: record what the host has now (with the error, if any).
            Ok(Some(state)) => Some((state, None)),
            Ok(None) => {
                diags.root_error(format!("container {vmid} is gone from {}/{}", at.region, at.az), "");
                None
            }
            // Never forgotten for a failed read: kept with what is known, and read again by the
            // next plan.
            Err(e) => {
                diags.root_error(format!("container {vmid} could not be read back after the update"), e);
                Some((unread(planned, &at, vmid), None))
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let cloud = self.shared.cloud(diags)?;
        let host = host_of(&cloud, &prior, diags)?;
        let vmid = known(&prior.vmid)? as u32;
        let timeout = Timeouts::get(&prior.timeouts, Operation::Delete, Duration::from_secs(10 * 60));
        if let Err(e) = apply::delete(&cloud, &host, vmid, timeout).await {
            diags.root_error(format!("deleting container {vmid} failed"), e.to_string());
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (at, vmid) = match id.parse::<ContainerId>() {
            Ok(parsed) => (Placement { region: parsed.region, az: parsed.az }, parsed.vmid),
            Err(parse_error) => match crate::cloud::id::parse_vmid(&id) {
                Ok(vmid) => (find_by_vmid(&cloud, vmid, diags).await?, vmid),
                Err(_) => {
                    diags.root_error(
                        "invalid import id",
                        format!("{parse_error}; import with `<region>/<az>/<vmid>` (e.g. eu-south-1/az1/105), or a bare VMID that is unique across the configured hosts"),
                    );
                    return None;
                }
            },
        };
        let Some(host) = at.host(&cloud) else {
            diags.root_error(
                format!("availability zone {}/{} is not configured", at.region, at.az),
                format!("configured regions: {}", cloud.region_names().join(", ")),
            );
            return None;
        };
        let listing = match apply::find(&host, vmid).await {
            Ok(Some(listing)) => listing,
            Ok(None) => {
                diags.root_error(format!("container {vmid} does not exist on {}/{}", at.region, at.az), "");
                return None;
            }
            Err(e) => {
                diags.root_error(format!("cannot read container {vmid}"), e.to_string());
                return None;
            }
        };
        let firewall = apply::firewall_of(&host, vmid).await;
        let state = read::state_from_listing(
            &listing,
            firewall.as_ref(),
            &host,
            &at.region,
            &at.az,
            &ContainerState::default(),
        )
        .await;
        match state {
            Ok(state) => Some((state, Some(Private { imported: true }))),
            Err(e) => {
                diags.root_error(format!("cannot import container {vmid}"), e);
                None
            }
        }
    }
}

/// A bare VMID: the one configured zone whose cluster holds it.
async fn find_by_vmid(cloud: &Cloud, vmid: u32, diags: &mut Diagnostics) -> Option<Placement> {
    let mut found: Vec<Placement> = Vec::new();
    let mut seen_clusters = Vec::new();
    for host in cloud.hosts() {
        let Ok(key) = host.cluster_key().await else { continue };
        if seen_clusters.contains(&key) {
            continue;
        }
        seen_clusters.push(key);
        let Ok(inventory) = host.inventory().await else { continue };
        let Some(listing) = inventory.containers.get(&vmid) else { continue };
        let az = zone_of_node(cloud, &host, &listing.node).await.unwrap_or(host.az.clone());
        found.push(Placement { region: host.region.clone(), az });
    }
    match found.len() {
        1 => found.pop(),
        0 => {
            diags
                .root_error(format!("no configured host has a container {vmid}"), "import with `<region>/<az>/<vmid>`");
            None
        }
        _ => {
            let places: Vec<String> = found.iter().map(|p| format!("{}/{}/{vmid}", p.region, p.az)).collect();
            diags.root_error(
                format!("VMID {vmid} exists in more than one cluster"),
                format!("import one of {} explicitly", places.join(", ")),
            );
            None
        }
    }
}
