//! # lws-sim — a Proxmox VE 8 host simulator reachable over real SSH
//!
//! The far end of every end-to-end test and of the demo. One binary, busybox style: run as
//! `pct`, `pvesh`, `pvecm`, `pveam`, `pvesm`, `pveversion`, `vzdump`, `hostname`, `sudo` (links in
//! `DIR/bin`) it is that Proxmox tool; run as `docker`, `apt-get`, `chpasswd`, `dpkg-query` (links
//! inside a container) it is that tool inside a container; run as `lws-sim` it takes a
//! sub-command (`serve`, `shell`, `tool`).
//!
//! ## Map
//! - [`formats`]: Proxmox's file and value formats (`.conf`, `.fw`, property strings, sizes, tags,
//!   descriptions), written from pve-container, pve-firewall and pve-common.
//! - [`context`], [`registry`], [`cluster`]: where state lives (one directory per cluster, shared
//!   by its nodes as pmxcfs is; node-local directories for storage, locks and runtime state).
//! - [`params`], [`output`]: Proxmox's option parsing and its exact error texts and exit codes.
//! - [`pct`], [`pvesh`], [`host_tools`], [`vzdump`]: the Proxmox commands. [`status`]: live
//!   figures. [`storage_content`]: what storages hold (templates, backup archives), `pvesm
//!   path`/`free`, template removal and downloads from a URL (real `wget`).
//! - [`ct`], [`lock`]: containers (config files in the real format, volumes, running state) and the
//!   per-vmid `flock` with timeout.
//! - [`lxc`]: real LXC under every node: started containers are LXC containers on this machine;
//!   their state, PIDs, addresses and `pct exec` (`lxc-attach`) are LXC's.
//! - [`guest`]: inside containers: whitelisted host tools, apt-get, chpasswd, Docker/Compose.
//! - [`shell`], [`pathmap`]: the command wrapper both SSH paths run; it maps `/etc/pve`,
//!   `/var/lib/vz`, `/run/lock/lxc` and every file-based storage's path onto the state directory.
//! - [`ssh_server`], [`serve`]: the embedded russh server, or a real OpenSSH sshd per host.
//! - [`journal`]: the command log and injected latency. [`faults`]: faults a test arms at run
//!   time (`DIR/faults.json`). [`power`]: hosts switched off and on (`serve --power-switch`).
//!   [`membership`]: nodes leaving their cluster, which loses quorum.
//!
//! Shares no code with the provider: every Proxmox format here ([`formats`]) is written again
//! from the Perl sources, so a mistake in the provider's parsers shows as a failing test.
//!
//! ## Faithful
//! Command syntax, option parsing (Getopt-style, any order, booleans with optional values),
//! parameter verification messages (`400 Parameter verification failed.` …), the texts of
//! pve-cli.md for missing/existing/locked/running/stopped containers, storages and templates,
//! exit codes (255, 2 for a missing config, the command's own for `pct exec`, 2 for `pvecm
//! status` without quorum); config files in the `write_pct_config` format (escaped description
//! comments, sorted keys, `[pve:pending]`, snapshot sections); `pct list`/`listsnapshot`/`config`/
//! `status` layouts; `/cluster/nextid` does not reserve ids; the per-vmid lock file with Proxmox's
//! timeouts and messages; new firewall rules inserted at position 0 and disabled by default; tags
//! lowercased/sorted; new MACs under `BC:24:11`; `pvesh` JSON with sorted keys.
//!
//! ## Simplified (and guesses)
//! - Containers run for real under LXC ([`lxc`]), privileged, with the host's libraries and a
//!   whitelist of its tools; their network devices are unplugged veth pairs addressed by LXC
//!   (DHCP leases are assigned, not negotiated). `lxc-info` and `lxc-ls` are LXC's own. Docker
//!   containers inside are records (no engine runs, no images are pulled): one whose command is
//!   `true`, `false` or ends in `exit N` is a one-shot job that exits at once with that status;
//!   every other runs until stopped.
//! - `/cluster/resources` shows a guest's status as pvestatd saw it at its last update (every
//!   `--pvestatd-interval` seconds, 10 by default; `unknown` before the first), other figures live.
//!   Figures (cpu, memory use, disk use, traffic) are stable functions of what was configured.
//! - Two `pct create` racing for one VMID on different nodes: the one that finds the VMID taken
//!   says `CT <id> already exists on node '<n>'` (`check_vmid_unused`); one that passed that
//!   check when the other node's config appears fails as pmxcfs's EEXIST makes it fail
//!   (`unable to create CT <id> - close (rename) atomic file '…' failed: File exists`). The
//!   window is instant here, so a test opens it on demand with [`faults`] (`vmid-race`).
//! - A host switched off ([`power`]) only stops answering SSH: its containers keep running and
//!   its files stay (a real outage would also stop containers without `onboot`).
//! - `pvesh` text output is an ASCII table with sorted columns (Proxmox orders by schema and draws
//!   UTF-8 borders under a UTF-8 locale). `pvesh ls/usage` are not simulated.
//! - Address and port validation messages of firewall rules, `docker compose` file errors, and the
//!   `apt-get` archive are close to the real tools but partly guessed (marked [INF] in pve-cli.md
//!   where that applies). The description escaping follows `PVE::Tools::encode_text` as
//!   pve-common 8.2.2 and later write it (`%` escaped too, since fix #5486).
//! - `pct push`/`pull` fail with exit 255 on I/O errors (Proxmox may exit 0 there).
//! - Every node has the bridges `vmbr0` and `vmbr1`; starting a container on another bridge
//!   fails as on Proxmox (`bridge 'x' does not exist`, then `startup for container … failed`;
//!   the exact task output is a guess).
//! - Simulated hosts run on UTC. Pools and HA do not exist. Live migration is refused as on
//!   Proxmox; restart migration moves config, local volumes and the guest filesystem.
//! - Path mapping only sees literal paths in the command text ([`pathmap`]).
//! - `vzdump` archives are real tars of the container's root (`pct restore` extracts them), with
//!   Proxmox's retention and locks, but snapshot and suspend modes archive the live directory.
//!   Backup jobs take a subset of the calendar-event grammar. The catalogue `pveam download`
//!   offers is fixed and "downloads" sparse files.

mod clock;
mod cluster;
mod context;
mod ct;
mod faults;
mod formats;
mod guest;
mod host_tools;
mod journal;
mod lock;
mod lxc;
mod membership;
mod output;
mod params;
mod pathmap;
mod pct;
mod power;
mod pvesh;
mod registry;
mod rng;
mod serve;
mod shell;
mod ssh_server;
mod status;
mod storage_content;
mod vzdump;

use std::io::Write;
use std::time::Instant;

use context::Node;
use journal::Entry;
use output::{Failure, Outcome};

/// Command families whose start-up latency can be injected.
pub const TOOL_FAMILIES: [&str; 6] = ["pct", "pvesh", "pvecm", "pveam", "pvesm", "pveversion"];

const HELP: &str = "\
lws-sim — a Proxmox VE 8 host simulator reachable over real SSH

USAGE:
  lws-sim serve --state DIR --hosts REGION/AZ,... [OPTIONS]   start simulated hosts (see serve --help)
  lws-sim shell --state DIR --host REGION/AZ [-c COMMAND]     run one command as that host would
                                                              (OpenSSH ForceCommand; default command
                                                              from SSH_ORIGINAL_COMMAND)
  lws-sim tool NAME [ARGS...]                                 run a tool (pct, pvesh, docker, ...)
                                                              with the LWS_SIM_* environment set
  lws-sim power --state DIR --host REGION/AZ on|off|blackhole switch a host (serve --power-switch)
  lws-sim membership --state DIR --host REGION/AZ online|offline
                                                              a node leaves or rejoins its cluster
                                                              (quorum, as corosync counts it)
  lws-sim --help | --version

Tools answer under their own names through links: pct, pvesh, pvecm, pveam, pvesm, pveversion, vzdump,
lxc-info, lxc-ls (LXC's own, on the node's lxcpath), hostname, sudo on the host; docker, docker-compose,
apt-get, apt, chpasswd, dpkg-query inside containers (real LXC containers).";

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let args: Vec<String> = std::env::args().collect();
    let name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let code = if name == "lws-sim" || name.starts_with("lws-sim-") || name.starts_with("lws_sim") {
        lws_sim(&args[1..])
    } else {
        run_tool(&name, &args[1..])
    };
    let _ = std::io::stdout().flush();
    code
}

fn lws_sim(argv: &[String]) -> i32 {
    match argv.first().map(String::as_str) {
        Some("serve") => serve::main(&argv[1..]),
        Some("shell") => shell::main(&argv[1..]),
        Some("power") => power::main(&argv[1..]),
        Some("membership") => membership::main(&argv[1..]),
        Some("tool") => match argv.get(1) {
            Some(tool) => run_tool(tool, &argv[2..]),
            None => Failure::with_code(2, "lws-sim tool: name a tool").report(),
        },
        Some("--version") | Some("-V") => {
            println!("lws-sim {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some("-h") | Some("--help") | Some("help") | None => {
            println!("{HELP}");
            0
        }
        Some(other) => Failure::with_code(2, format!("lws-sim: unknown command '{other}'\n\n{HELP}")).report(),
    }
}

/// Run a tool by name, with latency and a command-log entry for the Proxmox ones.
fn run_tool(name: &str, argv: &[String]) -> i32 {
    // Inside a container (see `lxc`), the simulated tools learn their node from the container.
    let guest = lxc::GuestContext::current();
    let guest_tool: Option<fn(&[String]) -> Outcome> = match name {
        "docker" => Some(guest::docker::run),
        "docker-compose" => Some(docker_compose),
        "apt-get" | "apt" => Some(guest::apt::run),
        "chpasswd" => Some(guest::chpasswd),
        "dpkg-query" => Some(guest::dpkg_query),
        _ => None,
    };
    if name == "sudo" {
        return shell::sudo(argv);
    }
    let started = Instant::now();
    let node = match guest.as_ref().map(lxc::GuestContext::node).map(Ok).unwrap_or_else(Node::from_env) {
        Ok(node) => node,
        Err(f) => return f.report(),
    };
    let mut drop_session = false;
    let mut switch_off = false;
    let (kind, result) = match guest_tool {
        Some(tool) => ("guest", tool(argv)),
        None => {
            let host_tool: Option<fn(&Node, &[String]) -> Outcome> = match name {
                "pct" => Some(pct::run),
                "pvesh" => Some(pvesh::run),
                "pvecm" => Some(host_tools::pvecm),
                "pveam" => Some(host_tools::pveam),
                "pvesm" => Some(host_tools::pvesm),
                "pveversion" => Some(host_tools::pveversion),
                "vzdump" => Some(vzdump::vzdump),
                "hostname" => Some(host_tools::hostname),
                "lxc-info" => Some(host_tools::lxc_info),
                "lxc-ls" => Some(host_tools::lxc_ls),
                _ => None,
            };
            let Some(tool) = host_tool else {
                return Failure::with_code(127, format!("lws-sim: no tool named '{name}'")).report();
            };
            let latency = std::env::var(context::ENV_LATENCY).unwrap_or_default();
            std::thread::sleep(journal::latency_for(&latency, name));
            let line = std::iter::once(name).chain(argv.iter().map(String::as_str)).collect::<Vec<_>>().join(" ");
            let fault = |kind: &str| faults::take_for_command(&node.state, kind, &line, &node.host_label);
            let fired = |kind: &str| fault(kind).ok().flatten().is_some();
            if fired("slow") {
                std::thread::sleep(faults::SLOW);
            }
            drop_session = fired("drop");
            switch_off = fired("off");
            if switch_off && !power::available(&node.state) {
                return Failure::new("lws-sim: an `off` fault needs `serve --power-switch`").report();
            }
            if fired("hang") {
                std::thread::sleep(faults::HANG);
                ("tool", Err(Failure::with_code(1, format!("{name}: hung (faults.json), did nothing"))))
            } else {
                match fault("fail") {
                    Ok(Some(f)) => {
                        let message = f.stderr.unwrap_or_else(|| format!("{name}: injected failure (faults.json)"));
                        ("tool", Err(Failure::with_code(f.exit.unwrap_or(1), message)))
                    }
                    Ok(None) => ("tool", tool(&node, argv)),
                    Err(e) => ("tool", Err(e)),
                }
            }
        }
    };
    let code = match result {
        Ok(()) => 0,
        Err(failure) => failure.report(),
    };
    let _ = std::io::stdout().flush();
    let actor = std::env::var(journal::ENV_ACTOR).ok();
    let mut logged = Vec::with_capacity(argv.len() + 1);
    logged.push(name.to_owned());
    logged.extend(argv.iter().cloned());
    journal::append(
        &node.state,
        &Entry {
            time: journal::now(),
            kind,
            host: &node.host_label,
            node: &node.name,
            argv: Some(&logged),
            command: None,
            exit: Some(code),
            ms: Some(started.elapsed().as_millis() as u64),
            detail: None,
            peer: None,
            actor: actor.as_deref(),
        },
    );
    if drop_session {
        if let Err(failure) = faults::mark_session_dropped(&node.state) {
            return failure.report();
        }
    }
    if switch_off {
        // The host goes off while this command is still running: its exit status never leaves.
        if let Err(failure) = power::set(&node.state, &node.host_label, power::Power::Off) {
            return failure.report();
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    code
}

/// The v1 `docker-compose` command, answering like `docker compose`.
fn docker_compose(argv: &[String]) -> Outcome {
    let mut args = vec!["compose".to_owned()];
    args.extend(argv.iter().cloned());
    guest::docker::run(&args)
}
