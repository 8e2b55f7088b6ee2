//! `pct snapshot|delsnapshot|rollback|listsnapshot`: snapshots as sections of the config file.
//!
//! Taking a snapshot copies the current config (minus description, lock and snapshot keys) into
//! `[name]` with `snaptime`, and points the current config's `parent` at it — as
//! `PVE::AbstractConfig::snapshot_create` does.

use crate::formats::pct_conf::Section;

use crate::clock::datetime;
use crate::context::Node;
use crate::ct::Ct;
use crate::journal::epoch_secs;
use crate::lock::{lock_ct, DEFAULT_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

use super::power::{start_container, stop_now};

const SNAPSHOT: Spec = Spec {
    usage: "pct snapshot <vmid> <snapname> [OPTIONS]",
    args: &[("vmid", Kind::Vmid), ("snapname", Kind::Format(snapshot_name))],
    opts: &[&[Opt { name: "description", kind: Kind::Str { min_len: 0, max_len: 8192 } }]],
    families: &[],
};

const DELSNAPSHOT: Spec = Spec {
    usage: "pct delsnapshot <vmid> <snapname> [OPTIONS]",
    args: &[("vmid", Kind::Vmid), ("snapname", Kind::Format(snapshot_name))],
    opts: &[&[Opt { name: "force", kind: Kind::Bool }]],
    families: &[],
};

const ROLLBACK: Spec = Spec {
    usage: "pct rollback <vmid> <snapname> [OPTIONS]",
    args: &[("vmid", Kind::Vmid), ("snapname", Kind::Format(snapshot_name))],
    opts: &[&[Opt { name: "start", kind: Kind::Bool }]],
    families: &[],
};

const LISTSNAPSHOT: Spec =
    Spec { usage: "pct listsnapshot <vmid>", args: &[("vmid", Kind::Vmid)], opts: &[], families: &[] };

/// `pve-configid`: `^[a-z][a-z0-9_-]+$` (case-insensitive), at most 40 characters.
pub fn snapshot_name(_: &str, value: &str) -> Result<(), String> {
    let mut chars = value.chars();
    let ok = value.len() <= 40
        && value.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("invalid configuration ID '{value}'"))
    }
}

/// Keys a snapshot does not copy from the config it captures.
fn copy_config(source: &Section) -> Section {
    let mut copy = Section::default();
    for (key, value) in &source.options {
        let skipped = matches!(key.as_str(), "snapstate" | "snaptime" | "vmstate" | "lock" | "digest")
            || (key.starts_with("unused") && key[6..].parse::<u32>().is_ok());
        if !skipped {
            copy.set(key.clone(), value.clone());
        }
    }
    copy.lxc = source.lxc.clone();
    copy
}

/// Whether a storage of this type can snapshot a container volume (pve-storage
/// `volume_has_feature`: directory-like storages only for qcow2 images, which container volumes
/// never are — they are raw or subvol; thin LVM, ZFS, Ceph RBD and btrfs can).
fn storage_can_snapshot(kind: &str) -> bool {
    matches!(kind, "lvmthin" | "zfspool" | "zfs" | "rbd" | "btrfs")
}

/// `pct snapshot`: pve-container `src/PVE/API2/LXC/Snapshot.pm` `snapshot` refuses the reserved
/// names first, then pve-guest-common `src/PVE/AbstractConfig.pm` `__snapshot_prepare` checks, in
/// order, template, lock, name in use and the storage's snapshot feature.
pub fn snapshot(node: &Node, argv: &[String]) -> Outcome {
    let params = SNAPSHOT.parse(argv)?;
    let (vmid, name) = (params.vmid(0), params.arg(1).to_owned());
    if name == "current" || name == "vzdump" {
        return Err(Failure::new(format!("unable to use snapshot name '{name}' (reserved name)")));
    }
    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let mut ct = Ct::load(node, vmid)?;
    if ct.is_template() {
        return Err(Failure::new("you can't take a snapshot if it's a template"));
    }
    ct.check_lock(&[])?;
    if ct.conf.snapshots.contains_key(&name) {
        return Err(Failure::new(format!("snapshot name '{name}' already used")));
    }
    for (_, disk) in ct.disks() {
        let storage = disk.get("volume").and_then(|v| v.split_once(':')).map(|(s, _)| s.to_owned());
        let Some(storage) = storage else { continue };
        if !storage_can_snapshot(&crate::cluster::find_storage(node, &storage)?.kind) {
            return Err(Failure::new("snapshot feature is not available"));
        }
    }
    let mut snap = copy_config(&ct.conf.current);
    snap.set("snaptime", epoch_secs().to_string());
    snap.description = params.get("description").filter(|d| !d.is_empty()).map(str::to_owned);
    for (_, disk) in ct.disks() {
        if let Some((_, volume)) = disk.get("volume").and_then(|v| v.split_once(':')) {
            if !volume.contains('/') {
                println!("  Logical volume \"snap_{volume}_{name}\" created.");
            }
        }
    }
    ct.conf.snapshots.insert(name.clone(), snap);
    ct.conf.current.set("parent", name);
    ct.save()
}

pub fn delsnapshot(node: &Node, argv: &[String]) -> Outcome {
    let params = DELSNAPSHOT.parse(argv)?;
    let (vmid, name) = (params.vmid(0), params.arg(1).to_owned());
    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let mut ct = Ct::load(node, vmid)?;
    if !params.flag("force") {
        ct.check_lock(&[])?;
    }
    let Some(removed) = ct.conf.snapshots.remove(&name) else {
        return Err(Failure::new(format!("snapshot '{name}' does not exist")));
    };
    // Children of the removed snapshot now hang off its parent.
    let grandparent = removed.get("parent").map(str::to_owned);
    let reparent = |section: &mut Section| {
        if section.get("parent") == Some(name.as_str()) {
            match &grandparent {
                Some(p) => section.set("parent", p.clone()),
                None => {
                    section.remove("parent");
                }
            }
        }
    };
    reparent(&mut ct.conf.current);
    for snap in ct.conf.snapshots.values_mut() {
        reparent(snap);
    }
    ct.save()
}

pub fn rollback(node: &Node, argv: &[String]) -> Outcome {
    let params = ROLLBACK.parse(argv)?;
    let (vmid, name) = (params.vmid(0), params.arg(1).to_owned());
    {
        let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
        let mut ct = Ct::load(node, vmid)?;
        ct.check_lock(&[])?;
        let Some(snap) = ct.conf.snapshots.get(&name).cloned() else {
            return Err(Failure::new(format!("snapshot '{name}' does not exist")));
        };
        if ct.is_running() {
            stop_now(&ct)?;
        }
        // pve-guest-common `AbstractConfig.pm` `__snapshot_apply_config`: the snapshot's keys
        // (as `__snapshot_copy_config` copies them), but the current description and `unusedN`
        // disks are kept.
        let mut restored = copy_config(&snap);
        restored.description = ct.conf.current.description.clone();
        for (key, value) in &ct.conf.current.options {
            if key.starts_with("unused") && key[6..].parse::<u32>().is_ok() {
                restored.set(key.clone(), value.clone());
            }
        }
        restored.remove("parent");
        restored.set("parent", name.clone());
        ct.conf.current = restored;
        ct.conf.pending = Section::default();
        ct.save()?;
    }
    if params.flag("start") {
        start_container(node, vmid)?;
    }
    Ok(())
}

/// The tree of `PVE::GuestHelpers::print_snapshot_tree`, oldest first, `current` last.
pub fn listsnapshot(node: &Node, argv: &[String]) -> Outcome {
    let params = LISTSNAPSHOT.parse(argv)?;
    let ct = Ct::load(node, params.vmid(0))?;
    let entries = snapshot_list(&ct);
    let mut out = String::new();
    let roots: Vec<&SnapshotEntry> =
        entries.iter().filter(|e| e.parent.as_ref().is_none_or(|p| !entries.iter().any(|x| &x.name == p))).collect();
    for root in sorted_by_time(roots) {
        print_tree(&entries, root, "`->", &mut out);
    }
    print!("{out}");
    Ok(())
}

/// One element of the API's snapshot list (`current` included).
#[derive(Debug, Clone)]
pub struct SnapshotEntry {
    pub name: String,
    pub parent: Option<String>,
    pub snaptime: Option<u64>,
    pub description: String,
}

pub fn snapshot_list(ct: &Ct) -> Vec<SnapshotEntry> {
    let mut list: Vec<SnapshotEntry> = ct
        .conf
        .snapshots
        .iter()
        .map(|(name, s)| SnapshotEntry {
            name: name.clone(),
            parent: s.get("parent").map(str::to_owned),
            snaptime: s.get("snaptime").and_then(|t| t.parse().ok()),
            description: s.description.clone().unwrap_or_default(),
        })
        .collect();
    list.push(SnapshotEntry {
        name: "current".to_owned(),
        parent: ct.get("parent").map(str::to_owned),
        snaptime: None,
        description: "You are here!".to_owned(),
    });
    list
}

fn sorted_by_time(mut entries: Vec<&SnapshotEntry>) -> Vec<&SnapshotEntry> {
    entries.sort_by_key(|e| e.snaptime.unwrap_or(u64::MAX));
    entries
}

fn print_tree(entries: &[SnapshotEntry], entry: &SnapshotEntry, prefix: &str, out: &mut String) {
    let description = entry.description.lines().next().filter(|d| !d.is_empty()).unwrap_or("no-description");
    let time = entry.snaptime.map(datetime).unwrap_or_default();
    let width = 30usize.saturating_sub(prefix.len());
    out.push_str(&format!("{prefix} {:<width$} {time:<23} {description}\n", entry.name));
    let children: Vec<&SnapshotEntry> = entries.iter().filter(|e| e.parent.as_deref() == Some(&entry.name)).collect();
    let deeper = format!("    {prefix}");
    for child in sorted_by_time(children) {
        print_tree(entries, child, &deeper, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, parent: Option<&str>, time: Option<u64>, description: &str) -> SnapshotEntry {
        SnapshotEntry {
            name: name.into(),
            parent: parent.map(Into::into),
            snaptime: time,
            description: description.into(),
        }
    }

    #[test]
    fn snapshot_tree_indents_children_and_puts_current_under_its_parent() {
        let entries = vec![
            entry("first", None, Some(1_700_000_000), "initial\nmore"),
            entry("second", Some("first"), Some(1_700_000_600), ""),
            entry("current", Some("second"), None, "You are here!"),
        ];
        let mut out = String::new();
        print_tree(&entries, &entries[0], "`->", &mut out);
        // `%-Ns` with N = 30 - length(prefix): 27 for the root, 23 and 19 deeper down.
        let expected = concat!(
            "`-> first                       2023-11-14 22:13:20     initial\n",
            "    `-> second                  2023-11-14 22:23:20     no-description\n",
            "        `-> current                                     You are here!\n",
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn snapshot_names_follow_configid_rules() {
        assert!(snapshot_name("snapname", "before-upgrade_1").is_ok());
        assert_eq!(snapshot_name("snapname", "1st").unwrap_err(), "invalid configuration ID '1st'");
        assert!(snapshot_name("snapname", &"a".repeat(41)).is_err());
    }
}
