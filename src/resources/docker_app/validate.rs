//! Checking an `lws_docker_app` configuration before anything runs: every problem names its
//! attribute.

use super::*;

/// Problems of `config`, each at its attribute.
pub fn validate(config: &DockerAppState, diags: &mut Diagnostics) {
    if let Some(name) = known(&config.name) {
        let mut chars = name.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            error_at(diags, path(&["name"]), "invalid app name", format!("'{name}' must be lowercase letters, digits, '_' or '-', starting with a letter or digit (a Compose project name)"));
        }
    }
    if let Some(id) = known(&config.container_id) {
        if let Err(e) = id.parse::<ContainerId>() {
            error_at(diags, path(&["container_id"]), "invalid container_id", e);
        }
    }
    match (&config.compose, &config.image) {
        (Value::Null, Value::Null) => error_at(
            diags,
            path(&["image"]),
            "compose or image is required",
            "give a compose file (compose = file(\"docker-compose.yml\")) or a single image",
        ),
        (Value::Value(_), Value::Value(_)) => error_at(
            diags,
            path(&["image"]),
            "compose and image are exclusive",
            "describe the app either as a compose file or as a single image",
        ),
        _ => {}
    }
    if let Some(text) = known(&config.compose) {
        if let Err(e) = compose_services(&text) {
            error_at(diags, path(&["compose"]), "invalid compose file", e);
        }
        for field in ["ports", "volumes", "restart", "command"] {
            let set = match field {
                "ports" => config.ports.is_value(),
                "volumes" => config.volumes.is_value(),
                "restart" => config.restart.is_value(),
                _ => config.command.is_value(),
            };
            if set {
                error_at(
                    diags,
                    path(&[field]),
                    format!("{field} goes with image"),
                    "in compose mode, put it in the compose file",
                );
            }
        }
    }
    for port in known(&config.ports).unwrap_or_default().iter().filter_map(known) {
        let (addr, proto) = port.rsplit_once('/').unwrap_or((&port, "tcp"));
        let parts: Vec<&str> = addr.split(':').collect();
        let numbers_ok =
            parts.len() >= 2 && parts[parts.len() - 2..].iter().all(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
        if !numbers_ok || !matches!(proto, "tcp" | "udp" | "sctp") {
            error_at(
                diags,
                path(&["ports"]),
                format!("invalid port '{port}'"),
                "write HOST:CONTAINER, optionally IP:HOST:CONTAINER and /udp",
            );
        }
    }
    if let Some(restart) = known(&config.restart) {
        if !matches!(restart.as_str(), "no" | "always" | "unless-stopped" | "on-failure") {
            error_at(
                diags,
                path(&["restart"]),
                "invalid restart",
                format!("'{restart}' must be no, always, unless-stopped or on-failure"),
            );
        }
    }
    if let Some(env) = known(&config.env) {
        for (key, value) in env.iter().filter_map(|(k, v)| Some((k, known(v)?))) {
            let mut chars = key.chars();
            let key_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok || value.contains('\n') {
                // Never name the value: it may be a secret.
                error_at(
                    diags,
                    path(&["env"]),
                    format!("invalid env entry '{key}'"),
                    "names are letters, digits and '_' (not starting with a digit); values are one line",
                );
            }
        }
    }
    if let Some(secrets) = known(&config.env_wo) {
        for key in secrets.keys() {
            let mut chars = key.chars();
            let key_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok {
                error_at(
                    diags,
                    path(&["env_wo"]),
                    format!("invalid env_wo name '{key}'"),
                    "names are letters, digits and '_' (not starting with a digit)",
                );
            }
            if known(&config.env).is_some_and(|env| env.contains_key(key)) {
                error_at(
                    diags,
                    path(&["env_wo"]),
                    format!("'{key}' is in both env and env_wo"),
                    "give each variable once: env is stored in state, env_wo is not",
                );
            }
        }
        if !tf_provider::client_allows_write_only() {
            error_at(
                diags,
                path(&["env_wo"]),
                "this Terraform cannot send write-only attributes",
                "env_wo needs Terraform 1.11 or later (plugin protocol 6.8); upgrade, or use env (stored in state)",
            );
        }
    }
    Timeouts::validate(&config.timeouts, diags);
}
