//! `lws-sim serve`: create (or reopen) a state directory, start one SSH endpoint per simulated
//! host — our embedded server, or a real OpenSSH `sshd` per host with `ForceCommand` pointing at
//! `lws-sim shell` — and write what a client needs: `config.yaml` in the LWS format,
//! `known_hosts`, the client key, `hosts.json`. Prints `READY` once every host accepts
//! connections, then serves until SIGINT/SIGTERM.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, HashAlg, PrivateKey};

use super::cluster::ensure_node;
use super::journal::check_latency_spec;
use super::output::Failure;
use super::registry::{HostEntry, HostSpec, Registry};
use super::shell::bin_dir;
use super::ssh_server::{self, HostServer};

/// Host tools linked into `DIR/bin`.
const HOST_TOOLS: &[&str] =
    &["pct", "pvesh", "pvecm", "pveam", "pvesm", "pveversion", "vzdump", "lxc-info", "lxc-ls", "hostname", "sudo"];

pub struct Options {
    pub state: PathBuf,
    pub hosts: Vec<HostSpec>,
    pub latency: String,
    pub user: String,
    pub password: Option<String>,
    pub server: String,
    pub sshd: PathBuf,
    pub port_base: Option<u16>,
    pub sudo: String,
    pub pvestatd_interval: f64,
    pub dhcp: bool,
    pub power_switch: bool,
}

pub const HELP: &str = "\
lws-sim serve --state DIR --hosts REGION/AZ[@CLUSTER],... [OPTIONS]

Start simulated Proxmox VE hosts reachable over SSH on 127.0.0.1.

  --state DIR          state directory (created if missing; reopened with its containers if not)
  --hosts LIST         comma-separated REGION/AZ[@CLUSTER][=NODE]; the node is named AZ (or
                       NODE) and joins the cluster named REGION (or CLUSTER); one node alone is
                       a standalone host
  --latency SPEC       delay per command family, e.g. pct=300ms,pvesh=500ms (families: pct,
                       pvesh, pvecm, pveam, pvesm, pveversion); default none
  --server KIND        embedded (default: our russh server) or openssh (a real sshd per host,
                       with ForceCommand running `lws-sim shell`; key authentication only)
  --sshd PATH          the sshd binary for --server openssh (default /usr/sbin/sshd)
  --user NAME          the SSH user (default root)
  --password PW        the SSH password (default: random, written to DIR/password)
  --port-base N        listen on N, N+1, ... instead of free ports
  --sudo MODE          nopasswd (default): `sudo -n` works; password: it fails asking for one
  --pvestatd-interval SECS
                       how often guest status in /cluster/resources is refreshed (default 10,
                       as pvestatd; 0 = always current); `unknown` before a new guest's first
                       update
  --no-dhcp            no DHCP server answers on the bridges: `ip=dhcp` interfaces get no
                       lease (by default LXC configures the lease at start)
  --power-switch       each host can be switched off and on (`lws-sim power`, the `off` fault):
                       its port is a TCP front for the SSH server, which listens privately

Every started container is a real LXC container (privileged, on the node's lxcpath
DIR/clusters/CLUSTER/nodes/NODE/var/lib/lxc); LXC must be installed and this must run as root.

Faults on demand: DIR/faults.json, e.g. {\"vmid-race\": [100]} (each fires once): another
client creates that VMID on another node while this node's `pct create` of it is under way,
and the create fails as pmxcfs makes it fail (\"close (rename) atomic file ... File exists\");
{\"fail\": [\"lxc-info\"]}: the next such command by the client exits 1 and does nothing;
{\"slow\": [\"pct create\"]}: the next such command by the client starts 4 s late;
{\"drop\": [\"pct set\"]}: the next such command runs, then its SSH connection is dropped before
the exit status is sent; {\"hang\": [\"pct start\"]}: the next such command never answers (it
gives up after 120 s, having done nothing); {\"off\": [\"pct create\"]} (with --power-switch): the
next such command runs, then its host is switched off before the exit status is sent;
{\"edit-rules\": [\"pvesh set /nodes/az1/lxc/100/firewall/rules/0\"]}: another client adds a
firewall rule at the top of the list the next such rule update or delete addresses, just before
it runs. Commands
are named by their first words (\"pct\", \"pct exec\", \"pvesh create /cluster/firewall/groups\"),
or by an object {\"command\": \"pct set\", \"nth\": 2, \"host\": \"eu-south-1/az1\", \"stderr\":
\"...\", \"exit\": 255}: the 2nd such command on that host, failing (`fail`) with that text and
status.

Writes DIR/config.yaml (LWS format, with port, key file and host key pins), DIR/known_hosts,
DIR/keys/client_ed25519 (the client key), DIR/hosts.json, and logs every connection and
command to DIR/commands.log. Prints READY when all hosts accept connections.";

pub fn parse_args(argv: &[String]) -> Result<Options, Failure> {
    let mut options = Options {
        state: PathBuf::new(),
        hosts: vec![],
        latency: String::new(),
        user: "root".into(),
        password: None,
        server: "embedded".into(),
        sshd: PathBuf::from("/usr/sbin/sshd"),
        port_base: None,
        sudo: "nopasswd".into(),
        pvestatd_interval: crate::status::PVESTATD_INTERVAL,
        dhcp: true,
        power_switch: false,
    };
    let usage = |msg: String| Failure::with_code(2, format!("lws-sim serve: {msg}\n\n{HELP}"));
    let mut args = argv.iter();
    let mut state = None;
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| usage(format!("{arg} needs a value")));
        match arg.as_str() {
            "--state" => state = Some(value()?),
            "--hosts" => {
                for spec in value()?.split(',').filter(|s| !s.is_empty()) {
                    options.hosts.push(HostSpec::parse(spec).map_err(usage)?);
                }
            }
            "--latency" => {
                options.latency = value()?;
                check_latency_spec(&options.latency).map_err(|e| usage(format!("--latency: {e}")))?;
            }
            "--user" => options.user = value()?,
            "--password" => options.password = Some(value()?),
            "--server" => {
                options.server = value()?;
                if !matches!(options.server.as_str(), "embedded" | "openssh") {
                    return Err(usage("--server is embedded or openssh".into()));
                }
            }
            "--sshd" => options.sshd = PathBuf::from(value()?),
            "--pvestatd-interval" => {
                options.pvestatd_interval = value()?
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s >= 0.0)
                    .ok_or_else(|| usage("--pvestatd-interval takes seconds (0 or more)".into()))?
            }
            "--port-base" => {
                options.port_base = Some(value()?.parse().map_err(|_| usage("--port-base takes a port number".into()))?)
            }
            "--no-dhcp" => options.dhcp = false,
            "--power-switch" => options.power_switch = true,
            "--sudo" => {
                options.sudo = value()?;
                if !matches!(options.sudo.as_str(), "nopasswd" | "password") {
                    return Err(usage("--sudo is nopasswd or password".into()));
                }
            }
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(usage(format!("unknown argument '{other}'"))),
        }
    }
    let state = state.ok_or_else(|| usage("--state is required".into()))?;
    if options.hosts.is_empty() {
        return Err(usage("--hosts is required".into()));
    }
    fs::create_dir_all(&state)?;
    options.state = fs::canonicalize(&state)?;
    // The state path is spliced into command text by the path mapping: keep it shell-safe.
    let shown = options.state.display().to_string();
    if !shown.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)) {
        return Err(usage(format!("state directory '{shown}' may only contain letters, digits and / . _ -")));
    }
    Ok(options)
}

pub fn main(argv: &[String]) -> i32 {
    let options = match parse_args(argv) {
        Ok(o) => o,
        Err(f) => return f.report(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return Failure::new(format!("lws-sim: cannot start runtime: {e}")).report(),
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => 0,
        Err(f) => f.report(),
    }
}

/// Load `path` or create a new Ed25519 key there (0600) with its `.pub`.
fn load_or_create_key(path: &Path, comment: &str) -> Result<PrivateKey, Failure> {
    if path.exists() {
        return russh::keys::load_secret_key(path, None)
            .map_err(|e| Failure::new(format!("lws-sim: cannot read key {}: {e}", path.display())));
    }
    let mut key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| Failure::new(format!("lws-sim: key generation failed: {e}")))?;
    key.set_comment(comment);
    let pem = key.to_openssh(LineEnding::LF).map_err(|e| Failure::new(format!("lws-sim: {e}")))?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, pem.as_bytes())?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    let public = key.public_key().to_openssh().map_err(|e| Failure::new(format!("lws-sim: {e}")))?;
    fs::write(path.with_extension("pub"), format!("{public}\n"))?;
    Ok(key)
}

/// Link the host tools into `DIR/bin` (pointing at this binary, wherever it is now).
pub fn prepare_bin(state: &Path) -> Result<(), Failure> {
    let dir = bin_dir(state);
    fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    for tool in HOST_TOOLS {
        let link = dir.join(tool);
        let _ = fs::remove_file(&link);
        symlink(&exe, &link)?;
    }
    Ok(())
}

async fn serve(options: Options) -> Result<(), Failure> {
    let state = &options.state;
    super::lxc::require()?;
    let reaped = super::lxc::reap_orphans();
    if reaped > 0 {
        println!("lws-sim: killed {reaped} LXC container(s) left running by a simulator that is gone");
    }
    prepare_bin(state)?;
    let keys = state.join("keys");
    let client_key = load_or_create_key(&keys.join("client_ed25519"), "lws-sim-client")?;
    let password_file = state.join("password");
    let password = match (&options.password, fs::read_to_string(&password_file)) {
        (Some(p), _) => p.clone(),
        (None, Ok(existing)) if !existing.trim().is_empty() => existing.trim().to_owned(),
        _ => super::rng::hex(24),
    };
    fs::write(&password_file, format!("{password}\n"))?;
    fs::set_permissions(&password_file, fs::Permissions::from_mode(0o600))?;

    let mut entries = Vec::new();
    let mut children = Vec::new();
    let mut backends = Vec::new();
    // Every host starts switched on, whatever a previous run on this state left.
    let _ = fs::remove_dir_all(state.join("power"));
    for (index, spec) in options.hosts.iter().enumerate() {
        let label = spec.label();
        let node = super::context::Node::new(state, &spec.cluster, &spec.node, &label);
        ensure_node(&node, "127.0.0.1")?;
        let key_name = format!("host_{}_{}_ed25519", spec.region, spec.az);
        let host_key = load_or_create_key(&keys.join(&key_name), &format!("root@{}", spec.node))?;
        let port = options.port_base.map(|base| base + index as u16).unwrap_or(0);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| Failure::new(format!("lws-sim: cannot listen on 127.0.0.1:{port}: {e}")))?;
        let port = listener.local_addr()?.port();
        let public = host_key.public_key();
        entries.push(HostEntry {
            label: label.clone(),
            region: spec.region.clone(),
            az: spec.az.clone(),
            cluster: spec.cluster.clone(),
            node: spec.node.clone(),
            address: "127.0.0.1".into(),
            port,
            host_key_fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
            host_public_key: public.to_openssh().map_err(|e| Failure::new(format!("lws-sim: {e}")))?,
        });
        // With a power switch, the published port is a front (`power`) for a private one.
        let (listener, port) = if options.power_switch {
            let private = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            let backend = private.local_addr()?.port();
            tokio::spawn(super::power::front(listener, port, backend, state.clone(), label.clone()));
            backends.push(backend);
            (private, backend)
        } else {
            (listener, port)
        };
        if options.server == "embedded" {
            let host = HostServer {
                label,
                node: spec.node.clone(),
                state: state.clone(),
                user: options.user.clone(),
                password: password.clone(),
                client_key: client_key.public_key().clone(),
                exe: std::env::current_exe()?,
            };
            tokio::spawn(async move {
                if let Err(e) = ssh_server::serve(listener, host_key, host).await {
                    eprintln!("lws-sim: SSH server stopped: {e}");
                }
            });
        } else {
            drop(listener); // sshd binds the port itself
            children.push(start_sshd(&options, &keys, &key_name, &label, port)?);
        }
    }

    let registry = Registry {
        server: options.server.clone(),
        user: options.user.clone(),
        client_key_file: keys.join("client_ed25519").display().to_string(),
        password_file: password_file.display().to_string(),
        latency: options.latency.clone(),
        sudo: options.sudo.clone(),
        pvestatd_interval: options.pvestatd_interval,
        dhcp: options.dhcp,
        power_switch: options.power_switch,
        serve_pid: std::process::id(),
        hosts: entries,
    };
    registry.save(state)?;
    write_client_files(state, &registry)?;
    for port in registry.hosts.iter().map(|h| h.port).chain(backends) {
        wait_for_port(port).await?;
    }

    println!("lws-sim: {} host(s) ready ({} SSH server)", registry.hosts.len(), registry.server);
    for h in &registry.hosts {
        println!("  {:<24} node {:<10} cluster {:<16} {}:{}", h.label, h.node, h.cluster, h.address, h.port);
    }
    println!("config: {}", state.join("config.yaml").display());
    println!("known_hosts: {}", state.join("known_hosts").display());
    println!("READY");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    wait_for_signal().await;
    let nodes: Vec<_> = registry.hosts.iter().map(|h| h.node(state)).collect();
    super::lxc::stop_all(&nodes);
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(())
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Client addresses of our own readiness probes: the embedded server accepts them after READY
/// may already be printed, and they are not SSH connections, so they are not logged (a test
/// counting connections from a mark taken at READY would count one that is not its own).
static PROBES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Count a connection from `peer` as one of our probes.
pub fn add_probe(peer: String) {
    if let Ok(mut probes) = PROBES.lock() {
        probes.push(peer);
    }
}

/// Whether a connection from `peer` is one of our readiness probes.
pub fn is_probe(peer: &str) -> bool {
    PROBES.lock().map(|p| p.iter().any(|probe| probe == peer)).unwrap_or(false)
}

async fn wait_for_port(port: u16) -> Result<(), Failure> {
    for _ in 0..200 {
        // Bound first, so the probe's address is known before the server can accept it.
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(([127, 0, 0, 1], 0).into())?;
        add_probe(socket.local_addr()?.to_string());
        if socket.connect(([127, 0, 0, 1], port).into()).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(Failure::new(format!("lws-sim: nothing accepts connections on 127.0.0.1:{port}")))
}

/// `config.yaml` (LWS format plus our port/key/pin additions) and `known_hosts`.
fn write_client_files(state: &Path, registry: &Registry) -> Result<(), Failure> {
    let mut yaml = String::from(
        "# Written by `lws-sim serve`: simulated Proxmox VE hosts on this machine.\n\
         # LWS format; `port`, `ssh_key_file` and `host_key` are the provider's additions.\n\
         regions:\n",
    );
    let mut regions: Vec<&str> = registry.hosts.iter().map(|h| h.region.as_str()).collect();
    regions.dedup();
    for region in regions {
        yaml.push_str(&format!("  {region}:\n    availability_zones:\n"));
        for h in registry.hosts.iter().filter(|h| h.region == region) {
            yaml.push_str(&format!(
                "      {}:\n        host: {}\n        port: {}\n        user: {}\n        ssh_key_file: {}\n        host_key: \"{}\"\n",
                h.az, h.address, h.port, registry.user, registry.client_key_file, h.host_key_fingerprint
            ));
        }
    }
    yaml.push_str(
        "instance_sizes:\n  small:  { memory: 512,  cpulimit: 1, storage: \"local-lvm:8\" }\n  \
         medium: { memory: 2048, cpulimit: 2, storage: \"local-lvm:32\" }\n  \
         large:  { memory: 4096, cpulimit: 4, storage: \"local-lvm:64\" }\n\
         default_storage: local-lvm\ndefault_network: vmbr0\n",
    );
    super::context::write_atomic(&state.join("config.yaml"), &yaml)?;

    let known_hosts: String = registry
        .hosts
        .iter()
        .map(|h| {
            let key = h.host_public_key.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            format!("[{}]:{} {key}\n", h.address, h.port)
        })
        .collect();
    super::context::write_atomic(&state.join("known_hosts"), &known_hosts)?;
    Ok(())
}

/// Start a real sshd for one host: key auth only, `ForceCommand lws-sim shell`. `SHLVL=1`: sshd
/// runs the command with the login shell, and Debian's bash (`SSH_SOURCE_BASHRC`) then sources
/// the ~/.bashrc of the machine running the simulator — not part of the simulated host, and on
/// these machines noisy under load (pyenv's rehash) — unless it starts at shell level 2.
fn start_sshd(
    options: &Options,
    keys: &Path,
    key_name: &str,
    label: &str,
    port: u16,
) -> Result<std::process::Child, Failure> {
    let state = &options.state;
    let dir = state.join("openssh").join(label.replace('/', "_"));
    fs::create_dir_all(&dir)?;
    let authorized = dir.join("authorized_keys");
    fs::copy(keys.join("client_ed25519.pub"), &authorized)?;
    let exe = std::env::current_exe()?;
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {hostkey}\nPidFile {dir}/sshd.pid\n\
         AuthorizedKeysFile {authorized}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
         PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
         MaxSessions 10\nMaxStartups 100:30:200\nAllowUsers {user}\nLogLevel VERBOSE\nLogVerbose serverloop.c:server_request_direct_tcpip():*\nAllowTcpForwarding yes\n\
         SetEnv SHLVL=1\n\
         ForceCommand {exe} shell --state {state} --host {label}\n",
        hostkey = keys.join(key_name).display(),
        dir = dir.display(),
        authorized = authorized.display(),
        user = options.user,
        exe = exe.display(),
        state = state.display(),
    );
    let config_path = dir.join("sshd_config");
    fs::write(&config_path, config)?;
    // sshd wants its privilege separation directory even when it never uses it.
    let _ = fs::create_dir_all("/run/sshd");
    let log = fs::File::create(dir.join("sshd.log"))?;
    std::process::Command::new(&options.sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config_path)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .map_err(|e| Failure::new(format!("lws-sim: cannot start {}: {e}", options.sshd.display())))
}
