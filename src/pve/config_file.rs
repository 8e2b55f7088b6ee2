//! The container configuration file `/etc/pve/nodes/<node>/lxc/<vmid>.conf`, read as
//! pve-container `PVE::LXC::Config::parse_pct_config` reads it. The provider never writes it:
//! `pct` does.
//!
//! Layout: the current configuration, then an optional `[pve:pending]` section, then one section
//! per snapshot. In every section the description comes first as `#` lines (escaped by
//! pve-common `encode_text`, undone by [`decode_text`]), then `key: value` lines, then raw
//! `lxc.*` lines.

use std::collections::BTreeMap;

use super::text::decode_text;

/// One section of a container config file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// The description as Proxmox reads it back: every `#` line decoded and followed by `\n`.
    pub description: Option<String>,
    /// `key: value` options (including `parent`, `snaptime`, and `delete` in the pending section).
    pub options: BTreeMap<String, String>,
    /// Raw `lxc.*` entries, in file order.
    pub lxc: Vec<(String, String)>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.options.insert(key.into(), value.into());
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.options.remove(key)
    }

    pub fn is_empty(&self) -> bool {
        self.description.is_none() && self.options.is_empty() && self.lxc.is_empty()
    }
}

/// A whole container config file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigFile {
    pub current: Section,
    /// `[pve:pending]`: changes made while running that apply at the next start.
    pub pending: Section,
    pub snapshots: BTreeMap<String, Section>,
}

/// Where a parsed line goes.
enum Target {
    Current,
    Pending,
    Snapshot(String),
}

impl ConfigFile {
    /// Parse a config file. Lines Proxmox would warn about are skipped, as Proxmox does.
    pub fn parse(raw: &str) -> Self {
        let mut file = ConfigFile::default();
        let mut target = Target::Current;
        let mut description = String::new();

        for line in raw.split('\n') {
            if line.trim().is_empty() {
                continue;
            }
            if let Some(name) = section_header(line) {
                file.section_mut(&target).description = take_description(&mut description);
                target = if name.eq_ignore_ascii_case("pve:pending") {
                    Target::Pending
                } else {
                    Target::Snapshot(name.to_owned())
                };
                file.section_mut(&target);
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                description.push_str(&decode_text(comment));
                description.push('\n');
                continue;
            }
            let Some((key, value)) = split_key_value(line) else {
                continue;
            };
            let section = file.section_mut(&target);
            if key.starts_with("lxc.") {
                section.lxc.push((key.to_owned(), value.to_owned()));
            } else if key == "description" {
                description.push_str(&decode_text(value));
            } else {
                section.options.insert(key.to_owned(), value.to_owned());
            }
        }
        file.section_mut(&target).description = take_description(&mut description);
        file
    }

    fn section_mut(&mut self, target: &Target) -> &mut Section {
        match target {
            Target::Current => &mut self.current,
            Target::Pending => &mut self.pending,
            Target::Snapshot(name) => self.snapshots.entry(name.clone()).or_default(),
        }
    }
}

fn take_description(buffer: &mut String) -> Option<String> {
    if buffer.is_empty() {
        None
    } else {
        Some(std::mem::take(buffer))
    }
}

/// `[name]` with Proxmox's section-name rule (`[a-z][a-z0-9_\-]+` or `pve:pending`).
fn section_header(line: &str) -> Option<&str> {
    let inner = line.trim_end().strip_prefix('[')?.strip_suffix(']')?;
    if inner.eq_ignore_ascii_case("pve:pending") {
        return Some(inner);
    }
    let mut chars = inner.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = inner.len() >= 2 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (first_ok && rest_ok).then_some(inner)
}

/// `key: value` with the value trimmed; `lxc.*` keys may also use `=`.
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    if line.starts_with("lxc.") {
        let sep = line.find([':', '='])?;
        return Some((line[..sep].trim_end(), line[sep + 1..].trim()));
    }
    let (key, value) = line.split_once(':')?;
    let key_ok = key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    let value = value.trim();
    (key_ok && !value.is_empty()).then_some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example config from pve-cli.md §6.
    const SAMPLE: &str = "arch: amd64
cores: 2
features: nesting=1
hostname: web
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:7E:3A:1D,ip=dhcp,type=veth
ostype: debian
rootfs: local-lvm:vm-100-disk-0,size=8G
swap: 512
unprivileged: 1
";

    #[test]
    fn sample_config_parses() {
        let file = ConfigFile::parse(SAMPLE);
        assert_eq!(file.current.get("hostname"), Some("web"));
        assert_eq!(file.current.get("memory"), Some("1024"));
        assert!(file.pending.is_empty());
        assert!(file.snapshots.is_empty());
    }

    #[test]
    fn description_lines_are_escaped_comments_read_back_with_newlines() {
        let raw = "#web%3A frontend\n#second line\narch: amd64\nhostname: web\n";
        let file = ConfigFile::parse(raw);
        assert_eq!(file.current.description.as_deref(), Some("web: frontend\nsecond line\n"));
    }

    #[test]
    fn pending_and_snapshot_sections_are_kept_apart() {
        let raw = "arch: amd64
hostname: web
memory: 512
parent: before-upgrade

[pve:pending]
delete: nameserver
memory: 1024

[before-upgrade]
#taken before the upgrade
arch: amd64
hostname: web
memory: 256
snaptime: 1700000000
";
        let file = ConfigFile::parse(raw);
        assert_eq!(file.current.get("parent"), Some("before-upgrade"));
        assert_eq!(file.pending.get("memory"), Some("1024"));
        assert_eq!(file.pending.get("delete"), Some("nameserver"));
        let snap = &file.snapshots["before-upgrade"];
        assert_eq!(snap.get("memory"), Some("256"));
        assert_eq!(snap.get("snaptime"), Some("1700000000"));
        assert_eq!(snap.description.as_deref(), Some("taken before the upgrade\n"));
    }

    #[test]
    fn raw_lxc_entries_come_last_in_file_order() {
        let raw = "arch: amd64\nlxc.cgroup2.devices.allow: c 10:200 rwm\nlxc.mount.entry: /dev/net dev/net none bind,create=dir\n";
        let file = ConfigFile::parse(raw);
        assert_eq!(file.current.lxc.len(), 2);
    }
}
