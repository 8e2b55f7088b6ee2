//! Container config files (`/etc/pve/lxc/<vmid>.conf`), written from pve-container
//! `src/PVE/LXC/Config.pm`:
//!
//! - [`ConfigFile::parse`] follows `parse_pct_config` in its non-strict mode (the one every
//!   `load_config` uses): line by line, blank lines skipped; `[pve:pending]` and `[name]`
//!   (`[a-z][a-z0-9_-]+`, any case) open a section; `#` lines are description lines, decoded with
//!   `decode_text` and each ended with a newline; `description: text` is decoded and appended
//!   without one; `lxc.*` keys (`lxc.key: value` or `lxc.key = value`) are kept in order if
//!   `is_valid_lxc_conf_key` allows them, `lxc.environment.runtime` entries being gathered into the
//!   `env` option (NUL-separated) as Perl does; `snapstate: prepare|delete`; `delete: …` only in
//!   `[pve:pending]`; any other `key: value` with a key matching `[a-z][a-z_]*\d*`. Values are
//!   trimmed. `check_type` is applied as Perl applies it: booleans written `on`/`yes`/`true`
//!   (`off`/`no`/`false`) become `1` (`0`) and integers lose their leading zeros, while a value
//!   that fails its type check or an unknown key is kept as written (Perl only warns).
//! - [`ConfigFile::write`] follows `write_pct_config`: per section, the description as `#` lines
//!   (one per line, `encode_text`), then the keys **sorted** (so `parent` and `snaptime` sit
//!   among the others, not first), then `lxc.environment.runtime` lines from `env`, then the other
//!   `lxc.*` entries in their order; `[pve:pending]` only when it holds anything, then the
//!   snapshots sorted by name, each section preceded by one empty line. `snapstate` is never
//!   written for the current config, and an `unusedN` whose volume is still used by `rootfs` or
//!   an `mpN` is dropped, as `write_pct_config` deletes it.
//!
//! What parsing drops (Perl warns `vm <id> - unable to parse config: <line>` or names the
//! problem, and goes on): lines matching none of the forms above (for instance `key:` without a
//! value, `Key: v`, `mp0a: v`, a `[section]` whose name starts with a digit), `lxc.*` keys that
//! are neither listed nor in an allowed family (`lxc.cgroup.*`, `lxc.cgroup2.*`, `lxc.prlimit.*`,
//! `lxc.net.*`, `lxc.limit.*`, the deprecated pre-3.0 names), the keys pve-container refuses to
//! take (`lxc.rootfs.path`, `lxc.rootfs.options`), and `delete:` outside `[pve:pending]`.
//!
//! Deliberate simplifications: warnings are not printed; the strict mode (used by a few tools
//! only) is not offered; string formats are not checked at all (Perl's `check_format` failures
//! only warn). `write_pct_config` dies on a value containing a newline; here callers must not
//! store one (the simulator validates parameters before they reach the config). Keys that are
//! Perl hash slots of the parsed config rather than options (`digest`, `pending`, `snapshots`,
//! `snapname`, `lxc`) are read like any key but, as in Perl, never written back.

use std::collections::BTreeMap;

use super::property_string::PropertyString;
use super::text::{decode_text, encode_text, is_perl_space, parse_size};

/// One section of a config file: the current config, `[pve:pending]` or a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The description as Perl holds it: from `#` lines, every line ends in `\n`.
    pub description: Option<String>,
    /// `key: value` options (`env` included, holding `lxc.environment.runtime` values joined by
    /// NUL as in Perl).
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

    /// Whether Perl's hash for this section would have no key (`scalar(keys %$pending)`).
    pub fn is_empty(&self) -> bool {
        self.description.is_none() && self.options.is_empty() && self.lxc.is_empty()
    }

    /// `$generate_raw_config` of `write_pct_config`.
    fn write(&self, out: &mut String, is_current: bool) {
        let description = self.description.as_deref().filter(|d| perl_true(d)).unwrap_or("");
        for line in split_lines(description) {
            out.push('#');
            out.push_str(&encode_text(line));
            out.push('\n');
        }
        let used = if is_current { used_volumes(self) } else { Vec::new() };
        for (key, value) in &self.options {
            let skipped =
                matches!(key.as_str(), "digest" | "description" | "pending" | "snapshots" | "snapname" | "env" | "lxc")
                    || (is_current && key == "snapstate")
                    || (is_current && key.starts_with("unused") && used.contains(value));
            if !skipped {
                out.push_str(&format!("{key}: {value}\n"));
            }
        }
        if let Some(env) = self.get("env").filter(|e| perl_true(e)) {
            for variable in split_nul_runs(env) {
                out.push_str(&format!("lxc.environment.runtime: {variable}\n"));
            }
        }
        for (key, value) in &self.lxc {
            if key != "lxc.environment.runtime" {
                out.push_str(&format!("{key}: {value}\n"));
            }
        }
    }
}

/// A whole container config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFile {
    pub current: Section,
    /// `[pve:pending]`: changes waiting for the next start; `delete` lists keys to remove.
    pub pending: Section,
    /// `[name]` sections, by name.
    pub snapshots: BTreeMap<String, Section>,
}

/// Which section lines go to while parsing.
enum Target {
    Current,
    Pending,
    Snapshot(String),
}

impl ConfigFile {
    /// `parse_pct_config($filename, $raw)` (non-strict). Never fails: what Perl would warn about
    /// is left out (see the module documentation).
    pub fn parse(raw: &str) -> Self {
        let mut file = ConfigFile::default();
        let mut target = Target::Current;
        let mut description = String::new();
        for line in raw.split('\n') {
            if line.chars().all(is_perl_space) {
                continue;
            }
            if is_pending_header(line) {
                file.flush_description(&target, &mut description);
                target = Target::Pending;
                file.pending = Section::default();
                continue;
            }
            if let Some(name) = snapshot_header(line) {
                file.flush_description(&target, &mut description);
                file.snapshots.insert(name.to_owned(), Section::default());
                target = Target::Snapshot(name.to_owned());
                continue;
            }
            let in_pending = matches!(target, Target::Pending);
            let section = file.section_mut(&target);
            if let Some(text) = line.strip_prefix('#') {
                description.push_str(&decode_text(text));
                description.push('\n');
            } else if let Some((key, value)) = lxc_entry(line) {
                if key == "lxc.environment.runtime" {
                    match section.options.get_mut("env") {
                        Some(env) => {
                            env.push('\0');
                            env.push_str(value);
                        }
                        None => section.set("env", value),
                    }
                } else if is_valid_lxc_conf_key(key) {
                    section.lxc.push((key.to_owned(), value.to_owned()));
                }
            } else if let Some(text) = described(line) {
                description.push_str(&decode_text(text));
            } else if let Some(state) = snapstate(line) {
                section.set("snapstate", state);
            } else if let Some(keys) = line.strip_prefix("delete:").and_then(trimmed_non_blank) {
                if in_pending {
                    section.set("delete", keys);
                }
            } else if let Some((key, value)) = option_line(line) {
                let value = check_type(key, value);
                if key == "description" {
                    // `$conf->{description}`: the accumulated `#` lines still win at the end.
                    section.description = Some(value);
                } else {
                    section.set(key, value);
                }
            }
        }
        file.flush_description(&target, &mut description);
        file.current.remove("snapstate");
        file
    }

    /// `write_pct_config($filename, $conf)`: the file's text.
    pub fn write(&self) -> String {
        let mut out = String::new();
        self.current.write(&mut out, true);
        if !self.pending.is_empty() {
            out.push_str("\n[pve:pending]\n");
            self.pending.write(&mut out, false);
        }
        for (name, snapshot) in &self.snapshots {
            out.push_str(&format!("\n[{name}]\n"));
            snapshot.write(&mut out, false);
        }
        out
    }

    fn section_mut(&mut self, target: &Target) -> &mut Section {
        match target {
            Target::Current => &mut self.current,
            Target::Pending => &mut self.pending,
            Target::Snapshot(name) => self.snapshots.entry(name.clone()).or_default(),
        }
    }

    /// `$conf->{description} = $descr if $descr; $descr = '';`
    fn flush_description(&mut self, target: &Target, description: &mut String) {
        let text = std::mem::take(description);
        if perl_true(&text) {
            self.section_mut(target).description = Some(text);
        }
    }
}

/// `^\[pve:pending\]\s*$` (case-insensitive).
fn is_pending_header(line: &str) -> bool {
    line.get(..13).is_some_and(|h| h.eq_ignore_ascii_case("[pve:pending]")) && line[13..].chars().all(is_perl_space)
}

/// `^\[([a-z][a-z0-9_\-]+)\]\s*$` (case-insensitive): the snapshot name.
fn snapshot_header(line: &str) -> Option<&str> {
    let (name, rest) = line.strip_prefix('[')?.split_once(']')?;
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (valid && rest.chars().all(is_perl_space)).then_some(name)
}

/// `^(lxc\.[a-z0-9_\-\.]+)(:|\s*=)\s*(.*?)\s*$`: key and trimmed (possibly empty) value.
fn lxc_entry(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("lxc.")?;
    let key_len = 4 + rest.find(|c: char| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '-' | '.')).unwrap_or(rest.len());
    if key_len == 4 {
        return None;
    }
    let (key, after) = line.split_at(key_len);
    let value = match after.strip_prefix(':') {
        Some(value) => value,
        None => after.trim_start_matches(is_perl_space).strip_prefix('=')?,
    };
    Some((key, value.trim_matches(is_perl_space)))
}

/// `PVE::LXC::Config::is_valid_lxc_conf_key` answering 1 (kept); keys it answers with an error
/// text or 0 are dropped.
fn is_valid_lxc_conf_key(key: &str) -> bool {
    if key.starts_with("lxc.limit.") || DEPRECATED_LXC_KEYS.contains(&key) {
        return true; // renamed, Perl warns but keeps them
    }
    if key == "lxc.rootfs.path" || key == "lxc.rootfs.options" {
        return false; // "auto generated from rootfs", "not supported"
    }
    VALID_LXC_KEYS.contains(&key)
        || ["lxc.cgroup.", "lxc.cgroup2.", "lxc.prlimit.", "lxc.net."].iter().any(|p| key.starts_with(p))
}

/// `$valid_lxc_conf_keys` entries whose value is 1.
const VALID_LXC_KEYS: &[&str] = &[
    "lxc.apparmor.profile",
    "lxc.apparmor.allow_incomplete",
    "lxc.apparmor.allow_nesting",
    "lxc.apparmor.raw",
    "lxc.selinux.context",
    "lxc.include",
    "lxc.arch",
    "lxc.uts.name",
    "lxc.signal.halt",
    "lxc.signal.reboot",
    "lxc.signal.stop",
    "lxc.init.cmd",
    "lxc.init.cwd",
    "lxc.init.uid",
    "lxc.init.gid",
    "lxc.init.groups",
    "lxc.pty.max",
    "lxc.console.logfile",
    "lxc.console.path",
    "lxc.tty.max",
    "lxc.devtty.dir",
    "lxc.hook.autodev",
    "lxc.autodev",
    "lxc.kmsg",
    "lxc.mount.fstab",
    "lxc.mount.entry",
    "lxc.mount.auto",
    "lxc.rootfs.mount",
    "lxc.cap.drop",
    "lxc.cap.keep",
    "lxc.seccomp.profile",
    "lxc.seccomp.notify.proxy",
    "lxc.seccomp.notify.cookie",
    "lxc.idmap",
    "lxc.hook.pre-start",
    "lxc.hook.pre-mount",
    "lxc.hook.mount",
    "lxc.hook.start",
    "lxc.hook.stop",
    "lxc.hook.post-stop",
    "lxc.hook.clone",
    "lxc.hook.destroy",
    "lxc.hook.version",
    "lxc.log.level",
    "lxc.log.file",
    "lxc.start.auto",
    "lxc.start.delay",
    "lxc.start.order",
    "lxc.group",
    "lxc.environment",
    "lxc.environment.runtime",
    "lxc.environment.hooks",
    "lxc.sysctl.fs.mqueue",
    "lxc.sysctl.kernel.msgmax",
    "lxc.sysctl.kernel.msgmnb",
    "lxc.sysctl.kernel.msgmni",
    "lxc.sysctl.kernel.sem",
    "lxc.sysctl.kernel.shmall",
    "lxc.sysctl.kernel.shmmax",
    "lxc.sysctl.kernel.shmmni",
    "lxc.sysctl.kernel.shm_rmid_forced",
];

/// `$deprecated_lxc_conf_keys` (names from before LXC 3.0).
const DEPRECATED_LXC_KEYS: &[&str] = &[
    "lxc.aa_profile",
    "lxc.aa_allow_incomplete",
    "lxc.console",
    "lxc.devttydir",
    "lxc.haltsignal",
    "lxc.rebootsignal",
    "lxc.stopsignal",
    "lxc.id_map",
    "lxc.init_cmd",
    "lxc.loglevel",
    "lxc.logfile",
    "lxc.mount",
    "lxc.network.type",
    "lxc.network.flags",
    "lxc.network.link",
    "lxc.network.mtu",
    "lxc.network.name",
    "lxc.network.hwaddr",
    "lxc.network.ipv4",
    "lxc.network.ipv4.gateway",
    "lxc.network.ipv6",
    "lxc.network.ipv6.gateway",
    "lxc.network.script.up",
    "lxc.network.script.down",
    "lxc.pts",
    "lxc.se_context",
    "lxc.seccomp",
    "lxc.tty",
    "lxc.utsname",
];

/// `^(description):\s*(.*\S)\s*$`: the trimmed, non-blank text.
fn described(line: &str) -> Option<&str> {
    line.strip_prefix("description:").and_then(trimmed_non_blank)
}

/// The text trimmed of Perl blanks, if anything is left (`\s*(.*\S)\s*$`).
fn trimmed_non_blank(text: &str) -> Option<&str> {
    Some(text.trim_matches(is_perl_space)).filter(|t| !t.is_empty())
}

/// `m/snapstate:\s*(prepare|delete)\s*$/` — not anchored at the start, as in Perl.
fn snapstate(line: &str) -> Option<&'static str> {
    line.match_indices("snapstate:").find_map(|(i, marker)| {
        let rest = line[i + marker.len()..].trim_start_matches(is_perl_space);
        ["prepare", "delete"]
            .into_iter()
            .find(|state| rest.strip_prefix(state).is_some_and(|tail| tail.chars().all(is_perl_space)))
    })
}

/// `^([a-z][a-z_]*\d*):\s*(.+?)\s*$`: the key and the trimmed value. A value of blanks only
/// still matches, leaving its last blank (the lazy `.+?` needs one character).
fn option_line(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once(':')?;
    let letters = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let mut chars = letters.chars();
    let key_ok =
        chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_lowercase() || c == '_');
    if !key_ok || rest.is_empty() {
        return None;
    }
    let value = match trimmed_non_blank(rest) {
        Some(value) => value,
        None => &rest[rest.len() - rest.chars().last().map_or(0, char::len_utf8)..],
    };
    Some((key, value))
}

/// The conversions of `PVE::LXC::Config::check_type` that change a value: `boolean` options
/// become `1`/`0`, `integer` options (`^\d+$`) lose leading zeros. Anything else — including a
/// value failing its check — is kept as written, as the non-strict parser keeps it (so is an
/// integer beyond 64 bits, which Perl would turn into a floating point number).
fn check_type(key: &str, value: &str) -> String {
    const BOOLEANS: &[&str] = &["onboot", "template", "console", "protection", "unprivileged", "debug"];
    const INTEGERS: &[&str] = &["tty", "cores", "cpuunits", "memory", "swap", "snaptime"];
    if BOOLEANS.contains(&key) {
        let lower = value.to_ascii_lowercase();
        if value == "1" || matches!(lower.as_str(), "on" | "yes" | "true") {
            return "1".to_owned();
        }
        if value == "0" || matches!(lower.as_str(), "off" | "no" | "false") {
            return "0".to_owned();
        }
    } else if INTEGERS.contains(&key) && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(number) = value.parse::<u64>() {
            return number.to_string();
        }
    }
    value.to_owned()
}

/// Volume ids of `rootfs` and `mp0`…`mp255` that are storage volumes (`get_vm_volumes`): the
/// mount point parses, its volume does not start with `/` (bind mounts, devices) and reads
/// `storage:name` (`PVE::Storage::parse_volume_id`).
fn used_volumes(section: &Section) -> Vec<String> {
    section
        .options
        .iter()
        .filter(|(key, _)| key.as_str() == "rootfs" || is_mount_point_key(key))
        .filter_map(|(_, value)| {
            let mount_point = PropertyString::parse(value, Some("volume")).ok()?;
            if mount_point.get("size").is_some_and(|size| parse_size(size).is_none()) {
                return None;
            }
            mount_point.get("volume").filter(|v| is_storage_volume(v)).map(str::to_owned)
        })
        .collect()
}

/// `mp0` … `mp255`, exactly as `valid_volume_keys` lists them (no leading zeros).
fn is_mount_point_key(key: &str) -> bool {
    let Some(index) = key.strip_prefix("mp") else { return false };
    let canonical =
        !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) && (index == "0" || !index.starts_with('0'));
    canonical && index.parse::<u16>().is_ok_and(|i| i < 256)
}

/// `^([a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$` (case-insensitive) and not a path.
fn is_storage_volume(volid: &str) -> bool {
    if volid.starts_with('/') || !perl_true(volid) {
        return false;
    }
    let Some((storage, name)) = volid.split_once(':') else { return false };
    let mut chars = storage.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let last_ok = storage.len() >= 2 && storage.ends_with(|c: char| c.is_ascii_alphanumeric());
    let middle_ok = storage.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    first_ok && last_ok && middle_ok && !name.is_empty()
}

/// Perl truthiness of a string: everything but `""` and `"0"`.
fn perl_true(value: &str) -> bool {
    !value.is_empty() && value != "0"
}

/// Perl's `split(/\n/, $text)`: trailing empty fields are dropped, leading and inner ones kept.
fn split_lines(text: &str) -> Vec<&str> {
    let mut fields: Vec<&str> = text.split('\n').collect();
    while fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    fields
}

/// Perl's `split(/\0+/, $text)`: a run of NULs is one separator, so only a leading empty field
/// can remain (trailing ones are dropped).
fn split_nul_runs(text: &str) -> Vec<&str> {
    let mut parts = text.split('\0');
    let mut fields: Vec<&str> = parts.next().into_iter().collect();
    fields.extend(parts.filter(|f| !f.is_empty()));
    while fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pve-container `src/test/snapshot-input/commit/lxc/102.conf`.
    const PERL_TEST_INPUT: &str = "arch: amd64
cpulimit: 1
cpuunits: 1024
hostname: test
lock: snapshot
memory: 2048
net0: bridge=vmbr0,hwaddr=12:34:56:78:90:12,ip=dhcp,ip6=dhcp,name=eth0,type=veth
ostype: redhat
parent: test
rootfs: somestore:somedisk
swap: 512

[test]
#test comment
arch: amd64
cpulimit: 1
cpuunits: 1024
hostname: test
memory: 2048
net0: bridge=vmbr0,hwaddr=12:34:56:78:90:12,ip=dhcp,ip6=dhcp,name=eth0,type=veth
ostype: redhat
rootfs: somestore:somedisk
snaptime: 1234567890
swap: 512

[test2]
#test comment
arch: amd64
cpulimit: 1
cpuunits: 1024
hostname: test
memory: 2048
net0: bridge=vmbr0,hwaddr=12:34:56:78:90:12,ip=dhcp,ip6=dhcp,name=eth0,type=veth
ostype: redhat
parent: test
rootfs: somestore:somedisk
snapstate: prepare
snaptime: 1234567890
swap: 512
";

    #[test]
    fn a_config_from_the_pve_container_tests_round_trips_byte_for_byte() {
        let file = ConfigFile::parse(PERL_TEST_INPUT);
        assert_eq!(file.current.get("parent"), Some("test"));
        assert_eq!(file.snapshots.len(), 2);
        assert_eq!(file.snapshots["test"].description.as_deref(), Some("test comment\n"));
        assert_eq!(file.snapshots["test2"].get("snapstate"), Some("prepare"));
        assert_eq!(file.write(), PERL_TEST_INPUT);
    }

    #[test]
    fn keys_are_written_sorted_with_the_description_first_and_lxc_entries_last() {
        let mut file = ConfigFile::default();
        file.current.set("swap", "512");
        file.current.set("arch", "amd64");
        file.current.set("parent", "snap1");
        file.current.lxc.push(("lxc.mount.entry".into(), "/a b none bind 0 0".into()));
        file.current.lxc.push(("lxc.apparmor.profile".into(), "unconfined".into()));
        file.current.description = Some("web: frontend\n\nsecond 100%".into());
        assert_eq!(
            file.write(),
            "#web%3A frontend\n#\n#second 100%25\narch: amd64\nparent: snap1\nswap: 512\n\
             lxc.mount.entry: /a b none bind 0 0\nlxc.apparmor.profile: unconfined\n"
        );
    }

    #[test]
    fn pending_is_written_only_when_it_has_something_and_before_the_snapshots() {
        let mut file = ConfigFile::default();
        file.current.set("memory", "512");
        assert_eq!(file.write(), "memory: 512\n");
        file.pending.set("memory", "1024");
        file.pending.set("delete", "swap,!mp0");
        file.snapshots.insert("beta".into(), Section::default());
        file.snapshots.insert(
            "alpha".into(),
            Section { options: [("snaptime".into(), "1".into())].into(), ..Default::default() },
        );
        assert_eq!(
            file.write(),
            "memory: 512\n\n[pve:pending]\ndelete: swap,!mp0\nmemory: 1024\n\n[alpha]\nsnaptime: 1\n\n[beta]\n"
        );
        let parsed = ConfigFile::parse(&file.write());
        assert_eq!(parsed, file);
    }

    #[test]
    fn description_lines_are_decoded_and_collected_wherever_they_appear_in_a_section() {
        let file = ConfigFile::parse("#line%3A one\narch: amd64\n#two %25 %zz\ndescription: three%0A\n#four\n");
        assert_eq!(file.current.description.as_deref(), Some("line: one\ntwo % %zz\nthree\nfour\n"));
    }

    #[test]
    fn a_description_of_zero_is_false_for_perl_and_disappears() {
        let file = ConfigFile::parse("description: 0\narch: amd64\n");
        assert_eq!(file.current.description, None);
        let mut file = ConfigFile::default();
        file.current.description = Some("0".into());
        assert_eq!(file.write(), "");
    }

    #[test]
    fn lxc_entries_take_colon_or_equals_and_keep_their_order() {
        let file = ConfigFile::parse(
            "lxc.cgroup2.devices.allow: c 10:200 rwm\nlxc.mount.entry = /dev/net dev/net none bind,create=dir\n\
             lxc.apparmor.profile:unconfined\n",
        );
        assert_eq!(
            file.current.lxc,
            [
                ("lxc.cgroup2.devices.allow".to_owned(), "c 10:200 rwm".to_owned()),
                ("lxc.mount.entry".to_owned(), "/dev/net dev/net none bind,create=dir".to_owned()),
                ("lxc.apparmor.profile".to_owned(), "unconfined".to_owned()),
            ]
        );
    }

    #[test]
    fn lxc_keys_pve_container_refuses_are_dropped_and_renamed_ones_kept() {
        let file = ConfigFile::parse(
            "lxc.rootfs.path: /x\nlxc.rootfs.options: ro\nlxc.bogus.key: 1\nlxc.aa_profile: unconfined\n\
             lxc.prlimit.nofile: 1024\nlxc.net.0.type: veth\n",
        );
        let keys: Vec<&str> = file.current.lxc.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["lxc.aa_profile", "lxc.prlimit.nofile", "lxc.net.0.type"]);
    }

    #[test]
    fn runtime_environment_lines_become_the_env_option_and_are_written_before_other_lxc_lines() {
        let raw =
            "arch: amd64\nlxc.idmap: u 0 100000 65536\nlxc.environment.runtime: A=1\nlxc.environment.runtime: B=2\n";
        let file = ConfigFile::parse(raw);
        assert_eq!(file.current.get("env"), Some("A=1\0B=2"));
        assert_eq!(file.current.lxc.len(), 1);
        assert_eq!(
            file.write(),
            "arch: amd64\nlxc.environment.runtime: A=1\nlxc.environment.runtime: B=2\nlxc.idmap: u 0 100000 65536\n"
        );
    }

    #[test]
    fn booleans_and_integers_are_normalised_as_check_type_returns_them() {
        let file =
            ConfigFile::parse("onboot: yes\nprotection: OFF\nmemory: 0512\ntty: two\ncpulimit: 01.5\nhostname: Web\n");
        assert_eq!(file.current.get("onboot"), Some("1"));
        assert_eq!(file.current.get("protection"), Some("0"));
        assert_eq!(file.current.get("memory"), Some("512"));
        assert_eq!(file.current.get("tty"), Some("two"), "a failed check only warns");
        assert_eq!(file.current.get("cpulimit"), Some("01.5"));
        assert_eq!(file.current.get("hostname"), Some("Web"));
    }

    #[test]
    fn values_are_trimmed_and_unknown_keys_kept() {
        let file = ConfigFile::parse("hostname:   web  \r\nfrobnicate: 1\nmp0:local:vol,mp=/x\n");
        assert_eq!(file.current.get("hostname"), Some("web"));
        assert_eq!(file.current.get("frobnicate"), Some("1"));
        assert_eq!(file.current.get("mp0"), Some("local:vol,mp=/x"));
    }

    #[test]
    fn lines_perl_cannot_parse_are_dropped() {
        let file = ConfigFile::parse("Arch: amd64\nmp0a: x\nmemory:\nnot a line\n[1snap]\ndelete: swap\nswap: 512\n");
        assert_eq!(file.current.options.keys().collect::<Vec<_>>(), ["swap"]);
    }

    #[test]
    fn delete_is_only_kept_in_the_pending_section() {
        let file = ConfigFile::parse("memory: 512\ndelete: swap\n[PVE:PENDING]\ndelete: swap,mp0\n");
        assert_eq!(file.current.get("delete"), None);
        assert_eq!(file.pending.get("delete"), Some("swap,mp0"));
    }

    #[test]
    fn snapstate_is_kept_in_snapshots_but_not_in_the_current_config() {
        let file = ConfigFile::parse("snapstate: delete\nmemory: 512\n[s1]\nsnapstate: prepare\n");
        assert_eq!(file.current.get("snapstate"), None);
        assert_eq!(file.snapshots["s1"].get("snapstate"), Some("prepare"));
        let mut file = file;
        file.current.set("snapstate", "prepare");
        assert_eq!(file.write(), "memory: 512\n\n[s1]\nsnapstate: prepare\n");
    }

    #[test]
    fn a_one_letter_section_name_is_no_snapshot_header_for_perl() {
        let file = ConfigFile::parse("memory: 512\n[a]\nswap: 256\n");
        assert!(file.snapshots.is_empty());
        assert_eq!(file.current.get("swap"), Some("256"));
    }

    #[test]
    fn a_repeated_section_starts_over() {
        let file = ConfigFile::parse("[s1]\nmemory: 1\n[s1]\nswap: 2\n");
        assert_eq!(file.snapshots["s1"].options.keys().collect::<Vec<_>>(), ["swap"]);
    }

    #[test]
    fn an_unused_volume_still_mounted_is_dropped_on_write() {
        let mut file = ConfigFile::default();
        file.current.set("rootfs", "local-lvm:vm-100-disk-0,size=8G");
        file.current.set("mp0", "volume=local:100/vm-100-disk-1.raw,mp=/data");
        file.current.set("mp1", "/srv/host,mp=/host");
        file.current.set("unused0", "local-lvm:vm-100-disk-0");
        file.current.set("unused1", "local:100/vm-100-disk-1.raw");
        file.current.set("unused2", "local-lvm:vm-100-disk-2");
        file.current.set("unused3", "/srv/host");
        assert_eq!(
            file.write(),
            "mp0: volume=local:100/vm-100-disk-1.raw,mp=/data\nmp1: /srv/host,mp=/host\n\
             rootfs: local-lvm:vm-100-disk-0,size=8G\nunused2: local-lvm:vm-100-disk-2\nunused3: /srv/host\n"
        );
    }

    #[test]
    fn perl_split_drops_trailing_empty_fields_and_nul_runs_split_once() {
        assert_eq!(split_lines("a\n\nb\n\n"), ["a", "", "b"]);
        assert_eq!(split_lines("\nb"), ["", "b"]);
        assert_eq!(split_nul_runs("a\0\0b\0"), ["a", "b"]);
        assert_eq!(split_nul_runs("\0\0b"), ["", "b"]);
        assert_eq!(split_nul_runs("\0"), Vec::<&str>::new());
    }

    #[test]
    fn only_canonical_mount_point_keys_count_as_volumes() {
        assert!(is_mount_point_key("mp0") && is_mount_point_key("mp255"));
        assert!(!is_mount_point_key("mp256") && !is_mount_point_key("mp01") && !is_mount_point_key("mp+1"));
    }

    #[test]
    fn the_config_text_shown_by_pct_config_keeps_the_trailing_newline_of_comment_descriptions() {
        let file = ConfigFile::parse("#web: frontend\narch: amd64\n");
        assert_eq!(file.current.description.as_deref(), Some("web: frontend\n"));
        assert_eq!(file.write(), "#web%3A frontend\narch: amd64\n");
    }
}
