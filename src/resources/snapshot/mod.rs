//! `lws_snapshot`: one snapshot of a container (`pct snapshot`). The description changes in
//! place; destroying it deletes the snapshot, never the container. Import `<region>/<az>/<vmid>/<name>`.

pub mod list;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::{self, Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::id::parse_child_id;
use crate::cloud::locate::locate;
use crate::cloud::Shared;
use crate::cloud::{Cloud, ContainerId};
use crate::pve::error::Kind;
use crate::pve::retry::{remaining, until};
use crate::pve::snapshot::{self, check_name};
use crate::pve::text::rfc3339;
use crate::tf::identity::{Identity, Part, AZ, REGION, VMID};
use crate::tf::schema::{attributes, computed, optional, required, string, timeouts_block};
use crate::tf::{description, error_at, known, path, Operation, Timeouts};

/// The identity (protocol 6.9): the parts of `id`, the import id.
pub(super) const IDENTITY: Identity =
    Identity(&[REGION, AZ, VMID, Part { name: "name", number: false, description: "Name of the snapshot." }]);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SnapshotState {
    pub id: Value<String>,
    pub container_id: Value<String>,
    pub name: Value<String>,
    pub description: Value<String>,
    pub created_at: Value<String>,
    pub parent: Value<String>,
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

pub struct SnapshotResource {
    shared: Arc<Shared>,
}

impl SnapshotResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        SnapshotResource { shared }
    }
}

fn container_of(state: &SnapshotState) -> Option<ContainerId> {
    known(&state.container_id)?.parse().ok()
}

/// Read the snapshot into state; `None` when it (or its container) is gone.
async fn read(cloud: &Cloud, prior: &SnapshotState, fresh: bool) -> Result<Option<SnapshotState>, String> {
    let (Some(container), Some(name)) = (container_of(prior), known(&prior.name)) else { return Ok(None) };
    let Some(found) = locate(cloud, &container, fresh).await? else { return Ok(None) };
    let Some(snap) = snapshot::find(&found.listing.config, &name) else { return Ok(None) };
    if let Some(why) = snap.incomplete(found.listing.vmid) {
        return Err(why);
    }
    Ok(Some(state_of(&container, snap, prior)))
}

/// The state of snapshot `snap` of `container`; what Proxmox does not keep comes from `prior`.
fn state_of(container: &ContainerId, snap: snapshot::Snapshot, prior: &SnapshotState) -> SnapshotState {
    SnapshotState {
        id: Value::Value(format!("{container}/{}", snap.name)),
        container_id: if prior.container_id.is_value() {
            prior.container_id.clone()
        } else {
            Value::Value(container.to_string())
        },
        name: Value::Value(snap.name),
        description: description(snap.description.as_deref(), &prior.description),
        created_at: snap.snaptime.map(|t| Value::Value(rfc3339(t))).unwrap_or(Value::Null),
        parent: snap.parent.map(Value::Value).unwrap_or(Value::Null),
        timeouts: prior.timeouts.clone(),
    }
}

/// The state of a snapshot that may exist but could not be read: what was planned, with what only
/// Proxmox could tell left empty (Terraform refuses unknown values after an apply).
fn unread(container: &ContainerId, name: &str, planned: SnapshotState) -> SnapshotState {
    let settled = |v: Value<String>| if v.is_unknown() { Value::Null } else { v };
    SnapshotState {
        id: Value::Value(format!("{container}/{name}")),
        description: settled(planned.description),
        created_at: settled(planned.created_at),
        parent: settled(planned.parent),
        ..planned
    }
}

#[async_trait]
impl Resource for SnapshotResource {
    type State<'a> = SnapshotState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let (timeouts_name, timeouts) = timeouts_block("10m", "5m", "10m");
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "A snapshot of a container (`pct snapshot`). Changing `description` updates it in place; a new `name` or another container replaces it. Destroying it deletes the snapshot, never the container; a snapshot whose container is gone is simply forgotten.",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<az>/<vmid>/<name>`.")),
                    ("container_id", required(string(), "The container: `lws_container.<name>.id` (`<region>/<az>/<vmid>`). A migration within the cluster does not replace the snapshot.")),
                    ("name", required(string(), "Snapshot name: 2 to 40 characters, a letter first, then letters, digits, `_` or `-`; not `current`.")),
                    ("description", optional(string(), "Description.")),
                    ("created_at", computed(string(), "When the snapshot was taken (RFC 3339, UTC).")),
                    ("parent", computed(string(), "The snapshot this one was taken after, if any.")),
                ]),
                blocks: [(timeouts_name, timeouts)].into_iter().collect(),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(name) = known(&config.name) {
            if let Err(e) = check_name(&name) {
                error_at(diags, path(&["name"]), "invalid snapshot name", e);
            }
        }
        if let Some(id) = known(&config.container_id) {
            if let Err(e) = id.parse::<ContainerId>() {
                error_at(diags, path(&["container_id"]), "invalid container_id", e);
            }
        }
        Timeouts::validate(&config.timeouts, diags);
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
        match read(&cloud, &state, false).await {
            Ok(found) => found.map(|s| (s, private)),
            Err(e) => {
                diags.root_error("cannot read the snapshot", e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let mut planned = proposed;
        planned.id = match (known(&planned.container_id), known(&planned.name)) {
            (Some(c), Some(n)) => Value::Value(format!("{c}/{n}")),
            _ => Value::Unknown,
        };
        planned.created_at = Value::Unknown;
        planned.parent = Value::Unknown;
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let mut replace = Vec::new();
        if prior.name != proposed.name && proposed.name.is_value() {
            replace.push(path(&["name"]));
        }
        // The same container (region and VMID), even if it moved zone within its cluster.
        let same_container = matches!(
            (container_of(&prior), container_of(&proposed)),
            (Some(old), Some(new)) if old.is_same_container(&new)
        );
        if !same_container {
            replace.push(path(&["container_id"]));
        }
        let mut planned = proposed;
        planned.id = match (known(&planned.container_id), known(&planned.name)) {
            (Some(c), Some(n)) => Value::Value(format!("{c}/{n}")),
            _ => Value::Unknown,
        };
        if replace.is_empty() {
            planned.created_at = prior.created_at;
            planned.parent = prior.parent;
        } else {
            planned.created_at = Value::Unknown;
            planned.parent = Value::Unknown;
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
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let container = container_of(&planned)?;
        let name = known(&planned.name)?;
        let deadline = Instant::now() + Timeouts::get(&planned.timeouts, Operation::Create, Duration::from_secs(600));
        let found = match locate(&cloud, &container, true).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                error_at(diags, path(&["container_id"]), format!("container {container} does not exist"), "");
                return None;
            }
            Err(e) => {
                diags.root_error("cannot find the container", e);
                return None;
            }
        };
        // Known absent before `pct snapshot`, so a snapshot of this name found after a lost
        // connection is the one this create took.
        match read(&cloud, &planned, true).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                error_at(
                    diags,
                    path(&["name"]),
                    format!("container {container} already has a snapshot named '{name}'"),
                    format!("Import it (terraform import <address> {container}/{name}) or choose another name."),
                );
                return None;
            }
            Err(e) => {
                diags.root_error("cannot read the container's snapshots", e);
                return None;
            }
        }
        let text = known(&planned.description);
        let taken = until(deadline, || {
            snapshot::take(found.host.as_ref(), container.vmid, &name, text.as_deref(), Some(remaining(deadline)))
        })
        .await;
        found.host.forget(found.listing.vmid).await;
        if let Err(e) = taken {
            if e.may_have_run() {
                match read(&cloud, &planned, true).await {
                    Ok(Some(state)) => {
                        diags.root_warning(
                            format!("the connection was lost while taking snapshot '{name}' of {container}"),
                            format!("The snapshot exists now, so it is recorded as taken: {e}"),
                        );
                        return Some((state, private));
                    }
                    Ok(None) => {}
                    // Unknown whether it was taken: kept (tainted by the error), so the next
                    // plan reads it and replaces it if it exists, or creates it if it does not.
                    Err(read_error) => {
                        diags.root_error(
                            format!("snapshot '{name}' of {container} may have been taken"),
                            format!(
                                "The connection was lost before Proxmox answered ({e}), and the container cannot be read now ({read_error}). It is kept in state as tainted: the next apply checks it and takes it again if needed."
                            ),
                        );
                        return Some((unread(&container, &name, planned), private));
                    }
                }
            }
            diags.root_error(format!("taking snapshot '{name}' of {container} failed"), e.to_string());
            return None;
        }
        match read(&cloud, &planned, true).await {
            Ok(Some(state)) => Some((state, private)),
            Ok(None) => {
                diags.root_error(format!("snapshot '{name}' of {container} vanished right after it was taken"), "");
                None
            }
            Err(e) => {
                diags.root_error("cannot read the snapshot back", e);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let container = container_of(&planned)?;
        let name = known(&planned.name)?;
        let found = match locate(&cloud, &container, true).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                diags.root_error(format!("container {container} no longer exists"), "");
                return None;
            }
            Err(e) => {
                diags.root_error("cannot find the container", e);
                return None;
            }
        };
        let text = known(&planned.description);
        if let Err(e) =
            snapshot::describe(found.host.as_ref(), &found.listing.node, container.vmid, &name, text.as_deref()).await
        {
            diags.root_error(format!("describing snapshot '{name}' failed"), e.to_string());
        }
        found.host.forget(found.listing.vmid).await;
        match read(&cloud, &planned, true).await {
            Ok(Some(state)) => Some((state, private)),
            _ => None,
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
        let (Some(container), Some(name)) = (container_of(&prior), known(&prior.name)) else { return Some(()) };
        let deadline = Instant::now() + Timeouts::get(&prior.timeouts, Operation::Delete, Duration::from_secs(600));
        let found = match locate(&cloud, &container, true).await {
            Ok(Some(found)) => found,
            Ok(None) => return Some(()), // the container is gone, and its snapshots with it
            Err(e) => {
                diags.root_error("cannot find the container", e);
                return Some(());
            }
        };
        match until(deadline, || {
            snapshot::delete(found.host.as_ref(), container.vmid, &name, Some(remaining(deadline)))
        })
        .await
        {
            Ok(()) => {}
            Err(e) if e.is(&Kind::NotFound) => {}
            Err(e) => diags.root_error(format!("deleting snapshot '{name}' of {container} failed"), e.to_string()),
        }
        found.host.forget(found.listing.vmid).await;
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (container, name) = match parse_child_id(&id) {
            Ok(parts) => parts,
            Err(e) => {
                diags.root_error("invalid import id", format!("{e} (e.g. eu-south-1/az1/105/before-upgrade)"));
                return None;
            }
        };
        let seed = SnapshotState {
            container_id: Value::Value(container.to_string()),
            name: Value::Value(name.clone()),
            ..SnapshotState::default()
        };
        match read(&cloud, &seed, true).await {
            Ok(Some(state)) => Some((state, ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("no snapshot '{name}' of container {container}"), "");
                None
            }
            Err(e) => {
                diags.root_error("cannot read the snapshot", e);
                None
            }
        }
    }
}
