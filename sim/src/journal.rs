//! The command log (`DIR/commands.log`) and injected latency.
//!
//! Every SSH connection, every command an SSH client runs, and every Proxmox tool run appends
//! one JSON line, so tests and benchmarks can count round trips and tool invocations:
//! `{"time":…, "kind":"connect|ssh|tool", "host":"eu-south-1/az1", "node":"az1", "argv":[…],
//! "exit":0, "ms":12}`. `connect` and `ssh` entries carry `peer`, the client's `address:port` of
//! the SSH connection, so handshakes can be counted for both servers (OpenSSH's `ForceCommand`
//! sees no handshake, only the `SSH_CONNECTION` of each command). Tool entries carry `actor` when
//! the command set `LWS_SIM_ACTOR` (tests mark their own out-of-band commands that way).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

pub const LOG_FILE: &str = "commands.log";

#[derive(Serialize)]
pub struct Entry<'a> {
    pub time: f64,
    pub kind: &'a str,
    pub host: &'a str,
    pub node: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<&'a str>,
    /// Who ran a tool when it was not the SSH client under test: a test's own out-of-band command
    /// sets `LWS_SIM_ACTOR` (e.g. `test`), so checks of the provider's commands can leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<&'a str>,
}

/// The variable a command sets to say who runs it (see [`Entry::actor`]).
pub const ENV_ACTOR: &str = "LWS_SIM_ACTOR";

pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

pub fn epoch_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Append one line. A single `write` on an `O_APPEND` file keeps lines whole when many
/// processes log at once. Logging never fails the command it records.
pub fn append(state: &Path, entry: &Entry<'_>) {
    let Ok(mut line) = serde_json::to_string(entry) else { return };
    line.push('\n');
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(state.join(LOG_FILE)) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// `pct=300ms,pvesh=0.5s` → the delay for `family`.
pub fn latency_for(spec: &str, family: &str) -> Duration {
    spec.split(',')
        .filter_map(|item| item.split_once('='))
        .find(|(name, _)| name.trim() == family)
        .and_then(|(_, value)| parse_duration(value.trim()))
        .unwrap_or_default()
}

/// `300ms`, `0.5s`, `2s`, `1500` (milliseconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        (text, 0.001)
    };
    let value: f64 = number.parse().ok()?;
    (value >= 0.0 && value.is_finite()).then(|| Duration::from_secs_f64(value * scale))
}

/// Validate a whole `--latency` value.
pub fn check_latency_spec(spec: &str) -> Result<(), String> {
    for item in spec.split(',').filter(|s| !s.is_empty()) {
        let Some((name, value)) = item.split_once('=') else {
            return Err(format!("'{item}' is not FAMILY=DURATION"));
        };
        if !super::TOOL_FAMILIES.contains(&name.trim()) {
            return Err(format!("unknown command family '{name}' (known: {})", super::TOOL_FAMILIES.join(", ")));
        }
        if parse_duration(value.trim()).is_none() {
            return Err(format!("'{value}' is not a duration like 300ms or 1s"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_specs_name_a_delay_per_family() {
        let spec = "pct=300ms,pvesh=0.5s";
        assert_eq!(latency_for(spec, "pct"), Duration::from_millis(300));
        assert_eq!(latency_for(spec, "pvesh"), Duration::from_millis(500));
        assert_eq!(latency_for(spec, "pvecm"), Duration::ZERO);
        assert!(check_latency_spec("pct=1s").is_ok());
        assert!(check_latency_spec("qm=1s").is_err());
        assert!(check_latency_spec("pct=fast").is_err());
    }
}
