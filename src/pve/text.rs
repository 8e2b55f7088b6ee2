//! Small value formats Proxmox uses in its configuration files: escaped comment text, disk
//! sizes, tag lists.

/// A storage id as pve-common `JSONSchema.pm` `parse_id` accepts it (`pve-storage-id`): at least
/// two characters, `[a-z][a-z0-9\-\_\.]*[a-z0-9]` in any case.
pub fn is_storage_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `PVE::Tools::decode_text`: undo `%XX` escapes (any of them, as `uri_unescape` does) and read
/// the bytes as UTF-8, replacing invalid sequences.
pub fn decode_text(data: &str) -> String {
    let bytes = data.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `PVE::Tools::format_size` as used in volume strings: the largest unit (K, M, G, T) that
/// divides the byte count exactly, or plain bytes.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)];
    if bytes == 0 {
        return "0".to_owned();
    }
    for (suffix, unit) in UNITS {
        if bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// Parse a disk size as Proxmox writes it in volume strings (`8G`, `512M`, `1.5G`, bare bytes).
pub fn parse_size(text: &str) -> Option<u64> {
    // pve-common `src/PVE/JSONSchema.pm` `parse_size`: `^(\d+(\.\d+)?)([KMGT](?:iB)?)?$`, the
    // unit case-sensitive, the bytes truncated (`int($size)`).
    let digits = text.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
    let (number, unit) = text.split_at(digits);
    let shape = match number.split_once('.') {
        Some((whole, fraction)) => !whole.is_empty() && !fraction.is_empty() && !fraction.contains('.'),
        None => !number.is_empty(),
    };
    if !shape {
        return None;
    }
    let factor: u64 = match unit {
        "" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(factor);
    }
    let value: f64 = number.parse().ok()?;
    let bytes = value * factor as f64;
    (bytes.is_finite() && bytes < u64::MAX as f64).then(|| bytes.trunc() as u64)
}

/// A Unix time as UTC calendar fields: (year, month, day, hour, minute, second). Howard
/// Hinnant's days-to-civil algorithm (proleptic Gregorian).
pub fn utc_fields(epoch: u64) -> (i64, u32, u32, u64, u64, u64) {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, (secs / 60) % 60, secs % 60)
}

/// `2023-11-14T22:13:20Z`.
pub fn rfc3339(epoch: u64) -> String {
    let (y, mo, d, h, mi, s) = utc_fields(epoch);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// The tags of a config's `tags:` line, as written: split on `;`, `,` or whitespace. Proxmox
/// normalised them when it wrote them (pve-guest-common `GuestHelpers.pm` `get_unique_tags`:
/// lowercased and sorted under the default `tag-style` of `datacenter.cfg`, kept as given with
/// `case-sensitive=1` or `ordering=config`), so reading lowercases nothing: what the file says
/// is the tag.
pub fn split_tags(raw: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw.split(|c: char| c == ';' || c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    tags
}

/// Proxmox's tag syntax: `^[a-z0-9_][a-z0-9_\-+.]*$` (checked after lowercasing).
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '+' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What pve-common `encode_text` writes (`%` escaped since 8.2.2, fix #5486) reads back as
    /// the text that was set.
    #[test]
    fn descriptions_written_by_proxmox_read_back() {
        assert_eq!(decode_text("web%3A frontend%0A"), "web: frontend\n");
        assert_eq!(decode_text("caf%C3%A9 %E2%9C%93"), "café ✓");
        assert_eq!(decode_text("tab%09here"), "tab\there");
        assert_eq!(decode_text("50%2541"), "50%41");
        assert_eq!(decode_text("100%"), "100%", "a lone % stays");
        assert_eq!(decode_text("50%4"), "50%4", "a cut-off escape stays");
    }

    #[test]
    fn sizes_use_the_largest_exact_unit() {
        assert_eq!(format_size(8 << 30), "8G");
        assert_eq!(format_size(512 << 20), "512M");
        assert_eq!(format_size(1536 << 20), "1536M");
        assert_eq!(format_size(1 << 40), "1T");
        assert_eq!(format_size(1000), "1000");
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("1.5G"), Some(1536 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("8X"), None);
        assert_eq!(parse_size("8GiB"), Some(8 << 30));
        assert_eq!(parse_size("8704M"), Some(8704 << 20));
        assert_eq!(parse_size("0.3K"), Some(307), "truncated, as int()");
        assert_eq!(parse_size("8g"), None, "units are upper case");
        assert_eq!(parse_size("8GB"), None);
        assert_eq!(parse_size(" 8G"), None);
        assert_eq!(parse_size(".5G"), None);
        assert_eq!(parse_size("1.G"), None);
    }

    #[test]
    fn times_format_as_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn tags_read_as_written() {
        assert_eq!(split_tags("db;prod web,db"), vec!["db", "prod", "web"]);
        assert_eq!(split_tags("Prod;db"), vec!["Prod", "db"], "a case-sensitive tag-style keeps case");
        assert!(is_valid_tag("web-1.x"));
        assert!(!is_valid_tag("-web"));
        assert!(!is_valid_tag("we b"));
    }
}
