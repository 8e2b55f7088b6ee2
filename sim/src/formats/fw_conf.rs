//! Firewall files (`/etc/pve/firewall/cluster.fw`, `/etc/pve/firewall/<vmid>.fw`), written from
//! pve-firewall `src/PVE/Firewall.pm`:
//!
//! - [`FirewallFile::parse`] follows `generic_fw_config_parser`: every line trimmed of blanks,
//!   `#` lines and empty lines skipped; `[OPTIONS]`, `[ALIASES]`, `[RULES]`, `[group NAME] #
//!   comment` and `[IPSET NAME] # comment` (any case) open sections; group and ipset names are
//!   lowercased and must match `[A-Za-z][A-Za-z0-9_-]+` (at most 18 / 64 characters) or the
//!   section is skipped. Option lines follow `parse_vmfw_option` and `parse_clusterfw_option`,
//!   alias lines `parse_alias` (with `parse_ip_or_cidr`, which drops a `/32` or `/128`), ipset
//!   entries the `ipset` branch of the parser, rule lines `parse_fw_rule`.
//! - [`FirewallFile::write`] follows `save_clusterfw_conf` / `save_vmfw_conf` and the
//!   `$format_options`, `$format_aliases`, `$format_ipsets`, `$format_rules` helpers: `[OPTIONS]`,
//!   `[ALIASES]` (sorted), `[IPSET name]` sections (sorted, entries deduplicated and sorted),
//!   `[RULES]`, then one `[group name]` section per security group (sorted); each header is
//!   followed by an empty line and each section ends with one. A rule is written
//!   `[|]TYPE ACTION|MACRO(ACTION) [-i IFACE] [-source S] [-dest D] [-p PROTO] [-dport P]
//!   [-sport P] [-log LEVEL] [-icmp-type T] [# comment]` — `-log` comes before `-icmp-type`.
//!   A `GROUP` rule carries only `-i` and its comment; rules inside a security group never carry
//!   `-i` (`$format_rules->($rules, 0)`).
//!
//! What parsing drops, as Perl does (it warns and goes on): lines before the first section, lines
//! of a section whose header was invalid, rules `parse_fw_rule` cannot read (unknown or
//! misspelt flags, two blanks between a flag and its value, an unknown `-log` level, any flag
//! after `-i` in a `GROUP` rule), option lines none of the option parsers accepts, and alias
//! lines that are not `NAME ADDRESS` with a valid address. A `[section]` header pve-firewall does
//! not know is not a header for Perl either: it is read as a line of the current section, and is
//! dropped as such (the lines after it stay in the current section). Nothing is kept verbatim.
//!
//! Deliberate simplifications:
//! - One parser serves `cluster.fw` and `<vmid>.fw`: option lines accepted by either
//!   `parse_clusterfw_option` or `parse_vmfw_option` are kept (Perl picks one by file), and
//!   `[group …]` sections are read in both (Perl ignores them outside `cluster.fw`). The cluster
//!   parser's reset of an `enable` timestamp older than a minute is not done. `host.fw` options
//!   are not simulated.
//! - `verify_rule` is not run here (the API layer validates); in particular the macro name is not
//!   rewritten to its preferred spelling and rules with errors are kept as Perl keeps them.
//!   `layer2_protocols` values are not checked against `/etc/ethertypes`.
//! - Options are written sorted; Perl writes them in hash order.
//! - An alias line that is not `NAME ADDRESS` is dropped; Perl stores a nameless entry that it
//!   later writes back as a blank line. An ipset line that is not `[!]ENTRY` is dropped (Perl
//!   reuses the previous match's captures).
//! - `$format_rules` dies on a rule whose type is not `in`, `out`, `forward` or `group` (the save
//!   fails); here such a rule is left out of the file.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::text::is_perl_space;

/// One firewall rule with the fields of `$rule_properties` that the file format carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// `in`, `out`, `forward` or `group` (lowercase, as `parse_fw_rule` stores it).
    pub kind: String,
    /// `ACCEPT`, `DROP`, `REJECT`, or the security group's name for a `group` rule.
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

const LOG_LEVELS: [&str; 9] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog"];

impl Rule {
    /// `parse_fw_rule`, without `verify_rule`. `None` where Perl dies (the rule is skipped).
    fn parse_line(line: &str) -> Option<Rule> {
        let mut rule = Rule::default();
        // `s/#\s*(.*?)\s*$//`: everything after the first `#` is the comment.
        let mut line = match line.split_once('#') {
            Some((before, comment)) => {
                rule.comment = Some(comment.trim_matches(is_perl_space).to_owned());
                before
            }
            None => line,
        };
        // `s/^\|//`: a leading `|` disables the rule.
        rule.enable = match line.strip_prefix('|') {
            Some(rest) => {
                line = rest;
                false
            }
            None => true,
        };
        // `s/^(\S+)\s+(\S+)\s*//`
        let (kind, rest) = token(line)?;
        if !rest.starts_with(is_perl_space) {
            return None;
        }
        let (action, rest) = token(rest.trim_start_matches(is_perl_space))?;
        line = rest.trim_start_matches(is_perl_space);
        rule.kind = kind.to_lowercase();
        rule.action = action.to_owned();
        if matches!(rule.kind.as_str(), "in" | "out" | "forward") {
            if let Some((name, verdict)) = macro_action(action) {
                rule.macro_name = Some(name.to_owned());
                rule.action = verdict.to_owned();
            }
        }
        while !line.is_empty() {
            if let Some((value, rest)) = flag(line, &["-i"]) {
                rule.iface = Some(value.to_owned());
                line = rest;
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
                if let Some((value, rest)) = flag(line, names) {
                    *field = Some(value.to_owned());
                    line = rest;
                    matched = true;
                    break;
                }
            }
            if matched {
                continue;
            }
            // `^--?log (emerg|…|nolog)\s*`: the first level the text starts with, even if more
            // non-blank text follows it (which then fails to parse on the next round).
            let after = line.strip_prefix("-log ").or_else(|| line.strip_prefix("--log "));
            if let Some((level, rest)) =
                after.and_then(|a| LOG_LEVELS.iter().find_map(|l| a.strip_prefix(l).map(|rest| (*l, rest))))
            {
                rule.log = Some(level.to_owned());
                line = rest.trim_start_matches(is_perl_space);
                continue;
            }
            break;
        }
        // "unable to parse rule parameters"
        line.is_empty().then_some(rule)
    }

    /// One line of `$format_rules`; `None` for a type Perl refuses to write.
    fn write_line(&self, allow_iface: bool) -> Option<String> {
        if !matches!(self.kind.as_str(), "in" | "out" | "forward" | "group") {
            return None;
        }
        let mut raw = String::new();
        if !self.enable {
            raw.push('|');
        }
        raw.push_str(&self.kind.to_uppercase());
        match self.macro_name.as_deref().filter(|m| perl_true(m)) {
            Some(name) => raw.push_str(&format!(" {name}({})", self.action)),
            None => raw.push_str(&format!(" {}", self.action)),
        }
        let truthy = |field: &Option<String>| field.as_deref().filter(|v| perl_true(v)).map(str::to_owned);
        if let Some(iface) = truthy(&self.iface).filter(|_| allow_iface) {
            raw.push_str(&format!(" -i {iface}"));
        }
        if self.kind != "group" {
            let fields = [
                ("-source", &self.source),
                ("-dest", &self.dest),
                ("-p", &self.proto),
                ("-dport", &self.dport),
                ("-sport", &self.sport),
                ("-log", &self.log),
            ];
            for (flag, field) in fields {
                if let Some(value) = truthy(field) {
                    raw.push_str(&format!(" {flag} {value}"));
                }
            }
            if let Some(icmp_type) = self.icmp_type.as_deref().filter(|t| !t.is_empty()) {
                raw.push_str(&format!(" -icmp-type {icmp_type}"));
            }
        }
        if let Some(comment) = truthy(&self.comment).filter(|c| !c.chars().all(is_perl_space)) {
            raw.push_str(&format!(" # {comment}"));
        }
        Some(raw)
    }
}

/// `(\S+)` at the start of `text` (at least one character) and what follows it.
fn token(text: &str) -> Option<(&str, &str)> {
    let end = text.find(is_perl_space).unwrap_or(text.len());
    (end > 0).then(|| text.split_at(end))
}

/// `^NAME (\S+)\s*` for any of `names`: exactly one space between flag and value.
fn flag<'a>(line: &'a str, names: &[&str]) -> Option<(&'a str, &'a str)> {
    names.iter().find_map(|name| {
        let (value, rest) = token(line.strip_prefix(name)?.strip_prefix(' ')?)?;
        Some((value, rest.trim_start_matches(is_perl_space)))
    })
}

/// `^(\S+)\((ACCEPT|DROP|REJECT)\)$`: macro name and verdict.
fn macro_action(action: &str) -> Option<(&str, &str)> {
    ["ACCEPT", "DROP", "REJECT"].into_iter().find_map(|verdict| {
        let name = action.strip_suffix(')')?.strip_suffix(verdict)?.strip_suffix('(')?;
        (!name.is_empty()).then_some((name, verdict))
    })
}

/// A security group (`[group name] # comment` in `cluster.fw`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub comment: Option<String>,
    pub rules: Vec<Rule>,
}

/// An `[ALIASES]` entry (`parse_alias`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The name as written (the map key is its lowercase form).
    pub name: String,
    pub cidr: String,
    pub comment: Option<String>,
}

/// An `[IPSET name]` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpSet {
    pub comment: Option<String>,
    pub entries: Vec<IpSetEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSetEntry {
    pub nomatch: bool,
    pub cidr: String,
    pub comment: Option<String>,
}

/// A whole firewall file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FirewallFile {
    /// `[OPTIONS]`, normalised as the option parsers return them.
    pub options: BTreeMap<String, String>,
    /// `[ALIASES]`, by lowercase name.
    aliases: BTreeMap<String, Alias>,
    /// `[IPSET name]` sections, by lowercase name.
    ipsets: BTreeMap<String, IpSet>,
    /// `[RULES]`, in order.
    pub rules: Vec<Rule>,
    /// `[group name]` sections, by lowercase name.
    pub groups: BTreeMap<String, Group>,
}

/// The section lines go to while parsing (`$section` and `$group` in Perl).
enum Place {
    Nowhere,
    Options,
    Aliases,
    Rules,
    Group(String),
    IpSet(String),
}

impl FirewallFile {
    /// `[ALIASES]` in name order (`$aliases_to_list` sorts the lowercase keys).
    pub fn aliases(&self) -> impl Iterator<Item = &Alias> {
        self.aliases.values()
    }

    pub fn alias(&self, name: &str) -> Option<&Alias> {
        self.aliases.get(&name.to_lowercase())
    }

    /// Store `alias` under its lowercase name; the previous entry of that key, if any, goes.
    pub fn set_alias(&mut self, alias: Alias) {
        self.aliases.insert(alias.name.to_lowercase(), alias);
    }

    pub fn remove_alias(&mut self, name: &str) -> Option<Alias> {
        self.aliases.remove(&name.to_lowercase())
    }

    /// Whether `[ALIASES]` has `name` (any case: keys are lowercase, as `parse_alias` stores them).
    pub fn has_alias(&self, name: &str) -> bool {
        self.aliases.contains_key(&name.to_lowercase())
    }

    /// `[IPSET …]` sections by (lowercase) name.
    pub fn ipsets(&self) -> &BTreeMap<String, IpSet> {
        &self.ipsets
    }

    pub fn ipsets_mut(&mut self) -> &mut BTreeMap<String, IpSet> {
        &mut self.ipsets
    }

    /// Whether there is an `[IPSET name]` section (names lowercased as the parser does).
    pub fn has_ipset(&self, name: &str) -> bool {
        self.ipsets.contains_key(&name.to_lowercase())
    }

    /// `generic_fw_config_parser`. Never fails: what Perl warns about is left out.
    pub fn parse(text: &str) -> Self {
        let mut file = FirewallFile::default();
        if !perl_true(text) {
            return file; // `return {} if !$raw`
        }
        let mut place = Place::Nowhere;
        for line in text.split('\n') {
            // `/^\h*(.*?)\h*$/gm`
            let line = line.trim_matches([' ', '\t']);
            if line.starts_with('#') || line.chars().all(is_perl_space) {
                continue;
            }
            if line.eq_ignore_ascii_case("[options]") {
                place = Place::Options;
                continue;
            }
            if line.eq_ignore_ascii_case("[aliases]") {
                place = Place::Aliases;
                continue;
            }
            if let Some((name, comment)) = named_header(line, "group") {
                let name = name.to_lowercase();
                if !valid_name(&name, 18) {
                    place = Place::Nowhere; // "invalid security group name" / "… too long"
                    continue;
                }
                let group = file.groups.entry(name.clone()).or_default();
                group.rules.clear();
                if let Some(comment) = comment.filter(|c| perl_true(c)) {
                    group.comment = Some(comment.to_owned());
                }
                place = Place::Group(name);
                continue;
            }
            if line.eq_ignore_ascii_case("[rules]") {
                place = Place::Rules;
                continue;
            }
            if let Some((name, comment)) = named_header(line, "ipset") {
                let name = name.to_lowercase();
                if !valid_name(&name, 64) {
                    place = Place::Nowhere;
                    continue;
                }
                let ipset = file.ipsets.entry(name.clone()).or_default();
                ipset.entries.clear();
                if let Some(comment) = comment.filter(|c| perl_true(c)) {
                    ipset.comment = Some(comment.to_owned());
                }
                place = Place::IpSet(name);
                continue;
            }
            match &place {
                Place::Nowhere => {} // "skip line - no section"
                Place::Options => {
                    if let Some((key, value)) = parse_option(line) {
                        file.options.insert(key, value);
                    }
                }
                Place::Aliases => {
                    if let Some(alias) = parse_alias(line) {
                        file.aliases.insert(alias.name.to_lowercase(), alias);
                    }
                }
                Place::Rules => file.rules.extend(Rule::parse_line(line)),
                Place::Group(name) => {
                    let rule = Rule::parse_line(line);
                    file.groups.entry(name.clone()).or_default().rules.extend(rule);
                }
                Place::IpSet(name) => {
                    let entry = parse_ipset_entry(line);
                    file.ipsets.entry(name.clone()).or_default().entries.extend(entry);
                }
            }
        }
        file
    }

    /// Whether `write` gives nothing: the file is then removed, as the save functions unlink it.
    pub fn is_empty(&self) -> bool {
        self.write().is_empty()
    }

    /// `save_clusterfw_conf` / `save_vmfw_conf`: the file's text.
    pub fn write(&self) -> String {
        let mut raw = String::new();
        if !self.options.is_empty() {
            raw.push_str("[OPTIONS]\n\n");
            for (key, value) in &self.options {
                raw.push_str(&format!("{key}: {value}\n"));
            }
            raw.push('\n');
        }
        if !self.aliases.is_empty() {
            raw.push_str("[ALIASES]\n\n");
            for alias in self.aliases.values() {
                raw.push_str(&format!("{} {}", alias.name, alias.cidr));
                push_comment(&mut raw, alias.comment.as_deref());
                raw.push('\n');
            }
            raw.push('\n');
        }
        for (name, ipset) in &self.ipsets {
            match ipset.comment.as_deref().filter(|c| perl_true(c)) {
                Some(comment) => raw.push_str(&format!("[IPSET {name}] # {comment}\n\n")),
                None => raw.push_str(&format!("[IPSET {name}]\n\n")),
            }
            // The first entry for a network wins ("ignoring duplicate ipset entry"), then sorted.
            let mut unique: BTreeMap<&str, &IpSetEntry> = BTreeMap::new();
            for entry in &ipset.entries {
                unique.entry(entry.cidr.as_str()).or_insert(entry);
            }
            for entry in unique.values() {
                raw.push_str(if entry.nomatch { "!" } else { "" });
                raw.push_str(&entry.cidr);
                push_comment(&mut raw, entry.comment.as_deref());
                raw.push('\n');
            }
            raw.push('\n');
        }
        if !self.rules.is_empty() {
            raw.push_str("[RULES]\n\n");
            push_rules(&mut raw, &self.rules, true);
            raw.push('\n');
        }
        for (name, group) in &self.groups {
            match group.comment.as_deref().filter(|c| perl_true(c)) {
                Some(comment) => raw.push_str(&format!("[group {name}] # {comment}\n\n")),
                None => raw.push_str(&format!("[group {name}]\n\n")),
            }
            push_rules(&mut raw, &group.rules, false);
            raw.push('\n');
        }
        raw
    }
}

fn push_rules(raw: &mut String, rules: &[Rule], allow_iface: bool) {
    for line in rules.iter().filter_map(|rule| rule.write_line(allow_iface)) {
        raw.push_str(&line);
        raw.push('\n');
    }
}

/// ` # comment` when the comment is true for Perl and not blank.
fn push_comment(raw: &mut String, comment: Option<&str>) {
    if let Some(comment) = comment.filter(|c| perl_true(c) && !c.chars().all(is_perl_space)) {
        raw.push_str(&format!(" # {comment}"));
    }
}

/// `^\[KIND\s+(\S+)\]\s*(?:#\s*(.*?)\s*)?$` (case-insensitive): the name and the comment.
fn named_header<'a>(line: &'a str, kind: &str) -> Option<(&'a str, Option<&'a str>)> {
    let rest = line.strip_prefix('[')?;
    let head = rest.get(..kind.len()).filter(|h| h.eq_ignore_ascii_case(kind))?;
    let rest = &rest[head.len()..];
    if !rest.starts_with(is_perl_space) {
        return None;
    }
    let rest = rest.trim_start_matches(is_perl_space);
    let (word, _) = token(rest)?;
    // `\S+` is greedy and may contain `]`: the last `]` inside the word after which the line
    // ends or goes on with a comment closes the header.
    word.char_indices().rev().filter(|&(i, c)| c == ']' && i > 0).find_map(|(i, _)| {
        let after = rest[i + 1..].trim_start_matches(is_perl_space);
        let comment = match after.strip_prefix('#') {
            Some(comment) => Some(comment.trim_matches(is_perl_space)),
            None if after.is_empty() => None,
            None => return None,
        };
        Some((&rest[..i], comment))
    })
}

/// `$security_group_name_pattern` / `$ipset_name_pattern` and the length limit.
fn valid_name(name: &str, max_len: usize) -> bool {
    let mut chars = name.chars();
    name.len() >= 2
        && name.len() <= max_len
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `parse_vmfw_option` or `parse_clusterfw_option`: the lowercase key and normalised value.
fn parse_option(line: &str) -> Option<(String, String)> {
    let (key, rest) = line.split_once(':')?;
    let value = rest.trim_matches(is_perl_space);
    let digits = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    let int = |v: &str| v.parse::<u64>().map(|n| n.to_string()).unwrap_or_else(|_| v.to_owned());
    if key == "log_ratelimit" {
        // The only case-sensitive key.
        return (!value.is_empty() && !value.contains(is_perl_space)).then(|| (key.to_owned(), value.to_owned()));
    }
    let key = key.to_ascii_lowercase();
    let value = match key.as_str() {
        // `enable` is `\d+` in cluster.fw, `0|1` in a guest's file.
        "enable" if digits(value) => int(value),
        "dhcp" | "ndp" | "radv" | "macfilter" | "ipfilter" | "ips" | "ebtables" if matches!(value, "0" | "1") => {
            value.to_owned()
        }
        "log_level_in" | "log_level_out" => {
            let level = value.to_ascii_lowercase();
            if !level.is_empty() && !LOG_LEVELS.contains(&level.as_str()) {
                return None;
            }
            level
        }
        "policy_in" | "policy_out" | "policy_forward" => {
            let policy = value.to_ascii_uppercase();
            if !matches!(policy.as_str(), "ACCEPT" | "DROP" | "REJECT") {
                return None;
            }
            policy
        }
        "ips_queues" => {
            let ok = match value.split_once(':') {
                Some((a, b)) => digits(a) && digits(b),
                None => digits(value),
            };
            if !ok {
                return None;
            }
            value.to_owned()
        }
        "layer2_protocols" if !value.is_empty() && !value.contains(is_perl_space) => value.to_owned(),
        _ => return None, // "can't parse option"
    };
    Some((key, value))
}

/// `parse_alias`: `NAME ADDRESS [# comment]`, exactly one blank between name and address.
fn parse_alias(line: &str) -> Option<Alias> {
    let (line, comment) = match line.find('#') {
        Some(i) => (line[..i].trim_end_matches(is_perl_space), Some(line[i + 1..].trim_matches(is_perl_space))),
        None => (line, None),
    };
    let (name, rest) = token(line)?;
    let mut rest_chars = rest.chars();
    if !rest_chars.next().is_some_and(is_perl_space) {
        return None;
    }
    let cidr = rest_chars.as_str();
    if cidr.is_empty() || cidr.contains(is_perl_space) {
        return None;
    }
    let cidr = parse_ip_or_cidr(cidr)?; // "value does not look like a valid IP address or CIDR network"
    let comment = comment.filter(|c| perl_true(c)).map(str::to_owned);
    Some(Alias { name: name.to_owned(), cidr, comment })
}

/// `parse_ip_or_cidr`: an IPv6 or IPv4 address with an optional `/digits`; `/128` (IPv6) and
/// `/32` (IPv4) are dropped. The prefix length is not range-checked here, as in Perl.
pub fn parse_ip_or_cidr(cidr: &str) -> Option<String> {
    let (address, prefix) = match cidr.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (cidr, None),
    };
    if prefix.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if address.parse::<Ipv6Addr>().is_ok() {
        Some(cidr.strip_suffix("/128").unwrap_or(cidr).to_owned())
    } else if address.parse::<Ipv4Addr>().is_ok() {
        Some(cidr.strip_suffix("/32").unwrap_or(cidr).to_owned())
    } else {
        None
    }
}

/// pve-firewall `Firewall.pm` `clean_cidr` (run by `IPSet.pm` `create_ip` and
/// `pve_verify_ip_or_cidr`): without a prefix (or with `/0`, false to Perl) the text is kept;
/// otherwise the address is masked and written again by Net::IP — `ip_bintoip` (dotted quads,
/// or eight `%04x` groups), then `ip_compress_address` (see [`net_ip_compress`]). `None` when
/// Net::IP would refuse it (not an address, prefix out of range).
pub fn clean_cidr(cidr: &str) -> Option<String> {
    let Some((ip, len)) = cidr.split_once('/') else { return Some(cidr.to_owned()) };
    if len.is_empty() || len.bytes().any(|b| !b.is_ascii_digit()) {
        return None;
    }
    if len.bytes().all(|b| b == b'0') {
        return Some(cidr.to_owned());
    }
    let len: u32 = len.parse().ok()?;
    if let Ok(v4) = ip.parse::<Ipv4Addr>() {
        let mask = u32::MAX.checked_shl(32u32.checked_sub(len)?).unwrap_or(0);
        let quads = (u32::from(v4) & mask).to_be_bytes();
        return Some(format!("{}.{}.{}.{}/{len}", quads[0], quads[1], quads[2], quads[3]));
    }
    let v6 = ip.parse::<Ipv6Addr>().ok()?;
    let mask = u128::MAX.checked_shl(128u32.checked_sub(len)?).unwrap_or(0);
    let masked = u128::from(v6) & mask;
    let groups: Vec<String> = (0..8).rev().map(|i| format!("{:04x}", (masked >> (i * 16)) & 0xffff)).collect();
    Some(format!("{}/{len}", net_ip_compress(&groups.join(":"))))
}

/// Net::IP `ip_compress_address`, step by step on the text: `s/(^|:)0+(?=[a-fA-F\d]+(?::|$))/$1/g`
/// drops leading zeros; the matches of `((?:^|:)0(?::0)+(?::|$))`, found left to right without
/// overlap, are measured, and the first longest is replaced by `::` (`s/$reg/::/`, its first
/// occurrence).
fn net_ip_compress(expanded: &str) -> String {
    let stripped: Vec<&str> = expanded
        .split(':')
        .map(|group| {
            let trimmed = group.trim_start_matches('0');
            if trimmed.is_empty() {
                "0"
            } else {
                trimmed
            }
        })
        .collect();
    let ip = stripped.join(":");
    let bytes = ip.as_bytes();
    let mut longest = "";
    let mut at = 0;
    while at < bytes.len() {
        // A match starts at the beginning or at a ':' followed by "0" then ":0"...
        let start_ok = (at == 0 && bytes[0] == b'0') || (bytes[at] == b':' && bytes.get(at + 1) == Some(&b'0'));
        let zero_at = if at == 0 && bytes[0] == b'0' { 0 } else { at + 1 };
        let is_zero_group = |i: usize| bytes.get(i) == Some(&b'0') && matches!(bytes.get(i + 1), None | Some(b':'));
        if start_ok && is_zero_group(zero_at) {
            let mut end = zero_at + 1; // after the first "0"
            let mut zeros = 1;
            while bytes.get(end) == Some(&b':') && is_zero_group(end + 1) {
                end += 2;
                zeros += 1;
            }
            if zeros >= 2 {
                if bytes.get(end) == Some(&b':') {
                    end += 1; // the closing ':' belongs to the match
                }
                if ip[at..end].len() > longest.len() {
                    longest = &ip[at..end];
                }
                at = end;
                continue;
            }
        }
        at += 1;
    }
    if longest.is_empty() {
        ip
    } else {
        ip.replacen(longest, "::", 1)
    }
}

/// One line of an `[IPSET]` section: `[!]ENTRY [# comment]`. An address is normalised by
/// `parse_ip_or_cidr`; an alias reference (`[dc/|guest/]NAME`) or an invalid entry is kept as
/// written (Perl records the error on the entry and keeps it).
fn parse_ipset_entry(line: &str) -> Option<IpSetEntry> {
    let (line, comment) = match line.split_once('#') {
        Some((before, comment)) => (before, Some(comment.trim_matches(is_perl_space))),
        None => (line, None),
    };
    // `^(\!)?\s*(\S+)\s*$`
    let single = |text: &str| {
        let text = text.trim_matches(is_perl_space);
        (!text.is_empty() && !text.contains(is_perl_space)).then(|| text.to_owned())
    };
    // With the `!` taken as the flag first; failing that, the regex backtracks and `\S+` may
    // start with the `!` itself.
    let (nomatch, entry) = match line.strip_prefix('!').and_then(single) {
        Some(entry) => (true, entry),
        None => (false, single(line)?),
    };
    let is_alias = {
        let name = entry.strip_prefix("dc/").or_else(|| entry.strip_prefix("guest/")).unwrap_or(&entry);
        let mut chars = name.chars();
        name.len() >= 2
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let cidr = if is_alias { entry.clone() } else { parse_ip_or_cidr(&entry).unwrap_or(entry) };
    let comment = comment.filter(|c| perl_true(c)).map(str::to_owned);
    Some(IpSetEntry { nomatch, cidr, comment })
}

/// Perl truthiness of a string: everything but `""` and `"0"`.
pub fn perl_true(value: &str) -> bool {
    !value.is_empty() && value != "0"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(line: &str) -> Rule {
        Rule::parse_line(line).unwrap_or_else(|| panic!("{line} should parse"))
    }

    /// Net::IP's compression on expanded text, checked by hand against its regexes.
    #[test]
    fn net_ip_compresses_the_first_longest_matched_text() {
        assert_eq!(net_ip_compress("0000:0000:0000:0000:0000:0000:0000:0000"), "::");
        assert_eq!(net_ip_compress("fd00:0000:0000:0000:0000:0000:0000:0000"), "fd00::");
        assert_eq!(net_ip_compress("0000:0000:0000:0000:0000:0000:0000:0001"), "::1");
        assert_eq!(net_ip_compress("0000:0000:0001:0000:0000:0001:0001:0001"), "0:0:1::1:1:1");
        assert_eq!(net_ip_compress("0001:0000:0001:0000:0001:0000:0001:0000"), "1:0:1:0:1:0:1:0");
        assert_eq!(net_ip_compress("2001:0db8:0000:0000:0001:0000:0000:0000"), "2001:db8:0:0:1::");
    }

    #[test]
    fn create_ip_cleans_host_bits() {
        assert_eq!(clean_cidr("10.0.0.5/24").as_deref(), Some("10.0.0.0/24"));
        assert_eq!(clean_cidr("10.0.0.5").as_deref(), Some("10.0.0.5"));
        assert_eq!(clean_cidr("10.0.0.5/0").as_deref(), Some("10.0.0.5/0"));
        assert_eq!(clean_cidr("FD00::5/64").as_deref(), Some("fd00::/64"));
        assert_eq!(clean_cidr("10.0.0.5/33"), None);
    }

    #[test]
    fn a_rule_line_gives_its_direction_action_and_every_flag() {
        let r =
            rule("IN ACCEPT -i net0 -source 10.0.0.1 -dest +mynet -p tcp -dport 22 -sport 1024:65535 -log info # ssh");
        assert_eq!((r.kind.as_str(), r.action.as_str(), r.enable), ("in", "ACCEPT", true));
        assert_eq!(r.iface.as_deref(), Some("net0"));
        assert_eq!(r.source.as_deref(), Some("10.0.0.1"));
        assert_eq!(r.dest.as_deref(), Some("+mynet"));
        assert_eq!(r.proto.as_deref(), Some("tcp"));
        assert_eq!(r.dport.as_deref(), Some("22"));
        assert_eq!(r.sport.as_deref(), Some("1024:65535"));
        assert_eq!(r.log.as_deref(), Some("info"));
        assert_eq!(r.comment.as_deref(), Some("ssh"));
    }

    #[test]
    fn a_rule_is_written_with_its_fields_in_pve_firewall_order() {
        let r = rule("|out drop # late\tcomment  ");
        assert_eq!(r.write_line(true).as_deref(), Some("|OUT drop # late\tcomment"));
        let mut r = Rule { kind: "in".into(), action: "ACCEPT".into(), enable: true, ..Default::default() };
        r.icmp_type = Some("echo-request".into());
        r.log = Some("nolog".into());
        r.proto = Some("icmp".into());
        r.dest = Some("10.0.0.0/8".into());
        r.source = Some("192.168.0.0/16".into());
        r.iface = Some("net1".into());
        r.comment = Some("ping".into());
        let line = "IN ACCEPT -i net1 -source 192.168.0.0/16 -dest 10.0.0.0/8 -p icmp -log nolog \
                    -icmp-type echo-request # ping";
        assert_eq!(r.write_line(true).as_deref(), Some(line));
        assert_eq!(Rule::parse_line(line), Some(r));
    }

    #[test]
    fn macros_are_read_from_and_written_as_name_with_the_action_in_parentheses() {
        let r = rule("IN SSH(ACCEPT) -i net0 -source 192.168.2.192  # only allow SSH from  192.168.2.192");
        assert_eq!(r.macro_name.as_deref(), Some("SSH"));
        assert_eq!(r.action, "ACCEPT");
        assert_eq!(r.comment.as_deref(), Some("only allow SSH from  192.168.2.192"));
        assert_eq!(
            r.write_line(true).as_deref(),
            Some("IN SSH(ACCEPT) -i net0 -source 192.168.2.192 # only allow SSH from  192.168.2.192")
        );
        // Only ACCEPT, DROP and REJECT make a macro, and only for in/out/forward.
        assert_eq!(rule("IN SSH(LOG)").macro_name, None);
        assert_eq!(rule("GROUP web(ACCEPT)").macro_name, None);
    }

    #[test]
    fn group_rules_carry_only_the_interface_and_the_comment() {
        let r = rule("GROUP group1 -i net0 # web");
        assert_eq!((r.kind.as_str(), r.action.as_str()), ("group", "group1"));
        assert_eq!(r.write_line(true).as_deref(), Some("GROUP group1 -i net0 # web"));
        assert_eq!(r.write_line(false).as_deref(), Some("GROUP group1 # web"));
        // `last if $rule->{type} eq 'group'`: no other flag is read.
        assert_eq!(Rule::parse_line("GROUP group1 -p tcp"), None);
        let r = Rule { kind: "group".into(), action: "g".into(), proto: Some("tcp".into()), ..Default::default() };
        assert_eq!(r.write_line(true).as_deref(), Some("|GROUP g"));
    }

    #[test]
    fn flag_spellings_follow_the_perl_regexes() {
        let r = rule(
            "in accept --proto udp --dport 53 -proto tcp --source 1.2.3.4 --dest 5.6.7.8 --sport 9 \
             --icmp-type x --log debug",
        );
        assert_eq!(r.proto.as_deref(), Some("tcp"));
        assert_eq!(r.dport.as_deref(), Some("53"));
        assert_eq!(r.log.as_deref(), Some("debug"));
        assert_eq!(r.icmp_type.as_deref(), Some("x"));
        // The level regex is not anchored to the end of the word: the rest is read as a flag.
        let r = rule("IN ACCEPT -log info-p tcp");
        assert_eq!((r.log.as_deref(), r.proto.as_deref()), (Some("info"), Some("tcp")));
        for bad in [
            "IN ACCEPT -p  tcp",
            "IN ACCEPT --p tcp",
            "IN ACCEPT -log loud",
            "IN ACCEPT -log error",
            "IN ACCEPT -x 1",
            "IN",
            " IN ACCEPT",
            "| IN ACCEPT",
        ] {
            assert_eq!(Rule::parse_line(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_empty_comment_is_kept_but_not_written() {
        let r = rule("IN ACCEPT -p tcp #");
        assert_eq!(r.comment.as_deref(), Some(""));
        assert_eq!(r.write_line(true).as_deref(), Some("IN ACCEPT -p tcp"));
    }

    #[test]
    fn unknown_rule_types_are_read_but_not_written() {
        let r = rule("FOO ACCEPT");
        assert_eq!(r.kind, "foo");
        assert_eq!(r.write_line(true), None);
    }

    /// pve-firewall `test/test-group1/cluster.fw` (trailing blanks included).
    const CLUSTER_FW: &str = "[OPTIONS]\n\nenable: 1\n\n[GROUP group1]\n\n\
        IN ACCEPT -source 192.168.2.0/24 -p tcp -dport 22 \n\
        IN REJECT -source 192.168.2.0/24 -p tcp -dport 80 \n\
        OUT REJECT -source 192.168.2.0/24 -p tcp -dport 80 \n\
        OUT REJECT -p tcp -dport 443 \n\n\
        [GROUP group2]\n\nIN ACCEPT -source 192.168.3.0/24 -p tcp -dport 22\n\n\
        [GROUP group3]\n\nIN ACCEPT -source 192.168.6.0/24 -p tcp -dport 22\n";

    #[test]
    fn the_group_sample_of_the_pve_firewall_tests_is_read_and_written_in_save_clusterfw_conf_form() {
        let file = FirewallFile::parse(CLUSTER_FW);
        assert_eq!(file.options.get("enable").map(String::as_str), Some("1"));
        assert_eq!(file.groups.keys().collect::<Vec<_>>(), ["group1", "group2", "group3"]);
        assert_eq!(file.groups["group1"].rules.len(), 4);
        assert_eq!(
            file.write(),
            "[OPTIONS]\n\nenable: 1\n\n\
             [group group1]\n\n\
             IN ACCEPT -source 192.168.2.0/24 -p tcp -dport 22\n\
             IN REJECT -source 192.168.2.0/24 -p tcp -dport 80\n\
             OUT REJECT -source 192.168.2.0/24 -p tcp -dport 80\n\
             OUT REJECT -p tcp -dport 443\n\n\
             [group group2]\n\nIN ACCEPT -source 192.168.3.0/24 -p tcp -dport 22\n\n\
             [group group3]\n\nIN ACCEPT -source 192.168.6.0/24 -p tcp -dport 22\n\n"
        );
        assert_eq!(FirewallFile::parse(&file.write()), file);
    }

    /// pve-firewall `debian/example/100.fw`, abridged.
    const VM_FW: &str = "# Example VM firewall configuration

# VM specific firewall options
[OPTIONS]

# disable/enable the whole thing
enable: 1 
macfilter: 0
layer2_protocols: ARP,802_1Q,IPX,NetBEUI,PPP
policy_in: drop
log_level_in: INFO
log_level_out:
ips_queues: 0:3
bogus: 1

[IPSET ipfilter-net0] # only allow specified IPs on net0
192.168.2.10

[RULES]

IN SSH(ACCEPT) -i net0
IN SSH(ACCEPT) -i net0 -source 10.0.0.1-10.0.0.10 #accept SSH for ip in range 10.0.0.1 to 10.0.0.10
IN ACCEPT -i net0 -p icmpv6

|IN SSH(ACCEPT) -i net0 # disabled rule

# add a security group
GROUP group1 -i net0

OUT SSH(ACCEPT)
";

    #[test]
    fn the_example_guest_file_of_pve_firewall_is_normalised_as_save_vmfw_conf_writes_it() {
        let file = FirewallFile::parse(VM_FW);
        assert_eq!(
            file.write(),
            "[OPTIONS]\n\n\
             enable: 1\nips_queues: 0:3\nlayer2_protocols: ARP,802_1Q,IPX,NetBEUI,PPP\nlog_level_in: info\n\
             log_level_out: \nmacfilter: 0\npolicy_in: DROP\n\n\
             [IPSET ipfilter-net0] # only allow specified IPs on net0\n\n192.168.2.10\n\n\
             [RULES]\n\n\
             IN SSH(ACCEPT) -i net0\n\
             IN SSH(ACCEPT) -i net0 -source 10.0.0.1-10.0.0.10 # accept SSH for ip in range 10.0.0.1 to 10.0.0.10\n\
             IN ACCEPT -i net0 -p icmpv6\n\
             |IN SSH(ACCEPT) -i net0 # disabled rule\n\
             GROUP group1 -i net0\n\
             OUT SSH(ACCEPT)\n\n"
        );
    }

    /// pve-firewall `debian/example/cluster.fw`, its aliases and ipsets.
    #[test]
    fn aliases_and_ipsets_are_sorted_normalised_and_deduplicated() {
        let file = FirewallFile::parse(
            "[ALIASES]\n\nmyserveralias 10.0.0.111\nmynetworkalias 10.0.0.0/24\nMyHost 10.0.0.5/32 # the host\n\
             two  blanks 10.0.0.6\nbadalias not-an-ip\n\n\
             [ipset myipset]\n\n192.168.0.1 #mycomment\n172.16.0.10\n192.168.0.0/24\n! 10.0.0.0/8  #nomatch\n\
             mynetworkalias\n2001:db8:0:85a3::ac1f:8001/128\n172.16.0.10 # again\n\n\
             #global ipset blacklist\n[ipset blacklist]\n\n10.0.0.8\n",
        );
        assert_eq!(
            file.write(),
            "[ALIASES]\n\nMyHost 10.0.0.5 # the host\nmynetworkalias 10.0.0.0/24\nmyserveralias 10.0.0.111\n\n\
             [IPSET blacklist]\n\n10.0.0.8\n\n\
             [IPSET myipset]\n\n!10.0.0.0/8 # nomatch\n172.16.0.10\n192.168.0.0/24\n192.168.0.1 # mycomment\n\
             2001:db8:0:85a3::ac1f:8001\nmynetworkalias\n\n"
        );
    }

    #[test]
    fn unknown_sections_and_lines_outside_sections_are_dropped() {
        let file = FirewallFile::parse(
            "IN ACCEPT -p tcp\n[RULES]\nIN ACCEPT -p tcp -dport 80\n[EXTRA]\nOUT DROP\n\
             [group 1bad]\nIN DROP\n[group way-too-long-group-name]\nIN DROP\n",
        );
        // `[EXTRA]` is no header for Perl: it fails as a rule and `OUT DROP` stays in [RULES].
        assert_eq!(file.write(), "[RULES]\n\nIN ACCEPT -p tcp -dport 80\nOUT DROP\n\n");
    }

    #[test]
    fn group_headers_take_a_comment_and_lowercase_the_name() {
        let file = FirewallFile::parse("[group Web_1] #  front ends \nIN ACCEPT -p tcp -dport 443\n[group empty]\n");
        assert_eq!(file.groups["web_1"].comment.as_deref(), Some("front ends"));
        assert_eq!(file.write(), "[group empty]\n\n\n[group web_1] # front ends\n\nIN ACCEPT -p tcp -dport 443\n\n");
    }

    #[test]
    fn group_rules_never_carry_an_interface_in_the_file() {
        let mut file = FirewallFile::default();
        let r = Rule {
            kind: "in".into(),
            action: "ACCEPT".into(),
            enable: true,
            iface: Some("net0".into()),
            ..Default::default()
        };
        file.groups.insert("g1".into(), Group { comment: None, rules: vec![r.clone()] });
        file.rules.push(r);
        assert_eq!(file.write(), "[RULES]\n\nIN ACCEPT -i net0\n\n[group g1]\n\nIN ACCEPT\n\n");
    }

    #[test]
    fn option_lines_are_normalised_or_dropped_like_the_perl_option_parsers() {
        let parse = |line: &str| parse_option(line);
        assert_eq!(parse("ENABLE: 01"), Some(("enable".into(), "1".into())));
        assert_eq!(parse("policy_forward: accept"), Some(("policy_forward".into(), "ACCEPT".into())));
        assert_eq!(
            parse("log_ratelimit: enable=1,rate=1/second"),
            Some(("log_ratelimit".into(), "enable=1,rate=1/second".into()))
        );
        assert_eq!(parse("LOG_RATELIMIT: x"), None);
        assert_eq!(parse("dhcp: yes"), None);
        assert_eq!(parse("policy_in: LOG"), None);
        assert_eq!(parse("log_level_in: loud"), None);
        assert_eq!(parse("ips_queues: 1:x"), None);
    }

    #[test]
    fn a_file_with_nothing_to_write_is_empty() {
        assert!(FirewallFile::parse("").is_empty());
        assert!(FirewallFile::parse("0").is_empty());
        assert!(FirewallFile::parse("# only a comment\n[OPTIONS]\n\n[RULES]\n").is_empty());
        assert!(!FirewallFile::parse("[group g1]\n").is_empty());
    }
}
