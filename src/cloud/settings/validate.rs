//! Checking merged settings and turning them into a [`CloudSpec`]: every problem names the key
//! at fault and where it came from (file or provider block).

use super::*;

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
pub(super) fn parse_hop(hop: &str) -> Option<(Option<String>, String, Option<u16>)> {
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
    let options_for = |alias: &str| match ssh_config.as_ref() {
        Some(c) => c.options_for(alias),
        None => Ok(Default::default()),
    };
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
            crate::ssh::HostKeyPolicy::Unchecked(known)
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
            let options = match options_for(&alias) {
                Ok(options) => options,
                Err(e) => {
                    problem("host", e);
                    continue;
                }
            };
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
                let hop_options = match options_for(&hop_host) {
                    Ok(options) => options,
                    Err(e) => {
                        problem("jump", e);
                        continue;
                    }
                };
                // OpenSSH reaches a hop with its own `ssh` (`ssh.c`: `ssh [-l user] -W … hop`):
                // the hop's own identities, else the same key or agent — never the Proxmox host's
                // password, which must not reach another machine.
                let hop_credentials = match identity_file(&hop_options, &None) {
                    Some(file) => file,
                    None => match &credentials {
                        crate::ssh::Credentials::Password(_) if agent => crate::ssh::Credentials::Agent,
                        crate::ssh::Credentials::Password(_) => {
                            problem(
                                "jump",
                                format!("bastion '{hop_host}' has no key of its own: give it an IdentityFile in ssh_config or enable the SSH agent (the host's ssh_password is never sent to a bastion)"),
                            );
                            continue;
                        }
                        other => other.clone(),
                    },
                };
                via.push(JumpSpec {
                    address: hop_options.hostname.clone().unwrap_or(hop_host),
                    port: hop_port.or(hop_options.port).unwrap_or(22),
                    // As `ssh -J`: the hop's `user@`, its ssh_config `User`, else the local user.
                    user: hop_user.or(hop_options.user.clone()).unwrap_or_else(crate::ssh::config_file::local_user),
                    credentials: hop_credentials,
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
