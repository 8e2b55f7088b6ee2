//! What a storage holds, as pve-storage sees it: template file names, the content listing
//! (`GET /nodes/{node}/storage/{storage}/content`), volume paths (`pvesm path`) and removing a
//! template (`pveam remove`).

use std::fs;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::cluster::{find_storage, Storage};
use super::context::Node;
use super::output::Failure;

/// pve-storage `src/PVE/Storage.pm` `$VZTMPL_EXT_RE_1` (`\.(?|(tar)(?!\.)|tar\.(gz|xz|zst|bz2))`,
/// case-insensitive): the `format` a template file lists with (`tar`, or `t` + compressor),
/// `None` when the name is not a template's.
pub fn template_format(file_name: &str) -> Option<String> {
    let lower = file_name.to_lowercase();
    if lower.len() > 4 && lower.ends_with(".tar") {
        // `$2 eq 'tar' ? $2 : "t$2"` (`Plugin.pm` `$get_subdir_files`), the capture as written.
        let captured = &file_name[file_name.len() - 3..];
        return Some(if captured == "tar" { "tar".to_owned() } else { format!("t{captured}") });
    }
    for compressor in ["gz", "xz", "zst", "bz2"] {
        let suffix = format!(".tar.{compressor}");
        if lower.len() > suffix.len() && lower.ends_with(&suffix) {
            // `"t$2"`: the compressor as the name spells it.
            return Some(format!("t{}", &file_name[file_name.len() - compressor.len()..]));
        }
    }
    None
}

/// `Plugin.pm` `$vtype_subdirs`: where a content type's files live under a directory storage.
fn subdir(vtype: &str) -> Option<&'static str> {
    match vtype {
        "vztmpl" => Some("template/cache"),
        "backup" => Some("dump"),
        "iso" => Some("template/iso"),
        "snippets" => Some("snippets"),
        _ => None,
    }
}

/// `Plugin.pm` `parse_volname` for a file-based storage's template volume name (`vztmpl/<file>`).
fn template_file(volname: &str) -> Result<&str, Failure> {
    match volname.strip_prefix("vztmpl/") {
        Some(file) if !file.contains('/') && template_format(file).is_some() => Ok(file),
        _ => Err(Failure::new(format!("unable to parse directory volume name '{volname}'"))),
    }
}

/// `Plugin.pm` `parse_volume_id`: `<storage>:<volname>`.
fn split_volume_id(volid: &str) -> Option<(&str, &str)> {
    let (storage, volname) = volid.split_once(':')?;
    let id_ok = storage.len() >= 2
        && storage.starts_with(|c: char| c.is_ascii_alphabetic())
        && storage.ends_with(|c: char| c.is_ascii_alphanumeric())
        && storage.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (id_ok && !volname.is_empty()).then_some((storage, volname))
}

/// `PVE::Storage::path` as `pvesm path` prints it: the path a command on the host uses
/// (`/var/lib/vz/template/cache/<file>`), without checking that the file exists.
pub fn pvesm_path(node: &Node, volid: &str) -> Result<String, Failure> {
    let Some((storage_id, volname)) = split_volume_id(volid) else {
        return Err(Failure::params(
            &[("volume".into(), format!("invalid format - unable to parse volume ID '{volid}'"))],
            "pvesm path <volume>",
        ));
    };
    let storage = find_storage(node, storage_id)?;
    let Some(path) = storage.path.as_deref().filter(|_| storage.is_dir_like()) else {
        return Err(Failure::new("storage definition has no path"));
    };
    let (vtype, file) = volname.split_once('/').unwrap_or((volname, ""));
    match subdir(vtype) {
        Some(dir) if !file.is_empty() && !file.contains('/') => {
            if vtype == "vztmpl" {
                template_file(volname)?;
            }
            Ok(format!("{}/{dir}/{file}", path.trim_end_matches('/')))
        }
        _ => Err(Failure::new(format!("unable to parse directory volume name '{volname}'"))),
    }
}

/// The directory behind a storage's content type on `node`, in the simulator's state.
pub fn content_dir(node: &Node, storage: &Storage, vtype: &str) -> Option<PathBuf> {
    Some(storage.base_dir(node).join(subdir(vtype)?))
}

/// Seconds since the epoch of a file's inode change time (`stat->ctime`).
fn ctime(meta: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    u64::try_from(meta.ctime()).unwrap_or(0)
}

/// `Content.pm` `index` over `Storage.pm` `volume_list` and `Plugin.pm` `$get_subdir_files`, for
/// templates: a content type the storage is not configured for lists nothing (no error);
/// entries are `content`, `ctime` (inode change time), `format`, `size`, `volid`, sorted by
/// lower-case volid; dot files, directories and names that are not a template's are skipped.
pub fn list_templates(node: &Node, storage: &Storage) -> Vec<Value> {
    if !storage.supports("vztmpl") {
        return Vec::new();
    }
    let Some(dir) = content_dir(node, storage, "vztmpl") else { return Vec::new() };
    let mut entries: Vec<Value> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let meta = fs::metadata(e.path()).ok()?; // `File::stat` follows links
                    if name.starts_with('.') || meta.is_dir() {
                        return None;
                    }
                    let format = template_format(&name)?;
                    Some(json!({
                        "content": "vztmpl", "ctime": ctime(&meta), "format": format, "size": meta.len(),
                        "volid": format!("{}:vztmpl/{name}", storage.id),
                    }))
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by_key(|e| e["volid"].as_str().unwrap_or_default().to_lowercase());
    entries
}

/// pve-storage `$BACKUP_EXT_RE_2` (`\.(tgz|(?:tar|vma)(?:\.(gz|lzo|zst|bz2))?)$`): a backup
/// file's `format`, the whole extension.
pub fn backup_format(file_name: &str) -> Option<String> {
    if file_name.ends_with(".tgz") && file_name.len() > 4 {
        return Some("tgz".to_owned());
    }
    for base in ["tar", "vma"] {
        for compressor in ["", ".gz", ".lzo", ".zst", ".bz2"] {
            let ext = format!("{base}{compressor}");
            if file_name.len() > ext.len() + 1 && file_name.ends_with(&format!(".{ext}")) {
                return Some(ext);
            }
        }
    }
    None
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What `PVE::Storage::archive_info` tells of an archive's name.
#[derive(Debug, PartialEq)]
struct ArchiveInfo {
    /// `lxc`, `qemu` or `openvz`: any `vzdump-<type>-….<ext>`.
    kind: String,
    /// For a standard name `vzdump-<type>-<vmid>-YYYY_MM_DD-HH_MM_SS.<ext>` (`is_std_name`): the
    /// VMID and the time the name says (local time; the simulated hosts run in UTC).
    standard: Option<(u32, u64)>,
}

/// `PVE::Storage::archive_info`: `^vzdump-(lxc|openvz|qemu)-.+$BACKUP_EXT_RE_2$` gives the type,
/// then `^vzdump-<type>-([1-9][0-9]{2,8})-(\d{4})_(\d{2})_(\d{2})-(\d{2})_(\d{2})_(\d{2})\.<ext>$`
/// the rest; anything else dies ("couldn't determine archive info").
fn archive_info(file_name: &str) -> Option<ArchiveInfo> {
    let format = backup_format(file_name)?;
    let rest = file_name.strip_prefix("vzdump-")?;
    let (kind, rest) = rest.split_once('-')?;
    if !matches!(kind, "lxc" | "qemu" | "openvz") || rest.len() <= format.len() + 1 {
        return None;
    }
    let standard = (|| {
        let stem = rest.strip_suffix(&format!(".{format}"))?;
        let (vmid, stamp) = stem.split_once('-')?;
        if !(3..=9).contains(&vmid.len()) || vmid.starts_with('0') || !vmid.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let shape = stamp.len() == 19
            && stamp.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 | 13 | 16 => b == b'_',
                10 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape {
            return None;
        }
        let fields: Vec<i64> = stamp.split(['_', '-']).map(|f| f.parse().ok()).collect::<Option<_>>()?;
        let [y, mo, d, h, mi, s] = fields[..] else { return None };
        let epoch = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
        Some((vmid.parse().ok()?, u64::try_from(epoch).ok()?))
    })();
    Some(ArchiveInfo { kind: kind.to_owned(), standard })
}

/// `$get_subdir_files`' VMID of a backup name: the leftmost `-([1-9][0-9]{2,8})-[^/]+\.<format>$`.
fn vmid_in_name(name: &str, format: &str) -> Option<u32> {
    let stem_len = name.len().checked_sub(format.len() + 1)?;
    name.match_indices('-').find_map(|(at, _)| {
        let digits: &str = &name[at + 1..];
        let run = digits.bytes().take_while(u8::is_ascii_digit).count();
        let after = at + 1 + run; // the '-' that must follow the digits
        let ok = (3..=9).contains(&run)
            && !digits.starts_with('0')
            && name.as_bytes().get(after) == Some(&b'-')
            && after + 1 < stem_len; // `[^/]+`: at least one character before `.<format>`
        ok.then(|| digits[..run].parse().ok()).flatten()
    })
}

/// `$get_subdir_files` for backups (`<$path/*>`: no dot files; `File::stat` follows links):
/// archives only (`.log`, `.notes`, `.protected` side files are not volumes); `subtype` always
/// (`unknown` when `archive_info` has no type), `vmid` when the name has one, `notes` when the
/// `.notes` file has a first line (`file_read_firstline`: an empty first line is `""`), `protected`
/// only when set, `ctime` from a standard name or the file.
pub fn list_backups(node: &Node, storage: &Storage, vmid: Option<u32>) -> Vec<Value> {
    if !storage.supports("backup") {
        return Vec::new();
    }
    let Some(dir) = content_dir(node, storage, "backup") else { return Vec::new() };
    let mut entries: Vec<Value> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let meta = fs::metadata(e.path()).ok()?;
                    if name.starts_with('.') || meta.is_dir() {
                        return None;
                    }
                    let format = backup_format(&name)?;
                    if let Some(wanted) = vmid {
                        if !name.contains(&format!("-{wanted}-")) {
                            return None;
                        }
                    }
                    let info = archive_info(&name);
                    let standard = info.as_ref().and_then(|i| i.standard);
                    let mut entry = json!({
                        "content": "backup", "format": format, "size": meta.len(),
                        "ctime": standard.map(|(_, t)| t).unwrap_or_else(|| ctime(&meta)),
                        "subtype": info.map(|i| i.kind).unwrap_or_else(|| "unknown".to_owned()),
                        "volid": format!("{}:backup/{name}", storage.id),
                    });
                    if let Some(owner) = vmid.or_else(|| vmid_in_name(&name, &format)) {
                        entry["vmid"] = json!(owner);
                    }
                    let notes = fs::read_to_string(dir.join(format!("{name}.notes"))).unwrap_or_default();
                    if let Some(first) = notes.lines().next() {
                        entry["notes"] = json!(first);
                    }
                    if dir.join(format!("{name}.protected")).exists() {
                        entry["protected"] = json!(1);
                    }
                    Some(entry)
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by_key(|e| e["volid"].as_str().unwrap_or_default().to_lowercase());
    entries
}

/// `PVE::Storage::archive_remove`: the archive and, for a standard name, its `.log` and `.notes`.
pub fn remove_archive(node: &Node, storage: &Storage, volid: &str) {
    let Some(file) = volid.split_once(":backup/").map(|(_, f)| f) else { return };
    let Some(dir) = content_dir(node, storage, "backup") else { return };
    let _ = fs::remove_file(dir.join(file));
    if archive_info(file).is_some_and(|i| i.standard.is_some()) {
        let format = backup_format(file).unwrap_or_default();
        let base = file.strip_suffix(&format!(".{format}")).unwrap_or(file);
        let _ = fs::remove_file(dir.join(format!("{base}.log")));
        let _ = fs::remove_file(dir.join(format!("{file}.notes")));
    }
}

/// `pvesm free <volid>` (pve-storage `API2/Storage/Content.pm` `delete` through `pvesm.pm`, no
/// output sub): a worker whose output is shown and whose error reaches only stderr while the
/// command exits 0 — a protected backup is `cannot remove protected volume '<volname>' on
/// '<sid>'`; a missing file only warns. A standard backup name takes its `.log` and `.notes`
/// along (`archive_auxiliaries_remove`).
pub fn free_backup(node: &Node, volid: &str) -> Result<(), Failure> {
    // `Content.pm` `$real_volume_id`: without a `:` and without `--storage` there is no storage.
    let Some((storage_id, volname)) = split_volume_id(volid) else {
        let reason = if volid.contains(':') {
            format!("unable to parse volume ID '{volid}'")
        } else {
            "no storage specified - incomplete volume ID".to_owned()
        };
        return Err(Failure::params(&[("volume".into(), reason)], "pvesm free <volume> [OPTIONS]"));
    };
    let storage = find_storage(node, storage_id)?;
    let Some(file) = volname.strip_prefix("backup/").filter(|f| !f.contains('/') && backup_format(f).is_some()) else {
        return Err(Failure::new(format!("unable to parse directory volume name '{volname}'")));
    };
    let dir = content_dir(node, &storage, "backup").unwrap_or_default();
    if dir.join(format!("{file}.protected")).exists() {
        eprintln!("cannot remove protected volume '{volname}' on '{storage_id}'");
        return Ok(());
    }
    let shown = format!("{}/dump/{file}", storage.path.as_deref().unwrap_or("/var/lib/vz").trim_end_matches('/'));
    if !dir.join(file).is_file() {
        println!("disk image '{shown}' does not exist");
    }
    remove_archive(node, &storage, volid);
    println!("Removed volume '{volid}'");
    Ok(())
}

/// The parameters of `POST /nodes/{node}/storage/{storage}/download-url` the simulator takes.
pub struct DownloadUrl<'a> {
    pub url: &'a str,
    pub content: &'a str,
    pub filename: &'a str,
    pub checksum: Option<(&'a str, &'a str)>,
    pub verify_certificates: bool,
}

/// pve-storage `normalize_content_filename`: the last path element, every character outside
/// `[a-zA-Z0-9_.-]` replaced by `_`.
fn normalize_filename(name: &str) -> String {
    let name = name.trim_end_matches('\n');
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    last.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' }).collect()
}

/// `PVE::Tools::get_file_hash` through coreutils (`sha256sum`, …): lower-case hex.
fn file_hash(algorithm: &str, path: &std::path::Path) -> Result<String, Failure> {
    let out = std::process::Command::new(format!("{algorithm}sum")).arg(path).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(format!("lws-sim: {algorithm}sum failed")))
}

/// pve-storage `src/PVE/API2/Storage/Status.pm` `download_url`, checks in its order (before the
/// task: a plain error), then the `download` worker running pve-common `src/PVE/Tools.pm`
/// `download_file_from_url` with real `wget`: its lines on stdout, its error only on stderr —
/// the caller still prints the UPID and exits 0, as `pvesh` does for a failed task.
pub fn download_url(node: &Node, storage_id: &str, request: &DownloadUrl<'_>, usage: &str) -> Result<String, Failure> {
    let storage = find_storage(node, storage_id)?;
    if storage.disabled {
        return Err(Failure::new(format!("storage '{storage_id}' is disabled")));
    }
    let Some(path) = storage.path.clone().filter(|_| storage.is_dir_like()) else {
        return Err(Failure::new(format!(
            "can't upload to storage type '{}', not a file based storage!",
            storage.kind
        )));
    };
    if !storage.supports(request.content) {
        return Err(Failure::new(format!(
            "storage '{storage_id}' is not configured for content-type '{}'",
            request.content
        )));
    }
    let filename = normalize_filename(request.filename);
    let extension_ok = match request.content {
        "vztmpl" => template_format(&filename).is_some(),
        "iso" => {
            let lower = filename.to_lowercase();
            lower.ends_with(".iso") || lower.ends_with(".img")
        }
        _ => true,
    };
    if !extension_ok {
        return Err(Failure::params(&[("filename".into(), "wrong file extension".into())], usage));
    }
    let Some(dir) = content_dir(node, &storage, request.content) else {
        return Err(Failure::new(format!("unknown vtype '{}'", request.content)));
    };
    fs::create_dir_all(&dir)?;
    let dest = dir.join(&filename);
    let subdir = subdir(request.content).unwrap_or("template/cache");
    let shown = format!("{}/{subdir}/{filename}", path.trim_end_matches('/'));
    let upid = format!(
        "UPID:{}:{:08X}:{:08X}:{:08X}:download:{filename}:root@pam:",
        node.name,
        std::process::id(),
        0,
        crate::journal::epoch_secs()
    );
    if let Err(message) = download_task(request, &dest, &shown) {
        eprintln!("{message}");
    }
    Ok(upid)
}

/// The worker: `Err` is the task's error text.
fn download_task(request: &DownloadUrl<'_>, dest: &std::path::Path, shown: &str) -> Result<(), String> {
    let url = request.url;
    println!("downloading {url} to {shown}");
    if dest.is_file() {
        let Some((algorithm, expected)) = request.checksum else {
            return Err(format!("refusing to override existing file '{shown}'"));
        };
        print!("calculating checksum of existing file...");
        let got = file_hash(algorithm, dest).map_err(|e| e.message)?;
        if got.eq_ignore_ascii_case(expected) {
            println!("OK, got correct file already, no need to download");
            return Ok(());
        }
        println!();
        return Err(format!("checksum mismatch: got '{got}' != expect '{expected}', aborting"));
    }
    let partial = std::path::PathBuf::from(format!("{}.tmp_dwnl.{}", dest.display(), std::process::id()));
    let result = (|| {
        let mut wget = std::process::Command::new("wget");
        wget.arg("--progress=dot:giga").arg("-O").arg(&partial).arg(url);
        if !request.verify_certificates {
            wget.arg("--no-check-certificate");
        }
        let out = wget.output().map_err(|e| format!("download failed: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        if !out.status.success() {
            // pve-common `run_command` with `errmsg`: every stderr line but the last is shown,
            // the last one becomes the error — or the exit code when it is empty (wget ends its
            // error output with an empty line).
            for line in lines.iter().take(lines.len().saturating_sub(1)) {
                println!("{line}");
            }
            return Err(match lines.last().filter(|l| !l.trim().is_empty()) {
                Some(last) => format!("download failed: {last}"),
                None => format!("download failed: exit code {}", out.status.code().unwrap_or(-1)),
            });
        }
        for line in &lines {
            println!("{line}");
        }
        if let Some((algorithm, expected)) = request.checksum {
            print!("calculating checksum...");
            let got = file_hash(algorithm, &partial).map_err(|e| e.message)?;
            if !got.eq_ignore_ascii_case(expected) {
                println!();
                return Err(format!("checksum mismatch: got '{got}' != expect '{expected}'"));
            }
            println!("OK, checksum verified");
        }
        fs::rename(&partial, dest).map_err(|e| format!("unable to rename temporary file: {e}"))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result?;
    println!("download of '{url}' to '{shown}' finished");
    Ok(())
}

/// `pveam remove <volid>` (pve-manager `PVE/CLI/pveam.pm` `remove`): no output; the volume must
/// parse as a template (`check_volume_access` with `vztmpl`) and exist
/// (`abs_filesystem_path`: `volume '<volid>' does not exist`).
pub fn remove_template(node: &Node, volid: &str) -> Result<(), Failure> {
    // Not a volume id (`parse_volume_id($volid, 1)` is undef): root may pass a file path, which
    // `abs_filesystem_path` then does not find as a file.
    let Some((storage_id, volname)) = split_volume_id(volid) else {
        return Err(Failure::new(format!("can't find file '{volid}'")));
    };
    let storage = find_storage(node, storage_id)?;
    if !volname.starts_with("vztmpl/") {
        return Err(Failure::new(format!("unable to use volume {volid} - content type needs to be 'vztmpl'")));
    }
    let file = template_file(volname)?;
    let path = content_dir(node, &storage, "vztmpl").map(|d| d.join(file)).unwrap_or_default();
    if !path.is_file() {
        return Err(Failure::new(format!("volume '{volid}' does not exist")));
    }
    fs::remove_file(&path).map_err(|e| Failure::new(format!("lws-sim: removing {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_formats_follow_the_extension_regex() {
        assert_eq!(template_format("debian-12-standard_12.7-1_amd64.tar.zst").as_deref(), Some("tzst"));
        assert_eq!(template_format("alpine.tar.xz").as_deref(), Some("txz"));
        assert_eq!(template_format("x.TAR.GZ").as_deref(), Some("tGZ"), "the capture as written");
        assert_eq!(template_format("plain.tar").as_deref(), Some("tar"));
        assert_eq!(template_format("PLAIN.TAR").as_deref(), Some("tTAR"));
        assert_eq!(template_format("old.tgz"), None, "`.tgz` is not a template extension");
        assert_eq!(template_format("notes.txt"), None);
    }

    #[test]
    fn backup_names_say_type_vmid_and_time() {
        assert_eq!(backup_format("vzdump-lxc-101-2025_01_31-14_05_09.tar.zst").as_deref(), Some("tar.zst"));
        assert_eq!(backup_format("x.vma").as_deref(), Some("vma"));
        assert_eq!(backup_format("vzdump-lxc-101-2025_01_31-14_05_09.log"), None);
        assert_eq!(
            archive_info("vzdump-lxc-101-2025_01_31-14_05_09.tar.zst"),
            Some(ArchiveInfo { kind: "lxc".to_owned(), standard: Some((101, 1_738_332_309)) })
        );
        assert_eq!(archive_info("vzdump-lxc-foo.tar"), Some(ArchiveInfo { kind: "lxc".to_owned(), standard: None }));
        assert_eq!(archive_info("custom-101.tar"), None);
        assert_eq!(vmid_in_name("custom-101-a.tar", "tar"), Some(101));
        assert_eq!(vmid_in_name("custom-101.tar", "tar"), None, "no '-' after the digits");
        assert_eq!(vmid_in_name("x-0123-a.tar", "tar"), None, "no leading zero");
        assert_eq!(vmid_in_name("x-12-y-345-z.tar.zst", "tar.zst"), Some(345), "the leftmost that fits");
        assert_eq!(vmid_in_name("x-345-.tar", "tar"), None, "something before the extension");
    }

    #[test]
    fn file_names_are_normalized_as_pve_storage_does() {
        assert_eq!(normalize_filename("dir/sub/my template (1).tar.gz"), "my_template__1_.tar.gz");
        assert_eq!(normalize_filename("C:\\x\\a.tar"), "a.tar");
    }

    #[test]
    fn volume_ids_need_a_storage_id_and_a_name() {
        assert_eq!(split_volume_id("local:vztmpl/a.tar"), Some(("local", "vztmpl/a.tar")));
        assert_eq!(split_volume_id("l:vztmpl/a.tar"), None);
        assert_eq!(split_volume_id("local:"), None);
        assert_eq!(split_volume_id("nocolon"), None);
    }
}
