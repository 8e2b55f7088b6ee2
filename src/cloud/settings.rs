//! LWS configuration: the `config.yaml` the LWS tool uses (read unchanged), inline settings from
//! the provider block merged over it, and validation whose every problem names the key at fault.
//!
//! ```yaml
//! regions:
//!   eu-south-1:
//!     availability_zones:
//!       az1: { host: 10.0.0.11, user: root, ssh_password: "..." }
//! instance_sizes:
//!   small: { memory: 512, cpulimit: 1, storage: "local-lvm:8" }
//! default_storage: local-lvm      # honoured: default_storage, default_network, start_vmid,
//! use_local_only: false           #   default_onboot, ssh_command_timeout; anything else is
//! ```                             #   accepted and ignored (logged at debug level).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_norway::Value;

use crate::ssh::host_key::is_fingerprint;
use crate::ssh::Secret;

/// One step of the path to a setting, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
}

/// A configuration problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path of the provider attribute at fault (`config_file` for problems inside the file).
    pub attribute: Vec<Step>,
    pub message: String,
}

fn attr(name: &str) -> Step {
    Step::Attr(name.to_owned())
}

fn key(name: &str) -> Step {
    Step::Key(name.to_owned())
}

/// Where a host's settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    #[default]
    File,
    Inline,
}

/// One availability zone's host, as written (nothing validated yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostSettings {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub ssh_password: Option<Secret>,
    pub ssh_key_file: Option<String>,
    pub ssh_private_key: Option<Secret>,
    pub ssh_key_passphrase: Option<Secret>,
    pub agent: Option<bool>,
    pub host_key: Option<String>,
    pub node: Option<String>,
    pub sudo: Option<bool>,
    /// `[user@]host[:port]` bastions, comma separated, outermost first.
    pub jump: Option<String>,
    pub origin: Origin,
}

impl HostSettings {
    fn has_credentials(&self) -> bool {
        self.ssh_password.is_some() || self.ssh_key_file.is_some() || self.ssh_private_key.is_some()
    }

    /// `over`'s fields replace ours; if `over` names any credential, ours are all dropped, so a
    /// password from the file and a key given inline never count as two methods.
    fn merged_with(mut self, over: HostSettings) -> HostSettings {
        if over.has_credentials() {
            self.ssh_password = None;
            self.ssh_key_file = None;
            self.ssh_private_key = None;
            self.ssh_key_passphrase = None;
        }
        macro_rules! take {
            ($($field:ident),*) => { $( if over.$field.is_some() { self.$field = over.$field; } )* };
        }
        take!(
            host,
            port,
            user,
            ssh_password,
            ssh_key_file,
            ssh_private_key,
            ssh_key_passphrase,
            agent,
            host_key,
            node,
            sudo,
            jump
        );
        self.origin = Origin::Inline;
        self
    }
}

/// One instance size, as written (checked against Proxmox's ranges by [`validate`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SizeSettings {
    pub memory: Option<i64>,
    pub cores: Option<i64>,
    pub cpulimit: Option<f64>,
    pub swap: Option<i64>,
    /// `STORAGE:GiB`, e.g. `local-lvm:8`.
    pub storage: Option<String>,
    pub origin: Origin,
}

/// Everything an LWS config can say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub regions: BTreeMap<String, BTreeMap<String, HostSettings>>,
    pub sizes: BTreeMap<String, SizeSettings>,
    pub default_storage: Option<String>,
    pub default_network: Option<String>,
    pub start_vmid: Option<u32>,
    pub default_onboot: Option<bool>,
    /// Seconds; 0 means no timeout.
    pub ssh_command_timeout: Option<u64>,
    /// Keys accepted but not used, for the debug log.
    pub ignored_keys: Vec<String>,
}

/// Keys of LWS files that the provider accepts without using.
const IGNORED_TOP_LEVEL: &[&str] = &["use_local_only", "api_key", "api", "scaling", "security"];

/// Read an LWS `config.yaml`.
pub fn parse_file(path: &Path) -> Result<Settings, Vec<Problem>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Problem {
            attribute: vec![attr("config_file")],
            message: format!("cannot read {shown}: {e} (set config_file, or LWS_CONFIG_FILE, to an LWS config.yaml)"),
        }]
    })?;
    parse_yaml(&text).map_err(|problems| {
        problems
            .into_iter()
            .map(|message| Problem { attribute: vec![attr("config_file")], message: format!("{shown}: {message}") })
            .collect()
    })
}

/// Parse LWS YAML text; problems are `key.path: message` strings.
pub fn parse_yaml(text: &str) -> Result<Settings, Vec<String>> {
    let doc: Value = serde_norway::from_str(text).map_err(|e| vec![format!("invalid YAML: {e}")])?;
    let mut problems = Vec::new();
    let mut settings = Settings::default();
    let root = match &doc {
        Value::Mapping(m) => m,
        Value::Null => return Ok(settings),
        _ => return Err(vec!["the file must be a mapping with `regions` and `instance_sizes`".to_owned()]),
    };
    for (k, v) in root {
        let name = key_text(k);
        match name.as_str() {
            "regions" => read_regions(v, &mut settings, &mut problems),
            "instance_sizes" => read_sizes(v, &mut settings, &mut problems),
            "default_storage" => settings.default_storage = string(v, "default_storage", &mut problems),
            "default_network" => settings.default_network = string(v, "default_network", &mut problems),
            "start_vmid" => {
                settings.start_vmid = integer(v, "start_vmid", &mut problems).and_then(|n| {
                    let ok = (100..=999_999_999).contains(&n);
                    if !ok {
                        problems.push(format!("start_vmid: {n} is not a VMID (100 to 999999999)"));
                    }
                    ok.then_some(n as u32)
                })
            }
            "default_onboot" => settings.default_onboot = boolean(v, "default_onboot", &mut problems),
            "ssh_command_timeout" => {
                settings.ssh_command_timeout = integer(v, "ssh_command_timeout", &mut problems).map(|n| n.max(0) as u64)
            }
            other => {
                if !IGNORED_TOP_LEVEL.contains(&other) {
                    tracing::debug!(key = other, "LWS config: unknown top-level key ignored");
                }
                settings.ignored_keys.push(other.to_owned());
            }
        }
    }
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(problems)
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "?".to_owned(),
    }
}

/// Strings, and the numbers and booleans YAML turns unquoted words into (`ssh_password: 1234`).
fn string(v: &Value, at: &str, problems: &mut Vec<String>) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => None,
        _ => {
            problems.push(format!("{at}: expected a string"));
            None
        }
    }
}

fn integer(v: &Value, at: &str, problems: &mut Vec<String>) -> Option<i64> {
    match v {
        Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
        Value::String(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
        Value::Null => None,
        other => {
            problems.push(format!("{at}: expected a whole number, got {}", show(other)));
            None
        }
    }
}

fn number(v: &Value, at: &str, problems: &mut Vec<String>) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().parse::<f64>().is_ok() => s.trim().parse().ok(),
        Value::Null => None,
        other => {
            problems.push(format!("{at}: expected a number, got {}", show(other)));
            None
        }
    }
}

fn boolean(v: &Value, at: &str, problems: &mut Vec<String>) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Some(n.as_i64() == Some(1)),
        Value::String(s) => match s.to_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" => Some(false),
            _ => {
                problems.push(format!("{at}: expected true or false, got '{s}'"));
                None
            }
        },
        Value::Null => None,
        other => {
            problems.push(format!("{at}: expected true or false, got {}", show(other)));
            None
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Sequence(_) => "a list".to_owned(),
        other => serde_norway::to_string(other).unwrap_or_default().trim().to_owned(),
    }
}

fn read_regions(v: &Value, settings: &mut Settings, problems: &mut Vec<String>) {
    let Some(regions) = v.as_mapping() else {
        if !v.is_null() {
            problems.push("regions: expected a mapping of region names".to_owned());
        }
        return;
    };
    for (rk, rv) in regions {
        let region = key_text(rk);
        let at = format!("regions.{region}");
        let Some(fields) = rv.as_mapping() else {
            problems.push(format!("{at}: expected a mapping with `availability_zones`"));
            continue;
        };
        let mut zones = BTreeMap::new();
        for (fk, fv) in fields {
            let field = key_text(fk);
            if field != "availability_zones" {
                tracing::debug!(key = %format!("{at}.{field}"), "LWS config: unknown key ignored");
                continue;
            }
            let Some(azs) = fv.as_mapping() else {
                problems.push(format!("{at}.availability_zones: expected a mapping of zone names"));
                continue;
            };
            for (zk, zv) in azs {
                let az = key_text(zk);
                let at = format!("{at}.availability_zones.{az}");
                zones.insert(az, read_host(zv, &at, problems));
            }
        }
        if zones.is_empty() {
            problems.push(format!("{at}: no availability_zones"));
        }
        settings.regions.insert(region, zones);
    }
}

fn read_host(v: &Value, at: &str, problems: &mut Vec<String>) -> HostSettings {
    let mut host = HostSettings::default();
    let Some(fields) = v.as_mapping() else {
        problems.push(format!("{at}: expected a mapping with at least `host`"));
        return host;
    };
    for (k, value) in fields {
        let name = key_text(k);
        let here = format!("{at}.{name}");
        match name.as_str() {
            "host" => host.host = string(value, &here, problems),
            "port" => {
                host.port = integer(value, &here, problems).and_then(|p| {
                    let ok = (1..=65535).contains(&p);
                    if !ok {
                        problems.push(format!("{here}: {p} is not a port number (1 to 65535)"));
                    }
                    ok.then_some(p as u16)
                })
            }
            "user" => host.user = string(value, &here, problems),
            "ssh_password" => host.ssh_password = string(value, &here, problems).map(Secret::new),
            "ssh_key_file" => host.ssh_key_file = string(value, &here, problems),
            "ssh_private_key" => host.ssh_private_key = string(value, &here, problems).map(Secret::new),
            "ssh_key_passphrase" => host.ssh_key_passphrase = string(value, &here, problems).map(Secret::new),
            "agent" => host.agent = boolean(value, &here, problems),
            "host_key" => host.host_key = string(value, &here, problems),
            "node" => host.node = string(value, &here, problems),
            "sudo" => host.sudo = boolean(value, &here, problems),
            "jump" => host.jump = string(value, &here, problems),
            other => tracing::debug!(key = %format!("{at}.{other}"), "LWS config: unknown host key ignored"),
        }
    }
    host
}

fn read_sizes(v: &Value, settings: &mut Settings, problems: &mut Vec<String>) {
    let Some(sizes) = v.as_mapping() else {
        if !v.is_null() {
            problems.push("instance_sizes: expected a mapping of size names".to_owned());
        }
        return;
    };
    for (sk, sv) in sizes {
        let name = key_text(sk);
        let at = format!("instance_sizes.{name}");
        let Some(fields) = sv.as_mapping() else {
            problems.push(format!(
                "{at}: expected a mapping like {{ memory: 512, cpulimit: 1, storage: \"local-lvm:8\" }}"
            ));
            continue;
        };
        let mut size = SizeSettings::default();
        for (k, value) in fields {
            let field = key_text(k);
            let here = format!("{at}.{field}");
            match field.as_str() {
                "memory" => size.memory = integer(value, &here, problems),
                "cores" => size.cores = integer(value, &here, problems),
                "cpulimit" => size.cpulimit = number(value, &here, problems),
                "swap" => size.swap = integer(value, &here, problems),
                "storage" => size.storage = string(value, &here, problems),
                other => tracing::debug!(key = %format!("{at}.{other}"), "LWS config: unknown size key ignored"),
            }
        }
        settings.sizes.insert(name, size);
    }
}

/// `inline` merged over `file`: hosts and sizes field by field (see [`HostSettings::merged_with`]).
pub fn merge(file: Settings, inline: Settings) -> Settings {
    let mut merged = file;
    for (region, zones) in inline.regions {
        let target = merged.regions.entry(region).or_default();
        for (az, host) in zones {
            let base = target.remove(&az).unwrap_or_default();
            target.insert(az, base.merged_with(host));
        }
    }
    for (name, size) in inline.sizes {
        let base = merged.sizes.remove(&name).unwrap_or_default();
        merged.sizes.insert(
            name,
            SizeSettings {
                memory: size.memory.or(base.memory),
                cores: size.cores.or(base.cores),
                cpulimit: size.cpulimit.or(base.cpulimit),
                swap: size.swap.or(base.swap),
                storage: size.storage.or(base.storage),
                origin: Origin::Inline,
            },
        );
    }
    merged
}

/// The provider's `ssh` block, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SshDefaults {
    pub connect_timeout: Duration,
    pub command_timeout: Option<Duration>,
    pub retries: u32,
    pub known_hosts_file: PathBuf,
    pub strict_host_key_checking: bool,
    pub max_sessions_per_host: usize,
    pub agent: bool,
    /// Provider-wide credentials for zones that name none (CI variables, see [`SshOverrides`]).
    pub default_private_key: Option<Secret>,
    pub default_password: Option<Secret>,
    /// The OpenSSH client configuration to read (`None`: none).
    pub config_file: Option<PathBuf>,
    /// Bastions for every zone that names none (`ssh.jump`).
    pub jump: Option<String>,
    /// Whether the provider block set these itself (then ssh_config does not override them).
    pub known_hosts_explicit: bool,
    pub strict_explicit: bool,
    pub connect_timeout_explicit: bool,
}

impl Default for SshDefaults {
    fn default() -> Self {
        SshDefaults {
            connect_timeout: Duration::from_secs(15),
            command_timeout: Some(Duration::from_secs(60)),
            retries: 2,
            known_hosts_file: expand_home("~/.ssh/known_hosts"),
            strict_host_key_checking: true,
            max_sessions_per_host: 8,
            agent: true,
            default_private_key: None,
            default_password: None,
            config_file: Some(expand_home("~/.ssh/config")).filter(|p| p.exists()),
            jump: None,
            known_hosts_explicit: false,
            strict_explicit: false,
            connect_timeout_explicit: false,
        }
    }
}

/// What the provider's `ssh` block set (unset fields take defaults, or the LWS file's
/// `ssh_command_timeout` for the command timeout).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SshOverrides {
    pub connect_timeout: Option<Duration>,
    /// `Some(None)`: explicitly no timeout.
    pub command_timeout: Option<Option<Duration>>,
    pub retries: Option<u32>,
    pub known_hosts_file: Option<PathBuf>,
    pub strict_host_key_checking: Option<bool>,
    pub max_sessions_per_host: Option<usize>,
    pub agent: Option<bool>,
    /// `LWS_SSH_PRIVATE_KEY`, `LWS_SSH_PASSWORD`: what CI pipelines hold in masked variables.
    pub default_private_key: Option<Secret>,
    pub default_password: Option<Secret>,
    /// `ssh.config_file`: `Some(None)` turns ssh_config off (`""`).
    pub config_file: Option<Option<PathBuf>>,
    pub jump: Option<String>,
}

impl SshOverrides {
    fn resolve(self, file_command_timeout: Option<u64>) -> SshDefaults {
        let defaults = SshDefaults::default();
        let (known_hosts_explicit, strict_explicit, connect_timeout_explicit) =
            (self.known_hosts_file.is_some(), self.strict_host_key_checking.is_some(), self.connect_timeout.is_some());
        let from_file = file_command_timeout.map(|secs| (secs > 0).then(|| Duration::from_secs(secs)));
        SshDefaults {
            connect_timeout: self.connect_timeout.unwrap_or(defaults.connect_timeout),
            command_timeout: self.command_timeout.or(from_file).unwrap_or(defaults.command_timeout),
            retries: self.retries.unwrap_or(defaults.retries),
            known_hosts_file: self.known_hosts_file.unwrap_or(defaults.known_hosts_file),
            strict_host_key_checking: self.strict_host_key_checking.unwrap_or(defaults.strict_host_key_checking),
            max_sessions_per_host: self.max_sessions_per_host.unwrap_or(defaults.max_sessions_per_host),
            agent: self.agent.unwrap_or(defaults.agent),
            default_private_key: self.default_private_key,
            default_password: self.default_password,
            config_file: self.config_file.unwrap_or(defaults.config_file),
            jump: self.jump,
            known_hosts_explicit,
            strict_explicit,
            connect_timeout_explicit,
        }
    }
}

/// `~/x` → `$HOME/x`.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// `15s`, `1m`, `500ms`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// A host ready to connect to.
#[derive(Debug, Clone)]
pub struct HostSpec {
    pub region: String,
    pub az: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub credentials: crate::ssh::Credentials,
    pub host_key: crate::ssh::HostKeyPolicy,
    pub node: Option<String>,
    pub sudo: bool,
    /// Bastions in front of the host, outermost first.
    pub via: Vec<JumpSpec>,
    /// ssh_config's `ConnectTimeout` for this host, when the provider block sets none.
    pub connect_timeout: Option<Duration>,
}

/// One bastion on the way to a host.
#[derive(Debug, Clone)]
pub struct JumpSpec {
    pub address: String,
    pub port: u16,
    pub user: String,
    pub credentials: crate::ssh::Credentials,
    pub host_key: crate::ssh::HostKeyPolicy,
}

/// An instance size ready to use.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceSize {
    pub memory: Option<u64>,
    pub cores: Option<u32>,
    pub cpulimit: Option<f64>,
    pub swap: Option<u64>,
    pub storage: Option<String>,
    pub disk_gib: Option<u64>,
}

/// Validated configuration: what `Cloud` is built from.
#[derive(Debug, Clone)]
pub struct CloudSpec {
    pub hosts: Vec<HostSpec>,
    pub sizes: BTreeMap<String, InstanceSize>,
    pub default_region: Option<String>,
    pub default_storage: Option<String>,
    pub default_network: Option<String>,
    pub start_vmid: Option<u32>,
    pub default_onboot: Option<bool>,
    pub ssh: SshDefaults,
}

/// Fields whose configuration line may hold a secret.
const SECRET_FIELDS: &[&str] = &["ssh_password", "ssh_private_key", "ssh_key_passphrase"];

fn host_path(region: &str, az: &str, origin: Origin, field: &str) -> Vec<Step> {
    match origin {
        // Terraform quotes the source line a diagnostic points at; for a credential that line
        // may hold the secret itself, so such problems point at the provider block instead.
        Origin::Inline if SECRET_FIELDS.contains(&field) => vec![],
        Origin::Inline => vec![attr("regions"), key(region), attr("availability_zones"), key(az), attr(field)],
        Origin::File => vec![attr("config_file")],
    }
}

/// Terraform cannot point inside an object written in the provider block, so every message
/// names its key in full, for inline settings as for the file.
fn where_(region: &str, az: &str, field: &str) -> String {
    format!("regions.{region}.availability_zones.{az}.{field}: ")
}

/// Validate merged settings. Every problem is reported, each naming its key.
/// `[user@]host[:port]` (ssh's `-J` form; an IPv6 address in brackets).
fn parse_hop(hop: &str) -> Option<(Option<String>, String, Option<u16>)> {
    let (user, rest) = match hop.rsplit_once('@') {
        Some((u, r)) if !u.is_empty() => (Some(u.to_owned()), r),
        Some(_) => return None,
        None => (None, hop),
    };
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (rest, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    (!host.is_empty() && !host.contains(char::is_whitespace)).then(|| (user, host.to_owned(), port))
}

pub fn validate(
    settings: Settings,
    default_region: Option<String>,
    ssh: SshOverrides,
) -> Result<CloudSpec, Vec<Problem>> {
    let ssh = ssh.resolve(settings.ssh_command_timeout);
    let mut problems = Vec::new();
    if settings.regions.is_empty() {
        problems.push(Problem {
            attribute: vec![attr("config_file")],
            message: "no regions configured: set config_file (or LWS_CONFIG_FILE) to an LWS config.yaml, or give regions inline".to_owned(),
        });
    }
    let ssh_config = match &ssh.config_file {
        None => None,
        Some(path) => match crate::ssh::config_file::SshConfig::load(path) {
            Ok(config) => Some(config),
            Err(e) => {
                problems.push(Problem {
                    attribute: vec![attr("ssh"), attr("config_file")],
                    message: format!("{e} (set ssh.config_file = \"\" to read no ssh_config)"),
                });
                None
            }
        },
    };
    let options_for = |alias: &str| ssh_config.as_ref().map(|c| c.options_for(alias)).unwrap_or_default();
    let host_key_policy = |options: &crate::ssh::config_file::HostOptions| {
        let strict = if ssh.strict_explicit {
            ssh.strict_host_key_checking
        } else {
            options.strict_host_key_checking.unwrap_or(ssh.strict_host_key_checking)
        };
        let known = match (&options.user_known_hosts_file, ssh.known_hosts_explicit) {
            (Some(file), false) => file.clone(),
            _ => ssh.known_hosts_file.clone(),
        };
        if strict {
            crate::ssh::HostKeyPolicy::KnownHosts(known)
        } else {
            crate::ssh::HostKeyPolicy::AcceptAny
        }
    };
    let identity_file = |options: &crate::ssh::config_file::HostOptions, passphrase: &Option<Secret>| {
        options
            .identity_files
            .iter()
            .find(|f| f.exists())
            .map(|path| crate::ssh::Credentials::KeyFile { path: path.clone(), passphrase: passphrase.clone() })
    };
    let mut hosts = Vec::new();
    for (region, zones) in &settings.regions {
        for (az, h) in zones {
            let mut problem = |field: &str, message: String| {
                problems.push(Problem {
                    attribute: host_path(region, az, h.origin, field),
                    message: format!("{}{message}", where_(region, az, field)),
                })
            };
            let alias = match h.host.as_deref().map(str::trim) {
                Some(a) if !a.is_empty() => a.to_owned(),
                _ => {
                    problem("host", format!("availability zone {region}/{az} has no host: set `host` to its address"));
                    continue;
                }
            };
            // `host` may be a `Host` alias of ssh_config; what the LWS file or the provider block
            // says wins over it.
            let options = options_for(&alias);
            let address = options.hostname.clone().unwrap_or(alias);
            let methods: Vec<&str> = [
                ("ssh_password", h.ssh_password.is_some()),
                ("ssh_key_file", h.ssh_key_file.is_some()),
                ("ssh_private_key", h.ssh_private_key.is_some()),
            ]
            .iter()
            .filter(|(_, set)| *set)
            .map(|(name, _)| *name)
            .collect();
            if methods.len() > 1 {
                problem(
                    methods[1],
                    format!(
                        "{} and {} are both set for {region}/{az}; keep one authentication method",
                        methods[0], methods[1]
                    ),
                );
                continue;
            }
            let agent = h.agent.unwrap_or(ssh.agent) && options.identities_only != Some(true);
            let credentials = if let Some(password) = &h.ssh_password {
                crate::ssh::Credentials::Password(password.clone())
            } else if let Some(file) = &h.ssh_key_file {
                crate::ssh::Credentials::KeyFile { path: expand_home(file), passphrase: h.ssh_key_passphrase.clone() }
            } else if let Some(pem) = &h.ssh_private_key {
                crate::ssh::Credentials::PrivateKey { pem: pem.clone(), passphrase: h.ssh_key_passphrase.clone() }
            } else if let Some(file) = identity_file(&options, &h.ssh_key_passphrase) {
                file
            } else if let Some(pem) = &ssh.default_private_key {
                crate::ssh::Credentials::PrivateKey { pem: pem.clone(), passphrase: h.ssh_key_passphrase.clone() }
            } else if let Some(password) = &ssh.default_password {
                crate::ssh::Credentials::Password(password.clone())
            } else if agent {
                crate::ssh::Credentials::Agent
            } else {
                problem(
                    "ssh_password",
                    format!("no way to authenticate to {region}/{az}: set ssh_password, ssh_key_file or ssh_private_key, or enable the SSH agent"),
                );
                continue;
            };
            if let Err(e) = credentials.load_key() {
                let field = if h.ssh_key_file.is_some() { "ssh_key_file" } else { "ssh_private_key" };
                let origin = if h.ssh_key_file.is_none() && h.ssh_private_key.is_none() {
                    " (from LWS_SSH_PRIVATE_KEY)"
                } else {
                    ""
                };
                problem(field, format!("{e:#}{origin}"));
                continue;
            }
            let host_key = match &h.host_key {
                Some(pin) if is_fingerprint(pin) => crate::ssh::HostKeyPolicy::Pinned(pin.clone()),
                Some(pin) => {
                    problem("host_key", format!("'{pin}' is not a SHA256 fingerprint like \"SHA256:47 base64 characters\" (ssh-keygen -lf prints it)"));
                    continue;
                }
                None => host_key_policy(&options),
            };
            let user = h.user.clone().or(options.user.clone()).unwrap_or_else(|| "root".to_owned());
            // Bastions: the zone's `jump`, else `ssh.jump`, else ssh_config's `ProxyJump`. Each
            // hop may be an ssh_config alias too, with its own key, user and known hosts.
            let hops: Vec<String> = match h.jump.as_ref().or(ssh.jump.as_ref()) {
                Some(list) => list.split(',').map(|hop| hop.trim().to_owned()).filter(|hop| !hop.is_empty()).collect(),
                None => options.proxy_jump.clone(),
            };
            let mut via = Vec::new();
            for hop in &hops {
                let Some((hop_user, hop_host, hop_port)) = parse_hop(hop) else {
                    problem("jump", format!("'{hop}' is not a bastion as [user@]host[:port]"));
                    continue;
                };
                let hop_options = options_for(&hop_host);
                via.push(JumpSpec {
                    address: hop_options.hostname.clone().unwrap_or(hop_host),
                    port: hop_port.or(hop_options.port).unwrap_or(22),
                    user: hop_user.or(hop_options.user.clone()).unwrap_or_else(|| user.clone()),
                    credentials: identity_file(&hop_options, &None).unwrap_or_else(|| credentials.clone()),
                    host_key: host_key_policy(&hop_options),
                });
            }
            hosts.push(HostSpec {
                region: region.clone(),
                az: az.clone(),
                address,
                port: h.port.or(options.port).unwrap_or(22),
                user,
                credentials,
                host_key,
                node: h.node.clone(),
                sudo: h.sudo.unwrap_or(false),
                via,
                connect_timeout: options
                    .connect_timeout
                    .filter(|_| !ssh.connect_timeout_explicit)
                    .map(Duration::from_secs),
            });
        }
    }

    let mut sizes = BTreeMap::new();
    for (name, s) in &settings.sizes {
        let mut problem = |field: &str, message: String| {
            let attribute = match s.origin {
                Origin::Inline => vec![attr("instance_sizes"), key(name), attr(field)],
                Origin::File => vec![attr("config_file")],
            };
            problems.push(Problem { attribute, message: format!("instance_sizes.{name}.{field}: {message}") });
        };
        // The ranges of pve-container's `pct create` options (`Config.pm` `$confdesc`), as for
        // the resource's own attributes.
        for (field, value, min, max, unit) in [
            ("memory", s.memory, 16, 268_435_456, " MiB"),
            ("swap", s.swap, 0, 268_435_456, " MiB"),
            ("cores", s.cores, 1, 8192, ""),
        ] {
            if let Some(v) = value.filter(|v| !(min..=max).contains(v)) {
                problem(field, format!("{v}{unit} is not between {min} and {max}"));
            }
        }
        if let Some(limit) = s.cpulimit.filter(|c| !(0.0..=8192.0).contains(c)) {
            problem("cpulimit", format!("{limit} is not between 0 and 8192"));
        }
        let (storage, disk_gib) = match s.storage.as_deref() {
            None => (None, None),
            Some(spec) => {
                match spec.split_once(':') {
                    Some((storage, gib))
                        if crate::pve::text::is_storage_id(storage)
                            && gib.parse::<u64>().is_ok_and(|g| (1..=131_072).contains(&g)) =>
                    {
                        (Some(storage.to_owned()), gib.parse().ok())
                    }
                    _ => {
                        problem(
                        "storage",
                        format!("'{spec}' is not STORAGE:GiB with a storage id and 1 to 131072 GiB, like \"local-lvm:8\""),
                    );
                        (None, None)
                    }
                }
            }
        };
        sizes.insert(
            name.clone(),
            InstanceSize {
                memory: s.memory.map(|m| m.max(0) as u64),
                cores: s.cores.map(|c| c.max(0) as u32),
                cpulimit: s.cpulimit,
                swap: s.swap.map(|m| m.max(0) as u64),
                storage,
                disk_gib,
            },
        );
    }

    if let Some(region) = &default_region {
        if !settings.regions.is_empty() && !settings.regions.contains_key(region) {
            problems.push(Problem {
                attribute: vec![attr("region")],
                message: format!(
                    "region '{region}' is not configured; configured regions: {}",
                    settings.regions.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CloudSpec {
        hosts,
        sizes,
        default_region,
        default_storage: settings.default_storage,
        default_network: settings.default_network,
        start_vmid: settings.start_vmid,
        default_onboot: settings.default_onboot,
        ssh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LWS_FILE: &str = r#"
regions:
  eu-south-1:
    availability_zones:
      az1: { host: 10.0.0.11, user: root, ssh_password: "secret" }
      az2: { host: 10.0.0.12, user: root, ssh_password: 123456 }
instance_sizes:
  small:  { memory: 512,  cpulimit: 1, storage: "local-lvm:8" }
  medium: { memory: 2048, cpulimit: 2, storage: "local-lvm:32" }
default_storage: local-lvm
use_local_only: false
api_key: whatever
scaling: { enabled: true }
"#;

    #[test]
    fn an_existing_lws_file_parses_unchanged() {
        let settings = parse_yaml(LWS_FILE).expect("parses");
        let az2 = &settings.regions["eu-south-1"]["az2"];
        assert_eq!(az2.host.as_deref(), Some("10.0.0.12"));
        assert_eq!(az2.ssh_password.as_ref().map(Secret::expose), Some("123456"), "unquoted numbers are passwords too");
        assert_eq!(settings.sizes["medium"].storage.as_deref(), Some("local-lvm:32"));
        assert_eq!(settings.default_storage.as_deref(), Some("local-lvm"));
        assert!(settings.ignored_keys.contains(&"api_key".to_owned()));
        let spec = validate(settings, Some("eu-south-1".into()), SshOverrides::default()).expect("valid");
        assert_eq!(spec.hosts.len(), 2);
        assert_eq!(spec.sizes["small"].disk_gib, Some(8));
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let problems = parse_yaml("regions:\n  eu: [unclosed\n").expect_err("bad yaml");
        assert!(problems[0].contains("line") && problems[0].contains("column"), "{problems:?}");
    }

    #[test]
    fn inline_settings_merge_over_the_file_without_doubling_credentials() {
        let file = parse_yaml(LWS_FILE).expect("parses");
        let mut inline = Settings::default();
        inline.regions.entry("eu-south-1".into()).or_default().insert(
            "az1".into(),
            HostSettings {
                ssh_key_file: Some("/dev/null".into()),
                port: Some(2222),
                origin: Origin::Inline,
                ..Default::default()
            },
        );
        let merged = merge(file, inline);
        let az1 = &merged.regions["eu-south-1"]["az1"];
        assert_eq!(az1.host.as_deref(), Some("10.0.0.11"), "unset inline fields keep the file's");
        assert_eq!(az1.port, Some(2222));
        assert!(az1.ssh_password.is_none(), "an inline credential replaces the file's");
    }

    #[test]
    fn an_ssh_config_alias_fills_what_the_lws_file_leaves_open() {
        let dir = std::env::temp_dir().join(format!("lws-settings-ssh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let config = dir.join("config");
        std::fs::write(
            &config,
            "Host pve-east\n  HostName 10.9.0.1\n  Port 2200\n  User ops\n  ConnectTimeout 3\n  ProxyJump jump@bastion:2222,inner\nHost inner\n  HostName 10.9.0.254\n  User hop\n",
        )
        .expect("write");
        let settings = parse_yaml("regions:\n  eu:\n    availability_zones:\n      az1: { host: pve-east, ssh_password: abc123, user: root }\n").expect("parses");
        let overrides = SshOverrides { config_file: Some(Some(config)), ..SshOverrides::default() };
        let spec = validate(settings, Some("eu".into()), overrides).expect("valid");
        let host = &spec.hosts[0];
        assert_eq!(
            (host.address.as_str(), host.port, host.user.as_str()),
            ("10.9.0.1", 2200, "root"),
            "the LWS file's user wins"
        );
        assert_eq!(host.connect_timeout, Some(Duration::from_secs(3)));
        let hops: Vec<(String, u16, String)> =
            host.via.iter().map(|h| (h.address.clone(), h.port, h.user.clone())).collect();
        assert_eq!(
            hops,
            [("bastion".to_owned(), 2222, "jump".to_owned()), ("10.9.0.254".to_owned(), 22, "hop".to_owned())]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn hops_are_ssh_j_syntax() {
        assert_eq!(parse_hop("bastion"), Some((None, "bastion".into(), None)));
        assert_eq!(parse_hop("u@b:2222"), Some((Some("u".into()), "b".into(), Some(2222))));
        assert_eq!(parse_hop("[fd00::1]:22"), Some((None, "fd00::1".into(), Some(22))));
        assert_eq!(parse_hop("@b"), None);
        assert_eq!(parse_hop("b:port"), None);
    }

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration("15s"), Some(Duration::from_secs(15)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("soon"), None);
    }
}
