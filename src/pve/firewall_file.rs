//! Proxmox firewall files (`/etc/pve/firewall/cluster.fw`, `/etc/pve/firewall/<vmid>.fw`) in
//! pve-firewall's format: `[OPTIONS]`, `[ALIASES]`, `[IPSET name]`, `[RULES]` and, in
//! `cluster.fw`, one `[group name] # comment` section per security group, sorted by name.
//!
//! Rule lines: `[|]DIR ACTION|MACRO(ACTION) [-i netN] [-source X] [-dest X] [-p proto]
//! [-dport X] [-sport X] [-log lvl] [-icmp-type X] [# comment]`; a leading `|` marks a disabled
//! rule; a group reference reads `GROUP name [-i netN]`.

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

impl Rule {
    /// The rule as one line of a firewall file.
    pub fn to_line(&self) -> String {
        let mut line = String::new();
        if !self.enable {
            line.push('|');
        }
        line.push_str(&self.kind.to_uppercase());
        line.push(' ');
        match &self.macro_name {
            Some(m) => line.push_str(&format!("{m}({})", self.action)),
            None => line.push_str(&self.action),
        }
        let flags = [
            ("-i", &self.iface),
            ("-source", &self.source),
            ("-dest", &self.dest),
            ("-p", &self.proto),
            ("-dport", &self.dport),
            ("-sport", &self.sport),
            ("-log", &self.log),
            ("-icmp-type", &self.icmp_type),
        ];
        for (flag, value) in flags {
            if let Some(v) = value {
                line.push_str(&format!(" {flag} {v}"));
            }
        }
        if let Some(comment) = &self.comment {
            line.push_str(&format!(" # {comment}"));
        }
        line
    }

    /// Parse one rule line; `None` for lines pve-firewall would reject.
    pub fn parse_line(line: &str) -> Option<Rule> {
        let mut rule = Rule { enable: true, ..Rule::default() };
        let mut rest = line.trim();
        if let Some(r) = rest.strip_prefix('|') {
            rule.enable = false;
            rest = r.trim_start();
        }
        if let Some((body, comment)) = rest.split_once('#') {
            let comment = comment.trim();
            if !comment.is_empty() {
                rule.comment = Some(comment.to_owned());
            }
            rest = body.trim();
        }
        let mut words = rest.split_whitespace();
        rule.kind = words.next()?.to_lowercase();
        if !matches!(rule.kind.as_str(), "in" | "out" | "forward" | "group") {
            return None;
        }
        let action = words.next()?;
        match action.split_once('(') {
            Some((m, a)) => {
                rule.macro_name = Some(m.to_owned());
                rule.action = a.trim_end_matches(')').to_owned();
            }
            None => rule.action = action.to_owned(),
        }
        while let Some(flag) = words.next() {
            let value = Some(words.next()?.to_owned());
            match flag {
                "-i" => rule.iface = value,
                "-source" => rule.source = value,
                "-dest" => rule.dest = value,
                "-p" => rule.proto = value,
                "-dport" => rule.dport = value,
                "-sport" => rule.sport = value,
                "-log" => rule.log = value,
                "-icmp-type" => rule.icmp_type = value,
                _ => return None,
            }
        }
        Some(rule)
    }
}

/// A security group (`[group name] # comment` in `cluster.fw`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub comment: Option<String>,
    pub rules: Vec<Rule>,
}

/// A whole firewall file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FirewallFile {
    pub options: BTreeMap<String, String>,
    /// `[ALIASES]` and `[IPSET …]` sections, kept verbatim (header, lines).
    pub other_sections: Vec<(String, Vec<String>)>,
    pub rules: Vec<Rule>,
    pub groups: BTreeMap<String, Group>,
}

enum Place {
    None,
    Options,
    Rules,
    Other(usize),
    Group(String),
}

impl FirewallFile {
    pub fn parse(text: &str) -> Self {
        let mut file = FirewallFile::default();
        let mut place = Place::None;
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                let (header, comment) = match line.split_once('#') {
                    Some((h, c)) => (h.trim(), Some(c.trim().to_owned()).filter(|c| !c.is_empty())),
                    None => (line, None),
                };
                let inner = header.trim_start_matches('[').trim_end_matches(']').trim();
                let lower = inner.to_lowercase();
                place = if lower == "options" {
                    Place::Options
                } else if lower == "rules" {
                    Place::Rules
                } else if let Some(name) = lower.strip_prefix("group ") {
                    // pve-firewall lowercases group names when it reads the file.
                    let name = name.trim().to_owned();
                    file.groups.entry(name.clone()).or_default().comment = comment;
                    Place::Group(name)
                } else {
                    file.other_sections.push((line.to_owned(), Vec::new()));
                    Place::Other(file.other_sections.len() - 1)
                };
                continue;
            }
            match &place {
                Place::Options => {
                    if let Some((k, v)) = line.split_once(':') {
                        file.options.insert(k.trim().to_owned(), v.trim().to_owned());
                    }
                }
                Place::Rules => file.rules.extend(Rule::parse_line(line)),
                Place::Group(name) => {
                    if let Some(rule) = Rule::parse_line(line) {
                        file.groups.entry(name.clone()).or_default().rules.push(rule);
                    }
                }
                Place::Other(i) => file.other_sections[*i].1.push(line.to_owned()),
                Place::None => {}
            }
        }
        file
    }

    pub fn is_empty(&self) -> bool {
        self.options.is_empty() && self.other_sections.is_empty() && self.rules.is_empty() && self.groups.is_empty()
    }

    /// Every header is followed by an empty line and every section ends with one.
    pub fn write(&self) -> String {
        let mut out = String::new();
        if !self.options.is_empty() {
            out.push_str("[OPTIONS]\n\n");
            for (k, v) in &self.options {
                out.push_str(&format!("{k}: {v}\n"));
            }
            out.push('\n');
        }
        for (header, lines) in &self.other_sections {
            out.push_str(&format!("{header}\n\n"));
            for line in lines {
                out.push_str(line);
                out.push('\n');
            }
            out.push('\n');
        }
        if !self.rules.is_empty() {
            out.push_str("[RULES]\n\n");
            for rule in &self.rules {
                out.push_str(&rule.to_line());
                out.push('\n');
            }
            out.push('\n');
        }
        for (name, group) in &self.groups {
            match &group.comment {
                Some(c) => out.push_str(&format!("[group {name}] # {c}\n\n")),
                None => out.push_str(&format!("[group {name}]\n\n")),
            }
            for rule in &group.rules {
                out.push_str(&rule.to_line());
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `<vmid>.fw` example from pve-cli.md §6.
    const CT_FW: &str = "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP web -i net0\n|IN ACCEPT -p tcp -dport 22 # ssh\n\n";

    #[test]
    fn container_file_round_trips() {
        let file = FirewallFile::parse(CT_FW);
        assert_eq!(file.options.get("enable").map(String::as_str), Some("1"));
        assert_eq!(file.rules.len(), 2);
        assert_eq!(file.rules[0].kind, "group");
        assert_eq!(file.rules[0].action, "web");
        assert_eq!(file.rules[0].iface.as_deref(), Some("net0"));
        assert!(!file.rules[1].enable);
        assert_eq!(file.rules[1].comment.as_deref(), Some("ssh"));
        assert_eq!(file.write(), CT_FW);
    }

    #[test]
    fn groups_are_sorted_and_lowercased() {
        let text = "[group Web] # web servers\n\nIN ACCEPT -p tcp -dport 80\nIN SSH(ACCEPT) -source 10.0.0.0/8\n\n[group db]\n\nIN DROP\n\n";
        let file = FirewallFile::parse(text);
        assert_eq!(file.groups.keys().collect::<Vec<_>>(), ["db", "web"]);
        assert_eq!(file.groups["web"].comment.as_deref(), Some("web servers"));
        assert_eq!(file.groups["web"].rules[1].macro_name.as_deref(), Some("SSH"));
        let written = file.write();
        assert!(written.starts_with("[group db]\n\nIN DROP\n\n[group web] # web servers\n\n"));
    }
}
