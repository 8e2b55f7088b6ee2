//! `lws_container` beyond the basics, through the real terraform CLI: replacements that name
//! their cause, migration within a cluster, clones, imports of containers made outside
//! Terraform, failures half-way, locked containers, networks, SSH keys, sudo.

mod common;

use std::thread;
use std::time::Duration;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";
const AZ2: &str = "eu-south-1/az2";
const AZ3: &str = "eu-south-1/az3";
const UBUNTU: &str = "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst";

fn resource(name: &str, body: &str) -> String {
    format!("resource \"lws_container\" \"{name}\" {{\n{body}\n}}\n")
}

fn vmid_of(tf: &Workspace, address: &str) -> u64 {
    tf.resource(address)["vmid"].as_u64().expect("vmid")
}

#[test]
fn changes_that_cannot_be_made_in_place_name_the_attribute_that_forces_replacement() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let base = |template: &str, extra: &str| {
        resource("web", &format!("  hostname = \"web\"\n  template = \"{template}\"\n  disk_size = 10\n{extra}"))
    };
    let tf = Workspace::new(&format!("{header}{}", base(DEBIAN, "")));
    tf.apply();
    tf.assert_no_changes();
    let vmid = vmid_of(&tf, "lws_container.web");

    for (change, attribute) in [
        (base(UBUNTU, ""), "template"),
        (base(DEBIAN, "  storage = \"local\"\n"), "storage"),
        (base(DEBIAN, "  unprivileged = false\n"), "unprivileged"),
        (base(DEBIAN, "").replace("disk_size = 10", "disk_size = 4"), "disk_size"),
    ] {
        tf.write(&format!("{header}{change}"));
        let (code, plan) = tf.plan();
        assert_eq!(code, 2);
        let line = plan.lines().find(|l| l.contains("# forces replacement")).unwrap_or_default();
        assert!(line.contains(attribute), "the plan must say {attribute} forces the replacement:\n{plan}");
        assert!(plan.contains("must be replaced"), "{plan}");
    }

    // Growing the disk is in place.
    tf.write(&format!("{header}{}", base(DEBIAN, "").replace("disk_size = 10", "disk_size = 16")));
    let (_, plan) = tf.plan();
    assert!(plan.contains("update in-place") && !plan.contains("forces replacement"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, &format!("pct config {vmid}")).contains("size=16G"));

    // A real replacement: a new template.
    tf.write(&format!("{header}{}", base(UBUNTU, "").replace("disk_size = 10", "disk_size = 16")));
    tf.apply();
    tf.assert_no_changes();
    let config = sim.ok(AZ1, &format!("pct config {}", vmid_of(&tf, "lws_container.web")));
    assert!(config.contains("ostype: ubuntu"), "{config}");
    assert_eq!(sim.ok(AZ1, "pct list").lines().count(), 2, "header and one container: the old one is gone");
}

#[test]
fn changing_az_migrates_within_a_cluster_and_replaces_across_clusters() {
    let sim = Sim::start(Server::Embedded, &[AZ1, AZ2, "eu-south-1/az3@other"], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let with_az =
        |az: &str| resource("web", &format!("  az = \"{az}\"\n  hostname = \"web\"\n  template = \"{DEBIAN}\""));
    let tf = Workspace::new(&format!("{header}{}", with_az("az1")));
    tf.apply();
    let vmid = vmid_of(&tf, "lws_container.web");
    let mac = tf.resource("lws_container.web")["mac_address"].clone();

    tf.write(&format!("{header}{}", with_az("az2")));
    let (_, plan) = tf.plan();
    assert!(plan.contains("update in-place") && !plan.contains("forces replacement"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    let web = tf.resource("lws_container.web");
    assert_eq!(
        (web["node"].as_str(), web["vmid"].as_u64(), web["status"].as_str()),
        (Some("az2"), Some(vmid), Some("running"))
    );
    assert_eq!(web["mac_address"], mac, "a migration keeps the container, so its MAC");
    assert!(sim.ok(AZ2, "pct list").contains("web") && sim.ok(AZ1, "pct list").is_empty());

    tf.write(&format!("{header}{}", with_az("az3")));
    let (_, plan) = tf.plan();
    let line = plan.lines().find(|l| l.contains("# forces replacement")).unwrap_or_default();
    assert!(line.contains("az"), "another cluster means a new container:\n{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ3, "pct list").contains("web") && sim.ok(AZ2, "pct list").is_empty());
}

#[test]
fn clones_and_imports_of_containers_made_elsewhere() {
    let sim = Sim::start(Server::OpenSsh, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    // Made outside Terraform, with the LWS tool or the Proxmox UI.
    sim.ok(AZ1, &format!("pct create 200 {DEBIAN} --hostname legacy --memory 1024 --rootfs local-lvm:8 --net0 name=eth0,bridge=vmbr0,ip=dhcp --unprivileged 1 --start 1"));
    let config = format!(
        "{header}{}{}import {{\n  to = lws_container.legacy\n  id = \"200\"\n}}\n",
        resource(
            "golden",
            &format!("  hostname = \"golden\"\n  template = \"{DEBIAN}\"\n  memory = 768\n  started = false")
        ),
        resource("legacy", &format!("  hostname = \"legacy\"\n  template = \"{DEBIAN}\"\n  memory = 1024")),
    );
    let tf = Workspace::new(&config);
    let (_, plan) = tf.plan();
    assert!(plan.contains("1 to import") && !plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(tf.resource("lws_container.legacy")["id"], "eu-south-1/az1/200", "a bare VMID finds its zone");

    let clone = resource(
        "copy",
        "  hostname = \"copy\"\n  clone_from = lws_container.golden.id\n  memory = 2048\n  tags = [\"clone\"]",
    );
    tf.write(&format!("{config}{clone}"));
    tf.apply();
    tf.assert_no_changes();
    let copy = vmid_of(&tf, "lws_container.copy");
    let copied = sim.ok(AZ1, &format!("pct config {copy}"));
    assert!(
        copied.contains("hostname: copy\n") && copied.contains("memory: 2048\n") && copied.contains("tags: clone\n"),
        "{copied}"
    );
    assert_eq!(sim.ok(AZ1, &format!("pct status {copy}")), "status: running\n");
}

/// `pct create --start 1` whose start fails still exits 0 (the start is a task of its own);
/// the container is kept in state, reported, and replaced — over both SSH servers.
fn a_container_that_fails_after_creation(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let with_bridge = |bridge: &str| {
        resource(
            "web",
            &format!("  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  network = [{{ bridge = \"{bridge}\" }}]"),
        )
    };
    // vmbr9 does not exist: pct create succeeds, pct start fails.
    let tf = Workspace::new(&format!("{header}{}", with_bridge("vmbr9")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(squash(&format!("{stdout}{stderr}")).contains("bridge 'vmbr9' does not exist"), "{stdout}{stderr}");
    assert!(tf.has_resource("lws_container.web"), "the half-made container is in state, not orphaned");
    let first = vmid_of(&tf, "lws_container.web");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("tainted, so must be replaced"), "{plan}");

    tf.write(&format!("{header}{}", with_bridge("vmbr0")));
    tf.apply();
    tf.assert_no_changes();
    let list = sim.ok(AZ1, "pct list");
    assert_eq!(list.lines().count(), 2, "only the replacement is left:\n{list}");
    assert!(!list.contains(&format!("\n{first} ")) || vmid_of(&tf, "lws_container.web") == first);

    // A create that fails before anything exists leaves nothing behind (`web`, no longer in
    // the configuration, is destroyed by the same apply).
    tf.write(&format!("{header}{}", resource("broken", "  template = \"local:vztmpl/missing.tar.zst\"")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let (stdout, stderr) = text(&out);
    assert!(
        squash(&format!("{stdout}{stderr}")).contains("volume 'local:vztmpl/missing.tar.zst' does not exist"),
        "{stdout}{stderr}"
    );
    assert!(!tf.has_resource("lws_container.broken"));
    assert_eq!(sim.ok(AZ1, "pct list"), "", "no container at all: nothing orphaned");
}

#[test]
fn a_container_that_fails_after_creation_is_kept_in_state_and_replaced_embedded() {
    a_container_that_fails_after_creation(Server::Embedded);
}

#[test]
fn a_container_that_fails_after_creation_is_kept_in_state_and_replaced_openssh() {
    a_container_that_fails_after_creation(Server::OpenSsh);
}

#[test]
fn locked_containers_are_retried_until_the_timeout() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web = |memory: u32, timeout: &str| {
        resource("web", &format!("  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  memory = {memory}\n  timeouts {{\n    update = \"{timeout}\"\n    delete = \"{timeout}\"\n  }}"))
    };
    let tf = Workspace::new(&format!("{header}{}", web(512, "2m")));
    tf.apply();
    let vmid = vmid_of(&tf, "lws_container.web");

    // A backup holds the container; it ends while the apply waits.
    sim.ok(AZ1, &format!("pct set {vmid} --lock backup"));
    tf.write(&format!("{header}{}", web(1024, "2m")));
    let out = thread::scope(|scope| {
        let apply = scope.spawn(|| tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]));
        thread::sleep(Duration::from_secs(3));
        sim.ok(AZ1, &format!("pct unlock {vmid}"));
        apply.join().expect("apply thread")
    });
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(sim.ok(AZ1, &format!("pct config {vmid}")).contains("memory: 1024\n"));
    tf.assert_no_changes();

    // A lock that outlasts the timeout fails with the reason.
    sim.ok(AZ1, &format!("pct set {vmid} --lock backup"));
    tf.write(&format!("{header}{}", web(2048, "3s")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let (stdout, stderr) = text(&out);
    assert!(squash(&format!("{stdout}{stderr}")).contains("CT is locked (backup)"), "{stdout}{stderr}");
    // A failed delete keeps the container in state.
    let out = tf.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    assert!(tf.has_resource("lws_container.web"), "a container that could not be deleted stays managed");
    sim.ok(AZ1, &format!("pct unlock {vmid}"));
    tf.destroy();
    assert_eq!(sim.ok(AZ1, "pct list"), "");
}

#[test]
fn networks_keys_descriptions_and_features_update_in_place() {
    let sim = Sim::start(Server::OpenSsh, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let key1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHVzZXJvbmVrZXlvbmVrZXlvbmVrZXlvbmVrZXlvbmU user1";
    let key2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHVzZXJ0d29rZXl0d29rZXl0d29rZXl0d29rZXl0d28 user2";
    let first = resource(
        "web",
        &format!(
            "  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  ssh_public_keys = \"{key1}\"\n  description = <<-EOT\n    Web server.\n    Managed by Terraform.\n  EOT\n  network = [{{ name = \"eth0\", ip = \"dhcp\" }}]"
        ),
    );
    let tf = Workspace::new(&format!("{header}{first}"));
    tf.apply();
    tf.assert_no_changes();
    let vmid = vmid_of(&tf, "lws_container.web");
    let mac = tf.resource("lws_container.web")["network"][0]["mac_address"].clone();
    assert_eq!(sim.ok(AZ1, &format!("pct exec {vmid} -- cat /root/.ssh/authorized_keys")), format!("{key1}\n"));

    let second = resource(
        "web",
        &format!(
            "  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  ssh_public_keys = \"{key2}\"\n  description = \"Web server: 50%41 up.\"\n  features = {{ nesting = true }}\n  network = [\n    {{ name = \"eth0\", ip = \"10.0.0.9/24\", gateway = \"10.0.0.1\" }},\n    {{ name = \"eth1\", bridge = \"vmbr1\", vlan = 30 }},\n  ]"
        ),
    );
    tf.write(&format!("{header}{second}"));
    let (_, plan) = tf.plan();
    assert!(!plan.contains("forces replacement"), "{plan}");
    let out = tf.apply();
    assert!(out.contains("Warning: change applies at the next start") && out.contains("features"), "{out}");
    tf.assert_no_changes();
    let web = tf.resource("lws_container.web");
    assert_eq!(web["network"][0]["mac_address"], mac, "eth0 keeps its MAC");
    assert_eq!(web["ipv4_address"], "10.0.0.9");
    assert!(web["network"][1]["mac_address"].as_str().is_some_and(|m| m.starts_with("BC:24:11:")));
    let config = sim.ok(AZ1, &format!("pct config {vmid}"));
    assert!(config.contains("net1: name=eth1,bridge=vmbr1,") && config.contains("tag=30"), "{config}");
    assert!(config.contains("features: nesting=1\n"), "{config}");
    // pve-common `encode_text` escapes `%` (since 8.2.2): `%41` is stored `%2541` and reads back;
    // `pct config` prints the description encoded again (pve-container `CLI/pct.pm` `config`).
    assert!(config.contains("description: Web server%3A 50%2541 up.%0A\n"), "{config}");
    assert_eq!(web["description"], "Web server: 50%41 up.");
    assert_eq!(sim.ok(AZ1, &format!("pct exec {vmid} -- cat /root/.ssh/authorized_keys")), format!("{key2}\n"));
}

#[test]
fn a_non_root_user_works_through_sudo_and_a_password_prompt_is_a_clear_error() {
    for (mode, works) in [("nopasswd", true), ("password", false)] {
        let sim = Sim::start(Server::Embedded, &[AZ1], &["--user", "deploy", "--sudo", mode]);
        let config = sim.config_file();
        let yaml = std::fs::read_to_string(&config)
            .expect("config")
            .replace("user: deploy", "user: deploy\n        sudo: true");
        std::fs::write(&config, yaml).expect("config");
        let header = provider_block(&config, "eu-south-1");
        let tf = Workspace::new(&format!("{header}{}", resource("web", &format!("  template = \"{DEBIAN}\""))));
        let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        let (stdout, stderr) = text(&out);
        if works {
            assert!(out.status.success(), "{stdout}{stderr}");
            let logged = sim
                .log()
                .iter()
                .any(|e| e["kind"] == "ssh" && e["command"].as_str().is_some_and(|c| c.starts_with("sudo -n sh -c")));
            assert!(logged, "commands ran through sudo -n");
        } else {
            assert!(!out.status.success());
            let all = squash(&format!("{stdout}{stderr}"));
            assert!(all.contains("sudo: a password is required") && all.contains("password-less sudo"), "{all}");
        }
    }
}

/// A container destroyed and created again outside Terraform under the same VMID is someone
/// else's: every MAC address changed (Proxmox draws new ones for a new container). It is never
/// adopted, updated or destroyed: Terraform is told, forgets it and creates its own.
#[test]
fn a_container_recreated_under_the_same_vmid_is_not_adopted() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web =
        |memory: u32| resource("web", &format!("  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  memory = {memory}"));
    let tf = Workspace::new(&format!("{header}{}", web(512)));
    tf.apply();
    let vmid = vmid_of(&tf, "lws_container.web");

    sim.ok(AZ1, &format!("pct stop {vmid} && pct destroy {vmid}"));
    sim.ok(
        AZ1,
        &format!("pct create {vmid} {DEBIAN} --hostname intruder --memory 256 --rootfs local-lvm:4 --net0 name=eth0,bridge=vmbr0,ip=dhcp"),
    );
    tf.write(&format!("{header}{}", web(1024)));
    let (code, plan) = tf.plan();
    let said = squash(&plan);
    assert_eq!(code, 2, "{plan}");
    assert!(said.contains(&format!("container eu-south-1/az1/{vmid} is not the one Terraform created")), "{said}");
    assert!(said.contains("every MAC address Terraform knew changed") && said.contains("will be created"), "{said}");

    tf.apply();
    tf.assert_no_changes();
    assert_ne!(vmid_of(&tf, "lws_container.web"), vmid, "a container of its own");
    let intruder = sim.ok(AZ1, &format!("pct config {vmid}"));
    assert!(intruder.contains("hostname: intruder\n") && intruder.contains("memory: 256\n"), "untouched:\n{intruder}");
    tf.destroy();
    assert!(sim.ok(AZ1, "pct list").contains("intruder"), "never destroyed as ours");
}
