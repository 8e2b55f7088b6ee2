//! Firewall endpoints: security groups (`/cluster/firewall/groups…`, stored in `cluster.fw`) and
//! a container's rules and options (`/nodes/{n}/lxc/{id}/firewall/…`, stored in `<vmid>.fw`).
//!
//! As on Proxmox: a new rule is always inserted at position 0 (`--pos` is ignored on create),
//! `enable` defaults to 0, `--moveto` reorders, and deleting renumbers.

use std::fs;
use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::formats::fw_conf::{FirewallFile, Group, Rule};

use super::api::sha1_hex;
use super::Request;
use crate::context::{write_atomic, Node};
use crate::lock::lock_firewall;
use crate::output::Failure;
use crate::params::Kind;

const LOG_LEVELS: &[&str] = &["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog"];

/// The keys of pve-firewall `src/PVE/Firewall.pm` `$pve_fw_macros`: the names Proxmox prefers
/// (`$pve_fw_preferred_macro_names` maps each lowercased name to its key).
const MACROS: &[&str] = &[
    "Amanda",
    "Auth",
    "BGP",
    "BitTorrent",
    "BitTorrent32",
    "Ceph",
    "CVS",
    "Citrix",
    "DAAP",
    "DCC",
    "DHCPfwd",
    "DNS",
    "Distcc",
    "FTP",
    "Finger",
    "GNUnet",
    "GRE",
    "Git",
    "HKP",
    "HTTP",
    "HTTPS",
    "ICPV2",
    "ICQ",
    "IMAP",
    "IMAPS",
    "IPIP",
    "IPsec",
    "IPsecah",
    "IPsecnat",
    "IRC",
    "Jetdirect",
    "L2TP",
    "LDAP",
    "LDAPS",
    "MSNP",
    "MSSQL",
    "Mail",
    "MDNS",
    "Munin",
    "MySQL",
    "NNTP",
    "NNTPS",
    "NTP",
    "OSPF",
    "OpenVPN",
    "PCA",
    "PMG",
    "POP3",
    "POP3S",
    "PPtP",
    "Ping",
    "PostgreSQL",
    "Printer",
    "RDP",
    "RIP",
    "RNDC",
    "Razor",
    "Rdate",
    "Rsync",
    "SANE",
    "SMB",
    "SMBswat",
    "SMTP",
    "SMTPS",
    "SNMP",
    "SPAMD",
    "SSH",
    "SVN",
    "SixXS",
    "SPICEproxy",
    "Squid",
    "Submission",
    "Syslog",
    "TFTP",
    "Telnet",
    "Telnets",
    "Time",
    "Trcrt",
    "VNC",
    "VNCL",
    "Web",
    "Webcache",
    "Webmin",
    "Whois",
];

/// pve-firewall `Firewall.pm` `$icmp_type_names`.
const ICMP_TYPES: &[&str] = &[
    "any",
    "echo-reply",
    "destination-unreachable",
    "network-unreachable",
    "host-unreachable",
    "protocol-unreachable",
    "port-unreachable",
    "fragmentation-needed",
    "source-route-failed",
    "network-unknown",
    "host-unknown",
    "network-prohibited",
    "host-prohibited",
    "TOS-network-unreachable",
    "TOS-host-unreachable",
    "communication-prohibited",
    "host-precedence-violation",
    "precedence-cutoff",
    "source-quench",
    "redirect",
    "network-redirect",
    "host-redirect",
    "TOS-network-redirect",
    "TOS-host-redirect",
    "echo-request",
    "router-advertisement",
    "router-solicitation",
    "time-exceeded",
    "ttl-zero-during-transit",
    "ttl-zero-during-reassembly",
    "parameter-problem",
    "ip-header-bad",
    "required-option-missing",
    "timestamp-request",
    "timestamp-reply",
    "address-mask-request",
    "address-mask-reply",
];

/// pve-firewall `Firewall.pm` `$icmpv6_type_names`.
const ICMPV6_TYPES: &[&str] = &[
    "destination-unreachable",
    "no-route",
    "communication-prohibited",
    "beyond-scope",
    "address-unreachable",
    "port-unreachable",
    "failed-policy",
    "reject-route",
    "packet-too-big",
    "time-exceeded",
    "ttl-zero-during-transit",
    "ttl-zero-during-reassembly",
    "parameter-problem",
    "bad-header",
    "unknown-header-type",
    "unknown-option",
    "echo-request",
    "echo-reply",
    "router-solicitation",
    "router-advertisement",
    "neighbor-solicitation",
    "neighbour-solicitation",
    "neighbor-advertisement",
    "neighbour-advertisement",
    "redirect",
];

const PROTOCOLS_WITH_PORTS: &[&str] = &["tcp", "udp", "sctp", "udplite", "dccp"];
const PROTOCOLS: &[&str] = &[
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
const SERVICES: &[&str] =
    &["ssh", "http", "https", "domain", "smtp", "submission", "imap", "imaps", "pop3", "ntp", "ftp"];

const fn text(max_len: usize) -> Kind {
    Kind::Str { min_len: 0, max_len }
}

/// Parameters of `POST`/`PUT` on rules.
const RULE_PARAMS: &[(&str, Kind)] = &[
    ("type", Kind::Enum(&["in", "out", "group", "forward"])),
    ("action", text(64)),
    ("macro", text(128)),
    ("proto", text(32)),
    ("dport", text(512)),
    ("sport", text(512)),
    ("source", text(512)),
    ("dest", text(512)),
    ("iface", text(20)),
    ("log", Kind::Enum(LOG_LEVELS)),
    ("comment", text(4096)),
    ("enable", Kind::Int { min: 0, max: 1 }),
    ("icmp-type", text(64)),
    ("pos", Kind::Int { min: 0, max: i64::MAX }),
    ("digest", text(64)),
    ("moveto", Kind::Int { min: 0, max: i64::MAX }),
    ("delete", text(4096)),
];

fn cluster_fw(node: &Node) -> PathBuf {
    node.firewall_dir().join("cluster.fw")
}

fn ct_fw(node: &Node, vmid: u32) -> PathBuf {
    node.firewall_dir().join(format!("{vmid}.fw"))
}

fn load(path: &PathBuf) -> (FirewallFile, String) {
    let text = fs::read_to_string(path).unwrap_or_default();
    (FirewallFile::parse(&text), sha1_hex(&text))
}

fn save(path: &PathBuf, file: &FirewallFile) -> Result<(), Failure> {
    if file.is_empty() {
        let _ = fs::remove_file(path);
    } else {
        write_atomic(path, &file.write())?;
    }
    Ok(())
}

fn check_digest(req: &Request<'_>, digest: &str) -> Result<(), Failure> {
    match req.param("digest") {
        Some(given) if given != digest => {
            Err(Failure::new("detected modified configuration - file changed by other user? Try again."))
        }
        _ => Ok(()),
    }
}

/// `[A-Za-z][A-Za-z0-9_-]+`, at most 18 characters.
fn check_group_name(req: &Request<'_>, name: &str) -> Result<(), Failure> {
    let mut chars = name.chars();
    let error = if name.chars().count() > 18 {
        Some("value may only be 18 characters long".to_owned())
    } else if !(name.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        Some("value does not match the regex pattern".to_owned())
    } else {
        None
    };
    match error {
        Some(e) => Err(Failure::params(&[("group".into(), e)], &req.usage())),
        None => Ok(()),
    }
}

pub fn groups(req: &Request<'_>, rest: &[&str]) -> Result<Value, Failure> {
    let path = cluster_fw(req.node);
    match (req.verb, rest) {
        ("get", []) => {
            req.allow(&[])?;
            let (file, digest) = load(&path);
            let list = file
                .groups
                .iter()
                .map(|(name, g)| {
                    let mut entry = json!({"group": name, "digest": digest});
                    if let Some(c) = &g.comment {
                        entry["comment"] = json!(c);
                    }
                    entry
                })
                .collect();
            Ok(Value::Array(list))
        }
        ("create", []) => {
            req.allow(&[("group", text(64)), ("comment", text(4096)), ("rename", text(64)), ("digest", text(64))])?;
            req.require(&["group"])?;
            let name = req.param("group").unwrap_or_default().to_owned();
            check_group_name(req, &name)?;
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, digest) = load(&path);
            check_digest(req, &digest)?;
            let key = name.to_lowercase();
            let comment = req.param("comment").filter(|c| !c.is_empty()).map(str::to_owned);
            if let Some(old) = req.param("rename") {
                let old = old.to_lowercase();
                let mut group =
                    file.groups.remove(&old).ok_or_else(|| Failure::new(format!("no such security group '{old}'")))?;
                if file.groups.contains_key(&key) {
                    return Err(Failure::params(
                        &[("group".into(), format!("Security group '{name}' already exists"))],
                        &req.usage(),
                    ));
                }
                if req.param("comment").is_some() {
                    group.comment = comment;
                }
                file.groups.insert(key, group);
            } else if let Some(group) = file.groups.get_mut(&key) {
                if req.param("digest").is_none() {
                    return Err(Failure::params(
                        &[("group".into(), format!("Security group '{name}' already exists"))],
                        &req.usage(),
                    ));
                }
                group.comment = comment;
            } else {
                file.groups.insert(key, Group { comment, rules: vec![] });
            }
            save(&path, &file)?;
            Ok(Value::Null)
        }
        (_, [group]) => group_rules(req, &path, &group.to_lowercase()),
        (_, [group, pos]) => group_rule(req, &path, &group.to_lowercase(), pos),
        _ => Err(req.no_handler()),
    }
}

/// `/cluster/firewall/aliases[/{name}]`: pve-firewall `src/PVE/API2/Firewall/Aliases.pm`
/// (`create_alias`, `read_alias`, `update_alias`, `remove_alias`). An update replaces the entry:
/// `cidr` is required and a comment not given is dropped. Nothing checks whether rules use an
/// alias before it is removed or renamed.
pub fn aliases(req: &Request<'_>, rest: &[&str]) -> Result<Value, Failure> {
    let path = cluster_fw(req.node);
    let alias_json = |a: &crate::formats::fw_conf::Alias, digest: &str| {
        let mut entry = json!({"name": a.name, "cidr": a.cidr, "digest": digest});
        if let Some(c) = &a.comment {
            entry["comment"] = json!(c);
        }
        entry
    };
    let name_kind = Kind::Str { min_len: 2, max_len: 64 };
    let check_name = |param: &str, name: &str| {
        if is_fw_name(name) {
            Ok(())
        } else {
            Err(Failure::params(
                &[(param.into(), "value does not match the regex pattern '[A-Za-z][A-Za-z0-9\\-\\_]+'".to_owned())],
                &req.usage(),
            ))
        }
    };
    let check_cidr = |cidr: &str| {
        crate::formats::fw_conf::parse_ip_or_cidr(cidr).ok_or_else(|| {
            Failure::params(
                &[("cidr".into(), "value does not look like a valid IP address or CIDR network".to_owned())],
                &req.usage(),
            )
        })
    };
    let no_alias = || Failure::params(&[("name".into(), "no such alias".into())], &req.usage());
    match (req.verb, rest) {
        ("get", []) => {
            req.allow(&[])?;
            let (file, digest) = load(&path);
            Ok(Value::Array(file.aliases().map(|a| alias_json(a, &digest)).collect()))
        }
        ("create", []) => {
            req.allow(&[("name", name_kind), ("cidr", text(128)), ("comment", text(4096))])?;
            req.require(&["name", "cidr"])?;
            let name = req.param("name").unwrap_or_default();
            check_name("name", name)?;
            let cidr = req.param("cidr").unwrap_or_default();
            check_cidr(cidr)?;
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, _) = load(&path);
            if file.alias(name).is_some() {
                return Err(Failure::params(
                    &[("name".into(), format!("alias '{name}' already exists"))],
                    &req.usage(),
                ));
            }
            let comment = req.param("comment").filter(|c| crate::formats::fw_conf::perl_true(c)).map(str::to_owned);
            file.set_alias(crate::formats::fw_conf::Alias { name: name.to_owned(), cidr: cidr.to_owned(), comment });
            save(&path, &file)?;
            Ok(Value::Null)
        }
        ("get", [name]) => {
            req.allow(&[])?;
            let (file, digest) = load(&path);
            file.alias(name).map(|a| alias_json(a, &digest)).ok_or_else(no_alias)
        }
        ("set", [name]) => {
            req.allow(&[("cidr", text(128)), ("comment", text(4096)), ("rename", name_kind), ("digest", text(64))])?;
            req.require(&["cidr"])?;
            let cidr = req.param("cidr").unwrap_or_default();
            check_cidr(cidr)?;
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, digest) = load(&path);
            check_digest(req, &digest)?;
            if file.alias(name).is_none() {
                return Err(no_alias());
            }
            let comment = req.param("comment").filter(|c| crate::formats::fw_conf::perl_true(c)).map(str::to_owned);
            let mut alias = crate::formats::fw_conf::Alias { name: (*name).to_owned(), cidr: cidr.to_owned(), comment };
            if let Some(rename) = req.param("rename").filter(|r| !r.eq_ignore_ascii_case(name)) {
                check_name("rename", rename)?;
                if file.alias(rename).is_some() {
                    return Err(Failure::params(
                        &[("name".into(), format!("alias '{rename}' already exists"))],
                        &req.usage(),
                    ));
                }
                file.remove_alias(name);
                alias.name = rename.to_owned();
            }
            file.set_alias(alias);
            save(&path, &file)?;
            Ok(Value::Null)
        }
        ("delete", [name]) => {
            req.allow(&[("digest", text(64))])?;
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, digest) = load(&path);
            check_digest(req, &digest)?;
            file.remove_alias(name);
            save(&path, &file)?;
            Ok(Value::Null)
        }
        _ => Err(req.no_handler()),
    }
}

/// `/cluster/firewall/ipset[/{name}[/{cidr}]]`: pve-firewall `src/PVE/API2/Firewall/IPSet.pm`
/// (`create_ipset` with `rename` for the comment, `delete_ipset` "is not empty" without
/// `force`, `create_ip` inserting at the front, "address '…' already exists", "a zero prefix is
/// not allowed", `update_ip` replacing `nomatch` and `comment`, `remove_ip` keeping every entry
/// of another text, none found included). The `{cidr}` of a path takes the rest of it, slashes
/// included (`fragmentDelimiter => ''`). Set names are looked up as given (`load_config`:
/// `$fw_conf->{ipset}->{$param->{name}}`), while the file's parser lowercases them, so a set
/// created as `Servers` is found as `servers` only.
pub fn ipsets(req: &Request<'_>, rest: &[&str]) -> Result<Value, Failure> {
    use crate::formats::fw_conf::{IpSet, IpSetEntry};
    let path = cluster_fw(req.node);
    let name_kind = Kind::Str { min_len: 2, max_len: 64 };
    let entry_json = |e: &IpSetEntry, digest: &str| {
        let mut entry = json!({"cidr": e.cidr, "nomatch": u8::from(e.nomatch), "digest": digest});
        if let Some(c) = &e.comment {
            entry["comment"] = json!(c);
        }
        entry
    };
    let no_set = |name: &str| Failure::new(format!("no such IPSet '{name}'"));
    let comment_of = || req.param("comment").filter(|c| crate::formats::fw_conf::perl_true(c)).map(str::to_owned);
    let (set_name, cidr) = match rest {
        [] => (None, None),
        [name] => (Some((*name).to_owned()), None),
        [name, cidr @ ..] => (Some((*name).to_owned()), Some(cidr.join("/"))),
    };
    match (req.verb, set_name, cidr) {
        ("get", None, None) => {
            req.allow(&[])?;
            let (file, digest) = load(&path);
            Ok(Value::Array(
                file.ipsets()
                    .iter()
                    .map(|(name, set)| {
                        let mut entry = json!({"name": name, "digest": digest});
                        if let Some(c) = &set.comment {
                            entry["comment"] = json!(c);
                        }
                        entry
                    })
                    .collect(),
            ))
        }
        ("create", None, None) => {
            req.allow(&[("name", name_kind), ("comment", text(4096)), ("rename", name_kind), ("digest", text(64))])?;
            req.require(&["name"])?;
            let name = req.param("name").unwrap_or_default().to_owned();
            if !is_fw_name(&name) {
                return Err(Failure::params(
                    &[(
                        "name".into(),
                        "value does not match the regex pattern '[A-Za-z][A-Za-z0-9\\-\\_]+'".to_owned(),
                    )],
                    &req.usage(),
                ));
            }
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, digest) = load(&path);
            let key = name.clone();
            match req.param("rename") {
                Some(old) => {
                    check_digest(req, &digest)?;
                    let old = old.to_owned();
                    let mut set = file.ipsets_mut().remove(&old).ok_or_else(|| {
                        Failure::params(&[("name".into(), format!("IPSet '{old}' does not exist"))], &req.usage())
                    })?;
                    if key != old && file.ipsets().contains_key(&key) {
                        return Err(Failure::params(
                            &[("name".into(), format!("IPSet '{name}' does already exist"))],
                            &req.usage(),
                        ));
                    }
                    if req.param("comment").is_some() {
                        set.comment = comment_of();
                    }
                    file.ipsets_mut().insert(key, set);
                }
                None => {
                    if file.ipsets().contains_key(&key) {
                        return Err(Failure::params(
                            &[("name".into(), format!("IPSet '{name}' already exists"))],
                            &req.usage(),
                        ));
                    }
                    file.ipsets_mut().insert(key, IpSet { comment: comment_of(), entries: vec![] });
                }
            }
            save(&path, &file)?;
            Ok(Value::Null)
        }
        ("get", Some(name), None) => {
            req.allow(&[])?;
            let (file, digest) = load(&path);
            let set = file.ipsets().get(&name).ok_or_else(|| no_set(&name))?;
            Ok(Value::Array(set.entries.iter().map(|e| entry_json(e, &digest)).collect()))
        }
        ("delete", Some(name), None) => {
            req.allow(&[("force", Kind::Bool)])?;
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, _) = load(&path);
            let set = file.ipsets().get(&name).ok_or_else(|| no_set(&name))?;
            if !set.entries.is_empty() && req.param("force") != Some("1") {
                return Err(Failure::new(format!("IPSet '{name}' is not empty")));
            }
            file.ipsets_mut().remove(&name);
            save(&path, &file)?;
            Ok(Value::Null)
        }
        ("create", Some(name), None) => {
            req.allow(&[("cidr", text(128)), ("nomatch", Kind::Bool), ("comment", text(4096))])?;
            req.require(&["cidr"])?;
            let given = req.param("cidr").unwrap_or_default();
            // `pve_verify_ip_or_cidr_or_alias` (the parameter's format), then `create_ip`:
            // an alias must resolve (`resolve_alias`: a cluster set has no guest file, so
            // `guest/` never does); an address is cleaned and normalised.
            let alias = given.strip_prefix("dc/").or_else(|| given.strip_prefix("guest/"));
            let alias_name = alias.unwrap_or(given);
            let cidr = if is_fw_name(alias_name) {
                None
            } else {
                use crate::formats::fw_conf::{clean_cidr, parse_ip_or_cidr};
                Some(clean_cidr(given).and_then(|clean| parse_ip_or_cidr(&clean)).ok_or_else(|| {
                    Failure::params(
                        &[("cidr".into(), "value does not look like a valid IP address or CIDR network".to_owned())],
                        &req.usage(),
                    )
                })?)
            };
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, _) = load(&path);
            if cidr.is_none() && (given.starts_with("guest/") || !file.has_alias(alias_name)) {
                return Err(Failure::new(format!("no such alias '{alias_name}'")));
            }
            let cidr = cidr.unwrap_or_else(|| given.to_owned());
            let set = file.ipsets_mut().get_mut(&name).ok_or_else(|| no_set(&name))?;
            if set.entries.iter().any(|e| e.cidr == cidr) {
                return Err(Failure::params(
                    &[("cidr".into(), format!("address '{cidr}' already exists"))],
                    &req.usage(),
                ));
            }
            if cidr.rsplit_once('/').is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b == b'0')) {
                return Err(Failure::params(
                    &[("cidr".into(), "a zero prefix is not allowed in ipset entries".to_owned())],
                    &req.usage(),
                ));
            }
            set.entries
                .insert(0, IpSetEntry { nomatch: req.param("nomatch") == Some("1"), cidr, comment: comment_of() });
            save(&path, &file)?;
            Ok(Value::Null)
        }
        (verb @ ("get" | "set" | "delete"), Some(name), Some(cidr)) => {
            let _lock = if verb == "get" { None } else { Some(lock_firewall(req.node, "cluster")?) };
            let (mut file, digest) = load(&path);
            let set = file.ipsets_mut().get_mut(&name).ok_or_else(|| no_set(&name))?;
            let no_entry = || Failure::params(&[("cidr".into(), "no such IP/Network".to_owned())], &req.usage());
            let found = set.entries.iter().position(|e| e.cidr == cidr);
            if verb == "delete" {
                req.allow(&[("digest", text(64))])?;
                check_digest(req, &digest)?;
                set.entries.retain(|e| e.cidr != cidr);
                save(&path, &file)?;
                return Ok(Value::Null);
            }
            let at = found.ok_or_else(no_entry)?;
            match verb {
                "get" => {
                    req.allow(&[])?;
                    return Ok(entry_json(&set.entries[at], &digest));
                }
                _ => {
                    req.allow(&[("nomatch", Kind::Bool), ("comment", text(4096)), ("digest", text(64))])?;
                    check_digest(req, &digest)?;
                    set.entries[at].nomatch = req.param("nomatch") == Some("1");
                    set.entries[at].comment = comment_of();
                }
            }
            save(&path, &file)?;
            Ok(Value::Null)
        }
        _ => Err(req.no_handler()),
    }
}

fn no_group(name: &str) -> Failure {
    Failure::new(format!("no such security group '{name}'"))
}

fn group_rules(req: &Request<'_>, path: &PathBuf, group: &str) -> Result<Value, Failure> {
    match req.verb {
        "get" => {
            req.allow(&[])?;
            let (file, _) = load(path);
            let g = file.groups.get(group).ok_or_else(|| no_group(group))?;
            Ok(rules_json(&g.rules))
        }
        "create" => {
            // `create_rule` takes `digest` and checks nothing with it.
            req.allow(RULE_PARAMS)?;
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, _) = load(path);
            if !file.groups.contains_key(group) {
                return Err(no_group(group));
            }
            let rule = rule_from_params(req, Rule::default(), "group", &Names::of(&[&file]))?;
            let g = file.groups.get_mut(group).ok_or_else(|| no_group(group))?;
            g.rules.insert(0, rule);
            save(path, &file)?;
            Ok(Value::Null)
        }
        "delete" => {
            req.allow(&[])?;
            let _lock = lock_firewall(req.node, "cluster")?;
            let (mut file, _) = load(path);
            let g = file.groups.get(group).ok_or_else(|| no_group(group))?;
            if !g.rules.is_empty() {
                return Err(Failure::new(format!("Security group '{group}' is not empty")));
            }
            file.groups.remove(group);
            save(path, &file)?;
            Ok(Value::Null)
        }
        _ => Err(req.no_handler()),
    }
}

fn group_rule(req: &Request<'_>, path: &PathBuf, group: &str, pos: &str) -> Result<Value, Failure> {
    let _lock = if req.verb == "get" { None } else { Some(lock_firewall(req.node, "cluster")?) };
    let (mut file, _) = load(path);
    let names = Names::of(&[&file]);
    let g = file.groups.get_mut(group).ok_or_else(|| no_group(group))?;
    if req.verb != "get" && another_client_edits(req, &mut g.rules)? {
        save(path, &file)?;
    }
    let g = file.groups.get_mut(group).ok_or_else(|| no_group(group))?;
    let digest = rules_digest(&g.rules);
    let result = one_rule(req, &mut g.rules, pos, &digest, "group", &names)?;
    if req.verb != "get" {
        save(path, &file)?;
    }
    Ok(result)
}

/// GET/PUT/DELETE on the rule at `pos` of `rules`.
fn one_rule(
    req: &Request<'_>,
    rules: &mut Vec<Rule>,
    pos: &str,
    digest: &str,
    env: &str,
    names: &Names,
) -> Result<Value, Failure> {
    let index: usize = pos.parse().map_err(|_| {
        Failure::params(&[("pos".into(), format!("type check ('integer') failed - got '{pos}'"))], &req.usage())
    })?;
    let missing = || Failure::new(format!("no rule at position {index}"));
    match req.verb {
        "get" => {
            req.allow(&[])?;
            let rule = rules.get(index).ok_or_else(missing)?;
            Ok(rule_json(rule, index, digest))
        }
        "set" => {
            req.allow(RULE_PARAMS)?;
            check_digest(req, digest)?;
            let rule = rules.get(index).cloned().ok_or_else(missing)?;
            if let Some(moveto) = req.param("moveto").and_then(|m| m.parse::<usize>().ok()) {
                let mut reordered = Vec::with_capacity(rules.len());
                for (i, r) in rules.iter().enumerate() {
                    if i == index {
                        continue;
                    }
                    if i == moveto {
                        reordered.push(rule.clone());
                    }
                    reordered.push(r.clone());
                }
                if moveto >= rules.len() {
                    reordered.push(rule);
                }
                *rules = reordered;
            } else {
                let mut updated = rule;
                if let Some(deleted) = req.param("delete") {
                    for key in deleted.split([',', ';', ' ']).filter(|k| !k.is_empty()) {
                        clear_field(&mut updated, key);
                    }
                }
                rules[index] = rule_from_params(req, updated, env, names)?;
            }
            Ok(Value::Null)
        }
        "delete" => {
            req.allow(&[("digest", text(64))])?;
            check_digest(req, digest)?;
            if index >= rules.len() {
                return Err(missing());
            }
            rules.remove(index);
            Ok(Value::Null)
        }
        _ => Err(req.no_handler()),
    }
}

fn clear_field(rule: &mut Rule, key: &str) {
    match key {
        "macro" => rule.macro_name = None,
        "proto" => rule.proto = None,
        "dport" => rule.dport = None,
        "sport" => rule.sport = None,
        "source" => rule.source = None,
        "dest" => rule.dest = None,
        "iface" => rule.iface = None,
        "log" => rule.log = None,
        "comment" => rule.comment = None,
        "icmp-type" => rule.icmp_type = None,
        _ => {}
    }
}

/// Apply the request's rule fields onto `rule` and validate the result for `env` (`ct`/`group`).
fn rule_from_params(req: &Request<'_>, mut rule: Rule, env: &str, names: &Names) -> Result<Rule, Failure> {
    let text_field = |name: &str| req.param(name).filter(|v| !v.is_empty()).map(str::to_owned);
    if let Some(kind) = req.param("type") {
        rule.kind = kind.to_owned();
    }
    if let Some(action) = req.param("action") {
        rule.action = action.to_owned();
    }
    if let Some(enable) = req.param("enable") {
        rule.enable = enable == "1";
    } else if rule.kind.is_empty() || req.verb == "create" {
        rule.enable = false;
    }
    for (name, field) in [
        ("macro", &mut rule.macro_name),
        ("proto", &mut rule.proto),
        ("dport", &mut rule.dport),
        ("sport", &mut rule.sport),
        ("source", &mut rule.source),
        ("dest", &mut rule.dest),
        ("iface", &mut rule.iface),
        ("log", &mut rule.log),
        ("comment", &mut rule.comment),
        ("icmp-type", &mut rule.icmp_type),
    ] {
        if req.params.contains_key(name) {
            *field = text_field(name);
        }
    }
    let mut errors: Vec<(String, String)> = Vec::new();
    if rule.kind.is_empty() {
        errors.push(("type".into(), "property is missing and it is not optional".into()));
    }
    if rule.action.is_empty() {
        errors.push(("action".into(), "property is missing and it is not optional".into()));
    }
    if rule.kind == "forward" && env != "group" {
        errors.push(("type".into(), format!("invalid rule type 'forward' for rule_env '{env}'")));
    }
    // A group rule's target group is not checked at creation, as on Proxmox.
    if rule.kind == "group" {
        if env == "group" {
            errors.push(("type".into(), "security groups cannot reference other groups".into()));
        }
    } else if !rule.action.is_empty() && !matches!(rule.action.as_str(), "ACCEPT" | "DROP" | "REJECT") {
        errors.push(("action".into(), format!("unknown action '{}'", rule.action)));
    }
    // `verify_rule`: a macro matches case-insensitively and is stored under the preferred name.
    if let Some(m) = rule.macro_name.clone() {
        match MACROS.iter().find(|known| known.eq_ignore_ascii_case(&m)) {
            Some(preferred) => rule.macro_name = Some((*preferred).to_owned()),
            None => errors.push(("macro".into(), format!("unknown macro '{m}'"))),
        }
    }
    // `verify_rule`: `-i` only where `$rule_env_iface_lookup` allows it (not in groups), a name
    // per pve-common `pve_verify_iface`, and `net\d+` for guests.
    if let Some(iface) = &rule.iface {
        if env == "group" {
            errors.push(("type".into(), "parameter -i not allowed for this rule type".into()));
        }
        if !is_iface_name(iface) {
            errors.push(("iface".into(), format!("invalid network interface name '{iface}'")));
        }
        let guest_iface =
            iface.strip_prefix("net").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if env == "ct" && !guest_iface {
            errors.push(("iface".into(), "value does not match the regex pattern 'net\\d+'".into()));
        }
    }
    if let Some(proto) = &rule.proto {
        let numeric = proto.parse::<u8>().is_ok();
        if !numeric && !PROTOCOLS.contains(&proto.as_str()) {
            errors.push(("proto".into(), format!("unknown protocol '{proto}'")));
        }
    }
    for (name, ports) in [("dport", &rule.dport), ("sport", &rule.sport)] {
        let Some(ports) = ports else { continue };
        // `verify_rule` asks for `proto` with ports even when a macro is set.
        // An ICMP protocol takes ICMP type names as `dport` (`$is_icmp`, "#special cases").
        let is_icmp =
            name == "dport" && rule.proto.as_deref().is_some_and(|p| matches!(p, "icmp" | "icmpv6" | "ipv6-icmp"));
        match &rule.proto {
            None => {
                errors.push(("proto".into(), format!("missing property - '{name}' requires this property")));
            }
            Some(p) if !PROTOCOLS_WITH_PORTS.contains(&p.as_str()) && !is_icmp => {
                errors.push((name.into(), format!("protocol '{p}' does not support ports")));
            }
            _ => {}
        }
        if let Err(e) = check_ports(ports, is_icmp) {
            errors.push((name.into(), e));
        }
    }
    // `verify_rule`: an ICMP type needs an ICMP protocol, no `dport`, and a name of that
    // protocol's list (`$icmp_type_names`, `$icmpv6_type_names`).
    if let Some(icmp_type) = &rule.icmp_type {
        let proto = rule.proto.as_deref().unwrap_or_default();
        let names = match proto {
            "icmp" => Some(ICMP_TYPES),
            "icmpv6" | "ipv6-icmp" => Some(ICMPV6_TYPES),
            _ => None,
        };
        if names.is_none() {
            errors.push(("proto".into(), "missing property - 'icmp-type' requires this property".into()));
        }
        if rule.dport.is_some() {
            errors.push(("icmp-type".into(), "'icmp-type' cannot be specified together with 'dport'".into()));
        }
        if names.is_some_and(|n| !n.contains(&icmp_type.as_str())) {
            errors.push(("icmp-type".into(), format!("invalid icmp-type '{icmp_type}' for proto '{proto}'")));
        }
    }
    for (name, value) in [("source", &rule.source), ("dest", &rule.dest)] {
        if let Some(addresses) = value {
            if let Err(e) = check_address_spec(addresses, names) {
                errors.push((name.into(), e));
            }
        }
    }
    if errors.is_empty() {
        Ok(rule)
    } else {
        errors.sort();
        errors.dedup();
        Err(Failure::params(&errors, &req.usage()))
    }
}

/// pve-common `JSONSchema.pm` `pve_verify_iface`: `^[a-z][a-z0-9_]{1,20}([:\.]\d+)?$` (any case).
fn is_iface_name(name: &str) -> bool {
    let (base, suffix) = match name.find([':', '.']) {
        Some(at) => (&name[..at], Some(&name[at + 1..])),
        None => (name, None),
    };
    let mut chars = base.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && (2..=21).contains(&base.len())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && suffix.is_none_or(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// pve-firewall `Firewall.pm` `parse_port_name_number_or_range`: numbers and ranges up to
/// 65535 (0 included), service names, and for an ICMP `dport` ICMP type names, at most 15
/// numbers (a range counts two).
fn check_ports(spec: &str, icmp_dport: bool) -> Result<(), String> {
    // Perl's `split(/,/)` drops trailing empty fields only.
    let mut items: Vec<&str> = spec.split(',').collect();
    while items.last() == Some(&"") {
        items.pop();
    }
    if items.join(",") != spec {
        return Err("extraneous commas in list".into());
    }
    let number = |p: &str| p.parse::<u32>().ok().filter(|_| p.bytes().all(|b| b.is_ascii_digit()));
    let (mut count, mut icmp_port) = (0, false);
    for item in items {
        if let Some((a, b)) = item.split_once(':').filter(|(a, b)| number(a).is_some() && number(b).is_some()) {
            count += 2;
            let (p1, p2) = (number(a).unwrap_or_default(), number(b).unwrap_or_default());
            for p in [p1, p2] {
                if p > 65535 {
                    return Err(format!("invalid port '{p}'"));
                }
            }
            if p1 > p2 {
                return Err(format!("backwards range '{p1}:{p2}' not allowed, did you mean '{p2}:{p1}'?"));
            }
        } else if let Some(p) = number(item) {
            count += 1;
            if p > 65535 {
                return Err(format!("invalid port '{p}'"));
            }
        } else if icmp_dport && (ICMP_TYPES.contains(&item) || ICMPV6_TYPES.contains(&item)) {
            icmp_port = true;
        } else if !SERVICES.contains(&item) {
            return Err(format!("invalid port '{item}'"));
        }
    }
    if icmp_port && count > 0 {
        return Err("ICMP ports not allowed in port range".into());
    }
    if count > 15 {
        return Err("too many entries in port list (> 15 numbers)".into());
    }
    Ok(())
}

/// The aliases and IP sets a rule may name: the cluster's, and a guest's own.
pub struct Names {
    files: Vec<FirewallFile>,
}

impl Names {
    fn of(files: &[&FirewallFile]) -> Self {
        Names { files: files.iter().map(|f| (*f).clone()).collect() }
    }
}

/// `[A-Za-z][A-Za-z0-9\-\_]+` (`$ip_alias_pattern`, `$ipset_name_pattern`).
fn is_fw_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// pve-firewall `Firewall.pm` `parse_address_list` and `verify_rule`'s
/// `$check_ipset_or_alias_property`: a whole value `+[dc/|guest/|sdn/]set` names an IP set and
/// `[dc/|guest/]alias` an alias, each of which must exist (in the cluster's or the guest's file);
/// anything else is a list of addresses, networks or one range.
fn check_address_spec(spec: &str, names: &Names) -> Result<(), String> {
    if let Some(rest) = spec.strip_prefix('+').filter(|r| !r.is_empty() && !r.contains(char::is_whitespace)) {
        if spec.len() > 65 {
            return Err("ipset name too long".into());
        }
        let name = ["guest/", "dc/", "sdn/"].iter().find_map(|p| rest.strip_prefix(p)).unwrap_or(rest);
        if !is_fw_name(name) {
            return Err(format!("invalid ipset name '{spec}'"));
        }
        return match names.files.iter().any(|f| f.has_ipset(name)) {
            true => Ok(()),
            false => Err(format!("no such ipset '{name}'")),
        };
    }
    let alias = ["dc/", "guest/"].iter().find_map(|p| spec.strip_prefix(p)).unwrap_or(spec);
    if is_fw_name(alias) {
        if spec.len() > 64 {
            return Err("alias name too long".into());
        }
        return match names.files.iter().any(|f| f.has_alias(alias)) {
            true => Ok(()),
            false => Err(format!("no such alias '{spec}'")),
        };
    }
    let items: Vec<&str> = spec.split(',').collect();
    let mut range = false;
    let mut version = None;
    for item in &items {
        let (ok, ip) = if let Some((addr, prefix)) = item.split_once('/') {
            match addr.parse::<IpAddr>() {
                Ok(ip @ IpAddr::V4(_)) => (prefix.parse::<u8>().is_ok_and(|p| p <= 32), Some(ip)),
                Ok(ip @ IpAddr::V6(_)) => (prefix.parse::<u8>().is_ok_and(|p| p <= 128), Some(ip)),
                Err(_) => (false, None),
            }
        } else if let Some((a, b)) = item.split_once('-') {
            range = true;
            match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
                (Ok(a), Ok(b)) => (a.is_ipv4() == b.is_ipv4(), Some(a)),
                _ => (false, None),
            }
        } else {
            let ip = item.parse::<IpAddr>().ok();
            (ip.is_some(), ip)
        };
        let Some(ip) = ip.filter(|_| ok) else {
            return Err(format!("invalid IP address: {item}"));
        };
        let this = if ip.is_ipv4() { 4 } else { 6 };
        if version.is_some_and(|v| v != this) {
            return Err(format!("detected mixed ipv4/ipv6 addresses in address list '{spec}'"));
        }
        version = Some(this);
    }
    if range && items.len() > 1 {
        return Err("you can't use a range in a list".into());
    }
    Ok(())
}

fn rule_json(rule: &Rule, pos: usize, digest: &str) -> Value {
    let mut map = Map::new();
    map.insert("pos".into(), json!(pos));
    map.insert("type".into(), json!(rule.kind));
    map.insert("action".into(), json!(rule.action));
    map.insert("enable".into(), json!(u8::from(rule.enable)));
    map.insert("digest".into(), json!(digest));
    for (name, value) in [
        ("macro", &rule.macro_name),
        ("proto", &rule.proto),
        ("dport", &rule.dport),
        ("sport", &rule.sport),
        ("source", &rule.source),
        ("dest", &rule.dest),
        ("iface", &rule.iface),
        ("log", &rule.log),
        ("comment", &rule.comment),
        ("icmp-type", &rule.icmp_type),
    ] {
        if let Some(v) = value {
            map.insert(name.into(), json!(v));
        }
    }
    // `verify_rule`: the protocol's version first (`icmp` 4, `icmpv6`/`ipv6-icmp` 6), then the
    // addresses' (`parse_address_list`); aliases and IP sets are not resolved here.
    let by_proto = match rule.proto.as_deref() {
        Some("icmp") => Some(4),
        Some("icmpv6" | "ipv6-icmp") => Some(6),
        _ => None,
    };
    let addresses = [&rule.source, &rule.dest];
    let first_ip = addresses.iter().filter_map(|a| a.as_deref()).find_map(|a| {
        let addr = a.split([',', '/', '-']).next()?;
        addr.parse::<IpAddr>().ok()
    });
    if let Some(version) = by_proto.or(first_ip.map(|ip| if ip.is_ipv4() { 4 } else { 6 })) {
        map.insert("ipversion".into(), json!(version));
    }
    Value::Object(map)
}

/// The digest of a rule list: pve-firewall `Firewall.pm` `copy_list_with_digest`, SHA-1 over
/// every rule's defined, non-reference keys in sorted order as `key:value\n` (UTF-8).
fn rules_digest(rules: &[Rule]) -> String {
    let mut text = String::new();
    for (pos, rule) in rules.iter().enumerate() {
        let Value::Object(map) = rule_json(rule, pos, "") else { continue };
        let sorted: std::collections::BTreeMap<&String, &Value> =
            map.iter().filter(|(k, _)| k.as_str() != "pos" && k.as_str() != "digest").collect();
        for (key, value) in sorted {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            text.push_str(&format!("{key}:{value}\n"));
        }
    }
    sha1_hex(&text)
}

fn rules_json(rules: &[Rule]) -> Value {
    let digest = rules_digest(rules);
    Value::Array(rules.iter().enumerate().map(|(i, r)| rule_json(r, i, &digest)).collect())
}

/// The `edit-rules` fault (`faults.json`): another client inserts a rule at the top of the list
/// this update or delete addresses, just before it runs, so the digest it carries is stale.
fn another_client_edits(req: &Request<'_>, rules: &mut Vec<Rule>) -> Result<bool, Failure> {
    let line = format!("pvesh {} {}", req.verb, req.path);
    if crate::faults::take_for_command(&req.node.state, "edit-rules", &line, &req.node.host_label)?.is_none() {
        return Ok(false);
    }
    let added = Rule {
        kind: "in".into(),
        action: "ACCEPT".into(),
        proto: Some("tcp".into()),
        dport: Some("2222".into()),
        comment: Some("added by another client".into()),
        enable: false,
        ..Rule::default()
    };
    rules.insert(0, added);
    Ok(true)
}

pub fn container(req: &Request<'_>, node: &str, vmid: &str, rest: &[&str]) -> Result<Value, Failure> {
    let ct = req.container(node, vmid)?;
    let path = ct_fw(&ct.node, ct.vmid);
    let lock_id = ct.vmid.to_string();
    match (req.verb, rest) {
        ("get", ["rules"]) => {
            req.allow(&[])?;
            let (file, _) = load(&path);
            Ok(rules_json(&file.rules))
        }
        ("create", ["rules"]) => {
            // `create_rule` takes `digest` and checks nothing with it.
            req.allow(RULE_PARAMS)?;
            let _lock = lock_firewall(req.node, &lock_id)?;
            let (mut file, _) = load(&path);
            let (cluster, _) = load(&cluster_fw(&ct.node));
            let rule = rule_from_params(req, Rule::default(), "ct", &Names::of(&[&cluster, &file]))?;
            file.rules.insert(0, rule);
            save(&path, &file)?;
            Ok(Value::Null)
        }
        (_, ["rules", pos]) => {
            let _lock = if req.verb == "get" { None } else { Some(lock_firewall(req.node, &lock_id)?) };
            let (mut file, _) = load(&path);
            let (cluster, _) = load(&cluster_fw(&ct.node));
            let names = Names::of(&[&cluster, &file]);
            if req.verb != "get" && another_client_edits(req, &mut file.rules)? {
                save(&path, &file)?;
            }
            let digest = rules_digest(&file.rules);
            let result = one_rule(req, &mut file.rules, pos, &digest, "ct", &names)?;
            if req.verb != "get" {
                save(&path, &file)?;
            }
            Ok(result)
        }
        ("get", ["options"]) => {
            req.allow(&[])?;
            let (file, digest) = load(&path);
            let mut map = Map::new();
            map.insert("digest".into(), json!(digest));
            for (k, v) in &file.options {
                let value = v.parse::<i64>().map(|n| json!(n)).unwrap_or_else(|_| json!(v));
                map.insert(k.clone(), value);
            }
            Ok(Value::Object(map))
        }
        ("set", ["options"]) => {
            const BOOLEANS: &[&str] = &["enable", "dhcp", "ipfilter", "macfilter", "ndp", "radv"];
            let mut known: Vec<(&str, Kind)> = BOOLEANS.iter().map(|b| (*b, Kind::Bool)).collect();
            known.extend([
                ("policy_in", Kind::Enum(&["ACCEPT", "REJECT", "DROP"])),
                ("policy_out", Kind::Enum(&["ACCEPT", "REJECT", "DROP"])),
                ("log_level_in", Kind::Enum(LOG_LEVELS)),
                ("log_level_out", Kind::Enum(LOG_LEVELS)),
                ("delete", text(4096)),
                ("digest", text(64)),
            ]);
            req.allow(&known)?;
            let _lock = lock_firewall(req.node, &lock_id)?;
            let (mut file, digest) = load(&path);
            check_digest(req, &digest)?;
            if let Some(deleted) = req.param("delete") {
                for key in deleted.split([',', ';', ' ']).filter(|k| !k.is_empty()) {
                    file.options.remove(key);
                }
            }
            for (key, value) in &req.params {
                if key == "delete" || key == "digest" {
                    continue;
                }
                let value = if BOOLEANS.contains(&key.as_str()) {
                    crate::params::parse_boolean(value).unwrap_or(0).to_string()
                } else {
                    value.clone()
                };
                file.options.insert(key.clone(), value);
            }
            save(&path, &file)?;
            Ok(Value::Null)
        }
        _ => Err(req.no_handler()),
    }
}
