//! Faults a test asks for, at run time: `<state>/faults.json`, an object of fault kinds, each a
//! list of keys. A fault fires once and is then removed from the file.
//!
//! - `"vmid-race": [VMID, …]` — another client creates CT VMID on another node of the cluster
//!   in the moment after this node's `pct create VMID` has found the id unused and before it
//!   writes the config. Proxmox then fails the create the way pmxcfs refuses the second writer
//!   (pve-container `API2/LXC.pm` `create_vm` → pve-guest-common `AbstractConfig.pm`
//!   `create_and_lock_config` → pve-common `File.pm` `file_set_contents`: "close (rename)
//!   atomic file '…' failed: File exists"), and the other client's container stays.
//!
//! The other kinds name commands by a prefix of their words: `pct` is every `pct` run, `pct
//! create` every create, `pvesh create /cluster/firewall/groups` a group or one of its rules.
//! Only commands of a client fire them, never the test's own (`LWS_SIM_ACTOR`). A key is that
//! prefix as a string, or an object `{"command": PREFIX, "nth": N, "host": "REGION/AZ",
//! "stderr": TEXT, "exit": CODE}`: the Nth such command (1 by default; each earlier one counts
//! down), only on that host (any by default); `stderr` and `exit` shape a `fail`.
//! - `"fail": [KEY, …]` — the command exits 1 (or `exit`) with `TOOL: injected failure
//!   (faults.json)` (or `stderr`) and does nothing.
//! - `"slow": [KEY, …]` — the command waits [`SLOW`] before it starts: a host too slow for the
//!   client's timeout, whose task goes on after the client gave up (or dies writing to the
//!   closed session, as a real one can).
//! - `"hang": [KEY, …]` — the command never answers: it waits (at most [`HANG`], so no process
//!   outlives a test), then exits 1 having done nothing.
//! - `"drop": [KEY, …]` — the command runs to its end, then the SSH connection it came on is
//!   dropped before its exit status is sent: the client cannot know whether it ran. (The
//!   command marks its SSH session in `DIR/dropped/`; `lws-sim shell` kills its `sshd`, the
//!   embedded server disconnects.)
//! - `"edit-rules": [KEY, …]` — another client inserts a rule (disabled, `in ACCEPT -p tcp
//!   -dport 2222`, comment `added by another client`) at the top of the firewall rule list that
//!   an update or delete (`pvesh set|delete …/rules/<pos>`, `…/groups/<g>/<pos>`) addresses,
//!   just before it runs: the `--digest` it carries is stale.
//! - `"off": [KEY, …]` — the command runs to its end, then its host is switched off before the
//!   exit status is sent (`serve --power-switch`, [`crate::power`]): connections are cut and
//!   refused until a test switches it on again with `lws-sim power`.

use std::fs;
use std::path::Path;

use serde_json::{Map, Value};

use crate::lock::lock_faults;
use crate::output::Failure;

pub const FILE: &str = "faults.json";

/// How long a `slow` command waits before it starts.
pub const SLOW: std::time::Duration = std::time::Duration::from_secs(4);

/// How long a `hang` command waits before it gives up.
pub const HANG: std::time::Duration = std::time::Duration::from_secs(120);

/// A fault that fired, with what it asked for.
#[derive(Debug, Default)]
pub struct Fired {
    pub stderr: Option<String>,
    pub exit: Option<i32>,
}

/// Whether fault `kind` fires for the command `line` on host `host`; a fault that fires is
/// disarmed, an `nth` one not yet due counts down. The test's own commands (`LWS_SIM_ACTOR`)
/// never set one off, nor count towards `nth`.
pub fn take_for_command(state: &Path, kind: &str, line: &str, host: &str) -> Result<Option<Fired>, Failure> {
    if std::env::var(crate::journal::ENV_ACTOR).is_ok() {
        return Ok(None);
    }
    take_where(state, kind, |key| {
        let (prefix, on) = match key {
            Value::String(prefix) => (prefix.as_str(), None),
            Value::Object(o) => (o.get("command").and_then(Value::as_str).unwrap_or(""), o.get("host")),
            _ => return false,
        };
        (line == prefix || line.starts_with(&format!("{prefix} "))) && on.is_none_or(|h| h == host)
    })
}

/// Whether fault `kind` is armed for `key`; disarms it.
pub fn take(state: &Path, kind: &str, key: &str) -> Result<bool, Failure> {
    let wanted = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()) == key;
    Ok(take_where(state, kind, wanted)?.is_some())
}

fn take_where(state: &Path, kind: &str, wanted: impl Fn(&Value) -> bool) -> Result<Option<Fired>, Failure> {
    let path = state.join(FILE);
    if !path.exists() {
        return Ok(None);
    }
    let _held = lock_faults(state)?;
    let text = fs::read_to_string(&path)?;
    let mut faults: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| Failure::new(format!("lws-sim: {} is not a JSON object of fault lists: {e}", path.display())))?;
    let Some(Value::Array(keys)) = faults.get_mut(kind) else { return Ok(None) };
    let Some(at) = keys.iter().position(wanted) else { return Ok(None) };
    let fired = match &mut keys[at] {
        Value::Object(o) => {
            let nth = o.get("nth").and_then(Value::as_u64).unwrap_or(1);
            if nth > 1 {
                o.insert("nth".into(), Value::from(nth - 1));
                None
            } else {
                let stderr = o.get("stderr").and_then(Value::as_str).map(str::to_owned);
                let exit = o.get("exit").and_then(Value::as_i64).and_then(|c| i32::try_from(c).ok());
                Some(Fired { stderr, exit })
            }
        }
        _ => Some(Fired::default()),
    };
    if fired.is_some() {
        keys.remove(at);
    }
    crate::context::write_atomic(&path, &serde_json::to_string(&faults).unwrap_or_default())?;
    Ok(fired)
}

/// Where a command marks the SSH session whose connection is to be dropped.
pub fn dropped_dir(state: &Path) -> std::path::PathBuf {
    state.join("dropped")
}

/// Mark the SSH session this process runs in (its `lws-sim shell` ancestor) to be dropped when
/// the command ends.
pub fn mark_session_dropped(state: &Path) -> Result<(), Failure> {
    let shell = ancestors().into_iter().find(|&pid| is_shell_wrapper(pid)).ok_or_else(|| {
        Failure::new("lws-sim: a drop fault fired outside an SSH session (no `lws-sim shell` ancestor)")
    })?;
    fs::create_dir_all(dropped_dir(state))?;
    fs::write(dropped_dir(state).join(shell.to_string()), "")?;
    Ok(())
}

/// Whether session `pid` (an `lws-sim shell` process) was marked; forgets the mark.
pub fn take_dropped(state: &Path, pid: u32) -> bool {
    fs::remove_file(dropped_dir(state).join(pid.to_string())).is_ok()
}

/// This process's ancestors, nearest first (from `/proc/PID/stat`'s ppid).
pub fn ancestors() -> Vec<u32> {
    let mut chain = Vec::new();
    let mut pid = std::process::id();
    while let Some(parent) = parent_of(pid).filter(|&p| p > 1) {
        chain.push(parent);
        pid = parent;
    }
    chain
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn is_shell_wrapper(pid: u32) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.len() > 1 && args[0].ends_with(b"lws-sim") && args[1] == b"shell"
}

/// The nearest ancestor that is an `sshd` process (OpenSSH's per-connection process).
pub fn sshd_ancestor() -> Option<u32> {
    ancestors()
        .into_iter()
        .find(|pid| fs::read_to_string(format!("/proc/{pid}/comm")).map(|c| c.trim() == "sshd").unwrap_or(false))
}
