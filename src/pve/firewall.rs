//! Firewall operations through `pvesh`: security groups and their rules
//! (`/cluster/firewall/groups…`), a container's rules and options
//! (`/nodes/{n}/lxc/{id}/firewall/…`), and turning a rule list into another with as few
//! commands as possible — all in one round trip.
//!
//! Proxmox inserts every new rule at position 0 and creates it disabled unless `--enable 1` is
//! given (pve-cli.md §5), so a new rule is created with its `enable` flag and then moved to its
//! place with `--moveto`.

use super::command::{Command, Script};
use super::error::PveError;
use super::firewall_file::Rule;
use super::runner::{run, Runner};

/// Proxmox's firewall macros: the keys of pve-firewall `src/PVE/Firewall.pm` `$pve_fw_macros`.
/// `verify_rule` matches a rule's macro case-insensitively and stores this spelling
/// (`$pve_fw_preferred_macro_names`), so `ssh` is written as `SSH`.
pub const MACROS: &[&str] = &[
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

/// ICMP type names `verify_rule` accepts with `proto icmp` (pve-firewall `Firewall.pm`
/// `$icmp_type_names`, from `iptables -p icmp -h`).
pub const ICMP_TYPES: &[&str] = &[
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

/// ICMPv6 type names for `proto icmpv6`/`ipv6-icmp` (`$icmpv6_type_names`).
pub const ICMPV6_TYPES: &[&str] = &[
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

/// The ICMP type names Proxmox accepts with protocol `proto`; `None` when `proto` is not ICMP
/// (`$proto_is_icmp`), where `verify_rule` refuses any `icmp-type`.
pub fn icmp_types_for(proto: &str) -> Option<&'static [&'static str]> {
    match proto {
        "icmp" => Some(ICMP_TYPES),
        "icmpv6" | "ipv6-icmp" => Some(ICMPV6_TYPES),
        _ => None,
    }
}

/// Whether the datacenter firewall is on. `cluster.fw` `[OPTIONS] enable` has no default, so a
/// cluster that never set it has it off (pve-firewall `src/PVE/Firewall.pm`
/// `parse_clusterfw_option`); while it is off `pve-firewall` removes its chains
/// (`is_enabled_and_not_nftables`, `update`), and no security group filters anything.
pub fn datacenter_firewall_enabled(cluster: &super::firewall_file::FirewallFile) -> bool {
    cluster.options.get("enable").is_some_and(|v| v.trim() == "1")
}

/// The warning for a cluster whose datacenter firewall is off.
pub const FIREWALL_OFF: (&str, &str) = (
    "the datacenter firewall is off: security groups filter nothing",
    "Proxmox applies no firewall rule, security groups included, until the datacenter firewall is enabled: \
     Datacenter → Firewall → Options → Firewall = Yes, or `pvesh set /cluster/firewall/options --enable 1` \
     on a host of the cluster. Enable it only after allowing SSH and port 8006 to the hosts.",
);

/// The spelling Proxmox stores for macro `name`, if it is one.
pub fn preferred_macro(name: &str) -> Option<&'static str> {
    MACROS.iter().copied().find(|m| m.eq_ignore_ascii_case(name))
}

/// Where rules live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Group(String),
    Container { node: String, vmid: u32 },
}

impl Scope {
    fn rules_path(&self) -> String {
        match self {
            Scope::Group(name) => format!("/cluster/firewall/groups/{name}"),
            Scope::Container { node, vmid } => format!("/nodes/{node}/lxc/{vmid}/firewall/rules"),
        }
    }
}

fn pvesh(verb: &str, path: &str) -> Command {
    Command::new("pvesh").arg(verb).arg(path)
}

/// The rule's fields as API parameters (absent fields are left out).
fn with_fields(mut cmd: Command, rule: &Rule) -> Command {
    cmd = cmd.opt("type", &rule.kind).opt("action", &rule.action).opt("enable", u8::from(rule.enable));
    let fields = [
        ("macro", &rule.macro_name),
        ("proto", &rule.proto),
        ("dport", &rule.dport),
        ("sport", &rule.sport),
        ("source", &rule.source),
        ("dest", &rule.dest),
        ("iface", &rule.iface),
        ("log", &rule.log),
        ("icmp-type", &rule.icmp_type),
        ("comment", &rule.comment),
    ];
    for (name, value) in fields {
        cmd = cmd.opt_if(name, value.as_ref());
    }
    cmd
}

/// Optional fields `current` has and `wanted` has not (to `--delete`).
fn removed_fields(current: &Rule, wanted: &Rule) -> Vec<&'static str> {
    let pairs = [
        ("macro", &current.macro_name, &wanted.macro_name),
        ("proto", &current.proto, &wanted.proto),
        ("dport", &current.dport, &wanted.dport),
        ("sport", &current.sport, &wanted.sport),
        ("source", &current.source, &wanted.source),
        ("dest", &current.dest, &wanted.dest),
        ("iface", &current.iface, &wanted.iface),
        ("log", &current.log, &wanted.log),
        ("icmp-type", &current.icmp_type, &wanted.icmp_type),
        ("comment", &current.comment, &wanted.comment),
    ];
    pairs.iter().filter(|(_, have, want)| have.is_some() && want.is_none()).map(|(n, _, _)| *n).collect()
}

/// Commands turning the rule list `current` into `wanted`, in order.
pub fn reconcile(scope: &Scope, current: &[Rule], wanted: &[Rule]) -> Vec<Command> {
    let base = scope.rules_path();
    let mut commands = Vec::new();
    for (pos, (have, want)) in current.iter().zip(wanted).enumerate() {
        if have != want {
            let mut cmd = with_fields(pvesh("set", &format!("{base}/{pos}")), want);
            let removed = removed_fields(have, want);
            if !removed.is_empty() {
                cmd = cmd.opt("delete", removed.join(","));
            }
            commands.push(cmd);
        }
    }
    for (count, want) in (current.len()..).zip(wanted.iter().skip(current.len())) {
        // Created at position 0, then moved behind the `count` rules already in place.
        commands.push(with_fields(pvesh("create", &base), want));
        commands.push(pvesh("set", &format!("{base}/0")).opt("moveto", count + 1));
    }
    for pos in (wanted.len()..current.len()).rev() {
        commands.push(pvesh("delete", &format!("{base}/{pos}")));
    }
    commands
}

/// Run commands in one round trip, stopping at the first failure.
pub async fn run_all(runner: &dyn Runner, summary: &str, commands: &[Command]) -> Result<(), PveError> {
    if commands.is_empty() {
        return Ok(());
    }
    let text = commands.iter().map(Command::render).collect::<Vec<_>>().join(" && ");
    run(runner, Script::raw(summary, text)).await.map(|_| ())
}

pub fn create_group(name: &str, comment: Option<&str>) -> Command {
    pvesh("create", "/cluster/firewall/groups").opt("group", name).opt_if("comment", comment.filter(|c| !c.is_empty()))
}

/// Proxmox changes a group's comment through a "rename" to the same name.
pub fn set_group_comment(name: &str, comment: Option<&str>) -> Command {
    pvesh("create", "/cluster/firewall/groups")
        .opt("group", name)
        .opt("rename", name)
        .opt("comment", comment.unwrap_or(""))
}

pub fn delete_group(name: &str) -> Command {
    pvesh("delete", &format!("/cluster/firewall/groups/{name}"))
}

/// pve-firewall `API2/Firewall/Aliases.pm` `create_alias`.
pub fn create_alias(name: &str, cidr: &str, comment: Option<&str>) -> Command {
    pvesh("create", "/cluster/firewall/aliases").opt("name", name).opt("cidr", cidr).opt_if("comment", comment)
}

/// `update_alias` replaces the entry: `cidr` always, and a comment left out is removed.
pub fn set_alias(name: &str, cidr: &str, comment: Option<&str>) -> Command {
    pvesh("set", &format!("/cluster/firewall/aliases/{name}")).opt("cidr", cidr).opt_if("comment", comment)
}

pub fn delete_alias(name: &str) -> Command {
    pvesh("delete", &format!("/cluster/firewall/aliases/{name}"))
}

/// pve-firewall `API2/Firewall/IPSet.pm` `create_ipset`.
pub fn create_ipset(name: &str, comment: Option<&str>) -> Command {
    pvesh("create", "/cluster/firewall/ipset").opt("name", name).opt_if("comment", comment)
}

/// `create_ipset` with `rename` set to the name itself changes only the comment (`""` clears it).
pub fn set_ipset_comment(name: &str, comment: Option<&str>) -> Command {
    pvesh("create", "/cluster/firewall/ipset")
        .opt("name", name)
        .opt("rename", name)
        .opt("comment", comment.unwrap_or(""))
}

/// `delete_ipset --force 1`: the set with its entries.
pub fn delete_ipset(name: &str) -> Command {
    pvesh("delete", &format!("/cluster/firewall/ipset/{name}")).opt("force", 1)
}

/// `create_ip`.
pub fn add_ipset_entry(name: &str, cidr: &str, nomatch: bool, comment: Option<&str>) -> Command {
    pvesh("create", &format!("/cluster/firewall/ipset/{name}"))
        .opt("cidr", cidr)
        .opt_if("nomatch", nomatch.then_some(1))
        .opt_if("comment", comment)
}

/// `update_ip` replaces both `nomatch` and `comment`. The `{cidr}` of the path takes the rest of
/// it, slashes included (`fragmentDelimiter => ''`).
pub fn set_ipset_entry(name: &str, cidr: &str, nomatch: bool, comment: Option<&str>) -> Command {
    pvesh("set", &format!("/cluster/firewall/ipset/{name}/{cidr}"))
        .opt("nomatch", u8::from(nomatch))
        .opt_if("comment", comment)
}

/// `remove_ip`.
pub fn delete_ipset_entry(name: &str, cidr: &str) -> Command {
    pvesh("delete", &format!("/cluster/firewall/ipset/{name}/{cidr}"))
}

/// `enable: 1|0` in a container's firewall options.
pub fn set_container_firewall(node: &str, vmid: u32, enable: bool) -> Command {
    pvesh("set", &format!("/nodes/{node}/lxc/{vmid}/firewall/options")).opt("enable", u8::from(enable))
}

/// `[a-z][a-z0-9_-]+`, 2 to 18 characters: Proxmox's rule, lowercased because Proxmox
/// lowercases group names when it reads its file back.
pub fn check_group_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let shaped = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !(2..=18).contains(&name.len()) || !shaped {
        return Err(format!("'{name}' must be 2 to 18 characters: a letter, then letters, digits, '_' or '-'"));
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("Proxmox stores security group names lowercased; write '{}'", name.to_lowercase()));
    }
    Ok(())
}

/// Commands attaching exactly `groups` (in order) to a container, keeping its other rules, and
/// turning its firewall on (or off, when nothing is left).
pub fn attach_commands(
    node: &str,
    vmid: u32,
    current: &super::firewall_file::FirewallFile,
    groups: &[String],
) -> Vec<Command> {
    let others: Vec<Rule> = current.rules.iter().filter(|r| r.kind != "group").cloned().collect();
    // A group already attached keeps what else its rule says (`-i netN`, a comment): only the
    // attachment and its being enabled are managed here.
    let mut wanted: Vec<Rule> = groups
        .iter()
        .map(|g| {
            let attached = current.rules.iter().find(|r| r.kind == "group" && r.action.eq_ignore_ascii_case(g));
            Rule {
                action: g.clone(),
                enable: true,
                ..attached.cloned().unwrap_or_else(|| Rule { kind: "group".into(), ..Rule::default() })
            }
        })
        .collect();
    wanted.extend(others.iter().cloned());
    let mut commands = reconcile(&Scope::Container { node: node.to_owned(), vmid }, &current.rules, &wanted);
    let enabled = current.options.get("enable").map(String::as_str) == Some("1");
    if !groups.is_empty() && !enabled {
        commands.push(set_container_firewall(node, vmid, true));
    } else if groups.is_empty() && others.is_empty() && enabled && !commands.is_empty() {
        commands.push(set_container_firewall(node, vmid, false));
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str, action: &str, dport: Option<&str>, enable: bool) -> Rule {
        Rule {
            kind: kind.into(),
            action: action.into(),
            proto: dport.map(|_| "tcp".into()),
            dport: dport.map(Into::into),
            enable,
            ..Rule::default()
        }
    }

    fn rendered(commands: &[Command]) -> Vec<String> {
        commands.iter().map(Command::render).collect()
    }

    #[test]
    fn new_rules_are_created_enabled_and_moved_to_their_place() {
        let scope = Scope::Group("web".into());
        let wanted = [rule("in", "ACCEPT", Some("80"), true), rule("in", "ACCEPT", Some("443"), true)];
        assert_eq!(
            rendered(&reconcile(&scope, &[], &wanted)),
            [
                "pvesh create /cluster/firewall/groups/web --type in --action ACCEPT --enable 1 --proto tcp --dport 80",
                "pvesh set /cluster/firewall/groups/web/0 --moveto 1",
                "pvesh create /cluster/firewall/groups/web --type in --action ACCEPT --enable 1 --proto tcp --dport 443",
                "pvesh set /cluster/firewall/groups/web/0 --moveto 2",
            ]
        );
    }

    #[test]
    fn changed_rules_are_set_in_place_and_extra_ones_deleted_from_the_end() {
        let scope = Scope::Container { node: "pve".into(), vmid: 100 };
        let mut commented = rule("in", "ACCEPT", Some("22"), true);
        commented.comment = Some("ssh".into());
        let current = [commented, rule("in", "DROP", None, true), rule("out", "ACCEPT", None, false)];
        let wanted = [rule("in", "ACCEPT", Some("22"), true)];
        assert_eq!(
            rendered(&reconcile(&scope, &current, &wanted)),
            [
                "pvesh set /nodes/pve/lxc/100/firewall/rules/0 --type in --action ACCEPT --enable 1 --proto tcp --dport 22 --delete comment",
                "pvesh delete /nodes/pve/lxc/100/firewall/rules/2",
                "pvesh delete /nodes/pve/lxc/100/firewall/rules/1",
            ]
        );
        assert!(reconcile(&scope, &wanted, &wanted).is_empty(), "nothing to do when equal");
    }
}
