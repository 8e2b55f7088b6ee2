//! Rewriting absolute paths inside command text, so that a command written for a real host (or
//! a real container) touches the simulator's state instead.
//!
//! A prefix such as `/etc/pve` is replaced where it starts a path: at the beginning of the text
//! or after a character that cannot be part of a path (space, quote, `=`, `;`, `(`, …), and where
//! it is followed by `/`, the end, or such a character. `/etc/pvefoo` and `/x/etc/pve` are left
//! alone. Text already inside a protected directory (the state directory itself) is copied as is.
//!
//! Limits: only literal paths are seen. A path assembled at run time (`cd /etc && cat pve/x`,
//! `p=/et; cat ${p}c/pve/x`) is not mapped.

use std::path::Path;

/// Characters that can be part of a path word.
fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | '~' | '+' | '@' | ',' | '%' | ':')
}

/// Replace each mapped prefix in `text` by its target; never rewrite inside `protected`.
pub fn rewrite(text: &str, mappings: &[(&str, &Path)], protected: &[&Path]) -> String {
    let protected: Vec<String> = protected.iter().map(|p| p.display().to_string()).collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut prev: Option<char> = None;
    'scan: while i < text.len() {
        let rest = &text[i..];
        let at_word_start = prev.is_none_or(|c| !is_path_char(c));
        if at_word_start && rest.starts_with('/') {
            for p in &protected {
                if rest.starts_with(p.as_str()) {
                    // Copy the whole path word untouched.
                    let end = rest.find(|c: char| !is_path_char(c)).unwrap_or(rest.len());
                    out.push_str(&rest[..end]);
                    prev = rest[..end].chars().last();
                    i += end;
                    continue 'scan;
                }
            }
            for (prefix, target) in mappings {
                if let Some(after) = rest.strip_prefix(prefix) {
                    let boundary = after.chars().next().is_none_or(|c| c == '/' || !is_path_char(c));
                    if boundary {
                        out.push_str(&target.display().to_string());
                        prev = prefix.chars().last();
                        i += prefix.len();
                        continue 'scan;
                    }
                }
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        prev = Some(c);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxmox_paths_are_mapped_only_where_they_start_a_path() {
        let pve = Path::new("/state/c/etc/pve");
        let map = [("/etc/pve", pve)];
        assert_eq!(rewrite("cat /etc/pve/nodes/*/lxc/*.conf", &map, &[]), "cat /state/c/etc/pve/nodes/*/lxc/*.conf");
        assert_eq!(rewrite("ls '/etc/pve'", &map, &[]), "ls '/state/c/etc/pve'");
        assert_eq!(rewrite("x=/etc/pve/a", &map, &[]), "x=/state/c/etc/pve/a");
        assert_eq!(rewrite("cat /etc/pvefoo", &map, &[]), "cat /etc/pvefoo");
        assert_eq!(rewrite("cat /x/etc/pve/a", &map, &[]), "cat /x/etc/pve/a");
        assert_eq!(rewrite("a;/etc/pve", &map, &[]), "a;/state/c/etc/pve");
    }

    #[test]
    fn protected_directories_are_not_rewritten_twice() {
        let root = Path::new("/tmp/s/ct/100/rootfs/tmp");
        let map = [("/tmp", root)];
        let protected = [Path::new("/tmp/s")];
        assert_eq!(rewrite("ls /tmp/s/etc /tmp/x", &map, &protected), "ls /tmp/s/etc /tmp/s/ct/100/rootfs/tmp/x");
    }
}
