//! `lws_backup`: a `vzdump` archive of a container on a storage with `backup` content, read back
//! from the storage's content list of the node it was made on; destroying it frees the archive.
//! Restore with `lws_container.restore_from = lws_backup.<name>.volid`. Import
//! `<region>/<az>/<storage>/<file>`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::locate;
use crate::cloud::{Cloud, ContainerId, Host, Shared};
use crate::pve::backup::{free, stored, vzdump, BackupRequest, StoredBackup};
use crate::pve::node::storages;
use crate::tf::identity::{Identity, Part, AZ, REGION};
use crate::tf::schema::{attributes, bool as boolean, computed, number, optional, optional_computed, required, string};
use crate::tf::{error_at, known, path};

const IDENTITY: Identity = Identity(&[
    REGION,
    AZ,
    Part { name: "storage", number: false, description: "The storage holding the archive." },
    Part { name: "file", number: false, description: "The archive's file name." },
]);

const MODES: [&str; 3] = ["snapshot", "suspend", "stop"];
const COMPRESSORS: [&str; 3] = ["zstd", "gzip", "0"];
/// A backup of a large container takes a while.
const BACKUP_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BackupState {
    pub id: Value<String>,
    pub container_id: Value<String>,
    pub storage: Value<String>,
    pub mode: Value<String>,
    pub compress: Value<String>,
    pub notes_template: Value<String>,
    pub region: Value<String>,
    pub az: Value<String>,
    pub vmid: Value<i64>,
    pub volid: Value<String>,
    pub format: Value<String>,
    pub size: Value<i64>,
    pub time: Value<i64>,
    pub notes: Value<String>,
    pub protected: Value<bool>,
}

pub struct BackupResource {
    shared: Arc<Shared>,
}

impl BackupResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        BackupResource { shared }
    }
}

/// `<region>/<az>/<storage>/<file>` split, with the file name checked to be one path segment,
/// or a Proxmox Backup Server snapshot's `ct/<vmid>/<time>`.
fn split_id(id: &str) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = id.splitn(4, '/').collect();
    match parts[..] {
        [r, a, s, f]
            if [r, a, s, f].iter().all(|p| !p.is_empty())
                && (!f.contains('/') || crate::pve::backup::is_pbs_backup_name(f)) =>
        {
            Some((r.to_owned(), a.to_owned(), s.to_owned(), f.to_owned()))
        }
        _ => None,
    }
}

/// A state from the archive's list entry; the settings it was made with come from `settings`.
fn state_of(region: &str, az: &str, entry: &StoredBackup, settings: &BackupState) -> BackupState {
    let (storage, file) = entry.volid.split_once(":backup/").unwrap_or((entry.volid.as_str(), ""));
    let vmid = entry.vmid.map(i64::from);
    BackupState {
        id: Value::Value(format!("{region}/{az}/{storage}/{file}")),
        container_id: match (&settings.container_id, vmid) {
            (Value::Value(id), _) => Value::Value(id.clone()),
            (_, Some(v)) => Value::Value(format!("{region}/{az}/{v}")),
            _ => Value::Null,
        },
        storage: Value::Value(storage.to_owned()),
        mode: settings.mode.clone(),
        compress: settings.compress.clone(),
        notes_template: settings.notes_template.clone(),
        region: Value::Value(region.to_owned()),
        az: Value::Value(az.to_owned()),
        vmid: vmid.map(Value::Value).unwrap_or(Value::Null),
        volid: Value::Value(entry.volid.clone()),
        format: Value::Value(entry.format.clone()),
        size: Value::Value(entry.size as i64),
        time: Value::Value(entry.ctime as i64),
        notes: entry.notes.clone().map(Value::Value).unwrap_or(Value::Null),
        protected: Value::Value(entry.protected == Some(1)),
    }
}

/// The archive `volid` on `host`'s storage, if it is there.
async fn find_archive(host: &Host, storage: &str, volid: &str) -> Result<Option<StoredBackup>, String> {
    let node = host.node().await.map_err(|e| e.to_string())?;
    let list = stored(host, &node, storage, None).await.map_err(|e| e.to_string())?;
    Ok(list.into_iter().find(|b| b.volid == volid))
}

impl BackupResource {
    /// The host a recorded backup is on.
    fn host_of(&self, cloud: &Cloud, state: &BackupState, diags: &mut Diagnostics) -> Option<Arc<Host>> {
        let (region, az) = (known(&state.region)?, known(&state.az)?);
        let host = cloud.host(&region, &az);
        if host.is_none() {
            diags.root_error(
                format!("availability zone {region}/{az} is no longer configured"),
                "the backup is on that zone's host",
            );
        }
        host
    }
}

#[async_trait]
impl Resource for BackupResource {
    type State<'a> = BackupState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "A backup of a container: a `vzdump` archive on a storage with `backup` content of the node the container is on. Destroying the resource frees the archive. Restore it with `lws_container.restore_from = lws_backup.<name>.volid` (in the zone it was made in, unless the storage is shared). Every setting change makes a new backup (a replacement). For backups that keep running without Terraform, use Proxmox's backup jobs.",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<az>/<storage>/<file>`, the import id.")),
                    ("container_id", required(string(), "The container, `<region>/<az>/<vmid>` (an `lws_container`'s `id`). Changing it makes a new backup.")),
                    ("storage", optional_computed(string(), "A storage with `backup` content on the container's node (default `local`). Checked at plan.")),
                    ("mode", optional_computed(string(), "`snapshot` (default: the container keeps running; Proxmox falls back to `suspend` when its volumes cannot snapshot), `suspend`, or `stop` (stopped for the backup, started again). A stopped container is always backed up in `stop` mode.")),
                    ("compress", optional_computed(string(), "`zstd` (default), `gzip` or `0` (none).")),
                    ("notes_template", optional(string(), "Notes for the archive, one line: `{{guestname}}`, `{{vmid}}`, `{{node}}` and `{{cluster}}` are filled in by Proxmox; `\\n` is a line break.")),
                    ("region", computed(string(), "Region of the archive.")),
                    ("az", computed(string(), "Availability zone whose host holds the archive (the container's when it was made).")),
                    ("vmid", computed(number(), "VMID the archive is of.")),
                    ("volid", computed(string(), "Volume id, `<storage>:backup/<file>`: the value for `lws_container.restore_from`.")),
                    ("format", computed(string(), "Archive format (`tar.zst`, `tar.gz`, `tar`).")),
                    ("size", computed(number(), "Archive size in bytes.")),
                    ("time", computed(number(), "When the backup was made (Unix time, from the archive's name).")),
                    ("notes", computed(string(), "The archive's notes (first line), as Proxmox filled in the template.")),
                    ("protected", computed(boolean(), "Whether Proxmox protects the archive from deletion (set outside Terraform); a protected archive cannot be destroyed.")),
                ]),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = known(&config.container_id) {
            if let Err(e) = id.parse::<ContainerId>() {
                error_at(diags, path(&["container_id"]), "invalid container_id", e);
            }
        }
        if let Some(mode) = known(&config.mode).filter(|m| !MODES.contains(&m.as_str())) {
            error_at(diags, path(&["mode"]), format!("unknown mode '{mode}'"), format!("one of {}", MODES.join(", ")));
        }
        if let Some(c) = known(&config.compress).filter(|c| !COMPRESSORS.contains(&c.as_str())) {
            error_at(
                diags,
                path(&["compress"]),
                format!("unknown compress '{c}'"),
                format!("one of {}", COMPRESSORS.join(", ")),
            );
        }
        if let Some(storage) = known(&config.storage).filter(|s| !crate::pve::text::is_storage_id(s)) {
            error_at(diags, path(&["storage"]), format!("invalid storage '{storage}'"), "a Proxmox storage id");
        }
        if let Some(template) = known(&config.notes_template) {
            if let Err(e) = check_notes_template(&template) {
                error_at(diags, path(&["notes_template"]), "invalid notes_template", e);
            }
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
        let Some(cloud) = self.shared.cloud(diags) else { return Some((state, private)) };
        let Some(host) = self.host_of(&cloud, &state, diags) else { return Some((state, private)) };
        let (Some(storage), Some(volid)) = (known(&state.storage), known(&state.volid)) else {
            return Some((state, private));
        };
        match find_archive(&host, &storage, &volid).await {
            Ok(Some(entry)) => {
                let (region, az) = (known(&state.region).unwrap_or_default(), known(&state.az).unwrap_or_default());
                Some((state_of(&region, &az, &entry, &state), private))
            }
            Ok(None) => None,
            Err(e) => {
                diags.root_error(format!("cannot read backup {volid}"), e);
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
        with_defaults(&mut planned);
        for value in [
            &mut planned.id,
            &mut planned.region,
            &mut planned.az,
            &mut planned.volid,
            &mut planned.format,
            &mut planned.notes,
        ] {
            *value = Value::Unknown;
        }
        planned.vmid = Value::Unknown;
        planned.size = Value::Unknown;
        planned.time = Value::Unknown;
        planned.protected = Value::Unknown;
        // The storage takes backups on the container's node (as far as the plan can tell: the
        // container may move before the apply).
        if let (Some(id), Some(storage)) =
            (known(&planned.container_id).and_then(|i| i.parse::<ContainerId>().ok()), known(&planned.storage))
        {
            if let Some(host) = cloud.host(&id.region, &id.az) {
                if let Ok(node) = host.node().await {
                    if let Ok(list) = storages(host.as_ref(), &node).await {
                        let fit: Vec<&str> =
                            list.iter().filter(|s| s.holds("backup")).map(|s| s.storage.as_str()).collect();
                        if !fit.contains(&storage.as_str()) {
                            error_at(
                                diags,
                                path(&["storage"]),
                                format!("storage '{storage}' on {}/{} does not hold backups", id.region, id.az),
                                format!(
                                    "storages with 'backup' content there: {}",
                                    if fit.is_empty() { "none".to_owned() } else { fit.join(", ") }
                                ),
                            );
                        }
                    }
                }
            }
        }
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
        let mut planned = proposed.clone();
        with_defaults(&mut planned);
        // After an import the settings an archive cannot tell are taken from the configuration.
        let imported = prior.mode.is_null();
        let mut replace = Vec::new();
        for (name, old, new) in [
            ("container_id", &prior.container_id, &planned.container_id),
            ("storage", &prior.storage, &planned.storage),
            ("mode", &prior.mode, &planned.mode),
            ("compress", &prior.compress, &planned.compress),
            ("notes_template", &prior.notes_template, &planned.notes_template),
        ] {
            let settable_after_import = imported && name != "storage" && name != "container_id";
            // The container moved to another zone (same region, same VMID): the archive stays.
            let same_container = name == "container_id" && same_container(old, new);
            if old != new && !new.is_unknown() && !settable_after_import && !same_container {
                replace.push(path(&[name]));
            }
        }
        if replace.is_empty() {
            let mut kept = prior;
            kept.container_id = planned.container_id;
            kept.mode = planned.mode;
            kept.compress = planned.compress;
            kept.notes_template = planned.notes_template;
            return Some((kept, private, replace));
        }
        let (planned, _) = self.plan_create(diags, planned, config, meta).await?;
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
        let cloud = self.shared.cloud(diags)?;
        let id: ContainerId = match known(&planned.container_id)?.parse() {
            Ok(id) => id,
            Err(e) => {
                error_at(diags, path(&["container_id"]), "invalid container_id", e);
                return None;
            }
        };
        let found = match locate(&cloud, &id, true).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                error_at(
                    diags,
                    path(&["container_id"]),
                    format!("container {id} does not exist"),
                    "nothing was backed up",
                );
                return None;
            }
            Err(e) => {
                diags.root_error(format!("cannot find container {id}"), e);
                return None;
            }
        };
        let storage = known(&planned.storage).unwrap_or_else(|| "local".to_owned());
        let host = found.host.clone();
        let node = match host.node().await {
            Ok(node) => node,
            Err(e) => {
                diags.root_error("cannot read the host's node name", e.to_string());
                return None;
            }
        };
        // One backup of a container at a time from this provider: its archive is told apart by
        // listing the storage before and after, which a second backup running meanwhile would
        // confuse (Proxmox itself runs them one after the other: vzdump's node-wide lock).
        let _one_at_a_time = host.lock_guest(id.vmid).await;
        let before = match stored(host.as_ref(), &node, &storage, Some(id.vmid)).await {
            Ok(list) => list,
            Err(e) => {
                diags.root_error(format!("cannot list the backups on storage '{storage}'"), e.to_string());
                return None;
            }
        };
        let request = BackupRequest {
            vmid: id.vmid,
            storage: storage.clone(),
            mode: known(&planned.mode).unwrap_or_else(|| "snapshot".to_owned()),
            compress: known(&planned.compress).unwrap_or_else(|| "zstd".to_owned()),
            notes_template: known(&planned.notes_template).filter(|t| !t.is_empty()),
        };
        let result = vzdump(host.as_ref(), &request, Some(BACKUP_TIMEOUT)).await;
        host.forget(id.vmid).await;
        // Whatever vzdump said, the storage says whether an archive was made: a new one is
        // recorded (with the error, so it is tainted) rather than left behind untracked.
        let after = match stored(host.as_ref(), &node, &storage, Some(id.vmid)).await {
            Ok(list) => list,
            Err(e) => {
                let why = result.err().map(|r| format!("{r}; ")).unwrap_or_default();
                diags.root_error(
                    format!("backup of container {id}: {why}cannot list the archives afterwards"),
                    e.to_string(),
                );
                return None;
            }
        };
        if let Err(e) = result {
            diags.root_error(format!("backup of container {id} failed"), e.to_string());
        }
        let made: Vec<&StoredBackup> = after.iter().filter(|b| !before.iter().any(|o| o.volid == b.volid)).collect();
        match made[..] {
            [entry] => Some((state_of(&id.region, &found.az, entry, &planned), private)),
            [] => {
                if diags.errors.is_empty() {
                    diags.root_error(
                        format!("backup of container {id} made no archive on storage '{storage}'"),
                        "vzdump reported success, yet the storage lists no new archive of the container",
                    );
                }
                None
            }
            _ => {
                diags.root_error(
                    format!("backup of container {id}: {} new archives appeared at once", made.len()),
                    made.iter().map(|b| b.volid.as_str()).collect::<Vec<_>>().join(", "),
                );
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        // Only settings adopted after an import, or a container_id naming the same container.
        Some((planned, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let cloud = self.shared.cloud(diags)?;
        let host = self.host_of(&cloud, &prior, diags)?;
        let volid = known(&prior.volid)?;
        if let Err(e) = free(host.as_ref(), &volid, Some(Duration::from_secs(600))).await {
            diags.root_error(format!("deleting backup {volid} failed"), e.to_string());
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some((region, az, storage, file)) = split_id(&id) else {
            diags.root_error(
                "invalid import id",
                format!("'{id}' is not <region>/<az>/<storage>/<file> (e.g. eu-south-1/az1/local/vzdump-lxc-101-2025_01_31-14_05_09.tar.zst)"),
            );
            return None;
        };
        let cloud = self.shared.cloud(diags)?;
        let Some(host) = cloud.host(&region, &az) else {
            diags.root_error(format!("availability zone {region}/{az} is not configured"), "");
            return None;
        };
        let volid = format!("{storage}:backup/{file}");
        match find_archive(&host, &storage, &volid).await {
            Ok(Some(entry)) => Some((state_of(&region, &az, &entry, &BackupState::default()), ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("no backup {volid} on {region}/{az}"), "");
                None
            }
            Err(e) => {
                diags.root_error(format!("cannot read backup {volid}"), e);
                None
            }
        }
    }
}

/// The settings a configuration leaves out, as vzdump's defaults the provider picks.
fn with_defaults(state: &mut BackupState) {
    for (value, default) in
        [(&mut state.storage, "local"), (&mut state.mode, "snapshot"), (&mut state.compress, "zstd")]
    {
        if value.is_null() {
            *value = Value::Value(default.to_owned());
        }
    }
}

/// Whether two container ids name one container: same region and VMID (a migration changes
/// only the zone).
fn same_container(a: &Value<String>, b: &Value<String>) -> bool {
    match (known(a).map(|a| a.parse::<ContainerId>()), known(b).map(|b| b.parse::<ContainerId>())) {
        (Some(Ok(a)), Some(Ok(b))) => a.is_same_container(&b),
        _ => false,
    }
}

/// vzdump's `$verify_notes_template` (pve-manager `PVE/VZDump.pm`): one line; `\n` and `\\` are
/// the only escapes (`/\\(.)/g`); a `{{name}}` without spaces or braces inside
/// (`/\{\{([^\s{}]+)\}\}/g`) must be `cluster`, `guestname`, `node` or `vmid`.
fn check_notes_template(template: &str) -> Result<(), String> {
    if template.contains('\n') {
        return Err("it contains a line break; write \\n for one in the notes".to_owned());
    }
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == '\\' {
            if chars[i + 1] != 'n' && chars[i + 1] != '\\' {
                return Err(format!("'\\{}' is not an escape vzdump knows (only \\n and \\\\)", chars[i + 1]));
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
                if !["cluster", "guestname", "node", "vmid"].contains(&var.as_str()) {
                    return Err(format!(
                        "'{{{{{var}}}}}' is not a variable vzdump fills in (cluster, guestname, node, vmid)"
                    ));
                }
                i = j + 2;
                continue;
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_templates_are_checked_as_vzdump_does() {
        assert!(check_notes_template("{{guestname}} before upgrade\\n{{vmid}}").is_ok());
        assert!(check_notes_template("{{owner}}").unwrap_err().contains("'{{owner}}'"));
        assert!(check_notes_template("a\\tb").is_err());
        assert!(check_notes_template("two\nlines").is_err());
        assert!(check_notes_template("{{ owner }} and {x}").is_ok(), "not variables to vzdump");
    }

    #[test]
    fn ids_have_four_parts_and_a_file() {
        assert_eq!(
            split_id("eu-south-1/az1/local/vzdump-lxc-101-2025_01_31-14_05_09.tar.zst"),
            Some((
                "eu-south-1".into(),
                "az1".into(),
                "local".into(),
                "vzdump-lxc-101-2025_01_31-14_05_09.tar.zst".into()
            ))
        );
        assert_eq!(split_id("eu-south-1/az1/local"), None);
        assert_eq!(split_id("eu-south-1/az1/local/a/b"), None);
        assert_eq!(
            split_id("eu-south-1/az1/pbs/ct/101/2025-01-31T14:05:09Z").map(|(_, _, s, f)| (s, f)),
            Some(("pbs".to_owned(), "ct/101/2025-01-31T14:05:09Z".to_owned()))
        );
    }
}
