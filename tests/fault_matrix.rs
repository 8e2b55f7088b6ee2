//! Faults at every step of an apply, through the real terraform CLI over both SSH servers: for
//! each step (create, update, start, migrate, clone, snapshot, security group, app, destroy), the
//! step's command fails (`faults.json` `fail`), runs while its SSH connection is dropped before
//! the exit status comes back (`drop`: the provider cannot know whether it ran), or runs and its
//! host is switched off before the exit status comes back (`off`: nothing more reaches that host
//! in this apply; the test switches it on again before the next), or never answers (`hang`: the
//! operation's timeout, bounded to [`HANG_TIMEOUT`] here, ends it). Afterwards:
//! - every container on every simulated host is in Terraform's state (tainted or not), and no
//!   hostname exists twice;
//! - Terraform never reports "invalid result object" or "inconsistent result";
//! - the next apply converges and the plan after it is empty, with exactly the configured
//!   containers on the hosts.

mod common;

use std::collections::BTreeSet;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";
const AZ2: &str = "eu-south-1/az2";

/// Every timeout of a `hang` run: the resources' operations and the provider's commands.
const HANG_TIMEOUT: &str = "15s";

/// `config` with every timeout bounded to [`HANG_TIMEOUT`], so a command that never answers ends
/// the apply in seconds: a `timeouts` block in each resource that has one, and the provider's
/// `ssh.command_timeout` in `header`.
fn bounded(header: &str, config: &str) -> (String, String) {
    // The provider block is the header's last.
    let end = header.rfind("\n}\n").unwrap_or(header.len());
    let header = format!("{}\n  ssh = {{ command_timeout = \"{HANG_TIMEOUT}\" }}{}", &header[..end], &header[end..]);
    let mut out = String::new();
    let mut timed = false;
    for line in config.lines() {
        if line.starts_with("resource \"") {
            timed = ["lws_container", "lws_snapshot", "lws_docker_app"].iter().any(|t| line.contains(t));
        }
        if line == "}" && timed {
            out.push_str(&format!(
                "  timeouts {{\n    create = \"{HANG_TIMEOUT}\"\n    update = \"{HANG_TIMEOUT}\"\n    delete = \"{HANG_TIMEOUT}\"\n  }}\n"
            ));
        }
        out.push_str(line);
        out.push('\n');
    }
    (header, out)
}

/// One step: the configuration before it (applied without faults), after it, and the command
/// the fault hits.
struct Step {
    before: String,
    after: String,
    command: &'static str,
}

fn web(extra: &str) -> String {
    let az = if extra.contains("az =") { "" } else { "  az = \"az1\"\n" };
    format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n{az}{extra}}}\n")
}

fn step(name: &str) -> Step {
    let snapshot = "resource \"lws_snapshot\" \"s\" {\n  container_id = lws_container.web.id\n  name = \"before\"\n}\n";
    let group = "resource \"lws_security_group\" \"g\" {\n  name = \"webg\"\n  rule {\n    direction = \"in\"\n    action = \"ACCEPT\"\n    protocol = \"tcp\"\n    dport = \"80\"\n  }\n}\n";
    let app = "resource \"lws_docker_app\" \"a\" {\n  container_id = lws_container.web.id\n  name = \"a\"\n  image = \"nginx:1.25\"\n}\n";
    let copy = "resource \"lws_container\" \"copy\" {\n  hostname = \"copy\"\n  az = \"az1\"\n  clone_from = lws_container.web.id\n}\n";
    match name {
        "create" => Step { before: String::new(), after: web(""), command: "pct create" },
        "update" => Step { before: web(""), after: web("  memory = 768\n"), command: "pct set" },
        "start" => Step { before: web("  started = false\n"), after: web(""), command: "pct start" },
        "migrate" => Step { before: web(""), after: web("  az = \"az2\"\n"), command: "pct migrate" },
        "clone" => Step { before: web(""), after: format!("{}{copy}", web("")), command: "pct clone" },
        "snapshot" => Step { before: web(""), after: format!("{}{snapshot}", web("")), command: "pct snapshot" },
        "group" => Step {
            before: web(""),
            after: format!("{}{group}", web("  security_groups = [lws_security_group.g.name]\n")),
            command: "pvesh create /cluster/firewall/groups",
        },
        "app" => Step { before: web(""), after: format!("{}{app}", web("")), command: "pct exec" },
        "destroy" => Step { before: web(""), after: String::new(), command: "pct destroy" },
        other => panic!("no step {other}"),
    }
}

/// VMIDs and hostnames of every container on both hosts.
fn containers_on_hosts(sim: &Sim) -> Vec<(u64, String)> {
    let mut found = Vec::new();
    for host in [AZ1, AZ2] {
        for line in sim.ok(host, "pct list").lines().skip(1) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let vmid = words.first().and_then(|w| w.parse().ok()).expect("vmid column");
            found.push((vmid, words.last().copied().unwrap_or_default().to_owned()));
        }
    }
    found
}

/// VMIDs of every `lws_container` in the state, tainted ones included.
fn vmids_in_state(tf: &Workspace) -> BTreeSet<u64> {
    tf.instances_in_state_file("lws_container").iter().filter_map(|a| a["vmid"].as_u64()).collect()
}

fn check_nothing_orphaned(sim: &Sim, tf: &Workspace, context: &str) {
    let on_hosts = containers_on_hosts(sim);
    let in_state = vmids_in_state(tf);
    for (vmid, hostname) in &on_hosts {
        assert!(
            in_state.contains(vmid),
            "{context}: CT {vmid} ({hostname}) is on a host but not in state {in_state:?}"
        );
    }
    let names: Vec<&String> = on_hosts.iter().map(|(_, h)| h).collect();
    let unique: BTreeSet<&&String> = names.iter().collect();
    assert_eq!(names.len(), unique.len(), "{context}: a hostname exists twice: {on_hosts:?}");
}

fn fault_at(step_name: &str, fault: &str, server: Server) {
    let sim = Sim::start(server, &[AZ1, AZ2], &["--power-switch"]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let mut step = step(step_name);
    let header = if fault == "hang" {
        let (bounded_header, before) = bounded(&header, &step.before);
        step.before = before;
        step.after = bounded(&header, &step.after).1;
        bounded_header
    } else {
        header
    };
    let tf = Workspace::new(&format!("{header}{}", step.before));
    tf.apply();
    sim.arm(&format!("{{\"{fault}\": [\"{}\"]}}", step.command));
    tf.write(&format!("{header}{}", step.after));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"]);
    let context = format!("{step_name} with {fault} on `{}`", step.command);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(sim.faults_fired(), "{context}: the fault never fired:\n{all}");
    assert!(!out.status.success() || fault == "drop", "{context}: a failed step must fail the apply:\n{all}");
    for bug in ["invalid result object", "inconsistent result", "This is a bug in the provider"] {
        assert!(!all.contains(bug), "{context}: {bug}:\n{all}");
    }
    for host in [AZ1, AZ2] {
        sim.power(host, "on");
    }
    check_nothing_orphaned(&sim, &tf, &context);

    // The next apply converges; the plan after it is empty; exactly the configured containers.
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{context}: the next apply does not converge:\n{stdout}\n{stderr}");
    tf.assert_no_changes();
    check_nothing_orphaned(&sim, &tf, &format!("{context}, after the next apply"));
    let configured = step.after.matches("resource \"lws_container\"").count();
    assert_eq!(containers_on_hosts(&sim).len(), configured, "{context}: {:?}", containers_on_hosts(&sim));
}

macro_rules! fault_matrix {
    ($($test:ident: $step:literal, $server:ident;)*) => {
        $(
            #[test]
            fn $test() {
                fault_at($step, "fail", Server::$server);
                fault_at($step, "drop", Server::$server);
                fault_at($step, "off", Server::$server);
                fault_at($step, "hang", Server::$server);
            }
        )*
    };
}

fault_matrix! {
    create_embedded: "create", Embedded;
    create_openssh: "create", OpenSsh;
    update_embedded: "update", Embedded;
    update_openssh: "update", OpenSsh;
    start_embedded: "start", Embedded;
    start_openssh: "start", OpenSsh;
    migrate_embedded: "migrate", Embedded;
    migrate_openssh: "migrate", OpenSsh;
    clone_embedded: "clone", Embedded;
    clone_openssh: "clone", OpenSsh;
    snapshot_embedded: "snapshot", Embedded;
    snapshot_openssh: "snapshot", OpenSsh;
    group_embedded: "group", Embedded;
    group_openssh: "group", OpenSsh;
    app_embedded: "app", Embedded;
    app_openssh: "app", OpenSsh;
    destroy_embedded: "destroy", Embedded;
    destroy_openssh: "destroy", OpenSsh;
}
