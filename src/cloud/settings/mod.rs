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
//!
//! Reading the file is [`file`], merging the provider block over it [`merge`], checking the
//! result and turning it into a [`CloudSpec`] [`validate`]; the types they share are here.

mod file;
mod merge;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_norway::Value;

use crate::ssh::host_key::is_fingerprint;
use crate::ssh::Secret;
pub use file::{parse_file, parse_yaml};
pub use merge::merge;
pub use validate::validate;

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

#[cfg(test)]
mod tests {
    use super::validate::parse_hop;
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
