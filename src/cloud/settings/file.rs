//! Reading an LWS `config.yaml` into [`Settings`], every problem with its line and key.

use super::*;

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
