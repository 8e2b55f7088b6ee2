//! Firewall operations through `pvesh`: security groups and their rules
//! (`/cluster/firewall/groups…`), a container's rules and options
//! (`/nodes/{n}/lxc/{id}/firewall/…`), and turning a rule list into another with as few
//! commands as possible — all in one round trip.
//!
//! Proxmox inserts every new rule at position 0 and creates it disabled unless `--enable 1` is
//! given (pve-cli.md §5), so a new rule is created with its `enable` flag and then moved to its
//! place with `--moveto`.
//!
//! Rules are edited by position, so an edit is planned from the list as Proxmox's API gives it
//! and guarded by that list's digest ([`edit_rules`]): if another client changed the rules in
//! between, Proxmox refuses the edit instead of changing the wrong rule, and the edit is planned
//! again from the new list.

use serde::Deserialize;

use super::command::{Command, Script};
use super::error::{Kind, PveError};
use super::firewall_file::Rule;
use super::runner::{run, run_json, Runner};

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

/// Commands turning the rule list `current` into `wanted`, in order. With the `digest` of
/// `current` (as [`list_rules`] gives it), the first command guards the whole edit when it can:
/// an update or a delete checks it (pve-firewall `API2/Firewall/Rules.pm` `update_rule`,
/// `delete_rule`: `assert_if_modified`), a create does not.
pub fn reconcile(scope: &Scope, current: &[Rule], wanted: &[Rule], digest: Option<&str>) -> Vec<Command> {
    let base = scope.rules_path();
    let mut commands = Vec::new();
    let guard = |cmd: Command, first: bool| match (first, digest) {
        (true, Some(d)) => cmd.opt("digest", d),
        _ => cmd,
    };
    for (pos, (have, want)) in current.iter().zip(wanted).enumerate() {
        if have != want {
            let mut cmd = with_fields(pvesh("set", &format!("{base}/{pos}")), want);
            let removed = removed_fields(have, want);
            if !removed.is_empty() {
                cmd = cmd.opt("delete", removed.join(","));
            }
            commands.push(guard(cmd, commands.is_empty()));
        }
    }
    for (count, want) in (current.len()..).zip(wanted.iter().skip(current.len())) {
        // Created at position 0, then moved behind the `count` rules already in place.
        commands.push(with_fields(pvesh("create", &base), want));
        commands.push(pvesh("set", &format!("{base}/0")).opt("moveto", count + 1));
    }
    for pos in (wanted.len()..current.len()).rev() {
        commands.push(guard(pvesh("delete", &format!("{base}/{pos}")), commands.is_empty()));
    }
    commands
}

/// One rule as `pvesh get …/rules` lists it: `parse_fw_rule`'s hash (pve-firewall
/// `Firewall.pm`) with `pos` and the list's `digest` (`copy_list_with_digest`); `ipversion` and
/// `errors` are Proxmox's own findings, not settings.
#[derive(Deserialize)]
struct ListedRule {
    #[serde(rename = "type")]
    kind: String,
    action: String,
    #[serde(rename = "macro")]
    macro_name: Option<String>,
    #[serde(default)]
    enable: Option<u8>,
    iface: Option<String>,
    source: Option<String>,
    dest: Option<String>,
    proto: Option<String>,
    dport: Option<String>,
    sport: Option<String>,
    log: Option<String>,
    #[serde(rename = "icmp-type")]
    icmp_type: Option<String>,
    comment: Option<String>,
    digest: Option<String>,
}

/// `pvesh get` of a rule list: the rules, and the list's digest (none when it is empty).
pub fn parse_rule_list(entries: Vec<serde_json::Value>) -> Result<(Vec<Rule>, Option<String>), String> {
    let mut digest = None;
    let mut rules = Vec::with_capacity(entries.len());
    for entry in entries {
        let listed: ListedRule = serde_json::from_value(entry.clone()).map_err(|e| format!("{e} in {entry}"))?;
        digest = digest.or(listed.digest);
        rules.push(Rule {
            kind: listed.kind,
            action: listed.action,
            macro_name: listed.macro_name,
            // `parse_fw_rule` always sets it (0 for a rule written with a leading `|`).
            enable: listed.enable.ok_or_else(|| format!("no `enable` in {entry}"))? == 1,
            iface: listed.iface,
            source: listed.source,
            dest: listed.dest,
            proto: listed.proto,
            dport: listed.dport,
            sport: listed.sport,
            log: listed.log,
            icmp_type: listed.icmp_type,
            comment: listed.comment,
        });
    }
    Ok((rules, digest))
}

/// The rules of `scope` as Proxmox's API lists them, with the list's digest.
pub async fn list_rules(runner: &dyn Runner, scope: &Scope) -> Result<(Vec<Rule>, Option<String>), PveError> {
    let path = scope.rules_path();
    let cmd = pvesh("get", &path).opt("output-format", "json");
    let entries: Vec<serde_json::Value> = run_json(runner, cmd.into()).await?;
    parse_rule_list(entries).map_err(|message| PveError::Unreadable {
        host: runner.label().to_owned(),
        command: format!("pvesh get {path}"),
        message,
    })
}

/// How many times an edit is planned again after another client changed the rules under it.
const EDIT_ATTEMPTS: usize = 3;

/// Edit `scope`'s rules: `plan` turns the rules as listed now (and their digest, for
/// [`reconcile`]) into the commands to run. Refused because another client changed the rules
/// meanwhile, the edit is listed and planned again.
pub async fn edit_rules(
    runner: &dyn Runner,
    scope: &Scope,
    summary: &str,
    plan: impl Fn(&[Rule], Option<&str>) -> Vec<Command>,
) -> Result<(), PveError> {
    let mut attempt = 1;
    loop {
        let (current, digest) = list_rules(runner, scope).await?;
        match run_all(runner, summary, &plan(&current, digest.as_deref())).await {
            Err(e) if e.is(&Kind::Modified) && attempt < EDIT_ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "firewall rules changed by another client; planning again");
                attempt += 1;
            }
            other => return other,
        }
    }
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
    digest: Option<&str>,
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
    let mut commands = reconcile(&Scope::Container { node: node.to_owned(), vmid }, &current.rules, &wanted, digest);
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
            rendered(&reconcile(&scope, &[], &wanted, None)),
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
            rendered(&reconcile(&scope, &current, &wanted, None)),
            [
                "pvesh set /nodes/pve/lxc/100/firewall/rules/0 --type in --action ACCEPT --enable 1 --proto tcp --dport 22 --delete comment",
                "pvesh delete /nodes/pve/lxc/100/firewall/rules/2",
                "pvesh delete /nodes/pve/lxc/100/firewall/rules/1",
            ]
        );
        assert!(reconcile(&scope, &wanted, &wanted, None).is_empty(), "nothing to do when equal");
    }

    #[test]
    fn the_digest_guards_the_first_command_when_proxmox_checks_it() {
        let scope = Scope::Group("web".into());
        let a = rule("in", "ACCEPT", Some("80"), true);
        let b = rule("in", "ACCEPT", Some("443"), true);
        let updated = rendered(&reconcile(&scope, &[a.clone(), b.clone()], std::slice::from_ref(&b), Some("d1")));
        assert!(updated[0].ends_with("--digest d1"), "{updated:?}");
        assert!(!updated[1].contains("--digest"), "{updated:?}");
        let deleted = rendered(&reconcile(&scope, &[a.clone(), b.clone()], std::slice::from_ref(&a), Some("d1")));
        assert_eq!(deleted, ["pvesh delete /cluster/firewall/groups/web/1 --digest d1"]);
        // `create_rule` ignores a digest: nothing to guard with.
        let created = rendered(&reconcile(&scope, std::slice::from_ref(&a), &[a.clone(), b], Some("d1")));
        assert!(created.iter().all(|c| !c.contains("--digest")), "{created:?}");
    }

    #[test]
    fn listed_rules_read_as_proxmox_lists_them() {
        let entries: Vec<serde_json::Value> = serde_json::from_str(
            r#"[{"action":"ACCEPT","digest":"ab12","dport":"22","enable":1,"ipversion":4,"pos":0,"proto":"tcp","source":"10.0.0.0/8","type":"in"},
                {"action":"web","digest":"ab12","enable":0,"iface":"net0","pos":1,"type":"group","comment":"lan"}]"#,
        )
        .expect("JSON");
        let (rules, digest) = parse_rule_list(entries).expect("parses");
        assert_eq!(digest.as_deref(), Some("ab12"));
        assert_eq!(rules[0].dport.as_deref(), Some("22"));
        assert!(rules[0].enable && !rules[1].enable);
        assert_eq!((rules[1].kind.as_str(), rules[1].iface.as_deref()), ("group", Some("net0")));
        assert_eq!(parse_rule_list(Vec::new()).expect("empty"), (Vec::new(), None));
        let no_enable = vec![serde_json::json!({"type": "in", "action": "DROP"})];
        assert!(parse_rule_list(no_enable).is_err(), "enable is always listed: its absence is not 'disabled'");
    }
}
