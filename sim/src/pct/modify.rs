//! `pct set`, `pct resize`, `pct unlock`: changing an existing container's configuration.

use crate::formats::pct_conf::{ConfigFile, Section};
use crate::formats::property_string::PropertyString;
use crate::formats::text::{normalize_tags, parse_size};

use crate::context::Node;
use crate::ct::{volume_path, with_size, Ct};
use crate::lock::{lock_ct, DEFAULT_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

use super::create::canonical_network;
use super::schema::{is_known_key, CONTAINER_FAMILIES, CONTAINER_OPTS};

const SET_ONLY: &[Opt] = &[
    Opt { name: "delete", kind: Kind::Str { min_len: 1, max_len: 4096 } },
    Opt { name: "digest", kind: Kind::Str { min_len: 0, max_len: 40 } },
    Opt { name: "revert", kind: Kind::Str { min_len: 1, max_len: 4096 } },
];

const SET: Spec = Spec {
    usage: "pct set <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[CONTAINER_OPTS, SET_ONLY],
    families: CONTAINER_FAMILIES,
};

/// What a running container takes at once; everything else waits in `[pve:pending]`.
const APPLIED_WHILE_RUNNING: &[&str] = &[
    "hostname",
    "cores",
    "description",
    "onboot",
    "startup",
    "protection",
    "hookscript",
    "tags",
    "lock",
    "memory",
    "swap",
    "cpulimit",
    "cpuunits",
];

const REQUIRED: &[&str] = &["memory", "rootfs", "ostype"];

pub fn set(node: &Node, argv: &[String]) -> Outcome {
    let params = SET.parse(argv)?;
    let vmid = params.vmid(0);
    let mut changes: Vec<(String, String)> = params
        .opts
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "delete" | "digest" | "revert"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let deletes: Vec<String> = params
        .get("delete")
        .map(|d| d.split([',', ';', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if changes.is_empty() && deletes.is_empty() && params.get("revert").is_none() {
        return Err(Failure::new("no options specified"));
    }
    for key in &deletes {
        if !is_known_key(key) && key != "description" {
            return Err(Failure::params(&[("delete".into(), format!("unknown option '{key}'"))], SET.usage));
        }
    }

    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let mut ct = Ct::load(node, vmid)?;
    ct.check_lock(&[])?;
    if changes.iter().any(|(k, _)| k == "unprivileged") || deletes.iter().any(|k| k == "unprivileged") {
        return Err(Failure::new("unable to modify read-only option: 'unprivileged'"));
    }
    let running = ct.is_running();

    for key in &deletes {
        if REQUIRED.contains(&key.as_str()) {
            return Err(Failure::new(format!("unable to delete required option '{key}'")));
        }
        let present = if key == "description" { ct.conf.current.description.is_some() } else { ct.get(key).is_some() };
        if !present {
            eprintln!("cannot delete '{key}' - not set in current configuration!");
            continue;
        }
        // `vmconfig_hotplug_pending` hot-unplugs only `^net(\d)$`: net10…net31 stay pending.
        let unpluggable = is_network(key) && key.len() == "net0".len();
        if running && !APPLIED_WHILE_RUNNING.contains(&key.as_str()) && !unpluggable {
            let mut pending: Vec<String> =
                ct.conf.pending.get("delete").map(|d| d.split(',').map(str::to_owned).collect()).unwrap_or_default();
            if !pending.contains(key) {
                pending.push(key.clone());
            }
            ct.conf.pending.set("delete", pending.join(","));
        } else if key == "description" {
            ct.conf.current.description = None;
        } else {
            ct.conf.current.remove(key);
        }
    }

    for (key, value) in changes.iter_mut() {
        *value = normalize_value(&ct, key, value);
        remove_from_pending_delete(&mut ct.conf.pending, key);
        if key == "description" {
            let description = Some(value.clone()).filter(|v| !v.is_empty());
            ct.conf.current.description = description;
            continue;
        }
        if running && !APPLIED_WHILE_RUNNING.contains(&key.as_str()) && !is_network(key) {
            ct.conf.pending.set(key.clone(), value.clone());
        } else {
            ct.conf.current.set(key.clone(), value.clone());
        }
    }
    cleanup_pending(&mut ct.conf);
    ct.save()
}

/// pve-guest-common `AbstractConfig.pm` `remove_from_pending_delete`: a key set again is no
/// longer pending deletion.
fn remove_from_pending_delete(pending: &mut Section, key: &str) {
    retain_pending_deletes(pending, |deleted| deleted != key);
}

/// `AbstractConfig.pm` `cleanup_pending`: pending values equal to the current ones and pending
/// deletions of keys that are not set are dropped.
fn cleanup_pending(conf: &mut ConfigFile) {
    let current = &conf.current;
    conf.pending.options.retain(|k, v| k == "delete" || current.get(k) != Some(v.as_str()));
    let set = |key: &str| if key == "description" { current.description.is_some() } else { current.get(key).is_some() };
    retain_pending_deletes(&mut conf.pending, set);
}

/// Keep the keys of `pending`'s `delete` list (`parse_pending_delete`: split on `,`, `;` or
/// spaces, `!` marks a forced delete) that `keep` accepts; no key left, no `delete`.
fn retain_pending_deletes(pending: &mut Section, keep: impl Fn(&str) -> bool) {
    let Some(list) = pending.get("delete").map(str::to_owned) else { return };
    let kept: Vec<&str> =
        list.split([',', ';', ' ']).filter(|k| !k.is_empty() && keep(k.trim_start_matches('!'))).collect();
    if kept.is_empty() {
        pending.remove("delete");
    } else {
        pending.set("delete", kept.join(","));
    }
}

fn is_network(key: &str) -> bool {
    key.starts_with("net") && key[3..].parse::<u32>().is_ok()
}

/// Proxmox's normalisations on the way into the config file.
fn normalize_value(ct: &Ct, key: &str, value: &str) -> String {
    match key {
        "tags" => normalize_tags(value).join(";"),
        "nameserver" => value.split([',', ';', ' ']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "),
        _ if is_network(key) => {
            // A device that keeps its name keeps its MAC unless a new one is given.
            let old = ct.get(key).and_then(|v| PropertyString::parse(v, None).ok());
            let new = PropertyString::parse(value, None).unwrap_or_default();
            let old_mac = old.as_ref().filter(|o| o.get("name") == new.get("name")).and_then(|o| o.get("hwaddr"));
            canonical_network(value, old_mac)
        }
        _ => value.to_owned(),
    }
}

const RESIZE: Spec = Spec {
    usage: "pct resize <vmid> <disk> <size> [OPTIONS]",
    args: &[("vmid", Kind::Vmid), ("disk", Kind::Format(disk_key)), ("size", Kind::Format(resize_size))],
    opts: &[&[Opt { name: "digest", kind: Kind::Str { min_len: 0, max_len: 40 } }]],
    families: &[],
};

fn disk_key(_: &str, value: &str) -> Result<(), String> {
    let ok =
        value == "rootfs" || value.strip_prefix("mp").and_then(|i| i.parse::<u32>().ok()).is_some_and(|i| i <= 255);
    if ok {
        Ok(())
    } else {
        Err(format!("value '{value}' does not have a value in the enumeration 'rootfs, mp0, …, mp255'"))
    }
}

fn resize_size(_: &str, value: &str) -> Result<(), String> {
    let body = value.strip_prefix('+').unwrap_or(value);
    let number = match body.char_indices().last() {
        Some((i, c)) if "KMGT".contains(c) => &body[..i],
        _ => body,
    };
    let valid_number = !number.is_empty()
        && number.split('.').count() <= 2
        && number.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if valid_number {
        Ok(())
    } else {
        Err("value does not match the regex pattern".to_owned())
    }
}

pub fn resize(node: &Node, argv: &[String]) -> Outcome {
    let params = RESIZE.parse(argv)?;
    let vmid = params.vmid(0);
    let disk = params.arg(1);
    let request = params.arg(2);
    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let mut ct = Ct::load(node, vmid)?;
    ct.check_lock(&[])?;
    let volume =
        ct.get(disk).map(str::to_owned).ok_or_else(|| Failure::new(format!("unable to parse mountpoint '{disk}'")))?;
    let ps = PropertyString::parse(&volume, Some("volume")).unwrap_or_default();
    let volid = ps.get("volume").unwrap_or_default().to_owned();
    let current = ps.get("size").and_then(parse_size).unwrap_or(0);
    let amount = parse_size(request.trim_start_matches('+')).unwrap_or(0);
    let new_size = if request.starts_with('+') { current + amount } else { amount };
    if new_size < current {
        return Err(Failure::new("unable to shrink disk size"));
    }
    if new_size == current {
        return Err(Failure::new("disk is already at specified size"));
    }
    let path = volume_path(node, &volid)?;
    std::fs::OpenOptions::new().write(true).open(&path)?.set_len(new_size)?;
    if volid.contains('/') {
        println!("Image resized.");
    } else {
        let name = volid.split_once(':').map(|(_, n)| n).unwrap_or(&volid);
        println!("  Size of logical volume pve/{name} changed from {} to {}.", human(current), human(new_size));
        println!("  Logical volume pve/{name} successfully resized.");
    }
    if ct.is_running() {
        println!("resize2fs 1.47.0 (5-Feb-2023)");
        println!("The filesystem on /dev/loop0 is now {} (4k) blocks long.\n", new_size / 4096);
    }
    ct.conf.current.set(disk, with_size(&volume, new_size));
    ct.save()
}

fn human(bytes: u64) -> String {
    format!("{:.2} GiB ({} extents)", bytes as f64 / f64::from(1u32 << 30), bytes / (4 << 20))
}

const UNLOCK: Spec = Spec { usage: "pct unlock <vmid>", args: &[("vmid", Kind::Vmid)], opts: &[], families: &[] };

pub fn unlock(node: &Node, argv: &[String]) -> Outcome {
    let params = UNLOCK.parse(argv)?;
    let vmid = params.vmid(0);
    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let mut ct = Ct::load(node, vmid)?;
    if ct.conf.current.remove("lock").is_none() {
        return Err(Failure::new("no lock found trying to remove any lock"));
    }
    ct.save()
}
