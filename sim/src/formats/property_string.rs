//! Property strings (`k=v,k2=v2`, optionally one value without key): the values of `rootfs`,
//! `mpN`, `netN`, `features`, `startup`… in a container config, written from pve-common
//! `src/PVE/JSONSchema.pm`:
//!
//! - [`PropertyString::parse`] follows `parse_property_string`: split on `,`, skip blank parts,
//!   `key=value` where the key is everything up to the first `=` and the value is not empty, a
//!   part without `=` is the schema's default key, with Perl's error texts for a duplicate key, a
//!   keyless value without default key and a part such as `a=` or `=b`.
//! - [`PropertyString::to_canonical`] follows `print_property_string`: the default key's value
//!   first (without `key=`), then the required keys, then all other keys, each group sorted.
//!
//! Deliberate simplifications (the simulator passes a default key and a list of required keys
//! instead of a whole schema):
//! - Unknown keys are not rejected here: `parse_property_string` dies with `invalid key in
//!   comma-separated list property: KEY` before it validates anything; the simulator's schema
//!   checks report unknown keys themselves.
//! - Boolean values are kept as written; with a schema, Perl turns `on`/`yes`/`true` into `1` and
//!   `off`/`no`/`false` into `0` (`parse_boolean`) while parsing.
//! - Key aliases (`keyAlias`) do not exist here, and printing neither reformats `disk-size`
//!   values (callers store [`format_size`](super::text::format_size) output already) nor dies on a
//!   value containing a comma (`illegal value with commas for KEY`); callers never set one.

use std::collections::BTreeMap;

/// A parsed property string. Keys are kept sorted (Perl keeps a hash and prints sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyString {
    values: BTreeMap<String, String>,
}

impl PropertyString {
    /// `parse_property_string($format, $text)` for a schema whose default key is `default_key`.
    pub fn parse(text: &str, default_key: Option<&str>) -> Result<Self, String> {
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        // Set once a keyless part has been taken as the default key (Perl's `$default_key`).
        let mut keyless_seen = false;
        // `split(/,/, ...)` drops trailing empty fields; inner blank ones are skipped below.
        for part in text.split(',') {
            if part.chars().all(crate::formats::text::is_perl_space) {
                continue;
            }
            if let Some((key, value)) = key_value(part) {
                if values.contains_key(key) {
                    return Err(format!("duplicate key in comma-separated list property: {key}"));
                }
                values.insert(key.to_owned(), value.to_owned());
            } else if !part.contains('=') {
                let Some(default_key) = default_key else {
                    return Err("value without key, but schema does not define a default key".to_owned());
                };
                let taken = values.get(default_key).is_some_and(|v| perl_true(v));
                if keyless_seen || taken {
                    return Err(format!("duplicate key in comma-separated list property: {default_key}"));
                }
                keyless_seen = true;
                values.insert(default_key.to_owned(), part.to_owned());
            } else {
                return Err("missing key in comma-separated list property".to_owned());
            }
        }
        Ok(PropertyString { values })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    /// The keys present, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// `print_property_string`: `default_key`'s value alone first, then the keys listed in
    /// `required` (the schema's non-optional keys) that are present, sorted, then every other key,
    /// sorted, each as `key=value`, joined by `,`.
    pub fn to_canonical(&self, default_key: Option<&str>, required: &[&str]) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(self.values.len());
        let mut done: Vec<&str> = Vec::with_capacity(self.values.len());
        if let Some((key, value)) = default_key.and_then(|k| self.values.get_key_value(k)) {
            parts.push(value.clone());
            done.push(key);
        }
        let required_keys = self.values.iter().filter(|(k, _)| required.contains(&k.as_str()));
        let other_keys = self.values.iter();
        for (key, value) in required_keys.chain(other_keys) {
            if !done.contains(&key.as_str()) {
                parts.push(format!("{key}={value}"));
                done.push(key);
            }
        }
        parts.join(",")
    }
}

/// `^([^=]+)=(.+)$` on one part. `.` does not match a newline, but `$` may match before a final
/// one.
fn key_value(part: &str) -> Option<(&str, &str)> {
    let (key, value) = part.split_once('=')?;
    let value = value.strip_suffix('\n').unwrap_or(value);
    (!key.is_empty() && !value.is_empty() && !value.contains('\n')).then_some((key, value))
}

/// Perl truthiness of a string: everything but `""` and `"0"`.
fn perl_true(value: &str) -> bool {
    !value.is_empty() && value != "0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_point_string_takes_its_leading_value_as_the_volume() {
        let ps = PropertyString::parse("local-lvm:vm-100-disk-0,size=8G", Some("volume")).unwrap();
        assert_eq!(ps.get("volume"), Some("local-lvm:vm-100-disk-0"));
        assert_eq!(ps.get("size"), Some("8G"));
        assert_eq!(ps.keys().collect::<Vec<_>>(), ["size", "volume"]);
    }

    #[test]
    fn the_default_key_may_also_be_written_with_its_name_and_anywhere_in_the_string() {
        let ps = PropertyString::parse("size=8G,volume=local:100/vm-100-disk-0.raw", Some("volume")).unwrap();
        assert_eq!(ps.get("volume"), Some("local:100/vm-100-disk-0.raw"));
        let ps = PropertyString::parse("mp=/data,local:vol", Some("volume")).unwrap();
        assert_eq!(ps.get("volume"), Some("local:vol"));
    }

    #[test]
    fn values_keep_later_equal_signs_and_blank_parts_are_skipped() {
        let ps = PropertyString::parse("name=eth0,,bridge=vmbr0, ,mountoptions=a=b,", None).unwrap();
        assert_eq!(ps.get("mountoptions"), Some("a=b"));
        assert_eq!(ps.keys().count(), 3);
    }

    #[test]
    fn keys_are_not_trimmed_as_in_perl() {
        let ps = PropertyString::parse("name=eth0, bridge=vmbr0", None).unwrap();
        assert_eq!(ps.get(" bridge"), Some("vmbr0"));
        assert_eq!(ps.get("bridge"), None);
    }

    #[test]
    fn parse_errors_carry_the_texts_of_parse_property_string() {
        let err = |text: &str, default_key| PropertyString::parse(text, default_key).unwrap_err();
        assert_eq!(err("name=eth0,name=eth1", None), "duplicate key in comma-separated list property: name");
        assert_eq!(err("eth0", None), "value without key, but schema does not define a default key");
        assert_eq!(err("a:b,c:d", Some("volume")), "duplicate key in comma-separated list property: volume");
        assert_eq!(err("volume=a:b,c:d", Some("volume")), "duplicate key in comma-separated list property: volume");
        assert_eq!(err("a:b,volume=c:d", Some("volume")), "duplicate key in comma-separated list property: volume");
        assert_eq!(err("name=", None), "missing key in comma-separated list property");
        assert_eq!(err("=eth0", None), "missing key in comma-separated list property");
    }

    #[test]
    fn a_keyless_value_replaces_a_default_key_that_perl_considers_false() {
        // `if (!$res->{$default_key})`: an explicit `volume=0` does not count as set.
        let ps = PropertyString::parse("volume=0,local:vol", Some("volume")).unwrap();
        assert_eq!(ps.get("volume"), Some("local:vol"));
    }

    #[test]
    fn canonical_form_puts_the_default_key_first_then_required_then_the_rest_sorted() {
        let ps = PropertyString::parse("size=8G,backup=1,mp=/data,local-lvm:vm-100-disk-1", Some("volume")).unwrap();
        assert_eq!(ps.to_canonical(Some("volume"), &[]), "local-lvm:vm-100-disk-1,backup=1,mp=/data,size=8G");
        // The sample from pve-container src/test/snapshot-expected/create/lxc/202.conf.
        let net =
            PropertyString::parse("type=veth,ip6=dhcp,name=eth0,hwaddr=12:34:56:78:90:12,bridge=vmbr0,ip=dhcp", None)
                .unwrap();
        assert_eq!(
            net.to_canonical(None, &["name"]),
            "name=eth0,bridge=vmbr0,hwaddr=12:34:56:78:90:12,ip=dhcp,ip6=dhcp,type=veth"
        );
    }

    #[test]
    fn required_keys_are_printed_in_sorted_order_whatever_order_the_caller_lists_them() {
        let mut ps = PropertyString::default();
        ps.set("zeta", "1");
        ps.set("beta", "2");
        ps.set("alpha", "3");
        assert_eq!(ps.to_canonical(None, &["zeta", "beta"]), "beta=2,zeta=1,alpha=3");
    }

    #[test]
    fn a_missing_default_key_is_simply_not_printed() {
        let mut ps = PropertyString::default();
        ps.set("size", "8G");
        assert_eq!(ps.to_canonical(Some("volume"), &[]), "size=8G");
    }
}
