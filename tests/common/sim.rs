//! Starting `lws-sim serve` for a test and talking to its hosts with the system `ssh` client.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Which SSH server fronts the simulated hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Embedded,
    OpenSsh,
}

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Embedded => "embedded",
            Server::OpenSsh => "openssh",
        }
    }
}

/// A private directory under the system temp dir, removed on drop.
pub struct ScratchDir {
    pub path: PathBuf,
}

impl ScratchDir {
    pub fn new(tag: &str) -> ScratchDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let path = std::env::temp_dir().join(format!("lws-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create scratch dir");
        ScratchDir { path }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if std::env::var_os("LWS_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A running simulator.
pub struct Sim {
    pub server: Server,
    child: Child,
    pub registry: Value,
    state: PathBuf,
    // Dropped last: the directory outlives the process using it.
    pub dir: ScratchDir,
}

/// The `lws-sim` binary of this build. The simulator is another crate of the workspace (it shares
/// no code with the provider), so Cargo does not hand its path to our tests: it sits beside the
/// test binary's `deps/` directory. `make test` builds it first; a missing or stale one (older
/// than a source file of `sim/`) is built here, once per test process, as `make test` builds it.
pub fn sim_binary() -> &'static std::path::Path {
    static BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe.parent().and_then(std::path::Path::parent).expect("target/<profile>/deps/<test>");
        let binary = profile_dir.join(format!("lws-sim{}", std::env::consts::EXE_SUFFIX));
        let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
        let sources = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sim");
        if built.is_none_or(|built| newest_change(&sources) > Some(built)) {
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let status = cargo_as_from_a_shell("cargo")
                .args(["build", "--quiet", "--workspace", "--bins"])
                .args(release.then_some("--release"))
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building lws-sim failed");
        }
        binary
    })
}

/// `program` (cargo, or make running cargo) with the environment a shell would give it. What
/// `cargo test` sets for a test (CARGO_MANIFEST_DIR, CARGO_PKG_*…) is input to some build scripts
/// (ring's reruns when CARGO_MANIFEST_DIR changes), so a build from inside a test would otherwise
/// relink the binaries other tests are running. Built as `make test` builds them (the whole
/// workspace's features), the binaries are already fresh and nothing is relinked.
pub fn cargo_as_from_a_shell(program: &str) -> Command {
    let mut command = Command::new(if program == "cargo" { env!("CARGO") } else { program });
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if (name.starts_with("CARGO") && name != "CARGO_HOME") || name.starts_with("RUSTUP_TOOLCHAIN") {
            command.env_remove(name.as_ref());
        }
    }
    command
}

fn newest_change(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let time = if path.is_dir() { newest_change(&path) } else { entry.metadata().and_then(|m| m.modified()).ok() };
        newest = newest.max(time);
    }
    newest
}

impl Sim {
    /// Start `lws-sim serve` with `hosts` (e.g. `["eu-south-1/az1"]`) and wait for READY.
    pub fn start(server: Server, hosts: &[&str], extra: &[&str]) -> Sim {
        let dir = ScratchDir::new("sim");
        let state = dir.path.join("state");
        Self::launch(server, hosts, dir, state, extra)
    }

    /// Start on an existing (or new) state directory that outlives this simulator.
    pub fn start_at(server: Server, hosts: &[&str], state: &std::path::Path, extra: &[&str]) -> Sim {
        Self::launch(server, hosts, ScratchDir::new("sim"), state.to_path_buf(), extra)
    }

    fn launch(server: Server, hosts: &[&str], dir: ScratchDir, state: PathBuf, extra: &[&str]) -> Sim {
        let mut child = Command::new(sim_binary())
            .arg("serve")
            .arg("--state")
            .arg(&state)
            .arg("--hosts")
            .arg(hosts.join(","))
            .arg("--server")
            .arg(server.name())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lws-sim starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line == "READY" => break,
                Some(Ok(line)) => seen.push(line),
                _ => panic!("lws-sim serve exited before READY; printed: {seen:?}"),
            }
        }
        // Keep draining stdout so the simulator never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let registry: Value =
            serde_json::from_str(&std::fs::read_to_string(state.join("hosts.json")).expect("hosts.json written"))
                .expect("hosts.json is JSON");
        Sim { server, child, registry, state, dir }
    }

    pub fn state(&self) -> PathBuf {
        self.state.clone()
    }

    pub fn config_file(&self) -> PathBuf {
        self.state().join("config.yaml")
    }

    pub fn host(&self, label: &str) -> &Value {
        self.registry["hosts"]
            .as_array()
            .and_then(|hosts| hosts.iter().find(|h| h["label"] == label))
            .unwrap_or_else(|| panic!("no simulated host {label}"))
    }

    pub fn port(&self, label: &str) -> u16 {
        self.host(label)["port"].as_u64().expect("port") as u16
    }

    pub fn password(&self) -> String {
        std::fs::read_to_string(self.state().join("password")).expect("password file").trim().to_owned()
    }

    /// The system `ssh` client set up for host `label` (port, client key, pinned host keys);
    /// add options, then the destination `root@127.0.0.1` and a command.
    pub fn ssh_client(&self, label: &str) -> Command {
        let mut ssh = Command::new("ssh");
        ssh.arg("-p")
            .arg(self.port(label).to_string())
            .arg("-i")
            .arg(self.state().join("keys/client_ed25519"))
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.state().join("known_hosts").display()))
            .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"])
            .args(["-o", "IdentitiesOnly=yes", "-F", "/dev/null"]);
        ssh
    }

    /// The test's own commands say so (`LWS_SIM_ACTOR=test`), so the ledger check, which is
    /// about the provider's commands, leaves them out.
    fn ssh_command(&self, label: &str, command: &str) -> Command {
        let mut ssh = self.ssh_client(label);
        ssh.arg("root@127.0.0.1").arg(format!("export LWS_SIM_ACTOR=test; {command}"));
        ssh
    }

    /// Run `command` on a host through the system ssh client.
    pub fn ssh(&self, label: &str, command: &str) -> Output {
        self.ssh_command(label, command).stdin(Stdio::null()).output().expect("ssh runs")
    }

    /// Like [`Sim::ssh`], feeding `input` on stdin.
    pub fn ssh_with_input(&self, label: &str, command: &str, input: &str) -> Output {
        let mut child = self
            .ssh_command(label, command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ssh runs");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("ssh finishes")
    }

    /// Run and insist on success, returning stdout.
    pub fn ok(&self, label: &str, command: &str) -> String {
        let out = self.ssh(label, command);
        assert!(
            out.status.success(),
            "`{command}` on {label} ({}) failed with {:?}\nstdout: {}\nstderr: {}",
            self.server.name(),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Switch host `label` `on`, `off` or into a `blackhole` (needs `--power-switch`).
    pub fn power(&self, label: &str, switch: &str) {
        self.switch_host("power", label, switch);
    }

    /// Mark node `label` online or offline in its cluster (`lws-sim membership`): a cluster with
    /// no more than half of its nodes online loses quorum.
    pub fn membership(&self, label: &str, state: &str) {
        self.switch_host("membership", label, state);
    }

    /// `lws-sim <command> --state DIR --host <label> <word>`, insisting on success.
    fn switch_host(&self, command: &str, label: &str, word: &str) {
        let out = Command::new(sim_binary())
            .args([command, "--state"])
            .arg(&self.state)
            .args(["--host", label, word])
            .output()
            .unwrap_or_else(|e| panic!("lws-sim {command} runs: {e}"));
        assert!(out.status.success(), "lws-sim {command} {label} {word}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Arm faults (`DIR/faults.json`, see `lws-sim serve --help`).
    pub fn arm(&self, faults: &str) {
        std::fs::write(self.state.join("faults.json"), faults).expect("faults.json");
    }

    /// Whether every armed fault has fired.
    pub fn faults_fired(&self) -> bool {
        let left = std::fs::read_to_string(self.state.join("faults.json")).unwrap_or_default();
        let faults: Value = serde_json::from_str(&left).unwrap_or(Value::Null);
        faults.as_object().is_none_or(|kinds| kinds.values().all(|keys| keys.as_array().is_none_or(Vec::is_empty)))
    }

    /// Every entry of the simulator's command log.
    pub fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.state().join("commands.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// SSH connections made to `host`, told apart by the client's address:port (both servers log it).
pub fn handshakes(log: &[Value], host: &str) -> usize {
    let peers: std::collections::BTreeSet<&str> = log
        .iter()
        .filter(|e| e["host"] == host && (e["kind"] == "connect" || e["kind"] == "ssh"))
        .filter_map(|e| e["peer"].as_str())
        .collect();
    peers.len()
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Checked before stopping, and not while a test is already failing (a panic in a panic
        // aborts the process and hides the first failure).
        if !std::thread::panicking() {
            let unlisted = super::ledger::unlisted(&self.log(), &super::ledger::rows());
            if !unlisted.is_empty() {
                self.stop();
                panic!(
                    "the provider ran commands that docs/proxmox-commands.md does not list (add a row citing \
                     the source that defines their output):\n  {}",
                    unlisted.join("\n  ")
                );
            }
        }
        self.stop();
    }
}

impl Sim {
    fn stop(&mut self) {
        // SIGTERM, so `serve` stops the sshd processes it started.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stdout and stderr of an output as text.
pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Text with every run of whitespace folded to one space (Terraform wraps messages at 80
/// columns).
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
