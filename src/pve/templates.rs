//! OS templates: `pveam list <storage>` (installed) and `pveam available` (downloadable).

use std::time::Duration;

use serde::Deserialize;

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{run, run_json, run_task, stderr_decides, Runner};
use crate::ssh::quote::quote;

/// A template volume on a storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`
    pub volid: String,
    /// `debian-12-standard_12.7-1_amd64.tar.zst`
    pub name: String,
    pub size_mb: f64,
}

/// Parse `pveam list`: a `NAME SIZE` header, then `%-60s %-4.2fMB` rows.
pub fn parse_list(text: &str) -> Vec<Template> {
    text.lines()
        .skip_while(|l| !l.starts_with("NAME"))
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let volid = words.next()?.to_owned();
            let size_mb = words.next().and_then(|s| s.trim_end_matches("MB").parse().ok()).unwrap_or(0.0);
            let name = volid.split_once("vztmpl/").map(|(_, n)| n.to_owned()).unwrap_or_else(|| volid.clone());
            Some(Template { volid, name, size_mb })
        })
        .collect()
}

/// Parse `pveam available`: `%-15s %s` (section, template).
pub fn parse_available(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

pub async fn list(runner: &dyn Runner, storage: &str) -> Result<Vec<Template>, PveError> {
    let out = run(runner, Script::from(Command::new("pveam").arg("list").arg(storage))).await?;
    Ok(parse_list(&out.stdout_text()))
}

pub async fn available(runner: &dyn Runner) -> Result<Vec<(String, String)>, PveError> {
    let out = run(runner, Script::from(Command::new("pveam").arg("available"))).await?;
    Ok(parse_available(&out.stdout_text()))
}

/// One template volume of a storage's content listing (pve-storage `API2/Storage/Content.pm`
/// `index`; for templates `Plugin.pm` `$get_subdir_files` gives exactly these keys).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredTemplate {
    /// `local:vztmpl/<file>`
    pub volid: String,
    pub size: u64,
    /// The file's inode change time.
    pub ctime: u64,
    /// `tar`, `tgz`, `txz`, `tzst`, `tbz2`
    pub format: String,
}

/// The templates on `storage` as `node` sees it. A storage not configured for templates lists
/// nothing (`volume_list` filters by the storage's content), it is not an error.
pub async fn stored(runner: &dyn Runner, node: &str, storage: &str) -> Result<Vec<StoredTemplate>, PveError> {
    let cmd = Command::new("pvesh")
        .arg("get")
        .arg(format!("/nodes/{node}/storage/{storage}/content"))
        .opt("content", "vztmpl")
        .opt("output-format", "json");
    run_json(runner, Script::from(cmd)).await
}

/// `pveam download <storage> <template>` (pve-manager `PVE/API2/Nodes.pm` `apl_download`). Its
/// worker's failure (a download or checksum error) leaves the exit status 0 and only reaches
/// stderr (pveam has no `$upid_exit`; pve-common `RESTEnvironment::fork_worker` prints the task
/// error there): anything on stderr is an error, and the caller reads the storage back anyway.
pub async fn download(
    runner: &dyn Runner,
    storage: &str,
    template: &str,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let script = Script::from(Command::new("pveam").arg("download").arg(storage).arg(template)).with_timeout(timeout);
    let mut output = run(runner, script.clone()).await?;
    // Before the task, `PVE::APLInfo::load_data` only warns about a catalogue file it cannot
    // read (`unable to open file '/var/lib/pve-manager/apl-info/<host>' - …`, from
    // `read_aplinfo`): a host that never fetched the TurnKey catalogue prints it on every
    // download, successful or not. That warning is not the task's failure.
    let stderr = output.stderr_text();
    let kept: Vec<&str> = stderr.lines().filter(|l| !is_catalogue_warning(l)).collect();
    output.stderr = kept.join("\n").into_bytes();
    stderr_decides(runner, &script, output).map(|_| ())
}

/// `read_aplinfo`'s warning for a catalogue file that is not there (pve-manager `PVE/APLInfo.pm`).
fn is_catalogue_warning(line: &str) -> bool {
    line.starts_with("unable to open file '/var/lib/pve-manager/apl-info/")
}

/// `pvesh create /nodes/<node>/storage/<storage>/download-url --content vztmpl …` (pve-storage
/// `src/PVE/API2/Storage/Status.pm` `download_url`): the host downloads `url` itself (`wget`) into
/// the storage's template directory as `file`, checking `checksum` (`(algorithm, hex)`) when
/// given. The task's failure (a download error, `checksum mismatch: …`, `refusing to override
/// existing file …`) reaches only stderr while pvesh exits 0 and prints the UPID: stderr decides.
pub async fn download_url(
    runner: &dyn Runner,
    node: &str,
    storage: &str,
    url: &str,
    file: &str,
    checksum: Option<(&str, &str)>,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let mut cmd = Command::new("pvesh")
        .arg("create")
        .arg(format!("/nodes/{node}/storage/{storage}/download-url"))
        .opt("url", url)
        .opt("content", "vztmpl")
        .opt("filename", file);
    if let Some((algorithm, sum)) = checksum {
        cmd = cmd.opt("checksum-algorithm", algorithm).opt("checksum", sum);
    }
    run_task(runner, Script::from(cmd.opt("output-format", "json")).with_timeout(timeout)).await.map(|_| ())
}

/// `algorithm:hex` as pve-storage's `download_url` takes it (`checksum-algorithm` is one of
/// md5, sha1, sha224, sha256, sha384, sha512).
pub fn parse_checksum(text: &str) -> Result<(String, String), String> {
    const LENGTHS: [(&str, usize); 6] =
        [("md5", 32), ("sha1", 40), ("sha224", 56), ("sha256", 64), ("sha384", 96), ("sha512", 128)];
    let Some((algorithm, hex)) = text.split_once(':') else {
        return Err(format!("'{text}' is not <algorithm>:<hex>, e.g. sha256:9f86d0…"));
    };
    let Some((_, length)) = LENGTHS.iter().find(|(a, _)| *a == algorithm) else {
        return Err(format!("unknown algorithm '{algorithm}': one of md5, sha1, sha224, sha256, sha384, sha512"));
    };
    if hex.len() != *length || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("a {algorithm} checksum is {length} hexadecimal digits"));
    }
    Ok((algorithm.to_owned(), hex.to_lowercase()))
}

/// The file name pve-storage's `normalize_content_filename` makes of a URL's last path element:
/// every character outside `[a-zA-Z0-9_.-]` becomes `_`.
pub fn file_name_of_url(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').next().unwrap_or(path);
    last.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' }).collect()
}

/// `pvesm path <volid>`: where the volume's file is on the host (pve-storage `PVE/CLI/pvesm.pm`
/// `path`; printed whether or not the file exists).
pub async fn volume_path(runner: &dyn Runner, volid: &str) -> Result<String, PveError> {
    let out = run(runner, Script::from(Command::new("pvesm").arg("path").arg(volid))).await?;
    let path = out.stdout_text().trim_end().to_owned();
    if !path.starts_with('/') || path.contains('\n') {
        return Err(PveError::Unreadable {
            host: runner.label().to_owned(),
            command: format!("pvesm path {volid}"),
            message: format!("expected one absolute path, got {path:?}"),
        });
    }
    Ok(path)
}

/// Write `bytes` (sent on stdin) to `path` on the host: into a temporary name beside it, then
/// renamed, so a broken transfer never leaves a partial template under the real name.
pub async fn upload(
    runner: &dyn Runner,
    path: &str,
    bytes: Vec<u8>,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let dir = path.rsplit_once('/').map(|(d, _)| d).filter(|d| !d.is_empty()).unwrap_or("/");
    let partial = format!("{path}.tmp_lws");
    let text = format!(
        "mkdir -p {dir} && cat > {partial} && mv -f {partial} {path} || {{ rm -f {partial}; exit 1; }}",
        dir = quote(dir),
        partial = quote(&partial),
        path = quote(path)
    );
    let script = Script::raw(format!("upload {path}"), text).with_stdin(bytes).with_timeout(timeout);
    run(runner, script).await.map(|_| ())
}

/// `pveam remove <volid>` (pve-manager `PVE/CLI/pveam.pm` `remove`); `false` when the volume
/// was already gone (`volume '<volid>' does not exist`, pve-storage `abs_filesystem_path`).
pub async fn remove(runner: &dyn Runner, volid: &str) -> Result<bool, PveError> {
    match run(runner, Script::from(Command::new("pveam").arg("remove").arg(volid))).await {
        Ok(_) => Ok(true),
        Err(PveError::Failed { stderr, .. }) if stderr.contains(&format!("volume '{volid}' does not exist")) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Whether `file` is a template file name pve-storage accepts (`$VZTMPL_EXT_RE_1`: `.tar`,
/// `.tar.gz`, `.tar.xz`, `.tar.zst`, `.tar.bz2`, any case; not `.tgz`) made only of the
/// characters `normalize_content_filename` keeps.
pub fn check_file_name(file: &str) -> Result<(), String> {
    let lower = file.to_lowercase();
    let extension = [".tar", ".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2"]
        .into_iter()
        .any(|ext| lower.len() > ext.len() && lower.ends_with(ext));
    if !extension {
        return Err(format!(
            "'{file}' must end in .tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2 (Proxmox's template extensions)"
        ));
    }
    if let Some(c) = file.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))) {
        return Err(format!(
            "'{file}' contains {c:?}: a template file name has only letters, digits, '_', '.' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pveam_list_rows_become_templates() {
        let text = format!(
            "{:<60} {:<6}\n{:<60} {:<4.2}MB\n{:<60} {:<4.2}MB\n",
            "NAME",
            "SIZE",
            "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
            126.0,
            "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
            141.25
        );
        let list = parse_list(&text);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "debian-12-standard_12.7-1_amd64.tar.zst");
        assert_eq!(list[1].size_mb, 141.25);
        assert!(parse_list("").is_empty());
    }

    #[test]
    fn pveam_available_rows_are_section_and_template() {
        let rows = parse_available("system          debian-12-standard_12.7-1_amd64.tar.zst\nturnkeylinux    debian-12-turnkey-wordpress_18.0-1_amd64.tar.gz\n");
        assert_eq!(rows[1], ("turnkeylinux".to_owned(), "debian-12-turnkey-wordpress_18.0-1_amd64.tar.gz".to_owned()));
    }

    #[test]
    fn a_missing_catalogue_file_is_only_a_warning() {
        assert!(is_catalogue_warning(
            "unable to open file '/var/lib/pve-manager/apl-info/releases.turnkeylinux.org' - No such file or directory"
        ));
        assert!(!is_catalogue_warning("checksum mismatch: got 'a' != expect 'b'"));
    }

    #[test]
    fn checksums_and_url_file_names() {
        let sum = format!("sha256:{}", "A".repeat(64));
        assert_eq!(parse_checksum(&sum).expect("valid").1, "a".repeat(64));
        assert!(parse_checksum("sha256:abc").unwrap_err().contains("64 hexadecimal"));
        assert!(parse_checksum("crc32:00").unwrap_err().contains("unknown algorithm"));
        assert_eq!(file_name_of_url("https://example.org/t/my base.tar.zst?x=1"), "my_base.tar.zst");
    }

    #[test]
    fn template_file_names_follow_proxmox_extensions() {
        assert!(check_file_name("debian-12-standard_12.7-1_amd64.tar.zst").is_ok());
        assert!(check_file_name("custom.TAR.GZ").is_ok());
        assert!(check_file_name("old.tgz").unwrap_err().contains(".tar.gz"));
        assert!(check_file_name("my template.tar").unwrap_err().contains("' '"));
        assert!(check_file_name(".tar").is_err());
    }
}
