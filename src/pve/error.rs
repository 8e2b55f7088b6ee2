//! Turning a failed Proxmox command into a typed error, by the texts Proxmox prints
//! (pve-cli.md lists them), so callers can decide what is retryable and what is gone.

use std::fmt;

/// What kind of failure a Proxmox command reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The container (or snapshot, group, rule) does not exist.
    NotFound,
    /// `CT <id> already exists on node '<n>'` / `VM <id> already exists`.
    AlreadyExists,
    /// `CT is locked (<lock>)`: another task holds the container.
    Locked(String),
    /// `can't lock file '…' - got timeout` / `cfs-lock … got lock request timeout`.
    LockTimeout,
    NotRunning,
    AlreadyRunning,
    /// `400 Parameter verification failed.` and Getopt failures.
    InvalidParameter,
    NoQuorum,
    /// `sudo -n` needs a password.
    SudoPassword,
    /// `detected modified configuration - file changed by other user? Try again.`: the
    /// `--digest` given no longer matches (pve-common `src/PVE/Tools.pm` `assert_if_modified`):
    /// another client changed it since it was read.
    Modified,
    Other,
}

impl Kind {
    /// Failures that go away by themselves: worth retrying with backoff.
    pub fn is_transient(&self) -> bool {
        matches!(self, Kind::Locked(_) | Kind::LockTimeout | Kind::NoQuorum)
    }
}

/// A Proxmox operation that could not be done.
#[derive(Debug, Clone)]
pub enum PveError {
    /// The command could not be run to its end (connection, authentication, timeout).
    /// `may_have_run`: it may have reached the host (a timeout, a session lost midway), so what
    /// it does may have happened; false when no connection was made (nothing was sent).
    Transport { host: String, message: String, may_have_run: bool },
    /// The command ran and failed.
    Failed { host: String, command: String, status: Option<u32>, stderr: String, kind: Kind },
    /// The command succeeded but printed something we could not read.
    Unreadable { host: String, command: String, message: String },
}

impl PveError {
    pub fn kind(&self) -> Kind {
        match self {
            PveError::Failed { kind, .. } => kind.clone(),
            _ => Kind::Other,
        }
    }

    /// Whether the command may have changed something although no answer came back.
    pub fn may_have_run(&self) -> bool {
        matches!(self, PveError::Transport { may_have_run: true, .. })
    }

    pub fn is(&self, kind: &Kind) -> bool {
        &self.kind() == kind
    }

    pub fn is_transient(&self) -> bool {
        self.kind().is_transient()
    }
}

impl fmt::Display for PveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PveError::Transport { message, .. } => f.write_str(message),
            PveError::Failed { host, command, status, stderr, kind } => {
                let detail = stderr.trim();
                let exit = status.map(|s| format!("exit {s}")).unwrap_or_else(|| "no exit status".to_owned());
                write!(f, "`{command}` failed on {host} ({exit}): {detail}")?;
                if *kind == Kind::SudoPassword {
                    write!(f, " — the SSH user needs password-less sudo for Proxmox commands (NOPASSWD in sudoers)")?;
                }
                if refused_by_pmxcfs(detail) {
                    write!(f, " — /etc/pve refuses writes while the node has no quorum (`pvecm status`)")?;
                }
                Ok(())
            }
            PveError::Unreadable { host, command, message } => {
                write!(f, "could not read the output of `{command}` on {host}: {message}")
            }
        }
    }
}

impl std::error::Error for PveError {}

/// Classify stderr text.
pub fn classify(stderr: &str) -> Kind {
    let text = stderr.trim();
    if text.contains("sudo: a password is required") || text.contains("sudo: a terminal is required") {
        return Kind::SudoPassword;
    }
    if let Some(rest) = text.split("CT is locked (").nth(1) {
        return Kind::Locked(rest.split(')').next().unwrap_or_default().to_owned());
    }
    if text.contains("got timeout") && text.contains("can't lock file") || text.contains("got lock request timeout") {
        return Kind::LockTimeout;
    }
    if text.contains("already exists on node") || text.contains("already exists") && text.starts_with("VM ") {
        return Kind::AlreadyExists;
    }
    if text.lines().any(names_a_missing_object) {
        return Kind::NotFound;
    }
    if text.contains(" already running") {
        return Kind::AlreadyRunning;
    }
    if text.contains(" not running") {
        return Kind::NotRunning;
    }
    if text.starts_with("400 ") || text.contains("\n400 ") {
        return Kind::InvalidParameter;
    }
    if text.contains("no quorum") || refused_by_pmxcfs(text) {
        return Kind::NoQuorum;
    }
    if text.contains("detected modified configuration - file changed by other user?") {
        return Kind::Modified;
    }
    Kind::Other
}

/// Whether a write under `/etc/pve` was refused with EACCES: pmxcfs refuses every write while
/// its node is not quorate (pve-cluster `src/pmxcfs/dcdb.c` `dcdb_send_fuse_message`: `if
/// (!cfs_is_quorate()) return -EACCES`), and `pct set`, snapshots, destroy and unlock check no
/// quorum before writing the config (only create, clone, migrate and start call
/// `check_cfs_quorum`), so they fail in pve-common `PVE/File.pm` `file_set_contents`:
/// `unable to open file '/etc/pve/nodes/<n>/lxc/<id>.conf.tmp.<pid>' - Permission denied`.
fn refused_by_pmxcfs(text: &str) -> bool {
    text.lines().any(|line| line.contains("unable to open file '/etc/pve/") && line.ends_with("' - Permission denied"))
}

/// Whether a line of stderr says that the object a command names is itself gone — only those
/// texts: "does not exist" alone also ends `storage 'x' does not exist` (pve-storage) or
/// `bridge 'x' does not exist` (pve-common `PVE/Network.pm`), and reading those as "already
/// gone" would make a failed destroy look done.
/// - `Configuration file 'nodes/<n>/lxc/<id>.conf' does not exist` — pve-guest-common
///   `src/PVE/AbstractConfig.pm` `load_config`.
/// - `snapshot '<name>' does not exist` — pve-container `src/PVE/API2/LXC/Snapshot.pm`
///   (`delsnapshot`, `rollback`), pve-guest-common `AbstractConfig.pm` `snapshot_delete`.
/// - `no such security group '<name>'` and `no rule at position <n>` — pve-firewall
///   `src/PVE/API2/Firewall/Rules.pm`.
fn names_a_missing_object(line: &str) -> bool {
    let line = line.trim();
    let quoted_then = |prefix: &str, suffix: &str| {
        line.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(suffix)).is_some_and(|name| !name.contains('\''))
    };
    quoted_then("Configuration file '", "' does not exist")
        || quoted_then("snapshot '", "' does not exist")
        || quoted_then("no such security group '", "'")
        || line.strip_prefix("no rule at position ").is_some_and(|n| n.parse::<u32>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxmox_messages_are_classified() {
        assert_eq!(classify("Configuration file 'nodes/pve/lxc/101.conf' does not exist\n"), Kind::NotFound);
        assert_eq!(classify("CT 100 already exists on node 'pve'"), Kind::AlreadyExists);
        assert_eq!(classify("VM 100 already exists on node 'pve'"), Kind::AlreadyExists);
        assert_eq!(classify("CT is locked (snapshot)"), Kind::Locked("snapshot".into()));
        assert_eq!(
            classify("detected modified configuration - file changed by other user? Try again.\n"),
            Kind::Modified
        );
        assert_eq!(
            classify("trying to acquire lock...\ncan't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout"),
            Kind::LockTimeout
        );
        assert_eq!(classify("cfs-lock 'firewall-100' error: got lock request timeout"), Kind::LockTimeout);
        assert_eq!(classify("CT 100 not running"), Kind::NotRunning);
        assert_eq!(classify("VM 100 not running"), Kind::NotRunning);
        assert_eq!(classify("CT 100 already running"), Kind::AlreadyRunning);
        assert_eq!(
            classify("400 Parameter verification failed.\nmemory: value must have a minimum value of 16\npct set <vmid> [OPTIONS]"),
            Kind::InvalidParameter
        );
        assert_eq!(classify("Unknown option: foo\n400 unable to parse option\n"), Kind::InvalidParameter);
        assert_eq!(classify("cluster not ready - no quorum?"), Kind::NoQuorum);
        assert_eq!(classify("cfs-lock 'firewall-cluster' error: no quorum!\n"), Kind::NoQuorum);
        assert_eq!(
            classify("unable to open file '/etc/pve/nodes/pve1/lxc/100.conf.tmp.4242' - Permission denied\n"),
            Kind::NoQuorum
        );
        assert_eq!(classify("unable to open file '/tmp/x.tmp.1' - Permission denied\n"), Kind::Other);
        assert_eq!(classify("sudo: a password is required"), Kind::SudoPassword);
        assert_eq!(classify("something else entirely"), Kind::Other);
        assert_eq!(classify("snapshot 'before' does not exist\n"), Kind::NotFound);
        assert_eq!(classify("no such security group 'web'\n"), Kind::NotFound);
        assert_eq!(classify("no rule at position 3\n"), Kind::NotFound);
        assert_eq!(classify("storage 'fast' does not exist\n"), Kind::Other, "another object is missing");
        assert_eq!(classify("bridge 'vmbr7' does not exist\n"), Kind::Other, "another object is missing");
        assert_eq!(
            classify("unable to destroy CT 100 - storage 'fast' does not exist\n"),
            Kind::Other,
            "a failed destroy is not an absent container"
        );
        assert!(Kind::Locked("backup".into()).is_transient());
        assert!(!Kind::NotFound.is_transient());
    }
}
