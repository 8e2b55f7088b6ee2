//! The `provider "lws" { … }` block: its schema, its Terraform-side shape, and its conversion
//! into LWS [`Settings`] and [`SshOverrides`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::Value;
use tf_provider::Diagnostics;

use crate::cloud::settings::Step;
use crate::cloud::settings::{expand_home, parse_duration, HostSettings, Origin, Settings, SizeSettings, SshOverrides};
use crate::ssh::Secret;
use crate::tf::schema::{attributes, bool as boolean, number, optional, sensitive, string};
use crate::tf::{error_at, known, path, path_of};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HostConfig {
    pub host: Value<String>,
    pub port: Value<i64>,
    pub user: Value<String>,
    pub ssh_password: Value<String>,
    pub ssh_key_file: Value<String>,
    pub ssh_private_key: Value<String>,
    pub ssh_key_passphrase: Value<String>,
    pub agent: Value<bool>,
    pub host_key: Value<String>,
    pub node: Value<String>,
    pub sudo: Value<bool>,
    pub jump: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RegionConfig {
    pub availability_zones: Value<BTreeMap<String, HostConfig>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SizeConfig {
    pub memory: Value<i64>,
    pub cores: Value<i64>,
    pub cpulimit: Value<f64>,
    pub swap: Value<i64>,
    pub storage: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SshConfig {
    pub connect_timeout: Value<String>,
    pub command_timeout: Value<String>,
    pub retries: Value<i64>,
    pub known_hosts_file: Value<String>,
    pub strict_host_key_checking: Value<bool>,
    pub max_sessions_per_host: Value<i64>,
    pub agent: Value<bool>,
    pub config_file: Value<String>,
    pub jump: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderConfig {
    pub config_file: Value<String>,
    pub region: Value<String>,
    pub regions: Value<BTreeMap<String, RegionConfig>>,
    pub instance_sizes: Value<BTreeMap<String, SizeConfig>>,
    pub ssh: Value<SshConfig>,
}

fn host_attributes() -> std::collections::HashMap<String, tf_provider::schema::Attribute> {
    attributes(vec![
        ("host", optional(string(), "Address (name or IP) of the Proxmox host of this availability zone.")),
        ("port", optional(number(), "SSH port (default 22).")),
        ("user", optional(string(), "SSH user (default `root`). A non-root user needs `sudo = true`.")),
        ("ssh_password", sensitive(optional(string(), "SSH password (the LWS file's only method)."))),
        ("ssh_key_file", optional(string(), "Path of an SSH private key file (`~` is expanded)."))  ,
        ("ssh_private_key", sensitive(optional(string(), "An SSH private key, inline (PEM or OpenSSH format)."))),
        ("ssh_key_passphrase", sensitive(optional(string(), "Passphrase of an encrypted private key."))),
        ("agent", optional(boolean(), "Use the SSH agent (`SSH_AUTH_SOCK`) when no password or key is set (default: `ssh.agent`)."))
        ,
        ("host_key", optional(string(), "Pin the host's key by its fingerprint, `SHA256:…` as `ssh-keygen -lf` prints it. Without a pin, `ssh.known_hosts_file` is used.")),
        ("node", optional(string(), "Proxmox node name of this host (read from the host when not set).")),
        ("sudo", optional(boolean(), "Run Proxmox commands through `sudo -n` (for a non-root SSH user).")),
        ("jump", optional(string(), "Bastions to reach the host through, `[user@]host[:port]`, comma separated, outermost first (as `ssh -J`). Each may be a `Host` alias of ssh_config. A bastion logs in as its `user@`, its ssh_config `User`, else the local user, with its own IdentityFile, else the host's key or the agent — never the host's `ssh_password`. Default: `ssh.jump`, else ssh_config's `ProxyJump`.")),
    ])
}

pub fn schema() -> Schema {
    let zones = attributes(vec![(
        "availability_zones",
        optional(
            AttributeType::AttributeMap(host_attributes()),
            "Availability zones of the region, by name: one Proxmox host each.",
        ),
    )]);
    let size = attributes(vec![
        ("memory", optional(number(), "Memory in MiB.")),
        ("cores", optional(number(), "CPU cores.")),
        ("cpulimit", optional(number(), "CPU time limit in cores (Proxmox `cpulimit`), as in LWS files.")),
        ("swap", optional(number(), "Swap in MiB.")),
        ("storage", optional(string(), "Root disk as `STORAGE:GiB`, e.g. `local-lvm:8`.")),
    ]);
    let ssh = attributes(vec![
        ("connect_timeout", optional(string(), "How long to wait for a host to answer (default `15s`).")),
        ("command_timeout", optional(string(), "How long one command may run (default `60s`, or the LWS file's `ssh_command_timeout`; `0` for none). Long tasks (create, clone, migrate) use the resource's `timeouts` instead.")),
        ("retries", optional(number(), "Extra connection attempts when a host does not answer (default 2).")),
        ("known_hosts_file", optional(string(), "known_hosts file used to verify hosts without a `host_key` pin (default `~/.ssh/known_hosts`).")),
        ("strict_host_key_checking", optional(boolean(), "Refuse hosts whose key is not pinned or listed (default `true`). Setting `false` accepts any host key, but as OpenSSH does, a key that known_hosts lists differently or revokes never gets the password (key authentication goes on, with a warning).")),
        ("max_sessions_per_host", optional(number(), "Commands run at once on one host's single connection (default 8; OpenSSH allows 10).")),
        ("agent", optional(boolean(), "Fall back to the SSH agent for hosts without a password or key (default `true`).")),
        ("config_file", optional(string(), "OpenSSH client configuration to read (default `~/.ssh/config` when it exists; `\"\"` reads none). A zone's `host` may be a `Host` alias there: `HostName`, `Port`, `User`, `IdentityFile`, `IdentitiesOnly`, `ProxyJump`, `UserKnownHostsFile`, `StrictHostKeyChecking` apply, with `Include` and OpenSSH's pattern rules; what the LWS file or this block sets wins.")),
        ("jump", optional(string(), "Bastions for every zone that names none, as a zone's `jump`.")),
    ]);
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "The LWS provider manages containers, snapshots, Docker apps and firewall security groups on Proxmox VE hosts organised as LWS regions and availability zones, over SSH.",
            ),
            attributes: attributes(vec![
                ("config_file", optional(string(), "Path of an LWS `config.yaml` (regions, availability zones, instance sizes). Defaults to `LWS_CONFIG_FILE`.")),
                ("region", optional(string(), "Region used by resources that do not name one. Defaults to `LWS_REGION`.")),
                ("regions", optional(AttributeType::AttributeMap(zones), "Regions given inline, same shape as the file's; merged over the file (an inline host's credentials replace the file's).")),
                ("instance_sizes", optional(AttributeType::AttributeMap(size), "Instance sizes given inline, merged over the file's.")),
                ("ssh", optional(AttributeType::AttributeSingle(ssh), "SSH settings for every host.")),
            ]),
            ..Block::default()
        },
    }
}

/// Plan-time checks of values in the block itself.
pub fn validate(config: &ProviderConfig, diags: &mut Diagnostics) {
    if let Value::Value(ssh) = &config.ssh {
        for (name, value) in [("connect_timeout", &ssh.connect_timeout), ("command_timeout", &ssh.command_timeout)] {
            if let Some(text) = known(value) {
                if parse_duration(&text).is_none() {
                    error_at(
                        diags,
                        path(&["ssh", name]),
                        format!("invalid ssh.{name}"),
                        format!("'{text}' is not a duration like \"15s\" or \"2m\""),
                    );
                }
            }
        }
        if let Some(n) = known(&ssh.retries).filter(|n| !(0..=20).contains(n)) {
            error_at(diags, path(&["ssh", "retries"]), "invalid ssh.retries", format!("{n} is not between 0 and 20"));
        }
        if let Some(n) = known(&ssh.max_sessions_per_host).filter(|n| !(1..=64).contains(n)) {
            error_at(
                diags,
                path(&["ssh", "max_sessions_per_host"]),
                "invalid ssh.max_sessions_per_host",
                format!("{n} is not between 1 and 64 (OpenSSH allows 10 sessions per connection by default)"),
            );
        }
    }
}

/// The inline parts of the block as LWS settings.
pub fn inline_settings(config: &ProviderConfig, diags: &mut Diagnostics) -> Settings {
    let mut settings = Settings::default();
    if let Value::Value(regions) = &config.regions {
        for (region, region_config) in regions {
            let zones = settings.regions.entry(region.clone()).or_default();
            let Value::Value(azs) = &region_config.availability_zones else { continue };
            for (az, h) in azs {
                let port = known(&h.port).and_then(|p| match u16::try_from(p) {
                    Ok(port) if port > 0 => Some(port),
                    _ => {
                        let at = path_of(&[
                            Step::Attr("regions".into()),
                            Step::Key(region.clone()),
                            Step::Attr("availability_zones".into()),
                            Step::Key(az.clone()),
                            Step::Attr("port".into()),
                        ]);
                        let message = format!(
                            "regions.{region}.availability_zones.{az}.port: {p} is not a port number (1 to 65535)"
                        );
                        error_at(diags, at, "invalid port", message);
                        None
                    }
                });
                zones.insert(
                    az.clone(),
                    HostSettings {
                        host: known(&h.host),
                        port,
                        user: known(&h.user),
                        ssh_password: known(&h.ssh_password).map(Secret::new),
                        ssh_key_file: known(&h.ssh_key_file),
                        ssh_private_key: known(&h.ssh_private_key).map(Secret::new),
                        ssh_key_passphrase: known(&h.ssh_key_passphrase).map(Secret::new),
                        agent: known(&h.agent),
                        host_key: known(&h.host_key),
                        node: known(&h.node),
                        sudo: known(&h.sudo),
                        jump: known(&h.jump),
                        origin: Origin::Inline,
                    },
                );
            }
        }
    }
    if let Value::Value(sizes) = &config.instance_sizes {
        for (name, s) in sizes {
            settings.sizes.insert(
                name.clone(),
                SizeSettings {
                    memory: known(&s.memory),
                    cores: known(&s.cores),
                    cpulimit: known(&s.cpulimit),
                    swap: known(&s.swap),
                    storage: known(&s.storage),
                    origin: Origin::Inline,
                },
            );
        }
    }
    settings
}

/// The `ssh` block, with the CI variables as provider-wide defaults: `LWS_SSH_PRIVATE_KEY`
/// (key text) and `LWS_SSH_PASSWORD` for zones that name no credentials, `LWS_SSH_KNOWN_HOSTS`
/// (known_hosts text) when `known_hosts_file` is not set. Nothing of them needs a file on disk
/// but the known hosts, which are not secret.
pub fn ssh_overrides(config: &ProviderConfig) -> SshOverrides {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut overrides = ssh_block(config);
    overrides.default_private_key = env("LWS_SSH_PRIVATE_KEY").map(Secret::new);
    overrides.default_password = env("LWS_SSH_PASSWORD").map(Secret::new);
    if overrides.known_hosts_file.is_none() {
        if let Some(text) = env("LWS_SSH_KNOWN_HOSTS") {
            overrides.known_hosts_file = known_hosts_from_text(&text);
        }
    }
    overrides
}

/// `LWS_SSH_KNOWN_HOSTS` as a file the known_hosts reader can take: one per content, in the
/// temporary directory, readable by this user only. `None` (with the default file then used)
/// if it cannot be written.
fn known_hosts_from_text(text: &str) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let path = std::env::temp_dir().join(format!("lws-known-hosts-{:016x}", hasher.finish()));
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
        return Some(path);
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    match written {
        Ok(()) => Some(path),
        Err(e) => {
            tracing::warn!(error = %e, "cannot write LWS_SSH_KNOWN_HOSTS to a file; using the default known_hosts");
            None
        }
    }
}

fn ssh_block(config: &ProviderConfig) -> SshOverrides {
    let Value::Value(ssh) = &config.ssh else { return SshOverrides::default() };
    SshOverrides {
        connect_timeout: known(&ssh.connect_timeout).and_then(|t| parse_duration(&t)),
        command_timeout: known(&ssh.command_timeout)
            .and_then(|t| parse_duration(&t))
            .map(|d| (!d.is_zero()).then_some(d)),
        retries: known(&ssh.retries).map(|n| n.max(0) as u32),
        known_hosts_file: known(&ssh.known_hosts_file).map(|p| expand_home(&p)),
        strict_host_key_checking: known(&ssh.strict_host_key_checking),
        max_sessions_per_host: known(&ssh.max_sessions_per_host).map(|n| n.max(1) as usize),
        agent: known(&ssh.agent),
        default_private_key: None,
        default_password: None,
        config_file: known(&ssh.config_file).map(|p| (!p.trim().is_empty()).then(|| expand_home(&p))),
        jump: known(&ssh.jump).filter(|j| !j.trim().is_empty()),
    }
}

/// `config_file`, or `LWS_CONFIG_FILE` when the attribute is not set.
pub fn config_file(config: &ProviderConfig) -> Option<PathBuf> {
    known(&config.config_file)
        .or_else(|| std::env::var("LWS_CONFIG_FILE").ok().filter(|v| !v.is_empty()))
        .map(|p| expand_home(&p))
}

/// `region`, or `LWS_REGION` when the attribute is not set.
pub fn default_region(config: &ProviderConfig) -> Option<String> {
    known(&config.region).or_else(|| std::env::var("LWS_REGION").ok().filter(|v| !v.is_empty()))
}
