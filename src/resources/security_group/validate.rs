//! Checking an `lws_security_group` configuration before anything runs: every problem names its
//! attribute, down to the rule and field.

use super::*;

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

/// Problems of `config`, each at its attribute.
pub fn validate(config: &SecurityGroupState, diags: &mut Diagnostics) {
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
}
