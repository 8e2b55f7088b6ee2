//! Faults a test asks for, at run time: `<state>/faults.json`, an object of fault kinds, each a
//! list of keys. A fault fires once and is then removed from the file.
//!
//! - `"vmid-race": [VMID, …]` — another client creates CT VMID on another node of the cluster
//!   in the moment after this node's `pct create VMID` has found the id unused and before it
//!   writes the config. Proxmox then fails the create the way pmxcfs refuses the second writer
//!   (pve-container `API2/LXC.pm` `create_vm` → pve-guest-common `AbstractConfig.pm`
//!   `create_and_lock_config` → pve-common `File.pm` `file_set_contents`: "close (rename)
//!   atomic file '…' failed: File exists"), and the other client's container stays.
//! - `"fail": [TOOL, …]` — the next run of TOOL (`pct`, `pvesh`, `lxc-info`, …) by a client other
//!   than the test itself exits 1 with `TOOL: injected failure (faults.json)` and does nothing.
//! - `"slow": ["TOOL SUBCOMMAND", …]` — the next `pct create` (say) by the client waits
//!   [`SLOW`] before it starts: a host too slow for the client's timeout, whose task goes on
//!   after the client gave up (or dies writing to the closed session, as a real one can).

use std::fs;
use std::path::Path;

use serde_json::{Map, Value};

use crate::lock::lock_faults;
use crate::output::Failure;

pub const FILE: &str = "faults.json";

/// How long a `slow` command waits before it starts.
pub const SLOW: std::time::Duration = std::time::Duration::from_secs(4);

/// Whether fault `kind` is armed for `key`; disarms it.
pub fn take(state: &Path, kind: &str, key: &str) -> Result<bool, Failure> {
    let path = state.join(FILE);
    if !path.exists() {
        return Ok(false);
    }
    let _held = lock_faults(state)?;
    let text = fs::read_to_string(&path)?;
    let mut faults: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| Failure::new(format!("lws-sim: {} is not a JSON object of fault lists: {e}", path.display())))?;
    let Some(Value::Array(keys)) = faults.get_mut(kind) else { return Ok(false) };
    let matches = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()) == key;
    let Some(at) = keys.iter().position(matches) else { return Ok(false) };
    keys.remove(at);
    crate::context::write_atomic(&path, &serde_json::to_string(&faults).unwrap_or_default())?;
    Ok(true)
}
