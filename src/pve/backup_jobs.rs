//! Proxmox's backup jobs: `/cluster/backup` (pve-manager `PVE/API2/Backup.pm`), kept cluster-wide
//! in `/etc/pve/jobs.cfg` and run by Proxmox on their schedule, with or without Terraform.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{run, run_json, Runner};

/// A job's settings as Terraform manages them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupJob {
    pub schedule: String,
    /// Empty with `all`.
    pub vmids: Vec<u32>,
    pub all: bool,
    /// With `all`: the guests left out (the web UI's "All except selected").
    pub exclude: Vec<u32>,
    /// A pool job (`pool`): the guests of that pool, read only to be refused.
    pub pool: Option<String>,
    pub storage: String,
    pub mode: String,
    pub compress: String,
    pub enabled: bool,
    pub comment: Option<String>,
    pub notes_template: Option<String>,
    /// `keep-last` → 3, … (`prune-backups`); empty: the storage's retention applies.
    pub keep: BTreeMap<String, u32>,
}

/// A job as `GET /cluster/backup/{id}` returns it (`read_job`: the stored keys, numbers and
/// booleans numified, `prune-backups` as an object of strings, plus `id` and `type`).
#[derive(Debug, Clone, Deserialize)]
struct JobJson {
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    vmid: Option<String>,
    #[serde(default)]
    all: Option<u8>,
    #[serde(default)]
    exclude: Option<String>,
    #[serde(default)]
    pool: Option<String>,
    #[serde(default)]
    storage: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    compress: Option<Value>,
    #[serde(default)]
    enabled: Option<u8>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, rename = "notes-template")]
    notes_template: Option<String>,
    #[serde(default, rename = "prune-backups")]
    prune_backups: Option<BTreeMap<String, Value>>,
}

impl From<JobJson> for BackupJob {
    fn from(j: JobJson) -> Self {
        // `pve-vmid-list`: VMIDs separated by commas, semicolons or spaces.
        let list = |text: Option<String>| {
            let mut ids: Vec<u32> =
                text.unwrap_or_default().split([',', ';', ' ']).filter_map(|v| v.trim().parse().ok()).collect();
            ids.sort_unstable();
            ids
        };
        let vmids = list(j.vmid);
        let number = |v: &Value| match v {
            Value::Number(n) => n.as_u64().map(|n| n as u32),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        BackupJob {
            schedule: j.schedule.unwrap_or_default(),
            vmids,
            all: j.all == Some(1),
            exclude: list(j.exclude),
            pool: j.pool.filter(|p| !p.is_empty()),
            // vzdump's defaults when the job leaves them out (pve-guest-common
            // `src/PVE/VZDump/Common.pm` `$confdesc`: storage `local` by `get_storage_param`,
            // mode `snapshot`, compress `0`).
            storage: j.storage.unwrap_or_else(|| "local".to_owned()),
            mode: j.mode.unwrap_or_else(|| "snapshot".to_owned()),
            compress: match j.compress {
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) => n.to_string(),
                _ => "0".to_owned(),
            },
            enabled: j.enabled != Some(0),
            comment: j.comment.filter(|c| !c.is_empty()),
            notes_template: j.notes_template.filter(|t| !t.is_empty()),
            keep: j.prune_backups.unwrap_or_default().into_iter().filter_map(|(k, v)| Some((k, number(&v)?))).collect(),
        }
    }
}

fn prune_backups(keep: &BTreeMap<String, u32>) -> String {
    keep.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// The job `id`, `None` when there is none (`id: No such job '<id>'`, `read_job`).
pub async fn read(runner: &dyn Runner, id: &str) -> Result<Option<BackupJob>, PveError> {
    let cmd = Command::new("pvesh").arg("get").arg(format!("/cluster/backup/{id}")).opt("output-format", "json");
    match run_json::<JobJson>(runner, Script::from(cmd)).await {
        Ok(job) => Ok(Some(job.into())),
        Err(PveError::Failed { stderr, .. }) if stderr.contains(&format!("No such job '{id}'")) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The options both create and update send.
fn with_settings(mut cmd: Command, job: &BackupJob) -> Command {
    cmd = cmd.opt("schedule", &job.schedule);
    if job.all {
        cmd = cmd.opt("all", 1);
        if !job.exclude.is_empty() {
            cmd = cmd.opt("exclude", job.exclude.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
        }
    } else {
        cmd = cmd.opt("vmid", job.vmids.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
    }
    cmd.opt("storage", &job.storage)
        .opt("mode", &job.mode)
        .opt("compress", &job.compress)
        .opt("enabled", u8::from(job.enabled))
        .opt_if("comment", job.comment.as_ref())
        .opt_if("notes-template", job.notes_template.as_ref())
        .opt_if("prune-backups", (!job.keep.is_empty()).then(|| prune_backups(&job.keep)))
}

/// `pvesh create /cluster/backup --id <id> …` (`create_job`; prints nothing).
pub async fn create(runner: &dyn Runner, id: &str, job: &BackupJob) -> Result<(), PveError> {
    let cmd = with_settings(Command::new("pvesh").arg("create").arg("/cluster/backup").opt("id", id), job);
    run(runner, Script::from(cmd)).await.map(|_| ())
}

/// `pvesh set /cluster/backup/<id> …` (`update_job`): every setting again, and `--delete` for the
/// optional ones now unset. Giving `vmid` drops `all` and the reverse, as `update_job` does.
pub async fn update(runner: &dyn Runner, id: &str, job: &BackupJob) -> Result<(), PveError> {
    let mut cmd = with_settings(Command::new("pvesh").arg("set").arg(format!("/cluster/backup/{id}")), job);
    let mut delete = Vec::new();
    if job.comment.is_none() {
        delete.push("comment");
    }
    if job.notes_template.is_none() {
        delete.push("notes-template");
    }
    if job.keep.is_empty() {
        delete.push("prune-backups");
    }
    // `update_job` drops `exclude` itself when `vmid` is given; with `all` it stays unless deleted.
    if job.all && job.exclude.is_empty() {
        delete.push("exclude");
    }
    if !delete.is_empty() {
        cmd = cmd.opt("delete", delete.join(","));
    }
    run(runner, Script::from(cmd)).await.map(|_| ())
}

/// `pvesh delete /cluster/backup/<id>` (`delete_job`); `false` when it was already gone.
pub async fn delete(runner: &dyn Runner, id: &str) -> Result<bool, PveError> {
    match run(runner, Script::from(Command::new("pvesh").arg("delete").arg(format!("/cluster/backup/{id}")))).await {
        Ok(_) => Ok(true),
        Err(PveError::Failed { stderr, .. }) if stderr.contains(&format!("No such job '{id}'")) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The parameter a `400 Parameter verification failed.` answer names first, to point the error
/// at the attribute.
pub fn failed_parameter(error: &PveError) -> Option<String> {
    let PveError::Failed { stderr, .. } = error else { return None };
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("400 Parameter verification failed."));
    lines.next()?;
    let (param, _) = lines.next()?.split_once(": ")?;
    Some(param.to_owned())
}

/// `pve-configid` (pve-common `JSONSchema.pm` `pve_verify_configid`): `^[a-z][a-z0-9_-]+$`, any
/// case.
pub fn check_job_id(id: &str) -> Result<(), String> {
    let ok = id.len() >= 2
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{id}' must start with a letter and hold only letters, digits, '-' and '_' (at least 2 characters)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_job_becomes_settings_with_vzdump_defaults() {
        let json: JobJson = serde_json::from_str(
            r#"{"all":1,"compress":"zstd","enabled":1,"id":"nightly","mode":"snapshot","prune-backups":{"keep-daily":"7","keep-last":"3"},"schedule":"21:00","storage":"local","type":"vzdump"}"#,
        )
        .expect("parses");
        let job: BackupJob = json.into();
        assert!(job.all && job.enabled);
        assert_eq!(job.keep.get("keep-daily"), Some(&7));
        let bare: BackupJob =
            serde_json::from_str::<JobJson>(r#"{"vmid":"102,101","schedule":"sat 03:00"}"#).expect("parses").into();
        assert_eq!(bare.vmids, vec![101, 102]);
        assert_eq!((bare.storage.as_str(), bare.mode.as_str(), bare.compress.as_str()), ("local", "snapshot", "0"));
    }

    #[test]
    fn the_failed_parameter_is_read_from_proxmox_answer() {
        let error = PveError::Failed {
            host: "h".into(),
            command: "pvesh create".into(),
            status: Some(255),
            kind: crate::pve::Kind::InvalidParameter,
            stderr: "400 Parameter verification failed.\nschedule: invalid format - invalid calendar event 'x'\n"
                .into(),
        };
        assert_eq!(failed_parameter(&error).as_deref(), Some("schedule"));
        assert!(check_job_id("nightly-cts").is_ok());
        assert!(check_job_id("9x").is_err());
    }
}
