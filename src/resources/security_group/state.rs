//! What `lws_security_group` holds: its state, its schema, and rules as Proxmox's and back.

use super::*;

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

pub(super) fn text(value: &Value<String>) -> Option<String> {
    known(value).filter(|v| !v.is_empty())
}

pub(super) fn to_rule(state: &RuleState) -> Rule {
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

pub(super) fn from_rule(rule: &Rule) -> RuleState {
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

/// The resource's schema.
pub fn schema() -> Option<Schema> {
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
