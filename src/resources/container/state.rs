//! `lws_container`'s schema and its Terraform-side state.

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{self, Value};

use crate::tf::schema::{
    attributes, bool as boolean, computed, number, optional, optional_computed, sensitive, set_of_strings, string,
    timeouts_block, write_only,
};
use crate::tf::{List, Set, Timeouts};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkState {
    pub name: Value<String>,
    pub bridge: Value<String>,
    pub ip: Value<String>,
    pub gateway: Value<String>,
    pub vlan: Value<i64>,
    pub firewall: Value<bool>,
    pub mac_address: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FeaturesState {
    pub nesting: Value<bool>,
    pub keyctl: Value<bool>,
    pub fuse: Value<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerState {
    pub id: Value<String>,
    pub region: Value<String>,
    pub az: Value<String>,
    pub vmid: Value<i64>,
    pub node: Value<String>,
    pub hostname: Value<String>,
    pub template: Value<String>,
    pub clone_from: Value<String>,
    pub restore_from: Value<String>,
    pub size: Value<String>,
    pub memory: Value<i64>,
    pub cores: Value<i64>,
    pub cpulimit: Value<f64>,
    pub swap: Value<i64>,
    pub disk_size: Value<i64>,
    pub storage: Value<String>,
    pub network: Value<Vec<NetworkState>>,
    pub nameserver: Value<String>,
    pub ssh_public_keys: Value<String>,
    pub password: Value<String>,
    /// Write-only: in configuration (and so in `create`/`update`'s config) only.
    pub password_wo: Value<String>,
    pub password_wo_version: Value<i64>,
    pub unprivileged: Value<bool>,
    pub features: Value<FeaturesState>,
    pub start_on_boot: Value<bool>,
    pub started: Value<bool>,
    pub tags: Set<String>,
    pub description: Value<String>,
    pub security_groups: List<String>,
    pub status: Value<String>,
    pub ipv4_address: Value<String>,
    pub mac_address: Value<String>,
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

/// Kept in Terraform's private state: what plans need to know but users need not see.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Private {
    /// The container was imported: attributes Proxmox cannot report (template, size, password,
    /// ssh_public_keys, clone_from) are adopted from the configuration without a replacement.
    pub imported: bool,
}

pub fn schema() -> Schema {
    let network = attributes(vec![
        ("name", optional_computed(string(), "Interface name inside the container (default `eth0`, `eth1`, … by position).")),
        ("bridge", optional_computed(string(), "Host bridge (default: the LWS file's `default_network`, else `vmbr0`).")),
        ("ip", optional_computed(string(), "`dhcp` (default), `manual`, or an IPv4 address with prefix length (`10.0.0.5/24`).")),
        ("gateway", optional(string(), "IPv4 gateway (with a static `ip`).")),
        ("vlan", optional(number(), "VLAN tag (1 to 4094).")),
        ("firewall", optional_computed(boolean(), "Filter this interface through the Proxmox firewall (default `false`; set automatically when `security_groups` is used).")),
        ("mac_address", computed(string(), "MAC address Proxmox assigned (kept across updates).")),
    ]);
    let features = attributes(vec![
        (
            "nesting",
            optional_computed(
                boolean(),
                "Allow nested containers (needed by Docker in unprivileged containers). Default `false`.",
            ),
        ),
        (
            "keyctl",
            optional_computed(
                boolean(),
                "Allow the keyctl() system call (Docker in unprivileged containers). Default `false`.",
            ),
        ),
        ("fuse", optional_computed(boolean(), "Allow FUSE mounts. Default `false`.")),
    ]);
    let (timeouts_name, timeouts) = timeouts_block("20m", "20m", "10m");
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "One LXC container on a Proxmox host of an LWS availability zone. Memory, cores, swap, hostname, tags, description, power state, start on boot, networks, security groups and disk growth change in place; a new template, storage, a smaller disk, `unprivileged`, `region`, or an `az` in another Proxmox cluster replace the container. Moving `az` within one cluster migrates it.",
            ),
            attributes: attributes(vec![
                ("id", computed(string(), "`<region>/<az>/<vmid>`.")),
                ("region", optional_computed(string(), "Region (default: the provider's `region`). Changing it replaces the container.")),
                ("az", optional_computed(string(), "Availability zone (default: the region's only zone). Within one Proxmox cluster a change migrates the container; otherwise it replaces it.")),
                ("vmid", optional_computed(number(), "Proxmox VMID. Allocated (lowest free, at least the LWS file's `start_vmid`) when not set.")),
                ("node", computed(string(), "Proxmox node the container runs on.")),
                ("hostname", optional_computed(string(), "Hostname (Proxmox's default is `CT<vmid>`).")),
                ("template", optional(string(), "OS template volume, e.g. `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst` (see the `lws_templates` data source). Required unless `clone_from` is set. Changing it replaces the container.")),
                ("restore_from", optional(string(), "Create by restoring this backup (`<storage>:backup/<file>`, an `lws_backup`'s `volid`) with `pct restore` instead of from a template: the archive's files and its configuration, overridden by every setting given here. The archive must be on a storage the zone's host reads (the node the backup was made on, or shared storage). Changing it replaces the container.")),
                ("clone_from", optional(string(), "Create by cloning this container (`<region>/<az>/<vmid>` or a VMID in the same cluster) instead of from a template. A running source is cloned from a temporary snapshot, removed afterwards. Proxmox clones on the source's node; a clone for another zone's node is copied there with `pct clone --target`, which Proxmox allows only onto shared storage, so the plan refuses a clone to another node on local `storage`, naming the shared storages. Naming another container replaces this one; the source moving to another zone of its cluster (same region and VMID) changes nothing.")),
                ("size", optional(string(), "An instance size of the provider configuration (e.g. `small`); its memory, cores, cpulimit, swap and storage are the defaults of the explicit attributes.")),
                ("memory", optional_computed(number(), "Memory in MiB (default: the size's, else 512).")),
                ("cores", optional_computed(number(), "CPU cores visible to the container (default: the size's, else all of the host's).")),
                ("cpulimit", optional_computed(number(), "CPU time limit in cores (default: the size's, else none).")),
                ("swap", optional_computed(number(), "Swap in MiB (default: the size's, else 512).")),
                ("disk_size", optional_computed(number(), "Root disk in GiB (default: the size's, else 8). Growing resizes in place; shrinking replaces the container. A disk grown outside Terraform by part of a GiB reads as the whole GiBs it holds, so it is never taken for a shrink.")),
                ("storage", optional_computed(string(), "Storage of the root disk (default: the size's, else the LWS file's `default_storage`, else `local-lvm`). Changing it replaces the container.")),
                ("network", optional_computed(AttributeType::AttributeList(network), "Network interfaces, in order (`net0`, `net1`, …). Default: one `eth0` on the default bridge with DHCP.")),
                ("nameserver", optional(string(), "DNS servers, space separated.")),
                ("ssh_public_keys", optional(string(), "Public keys for root's `authorized_keys` (one per line).")),
                ("password", sensitive(optional(string(), "Root password (at least 5 characters). Set inside the container with `chpasswd`, on standard input; never on a command line. Stored in Terraform's state: prefer `password_wo`."))),
                ("password_wo", write_only(string(), "Root password, write-only (Terraform ≥ 1.11): sent to the container like `password` but never stored in state or plans. Set at creation, and again whenever `password_wo_version` changes. Conflicts with `password`.")),
                ("password_wo_version", optional(number(), "Any number: changing it sends `password_wo` again (Terraform cannot compare a value it never stores).")),
                ("unprivileged", optional_computed(boolean(), "Run as an unprivileged container (default `true`). Changing it replaces the container.")),
                ("features", optional_computed(AttributeType::AttributeSingle(features), "Container features.")),
                ("start_on_boot", optional_computed(boolean(), "Start the container when the host boots (default: the LWS file's `default_onboot`, else `false`).")),
                ("started", optional_computed(boolean(), "Desired power state (default `true`). A container stopped or started behind Terraform's back shows up as a change.")),
                ("tags", optional(set_of_strings(), "Proxmox tags (lowercase; Proxmox stores them lowercased and sorted).")),
                ("description", optional(string(), "Description (Proxmox's Notes).")),
                ("security_groups", optional(AttributeType::List(Box::new(AttributeType::String)), "Names of `lws_security_group`s of the container's region, applied in this order. Enables the container's firewall and the `firewall` flag of its interfaces; removing them detaches the groups.")),
                ("status", computed(string(), "`running` or `stopped`.")),
                ("ipv4_address", computed(string(), "IPv4 address of the first interface (static, or as leased by DHCP while running).")),
                ("mac_address", computed(string(), "MAC address of the first interface.")),
            ]),
            blocks: [(timeouts_name, timeouts)].into_iter().collect(),
            ..Block::default()
        },
    }
}
