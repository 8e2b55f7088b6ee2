//! Container snapshots: sections of the container's config file (read in the batched
//! inventory), taken and removed with `pct`, described through `pvesh`.

use std::time::Duration;

use super::command::{Command, Script};
use super::config_file::ConfigFile;
use super::error::PveError;
use super::runner::{run, Runner};

/// A snapshot as its config section records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub name: String,
    /// As Proxmox reads it back (each line followed by `\n`).
    pub description: Option<String>,
    pub snaptime: Option<u64>,
    pub parent: Option<String>,
    /// Set while Proxmox is still taking (`prepare`) or removing (`delete`) it: pve-guest-common
    /// `src/PVE/AbstractConfig.pm` `__snapshot_prepare` writes `snapstate: prepare` (and the
    /// container's `lock: snapshot`) and `__snapshot_commit` removes both; `snapshot_delete`
    /// sets `delete`. A snapshot left so by a task that died is not one (rollback refuses it:
    /// "unable to rollback to incomplete snapshot").
    pub snapstate: Option<String>,
}

pub fn find(file: &ConfigFile, name: &str) -> Option<Snapshot> {
    let section = file.snapshots.get(name)?;
    Some(Snapshot {
        name: name.to_owned(),
        description: section.description.clone(),
        snaptime: section.get("snaptime").and_then(|t| t.parse().ok()),
        parent: section.get("parent").map(str::to_owned),
        snapstate: section.get("snapstate").map(str::to_owned),
    })
}

impl Snapshot {
    /// Why this snapshot cannot be taken for a complete one, and what the user does.
    pub fn incomplete(&self, vmid: u32) -> Option<String> {
        let state = self.snapstate.as_deref()?;
        Some(format!(
            "snapshot '{name}' of container {vmid} is incomplete (snapstate: {state}): a Proxmox task taking or removing it stopped halfway. Remove it on the host with `pct delsnapshot {vmid} {name} --force` (and `pct unlock {vmid}` if the container is still locked), then apply again.",
            name = self.name
        ))
    }
}

/// `pve-configid` (what Proxmox accepts as a snapshot name): a letter, then letters, digits,
/// `_` or `-`; 2 to 40 characters; not `current` nor `vzdump`, which pve-container
/// `src/PVE/API2/LXC/Snapshot.pm` `snapshot` reserves.
pub fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let shaped = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name == "current" {
        Err("'current' is reserved by Proxmox for the container's present state".to_owned())
    } else if name == "vzdump" {
        Err("'vzdump' is reserved by Proxmox for the snapshots of its backups".to_owned())
    } else if !(2..=40).contains(&name.len()) || !shaped {
        Err(format!(
            "'{name}' is not a valid snapshot name: 2 to 40 characters, starting with a letter, then letters, digits, '_' or '-'"
        ))
    } else {
        Ok(())
    }
}

pub async fn take(
    runner: &dyn Runner,
    vmid: u32,
    name: &str,
    description: Option<&str>,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let cmd = Command::new("pct")
        .arg("snapshot")
        .arg(vmid)
        .arg(name)
        .opt_if("description", description.filter(|d| !d.is_empty()));
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// `pct rollback <vmid> <name> [--start 1]` (pve-container `src/PVE/API2/LXC/Snapshot.pm`
/// `rollback`: a running container is stopped first; `--start` starts it afterwards).
pub async fn rollback(
    runner: &dyn Runner,
    vmid: u32,
    name: &str,
    start: bool,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let cmd = Command::new("pct").arg("rollback").arg(vmid).arg(name).opt_if("start", start.then_some(1));
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

pub async fn delete(runner: &dyn Runner, vmid: u32, name: &str, timeout: Option<Duration>) -> Result<(), PveError> {
    let cmd = Command::new("pct").arg("delsnapshot").arg(vmid).arg(name);
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// Change a snapshot's description in place (`pvesh set …/snapshot/{name}/config`).
pub async fn describe(
    runner: &dyn Runner,
    node: &str,
    vmid: u32,
    name: &str,
    description: Option<&str>,
) -> Result<(), PveError> {
    let cmd = Command::new("pvesh")
        .arg("set")
        .arg(format!("/nodes/{node}/lxc/{vmid}/snapshot/{name}/config"))
        .opt("description", description.unwrap_or(""));
    run(runner, cmd.into()).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_sections_read_into_snapshots() {
        let file = ConfigFile::parse("hostname: web\nparent: second\n\n[first]\n#before upgrade\nhostname: web\nsnaptime: 1700000000\n\n[second]\nhostname: web\nparent: first\nsnaptime: 1700000600\n");
        let second = find(&file, "second").expect("found");
        assert_eq!((second.snaptime, second.parent.as_deref()), (Some(1_700_000_600), Some("first")));
        assert_eq!(find(&file, "first").and_then(|s| s.description).as_deref(), Some("before upgrade\n"));
        assert!(find(&file, "third").is_none());
        assert_eq!(second.incomplete(100), None);
    }

    #[test]
    fn a_snapshot_proxmox_left_halfway_is_not_taken_for_one() {
        let file = ConfigFile::parse(
            "hostname: web\nlock: snapshot\n\n[upgrade]\nhostname: web\nsnapstate: prepare\nsnaptime: 1700000000\n",
        );
        let why = find(&file, "upgrade").and_then(|s| s.incomplete(100)).expect("incomplete");
        assert!(why.contains("snapstate: prepare") && why.contains("pct delsnapshot 100 upgrade --force"), "{why}");
    }

    #[test]
    fn names_follow_proxmox_rules() {
        assert!(check_name("before-upgrade_1").is_ok());
        assert!(check_name("1st").is_err());
        assert!(check_name("current").is_err());
        assert!(check_name("vzdump").is_err());
        assert!(check_name(&"a".repeat(41)).is_err());
    }
}
