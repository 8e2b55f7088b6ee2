//! Backups: `vzdump` archives of a container, the storage's backup content list, freeing an
//! archive (`pvesm free`). Restoring is `pct restore` (`lxc::create` with `restore_from`).

use std::time::Duration;

use serde::Deserialize;

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{failed, run_json, run_task, run_to_end, Runner};

/// One archive of a storage's content list (pve-storage `API2/Storage/Content.pm` `index`;
/// `Plugin.pm` `$get_subdir_files` gives backups `subtype` always, `vmid` when the name has one,
/// `notes` when there are any and `protected` only when set).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredBackup {
    /// `local:backup/vzdump-lxc-101-2025_01_31-14_05_09.tar.zst`
    pub volid: String,
    pub size: u64,
    /// For a standard name, the time the name says (`archive_info`).
    pub ctime: u64,
    /// `tar.zst`, `tar.gz`, `tar`, …
    pub format: String,
    #[serde(default)]
    pub vmid: Option<u32>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub protected: Option<u8>,
    #[serde(default)]
    pub subtype: Option<String>,
}

/// What `vzdump` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRequest {
    pub vmid: u32,
    pub storage: String,
    /// `snapshot`, `suspend` or `stop`.
    pub mode: String,
    /// `0`, `gzip` or `zstd`.
    pub compress: String,
    pub notes_template: Option<String>,
}

/// The backups on `storage` as `node` sees it, optionally only `vmid`'s. A storage not
/// configured for backups lists nothing (`volume_list` filters by content).
pub async fn stored(
    runner: &dyn Runner,
    node: &str,
    storage: &str,
    vmid: Option<u32>,
) -> Result<Vec<StoredBackup>, PveError> {
    let cmd = Command::new("pvesh")
        .arg("get")
        .arg(format!("/nodes/{node}/storage/{storage}/content"))
        .opt("content", "backup")
        .opt_if("vmid", vmid)
        .opt("output-format", "json");
    run_json(runner, Script::from(cmd)).await
}

/// `vzdump <vmid> --storage S --mode M --compress C [--notes-template T] --prune-backups
/// keep-all=1`: a storage's retention (`prune-backups` in storage.cfg) must neither delete
/// another backup Terraform tracks nor refuse this one — with `--remove 0` alone, pve-manager
/// `PVE/VZDump.pm` `exec_backup_task` fails once the storage's limit is reached ("There is a max
/// backup limit of N enforced by the target storage…"); `keep-all=1` makes `new` turn `remove`
/// off and lifts the limit. vzdump exits
/// 255 when the job failed (pve-manager `PVE/CLI/vzdump.pm`), with only `job errors` on stderr:
/// the reason is the task's `ERROR:` lines on stdout, which the error quotes.
pub async fn vzdump(runner: &dyn Runner, request: &BackupRequest, timeout: Option<Duration>) -> Result<(), PveError> {
    let cmd = Command::new("vzdump")
        .arg(request.vmid)
        .opt("storage", &request.storage)
        .opt("mode", &request.mode)
        .opt("compress", &request.compress)
        .opt_if("notes-template", request.notes_template.as_ref())
        .opt("prune-backups", "keep-all=1");
    let script = Script::from(cmd).with_timeout(timeout);
    let output = run_to_end(runner, &script).await?;
    if output.success() {
        return Ok(());
    }
    let stdout = output.stdout_text();
    let reasons: Vec<&str> = stdout.lines().filter(|l| l.starts_with("ERROR:")).collect();
    let mut stderr = output.stderr_text();
    if !reasons.is_empty() {
        stderr = format!("{}\n{}", reasons.join("\n"), stderr.trim_end());
    }
    Err(failed(runner, &script, output.status, stderr))
}

/// `pvesm free <volid>` (pve-storage `PVE/CLI/pvesm.pm` → `Content.pm` `delete`): a worker whose
/// error (`cannot remove protected volume …`) reaches only stderr while the exit status stays 0,
/// so stderr decides; a missing archive is only warned about on stdout and counts as removed.
pub async fn free(runner: &dyn Runner, volid: &str, timeout: Option<Duration>) -> Result<(), PveError> {
    let script = Script::from(Command::new("pvesm").arg("free").arg(volid)).with_timeout(timeout);
    run_task(runner, script).await.map(|_| ())
}

/// A backup volume id as `pct restore` takes it: `<storage>:backup/<name>`, where the name is
/// a directory storage's archive file (pve-storage `src/PVE/Storage/Plugin.pm`
/// `parse_volname`: `^backup/([^/]+$BACKUP_EXT_RE_2)$`, `Storage.pm` `$BACKUP_EXT_RE_2` =
/// `.tgz`, `.tar` or `.vma` with an optional `.gz`/`.lzo`/`.zst`/`.bz2`) or a Proxmox Backup
/// Server snapshot ([`is_pbs_backup_name`]).
pub fn check_backup_volid(volid: &str) -> Result<(), String> {
    let Some((storage, volname)) = volid.split_once(':') else {
        return Err(format!("'{volid}' is not a volume id; write STORAGE:backup/FILE (an lws_backup's volid)"));
    };
    if !super::text::is_storage_id(storage) {
        return Err(format!("'{storage}' is not a storage id"));
    }
    match volname.strip_prefix("backup/") {
        Some(name) if is_archive_file_name(name) || is_pbs_backup_name(name) => Ok(()),
        Some(name) if !name.is_empty() && !name.contains('/') => Err(format!(
            "'{name}' is not a backup archive name: Proxmox reads .tar, .tgz or .vma archives, optionally .gz, .lzo, .zst or .bz2 compressed"
        )),
        _ => Err(format!("'{volid}' is not a backup volume: the name after the storage is backup/<file>")),
    }
}

/// `[^/]+$BACKUP_EXT_RE_2` (anchored at the end).
fn is_archive_file_name(name: &str) -> bool {
    if name.contains('/') {
        return false;
    }
    let stem = ["", ".gz", ".lzo", ".zst", ".bz2"].iter().find_map(|c| {
        let base = name.strip_suffix(c)?;
        [".tar", ".vma"].iter().find_map(|e| base.strip_suffix(e).filter(|s| !s.is_empty()))
    });
    stem.is_some() || name.strip_suffix(".tgz").is_some_and(|s| !s.is_empty())
}

/// A PBS snapshot's name after `backup/`: `<type>/<id>/<YYYY-MM-DDTHH:MM:SSZ>` (pve-storage
/// `src/PVE/Storage/PBSPlugin.pm` `parse_volname`: `([^\s_]+)/([^\s_]+)/([0-9]{4}-…Z)`, as
/// `print_volid` writes it, e.g. `ct/101/2025-01-31T14:05:09Z`).
pub fn is_pbs_backup_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    let [kind, id, time] = parts[..] else { return false };
    let word = |p: &str| !p.is_empty() && !p.contains(|c: char| c.is_whitespace() || c == '_');
    let time_shape = time.len() == 20
        && time.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    word(kind) && word(id) && time_shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_list_entry_reads_with_and_without_optional_keys() {
        let list: Vec<StoredBackup> = serde_json::from_str(
            r#"[{"content":"backup","ctime":1738332309,"format":"tar.zst","notes":"web","protected":1,"size":2048,"subtype":"lxc","vmid":101,"volid":"local:backup/vzdump-lxc-101-2025_01_31-14_05_09.tar.zst"},
                {"content":"backup","ctime":1,"format":"tar","size":1,"subtype":"unknown","volid":"local:backup/custom.tar"}]"#,
        )
        .expect("parses");
        assert_eq!(list[0].vmid, Some(101));
        assert_eq!(list[0].protected, Some(1));
        assert_eq!(list[1].notes, None);
    }

    #[test]
    fn backup_volids_name_a_backup() {
        assert!(check_backup_volid("local:backup/vzdump-lxc-101-2025_01_31-14_05_09.tar.zst").is_ok());
        assert!(check_backup_volid("local:vztmpl/x.tar").is_err());
        assert!(check_backup_volid("vzdump.tar").is_err());
        assert!(check_backup_volid("local:backup/custom.tgz").is_ok());
        assert!(check_backup_volid("local:backup/custom.vma.lzo").is_ok());
        assert!(check_backup_volid("local:backup/notes.txt").unwrap_err().contains("not a backup archive name"));
        assert!(check_backup_volid("local:backup/.tar").is_err());
        assert!(check_backup_volid("pbs:backup/ct/101/2025-01-31T14:05:09Z").is_ok());
        assert!(check_backup_volid("pbs:backup/ct/101/2025-01-31 14:05:09").is_err());
        assert!(check_backup_volid("pbs:backup/ct/101/x/2025-01-31T14:05:09Z").is_err());
    }
}
