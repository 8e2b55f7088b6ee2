//! `lws_security_group`: a Proxmox cluster firewall security group in a region, with its rules
//! in order. Containers use it through `lws_container.security_groups`. Import `<region>/<name>`.
//!
//! Deleting a group that a container still uses is refused, naming the containers: Terraform
//! detaches the containers it manages first (they depend on the group); others must be
//! detached by hand.

pub mod list;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::{cluster_host, import_target, object_id, plan_region, renamed_or_moved};
use crate::cloud::Shared;
use crate::cloud::{Cloud, Host};
use crate::pve::firewall::{
    self, check_group_name, create_group, delete_group, preferred_macro, reconcile, run_all, set_group_comment, Scope,
    MACROS,
};
use crate::pve::firewall_file::{check_free_text, Rule, LOG_LEVELS};
use crate::pve::firewall_rule::{check_addresses, check_ports, PORT_PROTOCOLS, PROTOCOLS};
use crate::tf::identity::{Identity, Part, REGION};
use crate::tf::schema::{attributes, bool as boolean, computed, optional, optional_computed, required, string};
use crate::tf::{error_at, known, path};

/// The identity (protocol 6.9): the parts of `id`, the import id.
pub(super) const IDENTITY: Identity =
    Identity(&[REGION, Part { name: "name", number: false, description: "Name of the security group." }]);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RuleState {
    pub direction: Value<String>,
    pub action: Value<String>,
    #[serde(rename = "macro")]
    pub macro_name: Value<String>,
    pub protocol: Value<String>,
    pub dport: Value<String>,
    pub sport: Value<String>,
    pub source: Value<String>,
    pub dest: Value<String>,
    pub iface: Value<String>,
    pub log: Value<String>,
    pub icmp_type: Value<String>,
    pub comment: Value<String>,
    pub enabled: Value<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SecurityGroupState {
    pub id: Value<String>,
    pub region: Value<String>,
    pub name: Value<String>,
    pub description: Value<String>,
    pub rule: Value<Vec<RuleState>>,
}

pub struct SecurityGroupResource {
    shared: Arc<Shared>,
}

impl SecurityGroupResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        SecurityGroupResource { shared }
    }
}

fn text(value: &Value<String>) -> Option<String> {
    known(value).filter(|v| !v.is_empty())
}

fn to_rule(state: &RuleState) -> Rule {
    Rule {
        kind: text(&state.direction).unwrap_or_default(),
        action: text(&state.action).unwrap_or_default(),
        // As Proxmox will store it, so a rule written `ssh` is not changed again and again.
        macro_name: text(&state.macro_name).map(|m| preferred_macro(&m).map(str::to_owned).unwrap_or(m)),
        enable: known(&state.enabled).unwrap_or(true),
        iface: text(&state.iface),
        source: text(&state.source),
        dest: text(&state.dest),
        proto: text(&state.protocol),
        dport: text(&state.dport),
        sport: text(&state.sport),
        log: text(&state.log),
        icmp_type: text(&state.icmp_type),
        comment: text(&state.comment),
    }
}

fn from_rule(rule: &Rule) -> RuleState {
    let value = |v: &Option<String>| v.clone().map(Value::Value).unwrap_or(Value::Null);
    RuleState {
        direction: Value::Value(rule.kind.clone()),
        action: Value::Value(rule.action.clone()),
        macro_name: value(&rule.macro_name),
        protocol: value(&rule.proto),
        dport: value(&rule.dport),
        sport: value(&rule.sport),
        source: value(&rule.source),
        dest: value(&rule.dest),
        iface: value(&rule.iface),
        log: value(&rule.log),
        icmp_type: value(&rule.icmp_type),
        comment: value(&rule.comment),
        enabled: Value::Value(rule.enable),
    }
}

fn rule_path(index: usize) -> AttributePath {
    let mut p = path(&["rule"]);
    p.add_index(index as i64);
    p
}

fn validate_rule(i: usize, rule: &RuleState, diags: &mut Diagnostics) {
    let bad = |diags: &mut Diagnostics, field: &str, detail: String| {
        error_at(diags, rule_path(i), format!("invalid rule[{i}].{field}"), detail);
    };
    if let Some(d) = known(&rule.direction) {
        if d != "in" && d != "out" {
            bad(diags, "direction", format!("'{d}' must be \"in\" or \"out\""));
        }
    }
    if let Some(a) = known(&rule.action) {
        if !matches!(a.as_str(), "ACCEPT" | "DROP" | "REJECT") {
            bad(diags, "action", format!("'{a}' must be ACCEPT, DROP or REJECT"));
        }
    }
    if let Some(m) = known(&rule.macro_name) {
        if preferred_macro(&m).is_none() {
            bad(diags, "macro", format!("'{m}' is not a Proxmox firewall macro; Proxmox has: {}", MACROS.join(", ")));
        }
    }
    let protocol = known(&rule.protocol);
    if let Some(p) = &protocol {
        if !PROTOCOLS.contains(&p.as_str()) && p.parse::<u8>().is_err() {
            bad(diags, "protocol", format!("'{p}' is not a protocol ({} or a number)", PROTOCOLS.join(", ")));
        }
    }
    for (field, ports) in [("dport", known(&rule.dport)), ("sport", known(&rule.sport))] {
        let Some(ports) = ports else { continue };
        if !check_ports(&ports) {
            bad(diags, field, format!("'{ports}' is not a port list: ports, ranges like 8000:8080, comma separated"));
        }
        // pve-firewall `Firewall.pm` `verify_rule` asks for a protocol with ports, macro or not.
        match &protocol {
            None => bad(
                diags,
                field,
                "ports need a protocol, even with a macro: set protocol = \"tcp\" (or udp)".to_owned(),
            ),
            Some(p) if !PORT_PROTOCOLS.contains(&p.as_str()) && p.parse::<u8>().is_err() => {
                bad(diags, field, format!("protocol '{p}' has no ports"))
            }
            _ => {}
        }
    }
    for (field, addresses) in [("source", known(&rule.source)), ("dest", known(&rule.dest))] {
        if let Some(a) = addresses {
            if !check_addresses(&a) {
                bad(
                    diags,
                    field,
                    format!("'{a}' is not an alias (`office`, `dc/office`), an IP set (`+servers`), or a comma-separated list of addresses and networks of one IP version (or one range a-b)"),
                );
            }
        }
    }
    if let Some(level) = known(&rule.log) {
        if !LOG_LEVELS.contains(&level.as_str()) {
            bad(diags, "log", format!("'{level}' is not a log level; Proxmox has: {}", LOG_LEVELS.join(", ")));
        }
    }
    if known(&rule.iface).is_some() {
        // pve-firewall `verify_rule` (rule_env `group`): "parameter -i not allowed for this rule
        // type"; `$format_rules` writes group rules without `-i`.
        bad(
            diags,
            "iface",
            "Proxmox does not allow an interface in a security group rule (it never applies such a rule and drops `-i` when it writes cluster.fw); bind the group to an interface where a container uses it instead".to_owned(),
        );
    }
    if let Some(icmp_type) = known(&rule.icmp_type) {
        match protocol.as_deref().and_then(firewall::icmp_types_for) {
            None => bad(diags, "icmp_type", "an ICMP type needs protocol = \"icmp\" (or \"icmpv6\")".to_owned()),
            Some(names) if !names.contains(&icmp_type.as_str()) => bad(
                diags,
                "icmp_type",
                format!(
                    "'{icmp_type}' is not an ICMP type of protocol '{}'; Proxmox has: {}",
                    protocol.as_deref().unwrap_or_default(),
                    names.join(", ")
                ),
            ),
            Some(_) => {}
        }
        if known(&rule.dport).is_some() {
            bad(diags, "icmp_type", "'icmp_type' cannot be given together with 'dport'".to_owned());
        }
    }
    if let Some(comment) = known(&rule.comment) {
        if let Err(e) = check_free_text(&comment) {
            bad(diags, "comment", e);
        }
    }
}

/// Everything whose rules use the group (`GROUP <name>`): the datacenter's own rules, containers
/// and nodes' host firewalls. Proxmox deletes a group that is merely empty (pve-firewall
/// `src/PVE/API2/Firewall/Groups.pm`), leaving such references dangling (`no such security group`).
fn users_of(inventory: &crate::pve::inventory::Inventory, name: &str) -> Vec<String> {
    inventory.rules_using(|r| r.kind == "group" && r.action.eq_ignore_ascii_case(name))
}

pub(super) async fn read(
    host: &Host,
    region: &str,
    name: &str,
    prior: &SecurityGroupState,
) -> Result<Option<SecurityGroupState>, String> {
    let inventory = host.inventory().await.map_err(|e| e.to_string())?;
    let Some(group) = inventory.cluster_firewall.groups.get(name) else { return Ok(None) };
    let description = match (&group.comment, &prior.description) {
        (None, Value::Value(p)) if p.is_empty() => prior.description.clone(),
        (None, _) => Value::Null,
        (Some(c), _) => Value::Value(c.clone()),
    };
    let prior_rules = known(&prior.rule).unwrap_or_default();
    let rules = group
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut state = from_rule(rule);
            // Proxmox stores a macro under its preferred spelling: keep the one the user wrote.
            if let (Some(mine), Some(stored)) =
                (prior_rules.get(i).and_then(|p| known(&p.macro_name)), known(&state.macro_name))
            {
                if mine.eq_ignore_ascii_case(&stored) {
                    state.macro_name = Value::Value(mine);
                }
            }
            state
        })
        .collect();
    Ok(Some(SecurityGroupState {
        id: Value::Value(format!("{region}/{name}")),
        region: Value::Value(region.to_owned()),
        name: Value::Value(name.to_owned()),
        description,
        rule: Value::Value(rules),
    }))
}

impl SecurityGroupResource {
    fn place(
        &self,
        state: &SecurityGroupState,
        diags: &mut Diagnostics,
    ) -> Option<(Arc<Cloud>, Arc<Host>, String, String)> {
        let cloud = self.shared.cloud(diags)?;
        let region = known(&state.region)?;
        let name = known(&state.name)?;
        let host = cluster_host(&cloud, &region, diags)?;
        Some((cloud, host, region, name))
    }

    /// Delete a group this apply created (its rules first: Proxmox deletes only empty groups);
    /// whether it is gone.
    async fn roll_back(&self, host: &Host, name: &str, diags: &mut Diagnostics) -> bool {
        let rules = match host.inventory().await {
            Ok(inventory) => match inventory.cluster_firewall.groups.get(name) {
                Some(group) => group.rules.clone(),
                None => return true,
            },
            Err(e) => {
                diags.root_error(format!("cannot read back the half-made group '{name}'"), e.to_string());
                return false;
            }
        };
        let mut commands = reconcile(&Scope::Group(name.to_owned()), &rules, &[]);
        commands.push(delete_group(name));
        let result = run_all(host, &format!("remove half-made security group {name}"), &commands).await;
        host.invalidate().await;
        match result {
            Ok(()) => true,
            Err(e) => {
                diags.root_error(format!("removing the half-made security group '{name}' failed"), e.to_string());
                false
            }
        }
    }

    /// Make the group's comment and rules what `planned` says.
    async fn converge(
        &self,
        host: &Host,
        name: &str,
        planned: &SecurityGroupState,
        exists: bool,
        diags: &mut Diagnostics,
    ) -> Option<SecurityGroupState> {
        host.invalidate().await;
        let inventory = match host.inventory().await {
            Ok(i) => i,
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e.to_string());
                return None;
            }
        };
        let current = inventory.cluster_firewall.groups.get(name).cloned().unwrap_or_default();
        let wanted: Vec<Rule> = known(&planned.rule).unwrap_or_default().iter().map(to_rule).collect();
        let comment = text(&planned.description);
        let mut commands = Vec::new();
        if !exists {
            commands.push(create_group(name, comment.as_deref()));
        } else if current.comment != comment {
            commands.push(set_group_comment(name, comment.as_deref()));
        }
        commands.extend(reconcile(&Scope::Group(name.to_owned()), &current.rules, &wanted));
        let result = run_all(host, &format!("security group {name}"), &commands).await;
        host.invalidate().await;
        if let Err(e) = result {
            diags.root_error(format!("configuring security group '{name}' failed"), e.to_string());
            // A new group Proxmox refused a rule of is taken back whole, rather than left
            // half-made (and tainted) in state; if that fails too, state keeps what is there.
            if !exists && self.roll_back(host, name, diags).await {
                return None;
            }
        }
        let region = known(&planned.region).unwrap_or_default();
        match read(host, &region, name, planned).await {
            Ok(found) => found,
            Err(e) => {
                diags.root_error("cannot read the security group back", e);
                None
            }
        }
    }
}

#[async_trait]
impl Resource for SecurityGroupResource {
    type State<'a> = SecurityGroupState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let rule = Block {
            version: 1,
            description: Description::markdown("A firewall rule. Rules apply in the order written."),
            attributes: attributes(vec![
                ("direction", required(string(), "`in` or `out`.")),
                ("action", required(string(), "`ACCEPT`, `DROP` or `REJECT`.")),
                (
                    "macro",
                    optional(string(), "A Proxmox firewall macro (e.g. `SSH`, `HTTP`) instead of protocol and ports. Checked at plan against Proxmox's macro list, in any case: Proxmox stores its own spelling (`ssh` as `SSH`), state keeps yours."),
                ),
                ("protocol", optional(string(), "Protocol name (`tcp`, `udp`, `icmp`, …) or number.")),
                ("dport", optional(string(), "Destination ports: `80`, `8000:8080`, `80,443`. Needs `protocol`, even with a `macro` (Proxmox's rule check asks for it).")),
                ("sport", optional(string(), "Source ports, as `dport`.")),
                (
                    "source",
                    optional(string(), "Source: addresses and networks, comma separated (`10.0.0.5,10.1.0.0/16`), one range `a-b`, or, as the whole value, an alias (`office`, `dc/office`; see `lws_firewall_alias`) or an IP set (`+servers`). Proxmox refuses a rule naming an alias or IP set that does not exist."),
                ),
                ("dest", optional(string(), "Destination addresses, as `source`.")),
                (
                    "log",
                    optional(string(), "Log level for packets this rule matches: `emerg`, `alert`, `crit`, `err`, `warning`, `notice`, `info`, `debug` or `nolog`."),
                ),
                (
                    "icmp_type",
                    optional(string(), "ICMP type (e.g. `echo-request`) with `protocol = \"icmp\"` or `\"icmpv6\"`; not together with `dport`."),
                ),
                (
                    "iface",
                    optional(string(), "Read only in practice: Proxmox refuses an interface in a security group rule and never applies such a rule, so setting it is an error. A hand-written rule with `-i` shows it here, and the plan shows its removal."),
                ),
                ("comment", optional(string(), "Comment: one line, without leading or trailing spaces (Proxmox trims them).")),
                (
                    "enabled",
                    optional_computed(
                        boolean(),
                        "Whether the rule is active (default `true`; Proxmox's own default is disabled).",
                    ),
                ),
            ]),
            ..Block::default()
        };
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "A Proxmox firewall security group of a region's cluster, with its rules in order. Containers use it through `lws_container.security_groups`. Rules are reconciled in place, keeping their order and enabled state exactly as written. Deleting a group still used by a container, the datacenter's rules (`cluster.fw`) or a node's host firewall is refused, naming them; to rename a group containers use, give it `lifecycle { create_before_destroy = true }`.\n\nSecurity groups filter nothing while the datacenter firewall is off, which it is on a new cluster (`cluster.fw` `[OPTIONS] enable` has no default): the plan warns then. Enable it in Datacenter → Firewall → Options, or with `pvesh set /cluster/firewall/options --enable 1`, after allowing SSH and port 8006 to the hosts.",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<name>`.")),
                    ("region", optional_computed(string(), "Region (default: the provider's). Changing it replaces the group.")),
                    ("name", required(string(), "Group name: 2 to 18 characters, lowercase letter first, then letters, digits, `_` or `-`. Changing it replaces the group.")),
                    ("description", optional(string(), "Comment shown with the group: one line, without leading or trailing spaces (Proxmox trims them).")),
                ]),
                blocks: [("rule".to_owned(), NestedBlock::List(rule))].into_iter().collect(),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(name) = known(&config.name) {
            if let Err(e) = check_group_name(&name) {
                error_at(diags, path(&["name"]), "invalid security group name", e);
            }
        }
        if let Some(description) = known(&config.description) {
            if let Err(e) = check_free_text(&description) {
                error_at(diags, path(&["description"]), "invalid description", format!("the description {e}"));
            }
        }
        if let Value::Value(rules) = &config.rule {
            for (i, rule) in rules.iter().enumerate() {
                validate_rule(i, rule, diags);
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some((_, host, region, name)) = self.place(&state, diags) else { return Some((state, private)) };
        match read(&host, &region, &name, &state).await {
            Ok(found) => found.map(|s| (s, private)),
            Err(e) => {
                diags.root_error(format!("cannot read security group '{name}'"), e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let mut planned = proposed;
        plan_region(&cloud, &mut planned.region, diags)?;
        if let Value::Value(rules) = &mut planned.rule {
            for rule in rules {
                if rule.enabled.is_null() {
                    rule.enabled = Value::Value(true);
                }
            }
        }
        // The plan can tell whether the group will filter anything at all. A host that cannot be
        // read now is left to apply, which reports it.
        if let Some(host) = known(&planned.region).and_then(|r| crate::cloud::locate::region_host(&cloud, &r)) {
            if let Ok(inventory) = host.inventory().await {
                if !firewall::datacenter_firewall_enabled(&inventory.cluster_firewall) {
                    diags.root_warning(firewall::FIREWALL_OFF.0, firewall::FIREWALL_OFF.1);
                }
            }
        }
        planned.id = object_id(&planned.region, &planned.name);
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _proposed: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        // From the configuration, not Terraform's proposal: an unset `enabled` means true, not
        // "whatever the host has now" (which would hide a rule disabled behind our back).
        let (mut planned, _) = self.plan_create(diags, config.clone(), config, meta).await?;
        let replace = renamed_or_moved((&prior.region, &prior.name), (&planned.region, &planned.name));
        if replace.is_empty() {
            planned.id = prior.id;
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
        let (_, host, _, name) = self.place(&planned, diags)?;
        self.converge(&host, &name, &planned, false, diags).await.map(|s| (s, private))
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
        let (_, host, _, name) = self.place(&planned, diags)?;
        self.converge(&host, &name, &planned, true, diags).await.map(|s| (s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let (_, host, _, name) = self.place(&prior, diags)?;
        host.invalidate().await;
        let inventory = match host.inventory().await {
            Ok(i) => i,
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e.to_string());
                return Some(());
            }
        };
        let Some(group) = inventory.cluster_firewall.groups.get(&name) else { return Some(()) };
        let users = users_of(&inventory, &name);
        if !users.is_empty() {
            diags.root_error(
                format!("security group '{name}' is still used by {}", users.join(", ")),
                "remove it from those containers' security_groups and from any firewall rule that names it first; Proxmox would otherwise keep references to a group that no longer exists",
            );
            return Some(());
        }
        // Proxmox deletes only empty groups.
        let mut commands = reconcile(&Scope::Group(name.clone()), &group.rules, &[]);
        commands.push(delete_group(&name));
        if let Err(e) = run_all(host.as_ref(), &format!("delete security group {name}"), &commands).await {
            diags.root_error(format!("deleting security group '{name}' failed"), e.to_string());
        }
        host.invalidate().await;
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (host, region, name) = import_target(&cloud, &id, "eu-south-1/web", diags)?;
        let (region, name) = (region.as_str(), name.as_str());
        match read(&host, region, name, &SecurityGroupState::default()).await {
            Ok(Some(state)) => Some((state, ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("no security group '{name}' in region {region}"), "");
                None
            }
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e);
                None
            }
        }
    }
}
