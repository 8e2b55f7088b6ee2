//! Proxmox "property strings": `key=value,key=value` values such as `net0`, `rootfs` and
//! `features`, with an optional *default key* whose value may be written without `key=`
//! (`rootfs: local-lvm:vm-100-disk-0,size=8G` — the volume is the default key).

use std::collections::BTreeMap;

/// A parsed property string: key/value pairs in the order they were written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropertyString {
    pairs: Vec<(String, String)>,
}

impl PropertyString {
    /// Parse `text`; a leading value without `=` belongs to `default_key`.
    pub fn parse(text: &str, default_key: Option<&str>) -> Result<Self, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in text.split(',') {
            if part.is_empty() {
                continue;
            }
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => match default_key {
                    Some(dk) if !pairs.iter().any(|(k, _)| k == dk) => (dk.to_owned(), part.to_owned()),
                    _ => return Err(format!("value without key, but schema does not define a default key: '{part}'")),
                },
            };
            if pairs.iter().any(|(k, _)| *k == key) {
                return Err(format!("duplicate key in comma-separated list property: {key}"));
            }
            pairs.push((key, value));
        }
        Ok(Self { pairs })
    }

    /// Build from pairs; later duplicates replace earlier ones.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut ps = Self::default();
        for (k, v) in pairs {
            ps.set(k, v);
        }
        ps
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let idx = self.pairs.iter().position(|(k, _)| k == key)?;
        Some(self.pairs.remove(idx).1)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.pairs.iter().cloned().collect()
    }

    /// `PVE::JSONSchema::print_property_string`: the default key's bare value first, then the
    /// required keys in alphabetical order, then every other key in alphabetical order.
    pub fn to_canonical(&self, default_key: Option<&str>, required: &[&str]) -> String {
        let mut parts = Vec::with_capacity(self.pairs.len());
        if let Some(dk) = default_key {
            if let Some(v) = self.get(dk) {
                parts.push(v.to_owned());
            }
        }
        let mut required: Vec<&str> = required.iter().copied().filter(|k| Some(*k) != default_key).collect();
        required.sort_unstable();
        for key in &required {
            if let Some(v) = self.get(key) {
                parts.push(format!("{key}={v}"));
            }
        }
        let mut rest: Vec<&(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| Some(k.as_str()) != default_key && !required.contains(&k.as_str()))
            .collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in rest {
            parts.push(format!("{k}={v}"));
        }
        parts.join(",")
    }

    /// The pairs exactly in the order they were given (how `features` is stored).
    pub fn to_string_as_given(&self) -> String {
        self.pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_strings_print_name_first_then_alphabetical() {
        let net = PropertyString::parse("bridge=vmbr0,name=eth0,ip=dhcp,type=veth,hwaddr=BC:24:11:7E:3A:1D", None)
            .expect("valid");
        assert_eq!(
            net.to_canonical(None, &["name"]),
            "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:7E:3A:1D,ip=dhcp,type=veth"
        );
    }

    #[test]
    fn volume_strings_print_the_default_key_bare() {
        let rootfs = PropertyString::parse("local-lvm:vm-100-disk-0,size=8G", Some("volume")).expect("valid");
        assert_eq!(rootfs.get("volume"), Some("local-lvm:vm-100-disk-0"));
        assert_eq!(rootfs.get("size"), Some("8G"));
        assert_eq!(rootfs.to_canonical(Some("volume"), &[]), "local-lvm:vm-100-disk-0,size=8G");
    }

    #[test]
    fn bare_value_without_default_key_is_a_format_error() {
        assert!(PropertyString::parse("eth0,bridge=vmbr0", None).is_err());
        assert!(PropertyString::parse("name=a,name=b", None).is_err());
    }
}
