//! Reaching hosts the way operators and pipelines do: credentials and host keys from CI
//! variables with nothing on disk.

mod common;

use common::sim::{handshakes, squash, text, ScratchDir, Server, Sim};
use common::terraform::{Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

/// A provider block naming the host only: no credentials, no pin, no agent.
fn bare_provider(sim: &Sim) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    lws = {{ source = \"lws/lws\" }}\n  }}\n}}\n\
         provider \"lws\" {{\n  region = \"eu-south-1\"\n  regions = {{ \"eu-south-1\" = {{ availability_zones = {{ az1 = {{ host = \"127.0.0.1\", port = {} }} }} }} }}\n  \
         ssh = {{ agent = false }}\n}}\n",
        sim.port(AZ1)
    )
}

fn ci_variables_authenticate_and_verify_with_no_file(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let key = std::fs::read_to_string(sim.state().join("keys/client_ed25519")).expect("client key");
    let known_hosts = std::fs::read_to_string(sim.state().join("known_hosts")).expect("known_hosts");
    let home = ScratchDir::new("home"); // no ~/.ssh at all
    let web = format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n}}\n");
    let mut tf = Workspace::new(&format!("{}{web}", bare_provider(&sim)));
    tf.set_env("HOME", &home.path.display().to_string());
    tf.set_env("LWS_SSH_PRIVATE_KEY", &key);
    tf.set_env("LWS_SSH_KNOWN_HOSTS", &known_hosts);
    tf.apply();
    tf.assert_no_changes();

    // Known hosts that list another key for the host: refused, naming the host.
    let other = known_hosts
        .lines()
        .map(|l| match l.rsplit_once(' ') {
            Some((head, _)) => format!("{head} AAAAC3NzaC1lZDI1NTE5AAAAIBadKeyBadKeyBadKeyBadKeyBadKeyBadKeyBadKeyB"),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    tf.set_env("LWS_SSH_KNOWN_HOSTS", &other);
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("refusing to connect") || all.contains("host key"), "{all}");
    assert!(!all.contains("BEGIN OPENSSH PRIVATE KEY"), "the key never shows");
}

#[test]
fn ci_variables_authenticate_and_verify_with_no_file_embedded() {
    ci_variables_authenticate_and_verify_with_no_file(Server::Embedded);
}

#[test]
fn ci_variables_authenticate_and_verify_with_no_file_openssh() {
    ci_variables_authenticate_and_verify_with_no_file(Server::OpenSsh);
}

/// A zone whose `host` is only a `Host` alias in an ssh_config file: address, port, user, key
/// and known hosts all come from there.
#[test]
fn a_host_named_only_by_an_ssh_config_alias() {
    let sim = Sim::start(Server::OpenSsh, &[AZ1], &[]);
    let dir = ScratchDir::new("ssh-config");
    let state = sim.state();
    let config = dir.path.join("config");
    std::fs::write(
        &config,
        format!(
            "Host pve-east\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n  UserKnownHostsFile {}\n\nHost *\n  User nobody\n",
            sim.port(AZ1),
            state.join("keys/client_ed25519").display(),
            state.join("known_hosts").display()
        ),
    )
    .expect("ssh config");
    let main = format!(
        "terraform {{\n  required_providers {{\n    lws = {{ source = \"lws/lws\" }}\n  }}\n}}\n\
         provider \"lws\" {{\n  region = \"eu-south-1\"\n  regions = {{ \"eu-south-1\" = {{ availability_zones = {{ az1 = {{ host = \"pve-east\" }} }} }} }}\n  \
         ssh = {{\n    agent = false\n    config_file = \"{}\"\n  }}\n}}\n\
         resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n}}\n",
        config.display()
    );
    let tf = Workspace::new(&main);
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, "pct list").contains("web"));
}

const BASTION: &str = "edge/b1";

/// The provider block over the simulator's LWS file, with az1 reached through the bastion.
fn through_bastion(sim: &Sim, jump: &str, known_hosts: &std::path::Path) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    lws = {{ source = \"lws/lws\" }}\n  }}\n}}\n\
         provider \"lws\" {{\n  config_file = \"{}\"\n  region = \"eu-south-1\"\n  \
         regions = {{ \"eu-south-1\" = {{ availability_zones = {{ az1 = {{ {jump} }} }} }} }}\n  \
         ssh = {{\n    config_file = \"\"\n    known_hosts_file = \"{}\"\n  }}\n}}\n\
         resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  az = \"az1\"\n  template = \"{DEBIAN}\"\n}}\n",
        sim.config_file().display(),
        known_hosts.display()
    )
}

/// Every connection az1 received since `from` (an index into the log) came through the bastion:
/// the bastion's log shows as many forwards to az1 as az1 saw connections.
fn assert_path_through_bastion(sim: &Sim, from: usize) -> usize {
    let az1_port = sim.port(AZ1);
    let log = sim.log();
    let log = &log[from.min(log.len())..];
    let connects = handshakes(log, AZ1);
    assert!(connects >= 1, "az1 was reached");
    let forwards = match sim.server {
        Server::Embedded => log
            .iter()
            .filter(|e| e["kind"] == "forward" && e["host"] == BASTION)
            .filter(|e| e["detail"] == format!("127.0.0.1:{az1_port}"))
            .count(),
        Server::OpenSsh => {
            let sshd_log = std::fs::read_to_string(sim.state().join("openssh/edge_b1/sshd.log")).expect("bastion log");
            sshd_log.matches(&format!("target 127.0.0.1 port {az1_port}")).count()
        }
    };
    assert_eq!(forwards, connects, "every connection to az1 went through the bastion");
    connects
}

fn a_host_behind_a_bastion(server: Server) {
    let sim = Sim::start(server, &[AZ1, BASTION], &[]);
    let start = sim.log().len();
    let known_hosts = sim.state().join("known_hosts");
    let jump = format!("jump = \"root@127.0.0.1:{}\"", sim.port(BASTION));
    let tf = Workspace::new(&through_bastion(&sim, &jump, &known_hosts));
    tf.apply();
    tf.assert_no_changes();
    assert_path_through_bastion(&sim, start);

    // ProxyJump from an ssh_config alias does the same.
    let dir = ScratchDir::new("ssh-config");
    let config = dir.path.join("config");
    std::fs::write(
        &config,
        format!(
            "Host pve-behind\n  HostName 127.0.0.1\n  Port {}\n  ProxyJump root@127.0.0.1:{}\n",
            sim.port(AZ1),
            sim.port(BASTION)
        ),
    )
    .expect("ssh config");
    let main = through_bastion(&sim, "host = \"pve-behind\"", &known_hosts)
        .replace("config_file = \"\"", &format!("config_file = \"{}\"", config.display()));
    tf.write(&main);
    tf.assert_no_changes();
    assert_path_through_bastion(&sim, start);

    // A bastion whose key does not match is refused, and the message names it.
    let wrong = dir.path.join("known_hosts");
    let bastion_line = format!("[127.0.0.1]:{}", sim.port(BASTION));
    let listed = std::fs::read_to_string(&known_hosts).expect("known_hosts");
    let az1_key = listed.lines().find(|l| l.starts_with(&format!("[127.0.0.1]:{} ", sim.port(AZ1)))).expect("az1 line");
    let key_of_az1 = az1_key.split_once(' ').map(|(_, k)| k).unwrap_or_default();
    let swapped: String = listed
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{bastion_line} ")) {
                format!("{bastion_line} {key_of_az1}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&wrong, format!("{swapped}\n")).expect("wrong known_hosts");
    tf.write(&through_bastion(&sim, &jump, &wrong));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains(&format!("through the bastion bastion root@127.0.0.1:{}", sim.port(BASTION))), "{all}");
    assert!(all.contains("host key"), "{all}");
}

#[test]
fn a_host_behind_a_bastion_embedded() {
    a_host_behind_a_bastion(Server::Embedded);
}

#[test]
fn a_host_behind_a_bastion_openssh() {
    a_host_behind_a_bastion(Server::OpenSsh);
}

/// Host-key checking turned off is said on every run, naming the hosts; a pin stays enforced.
#[test]
fn unchecked_host_keys_are_warned_about() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let key = std::fs::read_to_string(sim.state().join("keys/client_ed25519")).expect("client key");
    let main = bare_provider(&sim)
        .replace("ssh = { agent = false }", "ssh = {\n    agent = false\n    strict_host_key_checking = false\n  }")
        + "data \"lws_hosts\" \"all\" {}\n";
    let mut tf = Workspace::new(&main);
    tf.set_env("LWS_SSH_PRIVATE_KEY", &key);
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(out.status.success(), "{all}");
    assert!(all.contains("host keys are not verified for"), "{all}");
}
