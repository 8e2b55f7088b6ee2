//! Deciding whether to trust the key a host presents: a pinned `SHA256:` fingerprint, a
//! known_hosts file (the default), or — only when asked explicitly — anything.

use std::path::PathBuf;

use russh::keys::{HashAlg, PublicKey};

/// How a host's key is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// Accept exactly this fingerprint (`SHA256:…`, as `ssh-keygen -lf` prints it).
    Pinned(String),
    /// Accept keys listed for the host in this known_hosts file; a host that is not listed is
    /// refused, a host listed with another key is refused loudly.
    KnownHosts(PathBuf),
    /// Accept any key.
    AcceptAny,
    /// Accept any key (`strict_host_key_checking = false`, ssh_config `StrictHostKeyChecking
    /// no`), but read this known_hosts: a key it lists otherwise, or revokes, lets the connection
    /// go on without password authentication ([`unsafe_key`]), as OpenSSH's `continue_unsafe`.
    Unchecked(PathBuf),
}

/// Why a host key was refused, with what the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Mismatch { host: String, expected: String, presented: String },
    Revoked { host: String, file: PathBuf, line: usize, presented: String },
    Changed { host: String, file: PathBuf, line: usize, presented: String },
    Unknown { host: String, file: PathBuf, presented: String },
}

/// `SHA256:…` of a public key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Whether `text` looks like a fingerprint we can pin (`SHA256:` + 43 base64 characters).
pub fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix("SHA256:")
        .is_some_and(|b64| b64.len() == 43 && b64.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'))
}

/// Check `key`, presented by `host:port`, against `policy`.
pub fn verify(policy: &HostKeyPolicy, host: &str, port: u16, key: &PublicKey) -> Result<(), Refusal> {
    let presented = fingerprint(key);
    let shown = if port == 22 { host.to_owned() } else { format!("[{host}]:{port}") };
    match policy {
        HostKeyPolicy::AcceptAny | HostKeyPolicy::Unchecked(_) => Ok(()),
        HostKeyPolicy::Pinned(expected) => {
            if *expected == presented {
                Ok(())
            } else {
                Err(Refusal::Mismatch { host: shown, expected: expected.clone(), presented })
            }
        }
        HostKeyPolicy::KnownHosts(file) => {
            if let Some(line) = revoked(file, &shown, key) {
                return Err(Refusal::Revoked { host: shown, file: file.clone(), line, presented });
            }
            let listed = russh::keys::known_hosts::known_host_keys_path(host, port, file).unwrap_or_default();
            if listed.iter().any(|(_, k)| k.key_data() == key.key_data()) {
                return Ok(());
            }
            if let Some((line, _)) = listed.iter().find(|(_, k)| k.algorithm() == key.algorithm()) {
                return Err(Refusal::Changed { host: shown, file: file.clone(), line: *line, presented });
            }
            Err(Refusal::Unknown { host: shown, file: file.clone(), presented })
        }
    }
}

/// Why a key accepted without checking still may not be the host's (`sshconnect.c`
/// `check_host_key`: with strict checking off, a changed or revoked key goes to
/// `continue_unsafe`, which turns password and keyboard-interactive authentication off "to avoid
/// man-in-the-middle attacks").
pub fn unsafe_key(policy: &HostKeyPolicy, host: &str, port: u16, key: &PublicKey) -> Option<Refusal> {
    let HostKeyPolicy::Unchecked(file) = policy else { return None };
    match verify(&HostKeyPolicy::KnownHosts(file.clone()), host, port, key) {
        Err(refusal @ (Refusal::Changed { .. } | Refusal::Revoked { .. })) => Some(refusal),
        _ => None,
    }
}

/// Host key algorithms to offer, the kinds `policy`'s known_hosts already lists for `host`
/// first (OpenSSH `sshconnect2.c` `order_hostkeyalgs`): a host listed only with its RSA key (as
/// a Proxmox cluster's own known_hosts lists nodes) then shows that key, not its Ed25519 one
/// that we would refuse as unknown. `None`: russh's default order.
pub fn preferred_algorithms(policy: &HostKeyPolicy, host: &str, port: u16) -> Option<Vec<russh::keys::Algorithm>> {
    use russh::keys::Algorithm;
    let (HostKeyPolicy::KnownHosts(file) | HostKeyPolicy::Unchecked(file)) = policy else { return None };
    let listed = russh::keys::known_hosts::known_host_keys_path(host, port, file).ok()?;
    if listed.is_empty() {
        return None;
    }
    let same_kind = |a: &Algorithm, b: &Algorithm| match (a, b) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        (a, b) => a == b,
    };
    let known = |a: &Algorithm| listed.iter().any(|(_, k)| same_kind(&k.algorithm(), a));
    let all = russh::Preferred::DEFAULT.key;
    Some(all.iter().filter(|a| known(a)).chain(all.iter().filter(|a| !known(a))).cloned().collect())
}

/// The line of a `@revoked` entry of `file` for `key` whose host patterns take `host` (OpenSSH
/// `hostfile.c`: `@revoked <patterns> <type> <base64>`; `check_key_not_revoked`, and
/// `sshconnect.c` refusing `HOST_REVOKED`), comma-separated patterns with `*`, `?` and `!`,
/// case-insensitive (`match_hostname`). Hashed (`|1|…`) patterns are not matched here.
fn revoked(file: &std::path::Path, host: &str, key: &PublicKey) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().enumerate().find_map(|(index, line)| {
        let mut words = line.split_whitespace();
        (words.next()? == "@revoked").then_some(())?;
        let (patterns, kind, data) = (words.next()?, words.next()?, words.next()?);
        let listed = PublicKey::from_openssh(&format!("{kind} {data}")).ok()?;
        let host_matches = crate::ssh::config_file::pattern_list(patterns, host, true);
        (listed.key_data() == key.key_data() && host_matches).then_some(index + 1)
    })
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Revoked { host, file, line, presented } => write!(
                f,
                "host key of {host} ({presented}) is revoked at {}:{line}; refusing to connect",
                file.display()
            ),
            Refusal::Mismatch { host, expected, presented } => write!(
                f,
                "host key of {host} is {presented}, but host_key pins {expected}; refusing to connect \
                 (someone may be intercepting the connection, or the host was reinstalled — update host_key \
                 only if you know why it changed)"
            ),
            Refusal::Changed { host, file, line, presented } => write!(
                f,
                "host key of {host} ({presented}) differs from the one at {}:{line}; refusing to connect \
                 (if the host was reinstalled, remove that line, or pin the new key with host_key)",
                file.display()
            ),
            Refusal::Unknown { host, file, presented } => write!(
                f,
                "{host} is not in {} (it presents {presented}); add it (`ssh-keyscan -p <port> <host> >> {}`), \
                 pin it with host_key = \"{presented}\", or set ssh.strict_host_key_checking = false to accept \
                 unknown hosts",
                file.display(),
                file.display()
            ),
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_key_is_refused_though_listed_for_the_host() {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKD4Yw5CEBq9khUqhN0aAQi62jmvaGZ0WBMxrCp9HR4E";
        let presented = PublicKey::from_openssh(key).expect("key");
        let dir = std::env::temp_dir().join(format!("lws-known-hosts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("known_hosts");
        std::fs::write(&file, format!("pve1 {key}\n@revoked *,!pve9 {key}\n")).expect("write");
        let policy = HostKeyPolicy::KnownHosts(file.clone());
        assert!(matches!(verify(&policy, "pve1", 22, &presented), Err(Refusal::Revoked { line: 2, .. })));
        std::fs::write(&file, format!("pve1 {key}\n@revoked * {other}\n")).expect("write");
        assert_eq!(verify(&policy, "pve1", 22, &presented), Ok(()), "another key is revoked");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_kinds_known_hosts_lists_are_offered_first() {
        use russh::keys::Algorithm;
        let dir = std::env::temp_dir().join(format!("lws-known-hosts-order-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("known_hosts");
        std::fs::write(&file, "pve1 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCzNZDAzzXiOP1h1xsdlTEeSDW6qi/bBNB67Jl7f4JSXAu6wNWn47uj2JRFEwJK4kM19taVXKE1uW+oP0/XoNxbGxE5MdRiLKOx8+VZwIw4aex94DOvXM7hekQHEM6OJXdsl6tmAITR5JkGPXoGvowFoE10OUjbzpy/RleatN66wQ==\n").expect("write");
        let order = preferred_algorithms(&HostKeyPolicy::KnownHosts(file.clone()), "pve1", 22).expect("listed");
        assert!(matches!(order[0], Algorithm::Rsa { .. }) && matches!(order[2], Algorithm::Rsa { .. }), "{order:?}");
        assert_eq!(order[3], Algorithm::Ed25519);
        assert_eq!(preferred_algorithms(&HostKeyPolicy::KnownHosts(file), "pve2", 22), None, "not listed");
        assert_eq!(preferred_algorithms(&HostKeyPolicy::AcceptAny, "pve1", 22), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn fingerprints_look_like_ssh_keygen_output() {
        assert!(is_fingerprint("SHA256:Spv9CyHN5fhGmMk9nvO0R1hpxo++G/eHHHB81om/OCY"));
        assert!(!is_fingerprint("SHA256:short"));
        assert!(!is_fingerprint("MD5:aa:bb"));
    }
}
