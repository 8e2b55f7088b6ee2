//! Switching a simulated host off and on again, its state kept (`serve --power-switch`).
//!
//! With the switch, each host's published SSH port is a small TCP front: the SSH server (ours
//! or sshd) listens on a private port behind it. The front follows `DIR/power/<host>`, which
//! `lws-sim power` (or an `off` fault, [`crate::faults`]) writes:
//! - `on` (or no file): connections are passed through;
//! - `off`: every connection is cut and nothing listens (connection refused), as when the
//!   host's sshd or the host itself is down;
//! - `blackhole`: every connection is cut; new ones are accepted and never answered (a host
//!   that hangs, or a firewall that swallows packets after the handshake).
//!
//! What the host holds (configs, volumes, running containers) is untouched: switched on again,
//! it answers as before (a real reboot would also stop containers without `onboot`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::output::Failure;

/// How often the front looks at the switch.
const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    On,
    Off,
    Blackhole,
}

impl Power {
    fn parse(text: &str) -> Option<Power> {
        match text.trim() {
            "on" => Some(Power::On),
            "off" => Some(Power::Off),
            "blackhole" => Some(Power::Blackhole),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Power::On => "on",
            Power::Off => "off",
            Power::Blackhole => "blackhole",
        }
    }
}

fn switch_file(state: &Path, label: &str) -> PathBuf {
    state.join("power").join(label.replace('/', "_"))
}

/// Set host `label`'s switch.
pub fn set(state: &Path, label: &str, power: Power) -> Result<(), Failure> {
    let path = switch_file(state, label);
    std::fs::create_dir_all(state.join("power"))?;
    crate::context::write_atomic(&path, power.word())?;
    Ok(())
}

/// Host `label`'s switch (on when never set or unreadable).
fn get(state: &Path, label: &str) -> Power {
    std::fs::read_to_string(switch_file(state, label)).ok().and_then(|t| Power::parse(&t)).unwrap_or(Power::On)
}

pub const HELP: &str = "\
lws-sim power --state DIR --host REGION/AZ on|off|blackhole

Switch a simulated host (started with `serve --power-switch`) on, off (connections cut and
refused) or into a black hole (connections cut; new ones accepted and never answered). Its
containers and files are kept.";

/// `--state DIR --host REGION/AZ WORD` of a command that switches one host (`power`,
/// `membership`); `Err` is the exit status (0 after `--help`, 2 for bad arguments).
pub fn host_switch_args<T>(
    argv: &[String],
    command: &str,
    help: &str,
    word: impl Fn(&str) -> Option<T>,
) -> Result<(PathBuf, String, T), i32> {
    let (mut state, mut host, mut switch) = (None, None, None);
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--state" => state = args.next().map(PathBuf::from),
            "--host" => host = args.next().cloned(),
            "-h" | "--help" => {
                println!("{help}");
                return Err(0);
            }
            other => switch = word(other),
        }
    }
    match (state, host, switch) {
        (Some(state), Some(host), Some(switch)) => Ok((state, host, switch)),
        _ => Err(Failure::with_code(2, format!("lws-sim {command}: bad arguments\n\n{help}")).report()),
    }
}

/// `lws-sim power`.
pub fn main(argv: &[String]) -> i32 {
    let (state, host, power) = match host_switch_args(argv, "power", HELP, Power::parse) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let port = crate::registry::Registry::load(&state)
        .map(|r| r.hosts.iter().find(|h| h.label == host && r.power_switch).map(|h| h.port));
    match port {
        Ok(Some(port)) => match set(&state, &host, power) {
            Ok(()) => settled(port, power),
            Err(f) => f.report(),
        },
        Ok(None) => Failure::with_code(
            2,
            format!("lws-sim power: no host '{host}' with a power switch (start it with serve --power-switch)"),
        )
        .report(),
        Err(f) => f.report(),
    }
}

/// Wait until the front on `port` follows the switch (at most 5 s), so that what a test does
/// next meets the host as switched.
fn settled(port: u16, power: Power) -> i32 {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let listening = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if listening == (power != Power::Off) {
            // A change cuts every connection at the front's next look; give it that look.
            std::thread::sleep(POLL * 2);
            return 0;
        }
        std::thread::sleep(POLL / 5);
    }
    Failure::new(format!("lws-sim power: port {port} did not follow the switch within 5 s")).report()
}

/// Whether the simulator at `state` has power switches (an `off` fault needs one).
pub fn available(state: &Path) -> bool {
    crate::registry::Registry::load(state).map(|r| r.power_switch).unwrap_or(false)
}

/// Serve host `label`'s published `port` (already bound as `listener`) in front of the SSH
/// server on `backend`, following the switch, until the process ends.
pub async fn front(listener: TcpListener, port: u16, backend: u16, state: PathBuf, label: String) {
    let mut listener = Some(listener);
    let mut current = Power::On;
    let mut passing: Vec<JoinHandle<()>> = Vec::new();
    let mut held: Vec<TcpStream> = Vec::new();
    loop {
        let wanted = get(&state, &label);
        if wanted != current {
            // Any change cuts every connection there is.
            passing.drain(..).for_each(|c| c.abort());
            held.clear();
            if wanted == Power::Off {
                listener = None;
            } else if listener.is_none() {
                listener = rebind(port).await;
            }
            current = wanted;
        }
        passing.retain(|c| !c.is_finished());
        let Some(open) = &listener else {
            tokio::time::sleep(POLL).await;
            continue;
        };
        tokio::select! {
            accepted = open.accept() => {
                let Ok((stream, from)) = accepted else { continue };
                match current {
                    Power::On => passing.push(tokio::spawn(pass_through(stream, from, backend))),
                    Power::Blackhole => held.push(stream),
                    Power::Off => {}
                }
            }
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Listen on `port` again (a closed listener's port can take a moment to be free).
async fn rebind(port: u16) -> Option<TcpListener> {
    for _ in 0..100 {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return Some(l),
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
    eprintln!("lws-sim: cannot listen on 127.0.0.1:{port} again");
    None
}

async fn pass_through(mut client: TcpStream, from: std::net::SocketAddr, backend: u16) {
    let _ = client.set_nodelay(true);
    // A readiness probe passed through stays a probe behind the front too.
    let Ok(socket) = tokio::net::TcpSocket::new_v4() else { return };
    if socket.bind(([127, 0, 0, 1], 0).into()).is_err() {
        return;
    }
    if crate::serve::is_probe(&from.to_string()) {
        if let Ok(local) = socket.local_addr() {
            crate::serve::add_probe(local.to_string());
        }
    }
    let Ok(mut server) = socket.connect(([127, 0, 0, 1], backend).into()).await else { return };
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
