//! Real LXC under the simulated nodes: every started container is an LXC container on this
//! machine, so whether it runs, its init PID, its addresses and what runs inside it (`pct exec`)
//! come from LXC itself, never from what the provider happens to expect.
//!
//! Each node has its own lxcpath, the node's `/var/lib/lxc` (where Proxmox keeps LXC's config of
//! every container it started: pve-container `src/PVE/LXC.pm` `update_lxc_config`), so several
//! nodes share one machine and two simulators never see each other's containers. The provider's
//! `lxc-info` and `lxc-ls` run the real tools with that `-P`.
//!
//! A container's root is the simulator's directory for it, with the host's `/usr/lib` mounted
//! read-only, the whitelisted host tools (see [`crate::guest`]) as links into a read-only mount of
//! the host's `/usr/bin`, and the simulated tools (`apt-get`, `chpasswd`, `docker` once installed)
//! as links to this binary, which finds its node from `/.lws-sim/context.json` inside.
//!
//! Containers are privileged and their network devices are veth pairs left unplugged on the host
//! side, addressed inside by LXC (`lxc.net.N.ipv4.address`) the way the guest's own network setup
//! would: the addresses `lxc-info -i` reports are the kernel's. Every container started is noted
//! in [`LEDGER_DIR`] with the simulator serving it, so a crashed run's containers are killed by
//! the next `serve` ([`reap_orphans`]) and a stopping one kills its own ([`stop_all`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::context::{write_atomic, Node};
use super::ct::Ct;
use super::output::{Failure, Outcome};

/// Where Debian's `lxc` package puts its tools.
const LXC_BIN: &str = "/usr/bin";
/// The tools the simulator runs.
const LXC_TOOLS: [&str; 5] = ["lxc-start", "lxc-stop", "lxc-info", "lxc-ls", "lxc-attach"];
/// Containers started by any simulator on this machine: `<init pid>.json` each.
pub const LEDGER_DIR: &str = "/run/lws-sim/containers";
/// Inside a container: the directory of the simulator's own files.
pub const GUEST_DIR: &str = ".lws-sim";
/// Inside a container: what tells the simulated tools which container and node they run in.
pub const GUEST_CONTEXT: &str = "/.lws-sim/context.json";
/// Inside a container: the simulator's state directory, mounted.
pub const GUEST_STATE: &str = "/.lws-sim/state";
/// Inside a container: this binary, mounted.
pub const GUEST_EXE: &str = "/.lws-sim/lws-sim";
/// Inside a container: the host's `/usr/bin`, mounted read-only, which the whitelisted tools
/// link into.
pub const GUEST_HOST_BIN: &str = "/.lws-sim/host-bin";
/// `PATH` of a root login on a Proxmox host (OpenSSH's default for uid 0 on Debian), which
/// `pct exec` passes into the container (`--keep-env`).
pub const HOST_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// PID 1 of a simulated container: it waits until LXC asks it to halt (`lxc.signal.halt`,
/// SIGPWR by default) or stop.
const INIT: &str = "#!/bin/sh\n\
# PID 1 of an lws-sim container: exits when LXC asks it to halt (SIGPWR) or stop.\n\
trap 'exit 0' PWR TERM INT\n\
while :; do sleep 3600 & wait $!; done\n";

/// What a simulated tool inside a container knows about where it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GuestContext {
    pub cluster: String,
    pub node: String,
    pub host_label: String,
    pub vmid: u32,
}

impl GuestContext {
    /// The context of the container this process runs in, if it runs in one.
    pub fn current() -> Option<GuestContext> {
        let text = fs::read_to_string(GUEST_CONTEXT).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn node(&self) -> Node {
        Node::new(Path::new(GUEST_STATE), &self.cluster, &self.node, &self.host_label)
    }
}

/// Fail with what to install when LXC is missing or cannot work here (never fall back).
pub fn require() -> Result<(), Failure> {
    let missing: Vec<&str> = LXC_TOOLS.iter().copied().filter(|t| !Path::new(LXC_BIN).join(t).exists()).collect();
    if !missing.is_empty() {
        return Err(Failure::new(format!(
            "lws-sim: LXC is not installed (no {} in {LXC_BIN}); every started container is a real LXC \
             container. Install it: apt-get install --no-install-recommends lxc (scripts/setup.sh does)",
            missing.join(", ")
        )));
    }
    let uid = fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX);
    if uid != 0 {
        return Err(Failure::new(format!(
            "lws-sim: real LXC containers need root (privileged containers); running as uid {uid}"
        )));
    }
    Ok(())
}

/// The node's lxcpath: its `/var/lib/lxc`.
pub fn lxcpath(node: &Node) -> PathBuf {
    node.local_dir().join("var/lib/lxc")
}

fn tool(name: &str, node: &Node) -> Command {
    let mut command = Command::new(Path::new(LXC_BIN).join(name));
    command.arg("-P").arg(lxcpath(node));
    command
}

/// Run `lxc-info`/`lxc-ls` as the provider asked, on this node's lxcpath: LXC prints and exits.
pub fn run_tool(node: &Node, name: &str, argv: &[String]) -> Outcome {
    let status = tool(name, node).args(argv).status()?;
    match status.code() {
        Some(0) => Ok(()),
        code => Err(Failure::with_code(code.unwrap_or(255), "")),
    }
}

fn run_quiet(mut command: Command) -> Result<Output, Failure> {
    Ok(command.stdin(Stdio::null()).output()?)
}

fn failure_text(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stderr).trim_end().to_owned();
    if text.is_empty() {
        text = String::from_utf8_lossy(&output.stdout).trim_end().to_owned();
    }
    text
}

/// Running containers of each lxcpath, read once per process (one `lxc-ls`), forgotten when this
/// process starts or stops one.
static RUNNING: Mutex<BTreeMap<PathBuf, BTreeSet<u32>>> = Mutex::new(BTreeMap::new());

/// The containers LXC runs on `node` (`lxc-ls --running -1`: one name per line).
pub fn running(node: &Node) -> BTreeSet<u32> {
    let path = lxcpath(node);
    let mut cache = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = cache.get(&path) {
        return known.clone();
    }
    let mut ls = tool("lxc-ls", node);
    ls.args(["--running", "-1"]);
    let names = match run_quiet(ls) {
        Ok(out) if out.status.success() => {
            String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect()
        }
        Ok(out) => {
            eprintln!("lws-sim: lxc-ls -P {} failed: {}", path.display(), failure_text(&out));
            BTreeSet::new()
        }
        Err(f) => {
            eprintln!("lws-sim: cannot run lxc-ls: {}", f.message);
            BTreeSet::new()
        }
    };
    cache.insert(path, names.clone());
    names
}

fn forget_running(node: &Node) {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).remove(&lxcpath(node));
}

/// The init PID of a running container (`lxc-info -p -H` prints the bare number).
pub fn init_pid(node: &Node, vmid: u32) -> Option<u32> {
    let mut info = tool("lxc-info", node);
    info.args(["-n", &vmid.to_string(), "-p", "-H"]);
    let out = run_quiet(info).ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Start `ct` as Proxmox's `vm_start` does: write LXC's config of it, then `lxc-start`.
/// Returns the init PID.
pub fn start(ct: &Ct) -> Result<u32, Failure> {
    let node = &ct.node;
    let registry = super::registry::Registry::load(&node.state).ok();
    prepare_root(ct)?;
    let dhcp = registry.as_ref().is_none_or(|r| r.dhcp);
    write_atomic(&node.lxc_config_path(ct.vmid), &lxc_config(ct, dhcp)?)?;
    forget_running(node);
    let mut start = tool("lxc-start", node);
    start.args(["-n", &ct.vmid.to_string()]);
    let out = run_quiet(start)?;
    if !out.status.success() {
        // pve-container `src/PVE/LXC.pm` `vm_start`: `die "startup for container '$vmid' failed\n"`
        // after lxc-start's own lines.
        return Err(Failure::new(format!("{}\nstartup for container '{}' failed", failure_text(&out), ct.vmid)));
    }
    let pid = init_pid(node, ct.vmid)
        .ok_or_else(|| Failure::new(format!("lws-sim: container {} started but lxc-info reports no PID", ct.vmid)))?;
    note_started(node, ct.vmid, pid, registry.map(|r| r.serve_pid).unwrap_or(0));
    Ok(pid)
}

/// `lxc-stop -n VMID --kill` (pve-container `src/PVE/LXC.pm` `vm_stop` with `$kill`), or a clean
/// shutdown with `--timeout` that kills after it unless `nokill`.
pub fn stop(node: &Node, vmid: u32, pid: Option<u32>, shutdown: Option<(u64, bool)>) -> Outcome {
    let mut stop = tool("lxc-stop", node);
    stop.args(["-n", &vmid.to_string()]);
    match shutdown {
        None => {
            stop.arg("--kill");
        }
        Some((timeout, nokill)) => {
            if nokill {
                stop.arg("--nokill");
            }
            stop.args(["--timeout", &timeout.to_string()]);
        }
    }
    forget_running(node);
    let out = run_quiet(stop)?;
    if !out.status.success() && running(node).contains(&vmid) {
        forget_running(node);
        return Err(Failure::new(format!("{}\ncontainer did not stop", failure_text(&out))));
    }
    forget_running(node);
    if let Some(pid) = pid {
        let _ = fs::remove_file(Path::new(LEDGER_DIR).join(format!("{pid}.json")));
    }
    Ok(())
}

/// `lxc-attach -n VMID --keep-env|--clear-env -- ARGV` (pve-container `src/PVE/CLI/pct.pm`
/// `exec`), with the environment of a root login on the host (`keep-env` passes it in).
pub fn attach(ct: &Ct, argv: &[String], keep_env: bool) -> Command {
    let mut attach = tool("lxc-attach", &ct.node);
    attach.args(["-n", &ct.vmid.to_string(), if keep_env { "--keep-env" } else { "--clear-env" }, "--"]);
    attach.args(argv);
    attach.env_clear().env("PATH", HOST_PATH).env("HOME", "/root").env("LANG", "C.UTF-8").env("USER", "root");
    attach.env("LOGNAME", "root").env("SHELL", "/bin/bash");
    for var in ["SSH_CONNECTION", "SSH_CLIENT", "TERM"] {
        if let Ok(value) = std::env::var(var) {
            attach.env(var, value);
        }
    }
    attach
}

/// LXC's config of `ct`: what Proxmox's `update_lxc_config` would write that matters here.
fn lxc_config(ct: &Ct, dhcp: bool) -> Result<String, Failure> {
    let root = ct.root();
    let exe = std::env::current_exe()?;
    let mut config = format!(
        "lxc.uts.name = {hostname}\n\
         lxc.rootfs.path = dir:{root}\n\
         lxc.apparmor.profile = unconfined\n\
         lxc.autodev = 1\n\
         lxc.mount.auto = proc:mixed sys:ro cgroup:mixed\n\
         lxc.mount.entry = /usr/lib usr/lib none ro,bind,create=dir 0 0\n\
         lxc.mount.entry = /usr/lib64 usr/lib64 none ro,bind,optional,create=dir 0 0\n\
         lxc.mount.entry = /usr/bin {guest}/host-bin none ro,bind,create=dir 0 0\n\
         lxc.mount.entry = {exe} {guest}/lws-sim none ro,bind,create=file 0 0\n\
         lxc.mount.entry = {state} {guest}/state none bind,create=dir 0 0\n\
         lxc.init.cmd = /{guest}/init\n",
        hostname = ct.hostname(),
        root = root.display(),
        guest = GUEST_DIR,
        exe = exe.display(),
        state = ct.node.state.display(),
    );
    let mut index = 0;
    for (_, net) in ct.networks() {
        config.push_str(&format!("lxc.net.{index}.type = veth\nlxc.net.{index}.flags = up\n"));
        if let Some(name) = net.get("name") {
            config.push_str(&format!("lxc.net.{index}.name = {name}\n"));
        }
        if let Some(mac) = net.get("hwaddr") {
            config.push_str(&format!("lxc.net.{index}.hwaddr = {mac}\n"));
        }
        if let Some(cidr) = ct.ipv4_cidr(&net).filter(|_| dhcp || net.get("ip") != Some("dhcp")) {
            config.push_str(&format!("lxc.net.{index}.ipv4.address = {cidr}\n"));
        }
        if let Some(cidr) = net.get("ip6").filter(|v| v.contains('/')) {
            config.push_str(&format!("lxc.net.{index}.ipv6.address = {cidr}\n"));
        }
        index += 1;
    }
    if index == 0 {
        config.push_str("lxc.net.0.type = empty\n");
    }
    Ok(config)
}

/// Make the container's root bootable: `/usr/bin` with links to the whitelisted host tools, the
/// usual top-level links, the init script and the context file (idempotent, so a clone, a
/// restore or a migration needs nothing else).
fn prepare_root(ct: &Ct) -> Outcome {
    let root = ct.root();
    for dir in ["usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "dev", "proc", "sys", "tmp", GUEST_DIR] {
        fs::create_dir_all(root.join(dir))?;
    }
    for (link, target) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")] {
        if root.join(link).symlink_metadata().is_err() {
            symlink(target, root.join(link))?;
        }
    }
    for tool in super::guest::BASE_TOOLS {
        let link = root.join("usr/bin").join(tool);
        if link.symlink_metadata().is_err() && Path::new("/usr/bin").join(tool).exists() {
            symlink(format!("{GUEST_HOST_BIN}/{tool}"), link)?;
        }
    }
    let init = root.join(GUEST_DIR).join("init");
    fs::write(&init, INIT)?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&init, fs::Permissions::from_mode(0o755))?;
    let context = GuestContext {
        cluster: ct.node.cluster.clone(),
        node: ct.node.name.clone(),
        host_label: ct.node.host_label.clone(),
        vmid: ct.vmid,
    };
    write_atomic(&root.join(GUEST_DIR).join("context.json"), &serde_json::to_string(&context)?)?;
    Ok(())
}

/// One container some simulator started.
#[derive(Debug, Serialize, Deserialize)]
struct LedgerEntry {
    /// The `serve` process of the simulator (0 when started without one) and its start time.
    serve_pid: u32,
    #[serde(default)]
    serve_start_time: u64,
    /// The init's start time (`/proc/PID/stat` field 22), so a reused PID is never killed.
    start_time: u64,
    lxcpath: PathBuf,
    vmid: u32,
}

/// A live process's start time (`/proc/PID/stat` field 22); `None` once it is gone or a zombie
/// (a killed simulator may wait a while to be reaped).
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

fn note_started(node: &Node, vmid: u32, pid: u32, serve_pid: u32) {
    let entry = LedgerEntry {
        serve_pid,
        serve_start_time: start_time(serve_pid).unwrap_or(0),
        start_time: start_time(pid).unwrap_or(0),
        lxcpath: lxcpath(node),
        vmid,
    };
    let _ = fs::create_dir_all(LEDGER_DIR);
    if let Ok(text) = serde_json::to_string(&entry) {
        let _ = write_atomic(&Path::new(LEDGER_DIR).join(format!("{pid}.json")), &text);
    }
}

fn kill(pid: u32) {
    let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).stderr(Stdio::null()).status();
}

/// Kill the containers of simulators that are gone (crashed or killed): every ledger entry whose
/// `serve` no longer runs. Returns how many were killed.
pub fn reap_orphans() -> usize {
    let Ok(entries) = fs::read_dir(LEDGER_DIR) else { return 0 };
    let mut killed = 0;
    for file in entries.filter_map(Result::ok) {
        let path = file.path();
        let Some(pid) = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let entry: Option<LedgerEntry> = fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
        let Some(entry) = entry else {
            let _ = fs::remove_file(&path);
            continue;
        };
        let serve_alive = entry.serve_pid != 0 && start_time(entry.serve_pid) == Some(entry.serve_start_time);
        if serve_alive {
            continue;
        }
        if start_time(pid).is_some_and(|t| t == entry.start_time) {
            kill(pid);
            killed += 1;
        }
        let _ = fs::remove_file(&path);
    }
    killed
}

/// Stop every container of these nodes (a simulator shutting down) and forget them.
pub fn stop_all(nodes: &[Node]) {
    for node in nodes {
        for vmid in running(node) {
            let pid = init_pid(node, vmid);
            let _ = stop(node, vmid, pid, None);
            if let Some(pid) = pid {
                kill(pid);
            }
        }
    }
}

/// `nsenter -t PID --net -- ip --json a`: the interfaces of a container's network namespace as
/// iproute2 prints them (pve-container `src/PVE/LXC.pm` `get_interfaces` runs exactly this).
pub fn ip_addresses(pid: u32) -> Result<serde_json::Value, Failure> {
    let mut nsenter = Command::new("nsenter");
    nsenter.args(["-t", &pid.to_string(), "--net", "--", "ip", "--json", "a"]);
    let out = run_quiet(nsenter)?;
    if !out.status.success() {
        return Err(Failure::new(format!(
            "command 'nsenter -t {pid} --net -- ip --json a' failed: {}",
            failure_text(&out)
        )));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| Failure::new(format!("malformed JSON from 'ip --json a': {e}")))
}

/// The bridge Docker's daemon makes at its start (its default `bip`, 172.17.0.1/16): a container
/// running Docker has it beside its own interfaces, and `lxc-info -i` lists its address.
const DOCKER_BRIDGE: [&[&str]; 3] = [
    &["link", "add", "docker0", "type", "bridge"],
    &["addr", "add", "172.17.0.1/16", "dev", "docker0"],
    &["link", "set", "docker0", "up"],
];

/// Give a container Docker's bridge: from the host in the network namespace of its init `pid`
/// (`Some`), or from inside it (`None`: Docker's daemon starting in the container this process
/// runs in). A bridge already there is kept.
pub fn add_docker_bridge(pid: Option<u32>) -> Outcome {
    for args in DOCKER_BRIDGE {
        let mut ip = match pid {
            Some(pid) => {
                let mut nsenter = Command::new("nsenter");
                nsenter.args(["-t", &pid.to_string(), "--net", "--", "ip"]);
                nsenter
            }
            None => Command::new(format!("{GUEST_HOST_BIN}/ip")),
        };
        ip.args(args);
        let out = run_quiet(ip)?;
        if !out.status.success() && !failure_text(&out).contains("File exists") {
            return Err(Failure::new(format!("lws-sim: ip {}: {}", args.join(" "), failure_text(&out))));
        }
    }
    Ok(())
}
