//! The container option schema shared by `pct create` and `pct set`, with Proxmox's validators
//! for property strings (`netN`, `rootfs`, `mpN`, `features`), DNS names, tags and addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::formats::property_string::PropertyString;
use crate::formats::text::{is_valid_tag, normalize_tags};

use crate::params::{check, Kind, Opt};

pub const MAX_NETS: u32 = 31;
pub const MAX_MOUNTPOINTS: u32 = 255;

pub const OSTYPES: &[&str] = &[
    "debian",
    "devuan",
    "ubuntu",
    "centos",
    "fedora",
    "opensuse",
    "archlinux",
    "alpine",
    "gentoo",
    "nixos",
    "unmanaged",
];
const ARCHES: &[&str] = &["amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"];
pub const LOCKS: &[&str] = &[
    "backup",
    "create",
    "destroyed",
    "disk",
    "fstrim",
    "migrate",
    "mounted",
    "rollback",
    "snapshot",
    "snapshot-delete",
];

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const fn text(max_len: usize) -> Kind {
    Kind::Str { min_len: 0, max_len }
}

/// Options both `pct create` and `pct set` take.
pub const CONTAINER_OPTS: &[Opt] = &[
    Opt { name: "arch", kind: Kind::Enum(ARCHES) },
    Opt { name: "cmode", kind: Kind::Enum(&["shell", "console", "tty"]) },
    Opt { name: "console", kind: Kind::Bool },
    Opt { name: "cores", kind: int(1, 8192) },
    Opt { name: "cpulimit", kind: Kind::Number { min: 0.0, max: 8192.0 } },
    Opt { name: "cpuunits", kind: int(0, 500_000) },
    Opt { name: "debug", kind: Kind::Bool },
    Opt { name: "description", kind: text(8192) },
    Opt { name: "features", kind: Kind::Format(features) },
    Opt { name: "hookscript", kind: text(255) },
    Opt { name: "hostname", kind: Kind::Format(dns_name) },
    Opt { name: "lock", kind: Kind::Enum(LOCKS) },
    Opt { name: "memory", kind: int(16, i64::MAX) },
    Opt { name: "nameserver", kind: Kind::Format(address_list) },
    Opt { name: "onboot", kind: Kind::Bool },
    Opt { name: "ostype", kind: Kind::Enum(OSTYPES) },
    Opt { name: "protection", kind: Kind::Bool },
    Opt { name: "rootfs", kind: Kind::Format(mountpoint) },
    Opt { name: "searchdomain", kind: text(1024) },
    Opt { name: "startup", kind: Kind::Format(startup) },
    Opt { name: "swap", kind: int(0, i64::MAX) },
    Opt { name: "tags", kind: Kind::Format(tags) },
    Opt { name: "template", kind: Kind::Bool },
    Opt { name: "timezone", kind: text(64) },
    Opt { name: "tty", kind: int(0, 6) },
    Opt { name: "unprivileged", kind: Kind::Bool },
];

pub const CONTAINER_FAMILIES: &[(&str, u32, Kind)] = &[
    ("net", MAX_NETS, Kind::Format(network)),
    ("mp", MAX_MOUNTPOINTS, Kind::Format(mountpoint)),
    ("unused", MAX_MOUNTPOINTS, text(255)),
];

/// Keys `pct set --delete` knows (every option plus the families).
pub fn is_known_key(key: &str) -> bool {
    CONTAINER_OPTS.iter().any(|o| o.name == key)
        || CONTAINER_FAMILIES.iter().any(|(prefix, max, _)| {
            key.strip_prefix(prefix).and_then(|i| i.parse::<u32>().ok()).is_some_and(|i| i <= *max)
        })
}

/// One key of a property string.
struct SubKey {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn sub(name: &'static str, kind: Kind) -> SubKey {
    SubKey { name, kind, required: false }
}

/// Check a property string; errors read `format error` then one `param.key: message` per key.
fn check_property_string(param: &str, value: &str, default_key: Option<&str>, keys: &[SubKey]) -> Result<(), String> {
    let parsed = PropertyString::parse(value, default_key).map_err(|e| format!("format error\n{param}: {e}"))?;
    let mut errors = Vec::new();
    for key in parsed.keys() {
        match keys.iter().find(|k| k.name == key) {
            None => errors.push(format!(
                "{param}.{key}: property is not defined in schema and the schema does not allow additional properties"
            )),
            Some(spec) => {
                let v = parsed.get(key).unwrap_or_default();
                if let Err(e) = check(&format!("{param}.{key}"), spec.kind, v) {
                    errors.push(format!("{param}.{key}: {e}"));
                }
            }
        }
    }
    for key in keys.iter().filter(|k| k.required) {
        if parsed.get(key.name).is_none() {
            errors.push(format!("{param}.{}: property is missing and it is not optional", key.name));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("format error\n{}", errors.join("\n")))
    }
}

fn network(param: &str, value: &str) -> Result<(), String> {
    const KEYS: &[SubKey] = &[
        SubKey { name: "name", kind: Kind::Format(interface_name), required: true },
        sub("bridge", Kind::Format(interface_name)),
        sub("firewall", Kind::Bool),
        sub("gw", Kind::Format(ipv4)),
        sub("gw6", Kind::Format(ipv6)),
        sub("hwaddr", Kind::Format(mac_address)),
        sub("ip", Kind::Format(ipv4_config)),
        sub("ip6", Kind::Format(ipv6_config)),
        sub("link_down", Kind::Bool),
        sub("mtu", int(64, 65535)),
        sub("rate", Kind::Number { min: 0.0, max: f64::MAX }),
        sub("tag", int(1, 4094)),
        sub("trunks", Kind::Format(vlan_list)),
        sub("type", Kind::Enum(&["veth"])),
    ];
    check_property_string(param, value, None, KEYS)
}

fn mountpoint(param: &str, value: &str) -> Result<(), String> {
    const KEYS: &[SubKey] = &[
        SubKey { name: "volume", kind: text(4096), required: true },
        sub("acl", Kind::Bool),
        sub("backup", Kind::Bool),
        sub("mountoptions", text(255)),
        sub("mp", text(4096)),
        sub("quota", Kind::Bool),
        sub("replicate", Kind::Bool),
        sub("ro", Kind::Bool),
        sub("shared", Kind::Bool),
        sub("size", Kind::Format(disk_size)),
    ];
    check_property_string(param, value, Some("volume"), KEYS)
}

fn features(param: &str, value: &str) -> Result<(), String> {
    const KEYS: &[SubKey] = &[
        sub("force_rw_sys", Kind::Bool),
        sub("fuse", Kind::Bool),
        sub("keyctl", Kind::Bool),
        sub("mknod", Kind::Bool),
        sub("mount", text(255)),
        sub("nesting", Kind::Bool),
    ];
    check_property_string(param, value, None, KEYS)
}

fn startup(param: &str, value: &str) -> Result<(), String> {
    const KEYS: &[SubKey] =
        &[sub("order", int(0, i64::MAX)), sub("up", int(0, i64::MAX)), sub("down", int(0, i64::MAX))];
    check_property_string(param, value, Some("order"), KEYS)
}

pub fn dns_name(_: &str, value: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if value.len() <= 255 && value.split('.').all(label_ok) {
        Ok(())
    } else {
        Err("value does not look like a valid DNS name".to_owned())
    }
}

fn tags(_: &str, value: &str) -> Result<(), String> {
    match normalize_tags(value).into_iter().find(|t| !is_valid_tag(t)) {
        Some(bad) => Err(format!("invalid tag '{bad}'")),
        None => Ok(()),
    }
}

fn address_list(_: &str, value: &str) -> Result<(), String> {
    for addr in value.split([' ', ',', ';']).filter(|a| !a.is_empty()) {
        if addr.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("value '{addr}' does not look like a valid IP address"));
        }
    }
    Ok(())
}

fn interface_name(_: &str, value: &str) -> Result<(), String> {
    if !value.is_empty() && value.len() <= 16 && value.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)) {
        Ok(())
    } else {
        Err("value does not match the regex pattern".to_owned())
    }
}

fn ipv4(_: &str, value: &str) -> Result<(), String> {
    value
        .parse::<Ipv4Addr>()
        .map(|_| ())
        .map_err(|_| format!("value '{value}' does not look like a valid IPv4 address"))
}

fn ipv6(_: &str, value: &str) -> Result<(), String> {
    value
        .parse::<Ipv6Addr>()
        .map(|_| ())
        .map_err(|_| format!("value '{value}' does not look like a valid IPv6 address"))
}

/// `dhcp`, `manual` or an IPv4 address with prefix length.
pub fn ipv4_config(_: &str, value: &str) -> Result<(), String> {
    if value == "dhcp" || value == "manual" || parse_cidr4(value).is_some() {
        Ok(())
    } else {
        Err("value does not look like a valid ipv4 network configuration".to_owned())
    }
}

fn ipv6_config(_: &str, value: &str) -> Result<(), String> {
    let cidr_ok = value
        .split_once('/')
        .is_some_and(|(a, p)| a.parse::<Ipv6Addr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 128));
    if matches!(value, "auto" | "dhcp" | "manual") || cidr_ok {
        Ok(())
    } else {
        Err("value does not look like a valid ipv6 network configuration".to_owned())
    }
}

pub fn parse_cidr4(value: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, prefix) = value.split_once('/')?;
    let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
    Some((addr.parse().ok()?, prefix))
}

fn mac_address(_: &str, value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split(':').collect();
    let hex_ok = parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    let multicast = u8::from_str_radix(parts.first().copied().unwrap_or("01"), 16).map(|b| b & 1 == 1).unwrap_or(true);
    if hex_ok && !multicast {
        Ok(())
    } else {
        Err(format!("value '{value}' does not look like a valid unicast MAC address"))
    }
}

fn vlan_list(_: &str, value: &str) -> Result<(), String> {
    for part in value.split(';') {
        let ok = match part.split_once('-') {
            Some((a, b)) => a.parse::<u16>().is_ok() && b.parse::<u16>().is_ok(),
            None => part.parse::<u16>().is_ok(),
        };
        if !ok {
            return Err(format!("invalid VLAN list '{value}'"));
        }
    }
    Ok(())
}

fn disk_size(_: &str, value: &str) -> Result<(), String> {
    crate::formats::text::parse_size(value).map(|_| ()).ok_or_else(|| format!("unable to parse size '{value}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_without_name_reports_the_missing_key() {
        let err = network("net0", "bridge=vmbr0,ip=dhcp").unwrap_err();
        assert_eq!(err, "format error\nnet0.name: property is missing and it is not optional");
    }

    #[test]
    fn network_with_unknown_key_or_bad_vlan_is_rejected() {
        let err = network("net0", "name=eth0,colour=blue").unwrap_err();
        assert!(err.contains(
            "net0.colour: property is not defined in schema and the schema does not allow additional properties"
        ));
        let err = network("net0", "name=eth0,tag=5000").unwrap_err();
        assert!(err.contains("net0.tag: value must have a maximum value of 4094"));
        assert!(network("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1,firewall=1,tag=10").is_ok());
    }

    #[test]
    fn dns_names_follow_proxmox_rules() {
        assert!(dns_name("hostname", "web-1.example.com").is_ok());
        assert!(dns_name("hostname", "-bad").is_err());
        assert!(dns_name("hostname", "under_score").is_err());
    }
}
