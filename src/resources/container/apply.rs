//! Carrying out `lws_container` plans on the host: create (with VMID allocation that survives
//! parallel applies), update in place or by migration, delete. Each step that a locked container
//! blocks is retried until the operation's timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tf_provider::value::Value;

use crate::cloud::{Cloud, Host};
use crate::pve::error::Kind;
use crate::pve::firewall_file::FirewallFile;
use crate::pve::inventory::Listing;
use crate::pve::lxc::{self, ContainerConfig, CreateRequest, Features, Network};
use crate::pve::retry::{remaining, until};
use crate::pve::snapshot;
use crate::pve::PveError;
use crate::tf::{known, known_list, known_set};

use crate::pve::firewall::{attach_commands, edit_rules, Scope};

use super::state::{ContainerState, FeaturesState, NetworkState};

/// Attempts at creating with a fresh VMID after "already exists".
const ALLOCATION_ATTEMPTS: usize = 25;

/// What went wrong, and whether a container now exists that state must keep.
pub struct Failed {
    pub error: String,
    pub created_vmid: Option<u32>,
}

impl Failed {
    fn before_create(error: impl ToString) -> Failed {
        Failed { error: error.to_string(), created_vmid: None }
    }

    fn after_create(vmid: u32, error: impl ToString) -> Failed {
        Failed { error: error.to_string(), created_vmid: Some(vmid) }
    }
}

fn features_of(value: &Value<FeaturesState>) -> Features {
    let f = known(value).unwrap_or_default();
    Features {
        nesting: known(&f.nesting).unwrap_or(false),
        keyctl: known(&f.keyctl).unwrap_or(false),
        fuse: known(&f.fuse).unwrap_or(false),
        other: vec![],
    }
}

/// The planned networks as Proxmox devices; MACs and unmodelled keys kept from `current`.
fn networks_of(planned: &Value<Vec<NetworkState>>, current: &[Network]) -> Vec<Network> {
    known(planned)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let name = known(&n.name).unwrap_or_else(|| format!("eth{i}"));
            let old = current.iter().find(|c| c.index == i as u32 && c.name == name);
            Network {
                index: i as u32,
                hwaddr: old.and_then(|o| o.hwaddr.clone()),
                name,
                bridge: known(&n.bridge),
                ip: known(&n.ip),
                gw: known(&n.gateway),
                tag: known(&n.vlan).and_then(|v| u16::try_from(v).ok()),
                firewall: known(&n.firewall).unwrap_or(false),
                other: old.map(|o| o.other.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

fn tags_of(planned: &ContainerState) -> Vec<String> {
    known_set(&planned.tags).map(|t| t.into_iter().collect()).unwrap_or_default()
}

/// Find a container in the cluster by VMID, re-reading it first.
pub async fn find(host: &Host, vmid: u32) -> Result<Option<Listing>, PveError> {
    host.forget(vmid).await;
    current(host, vmid).await
}

/// The container as the host's cached view has it: current when every write since the last
/// re-read was followed by [`Host::forget`] (the next read then re-reads it).
pub async fn current(host: &Host, vmid: u32) -> Result<Option<Listing>, PveError> {
    Ok(host.inventory().await?.containers.get(&vmid).cloned())
}

/// The container's firewall file, from the cached view.
pub async fn firewall_of(host: &Host, vmid: u32) -> Option<FirewallFile> {
    host.inventory().await.ok()?.container_firewalls.get(&vmid).cloned()
}

/// Make the container's firewall use exactly the planned security groups (checked to exist).
async fn attach_groups(host: &Host, vmid: u32, planned: &ContainerState) -> Result<(), String> {
    let groups = known_list(&planned.security_groups).unwrap_or_default();
    host.invalidate().await;
    let inventory = host.inventory().await.map_err(|e| e.to_string())?;
    let listing = inventory.containers.get(&vmid).ok_or_else(|| format!("container {vmid} is missing"))?;
    if let Some(missing) = groups.iter().find(|g| !inventory.cluster_firewall.groups.contains_key(*g)) {
        return Err(format!(
            "security group '{missing}' does not exist in this cluster; create it with lws_security_group (in region {})",
            host.region
        ));
    }
    let current = inventory.container_firewalls.get(&vmid).cloned().unwrap_or_default();
    if attach_commands(&listing.node, vmid, &current, &groups, None).is_empty() {
        return Ok(());
    }
    // Planned again from Proxmox's own list, guarded by its digest: rules someone else edits
    // meanwhile are kept, never overwritten by position.
    let scope = Scope::Container { node: listing.node.clone(), vmid };
    let result = edit_rules(host, &scope, &format!("security groups of {vmid}"), |rules, digest| {
        let listed = FirewallFile { rules: rules.to_vec(), ..current.clone() };
        attach_commands(&listing.node, vmid, &listed, &groups, digest)
    })
    .await;
    host.forget(vmid).await;
    result.map_err(|e| e.to_string())
}

/// Create the container; returns its VMID.
pub async fn create(
    cloud: &Cloud,
    host: &Arc<Host>,
    planned: &ContainerState,
    secrets: &Secrets,
    timeout: Duration,
) -> Result<u32, Failed> {
    let deadline = Instant::now() + timeout;
    let mut request = CreateRequest {
        vmid: 0,
        template: known(&planned.template).unwrap_or_default(),
        hostname: known(&planned.hostname),
        memory: known(&planned.memory).unwrap_or(512).max(16) as u64,
        swap: known(&planned.swap).unwrap_or(512).max(0) as u64,
        cores: known(&planned.cores).map(|c| c as u32),
        cpulimit: known(&planned.cpulimit),
        storage: known(&planned.storage).unwrap_or_else(|| cloud.defaults.storage.clone()),
        disk_gib: known(&planned.disk_size).unwrap_or(8).max(1) as u64,
        networks: networks_of(&planned.network, &[]),
        nameserver: known(&planned.nameserver),
        searchdomain: None,
        unprivileged: known(&planned.unprivileged).unwrap_or(true),
        features: features_of(&planned.features),
        onboot: known(&planned.start_on_boot).unwrap_or(false),
        tags: tags_of(planned),
        description: known(&planned.description),
        ssh_public_keys: known(&planned.ssh_public_keys).filter(|k| !k.trim().is_empty()),
        restore_from: known(&planned.restore_from),
        // Firewall first when it has security groups: then it is started after they are attached.
        start: known(&planned.started).unwrap_or(true)
            && known_list(&planned.security_groups).is_none_or(|g| g.is_empty()),
    };

    check_groups_exist(host, planned).await?;
    let vmid = if let Some(clone_from) = known(&planned.clone_from) {
        clone_container(cloud, host, planned, &clone_from, deadline).await?
    } else if let Some(vmid) = known(&planned.vmid) {
        request.vmid = vmid as u32;
        create_once(host, &request, deadline).await?;
        request.vmid
    } else {
        allocate_and_create(cloud, host, &mut request, deadline).await?
    };
    host.forget(vmid).await;
    if request.restore_from.is_some() {
        // The archive's configuration fills in what the command line left out.
        match_planned(host, vmid, planned, deadline).await?;
    }
    // Firewall first: the container never runs unfiltered.
    if known_list(&planned.security_groups).is_some_and(|g| !g.is_empty()) {
        attach_groups(host, vmid, planned).await.map_err(|e| Failed::after_create(vmid, e))?;
    }
    let started_by_create = request.start && known(&planned.clone_from).is_none();
    finish_create(host, vmid, planned, secrets, started_by_create, deadline).await?;
    Ok(vmid)
}

/// Every security group the container is to use exists, before anything is created: attaching
/// a missing one fails only after the container exists. The cached view may predate a group
/// made in this apply (through another zone's host), so a miss is read again before it counts.
async fn check_groups_exist(host: &Arc<Host>, planned: &ContainerState) -> Result<(), Failed> {
    let wanted = known_list(&planned.security_groups).unwrap_or_default();
    if wanted.is_empty() {
        return Ok(());
    }
    let missing = |inventory: &crate::pve::inventory::Inventory| -> Vec<String> {
        wanted.iter().filter(|g| !inventory.cluster_firewall.groups.contains_key(*g)).cloned().collect()
    };
    let inventory = host.inventory().await.map_err(Failed::before_create)?;
    if missing(&inventory).is_empty() {
        return Ok(());
    }
    host.invalidate().await;
    let inventory = host.inventory().await.map_err(Failed::before_create)?;
    match missing(&inventory).as_slice() {
        [] => Ok(()),
        names => Err(Failed::before_create(format!(
            "security_groups: {} not in the cluster firewall of {}; create {} (lws_security_group) or fix the name. Nothing was created.",
            names.iter().map(|n| format!("'{n}' is")).collect::<Vec<_>>().join(", "),
            host.region,
            if names.len() == 1 { "it" } else { "them" },
        ))),
    }
}

/// `pct create`. A create that may have reached the host without its answer coming back (a
/// timeout, a session lost midway) counts as made: Proxmox may have the VMID, or get it when
/// the task finishes, so state keeps it (tainted, refreshed away if it never appears) rather
/// than forget a container the next apply would then make twice. When `pct create` itself says
/// it failed, nothing of ours is left under the VMID: pve-container `create_vm` destroys the
/// config and disks it made before dying (`destroy_config_on_error`), and a failed `--start`
/// does not fail the create (the start is a task of its own; `finish_create` checks it). A
/// container found under the VMID then is someone else's and must never be adopted.
async fn create_once(host: &Arc<Host>, request: &CreateRequest, deadline: Instant) -> Result<(), Failed> {
    let result = until(deadline, || lxc::create(host.as_ref(), request, Some(remaining(deadline)))).await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.may_have_run() => Err(Failed::after_create(request.vmid, e)),
        Err(e) => Err(Failed::before_create(e)),
    }
}

/// Whether a create that Proxmox refused lost its VMID to another client: "CT <id> already
/// exists on node '<n>'" (pve-cluster `Cluster.pm` `check_vmid_unused`), or any other refusal
/// after which the VMID is now in use — two nodes creating one VMID at once both pass
/// `check_vmid_unused`, and pmxcfs refuses the second config write (`memdb_rename` → EEXIST:
/// "close (rename) atomic file '…' failed: File exists"). "already exists" alone is not enough:
/// a volume left behind says it too (pve-storage `Plugin.pm` "disk image '…' already exists"),
/// and a new VMID would not help.
async fn lost_the_vmid(host: &Arc<Host>, vmid: u32, failed: &Failed) -> bool {
    if failed.created_vmid.is_some() {
        return false;
    }
    if failed.error.contains(&format!(" {vmid} already exists on node '")) {
        return true;
    }
    host.forget(vmid).await;
    matches!(find(host, vmid).await, Ok(Some(_)))
}

/// Pick the lowest free VMID (reserved against parallel creates in this process) and create;
/// on Proxmox's "already exists" (someone else took it) try again with a fresh id.
async fn allocate_and_create(
    cloud: &Cloud,
    host: &Arc<Host>,
    request: &mut CreateRequest,
    deadline: Instant,
) -> Result<u32, Failed> {
    let allocator = host.cluster().await.map_err(Failed::before_create)?.allocator();
    let mut last_error = String::new();
    for _ in 0..ALLOCATION_ATTEMPTS {
        let inventory = host.last_inventory().await.map_err(Failed::before_create)?;
        let reservation = allocator
            .reserve(&inventory.used_ids, cloud.defaults.start_vmid)
            .ok_or_else(|| Failed::before_create("no free VMID left"))?;
        request.vmid = reservation.vmid;
        match create_once(host, request, deadline).await {
            Ok(()) => {
                reservation.keep();
                return Ok(request.vmid);
            }
            Err(failed) if lost_the_vmid(host, reservation.vmid, &failed).await => {
                tracing::debug!(vmid = reservation.vmid, error = %failed.error, "VMID taken meanwhile; allocating another");
                last_error = failed.error;
                // Someone else's now: never offered again by this process, no re-read needed.
                reservation.keep();
            }
            Err(failed) => return Err(failed),
        }
    }
    Err(Failed::before_create(format!(
        "could not allocate a free VMID after {ALLOCATION_ATTEMPTS} attempts: {last_error}"
    )))
}

/// The host of the zone whose node (of `host`'s cluster) holds a clone's source.
pub async fn source_host(cloud: &Cloud, host: &Host, node: &str, vmid: u32) -> Result<Arc<Host>, String> {
    let region = &host.region;
    crate::cloud::locate::zone_of_node(cloud, host, node)
        .await
        .and_then(|az| cloud.host(region, &az))
        .ok_or_else(|| {
            format!(
                "clone_from: container {vmid} is on node '{node}', which no configured availability zone of {region} reaches; Proxmox runs a clone on the source's node. Add that node as an availability zone in the LWS configuration"
            )
        })
}

async fn clone_container(
    cloud: &Cloud,
    host: &Arc<Host>,
    planned: &ContainerState,
    source: &str,
    deadline: Instant,
) -> Result<u32, Failed> {
    let (_, source_vmid) = crate::cloud::id::parse_container_reference(source).map_err(Failed::before_create)?;
    let allocator = host.cluster().await.map_err(Failed::before_create)?.allocator();
    let inventory = host.inventory().await.map_err(Failed::before_create)?;
    let source_listing = inventory.containers.get(&source_vmid).ok_or_else(|| {
        Failed::before_create(format!("clone_from: container {source_vmid} does not exist in this cluster"))
    })?;
    let source_node = source_listing.node.clone();
    let node = host.node().await.map_err(Failed::before_create)?;
    // `pct` is node-local: the clone runs on the source's node and, for another zone's node,
    // puts the copy there with `--target` (the plan checked the storage is shared).
    let (source_host, target) = if source_node == node {
        (host.clone(), None)
    } else {
        (source_host(cloud, host, &source_node, source_vmid).await.map_err(Failed::before_create)?, Some(node))
    };
    // Whether it runs, from its own node: another node sees pvestatd's last sample, `unknown`
    // for a new guest (pve-manager `extract_vm_stats`).
    let source_running = match find(&source_host, source_vmid).await.map_err(Failed::before_create)? {
        Some(listing) => listing.running(),
        None => return Err(Failed::before_create(format!("clone_from: container {source_vmid} no longer exists"))),
    };
    let (vmid, _reservation) = match known(&planned.vmid) {
        Some(v) => (v as u32, None),
        None => {
            let reservation = allocator
                .reserve(&inventory.used_ids, cloud.defaults.start_vmid)
                .ok_or_else(|| Failed::before_create("no free VMID left"))?;
            (reservation.vmid, Some(reservation))
        }
    };
    let hostname = known(&planned.hostname);
    let storage = known(&planned.storage);
    let description = known(&planned.description);
    // A running source is cloned from a temporary snapshot, removed afterwards whatever happened.
    let snapname = source_running.then(|| format!("lws-clone-{vmid}"));
    if let Some(name) = &snapname {
        let description = "temporary snapshot for a clone by terraform-provider-lws";
        until(deadline, || {
            snapshot::take(source_host.as_ref(), source_vmid, name, Some(description), Some(remaining(deadline)))
        })
            .await
            .map_err(|e| {
                Failed::before_create(format!(
                    "clone_from: container {source_vmid} is running, and cloning a running container needs a snapshot of it: {e}. Stop it first, or keep it on storage that supports snapshots"
                ))
            })?;
    }
    let request = lxc::CloneRequest {
        snapname: snapname.as_deref(),
        target: target.as_deref(),
        hostname: hostname.as_deref(),
        storage: storage.as_deref(),
        description: description.as_deref(),
    };
    let cloned =
        until(deadline, || lxc::clone(source_host.as_ref(), source_vmid, vmid, &request, Some(remaining(deadline))))
            .await;
    if let Some(name) = &snapname {
        if let Err(e) = snapshot::delete(source_host.as_ref(), source_vmid, name, Some(remaining(deadline))).await {
            tracing::warn!("could not remove the temporary snapshot {name} of container {source_vmid}: {e}");
        }
        source_host.forget(source_vmid).await;
    }
    if target.is_some() {
        source_host.forget(vmid).await;
    }
    // As for a create: a clone that may have reached the host keeps its VMID in state.
    cloned.map_err(|e| if e.may_have_run() { Failed::after_create(vmid, e) } else { Failed::before_create(e) })?;
    // A clone copies its source's settings: bring it to the planned ones.
    match_planned(host, vmid, planned, deadline).await?;
    Ok(vmid)
}

/// Bring a container made from something else's settings (a clone's source, a backup's
/// archive) to the planned ones: `pct set` what differs, grow the disk when it is smaller.
async fn match_planned(host: &Arc<Host>, vmid: u32, planned: &ContainerState, deadline: Instant) -> Result<(), Failed> {
    let listing = find(host, vmid).await.map_err(|e| Failed::after_create(vmid, e))?;
    if let Some(listing) = listing {
        let config = listing.typed_config().map_err(|e| Failed::after_create(vmid, e))?;
        let (changes, deletes) = config_changes(&config, planned);
        until(deadline, || lxc::set(host.as_ref(), vmid, &changes, &deletes, Some(remaining(deadline))))
            .await
            .map_err(|e| Failed::after_create(vmid, e))?;
        if let Some(gib) = known(&planned.disk_size) {
            let current = listing.current_config().map_err(|e| Failed::after_create(vmid, e))?;
            if gib as u64 > current.rootfs.and_then(|r| r.size_gib()).unwrap_or(0) {
                until(deadline, || lxc::resize(host.as_ref(), vmid, "rootfs", gib as u64, Some(remaining(deadline))))
                    .await
                    .map_err(|e| Failed::after_create(vmid, e))?;
            }
        }
    }
    host.forget(vmid).await;
    Ok(())
}

/// Write-only secrets of an apply, from the configuration (never in plan or state).
pub struct Secrets {
    pub password_wo: Option<String>,
    /// Whether `password_wo` is to be sent (always at creation; on update when its version changed).
    pub rotated: bool,
}

impl Secrets {
    fn password(&self) -> Option<&String> {
        self.password_wo.as_ref().filter(|_| self.rotated)
    }
}

/// After `pct create`: power state, password. Failures here leave a container that state keeps.
async fn finish_create(
    host: &Arc<Host>,
    vmid: u32,
    planned: &ContainerState,
    secrets: &Secrets,
    started_by_create: bool,
    deadline: Instant,
) -> Result<(), Failed> {
    let started = known(&planned.started).unwrap_or(true);
    let password = known(&planned.password).or_else(|| secrets.password().cloned());
    let fail = |e: PveError| Failed::after_create(vmid, e);
    // Setting a password runs chpasswd inside, so the container must run for it.
    let start = started || password.is_some();
    // `pct create --start 1` starts the container as a task of its own after the create
    // (pve-container `src/PVE/API2/LXC.pm` `create_vm`): a failed start need not fail the create.
    // Check, and start it here when it is not running, so a failure is reported with its cause.
    // Whether the host's cached view of the container is current: true right after that check's
    // re-read, false again after any change below. The caller reads it back either way.
    let mut fresh = false;
    let started_by_create = started_by_create && {
        fresh = true;
        find(host, vmid).await.map_err(|e| Failed::after_create(vmid, e))?.is_some_and(|l| l.running())
    };
    if start && !started_by_create {
        until(deadline, || lxc::start(host.as_ref(), vmid, Some(remaining(deadline)))).await.map_err(fail)?;
        fresh = false;
    }
    if let Some(password) = &password {
        lxc::set_password(host.as_ref(), vmid, "root", password, Some(remaining(deadline))).await.map_err(fail)?;
        fresh = false;
    }
    if known(&planned.clone_from).is_some() || known(&planned.restore_from).is_some() {
        if let Some(keys) = known(&planned.ssh_public_keys).filter(|k| !k.trim().is_empty()) {
            lxc::set_authorized_keys(host.as_ref(), vmid, &keys, Some(remaining(deadline))).await.map_err(fail)?;
            fresh = false;
        }
    }
    if start && !started {
        until(deadline, || lxc::stop(host.as_ref(), vmid, Some(remaining(deadline)))).await.map_err(fail)?;
        fresh = false;
    }
    if !fresh {
        host.forget(vmid).await;
    }
    Ok(())
}

/// `pct set` arguments turning `current` into `planned`.
pub fn config_changes(current: &ContainerConfig, planned: &ContainerState) -> (Vec<(String, String)>, Vec<String>) {
    let mut set: Vec<(String, String)> = Vec::new();
    let mut delete: Vec<String> = Vec::new();
    let mut text = |key: &str, want: Option<String>, have: Option<String>| match (want, have) {
        (Some(w), h) if Some(&w) != h.as_ref() => set.push((key.to_owned(), w)),
        (None, Some(_)) => delete.push(key.to_owned()),
        _ => {}
    };
    if let Some(hostname) = known(&planned.hostname) {
        text("hostname", Some(hostname), current.hostname.clone());
    }
    text("memory", known(&planned.memory).map(|v| v.to_string()), current.memory.map(|v| v.to_string()));
    text("swap", known(&planned.swap).map(|v| v.to_string()), current.swap.map(|v| v.to_string()));
    text("cores", known(&planned.cores).map(|v| v.to_string()), current.cores.map(|v| v.to_string()));
    text(
        "cpulimit",
        known(&planned.cpulimit).filter(|c| *c > 0.0).map(|v| v.to_string()),
        current.cpulimit.filter(|c| *c > 0.0).map(|v| v.to_string()),
    );
    text("nameserver", known(&planned.nameserver), current.nameserver.clone());
    text(
        "onboot",
        Some(u8::from(known(&planned.start_on_boot).unwrap_or(false)).to_string()),
        Some(u8::from(current.onboot).to_string()),
    );
    let tags = tags_of(planned);
    text(
        "tags",
        (!tags.is_empty()).then(|| tags.join(";")),
        (!current.tags.is_empty()).then(|| current.tags.join(";")),
    );
    let described = |d: Option<String>| d.map(|d| d.trim_end_matches('\n').to_owned()).filter(|d| !d.is_empty());
    let want_description = described(known(&planned.description));
    if want_description != described(current.description.clone()) {
        text("description", want_description, current.description.clone());
    }
    let mut wanted = features_of(&planned.features);
    let have = &current.features;
    if (wanted.nesting, wanted.keyctl, wanted.fuse) != (have.nesting, have.keyctl, have.fuse) {
        wanted.other = have.other.clone();
        text("features", wanted.to_value(), have.to_value());
    }
    let wanted_nets = networks_of(&planned.network, &current.networks);
    for net in &wanted_nets {
        let have = current.networks.iter().find(|c| c.index == net.index);
        text(&net.key(), Some(net.to_value()), have.map(Network::to_value));
    }
    for old in current.networks.iter().filter(|c| !wanted_nets.iter().any(|w| w.index == c.index)) {
        delete.push(old.key());
    }
    (set, delete)
}

/// Options Proxmox applies to a running container only at its next start.
const APPLIED_AT_NEXT_START: &[&str] = &["nameserver", "searchdomain", "features"];

/// A deleted network Proxmox removes from a running container only at its next start:
/// pve-container `Config.pm` `vmconfig_hotplug_pending` hot-unplugs `^net(\d)$` (one digit), so
/// `net10`…`net31` stay in `[pve:pending]`.
fn unplugged_at_next_start(key: &str) -> bool {
    key.strip_prefix("net").is_some_and(|n| n.len() > 1 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Update in place (and migrate first if the zone changed). Returns warnings for the user.
pub async fn update(
    cloud: &Cloud,
    prior: &ContainerState,
    planned: &ContainerState,
    secrets: &Secrets,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let deadline = Instant::now() + timeout;
    let vmid = known(&prior.vmid).ok_or("the prior state has no vmid")? as u32;
    let mut warnings = Vec::new();
    let (old_region, old_az) = (known(&prior.region).unwrap_or_default(), known(&prior.az).unwrap_or_default());
    let mut host = cloud
        .host(&old_region, &old_az)
        .ok_or_else(|| format!("availability zone {old_region}/{old_az} is no longer configured"))?;
    let new_az = known(&planned.az).unwrap_or_else(|| old_az.clone());

    let listing = find(&host, vmid)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("container {vmid} no longer exists"))?;
    let mut running = listing.running();
    if new_az != old_az {
        let target = cloud
            .host(&old_region, &new_az)
            .ok_or_else(|| format!("availability zone {old_region}/{new_az} is not configured"))?;
        let node = target.node().await.map_err(|e| e.to_string())?;
        until(deadline, || lxc::migrate(host.as_ref(), vmid, &node, running, Some(remaining(deadline))))
            .await
            .map_err(|e| e.to_string())?;
        host.invalidate().await;
        target.invalidate().await;
        host = target;
    }
    let listing = find(&host, vmid)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("container {vmid} is missing after migration"))?;
    running = listing.running();
    let current = listing.typed_config()?;
    let (changes, deletes) = config_changes(&current, planned);
    if running {
        let pending: Vec<&str> = changes
            .iter()
            .map(|(k, _)| k.as_str())
            .chain(deletes.iter().map(String::as_str))
            .filter(|k| APPLIED_AT_NEXT_START.contains(k))
            .chain(deletes.iter().map(String::as_str).filter(|k| unplugged_at_next_start(k)))
            .collect();
        if !pending.is_empty() {
            warnings.push(format!(
                "Proxmox applies {} to a running container at its next start; restart container {vmid} for the change to take effect",
                pending.join(", ")
            ));
        }
    }
    until(deadline, || lxc::set(host.as_ref(), vmid, &changes, &deletes, Some(remaining(deadline))))
        .await
        .map_err(|e| e.to_string())?;
    if planned.security_groups != prior.security_groups {
        attach_groups(&host, vmid, planned).await?;
    }

    // In bytes: a disk of 8.5 GiB reads as 8, and a planned 9 still grows it.
    let want_disk = known(&planned.disk_size).unwrap_or(0) as u64;
    let have_bytes = current.rootfs.as_ref().and_then(|r| r.size_bytes).unwrap_or(0);
    if want_disk << 30 > have_bytes {
        until(deadline, || lxc::resize(host.as_ref(), vmid, "rootfs", want_disk, Some(remaining(deadline))))
            .await
            .map_err(|e| e.to_string())?;
    }

    // Secrets set inside the container need it running; start it for that if it is not.
    let new_password = known(&planned.password)
        .filter(|p| Some(p) != known(&prior.password).as_ref())
        .or_else(|| secrets.password().cloned());
    let new_keys = known(&planned.ssh_public_keys).filter(|k| Some(k) != known(&prior.ssh_public_keys).as_ref());
    let want_running = known(&planned.started).unwrap_or(true);
    if (new_password.is_some() || new_keys.is_some()) && !running {
        until(deadline, || lxc::start(host.as_ref(), vmid, Some(remaining(deadline))))
            .await
            .map_err(|e| e.to_string())?;
        running = true;
    }
    if let Some(password) = &new_password {
        lxc::set_password(host.as_ref(), vmid, "root", password, Some(remaining(deadline)))
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(keys) = &new_keys {
        lxc::set_authorized_keys(host.as_ref(), vmid, keys, Some(remaining(deadline)))
            .await
            .map_err(|e| e.to_string())?;
    }
    if want_running && !running {
        until(deadline, || lxc::start(host.as_ref(), vmid, Some(remaining(deadline))))
            .await
            .map_err(|e| e.to_string())?;
    } else if !want_running && running {
        until(deadline, || lxc::stop(host.as_ref(), vmid, Some(remaining(deadline))))
            .await
            .map_err(|e| e.to_string())?;
    }
    host.forget(vmid).await;
    Ok(warnings)
}

/// Stop (if running) and destroy with `--purge`; a container already gone is fine.
///
/// `pct` is node-local: on another node than the container's, `pct stop` says "not running" and
/// `pct destroy` "Configuration file … does not exist" (pve-guest-common `AbstractConfig.pm`
/// `load_config` reads the local node's file), which would look like "already gone" while the
/// container lives on. So the commands run on the zone of the node that has it, or not at all.
pub async fn delete(cloud: &Cloud, host: &Arc<Host>, vmid: u32, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let Some(listing) = find(host, vmid).await.map_err(|e| e.to_string())? else { return Ok(()) };
    let node = host.node().await.map_err(|e| e.to_string())?;
    let host = if listing.node == node {
        host.clone()
    } else {
        let az = crate::cloud::locate::zone_of_node(cloud, host, &listing.node).await.ok_or_else(|| {
            format!(
                "container {vmid} is on node '{}', which no configured availability zone of {} reaches (`pct` works only on the container's node); add that node as an availability zone, or destroy the container there",
                listing.node, host.region
            )
        })?;
        let other = cloud
            .host(&host.region, &az)
            .ok_or_else(|| format!("availability zone {}/{az} is not configured", host.region))?;
        host.forget(vmid).await;
        other
    };
    // Running state from the container's own node (another node's view lags pvestatd).
    let Some(listing) = find(&host, vmid).await.map_err(|e| e.to_string())? else { return Ok(()) };
    stop_and_destroy(&host, vmid, &listing, deadline).await.map_err(|e| e.to_string())
}

async fn stop_and_destroy(host: &Arc<Host>, vmid: u32, listing: &Listing, deadline: Instant) -> Result<(), PveError> {
    // A create that died midway leaves `lock: create`, which `destroy_vm` refuses (`check_lock`).
    // This container is in state, so it is ours: unlock it (which waits while a create task
    // still holds the config lock) and destroy it.
    if listing.config.current.get("lock") == Some("create") {
        match until(deadline, || lxc::unlock(host.as_ref(), vmid, Some(remaining(deadline)))).await {
            Err(e) if e.to_string().contains("no lock found") => {}
            other => other?,
        }
    }
    if listing.running() {
        match until(deadline, || lxc::stop(host.as_ref(), vmid, Some(remaining(deadline)))).await {
            Err(e) if e.is(&Kind::NotRunning) => {}
            other => other?,
        }
    }
    match until(deadline, || lxc::destroy(host.as_ref(), vmid, Some(remaining(deadline)))).await {
        Err(e) if e.is(&Kind::NotFound) => {}
        other => other?,
    }
    host.forget(vmid).await;
    Ok(())
}
