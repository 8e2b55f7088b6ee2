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
        return Some("tar".to_owned());
    }
    for compressor in ["gz", "xz", "zst", "bz2"] {
        let suffix = format!(".tar.{compressor}");
        if lower.len() > suffix.len() && lower.ends_with(&suffix) {
            return Some(format!("t{compressor}"));
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
                    let meta = e.metadata().ok()?;
                    if name.starts_with('.') || !meta.is_file() {
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

/// `pveam remove <volid>` (pve-manager `PVE/CLI/pveam.pm` `remove`): no output; the volume must
/// parse as a template (`check_volume_access` with `vztmpl`) and exist
/// (`abs_filesystem_path`: `volume '<volid>' does not exist`).
pub fn remove_template(node: &Node, volid: &str) -> Result<(), Failure> {
    let Some((storage_id, volname)) = split_volume_id(volid) else {
        return Err(Failure::new(format!("unable to parse volume ID '{volid}'")));
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
        assert_eq!(template_format("x.TAR.GZ").as_deref(), Some("tgz"));
        assert_eq!(template_format("plain.tar").as_deref(), Some("tar"));
        assert_eq!(template_format("old.tgz"), None, "`.tgz` is not a template extension");
        assert_eq!(template_format("notes.txt"), None);
    }

    #[test]
    fn volume_ids_need_a_storage_id_and_a_name() {
        assert_eq!(split_volume_id("local:vztmpl/a.tar"), Some(("local", "vztmpl/a.tar")));
        assert_eq!(split_volume_id("l:vztmpl/a.tar"), None);
        assert_eq!(split_volume_id("local:"), None);
        assert_eq!(split_volume_id("nocolon"), None);
    }
}
