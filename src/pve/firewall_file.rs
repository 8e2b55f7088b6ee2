//! Reading Proxmox firewall files (`/etc/pve/firewall/cluster.fw`, `<vmid>.fw`,
//! `/etc/pve/nodes/<node>/host.fw`) the way pve-firewall reads them
//! (`src/PVE/Firewall.pm` `generic_fw_config_parser`, `parse_fw_rule`). The provider only reads
//! these files; every change goes through `pvesh`, so Proxmox writes them.
//!
//! The rule list matters to the position: the API numbers rules as the parser keeps them
//! (`API2/Firewall/Rules.pm` `get_rules`), and a line `parse_fw_rule` dies on is dropped
//! (`warn …; next`), so this reader must keep and drop exactly the same lines, or a
//! `pvesh set …/<pos>` would change another rule than the one meant.

use std::collections::BTreeMap;

/// One firewall rule as the API reports it (`type`, `action`, `enable`, …).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// `in`, `out`, `forward` or `group`.
    pub kind: String,
    /// `ACCEPT`/`DROP`/`REJECT`, or the security group's name for `group` rules.
    pub action: String,
    pub macro_name: Option<String>,
    pub enable: bool,
    pub iface: Option<String>,
    pub source: Option<String>,
    pub dest: Option<String>,
    pub proto: Option<String>,
    pub dport: Option<String>,
    pub sport: Option<String>,
    pub log: Option<String>,
    pub icmp_type: Option<String>,
    pub comment: Option<String>,
}

/// `pve-fw-loglevel` (pve-firewall `Firewall.pm`), in the order `parse_fw_rule` tries them.
pub const LOG_LEVELS: &[&str] = &["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog"];

/// Perl's `\s` on the ASCII range.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// `^<one of names> (\S+)\s*`: the value and what follows it.
fn flag<'a>(line: &'a str, names: &[&str]) -> Option<(&'a str, &'a str)> {
    let rest = names.iter().find_map(|n| line.strip_prefix(n)?.strip_prefix(' '))?;
    let end = rest.find(is_space).unwrap_or(rest.len());
    (end > 0).then(|| (&rest[..end], rest[end..].trim_start_matches(is_space)))
}

impl Rule {
    /// One rule line as `parse_fw_rule` reads it; `None` where it dies ("unable to parse rule"),
    /// which makes pve-firewall skip the line. Rules `verify_rule` finds errors in are kept,
    /// as Proxmox keeps them (and then never applies them).
    pub fn parse_line(line: &str) -> Option<Rule> {
        let mut rule = Rule::default();
        let mut line = line.to_owned();
        // `s/#\s*(.*?)\s*$//`: everything after the first `#`, trimmed.
        if let Some(at) = line.find('#') {
            let comment = line[at + 1..].trim_matches(is_space).to_owned();
            line.truncate(at);
            // Perl keeps an empty comment; the API then reports none worth a value.
            rule.comment = Some(comment).filter(|c| !c.is_empty());
        }
        // `s/^\|//`
        let mut rest = line.as_str();
        rule.enable = match rest.strip_prefix('|') {
            Some(r) => {
                rest = r;
                false
            }
            None => true,
        };
        // `s/^(\S+)\s+(\S+)\s*//`
        let kind_end = rest.find(is_space).filter(|&e| e > 0)?;
        let (kind, after) = rest.split_at(kind_end);
        let after = after.trim_start_matches(is_space);
        let action_end = after.find(is_space).unwrap_or(after.len());
        if action_end == 0 {
            return None;
        }
        let (action, after) = after.split_at(action_end);
        rest = after.trim_start_matches(is_space);
        rule.kind = kind.to_lowercase();
        rule.action = action.to_owned();
        // `m/^(\S+)\((ACCEPT|DROP|REJECT)\)$/`, for in, out and forward only.
        if matches!(rule.kind.as_str(), "in" | "out" | "forward") {
            let verdict = ["ACCEPT", "DROP", "REJECT"]
                .into_iter()
                .find_map(|v| Some((action.strip_suffix(&format!("({v})"))?, v)));
            if let Some((name, verdict)) = verdict.filter(|(name, _)| !name.is_empty()) {
                rule.macro_name = Some(name.to_owned());
                rule.action = verdict.to_owned();
            }
        }
        while !rest.is_empty() {
            if let Some((value, r)) = flag(rest, &["-i"]) {
                rule.iface = Some(value.to_owned());
                rest = r;
                continue;
            }
            if rule.kind == "group" {
                break;
            }
            let fields: [(&[&str], &mut Option<String>); 6] = [
                (&["-p", "-proto", "--proto"], &mut rule.proto),
                (&["-dport", "--dport"], &mut rule.dport),
                (&["-sport", "--sport"], &mut rule.sport),
                (&["-source", "--source"], &mut rule.source),
                (&["-dest", "--dest"], &mut rule.dest),
                (&["-icmp-type", "--icmp-type"], &mut rule.icmp_type),
            ];
            let mut matched = false;
            for (names, field) in fields {
                if let Some((value, r)) = flag(rest, names) {
                    *field = Some(value.to_owned());
                    rest = r;
                    matched = true;
                    break;
                }
            }
            if matched {
                continue;
            }
            // `^--?log (emerg|…|nolog)\s*`: the level is matched as a prefix, as the regex does.
            let level = ["-log ", "--log "].iter().find_map(|p| rest.strip_prefix(p)).and_then(|after| {
                LOG_LEVELS.iter().find_map(|l| after.strip_prefix(l).map(|r| (*l, r.trim_start_matches(is_space))))
            });
            match level {
                Some((level, r)) => {
                    rule.log = Some(level.to_owned());
                    rest = r;
                }
                None => break,
            }
        }
        // "unable to parse rule parameters"
        rest.is_empty().then_some(rule)
    }
}

/// A security group (`[group name] # comment` in `cluster.fw`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub comment: Option<String>,
    pub rules: Vec<Rule>,
}

/// An `[ALIASES]` entry: `name cidr [# comment]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alias {
    /// As written; aliases are found by their lowercase name.
    pub name: String,
    pub cidr: String,
    pub comment: Option<String>,
}

/// pve-firewall `Firewall.pm` `clean_cidr`, which `IPSet.pm` `create_ip` applies before
/// `parse_ip_or_cidr`: a network's host bits are cleared and the address written again
/// (`Net::IP::ip_bintoip`, lowercase hex; `ip_compress_address`). Text without a prefix, or
/// with `/0` (false to Perl), is returned as it is; `None` when it is not an address with a
/// prefix in range.
pub fn clean_cidr(cidr: &str) -> Option<String> {
    let Some((address, prefix)) = cidr.split_once('/') else { return Some(cidr.to_owned()) };
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: u32 = prefix.parse().ok()?;
    if len == 0 {
        return Some(cidr.to_owned());
    }
    let ip: std::net::IpAddr = address.parse().ok()?;
    let clean = match ip {
        std::net::IpAddr::V4(v4) if len <= 32 => {
            std::net::Ipv4Addr::from(u32::from(v4) & (u32::MAX << (32 - len))).to_string()
        }
        std::net::IpAddr::V6(v6) if len <= 128 => {
            compress_ipv6(std::net::Ipv6Addr::from(u128::from(v6) & (u128::MAX << (128 - len))))
        }
        _ => return None,
    };
    Some(format!("{clean}/{len}"))
}

/// Net::IP `ip_compress_address` of `ip_bintoip`'s eight 4-digit groups: leading zeros dropped,
/// then the run of two or more `0` groups whose matched text (`(?:^|:)0(?::0)+(?::|$)`) is
/// longest, the first on a tie, becomes `::`. A run inside the address matches one colon more
/// than a run at either end, so it wins over an equally long run at the start (RFC 5952, and
/// Rust's `Display`, pick the first).
fn compress_ipv6(ip: std::net::Ipv6Addr) -> String {
    let groups = ip.segments();
    let mut best: Option<(usize, usize)> = None; // (first group, groups)
    let mut best_text = 0;
    let mut at = 0;
    while at < 8 {
        let run = groups[at..].iter().take_while(|g| **g == 0).count();
        if run >= 2 {
            let colons = usize::from(at > 0) + usize::from(at + run < 8) + run - 1;
            if run + colons > best_text {
                best = Some((at, run));
                best_text = run + colons;
            }
        }
        at += run.max(1);
    }
    let hex = |gs: &[u16]| gs.iter().map(|g| format!("{g:x}")).collect::<Vec<_>>().join(":");
    match best {
        Some((first, run)) => format!("{}::{}", hex(&groups[..first]), hex(&groups[first + run..])),
        None => hex(&groups),
    }
}

/// pve-firewall `parse_ip_or_cidr`: an IPv4 or IPv6 address with an optional `/digits`, where
/// `/32` (IPv4) and `/128` (IPv6) are dropped.
pub fn parse_ip_or_cidr(cidr: &str) -> Option<String> {
    let (address, prefix) = match cidr.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (cidr, None),
    };
    let ip: std::net::IpAddr = address.parse().ok()?;
    match prefix {
        None => Some(address.to_owned()),
        Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => None,
        Some("32") if ip.is_ipv4() => Some(address.to_owned()),
        Some("128") if ip.is_ipv6() => Some(address.to_owned()),
        Some(p) => Some(format!("{address}/{p}")),
    }
}

/// `parse_alias`: the comment after the first `#` (trimmed), then exactly `NAME CIDR`.
fn parse_alias(line: &str) -> Option<Alias> {
    let (body, comment) = match line.find('#') {
        Some(at) => (line[..at].trim_end_matches(is_space), Some(line[at + 1..].trim_matches(is_space))),
        None => (line, None),
    };
    let (name, cidr) = body.split_once(' ').or_else(|| body.split_once('\t'))?;
    if name.is_empty() || cidr.is_empty() || name.contains(is_space) || cidr.contains(is_space) {
        return None;
    }
    Some(Alias {
        name: name.to_owned(),
        cidr: parse_ip_or_cidr(cidr)?,
        comment: comment.filter(|c| !c.is_empty() && *c != "0").map(str::to_owned),
    })
}

/// Text Proxmox stores after a `#` in a firewall file: `parse_fw_rule` and the `[group …]`
/// header regex read it back trimmed (`#\s*(.*?)\s*$`), and a line break would end it, so
/// only text that survives that round trip is accepted. `0` is false to Perl, and every writer
/// and reader tests the text for truth (pve-firewall `Firewall.pm` `format_rule`,
/// `format_aliases`, the `[IPSET]` writer: `if $rule->{comment} && …`; `parse_alias`, the ipset
/// and group parsers: `if $comment`; `IPSet.pm` `create_ip`: `if $param->{comment}`).
pub fn check_free_text(text: &str) -> Result<(), String> {
    if text.contains(['\n', '\r']) {
        return Err("must be one line: Proxmox stores it on the rule's line in the firewall file".to_owned());
    }
    if text.trim().is_empty() {
        return Err("is empty: Proxmox does not store an empty text; leave the attribute out".to_owned());
    }
    if text == "0" {
        return Err(
            "is '0', which Proxmox drops (it is false to Perl): write something else or leave the attribute out"
                .to_owned(),
        );
    }
    if text.trim() != text {
        return Err(format!(
            "'{text}' starts or ends with spaces, which Proxmox trims when it reads the firewall file; write '{}'",
            text.trim()
        ));
    }
    Ok(())
}

/// An `[IPSET name] # comment` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpSet {
    pub comment: Option<String>,
    pub entries: Vec<IpSetEntry>,
}

/// `[!]cidr [# comment]` (an address, a network, or an alias name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpSetEntry {
    pub cidr: String,
    pub nomatch: bool,
    pub comment: Option<String>,
}

/// The `ipset` branch of `generic_fw_config_parser`: comment after `#`, then `^(!)?\s*(\S+)\s*$`;
/// an address or network is normalised by `parse_ip_or_cidr`, an alias name kept.
fn parse_ipset_entry(line: &str) -> Option<IpSetEntry> {
    let (body, comment) = match line.find('#') {
        Some(at) => (&line[..at], Some(line[at + 1..].trim_matches(is_space))),
        None => (line, None),
    };
    let body = body.trim_matches(is_space);
    let (nomatch, cidr) = match body.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start_matches(is_space)),
        None => (false, body),
    };
    if cidr.is_empty() || cidr.contains(is_space) {
        return None;
    }
    let cidr = parse_ip_or_cidr(cidr).unwrap_or_else(|| cidr.to_owned());
    Some(IpSetEntry { cidr, nomatch, comment: comment.filter(|c| !c.is_empty() && *c != "0").map(str::to_owned) })
}

/// What the provider reads of a firewall file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FirewallFile {
    /// `[OPTIONS]`, keys lowercased as `parse_*fw_option` does.
    pub options: BTreeMap<String, String>,
    /// `[ALIASES]`, by lowercase name.
    pub aliases: BTreeMap<String, Alias>,
    /// `[IPSET name]` sections, by lowercase name.
    pub ipsets: BTreeMap<String, IpSet>,
    pub rules: Vec<Rule>,
    pub groups: BTreeMap<String, Group>,
}

enum Section {
    None,
    Options,
    Rules,
    Group(String),
    Aliases,
    IpSet(String),
}

/// `^\[group\s+(\S+)\]\s*(?:#\s*(.*?)\s*)?$` (case-insensitive): the name and the comment.
fn group_header(line: &str) -> Option<(String, Option<String>)> {
    named_header(line, "group")
}

/// `^\[ipset\s+(\S+)\]\s*(?:#\s*(.*?)\s*)?$`, as for groups.
fn ipset_header(line: &str) -> Option<(String, Option<String>)> {
    named_header(line, "ipset")
}

fn named_header(line: &str, word: &str) -> Option<(String, Option<String>)> {
    let inner = line.strip_prefix('[')?;
    let (head, tail) = inner.split_once(']')?;
    let keyword = head.get(..word.len()).filter(|w| w.eq_ignore_ascii_case(word))?;
    let rest = &head[keyword.len()..];
    if !rest.starts_with(is_space) {
        return None;
    }
    let name = rest.trim_matches(is_space);
    if name.is_empty() || name.contains(is_space) {
        return None;
    }
    let tail = tail.trim_start_matches(is_space);
    let comment = match tail.strip_prefix('#') {
        // Kept only when true to Perl (`… = $comment if $comment`).
        Some(c) => Some(c.trim_matches(is_space).to_owned()).filter(|c| !c.is_empty() && c != "0"),
        None if tail.is_empty() => None,
        None => return None,
    };
    Some((name.to_lowercase(), comment))
}

impl FirewallFile {
    pub fn parse(text: &str) -> Self {
        let mut file = FirewallFile::default();
        let mut section = Section::None;
        for raw in text.lines() {
            let line = raw.trim_matches(|c| c == ' ' || c == '\t');
            if line.starts_with('#') || line.chars().all(is_space) {
                continue;
            }
            if line.starts_with('[') {
                let lower = line.to_lowercase();
                if lower == "[options]" {
                    section = Section::Options;
                    continue;
                }
                if lower == "[rules]" {
                    section = Section::Rules;
                    continue;
                }
                if let Some((name, comment)) = group_header(line) {
                    // A name Proxmox refuses ("security group name too long", "invalid security
                    // group name") leaves no section: the lines up to the next header are skipped.
                    if name.len() > 18 || !super::firewall_rule::is_fw_name(&name) {
                        section = Section::None;
                        continue;
                    }
                    // A repeated header starts the group again, as `$res->{groups}->{$group} = []`;
                    // a comment is only ever set (`… = $comment if $comment`), never cleared.
                    let group = file.groups.entry(name.clone()).or_default();
                    group.rules.clear();
                    group.comment = comment.or(group.comment.take());
                    section = Section::Group(name);
                    continue;
                }
                if lower == "[aliases]" {
                    section = Section::Aliases;
                    continue;
                }
                if let Some((name, comment)) = ipset_header(line) {
                    if name.len() > 64 || !super::firewall_rule::is_fw_name(&name) {
                        section = Section::None;
                        continue;
                    }
                    // As for groups, a repeated header starts the set again.
                    let set = file.ipsets.entry(name.clone()).or_default();
                    set.entries.clear();
                    set.comment = comment.or(set.comment.take());
                    section = Section::IpSet(name);
                    continue;
                }
            }
            match &section {
                Section::Options => {
                    if let Some((key, value)) = line.split_once(':') {
                        file.options.insert(key.trim().to_lowercase(), value.trim().to_owned());
                    }
                }
                Section::Rules => file.rules.extend(Rule::parse_line(line)),
                Section::Group(name) => {
                    if let (Some(rule), Some(group)) = (Rule::parse_line(line), file.groups.get_mut(name)) {
                        group.rules.push(rule);
                    }
                }
                Section::Aliases => {
                    if let Some(alias) = parse_alias(line) {
                        file.aliases.insert(alias.name.to_lowercase(), alias);
                    }
                }
                Section::IpSet(name) => {
                    if let (Some(entry), Some(set)) = (parse_ipset_entry(line), file.ipsets.get_mut(name)) {
                        set.entries.push(entry);
                    }
                }
                Section::None => {}
            }
        }
        file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `<vmid>.fw` example from pve-cli.md §6.
    const CT_FW: &str = "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP web -i net0\n|IN ACCEPT -p tcp -dport 22 # ssh\n\n";

    /// What `clean_cidr` then `parse_ip_or_cidr` make of an entry, worked out by hand from
    /// Net::IP's `ip_bintoip` and `ip_compress_address`.
    #[test]
    fn ipset_entries_are_cleaned_as_create_ip_cleans_them() {
        let stored = |cidr: &str| clean_cidr(cidr).and_then(|c| parse_ip_or_cidr(&c));
        for (given, expected) in [
            ("10.0.0.5/24", "10.0.0.0/24"),
            ("10.0.0.5/32", "10.0.0.5"),
            ("10.0.0.5", "10.0.0.5"),
            ("192.168.17.200/20", "192.168.16.0/20"),
            ("FD00::/64", "fd00::/64"),
            ("fd00:0:0::1/64", "fd00::/64"),
            ("FD00::1", "FD00::1"), // no prefix: not cleaned
            ("fd00::1/128", "fd00::1"),
            ("2001:db8:0:1:0:0:0:5/128", "2001:db8:0:1::5"),
            // A run inside wins over an equally long one at the start (Net::IP, not RFC 5952).
            ("0:0:1:0:0:1:1:1/128", "0:0:1::1:1:1"),
            ("0:0:0:1:0:0:1:1/128", "::1:0:0:1:1"),
            ("1:0:1:0:1:0:1:0/128", "1:0:1:0:1:0:1:0"),
            ("1:2:3:4:5:6:0:0/128", "1:2:3:4:5:6::"),
            ("::/0", "::/0"),
        ] {
            assert_eq!(stored(given).as_deref(), Some(expected), "{given}");
        }
        for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "host/24"] {
            assert_eq!(clean_cidr(bad), None, "{bad}");
        }
    }

    /// `generic_fw_config_parser`: a group or set whose name Proxmox refuses has no section, so
    /// its lines are skipped up to the next header.
    #[test]
    fn sections_with_names_proxmox_refuses_are_skipped() {
        let file = FirewallFile::parse(
            "[group 1bad]\n\nIN ACCEPT\n\n[group averyveryverylongname]\n\nIN DROP\n\n[IPSET x]\n\n10.0.0.1\n\n[group ok]\n\nIN REJECT\n",
        );
        assert_eq!(file.groups.keys().collect::<Vec<_>>(), ["ok"]);
        assert_eq!(file.groups["ok"].rules.len(), 1);
        assert!(file.ipsets.is_empty());
    }

    #[test]
    fn container_file() {
        let file = FirewallFile::parse(CT_FW);
        assert_eq!(file.options.get("enable").map(String::as_str), Some("1"));
        assert_eq!(file.rules.len(), 2);
        assert_eq!(file.rules[0].kind, "group");
        assert_eq!(file.rules[0].action, "web");
        assert_eq!(file.rules[0].iface.as_deref(), Some("net0"));
        assert!(!file.rules[1].enable);
        assert_eq!(file.rules[1].comment.as_deref(), Some("ssh"));
    }

    #[test]
    fn groups_are_lowercased_and_keep_their_comment() {
        let text = "[group Web] # web servers\n\nIN ACCEPT -p tcp -dport 80\nIN SSH(ACCEPT) -source 10.0.0.0/8\n\n[group db]\n\nIN DROP\n\n";
        let file = FirewallFile::parse(text);
        assert_eq!(file.groups.keys().collect::<Vec<_>>(), ["db", "web"]);
        assert_eq!(file.groups["web"].comment.as_deref(), Some("web servers"));
        assert_eq!(file.groups["web"].rules[1].macro_name.as_deref(), Some("SSH"));
    }

    #[test]
    fn every_field_and_the_double_dash_forms() {
        let rule = Rule::parse_line(
            "OUT DROP -i net1 -source 10.0.0.0/8 -dest +dc/office -p icmp -log info -icmp-type echo-request #  ping  ",
        )
        .expect("parses");
        assert_eq!(rule.kind, "out");
        assert_eq!(rule.iface.as_deref(), Some("net1"));
        assert_eq!(rule.dest.as_deref(), Some("+dc/office"));
        assert_eq!(rule.log.as_deref(), Some("info"));
        assert_eq!(rule.icmp_type.as_deref(), Some("echo-request"));
        assert_eq!(rule.comment.as_deref(), Some("ping"));
        let dashed =
            Rule::parse_line("IN ACCEPT --proto tcp --dport 22 --sport 1024:65535 --log nolog").expect("parses");
        assert_eq!(dashed.proto.as_deref(), Some("tcp"));
        assert_eq!(dashed.sport.as_deref(), Some("1024:65535"));
        assert_eq!(dashed.log.as_deref(), Some("nolog"));
    }

    /// Lines `parse_fw_rule` dies on are dropped, so the positions stay Proxmox's.
    #[test]
    fn lines_proxmox_skips_are_skipped() {
        for line in ["IN", "IN ACCEPT -log loud", "GROUP web -p tcp", "IN ACCEPT -frobnicate 1", "IN ACCEPT -dport"] {
            assert_eq!(Rule::parse_line(line), None, "{line}");
        }
        let file = FirewallFile::parse("[RULES]\n\nIN ACCEPT -log loud\nIN DROP\n");
        assert_eq!(file.rules.len(), 1);
        assert_eq!(file.rules[0].action, "DROP");
    }

    #[test]
    fn aliases_are_read_as_parse_alias_reads_them() {
        let file = FirewallFile::parse(
            "[ALIASES]\n\nOffice 10.1.0.0/16 # HQ \nhost1 192.168.1.5/32\nbroken\nv6 fd00::1/128\n\n[RULES]\n\nIN ACCEPT -source office\n",
        );
        assert_eq!(file.aliases.keys().collect::<Vec<_>>(), ["host1", "office", "v6"]);
        assert_eq!(file.aliases["office"].name, "Office");
        assert_eq!(file.aliases["office"].comment.as_deref(), Some("HQ"));
        assert_eq!(file.aliases["host1"].cidr, "192.168.1.5", "/32 is dropped");
        assert_eq!(file.aliases["v6"].cidr, "fd00::1");
        assert_eq!(file.rules.len(), 1);
    }

    #[test]
    fn ip_sets_are_read_with_nomatch_comments_and_normalised_addresses() {
        let file = FirewallFile::parse("[IPSET Office] # HQ\n\n!10.0.0.0/8 # not these\n192.168.1.5/32\nfd00::/64\nbroken line\n\n[RULES]\n\nIN ACCEPT -source +office\n");
        let set = &file.ipsets["office"];
        assert_eq!(set.comment.as_deref(), Some("HQ"));
        let entries: Vec<(&str, bool)> = set.entries.iter().map(|e| (e.cidr.as_str(), e.nomatch)).collect();
        assert_eq!(entries, [("10.0.0.0/8", true), ("192.168.1.5", false), ("fd00::/64", false)]);
        assert_eq!(set.entries[0].comment.as_deref(), Some("not these"));
        assert_eq!(file.rules.len(), 1);
    }

    #[test]
    fn a_macro_needs_a_verdict_and_a_chain_rule() {
        assert_eq!(Rule::parse_line("IN SSH(LOG)").map(|r| r.macro_name), Some(None));
        assert_eq!(
            Rule::parse_line("GROUP x(ACCEPT)").map(|r| (r.action, r.macro_name)),
            Some(("x(ACCEPT)".into(), None))
        );
    }
}
