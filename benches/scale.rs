//! `make bench`: how the provider scales, measured against the simulator with Proxmox-like
//! latency (`pct` 300 ms, `pvesh` 500 ms per run) on three hosts. Every figure is printed next
//! to a baseline measured in the same run, never against a fixed wall-clock number:
//!
//! 1. Refresh (`terraform plan -refresh-only`) of N = 50, 200, 500 containers, against
//!    (a) Terraform's floor: the same plan over N `terraform_data` resources, and
//!    (b) the naive way: `pct config` + `pct status` per container over one multiplexed OpenSSH
//!    connection per host (ControlMaster), 10 commands in parallel per host.
//! 2. Create: an apply of 50 containers over the 3 hosts, against the simulated work: the
//!    Proxmox tool latency it caused per host, divided by the channels a host runs at once.
//! 3. The provider process: exec to handshake line, peak RSS refreshing 1000 containers, and
//!    SSH handshakes counted from the simulator's connection log.
//!
//! Prints a table and writes `target/bench/summary.json`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::sim::{handshakes, ScratchDir, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const HOSTS: [&str; 3] = ["eu-south-1/az1@c1", "eu-south-1/az2@c2", "eu-south-1/az3@c3"];
const LABELS: [&str; 3] = ["eu-south-1/az1", "eu-south-1/az2", "eu-south-1/az3"];
const LATENCY: &str = "pct=300ms,pvesh=500ms";
/// Channels one host runs at once (sshd's MaxSessions, the provider's max_sessions_per_host).
const SESSIONS: f64 = 10.0;
const REFRESH_SIZES: [usize; 3] = [50, 200, 500];
const RSS_SIZE: usize = 1000;
const CREATE_SIZE: usize = 50;
const RUNS: usize = 3;

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.
    let started = Instant::now();
    let mut summary = json!({ "machine": machine(), "latency": LATENCY, "hosts": LABELS.len() });
    // `LWS_BENCH_ONLY=create` runs the create part alone (a quick check while tuning).
    if std::env::var("LWS_BENCH_ONLY").as_deref() == Ok("create") {
        for server in [Server::Embedded, Server::OpenSsh] {
            println!("{}", serde_json::to_string_pretty(&measure_create(server)).expect("JSON"));
        }
        return;
    }

    let state = ScratchDir::new("bench-state");
    let lws = Workspace::new(&containers_tf(&state.path.join("state/config.yaml")));
    let floor = Workspace::new(
        "variable \"n\" { type = number }\nresource \"terraform_data\" \"r\" {\n  count = var.n\n  input = count.index\n}\n",
    );
    floor.ok(&["init", "-input=false", "-no-color"]);

    let mut refresh = Vec::new();
    for n in REFRESH_SIZES {
        populate(&state.path, &lws, n);
        let sim = Sim::start_at(Server::OpenSsh, &HOSTS, &state.path.join("state"), &["--latency", LATENCY]);
        let row = measure_refresh(&sim, &lws, &floor, n);
        eprintln!("refresh N={n}: {row}");
        refresh.push(row);
    }
    summary["refresh"] = json!(refresh);

    populate(&state.path, &lws, RSS_SIZE);
    let sim = Sim::start_at(Server::OpenSsh, &HOSTS, &state.path.join("state"), &["--latency", LATENCY]);
    summary["process"] = measure_process(&sim, &lws);
    drop(sim);

    summary["create"] = json!({
        "terraform_data_floor_s": round(create_floor(), 2),
        "embedded": measure_create(Server::Embedded),
        "openssh": measure_create(Server::OpenSsh),
    });
    summary["bench_seconds"] = json!(round(started.elapsed().as_secs_f64(), 1));

    print_table(&summary);
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).expect("create target/bench");
    let path = out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary).expect("summary is JSON")).expect("write summary");
    println!("\nfigures written to {}", path.display());
}

fn containers_tf(config_file: &Path) -> String {
    // The provider may use as many channels per host as sshd allows (MaxSessions 10).
    format!(
        "{}variable \"n\" {{ type = number }}\n\
         resource \"lws_container\" \"ct\" {{\n  count    = var.n\n  az       = [\"az1\", \"az2\", \"az3\"][count.index % 3]\n  \
         hostname = \"ct-${{count.index}}\"\n  template = \"{DEBIAN}\"\n  size     = \"small\"\n  started  = false\n}}\n",
        provider_block(config_file, "eu-south-1")
            .replace("  region      = \"eu-south-1\"\n", "  region      = \"eu-south-1\"\n  ssh         = { max_sessions_per_host = 10 }\n")
    )
}

/// Grow the cloud to `n` containers without latency (setting up is not what is measured).
fn populate(state: &Path, lws: &Workspace, n: usize) {
    let sim = Sim::start_at(Server::OpenSsh, &HOSTS, &state.join("state"), &[]);
    let begun = Instant::now();
    lws.ok(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=30", "-var", &format!("n={n}")]);
    eprintln!("populated {n} containers in {:.1}s", begun.elapsed().as_secs_f64());
    drop(sim);
}

fn timed(f: impl FnOnce()) -> f64 {
    let begun = Instant::now();
    f();
    begun.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn clear_log(sim: &Sim) {
    std::fs::write(sim.state().join("commands.log"), "").expect("clear the command log");
}

fn measure_refresh(sim: &Sim, lws: &Workspace, floor: &Workspace, n: usize) -> Value {
    let var = format!("n={n}");
    floor.ok(&["apply", "-auto-approve", "-input=false", "-no-color", "-var", &var]);
    let plan = ["plan", "-refresh-only", "-input=false", "-no-color", "-var", var.as_str()];
    let floor_s = median((0..RUNS).map(|_| timed(|| drop(floor.ok(&plan)))).collect());

    let mut lws_runs = Vec::new();
    let mut per_host = Vec::new();
    for _ in 0..RUNS {
        clear_log(sim);
        lws_runs.push(timed(|| {
            let out = lws.ok(&plan);
            assert!(out.contains("No changes"), "the refresh found drift:\n{out}");
        }));
        let log = sim.log();
        per_host = LABELS
            .iter()
            .map(|h| {
                json!({
                    "host": h,
                    "ssh_commands": log.iter().filter(|e| e["kind"] == "ssh" && e["host"] == *h).count(),
                    "tool_runs": log.iter().filter(|e| e["kind"] == "tool" && e["host"] == *h).count(),
                    "handshakes": handshakes(&log, h),
                })
            })
            .collect();
    }
    let lws_s = median(lws_runs);

    let naive_s = naive_refresh(sim, lws);
    let overhead = lws_s - floor_s;
    json!({
        "n": n,
        "floor_s": round(floor_s, 2),
        "lws_s": round(lws_s, 2),
        "overhead_s": round(overhead, 2),
        "naive_s": round(naive_s, 2),
        "speedup_reads": round(naive_s / overhead.max(0.05), 1),
        "speedup_plan": round(naive_s / lws_s, 1),
        "max_commands_per_host": per_host.iter().filter_map(|h| h["ssh_commands"].as_u64()).max(),
        "handshakes": per_host.iter().filter_map(|h| h["handshakes"].as_u64()).sum::<u64>(),
        "per_host": per_host,
    })
}

/// `ssh` through a ControlMaster connection to `label`.
fn ssh(sim: &Sim, label: &str, control: &Path) -> Command {
    let mut ssh = sim.ssh_client(label);
    ssh.arg("-o")
        .arg(format!("ControlPath={}", control.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    ssh
}

/// What a provider without batching would do: two commands per container.
fn naive_refresh(sim: &Sim, lws: &Workspace) -> f64 {
    let state = lws.state();
    let mut by_host: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in state["values"]["root_module"]["resources"].as_array().expect("resources") {
        let az = r["values"]["az"].as_str().expect("az");
        by_host.entry(format!("eu-south-1/{az}")).or_default().push(r["values"]["vmid"].as_u64().expect("vmid"));
    }
    let sockets = ScratchDir::new("bench-ssh");
    let controls: BTreeMap<String, PathBuf> =
        by_host.keys().enumerate().map(|(i, h)| (h.clone(), sockets.path.join(format!("c{i}")))).collect();
    for (host, control) in &controls {
        let ok = ssh(sim, host, control)
            .args(["-M", "-N", "-f", "-o", "ControlPersist=120", "root@127.0.0.1"])
            .status()
            .expect("ssh master");
        assert!(ok.success(), "ControlMaster to {host}");
    }
    let elapsed = timed(|| {
        thread::scope(|scope| {
            for (host, vmids) in &by_host {
                let queue = Arc::new(std::sync::Mutex::new(vmids.clone()));
                let control = &controls[host];
                for _ in 0..SESSIONS as usize {
                    let queue = queue.clone();
                    scope.spawn(move || loop {
                        let Some(vmid) = queue.lock().expect("queue").pop() else { break };
                        for sub in ["config", "status"] {
                            let out = ssh(sim, host, control)
                                .arg("root@127.0.0.1")
                                .arg(format!("export LWS_SIM_ACTOR=bench; pct {sub} {vmid}"))
                                .status()
                                .expect("ssh runs");
                            assert!(out.success(), "pct {sub} {vmid} on {host}");
                        }
                    });
                }
            }
        })
    });
    for (host, control) in &controls {
        let _ = ssh(sim, host, control).args(["-O", "exit", "root@127.0.0.1"]).status();
    }
    elapsed
}

/// Start-up to handshake, peak RSS of a refresh of `RSS_SIZE` containers, handshakes.
fn measure_process(sim: &Sim, lws: &Workspace) -> Value {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-lws"));
    let cert = client_cert();
    let mut startups = Vec::new();
    for _ in 0..20 {
        let mut cmd = Command::new(&binary);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        if let Some(cert) = &cert {
            cmd.env("PLUGIN_CLIENT_CERT", cert);
        }
        let begun = Instant::now();
        let mut child = cmd.spawn().expect("provider starts");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut line)
            .expect("handshake line");
        startups.push(begun.elapsed().as_secs_f64() * 1000.0);
        assert!(line.starts_with("1|6|"), "handshake line: {line}");
        let _ = child.kill();
        let _ = child.wait();
    }

    clear_log(sim);
    let peak = Arc::new(std::sync::Mutex::new(0u64));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (peak, done, binary) = (peak.clone(), done.clone(), binary.clone());
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                for kib in provider_hwm_kib(&binary) {
                    let mut p = peak.lock().expect("peak");
                    *p = (*p).max(kib);
                }
                thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let var = format!("n={RSS_SIZE}");
    let plan_s = timed(|| drop(lws.ok(&["plan", "-refresh-only", "-input=false", "-no-color", "-var", &var])));
    done.store(true, Ordering::SeqCst);
    watcher.join().expect("watcher");
    let log = sim.log();
    let peak_mib = *peak.lock().expect("peak") as f64 / 1024.0;
    json!({
        "startup_ms_median": round(median(startups.clone()), 1),
        "startup_ms_max": round(startups.iter().copied().fold(0.0, f64::max), 1),
        "startup_tls": cert.is_some(),
        "rss_resources": RSS_SIZE,
        "rss_peak_mib": round(peak_mib, 1),
        "rss_plan_s": round(plan_s, 2),
        "handshakes": LABELS.iter().map(|h| handshakes(&log, h)).sum::<usize>(),
        "hosts_used": LABELS.len(),
    })
}

/// A client certificate as Terraform passes one (so start-up includes the TLS key generation);
/// None when `openssl` is missing.
fn client_cert() -> Option<String> {
    let dir = ScratchDir::new("bench-cert");
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(dir.path.join("key.pem"))
        .arg("-out")
        .arg(dir.path.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    ok.success().then(|| std::fs::read_to_string(dir.path.join("cert.pem")).ok()).flatten()
}

/// VmHWM (KiB) of every running process of `binary`.
fn provider_hwm_kib(binary: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|e| std::fs::read_link(e.path().join("exe")).is_ok_and(|exe| exe == binary))
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .collect()
}

/// Most commands running at once on one host (from start and end times in the log).
fn peak_in_flight(commands: &[&Value]) -> usize {
    let mut edges: Vec<(f64, i32)> = Vec::new();
    for e in commands {
        let (Some(end), Some(ms)) = (e["time"].as_f64(), e["ms"].as_f64()) else { continue };
        edges.push((end - ms / 1000.0, 1));
        edges.push((end, -1));
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut now = 0i32;
    let mut peak = 0i32;
    for (_, step) in edges {
        now += step;
        peak = peak.max(now);
    }
    peak as usize
}

/// (busy, total) jiffies of all CPUs, from /proc/stat.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn cpu_busy_share(before: (u64, u64), after: (u64, u64)) -> f64 {
    let total = after.1.saturating_sub(before.1).max(1);
    after.0.saturating_sub(before.0) as f64 / total as f64
}

/// Terraform's own cost of an apply creating `CREATE_SIZE` resources (`terraform_data`).
fn create_floor() -> f64 {
    let tf = Workspace::new(
        "variable \"n\" { type = number }\nresource \"terraform_data\" \"r\" {\n  count = var.n\n  input = count.index\n}\n",
    );
    tf.ok(&["init", "-input=false", "-no-color"]);
    let var = format!("n={CREATE_SIZE}");
    timed(|| drop(tf.ok(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=30", "-var", &var])))
}

/// An apply creating `CREATE_SIZE` running containers on a fresh cloud.
fn measure_create(server: Server) -> Value {
    let sim = Sim::start(server, &HOSTS, &["--latency", LATENCY]);
    let tf = Workspace::new(&containers_tf(&sim.config_file()).replace("started  = false", "started  = true"));
    let var = format!("n={CREATE_SIZE}");
    let cpu_before = cpu_ticks();
    let wall = timed(|| {
        drop(tf.ok(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=30", "-var", &var]))
    });
    let cpu_busy = cpu_busy_share(cpu_before, cpu_ticks());
    let log = sim.log();
    let latency = |argv0: &str| match argv0 {
        "pct" => 0.3,
        "pvesh" => 0.5,
        _ => 0.0,
    };
    // Per host: the first-contact read comes first (`/etc/pve/.members`, no tool start; then the
    // cluster read, whose one pvesh, 0.5 s, runs beside `tail` and `lxc-ls`); then
    // the rest of the tool latency spread over the channels a host runs at once, or the longest
    // per-container chain (its lock serialises it), whichever is longer.
    let mut work = 0.0f64;
    let mut measured_work = 0.0f64;
    let mut per_host = Vec::new();
    for host in LABELS {
        let tools: Vec<&Value> = log.iter().filter(|e| e["kind"] == "tool" && e["host"] == host).collect();
        let total: f64 = tools.iter().map(|e| latency(e["argv"][0].as_str().unwrap_or(""))).sum();
        let mut chains: BTreeMap<&str, f64> = BTreeMap::new();
        for e in &tools {
            if e["argv"][0] == "pct" {
                if let Some(vmid) = e["argv"][2].as_str() {
                    *chains.entry(vmid).or_default() += 0.3;
                }
            }
        }
        let longest = chains.values().copied().fold(0.0, f64::max);
        let first_contact = tools.iter().any(|e| e["argv"][2] == "/cluster/resources");
        let (first, rest) = if first_contact { (0.5, total - 0.5) } else { (0.0, total) };
        work = work.max(first + (rest / SESSIONS).max(longest));
        // The same with each command's measured time on this machine (latency + execution).
        let commands: Vec<&Value> = log.iter().filter(|e| e["kind"] == "ssh" && e["host"] == host).collect();
        let measured: f64 = commands.iter().filter_map(|e| e["ms"].as_f64()).sum::<f64>() / 1000.0;
        measured_work = measured_work.max(measured / SESSIONS);
        let mut families: BTreeMap<String, usize> = BTreeMap::new();
        for e in &tools {
            let name = format!("{} {}", e["argv"][0].as_str().unwrap_or("?"), e["argv"][1].as_str().unwrap_or(""));
            *families.entry(name).or_default() += 1;
        }
        per_host.push(json!({
            "host": host,
            "containers": chains.len(),
            "tool_latency_s": round(total, 1),
            "ssh_commands": commands.len(),
            "ssh_command_s": round(measured, 1),
            "peak_in_flight": peak_in_flight(&commands),
            "tool_runs": families,
            "handshakes": handshakes(&log, host),
        }));
    }
    let created: BTreeSet<String> = tf.state()["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["values"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(created.len(), CREATE_SIZE, "every container was created");
    json!({
        "server": server.name(),
        "n": CREATE_SIZE,
        "wall_s": round(wall, 2),
        "simulated_work_s": round(work, 2),
        "ratio": round(wall / work, 2),
        "measured_work_s": round(measured_work, 2),
        "ratio_measured": round(wall / measured_work, 2),
        "cpu_busy_percent": round(cpu_busy * 100.0, 0),
        "per_host": per_host,
    })
}

fn print_table(s: &Value) {
    println!("\nlws provider benchmark — {} hosts, latency {LATENCY}", s["hosts"]);
    println!("machine: {}\n", s["machine"].as_str().unwrap_or("?"));
    println!("1. Refresh (terraform plan -refresh-only), median of {RUNS} runs");
    println!(
        "{:>5} {:>9} {:>8} {:>10} {:>9} {:>12} {:>11} {:>9} {:>10}",
        "N", "floor s", "lws s", "overhead s", "naive s", "speed-up rd", "speed-up pl", "cmds/host", "handshakes"
    );
    for r in s["refresh"].as_array().into_iter().flatten() {
        println!(
            "{:>5} {:>9} {:>8} {:>10} {:>9} {:>11}x {:>10}x {:>9} {:>10}",
            r["n"].to_string(),
            r["floor_s"].to_string(),
            r["lws_s"].to_string(),
            r["overhead_s"].to_string(),
            r["naive_s"].to_string(),
            r["speedup_reads"].to_string(),
            r["speedup_plan"].to_string(),
            r["max_commands_per_host"].to_string(),
            r["handshakes"].to_string()
        );
    }
    println!("   targets at N=500: ≤ 2 commands per host, overhead ≤ 1.5 s, speed-up ≥ 20x");
    println!("   speed-up rd = naive / overhead (the cost of reading the cloud); pl = naive / whole plan");
    let c = &s["create"];
    println!(
        "\n2. Create {CREATE_SIZE} running containers over 3 hosts (apply -parallelism=30); Terraform's own floor \
         (terraform_data) {} s",
        c["terraform_data_floor_s"]
    );
    for server in ["embedded", "openssh"] {
        let r = &c[server];
        println!(
            "   {server:<8} wall {} s; simulated work {} s, ratio {} (target ≤ 1.3); measured command time / {SESSIONS} \
             channels {} s; CPU busy {}%",
            r["wall_s"], r["simulated_work_s"], r["ratio"], r["measured_work_s"], r["cpu_busy_percent"]
        );
        for h in r["per_host"].as_array().into_iter().flatten() {
            println!(
                "     {}: {} containers, {} ssh commands ({} s, at most {} at once), tools {}",
                h["host"].as_str().unwrap_or("?"),
                h["containers"],
                h["ssh_commands"],
                h["ssh_command_s"],
                h["peak_in_flight"],
                h["tool_runs"]
            );
        }
    }
    let p = &s["process"];
    println!("\n3. Provider process");
    println!(
        "   exec to handshake: median {} ms, max {} ms (TLS cert generation included: {}) (target ≤ 20 ms)",
        p["startup_ms_median"], p["startup_ms_max"], p["startup_tls"]
    );
    println!(
        "   peak RSS refreshing {} containers: {} MiB (target ≤ 40 MB); plan took {} s",
        p["rss_resources"], p["rss_peak_mib"], p["rss_plan_s"]
    );
    println!("   SSH handshakes: {} for {} hosts used (target: equal)", p["handshakes"], p["hosts_used"]);
    println!("\nbench took {} s", s["bench_seconds"]);
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// CPU model, cores and memory, for the record.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|v| v.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:")).map(|v| v.trim().to_owned()))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let terraform = Command::new(common::terraform::default_cli())
        .arg("version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_owned())
        .unwrap_or_default();
    format!("{model}, {cores} cores, {mem_gib:.0} GiB, {terraform}")
}
