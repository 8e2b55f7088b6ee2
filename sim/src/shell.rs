//! `lws-sim shell`: the command wrapper every SSH command of a simulated host runs through —
//! our embedded server runs it for each exec request, OpenSSH runs it as `ForceCommand`.
//!
//! It maps Proxmox's absolute paths (`/etc/pve`, `/var/lib/vz`, `/run/lock/lxc`) in the command
//! text onto the host's state (see [`super::pathmap`] for the rule and its limits), puts the
//! simulated tools first on `PATH`, hands the command to a real `sh -c`, and logs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::context::{ENV_CLUSTER, ENV_HOST, ENV_LATENCY, ENV_NODE, ENV_STATE};
use super::journal::{self, Entry};
use super::output::Failure;
use super::pathmap;
use super::registry::Registry;

/// Environment variable telling `sudo` how to behave on this host.
pub const ENV_SUDO: &str = "LWS_SIM_SUDO";

/// Directory of links to lws-sim named after the host's tools.
pub fn bin_dir(state: &Path) -> PathBuf {
    state.join("bin")
}

pub struct Invocation {
    pub state: PathBuf,
    pub host: String,
    pub command: String,
}

/// Parse `--state DIR --host REGION/AZ [-c COMMAND]`; the command defaults to
/// `SSH_ORIGINAL_COMMAND` (what OpenSSH sets under `ForceCommand`).
pub fn parse_args(argv: &[String]) -> Result<Invocation, Failure> {
    let mut state = None;
    let mut host = None;
    let mut command = None;
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--state" => state = args.next().cloned(),
            "--host" => host = args.next().cloned(),
            "-c" => command = args.next().cloned(),
            other => return Err(Failure::with_code(2, format!("lws-sim shell: unknown argument '{other}'"))),
        }
    }
    let state = state.ok_or_else(|| Failure::with_code(2, "lws-sim shell: --state is required"))?;
    let host = host.ok_or_else(|| Failure::with_code(2, "lws-sim shell: --host is required"))?;
    let command = command.or_else(|| std::env::var("SSH_ORIGINAL_COMMAND").ok()).ok_or_else(|| {
        Failure::with_code(1, "lws-sim: interactive shells are not simulated; run a command (ssh host 'pct list')")
    })?;
    Ok(Invocation { state: PathBuf::from(state), host, command })
}

pub fn main(argv: &[String]) -> i32 {
    match parse_args(argv).and_then(|inv| run(&inv)) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

fn run(inv: &Invocation) -> Result<i32, Failure> {
    let registry = Registry::load(&inv.state)?;
    let entry = registry.host(&inv.host)?;
    let node = entry.node(&inv.state);
    // Proxmox's own directories, then every file-based storage's path (an NFS storage's
    // `/mnt/pve/<id>`): what `pvesm path` prints must be written where the simulator keeps it.
    let storages: Vec<(String, PathBuf)> = crate::cluster::load_storages(&node)?
        .into_iter()
        .filter(|s| s.is_dir_like())
        .filter_map(|s| Some((s.path.clone().filter(|p| p.trim_end_matches('/').len() > 1)?, s.base_dir(&node))))
        .collect();
    let mappings = node.path_mappings();
    let map: Vec<(&str, &Path)> = storages
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_path()))
        .chain(mappings.iter().map(|(p, t)| (*p, t.as_path())))
        .collect();
    let rewritten = pathmap::rewrite(&inv.command, &map, &[inv.state.as_path()]);
    let home = node.local_dir().join("root");
    std::fs::create_dir_all(&home)?;

    let started = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(&rewritten)
        .current_dir(&home)
        .env_clear()
        .env("PATH", format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", bin_dir(&inv.state).display()))
        .env("HOME", &home)
        .env("LANG", "C.UTF-8")
        .env("USER", &registry.user)
        .env(ENV_STATE, &inv.state)
        .env(ENV_CLUSTER, &node.cluster)
        .env(ENV_NODE, &node.name)
        .env(ENV_HOST, &inv.host)
        .env(ENV_LATENCY, &registry.latency)
        .env(ENV_SUDO, &registry.sudo)
        .env(crate::status::ENV_PVESTATD_INTERVAL, registry.pvestatd_interval.to_string())
        .status()?;
    let code = status.code().unwrap_or(255);
    // A `drop` fault fired in this session (see `faults`): OpenSSH's connection dies with its
    // per-connection process, before the exit status goes out. (Our embedded server drops its
    // own connection when it sees the mark.)
    let dropped = registry.server == "openssh" && super::faults::take_dropped(&inv.state, std::process::id());
    let peer = std::env::var("SSH_CONNECTION")
        .ok()
        .map(|c| c.split_whitespace().take(2).collect::<Vec<_>>().join(":"))
        .filter(|p| !p.is_empty());
    journal::append(
        &inv.state,
        &Entry {
            time: journal::now(),
            kind: "ssh",
            host: &inv.host,
            node: &node.name,
            argv: None,
            command: Some(&inv.command),
            exit: Some(code),
            ms: Some(started.elapsed().as_millis() as u64),
            detail: dropped.then_some("connection dropped (faults.json)"),
            peer: peer.as_deref(),
            actor: None,
        },
    );
    if dropped {
        if let Some(sshd) = super::faults::sshd_ancestor() {
            let _ = Command::new("kill").arg("-KILL").arg(sshd.to_string()).status();
        }
    }
    Ok(code)
}

/// `sudo -n CMD…` on a simulated host: runs CMD, or fails as sudo does when it wants a password.
pub fn sudo(argv: &[String]) -> i32 {
    let mut args = argv.iter().peekable();
    let mut non_interactive = false;
    while let Some(flag) = args.peek() {
        match flag.as_str() {
            "-n" | "--non-interactive" => non_interactive = true,
            "--" => {
                args.next();
                break;
            }
            f if f.starts_with('-') => {}
            _ => break,
        }
        args.next();
    }
    let command: Vec<&String> = args.collect();
    if std::env::var(ENV_SUDO).as_deref() == Ok("password") {
        if non_interactive {
            eprintln!("sudo: a password is required");
        } else {
            eprintln!("sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper");
        }
        return 1;
    }
    let Some((program, rest)) = command.split_first() else {
        eprintln!("usage: sudo -h | -K | -k | -V\nusage: sudo [-n] command [arg ...]");
        return 1;
    };
    match Command::new(program).args(rest).status() {
        Ok(status) => status.code().unwrap_or(255),
        Err(_) => {
            eprintln!("sudo: {program}: command not found");
            1
        }
    }
}
