//! Faults injected into the simulator (`<state>/faults.json`) through the real terraform CLI:
//! whatever fails after Proxmox has a VMID, the container is in state (tainted), no unknown value
//! reaches Terraform, and the next apply converges to an empty plan with nothing orphaned.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

fn arm(sim: &Sim, faults: &str) {
    std::fs::write(sim.state().join("faults.json"), faults).expect("faults.json");
}

fn a_failed_read_back_keeps_the_container(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web = format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  started = false\n}}\n");
    let tf = Workspace::new(&format!("{header}{web}"));
    arm(&sim, r#"{"fail": ["lxc-info"]}"#);
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("was created, but reading it back failed") && all.contains("injected failure"), "{all}");
    assert!(!all.contains("invalid result object") && !all.contains("inconsistent result"), "{all}");
    assert!(tf.has_resource("lws_container.web"), "the container is in state");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("is tainted, so must be replaced"), "{plan}");

    tf.apply();
    tf.assert_no_changes();
    let list = sim.ok(AZ1, "pct list");
    assert_eq!(list.lines().count(), 2, "only the replacement, nothing orphaned:\n{list}");
}

#[test]
fn a_failed_read_back_after_create_keeps_the_container_embedded() {
    a_failed_read_back_keeps_the_container(Server::Embedded);
}

#[test]
fn a_failed_read_back_after_create_keeps_the_container_openssh() {
    a_failed_read_back_keeps_the_container(Server::OpenSsh);
}

/// A host slower than the create timeout: `pct create` goes on (or dies midway) after the
/// provider gave up. The VMID is kept in state (tainted), so the next apply finds whatever the
/// host made and replaces it; at the end there is exactly one container, the one in state.
fn a_create_that_times_out_is_never_orphaned_or_made_twice(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web = |timeout: &str| {
        format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  timeouts {{\n    create = \"{timeout}\"\n  }}\n}}\n")
    };
    let tf = Workspace::new(&format!("{header}{}", web("2s")));
    arm(&sim, r#"{"slow": ["pct create"]}"#);
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("did not finish within"), "{all}");
    assert!(!all.contains("invalid result object") && !all.contains("inconsistent result"), "{all}");
    assert!(tf.has_resource("lws_container.web"), "the VMID handed to Proxmox is in state");
    // Whatever the slow task leaves behind (a container, or one locked `create`), it shows up.
    std::thread::sleep(std::time::Duration::from_secs(6));

    tf.write(&format!("{header}{}", web("5m")));
    tf.apply();
    tf.assert_no_changes();
    let list = sim.ok(AZ1, "pct list");
    assert_eq!(list.lines().count(), 2, "one container, the one in state:\n{list}");
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    assert!(list.contains(&format!("{vmid} ")), "{list}");
}

#[test]
fn a_create_that_times_out_is_never_orphaned_or_made_twice_embedded() {
    a_create_that_times_out_is_never_orphaned_or_made_twice(Server::Embedded);
}

#[test]
fn a_create_that_times_out_is_never_orphaned_or_made_twice_openssh() {
    a_create_that_times_out_is_never_orphaned_or_made_twice(Server::OpenSsh);
}

/// A host that accepts TCP and never answers is paid for once per run: after the first
/// resource's connection attempts fail, every other resource on it fails at once with that
/// error. Counted in connections the black hole accepted, not in seconds.
#[test]
fn a_dead_host_is_tried_once_per_run() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("port").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream); // never answered, never closed
        }
    });
    let mut main = format!(
        "terraform {{\n  required_providers {{\n    lws = {{ source = \"lws/lws\" }}\n  }}\n}}\n\
         provider \"lws\" {{\n  region = \"void\"\n  regions = {{ void = {{ availability_zones = {{ az1 = {{ host = \"127.0.0.1\", port = {port}, ssh_password = \"unused-pw\", host_key = \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }} }} }} }}\n  \
         ssh = {{ connect_timeout = \"1s\", retries = 1 }}\n}}\n"
    );
    for name in ["a", "b", "c", "d"] {
        main.push_str(&format!(
            "resource \"lws_container\" \"{name}\" {{\n  hostname = \"{name}\"\n  template = \"{DEBIAN}\"\n}}\n"
        ));
    }
    let tf = Workspace::new(&main);
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=4"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("cannot connect") && all.contains("not tried again"), "{all}");
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "one resource's two attempts, then none: {all}");
}
