//! Plan-time checks of an `lws_container` configuration, each naming the attribute and the fix.
//! Unknown values (known only after apply) are skipped.

use std::net::Ipv4Addr;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::pve::text::is_valid_tag;
use crate::tf::{error_at, known, known_list, path, Timeouts};

use super::state::ContainerState;

/// Network interfaces a container can have (`net0`…`net31`).
const MAX_NETWORKS: usize = 32;

/// A DNS name as Proxmox accepts it for `hostname`.
pub fn is_dns_name(name: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 255 && name.split('.').all(label_ok)
}

/// `a.b.c.d/nn`.
pub fn parse_cidr(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, prefix) = text.split_once('/')?;
    Some((addr.parse().ok()?, prefix.parse().ok().filter(|p: &u8| *p <= 32)?))
}

fn in_range(diags: &mut Diagnostics, value: &Value<i64>, name: &str, min: i64, max: i64, unit: &str) {
    if let Some(v) = known(value) {
        if v < min || v > max {
            error_at(
                diags,
                path(&[name]),
                format!("invalid {name}"),
                format!("{v}{unit} is not between {min} and {max}"),
            );
        }
    }
}

pub fn validate(config: &ContainerState, diags: &mut Diagnostics) {
    if let Some(name) = known(&config.hostname) {
        if !is_dns_name(&name) {
            error_at(
                diags,
                path(&["hostname"]),
                "invalid hostname",
                format!("'{name}' is not a valid DNS name: use letters, digits and '-', dot-separated, at most 63 characters per label"),
            );
        }
    }
    in_range(diags, &config.memory, "memory", 16, 268_435_456, " MiB");
    in_range(diags, &config.swap, "swap", 0, 268_435_456, " MiB");
    in_range(diags, &config.cores, "cores", 1, 8192, "");
    in_range(diags, &config.disk_size, "disk_size", 1, 131_072, " GiB");
    in_range(diags, &config.vmid, "vmid", 100, 999_999_999, "");
    if let Some(limit) = known(&config.cpulimit) {
        if !(0.0..=8192.0).contains(&limit) {
            error_at(diags, path(&["cpulimit"]), "invalid cpulimit", format!("{limit} is not between 0 and 8192"));
        }
    }
    if let Some(storage) = known(&config.storage) {
        if !crate::pve::text::is_storage_id(&storage) {
            error_at(
                diags,
                path(&["storage"]),
                "invalid storage",
                format!("'{storage}' is not a Proxmox storage id: a letter, then letters, digits, '-', '_' or '.', ending in a letter or digit (e.g. local-lvm)"),
            );
        }
    }
    if let Some(source) = known(&config.clone_from) {
        if let Err(e) = crate::cloud::id::parse_container_reference(&source) {
            error_at(diags, path(&["clone_from"]), "invalid clone_from", e);
        }
    }
    // Neither is required of a container that exists (an import, or `terraform query`'s
    // generated configuration: Proxmox does not record the template); `plan::check_source`
    // requires one where a container is to be made.
    if let Some(volid) = known(&config.restore_from) {
        if let Err(e) = crate::pve::backup::check_backup_volid(&volid) {
            error_at(diags, path(&["restore_from"]), "invalid restore_from", e);
        }
    }
    let sources = [&config.template, &config.clone_from, &config.restore_from].iter().filter(|v| !v.is_null()).count();
    if config.restore_from.is_value() && sources > 1 {
        error_at(
            diags,
            path(&["restore_from"]),
            "restore_from excludes template and clone_from",
            "a container is created from a template, by cloning, or by restoring a backup; keep one of them",
        );
    }
    if let (Value::Value(_), Value::Value(_)) = (&config.template, &config.clone_from) {
        error_at(
            diags,
            path(&["clone_from"]),
            "template and clone_from are exclusive",
            "a container is created either from a template or by cloning; remove one of them",
        );
    }
    if let Some(template) = known(&config.template) {
        if !template.contains(':') {
            error_at(
                diags,
                path(&["template"]),
                "invalid template",
                format!("'{template}' is not a volume id; write STORAGE:vztmpl/FILE, e.g. \"local:vztmpl/{template}\""),
            );
        }
    }
    if let Value::Value(tags) = &config.tags {
        for tag in tags.iter().filter_map(known) {
            if !is_valid_tag(&tag) {
                let hint = if is_valid_tag(&tag.to_lowercase()) {
                    format!(
                        "Proxmox stores tags lowercased (datacenter.cfg's default tag-style); write '{}'",
                        tag.to_lowercase()
                    )
                } else {
                    "tags start with a letter, digit or '_' and contain only letters, digits, '_', '-', '+' and '.'"
                        .to_owned()
                };
                error_at(diags, path(&["tags"]), format!("invalid tag '{tag}'"), hint);
            }
        }
    }
    for (name, value) in [("password", &config.password), ("password_wo", &config.password_wo)] {
        if let Some(password) = known(value) {
            if password.chars().count() < 5 || password.contains('\n') {
                // Not at the attribute: Terraform would quote the line, and with it the secret.
                error_at(
                    diags,
                    path(&[]),
                    format!("invalid {name}"),
                    "the password must be at least 5 characters long and a single line",
                );
            }
        }
    }
    if !config.password_wo.is_null() {
        if !config.password.is_null() {
            error_at(
                diags,
                path(&["password_wo"]),
                "password and password_wo are exclusive",
                "set one of them: password_wo is never stored in state, password is",
            );
        }
        if !tf_provider::client_allows_write_only() {
            error_at(
                diags,
                path(&["password_wo"]),
                "this Terraform cannot send write-only attributes",
                "password_wo needs Terraform 1.11 or later (plugin protocol 6.8); upgrade, or use password (stored in state)",
            );
        }
    }
    if let Some(servers) = known(&config.nameserver) {
        for server in servers.split_whitespace() {
            if server.parse::<std::net::IpAddr>().is_err() {
                error_at(
                    diags,
                    path(&["nameserver"]),
                    "invalid nameserver",
                    format!("'{server}' is not an IP address; list DNS servers separated by spaces"),
                );
            }
        }
    }
    if let Some(description) = known(&config.description) {
        if description.len() > 8192 {
            error_at(diags, path(&["description"]), "description too long", "Proxmox keeps at most 8192 bytes");
        }
    }
    if let Some(keys) = known(&config.ssh_public_keys) {
        for line in keys.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            let kind_ok =
                words.next().is_some_and(|k| k.starts_with("ssh-") || k.starts_with("ecdsa-") || k.starts_with("sk-"));
            if !kind_ok || words.next().is_none() {
                error_at(
                    diags,
                    path(&["ssh_public_keys"]),
                    "invalid SSH public key",
                    format!(
                        "'{}' does not look like an OpenSSH public key (\"ssh-ed25519 AAAA… comment\")",
                        shorten(line)
                    ),
                );
            }
        }
    }
    if let Value::Value(networks) = &config.network {
        // pve-container `src/PVE/LXC/Config.pm`: `$MAX_LXC_NETWORKS = 32` keys, net0 to net31.
        if networks.len() > MAX_NETWORKS {
            error_at(
                diags,
                path(&["network"]),
                "too many networks",
                format!(
                    "{} networks given; a Proxmox container has at most {MAX_NETWORKS} (net0 to net31)",
                    networks.len()
                ),
            );
        }
        let mut names = Vec::new();
        for (i, net) in networks.iter().enumerate() {
            validate_network(i, net, diags);
            if let Some(name) = known(&net.name) {
                if names.contains(&name) {
                    error_at(
                        diags,
                        net_path(i, "name"),
                        format!("network[{i}].name: duplicate interface name"),
                        format!("'{name}' is used twice"),
                    );
                }
                names.push(name);
            }
        }
    }
    if let Some(groups) = known_list(&config.security_groups) {
        for (i, name) in groups.iter().enumerate() {
            if let Err(e) = crate::pve::firewall::check_group_name(name) {
                error_at(diags, path(&["security_groups"]), format!("invalid security_groups[{i}]"), e);
            }
            if groups[..i].contains(name) {
                error_at(
                    diags,
                    path(&["security_groups"]),
                    format!("security group '{name}' is listed twice"),
                    "list each group once",
                );
            }
        }
    }
    Timeouts::validate(&config.timeouts, diags);
}

fn shorten(text: &str) -> String {
    if text.len() > 40 {
        format!("{}…", &text[..text.char_indices().nth(40).map(|(i, _)| i).unwrap_or(text.len())])
    } else {
        text.to_owned()
    }
}

/// Terraform cannot point into a list of objects written as an expression, so diagnostics
/// point at `network` and name the element in their summary.
fn net_path(_index: usize, _field: &str) -> AttributePath {
    path(&["network"])
}

fn validate_network(i: usize, net: &super::state::NetworkState, diags: &mut Diagnostics) {
    let ip = known(&net.ip);
    if let Some(ip) = &ip {
        if ip != "dhcp" && ip != "manual" && parse_cidr(ip).is_none() {
            error_at(
                diags,
                net_path(i, "ip"),
                format!("invalid network[{i}].ip"),
                format!(
                    "'{ip}' must be \"dhcp\", \"manual\" or an IPv4 address with prefix length, like \"10.0.0.5/24\""
                ),
            );
        }
    }
    if let Some(gw) = known(&net.gateway) {
        if gw.parse::<Ipv4Addr>().is_err() {
            error_at(
                diags,
                net_path(i, "gateway"),
                format!("invalid network[{i}].gateway"),
                format!("'{gw}' is not an IPv4 address"),
            );
        } else if let Some((addr, prefix)) = ip.as_deref().and_then(parse_cidr) {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
            let gateway: Ipv4Addr = gw.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
            if u32::from(addr) & mask != u32::from(gateway) & mask {
                error_at(
                    diags,
                    net_path(i, "gateway"),
                    format!("network[{i}].gateway is outside the network"),
                    format!("{gw} is not in {}/{prefix}", Ipv4Addr::from(u32::from(addr) & mask)),
                );
            }
        } else if matches!(ip.as_deref(), Some("dhcp") | None) {
            error_at(
                diags,
                net_path(i, "gateway"),
                format!("network[{i}].gateway without a static address"),
                "a gateway goes with a static ip (\"10.0.0.5/24\"); with DHCP the lease provides it",
            );
        }
    }
    if let Some(vlan) = known(&net.vlan) {
        if !(1..=4094).contains(&vlan) {
            error_at(
                diags,
                net_path(i, "vlan"),
                format!("invalid network[{i}].vlan"),
                format!("{vlan} is not between 1 and 4094"),
            );
        }
    }
    for (field, value) in [("name", &net.name), ("bridge", &net.bridge)] {
        if let Some(v) = known(value) {
            let ok =
                !v.is_empty() && v.len() <= 16 && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !ok {
                error_at(
                    diags,
                    net_path(i, field),
                    format!("invalid network[{i}].{field}"),
                    format!("'{v}' must be 1 to 16 letters, digits, '-', '_' or '.'"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tf_provider::value::Value;
    use tf_provider::Diagnostics;

    use super::*;
    use crate::resources::container::state::NetworkState;

    fn summaries(config: &ContainerState) -> Vec<String> {
        let mut diags = Diagnostics::default();
        validate(config, &mut diags);
        diags.errors.iter().map(|d| d.summary.to_string()).collect()
    }

    fn with_template() -> ContainerState {
        ContainerState { template: Value::Value("local:vztmpl/debian.tar.zst".into()), ..ContainerState::default() }
    }

    #[test]
    fn hostnames_are_dns_names_and_addresses_carry_a_prefix() {
        assert!(is_dns_name("web-1.example.org"));
        assert!(!is_dns_name("-web") && !is_dns_name("web_1") && !is_dns_name(&"a".repeat(64)));
        assert_eq!(parse_cidr("10.0.0.5/24"), Some(("10.0.0.5".parse().expect("ip"), 24)));
        assert_eq!(parse_cidr("10.0.0.5"), None);
        assert_eq!(parse_cidr("10.0.0.5/33"), None);
    }

    #[test]
    fn a_valid_configuration_has_no_errors_and_ranges_name_the_attribute() {
        assert!(summaries(&with_template()).is_empty());
        let config = ContainerState {
            memory: Value::Value(8),
            cores: Value::Value(0),
            storage: Value::Value("local lvm".into()),
            ..with_template()
        };
        let errors = summaries(&config);
        for expected in ["invalid memory", "invalid cores", "invalid storage"] {
            assert!(errors.iter().any(|e| e == expected), "{expected} in {errors:?}");
        }
    }

    #[test]
    fn networks_are_counted_and_named_once() {
        let net = |name: &str| NetworkState { name: Value::Value(name.into()), ..NetworkState::default() };
        let twice = ContainerState { network: Value::Value(vec![net("eth0"), net("eth0")]), ..with_template() };
        assert!(summaries(&twice).iter().any(|e| e.contains("duplicate interface name")));
        let many: Vec<NetworkState> = (0..33)
            .map(|i| NetworkState { name: Value::Value(format!("eth{i}")), ..NetworkState::default() })
            .collect();
        let too_many = ContainerState { network: Value::Value(many), ..with_template() };
        assert!(summaries(&too_many).iter().any(|e| e == "too many networks"));
    }
}
