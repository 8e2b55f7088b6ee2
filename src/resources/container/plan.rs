//! Planning `lws_container`: defaults resolved at plan time (so plans show real values, not
//! "known after apply"), computed values carried over from the prior state, and which changes
//! force a replacement.

use std::sync::Arc;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::cloud::{Cloud, Host, InstanceSize};
use crate::tf::{error_at, known, or_default, path};

use super::state::{ContainerState, FeaturesState, NetworkState, Private};
use super::validate::parse_cidr;

/// Where the container lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub region: String,
    pub az: String,
}

impl Placement {
    pub fn host(&self, cloud: &Cloud) -> Option<Arc<Host>> {
        cloud.host(&self.region, &self.az)
    }
}

/// Region and zone from the configuration and the provider's defaults.
pub fn placement(config: &ContainerState, cloud: &Cloud, diags: &mut Diagnostics) -> Option<Placement> {
    let region = match known(&config.region).or_else(|| cloud.default_region.clone()) {
        Some(r) => r,
        None => {
            error_at(
                diags,
                path(&["region"]),
                "region is not set",
                format!(
                    "set region on the resource, or a default region on the provider (region, or LWS_REGION); configured regions: {}",
                    cloud.region_names().join(", ")
                ),
            );
            return None;
        }
    };
    let Some(zones) = cloud.zones(&region) else {
        error_at(
            diags,
            path(&["region"]),
            format!("unknown region '{region}'"),
            format!("configured regions: {}", cloud.region_names().join(", ")),
        );
        return None;
    };
    let az = match known(&config.az) {
        Some(az) if zones.contains(&az) => az,
        Some(az) => {
            error_at(
                diags,
                path(&["az"]),
                format!("unknown availability zone '{az}' in region '{region}'"),
                format!("availability zones of {region}: {}", zones.join(", ")),
            );
            return None;
        }
        None if zones.len() == 1 => zones[0].clone(),
        None => {
            error_at(
                diags,
                path(&["az"]),
                "az is not set",
                format!("region '{region}' has several availability zones ({}); choose one", zones.join(", ")),
            );
            return None;
        }
    };
    Some(Placement { region, az })
}

fn size<'c>(config: &ContainerState, cloud: &'c Cloud, diags: &mut Diagnostics) -> Option<Option<&'c InstanceSize>> {
    match known(&config.size) {
        None => Some(None),
        Some(name) => match cloud.sizes.get(&name) {
            Some(s) => Some(Some(s)),
            None => {
                let known_sizes: Vec<&str> = cloud.sizes.keys().map(String::as_str).collect();
                error_at(
                    diags,
                    path(&["size"]),
                    format!("unknown instance size '{name}'"),
                    if known_sizes.is_empty() {
                        "no instance_sizes are configured (in the LWS file or the provider block)".to_owned()
                    } else {
                        format!("configured sizes: {}", known_sizes.join(", "))
                    },
                );
                None
            }
        },
    }
}

/// The configuration with every default filled in. Computed-only attributes are untouched.
pub fn desired(
    config: &ContainerState,
    cloud: &Cloud,
    at: &Placement,
    diags: &mut Diagnostics,
) -> Option<ContainerState> {
    let size = size(config, cloud, diags)?;
    let mut d = config.clone();
    // Write-only: Terraform wants it null in every plan; `create`/`update` read it from config.
    d.password_wo = Value::Null;
    d.region = Value::Value(at.region.clone());
    d.az = Value::Value(at.az.clone());
    d.memory = or_default(config.memory, Some(size.and_then(|s| s.memory).unwrap_or(512) as i64));
    d.swap = or_default(config.swap, Some(size.and_then(|s| s.swap).unwrap_or(512) as i64));
    d.cores = or_default(config.cores, size.and_then(|s| s.cores).map(i64::from));
    d.cpulimit = or_default(config.cpulimit, size.and_then(|s| s.cpulimit).filter(|c| *c > 0.0));
    d.storage = or_default(
        config.storage.clone(),
        Some(size.and_then(|s| s.storage.clone()).unwrap_or_else(|| cloud.defaults.storage.clone())),
    );
    d.disk_size = or_default(config.disk_size, Some(size.and_then(|s| s.disk_gib).unwrap_or(8) as i64));
    d.unprivileged = or_default(config.unprivileged, Some(true));
    d.start_on_boot = or_default(config.start_on_boot, Some(cloud.defaults.onboot));
    d.started = or_default(config.started, Some(true));
    d.features = match &config.features {
        Value::Value(f) => Value::Value(FeaturesState {
            nesting: or_default(f.nesting, Some(false)),
            keyctl: or_default(f.keyctl, Some(false)),
            fuse: or_default(f.fuse, Some(false)),
        }),
        Value::Null => Value::Value(FeaturesState {
            nesting: Value::Value(false),
            keyctl: Value::Value(false),
            fuse: Value::Value(false),
        }),
        Value::Unknown => Value::Unknown,
    };
    // Interfaces filter through the firewall by default exactly when security groups are used.
    let filtered = matches!(&config.security_groups, Value::Value(groups) if !groups.is_empty());
    d.network = match &config.network {
        Value::Value(nets) => {
            Value::Value(nets.iter().enumerate().map(|(i, n)| network_defaults(n, i, cloud, filtered)).collect())
        }
        Value::Null => Value::Value(vec![network_defaults(&NetworkState::default(), 0, cloud, filtered)]),
        Value::Unknown => Value::Unknown,
    };
    // An empty tag set and no tags are the same thing on Proxmox.
    if matches!(&config.tags, Value::Value(t) if t.is_empty()) {
        d.tags = Value::Null;
    }
    Some(d)
}

fn network_defaults(net: &NetworkState, index: usize, cloud: &Cloud, filtered: bool) -> NetworkState {
    NetworkState {
        name: or_default(net.name.clone(), Some(format!("eth{index}"))),
        bridge: or_default(net.bridge.clone(), Some(cloud.defaults.bridge.clone())),
        ip: or_default(net.ip.clone(), Some("dhcp".to_owned())),
        gateway: net.gateway.clone(),
        vlan: net.vlan,
        firewall: or_default(net.firewall, Some(filtered)),
        mac_address: net.mac_address.clone(),
    }
}

/// The address a plan can promise: a static one; DHCP is known only once running.
fn planned_ipv4(networks: &Value<Vec<NetworkState>>, started: &Value<bool>) -> Value<String> {
    match networks {
        Value::Value(nets) => match nets.first().map(|n| &n.ip) {
            Some(Value::Value(ip)) => match parse_cidr(ip) {
                Some((addr, _)) => Value::Value(addr.to_string()),
                None if ip == "dhcp" && *started == Value::Value(true) => Value::Unknown,
                None => Value::Null,
            },
            None => Value::Null,
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    }
}

pub fn status_for(started: &Value<bool>) -> Value<String> {
    match started {
        Value::Value(true) => Value::Value("running".to_owned()),
        Value::Value(false) => Value::Value("stopped".to_owned()),
        _ => Value::Unknown,
    }
}

/// The plan of a new container.
pub fn plan_create(mut d: ContainerState) -> ContainerState {
    // Unknown even with a fixed `vmid`: Terraform plans a replacement as a create, and what lives
    // on the container (snapshots, apps) must see through this id that its container is new.
    d.id = Value::Unknown;
    d.vmid = match d.vmid {
        Value::Null => Value::Unknown,
        other => other,
    };
    if d.hostname.is_null() {
        d.hostname = Value::Unknown; // Proxmox names it CT<vmid>
    }
    d.node = Value::Unknown;
    d.status = status_for(&d.started);
    d.ipv4_address = planned_ipv4(&d.network, &d.started);
    d.mac_address = Value::Unknown;
    if let Value::Value(nets) = &mut d.network {
        for net in nets {
            net.mac_address = Value::Unknown;
        }
    }
    d
}

/// How a zone change is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    None,
    /// Another node of the same Proxmox cluster: `pct migrate`.
    Migrate,
    /// Another cluster: replace.
    Replace,
}

/// Whether two `clone_from` values name one container: the same region and VMID (a VMID alone is
/// in `region`), whatever the zone — a container keeps its VMID when it migrates in its cluster.
pub fn names_same_container(a: &str, b: &str, region: Option<&str>) -> bool {
    let parse = |s: &str| crate::cloud::id::parse_container_reference(s);
    match (parse(a), parse(b)) {
        (Ok((ra, va)), Ok((rb, vb))) => {
            let region = |r: Option<String>| r.or_else(|| region.map(str::to_owned));
            va == vb && region(ra) == region(rb)
        }
        _ => false,
    }
}

/// A clone the plan can already tell Proxmox would refuse: its source does not exist, or lives
/// on another node of the cluster while the clone's storage is not shared (pve-container
/// `src/PVE/API2/LXC.pm` `clone_vm`: "can't clone to non-shared storage", "can't clone CT to node
/// … (CT uses local storage)"; a full clone counts every volume on `--storage`, which the plan
/// always gives). Reported at `clone_from` before anything is created or destroyed. A host that
/// cannot be read now is left to apply, which reports it.
pub async fn check_clone(cloud: &Cloud, at: &Placement, d: &ContainerState, diags: &mut Diagnostics) {
    let Some(source) = known(&d.clone_from) else { return };
    let Ok((_, source_vmid)) = crate::cloud::id::parse_container_reference(&source) else { return };
    let Some(host) = at.host(cloud) else { return };
    let (Ok(inventory), Ok(node)) = (host.inventory().await, host.node().await) else { return };
    let Some(listing) = inventory.containers.get(&source_vmid) else {
        error_at(
            diags,
            path(&["clone_from"]),
            format!("container {source_vmid} does not exist"),
            format!(
                "clone_from names container {source_vmid}, which is not in the Proxmox cluster of {}/{}; clones are made within a cluster",
                at.region, at.az
            ),
        );
        return;
    };
    if listing.node == node {
        return;
    }
    let fix = format!(
        "Put the clone in the availability zone of node '{}', set storage to a shared storage, or migrate the source first",
        listing.node
    );
    if let Err(e) = super::apply::source_host(cloud, &host, &listing.node, source_vmid).await {
        error_at(diags, path(&["clone_from"]), "the clone's source cannot be reached", e);
        return;
    }
    let Some(storage) = known(&d.storage) else { return };
    let Ok(storages) = crate::pve::node::storages(host.as_ref(), &node).await else { return };
    // pve-storage `storage_info` lists storages restricted to other nodes too, `enabled 0` and
    // `active 0`: only an enabled, active, shared one takes the clone here.
    let usable = |s: &&crate::pve::node::StorageStatus| s.shared == 1 && s.enabled == 1 && s.active == 1;
    let shared: Vec<&str> =
        storages.iter().filter(usable).filter(|s| s.holds("rootdir")).map(|s| s.storage.as_str()).collect();
    let available = if shared.is_empty() {
        format!("node '{node}' has no shared storage for containers")
    } else {
        format!("shared on node '{node}': {}", shared.join(", "))
    };
    match storages.iter().find(|s| s.storage == storage) {
        Some(s) if usable(&s) => {}
        found => error_at(
            diags,
            path(&["clone_from"]),
            format!(
                "container {source_vmid} is on node '{}', and this clone goes to node '{node}' ({}/{}) on {} storage '{storage}'",
                listing.node,
                at.region,
                at.az,
                match found {
                    Some(s) if s.shared == 1 => "shared but not enabled or active",
                    Some(_) => "local",
                    None => "unknown",
                }
            ),
            format!(
                "Proxmox copies a container to another node only onto shared storage (\"can't clone to non-shared storage '{storage}'\"). {fix} ({available})."
            ),
        ),
    }
}

/// A container about to be made needs a template or a source to clone.
pub fn check_source(planned: &ContainerState, making: &str, diags: &mut Diagnostics) {
    if planned.template.is_null() && planned.clone_from.is_null() && planned.restore_from.is_null() {
        error_at(
            diags,
            path(&["template"]),
            "template, clone_from or restore_from is required",
            format!("{making} needs one: set template to an OS template volume such as \"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst\" (the lws_templates data source lists them), clone_from to an existing container, or restore_from to a backup"),
        );
    }
}

/// The plan of an existing container, and the attributes that force its replacement.
pub fn plan_update(
    prior: &ContainerState,
    mut d: ContainerState,
    private: &Private,
    zone_move: Move,
    diags: &mut Diagnostics,
) -> (ContainerState, Vec<AttributePath>) {
    let mut replace = Vec::new();
    let mut forces = |name: &str, changed: bool| {
        if changed {
            replace.push(path(&[name]));
        }
    };
    let differs = |a: &Value<String>, b: &Value<String>| a.is_value() && b.is_value() && a != b;

    // What Proxmox cannot report is adopted from the configuration after an import.
    let adopting = private.imported;
    if adopting && (prior.template.is_null() || prior.size.is_null()) && (d.template.is_value() || d.size.is_value()) {
        diags.root_warning(
            "Adopting configuration-only values after import",
            "Proxmox does not record a container's template, instance size, password or SSH keys. After an import, this plan takes them from your configuration; applying it changes nothing on the host.",
        );
    }
    forces("region", differs(&prior.region, &d.region));
    forces("template", differs(&prior.template, &d.template) && !adopting);
    forces("restore_from", differs(&prior.restore_from, &d.restore_from) && !adopting);
    // `clone_from` matters only at creation: the source moving to another zone is no reason to
    // destroy the clone.
    let same_source = match (known(&prior.clone_from), known(&d.clone_from)) {
        (Some(a), Some(b)) => names_same_container(&a, &b, known(&prior.region).as_deref()),
        _ => false,
    };
    forces("clone_from", differs(&prior.clone_from, &d.clone_from) && !same_source && !adopting);
    forces("storage", differs(&prior.storage, &d.storage));
    forces(
        "unprivileged",
        prior.unprivileged.is_value() && d.unprivileged.is_value() && prior.unprivileged != d.unprivileged,
    );
    forces(
        "disk_size",
        matches!((&prior.disk_size, &d.disk_size), (Value::Value(old), Value::Value(new)) if new < old),
    );
    forces("vmid", matches!((&prior.vmid, &d.vmid), (Value::Value(old), Value::Value(new)) if new != old));
    forces("az", zone_move == Move::Replace);

    // Computed values: unchanged unless this plan changes what they depend on.
    let vmid_configured = !d.vmid.is_null();
    let hostname_configured = !d.hostname.is_null();
    if d.vmid.is_null() {
        d.vmid = prior.vmid;
    }
    if d.hostname.is_null() {
        d.hostname = prior.hostname.clone();
    }
    d.id = match (&d.region, &d.az, &d.vmid) {
        (Value::Value(r), Value::Value(a), Value::Value(v)) => Value::Value(format!("{r}/{a}/{v}")),
        _ => Value::Unknown,
    };
    d.node = if zone_move == Move::None { prior.node.clone() } else { Value::Unknown };
    d.status = status_for(&d.started);

    let prior_nets = known(&prior.network).unwrap_or_default();
    if let Value::Value(nets) = &mut d.network {
        for (i, net) in nets.iter_mut().enumerate() {
            // A device that keeps its name keeps its MAC.
            net.mac_address = match prior_nets.get(i) {
                Some(old) if old.name == net.name => old.mac_address.clone(),
                _ => Value::Unknown,
            };
        }
    }
    d.mac_address = match &d.network {
        Value::Value(nets) => nets.first().map(|n| n.mac_address.clone()).unwrap_or(Value::Null),
        _ => Value::Unknown,
    };
    let first_unchanged = prior_nets.first().map(|n| (&n.name, &n.ip))
        == known(&d.network).as_ref().and_then(|n| n.first()).map(|n| (&n.name, &n.ip));
    let restarts = prior.started != d.started || zone_move != Move::None;
    d.ipv4_address = match planned_ipv4(&d.network, &d.started) {
        Value::Unknown if first_unchanged && !restarts => prior.ipv4_address.clone(),
        other => other,
    };
    if !replace.is_empty() {
        // A replacement is a new container: everything assigned by Proxmox is new too.
        d.node = Value::Unknown;
        d.mac_address = Value::Unknown;
        if let Value::Value(nets) = &mut d.network {
            for net in nets {
                net.mac_address = Value::Unknown;
            }
        }
        d.id = Value::Unknown;
        if !vmid_configured {
            // The replacement gets a freshly allocated id.
            d.vmid = Value::Unknown;
        }
        if !hostname_configured {
            d.hostname = Value::Unknown;
        }
        d.ipv4_address = planned_ipv4(&d.network, &d.started);
    }
    (d, replace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &str) -> Value<String> {
        Value::Value(v.to_owned())
    }

    fn net(name: &str, ip: &str, mac: Value<String>) -> NetworkState {
        NetworkState { name: text(name), ip: text(ip), mac_address: mac, ..NetworkState::default() }
    }

    /// A container as state holds it after a create.
    fn existing() -> ContainerState {
        ContainerState {
            id: text("eu-south-1/az1/105"),
            region: text("eu-south-1"),
            az: text("az1"),
            vmid: Value::Value(105),
            node: text("az1"),
            hostname: text("web"),
            template: text("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"),
            disk_size: Value::Value(8),
            storage: text("local-lvm"),
            started: Value::Value(true),
            network: Value::Value(vec![net("eth0", "dhcp", text("BC:24:11:00:00:01"))]),
            mac_address: text("BC:24:11:00:00:01"),
            ipv4_address: text("10.0.0.7"),
            ..ContainerState::default()
        }
    }

    /// The configuration of `existing`, as Terraform proposes it (computed values unknown).
    fn proposed() -> ContainerState {
        let mut d = existing();
        d.id = Value::Unknown;
        d.node = Value::Unknown;
        d.vmid = Value::Null;
        d.network = Value::Value(vec![net("eth0", "dhcp", Value::Unknown)]);
        d
    }

    fn update(
        prior: &ContainerState,
        d: ContainerState,
        imported: bool,
    ) -> (ContainerState, Vec<AttributePath>, Diagnostics) {
        let mut diags = Diagnostics::default();
        let (planned, replace) = plan_update(prior, d, &Private { imported }, Move::None, &mut diags);
        (planned, replace, diags)
    }

    #[test]
    fn a_new_container_plans_what_it_can_know() {
        let mut d = proposed();
        d.hostname = Value::Null;
        d.network = Value::Value(vec![net("eth0", "10.0.0.5/24", Value::Null)]);
        let planned = plan_create(d.clone());
        assert_eq!(planned.id, Value::Unknown);
        assert_eq!(planned.vmid, Value::Unknown);
        assert_eq!(planned.hostname, Value::Unknown, "Proxmox names it CT<vmid>");
        assert_eq!(planned.ipv4_address, text("10.0.0.5"), "a static address is known");
        assert_eq!(planned.status, text("running"));
        d.network = Value::Value(vec![net("eth0", "dhcp", Value::Null)]);
        assert_eq!(plan_create(d.clone()).ipv4_address, Value::Unknown, "a lease comes once running");
        d.started = Value::Value(false);
        let stopped = plan_create(d);
        assert_eq!(stopped.ipv4_address, Value::Null, "a stopped DHCP container has no address");
        assert_eq!(stopped.status, text("stopped"));
    }

    #[test]
    fn an_unchanged_container_keeps_what_proxmox_assigned() {
        let (planned, replace, diags) = update(&existing(), proposed(), false);
        assert!(replace.is_empty() && diags.errors.is_empty());
        assert_eq!(planned.vmid, Value::Value(105));
        assert_eq!(planned.id, text("eu-south-1/az1/105"));
        assert_eq!(planned.mac_address, text("BC:24:11:00:00:01"), "a device that keeps its name keeps its MAC");
        assert_eq!(planned.ipv4_address, text("10.0.0.7"), "the lease stays while nothing restarts");
        let mut stopping = proposed();
        stopping.started = Value::Value(false);
        assert_eq!(update(&existing(), stopping, false).0.ipv4_address, Value::Null);
    }

    #[test]
    fn only_what_proxmox_cannot_change_in_place_replaces() {
        let mut grown = proposed();
        grown.disk_size = Value::Value(16);
        assert!(update(&existing(), grown, false).1.is_empty(), "a disk grows in place");
        let mut shrunk = proposed();
        shrunk.disk_size = Value::Value(4);
        assert_eq!(update(&existing(), shrunk, false).1, vec![path(&["disk_size"])]);
        let mut other_template = proposed();
        other_template.template = text("local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst");
        let (planned, replace, _) = update(&existing(), other_template.clone(), false);
        assert_eq!(replace, vec![path(&["template"])]);
        assert_eq!(planned.vmid, Value::Unknown, "a replacement gets a new VMID");
        assert_eq!(planned.mac_address, Value::Unknown);
        let mut restored = proposed();
        restored.template = Value::Null;
        restored.restore_from = text("local:backup/vzdump-lxc-105-2026_12_01-00_00_00.tar.zst");
        let prior = ContainerState {
            restore_from: text("local:backup/vzdump-lxc-105-2026_11_01-00_00_00.tar.zst"),
            ..existing()
        };
        assert_eq!(update(&prior, restored, false).1, vec![path(&["restore_from"])]);
        let mut fixed = other_template;
        fixed.vmid = Value::Value(105);
        assert_eq!(update(&existing(), fixed, false).0.vmid, Value::Value(105), "a configured VMID is kept");
    }

    #[test]
    fn an_import_adopts_configuration_only_values_with_a_warning() {
        let imported = ContainerState { template: Value::Null, ..existing() };
        let (_, replace, diags) = update(&imported, proposed(), true);
        assert!(replace.is_empty(), "{replace:?}");
        assert_eq!(diags.warnings.len(), 1);
        let (_, replace, _) = update(&imported, proposed(), false);
        assert!(replace.is_empty(), "a null prior template is never a change");
    }

    #[test]
    fn a_source_that_moved_zone_is_the_same_container() {
        assert!(names_same_container("eu-south-1/az1/100", "eu-south-1/az2/100", None));
        assert!(names_same_container("100", "eu-south-1/az2/100", Some("eu-south-1")));
        assert!(!names_same_container("eu-south-1/az1/100", "eu-south-1/az1/101", None));
        assert!(!names_same_container("eu-south-1/az1/100", "us-east-1/az1/100", None));
        assert!(!names_same_container("100", "us-east-1/az1/100", Some("eu-south-1")));
        assert!(!names_same_container("garbage", "garbage", None));
    }
}
