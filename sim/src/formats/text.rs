//! Small text codecs Proxmox uses inside its config files and CLI values, written from the Perl:
//!
//! - [`encode_text`] / [`decode_text`]: `PVE::Tools::encode_text` / `decode_text` (pve-common
//!   `src/PVE/Tools.pm`; the current tree keeps the bodies in `src/PVE/ParseUtils.pm` and
//!   `PVE::Tools` wraps them). Used for the `#` lines that carry a guest's description and for
//!   `description:` in `pct config` output.
//! - [`parse_size`] / [`format_size`]: `PVE::JSONSchema::parse_size` / `format_size`
//!   (pve-common `src/PVE/JSONSchema.pm`), the `disk-size` format of `rootfs`/`mpN` `size=`.
//! - [`normalize_tags`] / [`is_valid_tag`]: `PVE::GuestHelpers::get_unique_tags`
//!   (pve-guest-common `src/PVE/GuestHelpers.pm`) on top of `PVE::Tools::split_list`
//!   (pve-common `src/PVE/ParseUtils.pm`), and `$PVE_TAG_RE` / `pve_verify_tag`
//!   (pve-common `src/PVE/JSONSchema.pm`), as `PVE::LXC::Config::update_pct_config`
//!   (pve-container `src/PVE/LXC/Config.pm`) applies them to `tags`.
//! - [`utc_fields`]: Unix time to UTC calendar fields, what `gmtime` gives the Perl tools.
//!
//! Deliberate simplifications:
//! - `get_unique_tags` reads `tag-style` from `datacenter.cfg`; the simulator has no
//!   datacenter config, so the default applies: case-insensitive, sorted, lowercased, no duplicates.
//! - Perl turns sizes that overflow 64-bit integers into floating point numbers; [`parse_size`]
//!   returns `None` for them instead.

/// `PVE::Tools::encode_text`: `uri_escape(encode_utf8($text), "^\x20-\x24\x26-\x39\x3b-\x7e")`.
///
/// Every byte outside `0x20..=0x24`, `0x26..=0x39` and `0x3b..=0x7e` becomes `%XX` (upper-case
/// hex): control characters, `%` (0x25), `:` (0x3a), DEL and every byte of a non-ASCII character.
/// `%` has been escaped since pve-common 8.2.2 (commit 06f436f, "fix #5486"), so that
/// `decode_text` gives back text that already contained percent escapes.
pub fn encode_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let safe = matches!(byte, 0x20..=0x24 | 0x26..=0x39 | 0x3b..=0x7e);
        if safe {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `PVE::Tools::decode_text`: `decode('utf8', uri_unescape($data))`.
///
/// `uri_unescape` replaces every `%` followed by two hex digits (either case) by that byte and
/// leaves any other `%` alone; the bytes are then read as UTF-8, malformed sequences becoming
/// U+FFFD as Encode's lax `utf8` decoding does.
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

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `PVE::JSONSchema::parse_size`: `^(\d+(\.\d+)?)([KMGT](?:iB)?)?$`, the number multiplied by
/// 1024 per unit step and truncated with `int()`. Units are upper case only; `K` and `KiB` (etc.)
/// are the same; no unit means bytes. `None` where Perl returns `undef` (and on 64-bit overflow).
pub fn parse_size(text: &str) -> Option<u64> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let multiplier: u64 = match unit {
        "" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    match fraction {
        // Integer arithmetic, as Perl keeps integers exact while they fit.
        None => whole.parse::<u64>().ok()?.checked_mul(multiplier),
        // A fraction makes Perl compute in floating point; `int()` truncates.
        Some(_) => {
            let value: f64 = number.parse().ok()?;
            let bytes = (value * multiplier as f64).trunc();
            (bytes < u64::MAX as f64).then_some(bytes as u64)
        }
    }
}

/// `PVE::JSONSchema::format_size`: the largest unit that divides the size exactly, never a
/// fraction. `1536` stays `1536` (bytes), 1.5 GiB is `1536M`, 8 GiB is `8G`. Zero divides every
/// unit, so `format_size(0)` is `0T`, as in Perl.
pub fn format_size(bytes: u64) -> String {
    let kb = bytes / 1024;
    if kb * 1024 != bytes {
        return bytes.to_string();
    }
    let mb = kb / 1024;
    if mb * 1024 != kb {
        return format!("{kb}K");
    }
    let gb = mb / 1024;
    if gb * 1024 != mb {
        return format!("{mb}M");
    }
    let tb = gb / 1024;
    if tb * 1024 != gb {
        return format!("{gb}G");
    }
    format!("{tb}T")
}

/// `PVE::Tools::split_list` (pve-common `src/PVE/ParseUtils.pm`): a list containing NUL is split
/// on NUL; otherwise `,` and `;` count as blanks, leading blanks are dropped and the rest is split
/// on runs of blanks. Perl's `split` drops trailing empty fields and keeps inner ones.
fn split_list(text: &str) -> Vec<String> {
    if text.contains('\0') {
        let mut fields: Vec<String> = text.split('\0').map(str::to_owned).collect();
        while fields.last().is_some_and(String::is_empty) {
            fields.pop();
        }
        return fields;
    }
    let blanked: String = text.chars().map(|c| if c == ',' || c == ';' { ' ' } else { c }).collect();
    // After the leading blanks are gone, `split(/\s+/)` yields no empty field but a trailing one,
    // which Perl drops.
    blanked.split(is_perl_space).filter(|f| !f.is_empty()).map(str::to_owned).collect()
}

/// Perl's `\s` on byte strings: space, `\t`, `\n`, `\x0b`, `\x0c`, `\r`.
pub fn is_perl_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// `PVE::GuestHelpers::get_unique_tags` with the default tag style (no `tag-style` in
/// `datacenter.cfg`): `split_list`, sort by the lowercased tag (Perl's sort is stable), lowercase,
/// drop repeats. The caller joins the result with `;`, as `get_unique_tags` does.
pub fn normalize_tags(raw: &str) -> Vec<String> {
    let mut tags = split_list(raw);
    tags.sort_by_key(|t| t.to_ascii_lowercase());
    let mut unique: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.to_ascii_lowercase();
        if !unique.contains(&tag) {
            unique.push(tag);
        }
    }
    unique
}

/// `pve_verify_tag`: `^$PVE_TAG_RE$` with `$PVE_TAG_RE = qr/[a-z0-9_][a-z0-9_\-\+\.]*/i`.
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'))
}

/// A Unix time as UTC calendar fields `(year, month, day, hour, minute, second)`, what Perl's
/// `gmtime` yields (proleptic Gregorian calendar; days to civil date after H. Hinnant's
/// `civil_from_days`).
pub fn utc_fields(epoch: u64) -> (i64, u32, u32, u64, u64, u64) {
    let seconds_of_day = epoch % 86_400;
    // `u64::MAX / 86_400` fits in an i64.
    let days = i64::try_from(epoch / 86_400).unwrap_or(i64::MAX / 2);
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the 400-year era, 0..=146096
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year, 0..=365
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (month, day) = (u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1));
    (year, month, day, seconds_of_day / 3_600, seconds_of_day % 3_600 / 60, seconds_of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_text_escapes_colon_percent_controls_and_non_ascii_bytes() {
        assert_eq!(encode_text("web: frontend\n"), "web%3A frontend%0A");
        assert_eq!(encode_text("100% ok"), "100%25 ok");
        assert_eq!(encode_text("café"), "caf%C3%A9");
        assert_eq!(encode_text("tab\there\x7f"), "tab%09here%7F");
        assert_eq!(encode_text(" !\"#$&'()*+,-./09;<=>?@AZ[\\]^_`az{|}~"), " !\"#$&'()*+,-./09;<=>?@AZ[\\]^_`az{|}~");
    }

    #[test]
    fn decode_text_unescapes_hex_pairs_and_leaves_other_percent_signs() {
        assert_eq!(decode_text("web%3A frontend%0a"), "web: frontend\n");
        assert_eq!(decode_text("100% ok %zz %4"), "100% ok %zz %4");
        assert_eq!(decode_text("caf%C3%A9"), "café");
        assert_eq!(decode_text("raw café"), "raw café");
        assert_eq!(decode_text("bad %FF byte"), "bad \u{fffd} byte");
    }

    #[test]
    fn decoding_an_encoded_text_gives_the_text_back_even_with_percent_escapes_inside() {
        for text in ["https://example.com/a%20b", "50%", "ünïcödé: yes\n", "%%%"] {
            assert_eq!(decode_text(&encode_text(text)), text);
        }
    }

    #[test]
    fn parse_size_accepts_bytes_units_and_fractions_like_jsonschema() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("8GiB"), Some(8 << 30));
        assert_eq!(parse_size("4K"), Some(4096));
        assert_eq!(parse_size("2T"), Some(2 << 40));
        assert_eq!(parse_size("1.5G"), Some(1_610_612_736));
        assert_eq!(parse_size("0.1K"), Some(102));
        assert_eq!(parse_size("1.5"), Some(1));
    }

    #[test]
    fn parse_size_rejects_what_the_perl_regex_rejects() {
        for bad in ["", "G", "8g", "8 G", "8GB", "8Gi", ".5G", "5.G", "1.2.3", "-1", "8P", "0x10"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn format_size_uses_the_largest_exact_unit_and_never_prints_fractions() {
        assert_eq!(format_size(8 << 30), "8G");
        assert_eq!(format_size(1_610_612_736), "1536M");
        assert_eq!(format_size(1536), "1536");
        assert_eq!(format_size(4096), "4K");
        assert_eq!(format_size(3 << 40), "3T");
        assert_eq!(format_size(1 << 50), "1024T");
        assert_eq!(format_size(0), "0T");
    }

    #[test]
    fn tags_are_split_on_separators_sorted_case_insensitively_lowercased_and_deduplicated() {
        assert_eq!(normalize_tags("Web;db,web  Zeta"), ["db", "web", "zeta"]);
        assert_eq!(normalize_tags(" ;a;;b; "), ["a", "b"]);
        assert_eq!(normalize_tags(""), Vec::<String>::new());
        assert_eq!(normalize_tags("b\0a\0"), ["a", "b"]);
    }

    #[test]
    fn split_list_keeps_inner_empty_fields_only_when_split_on_nul() {
        assert_eq!(split_list("a\0\0b\0\0"), ["a", "", "b"]);
        assert_eq!(split_list("a,,b;;"), ["a", "b"]);
    }

    #[test]
    fn tag_syntax_follows_pve_tag_re() {
        assert!(is_valid_tag("prod"));
        assert!(is_valid_tag("_x-1.2+3"));
        assert!(is_valid_tag("UPPER"));
        assert!(!is_valid_tag(""));
        assert!(!is_valid_tag("-lead"));
        assert!(!is_valid_tag(".lead"));
        assert!(!is_valid_tag("sp ace"));
        assert!(!is_valid_tag("a:b"));
    }

    #[test]
    fn utc_fields_gives_the_civil_date_of_known_instants() {
        assert_eq!(utc_fields(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(utc_fields(1_700_000_000), (2023, 11, 14, 22, 13, 20));
        assert_eq!(utc_fields(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(utc_fields(4_107_542_399), (2100, 2, 28, 23, 59, 59));
        assert_eq!(utc_fields(253_402_300_799), (9999, 12, 31, 23, 59, 59));
    }
}
