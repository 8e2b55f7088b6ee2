//! `lws_backup_schedule`: one of Proxmox's own backup jobs (Datacenter → Backup,
//! `/cluster/backup`), so backups keep running on the cluster's schedule without Terraform.
//! Import `<region>/<name>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::{cluster_host, import_target, object_id, plan_region};
use crate::cloud::{Host, Shared};
use crate::pve::backup_jobs::{check_job_id, create, delete, failed_parameter, read, update, BackupJob};
use crate::pve::PveError;
use crate::tf::identity::{Identity, Part, REGION};
use crate::tf::schema::{attributes, bool as boolean, computed, number, optional, optional_computed, required, string};
use crate::tf::{error_at, known, known_set, path, Set};

const IDENTITY: Identity =
    Identity(&[REGION, Part { name: "name", number: false, description: "The backup job's id in Proxmox." }]);

/// pve-storage `src/PVE/Storage/Plugin.pm` `$prune_backups_format`: "Keep all backups.
/// Conflicts with the other options when true." (the web UI's "Keep all backups" writes
/// `keep-all=1`).
const KEEP_ALL: &str = "keep-all";

/// Retention attributes and the `prune-backups` keys they set.
const KEEP: [(&str, &str); 6] = [
    ("keep_last", "keep-last"),
    ("keep_hourly", "keep-hourly"),
    ("keep_daily", "keep-daily"),
    ("keep_weekly", "keep-weekly"),
    ("keep_monthly", "keep-monthly"),
    ("keep_yearly", "keep-yearly"),
];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BackupScheduleState {
    pub id: Value<String>,
    pub region: Value<String>,
    pub name: Value<String>,
    pub schedule: Value<String>,
    pub vmids: Set<i64>,
    pub all: Value<bool>,
    pub exclude: Set<i64>,
    pub storage: Value<String>,
    pub mode: Value<String>,
    pub compress: Value<String>,
    pub enabled: Value<bool>,
    pub comment: Value<String>,
    pub notes_template: Value<String>,
    pub keep_last: Value<i64>,
    pub keep_hourly: Value<i64>,
    pub keep_daily: Value<i64>,
    pub keep_weekly: Value<i64>,
    pub keep_monthly: Value<i64>,
    pub keep_yearly: Value<i64>,
    pub keep_all: Value<bool>,
}

impl BackupScheduleState {
    fn keep_values(&self) -> [&Value<i64>; 6] {
        [&self.keep_last, &self.keep_hourly, &self.keep_daily, &self.keep_weekly, &self.keep_monthly, &self.keep_yearly]
    }

    fn keep_values_mut(&mut self) -> [&mut Value<i64>; 6] {
        [
            &mut self.keep_last,
            &mut self.keep_hourly,
            &mut self.keep_daily,
            &mut self.keep_weekly,
            &mut self.keep_monthly,
            &mut self.keep_yearly,
        ]
    }

    /// The job the configuration describes (known values only).
    fn job(&self) -> BackupJob {
        let mut keep: BTreeMap<String, u32> = KEEP
            .iter()
            .zip(self.keep_values())
            .filter_map(|((_, key), value)| Some(((*key).to_owned(), known(value)? as u32)))
            .collect();
        if known(&self.keep_all) == Some(true) {
            keep.insert(KEEP_ALL.to_owned(), 1);
        }
        let ids = |set: &Set<i64>| {
            let mut ids: Vec<u32> = known_set(set).unwrap_or_default().into_iter().map(|v| v as u32).collect();
            ids.sort_unstable();
            ids
        };
        let vmids = ids(&self.vmids);
        BackupJob {
            schedule: known(&self.schedule).unwrap_or_default(),
            vmids,
            all: known(&self.all).unwrap_or(false),
            exclude: ids(&self.exclude),
            pool: None,
            storage: known(&self.storage).unwrap_or_else(|| "local".to_owned()),
            mode: known(&self.mode).unwrap_or_else(|| "snapshot".to_owned()),
            compress: known(&self.compress).unwrap_or_else(|| "zstd".to_owned()),
            enabled: known(&self.enabled).unwrap_or(true),
            comment: known(&self.comment).filter(|c| !c.is_empty()),
            notes_template: known(&self.notes_template).filter(|t| !t.is_empty()),
            keep,
        }
    }

    /// [`Self::from_job`], with a warning for a pool job: the state can say neither its pool
    /// nor its guests, and an apply with `vmids` or `all` makes Proxmox drop the pool.
    fn from_job_noting_pool(diags: &mut Diagnostics, region: &str, name: &str, job: &BackupJob) -> Self {
        if let Some((summary, detail)) = pool_warning(name, job) {
            diags.root_warning(summary, detail);
        }
        Self::from_job(region, name, job)
    }

    fn from_job(region: &str, name: &str, job: &BackupJob) -> Self {
        let mut state = BackupScheduleState {
            id: Value::Value(format!("{region}/{name}")),
            region: Value::Value(region.to_owned()),
            name: Value::Value(name.to_owned()),
            schedule: Value::Value(job.schedule.clone()),
            vmids: if job.all {
                Value::Null
            } else {
                Value::Value(job.vmids.iter().map(|v| Value::Value(i64::from(*v))).collect())
            },
            all: Value::Value(job.all),
            exclude: if job.exclude.is_empty() {
                Value::Null
            } else {
                Value::Value(job.exclude.iter().map(|v| Value::Value(i64::from(*v))).collect())
            },
            storage: Value::Value(job.storage.clone()),
            mode: Value::Value(job.mode.clone()),
            compress: Value::Value(job.compress.clone()),
            enabled: Value::Value(job.enabled),
            comment: job.comment.clone().map(Value::Value).unwrap_or(Value::Null),
            notes_template: job.notes_template.clone().map(Value::Value).unwrap_or(Value::Null),
            ..BackupScheduleState::default()
        };
        for ((_, key), value) in KEEP.iter().zip(state.keep_values_mut()) {
            *value = job.keep.get(*key).map(|n| Value::Value(i64::from(*n))).unwrap_or(Value::Null);
        }
        state.keep_all = if job.keep.get(KEEP_ALL).is_some_and(|n| *n != 0) { Value::Value(true) } else { Value::Null };
        state
    }
}

/// What to tell of a pool job (`update_job` deletes `pool` when `vmid` or `all` is given).
fn pool_warning(name: &str, job: &BackupJob) -> Option<(String, String)> {
    let pool = job.pool.as_ref()?;
    Some((
        format!("backup job '{name}' backs up the guests of pool '{pool}'"),
        "lws_backup_schedule describes jobs by vmids or all; applying this resource replaces the pool selection with them (Proxmox drops `pool` when either is set).".to_owned(),
    ))
}

pub struct BackupScheduleResource {
    shared: Arc<Shared>,
}

impl BackupScheduleResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        BackupScheduleResource { shared }
    }

    fn host(&self, state: &BackupScheduleState, diags: &mut Diagnostics) -> Option<(Arc<Host>, String, String)> {
        let cloud = self.shared.cloud(diags)?;
        let (region, name) = (known(&state.region)?, known(&state.name)?);
        Some((cluster_host(&cloud, &region, diags)?, region, name))
    }

    /// Proxmox's answer to a write, at the attribute its parameter is.
    fn report(diags: &mut Diagnostics, what: String, error: PveError) {
        let attribute = failed_parameter(&error).map(|p| match p.as_str() {
            "vmid" => "vmids".to_owned(),
            "notes-template" => "notes_template".to_owned(),
            "prune-backups" => "keep_last".to_owned(),
            other => other.replace('-', "_"),
        });
        match attribute {
            Some(a)
                if [
                    "schedule",
                    "vmids",
                    "all",
                    "storage",
                    "mode",
                    "compress",
                    "comment",
                    "notes_template",
                    "keep_last",
                ]
                .contains(&a.as_str()) =>
            {
                error_at(diags, path(&[&a]), what, error.to_string())
            }
            _ => diags.root_error(what, error.to_string()),
        }
    }

    async fn write_and_read(
        &self,
        diags: &mut Diagnostics,
        planned: &BackupScheduleState,
        creating: bool,
    ) -> Option<BackupScheduleState> {
        let (host, region, name) = self.host(planned, diags)?;
        let job = planned.job();
        let result =
            if creating { create(host.as_ref(), &name, &job).await } else { update(host.as_ref(), &name, &job).await };
        if let Err(e) = result {
            let verb = if creating { "creating" } else { "updating" };
            Self::report(diags, format!("{verb} backup job '{name}' failed"), e);
        }
        match read(host.as_ref(), &name).await {
            Ok(Some(job)) => Some(BackupScheduleState::from_job(&region, &name, &job)),
            Ok(None) => None,
            Err(e) => {
                diags.root_error(format!("cannot read backup job '{name}' back"), e.to_string());
                None
            }
        }
    }
}

fn with_defaults(state: &mut BackupScheduleState) {
    for (value, default) in
        [(&mut state.storage, "local"), (&mut state.mode, "snapshot"), (&mut state.compress, "zstd")]
    {
        if value.is_null() {
            *value = Value::Value(default.to_owned());
        }
    }
    if state.enabled.is_null() {
        state.enabled = Value::Value(true);
    }
    if state.all.is_null() {
        state.all = Value::Value(false);
    }
}

#[async_trait]
impl Resource for BackupScheduleResource {
    type State<'a> = BackupScheduleState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let keep = |what: &str| {
            optional(number(), &format!("Keep the newest backup of each of this many {what} (Proxmox's retention; with no `keep_*` set, the storage's own applies)."))
        };
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "One of Proxmox's backup jobs (Datacenter → Backup): Proxmox itself backs the containers up on `schedule`, Terraform or not. Everything changes in place; `name` and `region` replace it.",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<name>`.")),
                    ("region", optional_computed(string(), "Region whose cluster runs the job (default: the provider's).")),
                    ("name", required(string(), "The job's id in Proxmox: a letter, then letters, digits, `-` or `_`.")),
                    ("schedule", required(string(), "When, as a Proxmox calendar event: `21:00`, `mon..fri 02:30`, `sat 03:00`, `*/30`, `daily`. Checked by the host.")),
                    ("vmids", optional(AttributeType::Set(Box::new(AttributeType::Number)), "The containers (VMIDs) to back up. Exactly one of `vmids` and `all`.")),
                    ("all", optional_computed(boolean(), "Back up every guest of the cluster.")),
                    ("exclude", optional(AttributeType::Set(Box::new(AttributeType::Number)), "With `all`: VMIDs left out (Proxmox's \"All except selected\").")),
                    ("storage", optional_computed(string(), "Storage for the archives (default `local`).")),
                    ("mode", optional_computed(string(), "`snapshot` (default), `suspend` or `stop`.")),
                    ("compress", optional_computed(string(), "`zstd` (default), `gzip`, `lzo` or `0`.")),
                    ("enabled", optional_computed(boolean(), "Whether Proxmox runs it (default `true`).")),
                    ("comment", optional(string(), "Description shown in Proxmox.")),
                    ("notes_template", optional(string(), "Notes for each archive: `{{guestname}}`, `{{vmid}}`, `{{node}}`, `{{cluster}}` filled in.")),
                    ("keep_last", keep("last backups")),
                    ("keep_hourly", keep("hours")),
                    ("keep_daily", keep("days")),
                    ("keep_weekly", keep("weeks")),
                    ("keep_monthly", keep("months")),
                    ("keep_yearly", keep("years")),
                    ("keep_all", optional(boolean(), "`true`: keep every backup, whatever the storage's retention says (no other `keep_*` with it).")),
                ]),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(name) = known(&config.name) {
            if let Err(e) = check_job_id(&name) {
                error_at(diags, path(&["name"]), "invalid name", e);
            }
        }
        if known(&config.schedule).is_some_and(|s| s.trim().is_empty()) {
            error_at(
                diags,
                path(&["schedule"]),
                "schedule is empty",
                "a calendar event such as 21:00 or mon..fri 02:30",
            );
        }
        let all = known(&config.all) == Some(true);
        match (&config.vmids, all) {
            (Value::Value(_), true) => error_at(
                diags,
                path(&["all"]),
                "vmids and all are exclusive",
                "back up either the listed containers or every guest",
            ),
            (Value::Null, false) if config.all.is_value() || config.all.is_null() => error_at(
                diags,
                path(&["vmids"]),
                "nothing to back up",
                "set vmids (e.g. [lws_container.db.vmid]) or all = true",
            ),
            (Value::Value(ids), false) if ids.is_empty() => {
                error_at(diags, path(&["vmids"]), "vmids is empty", "list at least one VMID, or set all = true")
            }
            _ => {}
        }
        if let Some(ids) = known_set(&config.exclude) {
            if ids.is_empty() {
                error_at(
                    diags,
                    path(&["exclude"]),
                    "exclude is empty",
                    "leave it unset, or list the VMIDs to leave out",
                );
            } else if known(&config.all) != Some(true) && !matches!(config.all, Value::Unknown) {
                error_at(
                    diags,
                    path(&["exclude"]),
                    "exclude needs all = true",
                    "Proxmox leaves guests out only of a job that backs up all of them",
                );
            }
        }
        for (attribute, set) in [("vmids", &config.vmids), ("exclude", &config.exclude)] {
            if let Some(bad) = known_set(set).unwrap_or_default().into_iter().find(|v| !(100..=999_999_999).contains(v))
            {
                error_at(diags, path(&[attribute]), format!("invalid VMID {bad}"), "VMIDs are 100 to 999999999");
            }
        }
        for ((attribute, _), value) in KEEP.iter().zip(config.keep_values()) {
            if known(value).is_some_and(|n| n < 1) {
                error_at(
                    diags,
                    path(&[attribute]),
                    format!("invalid {attribute}"),
                    "at least 1 (leave it unset to keep everything this rule would)",
                );
            }
        }
        match known(&config.keep_all) {
            Some(false) => error_at(
                diags,
                path(&["keep_all"]),
                "keep_all = false is not a setting",
                "leave it unset (the `keep_*` rules, or the storage's retention, apply), or set it to true",
            ),
            Some(true) if config.keep_values().iter().any(|v| known(*v).is_some()) => error_at(
                diags,
                path(&["keep_all"]),
                "keep_all conflicts with the keep_* rules",
                "Proxmox keeps every backup when keep-all is set: remove either keep_all or the keep_* attributes",
            ),
            _ => {}
        }
        if let Some(mode) = known(&config.mode).filter(|m| !["snapshot", "suspend", "stop"].contains(&m.as_str())) {
            error_at(diags, path(&["mode"]), format!("unknown mode '{mode}'"), "snapshot, suspend or stop");
        }
        if let Some(c) = known(&config.compress).filter(|c| !["zstd", "gzip", "lzo", "0"].contains(&c.as_str())) {
            error_at(diags, path(&["compress"]), format!("unknown compress '{c}'"), "zstd, gzip, lzo or 0");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some((host, region, name)) = self.host(&state, diags) else { return Some((state, private)) };
        match read(host.as_ref(), &name).await {
            Ok(Some(job)) => Some((BackupScheduleState::from_job_noting_pool(diags, &region, &name, &job), private)),
            Ok(None) => None,
            Err(e) => {
                diags.root_error(format!("cannot read backup job '{name}'"), e.to_string());
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let mut planned = proposed;
        plan_region(&cloud, &mut planned.region, diags)?;
        with_defaults(&mut planned);
        planned.id = object_id(&planned.region, &planned.name);
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let (planned, _) = self.plan_create(diags, proposed, config, meta).await?;
        let replace =
            crate::cloud::locate::renamed_or_moved((&prior.region, &prior.name), (&planned.region, &planned.name));
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        self.write_and_read(diags, &planned, true).await.map(|s| (s, private))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        self.write_and_read(diags, &planned, false).await.map(|s| (s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let (host, _, name) = self.host(&prior, diags)?;
        if let Err(e) = delete(host.as_ref(), &name).await {
            diags.root_error(format!("deleting backup job '{name}' failed"), e.to_string());
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (host, region, name) = import_target(&cloud, &id, "eu-south-1/nightly", diags)?;
        match read(host.as_ref(), &name).await {
            Ok(Some(job)) => {
                Some((BackupScheduleState::from_job_noting_pool(diags, &region, &name, &job), ValueEmpty::default()))
            }
            Ok(None) => {
                diags.root_error(format!("no backup job '{name}' in region {region}"), "");
                None
            }
            Err(e) => {
                diags.root_error(format!("cannot read backup job '{name}'"), e.to_string());
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_and_its_job_round_trip() {
        let job = BackupJob {
            schedule: "mon..fri 02:30".into(),
            vmids: vec![101, 105],
            all: false,
            exclude: vec![],
            pool: None,
            storage: "local".into(),
            mode: "snapshot".into(),
            compress: "zstd".into(),
            enabled: true,
            comment: Some("nightly".into()),
            notes_template: None,
            keep: [("keep-daily".to_owned(), 7), ("keep-last".to_owned(), 3)].into_iter().collect(),
        };
        let state = BackupScheduleState::from_job("eu-south-1", "nightly", &job);
        assert_eq!(state.keep_daily, Value::Value(7));
        assert_eq!(state.keep_weekly, Value::Null);
        assert_eq!(state.job(), job);
        assert_eq!(pool_warning("nightly", &job), None);
    }

    #[test]
    fn exclusions_and_keep_all_round_trip_and_a_pool_is_told() {
        let job = BackupJob {
            schedule: "21:00".into(),
            vmids: vec![],
            all: true,
            exclude: vec![101, 103],
            pool: None,
            storage: "local".into(),
            mode: "snapshot".into(),
            compress: "zstd".into(),
            enabled: true,
            comment: None,
            notes_template: None,
            keep: [("keep-all".to_owned(), 1)].into_iter().collect(),
        };
        let state = BackupScheduleState::from_job("eu-south-1", "all-but", &job);
        assert_eq!(state.keep_all, Value::Value(true));
        assert_eq!(state.job(), job);
        let pooled = BackupJob { all: false, exclude: vec![], pool: Some("web".into()), ..job };
        let (summary, _) = pool_warning("p", &pooled).expect("a warning");
        assert!(summary.contains("pool 'web'"), "{summary}");
    }
}
