//! `/cluster/backup`: Proxmox's backup jobs (pve-manager `PVE/API2/Backup.pm` `index`,
//! `create_job`, `read_job`, `update_job`, `delete_job`), kept in `/etc/pve/jobs.cfg` as
//! pve-common `PVE/SectionConfig.pm` writes it (`vzdump: <id>`, then `comment` — `encode_text`
//! escaped by `PVE/Job/Registry.pm` `write_config` — then the required `schedule`, then every
//! other option sorted, each `\t<key> <value>`, booleans `0`/`1`, a blank line after each).
//!
//! Simplified: the calendar-event grammar (Rust `proxmox-time`) is a subset — weekday lists and
//! ranges, `HH:MM` with `*` and `/step`, and the keywords — and `next-run` is computed only for
//! that subset; pools, `starttime`/`dow` and legacy `vzdump.cron` jobs are not simulated.

use std::collections::BTreeMap;
use std::fs;

use serde_json::{json, Map, Value};

use super::Request;
use crate::context::{write_atomic, Node};
use crate::formats::text::{decode_text, encode_text};
use crate::journal::epoch_secs;
use crate::lock::lock_cfs_file;
use crate::output::Failure;
use crate::params::Kind;

/// One job: its options as stored (strings), by key.
type Job = BTreeMap<String, String>;

const BOOLEANS: &[&str] = &["all", "enabled", "remove", "protected", "repeat-missed"];
const INTEGERS: &[&str] = &["bwlimit", "ionice", "pigz", "zstd"];
/// Options of a vzdump job the simulator takes (pve-guest-common `src/PVE/VZDump/Common.pm`
/// `$confdesc`, the subset LWS uses, plus the job's own).
fn options() -> Vec<(&'static str, Kind)> {
    vec![
        ("schedule", Kind::Format(check_schedule)),
        ("vmid", Kind::Format(check_vmid_list)),
        ("all", Kind::Bool),
        ("exclude", Kind::Format(check_vmid_list)),
        ("storage", Kind::Str { min_len: 1, max_len: 64 }),
        ("mode", Kind::Enum(&["snapshot", "suspend", "stop"])),
        ("compress", Kind::Enum(&["0", "1", "gzip", "lzo", "zstd"])),
        ("enabled", Kind::Bool),
        ("comment", Kind::Str { min_len: 0, max_len: 512 }),
        ("notes-template", Kind::Str { min_len: 0, max_len: 1024 }),
        ("prune-backups", Kind::Format(check_prune_backups)),
        ("remove", Kind::Bool),
        ("protected", Kind::Bool),
        ("repeat-missed", Kind::Bool),
        ("mailto", Kind::Str { min_len: 0, max_len: 512 }),
    ]
}

fn jobs_path(node: &Node) -> std::path::PathBuf {
    node.pve_dir().join("jobs.cfg")
}

/// `PVE::Job::Registry` `parse_config`: `vzdump` sections only, `enabled` defaults to 1,
/// `comment` decoded.
fn load(node: &Node) -> Vec<(String, Job)> {
    let text = fs::read_to_string(jobs_path(node)).unwrap_or_default();
    let mut jobs: Vec<(String, Job)> = Vec::new();
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("vzdump: ") {
            jobs.push((id.trim().to_owned(), Job::new()));
        } else if let (Some(rest), Some((_, job))) = (line.strip_prefix('\t'), jobs.last_mut()) {
            let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
            let value = if key == "comment" { decode_text(value) } else { value.to_owned() };
            job.insert(key.to_owned(), value);
        }
    }
    for (_, job) in &mut jobs {
        job.entry("enabled".to_owned()).or_insert_with(|| "1".to_owned());
    }
    jobs
}

fn save(node: &Node, jobs: &[(String, Job)]) -> Result<(), Failure> {
    let mut out = String::new();
    for (id, job) in jobs {
        out.push_str(&format!("vzdump: {id}\n"));
        if let Some(comment) = job.get("comment").filter(|c| !c.is_empty()) {
            out.push_str(&format!("\tcomment {}\n", encode_text(comment)));
        }
        if let Some(schedule) = job.get("schedule") {
            out.push_str(&format!("\tschedule {schedule}\n"));
        }
        for (key, value) in job.iter().filter(|(k, _)| !matches!(k.as_str(), "comment" | "schedule")) {
            if !value.is_empty() {
                out.push_str(&format!("\t{key} {value}\n"));
            }
        }
        out.push('\n');
    }
    write_atomic(&jobs_path(node), &out)?;
    Ok(())
}

/// A job as the API returns it: stored keys (numbers and booleans numified), `prune-backups` as
/// an object, plus `type` and `id`.
fn job_json(id: &str, job: &Job) -> Value {
    let mut map = Map::new();
    for (key, value) in job {
        let json = if BOOLEANS.contains(&key.as_str()) {
            json!(u8::from(crate::formats::fw_conf::perl_true(value)))
        } else if INTEGERS.contains(&key.as_str()) {
            value.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(value))
        } else if key == "prune-backups" {
            let parts: Map<String, Value> =
                value.split(',').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), json!(v))).collect();
            Value::Object(parts)
        } else {
            json!(value)
        };
        map.insert(key.clone(), json);
    }
    map.insert("type".to_owned(), json!("vzdump"));
    map.insert("id".to_owned(), json!(id));
    Value::Object(map)
}

/// `pve-configid`: `^[a-z][a-z0-9_-]+$` (case-insensitive).
fn check_configid(_: &str, id: &str) -> Result<(), String> {
    let ok = id.len() >= 2
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("invalid configuration ID '{id}'"))
    }
}

/// `pve-vmid-list`: VMIDs separated by commas, spaces or semicolons.
fn check_vmid_list(_: &str, list: &str) -> Result<(), String> {
    for id in list.split([',', ';', ' ']).filter(|s| !s.is_empty()) {
        if !crate::params::is_vmid(id) {
            return Err(format!("value '{id}' does not look like a valid VM ID"));
        }
    }
    Ok(())
}

/// pve-storage `prune-backups`: `keep-<period>=<n>` pairs (or `keep-all=1`).
fn check_prune_backups(_: &str, value: &str) -> Result<(), String> {
    const KEYS: &[&str] =
        &["keep-all", "keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"];
    for part in value.split(',') {
        let Some((key, n)) = part.split_once('=') else { return Err(format!("unable to parse '{part}'")) };
        if !KEYS.contains(&key) || n.parse::<u32>().is_err() {
            return Err(format!("invalid key or value '{part}'"));
        }
    }
    Ok(())
}

/// One calendar field (`5`, `05`, `*`, `*/15`, `0/15`, `1,13`, `8..17`) as the values it allows
/// in `min..limit`.
fn field(spec: &str, min: u32, limit: u32) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let (base, step) = match part.split_once('/') {
            Some((b, s)) => (b, Some(s.parse::<u32>().ok().filter(|s| *s > 0)?)),
            None => (part, None),
        };
        let number = |text: &str| text.parse::<u32>().ok().filter(|v| (min..limit).contains(v));
        let (from, to) = match base {
            "*" => (min, limit - 1),
            _ => match base.split_once("..") {
                Some((a, b)) => (number(a)?, number(b)?),
                None => {
                    let v = number(base)?;
                    (v, if step.is_some() { limit - 1 } else { v })
                }
            },
        };
        if from > to {
            return None;
        }
        out.extend((from..=to).step_by(step.unwrap_or(1) as usize));
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// A calendar event of the subset the simulator knows.
struct Event {
    weekdays: Vec<u32>,
    months: Vec<u32>,
    days: Vec<u32>,
    hours: Vec<u32>,
    minutes: Vec<u32>,
}

/// `[weekdays] [[YYYY-]MM-DD] [HH:MM[:SS]] [UTC]` or a keyword (pve-common `PVE/CalendarEvent.pm`,
/// systemd.time(7)'s subset that Proxmox documents).
fn parse_event(text: &str) -> Option<Event> {
    let text = text.trim();
    let text = text.strip_suffix(" UTC").or_else(|| text.strip_suffix(" utc")).unwrap_or(text).trim();
    let expanded = match text {
        "minutely" => "*:*",
        "hourly" => "*:00",
        "daily" => "00:00",
        "weekly" => "mon 00:00",
        "monthly" => "*-*-01 00:00",
        "yearly" | "annually" => "*-01-01 00:00",
        "quarterly" => "*-01,04,07,10-01 00:00",
        "semiannually" => "*-01,07-01 00:00",
        other => other,
    };
    let mut event = Event {
        weekdays: (0..7).collect(),
        months: (1..13).collect(),
        days: (1..32).collect(),
        hours: (0..24).collect(),
        minutes: vec![0],
    };
    let mut words = expanded.split_whitespace().peekable();
    if let Some(days) = words.peek().and_then(|w| weekdays(w)) {
        event.weekdays = days;
        words.next();
    }
    if let Some(date) = words.peek().filter(|w| w.contains('-') && !w.contains(':')) {
        let parts: Vec<&str> = date.split('-').collect();
        let (month, day) = match parts[..] {
            [_year, month, day] => (month, day),
            [month, day] => (month, day),
            _ => return None,
        };
        event.months = field(month, 1, 13)?;
        event.days = field(day, 1, 32)?;
        words.next();
    }
    match words.next() {
        Some(time) => {
            let parts: Vec<&str> = time.split(':').collect();
            match parts[..] {
                [h, m] | [h, m, _] => {
                    event.hours = field(h, 0, 24)?;
                    event.minutes = field(m, 0, 60)?;
                }
                // A lone field is minutes (`*/15`: every quarter hour).
                [m] => event.minutes = field(m, 0, 60)?,
                _ => return None,
            }
        }
        None if expanded != text || event.months.len() < 12 || event.days.len() < 31 || event.weekdays.len() < 7 => {
            event.hours = vec![0];
        }
        None => return None,
    }
    if words.next().is_some() {
        return None;
    }
    Some(event)
}

/// The weekdays of a calendar event's weekday part (`mon`, `mon..fri`, `sat,sun`), Monday = 0.
fn weekdays(spec: &str) -> Option<Vec<u32>> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let day = |d: &str| {
        let d = d.to_lowercase();
        DAYS.iter().position(|x| d.len() >= 3 && d.starts_with(x)).map(|p| p as u32)
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                out.extend(if a <= b { (a..=b).collect::<Vec<_>>() } else { (a..7).chain(0..=b).collect() });
            }
            None => out.push(day(part)?),
        }
    }
    Some(out)
}

/// `pve-calendar-event` (pve-common `PVE/CalendarEvent.pm` `pve_verify_calendar_event`).
fn check_schedule(_: &str, text: &str) -> Result<(), String> {
    match parse_event(text) {
        Some(_) => Ok(()),
        None if text.trim().is_empty() => Err(format!("invalid calendar event '{text}' - event is empty\n")),
        None => Err(format!(
            "invalid calendar event '{text}' - unable to parse calendar event at '{text}' - Context(\"weekday\")\n"
        )),
    }
}

/// The next time after `now` the event fires (UTC; the simulated hosts run in UTC).
fn next_run(text: &str, now: u64) -> Option<u64> {
    let event = parse_event(text)?;
    let mut t = (now / 60 + 1) * 60;
    // Up to four years ahead (a 29 February).
    for _ in 0..(4 * 366 * 24 * 60) {
        let days = t / 86_400;
        let weekday = ((days + 3) % 7) as u32; // 1970-01-01 was a Thursday (Monday = 0)
        let (_, month, day, h, m, _) = crate::formats::text::utc_fields(t);
        let (h, m) = (h as u32, m as u32);
        if event.weekdays.contains(&weekday)
            && event.months.contains(&month)
            && event.days.contains(&day)
            && event.hours.contains(&h)
            && event.minutes.contains(&m)
        {
            return Some(t);
        }
        // Skip whole days or hours that cannot match.
        t += if !event.days.contains(&day) || !event.months.contains(&month) || !event.weekdays.contains(&weekday) {
            86_400 - t % 86_400
        } else if !event.hours.contains(&h) {
            3600 - t % 3600
        } else {
            60
        };
    }
    None
}

pub fn jobs(req: &Request<'_>, rest: &[&str]) -> Result<Value, Failure> {
    let mut known = options();
    let _lock;
    match (req.verb, rest) {
        ("get", []) => {
            req.allow(&[])?;
            let now = epoch_secs();
            let list = load(req.node)
                .iter()
                .map(|(id, job)| {
                    let mut entry = job_json(id, job);
                    if let Some(next) = job.get("schedule").and_then(|s| next_run(s, now)) {
                        entry["next-run"] = json!(next);
                    }
                    entry
                })
                .collect();
            Ok(Value::Array(list))
        }
        ("create", []) => {
            known.push(("id", Kind::Format(check_configid)));
            req.allow(&known)?;
            if req.param("schedule").is_none() {
                return Err(Failure::params(
                    &[("schedule".into(), "neither 'starttime' nor 'schedule' were set".into())],
                    &req.usage(),
                ));
            }
            let id = req.param("id").map(str::to_owned).unwrap_or_else(|| {
                let hex = crate::rng::hex(32);
                format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
            });
            _lock = lock_cfs_file(req.node, "jobs.cfg")?;
            let mut jobs = load(req.node);
            if jobs.iter().any(|(j, _)| *j == id) {
                return Err(Failure::new(format!("Job '{id}' already exists")));
            }
            let mut job: Job =
                req.params.iter().filter(|(k, _)| *k != "id").map(|(k, v)| (k.clone(), v.clone())).collect();
            job.entry("enabled".to_owned()).or_insert_with(|| "1".to_owned());
            verify(&mut job, true)?;
            normalize_booleans(&mut job);
            jobs.push((id, job));
            save(req.node, &jobs)?;
            Ok(Value::Null)
        }
        ("get", [id]) => {
            req.allow(&[])?;
            load(req.node)
                .iter()
                .find(|(j, _)| j == id)
                .map(|(j, job)| job_json(j, job))
                .ok_or_else(|| Failure::params(&[("id".into(), format!("No such job '{id}'"))], &req.usage()))
        }
        ("set", [id]) => {
            known.push(("delete", Kind::Str { min_len: 1, max_len: 4096 }));
            req.allow(&known)?;
            _lock = lock_cfs_file(req.node, "jobs.cfg")?;
            let delete: Vec<String> = req
                .param("delete")
                .map(|d| d.split([',', ';', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default();
            let given: Job =
                req.params.iter().filter(|(k, _)| *k != "delete").map(|(k, v)| (k.clone(), v.clone())).collect();
            if given.is_empty() && delete.is_empty() {
                return Err(Failure::new("no options specified"));
            }
            verify(&mut given.clone(), false)?;
            let mut jobs = load(req.node);
            let Some((_, job)) = jobs.iter_mut().find(|(j, _)| j == id) else {
                return Err(Failure::new("no such vzdump job"));
            };
            for key in &delete {
                let deletable = options().iter().any(|(k, _)| k == key && !matches!(*k, "schedule" | "enabled"))
                    || key == "comment"
                    || key == "repeat-missed";
                if !deletable {
                    return Err(Failure::new(format!(
                        "400 Parameter verification failed.\ndelete: unknown option '{key}'\n"
                    )));
                }
                job.remove(key);
            }
            for (key, value) in &given {
                job.insert(key.clone(), value.clone());
            }
            // `update_job`: `all` follows a stored `exclude`; a given `vmid` drops `all` and
            // `exclude`, a given `all` drops `vmid` (pools are not simulated).
            if job.contains_key("exclude") {
                job.insert("all".to_owned(), "1".to_owned());
            }
            if given.contains_key("vmid") {
                job.remove("all");
                job.remove("exclude");
            } else if given.get("all").is_some_and(|a| crate::formats::fw_conf::perl_true(a)) {
                job.remove("vmid");
            }
            verify(job, true)?;
            normalize_booleans(job);
            save(req.node, &jobs)?;
            Ok(Value::Null)
        }
        ("delete", [id]) => {
            req.allow(&[])?;
            _lock = lock_cfs_file(req.node, "jobs.cfg")?;
            let mut jobs = load(req.node);
            let before = jobs.len();
            jobs.retain(|(j, _)| j != id);
            if jobs.len() == before {
                return Err(Failure::new(format!("400 Parameter verification failed.\nid: No such job '{id}'\n")));
            }
            save(req.node, &jobs)?;
            Ok(Value::Null)
        }
        _ => Err(req.no_handler()),
    }
}

/// `PVE::VZDump::verify_vzdump_parameters`, raised inside the config lock and so stringified
/// without a usage line; like it, sets `all` when `exclude` is given (no pools here).
fn verify(job: &mut Job, check_missing: bool) -> Result<(), Failure> {
    let set = |job: &Job, k: &str| job.get(k).is_some_and(|v| !v.is_empty() && v != "0");
    for other in ["all", "exclude"] {
        if set(job, other) && set(job, "vmid") {
            return Err(Failure::new(format!(
                "400 Parameter verification failed.\n{other}: option conflicts with option 'vmid'\n"
            )));
        }
    }
    if let Some(template) = job.get("notes-template").filter(|t| !t.is_empty()) {
        if let Err(e) = crate::vzdump::check_notes_template(template) {
            return Err(Failure::new(format!("400 Parameter verification failed.\nnotes-template: {e}\n")));
        }
    }
    if job.contains_key("exclude") {
        job.insert("all".to_owned(), "1".to_owned());
    }
    if check_missing && !set(job, "all") && !set(job, "vmid") {
        return Err(Failure::new("400 Parameter verification failed.\nvmid: property is missing\n"));
    }
    Ok(())
}

/// `format_config_line`: booleans are written `0`/`1`.
fn normalize_booleans(job: &mut Job) {
    for (key, value) in job.iter_mut() {
        if BOOLEANS.contains(&key.as_str()) {
            *value = u8::from(crate::formats::fw_conf::perl_true(value)).to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_events_of_the_subset_parse_and_fire() {
        assert!(check_schedule("", "21:00").is_ok());
        assert!(check_schedule("", "mon..fri 02:30").is_ok());
        assert!(check_schedule("", "sat,sun 3:15").is_ok());
        assert!(check_schedule("", "*/15").is_ok());
        assert!(check_schedule("", "daily").is_ok());
        for valid in ["monthly", "*-*-01 02:00", "8..17:00", "21:00 UTC", "sat 03:00:00", "quarterly"] {
            assert!(check_schedule("", valid).is_ok(), "{valid}");
        }
        let monthly = next_run("monthly", 1_700_000_000).expect("next");
        assert_eq!(crate::formats::text::utc_fields(monthly).2, 1, "the first of a month");
        assert!(check_schedule("", "nonsense").unwrap_err().contains("invalid calendar event 'nonsense'"));
        // 2023-11-14 22:13:20 UTC was a Tuesday: the next 21:00 is Wednesday 21:00.
        let next = next_run("21:00", 1_700_000_000).expect("next");
        assert_eq!(next % 86_400, 21 * 3600);
        assert!(next > 1_700_000_000 && next - 1_700_000_000 < 86_400);
        let weekend = next_run("sat 03:00", 1_700_000_000).expect("next");
        assert_eq!((weekend / 86_400 + 3) % 7, 5, "a Saturday");
    }

    #[test]
    fn ids_and_vmid_lists_are_checked() {
        assert!(check_configid("", "nightly-cts").is_ok());
        assert!(check_configid("", "1nightly").is_err());
        assert!(check_vmid_list("", "101,102").is_ok());
        assert!(check_vmid_list("", "101,abc").is_err());
    }
}
