//! `vzdump <vmid> [OPTIONS]`: a backup archive of one container on a storage with `backup`
//! content, as pve-manager `PVE/VZDump.pm` (`new`, `exec_backup`, `exec_backup_task`) and
//! pve-container `src/PVE/VZDump/LXC.pm` (`prepare`, `assemble`, `archive`) make it.
//!
//! What is real: the archive is a tar (GNU tar, compressed with gzip or zstd as asked) of the
//! container's root directory, with `./etc/vzdump/pct.conf` (the config without `lock`,
//! `snapshots`, `parent`, pending changes: `assemble`) and an empty `./etc/vzdump/pct.fw` (or the
//! container's firewall file) first; `<archive>.notes` holds the expanded notes template, and
//! `<basename>.log` the per-guest log lines. Stop mode stops a running container with LXC and
//! starts it again.
//!
//! Retention follows `new` and `exec_backup_task`: `--prune-backups`, else the storage's, else
//! `keep-all=1`; with `--remove 0` a guest at the limit is refused, otherwise older archives are
//! pruned as pve-storage's `prune_mark_backup_group` marks them. One job per node at a time.
//!
//! Simplified: snapshot and suspend modes archive the live directory (no storage snapshot, no
//! freeze); lzo is refused (no `lzop` here); time is the host's clock in UTC.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::clock::datetime;
use crate::cluster::{find_storage, ClusterInfo};
use crate::context::Node;
use crate::ct::Ct;
use crate::formats::text::utc_fields;
use crate::journal::epoch_secs;
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

const VZDUMP: Spec = Spec {
    usage: "vzdump {<vmid>} [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[
        Opt { name: "storage", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "mode", kind: Kind::Enum(&["snapshot", "suspend", "stop"]) },
        Opt { name: "compress", kind: Kind::Enum(&["0", "1", "gzip", "lzo", "zstd"]) },
        Opt { name: "notes-template", kind: Kind::Str { min_len: 0, max_len: 1024 } },
        Opt { name: "remove", kind: Kind::Bool },
        Opt { name: "protected", kind: Kind::Bool },
        Opt { name: "prune-backups", kind: Kind::Str { min_len: 1, max_len: 256 } },
    ]],
    families: &[],
};

/// `format_size` of VZDump.pm: KB below 1 MiB, MB below 1 GiB, then GB/TB with two decimals.
fn format_size(bytes: u64) -> String {
    let kb = bytes as f64 / 1024.0;
    if kb < 1024.0 {
        return format!("{}KB", kb as u64);
    }
    let mb = kb / 1024.0;
    if mb < 1024.0 {
        return format!("{}MB", mb as u64);
    }
    let gb = mb / 1024.0;
    if gb < 1024.0 {
        return format!("{gb:.2}GB");
    }
    format!("{:.2}TB", gb / 1024.0)
}

/// `$verify_notes_template` (pve-manager `PVE/VZDump.pm`): a line feed alone is the error;
/// otherwise every escape other than `\n` and `\\` (`/\\(.)/g`, at the backslash's index) and
/// every `{{var}}` (`/\{\{([^\s{}]+)\}\}/g`, at `pos - length(var)`) that is not `cluster`,
/// `guestname`, `node` or `vmid`, joined after `found unknown: `.
pub fn check_notes_template(template: &str) -> Result<(), String> {
    if template.contains('\n') {
        return Err("contains a line feed".to_owned());
    }
    let chars: Vec<char> = template.chars().collect();
    let mut problems = Vec::new();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == '\\' {
            let c = chars[i + 1];
            if c != 'n' && c != '\\' {
                problems.push(format!("escape sequence '\\{c}' at char {i}"));
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == '{' && chars[i + 1] == '{' {
            let mut j = i + 2;
            while j < chars.len() && !chars[j].is_whitespace() && chars[j] != '{' && chars[j] != '}' {
                j += 1;
            }
            if j > i + 2 && j + 1 < chars.len() && chars[j] == '}' && chars[j + 1] == '}' {
                let var: String = chars[i + 2..j].iter().collect();
                let end = j + 2;
                if !matches!(var.as_str(), "cluster" | "guestname" | "node" | "vmid") {
                    problems.push(format!("variable '{var}' at char {}", end - (j - i - 2)));
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("found unknown: {}", problems.join(", ")))
    }
}

/// `$generate_notes`: escapes, then the variables.
fn expand_notes(template: &str, cluster: &str, guest: &str, node: &str, vmid: u32) -> String {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('n')) => {
                chars.next();
                out.push('\n');
            }
            ('\\', Some('\\')) => {
                chars.next();
                out.push('\\');
            }
            _ => out.push(c),
        }
    }
    out.replace("{{cluster}}", cluster)
        .replace("{{guestname}}", guest)
        .replace("{{node}}", node)
        .replace("{{vmid}}", &vmid.to_string())
}

/// A `prune-backups` property string as keep options (`keep-last` → 3, …).
fn parse_keep(text: &str) -> std::collections::BTreeMap<String, u64> {
    text.split(',')
        .filter_map(|p| p.split_once('='))
        .filter_map(|(k, v)| Some((k.trim().to_owned(), v.trim().parse().ok()?)))
        .collect()
}

/// ISO 8601 week and week-year of a UTC instant (`strftime("%V")`, `"%G"`).
fn iso_week(epoch: u64) -> (i64, u32) {
    let days = (epoch / 86_400) as i64;
    let weekday = (days + 3).rem_euclid(7); // Monday = 0
    let thursday = days - weekday + 3;
    let year = utc_fields((thursday * 86_400) as u64).0;
    // The week-year's 1 January: walk back from that Thursday (at most a year of days).
    let mut jan1 = thursday;
    while utc_fields(((jan1 - 1) * 86_400) as u64).0 == year {
        jan1 -= 1;
    }
    (year, ((thursday - jan1) / 7 + 1) as u32)
}

/// The retention bucket an archive's time falls in (one `$id_func` of `prune_mark_backup_group`).
type BucketOf = fn(u64) -> String;

/// pve-storage `Storage.pm` `prune_mark_backup_group` with its `$prune_mark`: newest first,
/// `keep-last`, then one per hour, day, ISO week, month and year (host time: UTC here); what no
/// rule keeps is removed. Returns the archives to remove.
fn prune_marks(mut group: Vec<(String, u64)>, keep: &std::collections::BTreeMap<String, u64>) -> Vec<String> {
    if keep.get("keep-all").is_some_and(|v| *v > 0) || !keep.iter().any(|(k, v)| k != "keep-all" && *v > 0) {
        return Vec::new();
    }
    group.sort_by_key(|b| std::cmp::Reverse(b.1));
    let mut marks: Vec<Option<bool>> = vec![None; group.len()];
    let rules: [(&str, BucketOf); 6] = [
        ("keep-last", |t| t.to_string()),
        ("keep-hourly", |t| {
            let (y, m, d, h, ..) = utc_fields(t);
            format!("{h}/{d}/{m}/{y}")
        }),
        ("keep-daily", |t| {
            let (y, m, d, ..) = utc_fields(t);
            format!("{d}/{m}/{y}")
        }),
        ("keep-weekly", |t| {
            let (year, week) = iso_week(t);
            format!("{week}/{year}")
        }),
        ("keep-monthly", |t| {
            let (y, m, ..) = utc_fields(t);
            format!("{m}/{y}")
        }),
        ("keep-yearly", |t| utc_fields(t).0.to_string()),
    ];
    for (key, id_of) in rules {
        let Some(count) = keep.get(key).copied().filter(|c| *c > 0) else { continue };
        let already: std::collections::BTreeSet<String> =
            group.iter().zip(&marks).filter(|(_, m)| **m == Some(true)).map(|((_, t), _)| id_of(*t)).collect();
        let mut newly = std::collections::BTreeSet::new();
        for (i, (_, t)) in group.iter().enumerate() {
            let id = id_of(*t);
            if marks[i].is_some() || already.contains(&id) {
                continue;
            }
            if !newly.contains(&id) {
                if newly.len() as u64 >= count {
                    break;
                }
                newly.insert(id);
                marks[i] = Some(true);
            } else {
                marks[i] = Some(false);
            }
        }
    }
    group.into_iter().zip(marks).filter(|(_, m)| *m != Some(true)).map(|((v, _), _)| v).collect()
}

/// vzdump's node-wide lock (`/var/run/vzdump.lock`, `getlock`): taken at once, or after
/// `trying to get global lock - waiting...` once the running job ends.
fn global_lock(node: &Node) -> Result<std::fs::File, Failure> {
    let path = node.local_dir().join("run/vzdump.lock");
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let file = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
    if file.try_lock().is_err() {
        println!("INFO: trying to get global lock - waiting...");
        file.lock()?;
        println!("INFO: got global lock");
    }
    Ok(file)
}

/// Print `INFO: <line>` (stdout, as the CLI's worker tee shows it) and keep it for the log file.
struct Log {
    lines: Vec<String>,
}

impl Log {
    fn info(&mut self, line: impl AsRef<str>) {
        println!("INFO: {}", line.as_ref());
        self.lines.push(format!("{} INFO: {}", datetime(epoch_secs()), line.as_ref()));
    }
}

pub fn vzdump(node: &Node, argv: &[String]) -> Outcome {
    let params = VZDUMP.parse(argv)?;
    let vmid = params.vmid(0);
    if let Some(template) = params.get("notes-template") {
        if params.get("storage").is_none() {
            return Err(Failure::params(
                &[("storage".into(), "missing property required by 'notes-template'".into())],
                VZDUMP.usage,
            ));
        }
        if let Err(e) = check_notes_template(template) {
            return Err(Failure::params(&[("notes-template".into(), e)], VZDUMP.usage));
        }
    }
    let storage_id = params.get("storage").unwrap_or("local").to_owned();
    let compress = params.get("compress").unwrap_or("0");
    let extension = match compress {
        "0" => ".tar",
        "gzip" => ".tar.gz",
        "zstd" => ".tar.zst",
        _ => return Err(Failure::with_code(255, "lws-sim: lzo compression is not simulated (no lzop)")),
    };
    let mut command_line = format!("vzdump {vmid}");
    for (name, value) in &params.opts {
        command_line.push_str(&format!(" --{name} {}", shell_quote(value)));
    }
    // `PVE::VZDump::new` (in the worker, before any line): the storage must take backups.
    let storage = match find_storage(node, &storage_id) {
        Err(e) => {
            let m = e.message.trim_end();
            return Err(Failure::with_code(
                255,
                format!("could not activate storage '{storage_id}': {m} could not get storage information for '{storage_id}': {m}"),
            ));
        }
        Ok(s) if s.disabled => {
            return Err(Failure::with_code(
                255,
                format!("could not activate storage '{storage_id}': storage '{storage_id}' is disabled"),
            ));
        }
        Ok(s) if !s.supports("backup") => {
            return Err(Failure::with_code(
                255,
                format!("could not get storage information for '{storage_id}': can't use storage '{storage_id}' for backups - wrong content type"),
            ));
        }
        Ok(s) => s,
    };
    // `PVE::VZDump::new`: `--prune-backups`, else the storage's, else `keep-all=1`; `keep-all`
    // turns `remove` off.
    let keep = parse_keep(params.get("prune-backups").or(storage.prune_backups.as_deref()).unwrap_or("keep-all=1"));
    let keep_all = keep.get("keep-all").is_some_and(|v| *v > 0);
    let remove = !keep_all && params.get("remove").is_none_or(crate::formats::fw_conf::perl_true);
    let dump_dir = storage.base_dir(node).join("dump");
    fs::create_dir_all(&dump_dir)?;
    let shown_dir = format!("{}/dump", storage.path.as_deref().unwrap_or("/var/lib/vz").trim_end_matches('/'));

    // `get_included_guests`: a guest of another node is skipped; with nothing left for this node
    // the API answers `OK` and the CLI exits 0 without a word.
    if node.locate(vmid).is_some_and(|owner| owner != node.name) {
        return Ok(());
    }
    // The API worker's `getlock` (`PVE/VZDump.pm`): one vzdump job per node at a time, waiting
    // for the one running (`lockwait`, 180 minutes by default).
    let _global = global_lock(node)?;
    println!("INFO: starting new backup job: {command_line}");
    let Some(mut ct) = Ct::try_load(node, vmid)? else {
        println!("ERROR: Backup of VM {vmid} failed - unable to find VM '{vmid}'");
        println!("INFO: Failed at {}", datetime(epoch_secs()));
        println!("INFO: Backup job finished with errors");
        return Err(Failure::with_code(255, "job errors"));
    };
    // `exec_backup_task`: with retention but no removal, a guest at its limit is refused.
    let backup_limit: u64 = if keep_all { 0 } else { keep.values().sum() };
    if backup_limit > 0 && !remove {
        let existing = crate::storage_content::list_backups(node, &storage, Some(vmid));
        let count = existing
            .iter()
            // `!$_->{subtype} || $_->{subtype} eq $vmtype`: every entry has a subtype, so
            // archives of unknown type are not counted.
            .filter(|b| b["subtype"] == "lxc")
            .filter(|b| b.get("protected").is_none())
            .count() as u64;
        if count >= backup_limit {
            println!(
                "ERROR: Backup of VM {vmid} failed - There is a max backup limit of {backup_limit} enforced by the target storage or the vzdump parameters. Either increase the limit or delete old backups."
            );
            println!("INFO: Failed at {}", datetime(epoch_secs()));
            println!("INFO: Backup job finished with errors");
            return Err(Failure::with_code(255, "job errors"));
        }
    }
    let started = epoch_secs();
    let clock = Instant::now();
    let mut log = Log { lines: Vec::new() };
    log.info(format!("Starting Backup of VM {vmid} (lxc)"));
    println!("INFO: Backup started at {}", datetime(started));
    let running = ct.is_running();
    log.info(format!("status = {}", if running { "running" } else { "stopped" }));
    // pve-container `VZDump/LXC.pm` `lock_vm`: `set_lock($vmid, 'backup')`, which fails on a
    // container already locked (pve-guest-common `AbstractConfig.pm` `check_lock`).
    if let Some(lock) = ct.get("lock").map(str::to_owned) {
        println!("ERROR: Backup of VM {vmid} failed - CT is locked ({lock})");
        println!("INFO: Failed at {}", datetime(epoch_secs()));
        println!("INFO: Backup job finished with errors");
        return Err(Failure::with_code(255, "job errors"));
    }
    ct.conf.current.set("lock", "backup");
    ct.save()?;
    let mode = if running { params.get("mode").unwrap_or("snapshot") } else { "stop" };
    let prepare = |log: &mut Log| {
        if let Some(name) = ct.get("hostname") {
            log.info(format!("CT Name: {name}"));
        }
        log.info("including mount point rootfs ('/') in backup");
    };
    if mode == "snapshot" {
        prepare(&mut log);
        log.info("backup mode: snapshot");
        log.info("ionice priority: 7");
        log.info("create storage snapshot 'vzdump'");
    } else {
        log.info(format!("backup mode: {mode}"));
        log.info("ionice priority: 7");
        prepare(&mut log);
    }
    let restart = mode == "stop" && running;
    if restart {
        log.info("stopping virtual guest");
        ct.stop_lxc(None)?;
    }

    // Archives are named to the second. A real backup takes longer than that; the simulator's
    // can take less, so it waits for a name no archive of this guest has rather than overwrite.
    let name_at = |t: u64| {
        let (y, mo, d, h, mi, s) = utc_fields(t);
        format!("vzdump-lxc-{vmid}-{y:04}_{mo:02}_{d:02}-{h:02}_{mi:02}_{s:02}")
    };
    let mut stamp = started;
    while fs::read_dir(&dump_dir)
        .map(|rd| rd.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with(&name_at(stamp))))
        .unwrap_or(false)
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
        stamp = epoch_secs();
    }
    let basename = name_at(stamp);
    let file = format!("{basename}{extension}");
    let target = dump_dir.join(&file);
    log.info(format!("creating vzdump archive '{shown_dir}/{file}'"));
    let archived = write_archive(&ct, node, &dump_dir, &basename, &target, compress);
    // `unlock_vm` (the cleanup after the archive, whatever it did), before any restart.
    let mut ct = Ct::load(node, vmid)?;
    ct.conf.current.remove("lock");
    ct.save()?;
    let written = archived?;
    log.info(format!("Total bytes written: {written} ({}, 200MiB/s)", human(written)));
    let size = fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    log.info(format!("archive file size: {}", format_size(size)));
    if let Some(template) = params.get("notes-template").filter(|t| !t.is_empty()) {
        log.info("adding notes to backup");
        let info = ClusterInfo::load(node)?;
        let cluster = if info.is_clustered() { info.name.clone() } else { "standalone node".to_owned() };
        let guest = ct.get("hostname").map(str::to_owned).unwrap_or_else(|| format!("CT{vmid}"));
        let notes = expand_notes(template, &cluster, &guest, &node.name, vmid);
        fs::write(dump_dir.join(format!("{file}.notes")), notes)?;
    }
    if params.flag("protected") {
        log.info("marking backup as protected");
        fs::write(dump_dir.join(format!("{file}.protected")), "")?;
    }
    if remove {
        let keepstr: Vec<String> = keep.iter().map(|(k, v)| format!("{k}={v}")).collect();
        log.info(format!("prune older backups with retention: {}", keepstr.join(", ")));
        // `prune_backups`: standard-named, unprotected archives of this guest.
        let group: Vec<(String, u64)> = crate::storage_content::list_backups(node, &storage, Some(vmid))
            .iter()
            .filter(|b| b["subtype"] == "lxc" && b.get("protected").is_none())
            .filter_map(|b| Some((b["volid"].as_str()?.to_owned(), b["ctime"].as_u64()?)))
            .collect();
        let doomed = prune_marks(group, &keep);
        for volid in &doomed {
            log.info(format!("removing backup '{volid}'"));
            crate::storage_content::remove_archive(node, &storage, volid);
        }
        let extra = if doomed.is_empty() { "" } else { " not covered by keep-retention policy" };
        log.info(format!("pruned {} backup(s){extra}", doomed.len()));
    }
    if mode == "snapshot" {
        log.info("cleanup temporary 'vzdump' snapshot");
    }
    if restart {
        log.info("restarting vm");
        ct.start_lxc()?;
        log.info("guest is online again after 1 seconds");
    }
    let took = clock.elapsed().as_secs();
    log.info(format!("Finished Backup of VM {vmid} ({:02}:{:02}:{:02})", took / 3600, took / 60 % 60, took % 60));
    println!("INFO: Backup finished at {}", datetime(epoch_secs()));
    let mut text = log.lines.join("\n");
    text.push('\n');
    fs::write(dump_dir.join(format!("{basename}.log")), text)?;
    println!("INFO: Backup job finished successfully");
    Ok(())
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1}GiB", bytes as f64 / f64::from(1u32 << 30))
    } else {
        format!("{}MiB", bytes >> 20)
    }
}

/// String::ShellQuote as `command_line` uses it: bare when safe, else single quotes.
fn shell_quote(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c)) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// `LXC.pm` `assemble` + `archive`: `./etc/vzdump/pct.conf` and `pct.fw` first, then the root
/// (`--one-file-system`, `/tmp/?*`, `/var/tmp/?*`, `/var/run/?*.pid` excluded), written to the
/// `.dat` temporary and renamed. Returns tar's byte count.
fn write_archive(
    ct: &Ct,
    node: &Node,
    dump_dir: &Path,
    basename: &str,
    target: &Path,
    compress: &str,
) -> Result<u64, Failure> {
    let tmp = dump_dir.join(format!("{basename}.tmp"));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(tmp.join("etc/vzdump"))?;
    let mut conf = ct.conf.clone();
    conf.current.options.remove("lock");
    conf.current.options.remove("parent");
    conf.snapshots.clear();
    conf.pending = Default::default();
    fs::write(tmp.join("etc/vzdump/pct.conf"), conf.write())?;
    let fw = fs::read_to_string(node.firewall_dir().join(format!("{}.fw", ct.vmid))).unwrap_or_default();
    fs::write(tmp.join("etc/vzdump/pct.fw"), fw)?;
    let partial = target.with_extension("dat");
    let mut tar = Command::new("tar");
    tar.arg("cpf").arg(&partial).arg("--totals").arg("--numeric-owner").arg("--one-file-system");
    match compress {
        "gzip" => {
            tar.arg("--gzip");
        }
        "zstd" => {
            tar.arg("--zstd");
        }
        _ => {}
    }
    tar.arg("--warning=no-file-ignored")
        .arg(format!("--directory={}", tmp.display()))
        .arg("./etc/vzdump/pct.conf")
        .arg("./etc/vzdump/pct.fw")
        .arg(format!("--directory={}", ct.root().display()))
        .arg("--no-anchored")
        .arg("--exclude=lost+found")
        .arg("--anchored")
        .arg("--exclude=./tmp/?*")
        .arg("--exclude=./var/tmp/?*")
        .arg("--exclude=./var/run/?*.pid")
        .arg("--exclude=./etc/vzdump")
        .arg(".");
    let out = tar.output()?;
    let _ = fs::remove_dir_all(&tmp);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let _ = fs::remove_file(&partial);
        return Err(Failure::with_code(255, format!("lws-sim: tar failed: {}", stderr.trim())));
    }
    fs::rename(&partial, target)?;
    // GNU tar's `--totals`: `Total bytes written: N (…)`.
    let written = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Total bytes written: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_templates_are_checked_and_expanded_as_vzdump_does() {
        assert!(check_notes_template("{{guestname}} on {{node}}\\n{{vmid}}").is_ok());
        assert_eq!(check_notes_template("{{owner}}").unwrap_err(), "found unknown: variable 'owner' at char 4");
        assert_eq!(check_notes_template("a\nb").unwrap_err(), "contains a line feed");
        assert!(check_notes_template("{{ owner }}").is_ok(), "spaces are not a variable");
        assert!(check_notes_template("a\\tb").unwrap_err().contains("escape sequence '\\t' at char 1"));
        assert_eq!(
            expand_notes("{{guestname}}\\n{{cluster}} \\\\ {{vmid}}", "standalone node", "web", "pve", 101),
            "web\nstandalone node \\ 101"
        );
    }

    #[test]
    fn retention_keeps_the_newest_and_one_per_period() {
        let day = 86_400;
        let group: Vec<(String, u64)> = (0..5).map(|i| (format!("b{i}"), 1_700_000_000 + i * day)).collect();
        let keep = parse_keep("keep-last=2");
        let mut removed = prune_marks(group.clone(), &keep);
        removed.sort();
        assert_eq!(removed, vec!["b0", "b1", "b2"]);
        assert!(prune_marks(group.clone(), &parse_keep("keep-all=1")).is_empty());
        let removed = prune_marks(group, &parse_keep("keep-last=1,keep-daily=2"));
        assert_eq!(removed.len(), 2, "the newest, then the next two days: {removed:?}");
        assert_eq!(iso_week(1_700_000_000), (2023, 46), "2023-11-14 is in ISO week 46");
    }

    #[test]
    fn sizes_are_printed_as_vzdump_does() {
        assert_eq!(format_size(10 * 1024), "10KB");
        assert_eq!(format_size(402 << 20), "402MB");
        assert_eq!(format_size(3 << 30), "3.00GB");
    }
}
