//! Hosts that go away and commands that never answer, through the real terraform CLI over both
//! SSH servers (`lws-sim serve --power-switch`, `faults.json` `off`, `hang` and the `nth`/`host`/
//! `stderr` key form): whatever Proxmox made is in state, no unknown reaches Terraform, and
//! once the host is back the next apply converges with nothing orphaned or made twice.

mod common;

use std::collections::BTreeSet;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";
const AZ2: &str = "eu-south-1/az2";

fn container(name: &str, az: &str, extra: &str) -> String {
    format!(
        "resource \"lws_container\" \"{name}\" {{\n  hostname = \"{name}\"\n  az = \"{az}\"\n  template = \"{DEBIAN}\"\n{extra}}}\n"
    )
}

/// VMID → hostname of every container on `hosts`.
fn on_hosts(sim: &Sim, hosts: &[&str]) -> Vec<(String, u64, String)> {
    let mut found = Vec::new();
    for host in hosts {
        for line in sim.ok(host, "pct list").lines().skip(1) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let vmid = words.first().and_then(|w| w.parse().ok()).expect("vmid column");
            found.push(((*host).to_owned(), vmid, words.last().copied().unwrap_or_default().to_owned()));
        }
    }
    found
}

/// `(az, vmid)` of every `lws_container` in state, tainted ones included.
fn in_state(tf: &Workspace) -> BTreeSet<(String, u64)> {
    tf.instances_in_state_file("lws_container")
        .iter()
        .filter_map(|a| Some((a["az"].as_str()?.to_owned(), a["vmid"].as_u64()?)))
        .collect()
}

fn assert_nothing_orphaned(sim: &Sim, tf: &Workspace, hosts: &[&str], context: &str) {
    let tracked = in_state(tf);
    let found = on_hosts(sim, hosts);
    for (host, vmid, hostname) in &found {
        let az = host.rsplit('/').next().unwrap_or_default().to_owned();
        assert!(
            tracked.contains(&(az, *vmid)),
            "{context}: CT {vmid} ({hostname}) on {host} is not in state {tracked:?}"
        );
    }
    let names: BTreeSet<&String> = found.iter().map(|(_, _, h)| h).collect();
    assert_eq!(names.len(), found.len(), "{context}: a hostname exists twice: {found:?}");
}

fn assert_no_provider_bug(all: &str, context: &str) {
    for bug in ["invalid result object", "inconsistent result", "This is a bug in the provider"] {
        assert!(!all.contains(bug), "{context}: {bug}:\n{all}");
    }
}

/// Three creates on az1 and one on az2; az1 is switched off right after its second `pct create`
/// ran (before its exit status left). Whatever az1 made is in state; az2 is untouched by it.
fn a_host_switched_off_mid_create_keeps_what_it_made(server: Server) {
    let sim = Sim::start(server, &[AZ1, AZ2], &["--power-switch"]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let main = format!(
        "{header}{}{}{}{}",
        container("a", "az1", ""),
        container("b", "az1", ""),
        container("c", "az1", ""),
        container("d", "az2", "")
    );
    let tf = Workspace::new(&main);
    sim.arm(r#"{"off": [{"command": "pct create", "nth": 2, "host": "eu-south-1/az1"}]}"#);
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    let context = "az1 switched off after its second pct create";
    assert!(sim.faults_fired(), "{context}: the fault never fired:\n{all}");
    assert!(!out.status.success(), "{context}: the apply cannot succeed:\n{all}");
    assert_no_provider_bug(&all, context);
    assert!(tf.has_resource("lws_container.d"), "{context}: az2's container is in state:\n{all}");

    sim.power(AZ1, "on");
    assert_nothing_orphaned(&sim, &tf, &[AZ1, AZ2], context);
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{context}: the next apply does not converge:\n{stdout}\n{stderr}");
    tf.assert_no_changes();
    assert_nothing_orphaned(&sim, &tf, &[AZ1, AZ2], &format!("{context}, after the next apply"));
    assert_eq!(on_hosts(&sim, &[AZ1, AZ2]).len(), 4, "{:?}", on_hosts(&sim, &[AZ1, AZ2]));
}

#[test]
fn a_host_switched_off_mid_create_keeps_what_it_made_embedded() {
    a_host_switched_off_mid_create_keeps_what_it_made(Server::Embedded);
}

#[test]
fn a_host_switched_off_mid_create_keeps_what_it_made_openssh() {
    a_host_switched_off_mid_create_keeps_what_it_made(Server::OpenSsh);
}

/// A host that is off for a plan is named with its error; switched on, nothing is lost and the
/// plan is empty again (its state survived the outage).
#[test]
fn a_host_that_is_off_fails_the_plan_and_comes_back_with_its_containers() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &["--power-switch"]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}", container("a", "az1", "")));
    tf.apply();
    for switch in ["off", "blackhole"] {
        sim.power(AZ1, switch);
        let out = tf.run(&["plan", "-input=false", "-no-color"]);
        let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
        assert!(!out.status.success(), "{switch}: a plan cannot read a host that is {switch}:\n{all}");
        assert!(all.contains("eu-south-1/az1") && all.contains("cannot connect"), "{switch}:\n{all}");
        assert_no_provider_bug(&all, switch);
        sim.power(AZ1, "on");
        tf.assert_no_changes();
    }
}

/// The Nth command of a kind, on one host, refused with Proxmox's own text: `pct set` on a
/// container a backup holds (pve-guest-common `AbstractConfig.pm` `check_lock`: "CT is locked
/// (backup)") is retried until the lock is gone; the first update is not.
#[test]
fn a_container_locked_for_a_moment_is_updated_after_the_lock_passes() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let both = |memory: u32| {
        let m = format!("  memory = {memory}\n  started = false\n");
        format!("{header}{}{}", container("a", "az1", &m), container("b", "az1", &m))
    };
    let tf = Workspace::new(&both(512));
    tf.apply();
    let pct_sets =
        || sim.log().iter().filter(|e| e["kind"] == "tool" && e["argv"][0] == "pct" && e["argv"][1] == "set").count();
    let before = pct_sets();
    sim.arm(r#"{"fail": [{"command": "pct set", "nth": 2, "host": "eu-south-1/az1", "stderr": "CT is locked (backup)", "exit": 255}]}"#);
    tf.write(&both(1024));
    tf.apply();
    assert!(sim.faults_fired(), "the second pct set was refused once");
    assert_eq!(pct_sets() - before, 3, "two updates, one of them retried");
    tf.assert_no_changes();
    for ct in on_hosts(&sim, &[AZ1]) {
        assert!(sim.ok(AZ1, &format!("pct config {}", ct.1)).contains("memory: 1024\n"), "{ct:?}");
    }
}

/// A command that never answers: the update's timeout ends the apply with an error naming it;
/// the container stays in state with what is known, and the next apply converges.
fn a_hung_update_times_out_and_the_next_apply_converges(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web = |memory: u32| {
        let extra = format!("  memory = {memory}\n  started = false\n  timeouts {{\n    update = \"5s\"\n  }}\n");
        format!("{header}{}", container("web", "az1", &extra))
    };
    let tf = Workspace::new(&web(512));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    sim.arm(r#"{"hang": ["pct set"]}"#);
    tf.write(&web(1024));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(sim.faults_fired(), "the fault never fired:\n{all}");
    assert!(!out.status.success(), "a hung update cannot succeed:\n{all}");
    assert!(all.contains("`pct set") && all.contains("did not finish within"), "the error names the command:\n{all}");
    assert_no_provider_bug(&all, "hung pct set");
    assert_eq!(tf.resource("lws_container.web")["vmid"].as_u64(), Some(vmid), "still in state");

    tf.apply();
    tf.assert_no_changes();
    assert_nothing_orphaned(&sim, &tf, &[AZ1], "after a hung update");
    assert!(sim.ok(AZ1, &format!("pct config {vmid}")).contains("memory: 1024\n"));
}

#[test]
fn a_hung_update_times_out_and_the_next_apply_converges_embedded() {
    a_hung_update_times_out_and_the_next_apply_converges(Server::Embedded);
}

#[test]
fn a_hung_update_times_out_and_the_next_apply_converges_openssh() {
    a_hung_update_times_out_and_the_next_apply_converges(Server::OpenSsh);
}

/// A node whose cluster lost quorum keeps answering, but pmxcfs refuses writes under /etc/pve: a
/// `pct set` meanwhile fails on the config's temp file (pve-common `file_set_contents`,
/// "Permission denied"). The provider retries it as a passing condition, so the change lands
/// once the other node is back; when quorum does not come back within the update's timeout, the
/// error says why and the next apply converges.
fn a_change_made_without_quorum_waits_for_it(server: Server) {
    let sim = Sim::start(server, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web = |memory: u32, timeout: &str| {
        let extra =
            format!("  memory = {memory}\n  started = false\n  timeouts {{\n    update = \"{timeout}\"\n  }}\n");
        format!("{header}{}", container("web", "az1", &extra))
    };
    let tf = Workspace::new(&web(512, "60s"));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    let pct_sets =
        || sim.log().iter().filter(|e| e["kind"] == "tool" && e["argv"][0] == "pct" && e["argv"][1] == "set").count();

    sim.membership(AZ2, "offline");
    let status = sim.ssh(AZ1, "pvecm status");
    assert_eq!(status.status.code(), Some(2), "pvecm status exits 2 without quorum");
    assert!(text(&status).0.contains("Quorate:          No"), "{status:?}");
    let out = sim.ssh(AZ1, &format!("pct set {vmid} --memory 600"));
    let refused = text(&out).1;
    assert!(
        refused.contains(&format!("unable to open file '/etc/pve/nodes/az1/lxc/{vmid}.conf.tmp."))
            && refused.contains("' - Permission denied"),
        "{refused}"
    );
    let before = pct_sets();
    tf.write(&web(1024, "60s"));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(std::time::Duration::from_secs(3));
            sim.membership(AZ2, "online");
        });
        tf.apply();
    });
    assert!(pct_sets() - before >= 2, "the refused pct set was tried again");
    assert!(sim.ok(AZ1, &format!("pct config {vmid}")).contains("memory: 1024\n"));
    tf.assert_no_changes();

    sim.membership(AZ2, "offline");
    tf.write(&web(768, "3s"));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("Permission denied") && all.contains("while the node has no quorum"), "{all}");
    sim.membership(AZ2, "online");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, &format!("pct config {vmid}")).contains("memory: 768\n"));
}

#[test]
fn a_change_made_without_quorum_waits_for_it_embedded() {
    a_change_made_without_quorum_waits_for_it(Server::Embedded);
}

#[test]
fn a_change_made_without_quorum_waits_for_it_openssh() {
    a_change_made_without_quorum_waits_for_it(Server::OpenSsh);
}
