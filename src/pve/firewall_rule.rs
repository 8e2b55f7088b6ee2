//! What pve-firewall accepts in a rule's fields (`src/PVE/Firewall.pm` `verify_rule` and the
//! formats it calls), checked before a plan so a refused rule never reaches `pvesh`.

/// Protocol names the provider accepts (`pve_fw_verify_protocol_spec` takes any of
/// `/etc/protocols` or a number).
pub const PROTOCOLS: &[&str] = &[
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "ipv6-icmp",
    "igmp",
    "sctp",
    "udplite",
    "dccp",
    "gre",
    "esp",
    "ah",
    "ospf",
    "vrrp",
];

/// Protocols with ports (`$PROTOCOLS_WITH_PORTS`).
pub const PORT_PROTOCOLS: &[&str] = &["tcp", "udp", "sctp", "udplite", "dccp"];

/// pve-firewall's `$ip_alias_pattern` and `$ipset_name_pattern`, `[A-Za-z][A-Za-z0-9\-\_]+`: the
/// shape of an alias or IP set name.
pub fn is_fw_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub fn check_ports(spec: &str) -> bool {
    spec.split(',').all(|item| match item.split_once(':') {
        Some((a, b)) => matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if a >= 1 && a <= b),
        // A number, or a service name from /etc/services (`ssh`, `https`).
        None => {
            item.parse::<u16>().is_ok_and(|p| p >= 1)
                || (item.starts_with(|c: char| c.is_ascii_alphabetic())
                    && item.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        }
    })
}

/// pve-firewall `Firewall.pm` `parse_address_list`: the whole value is an IP set
/// (`+name`, `+dc/name`, `+guest/name`, `+sdn/name`) or an alias (`name`, `dc/name`,
/// `guest/name`), or else a comma-separated list of addresses and networks of one IP version, or
/// one range `a-b`.
pub fn check_addresses(spec: &str) -> bool {
    if let Some(set) = spec.strip_prefix('+') {
        return is_fw_name(["guest/", "dc/", "sdn/"].iter().find_map(|p| set.strip_prefix(p)).unwrap_or(set));
    }
    if is_fw_name(["dc/", "guest/"].iter().find_map(|p| spec.strip_prefix(p)).unwrap_or(spec)) {
        return true;
    }
    let items: Vec<&str> = spec.split(',').collect();
    let mut versions = Vec::new();
    let mut ranges = 0;
    for item in &items {
        let ip = match (item.split_once('/'), item.split_once('-')) {
            (Some((addr, prefix)), _) => addr
                .parse::<std::net::IpAddr>()
                .ok()
                .filter(|ip| prefix.parse::<u8>().is_ok_and(|p| p <= if ip.is_ipv4() { 32 } else { 128 })),
            (None, Some((a, b))) => {
                ranges += 1;
                match (a.parse::<std::net::IpAddr>(), b.parse::<std::net::IpAddr>()) {
                    (Ok(a), Ok(b)) if a.is_ipv4() == b.is_ipv4() => Some(a),
                    _ => None,
                }
            }
            _ => item.parse::<std::net::IpAddr>().ok(),
        };
        match ip {
            Some(ip) => versions.push(ip.is_ipv4()),
            None => return false,
        }
    }
    versions.windows(2).all(|w| w[0] == w[1]) && (ranges == 0 || items.len() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_numbers_ranges_or_service_names() {
        for good in ["22", "80,443", "8000:8080", "ssh", "1:65535"] {
            assert!(check_ports(good), "{good}");
        }
        for bad in ["0", "8080:8000", "70000", "80,,443", "a b", ""] {
            assert!(!check_ports(bad), "{bad}");
        }
    }

    #[test]
    fn addresses_follow_parse_address_list() {
        for good in [
            "10.0.0.5",
            "10.0.0.0/8,192.168.1.1",
            "10.0.0.1-10.0.0.9",
            "fd00::/64",
            "office",
            "dc/office",
            "+servers",
            "+dc/servers",
        ] {
            assert!(check_addresses(good), "{good}");
        }
        for bad in [
            "10.0.0.0/33",
            "10.0.0.1,fd00::1",
            "10.0.0.1-10.0.0.9,10.0.1.1",
            "office,10.0.0.1",
            "+1bad",
            "10.0.0.1-fd00::1",
        ] {
            assert!(!check_addresses(bad), "{bad}");
        }
    }
}
