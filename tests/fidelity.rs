//! Behaviour taken from Proxmox's and LXC's sources, through the real terraform CLI, over both SSH
//! servers: the simulator now answers as the sources say, and the provider copes.
//! - running state comes from LXC (`lxc-info`/`lxc-ls`), not from `/cluster/resources`, which lags
//!   pvestatd's 10 s updates (and says `unknown` before a new guest's first one);
//! - a running source is cloned through a temporary snapshot (Proxmox refuses a full clone of a
//!   running container without `--snapname`);
//! - firewall macros are matched case-insensitively, ports need a protocol even with a macro, and
//!   a datacenter firewall that is off is a plan-time warning;
//! - snapshots need storage that can take them;
//! - a security group named by `cluster.fw` or a `host.fw` is not deleted.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};
use serde_json::Value;

const AZ1: &str = "eu-south-1/az1";
/// So long that pvestatd never updated anything during a test: `/cluster/resources` says
/// `unknown` for every guest the test makes.
const NO_PVESTATD_UPDATE: [&str; 2] = ["--pvestatd-interval", "1000000000"];

fn container(name: &str, extra: &str) -> String {
    format!("resource \"lws_container\" \"{name}\" {{\n  hostname = \"{name}\"\n  template = \"{DEBIAN}\"\n{extra}}}\n")
}

fn vmid_of(tf: &Workspace, address: &str) -> u64 {
    tf.resource(address)["vmid"].as_u64().expect("vmid")
}

fn cluster_status_of(sim: &Sim, vmid: u64) -> String {
    let json = sim.ok(AZ1, "pvesh get /cluster/resources --type vm --output-format json");
    let entries: Vec<Value> = serde_json::from_str(&json).expect("JSON");
    let entry = entries.iter().find(|e| e["vmid"] == vmid).unwrap_or_else(|| panic!("no {vmid} in {json}"));
    entry["status"].as_str().expect("status").to_owned()
}

fn running_state_comes_from_lxc(server: Server) {
    let sim = Sim::start(server, &[AZ1], &NO_PVESTATD_UPDATE);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}", container("web", "")));
    tf.apply();
    tf.assert_no_changes();
    let vmid = vmid_of(&tf, "lws_container.web");
    assert_eq!(tf.resource("lws_container.web")["status"], "running");
    // LXC's own answer is key/value with two filters; /cluster/resources has not caught up.
    let info = sim.ok(AZ1, &format!("lxc-info -n {vmid} -s -i -H"));
    assert!(info.starts_with("State:          RUNNING\n"), "{info:?}");
    assert_eq!(cluster_status_of(&sim, vmid), "unknown");

    tf.write(&format!("{header}{}", container("web", "  started = false\n")));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(tf.resource("lws_container.web")["status"], "stopped");
    assert_eq!(sim.ok(AZ1, &format!("lxc-info -n {vmid} -s -i -H")), "State:          STOPPED\n");
    assert_eq!(sim.ok(AZ1, "lxc-ls -1 --running"), "");

    tf.write(&format!("{header}{}", container("web", "  started = true\n")));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(sim.ok(AZ1, "lxc-ls -1 --running"), format!("{vmid}\n"));
    tf.destroy();
    assert_eq!(sim.ok(AZ1, "pct list"), "");
}

#[test]
fn running_state_comes_from_lxc_not_the_lagging_cluster_resources_embedded() {
    running_state_comes_from_lxc(Server::Embedded);
}

#[test]
fn running_state_comes_from_lxc_not_the_lagging_cluster_resources_openssh() {
    running_state_comes_from_lxc(Server::OpenSsh);
}

fn running_source_is_cloned_through_a_temporary_snapshot(server: Server) {
    let sim = Sim::start(server, &[AZ1], &NO_PVESTATD_UPDATE);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}", container("source", "")));
    tf.apply();
    let source = vmid_of(&tf, "lws_container.source");
    // What Proxmox says to the direct way.
    let out = sim.ssh(AZ1, &format!("pct clone {source} 990 --full 1"));
    assert!(!out.status.success());
    assert!(text(&out).1.contains("Cannot do full clones on a running container without snapshots"), "{out:?}");

    let copy =
        "resource \"lws_container\" \"copy\" {\n  hostname = \"copy\"\n  clone_from = lws_container.source.id\n}\n";
    tf.write(&format!("{header}{}{copy}", container("source", "")));
    tf.apply();
    tf.assert_no_changes();
    let copy = vmid_of(&tf, "lws_container.copy");
    assert_eq!(sim.ok(AZ1, &format!("pct status {copy}")), "status: running\n");
    assert_eq!(sim.ok(AZ1, &format!("pct status {source}")), "status: running\n");
    let snapshots = sim.ok(AZ1, &format!("pct listsnapshot {source}"));
    assert!(!snapshots.contains("lws-clone"), "the temporary snapshot is gone:\n{snapshots}");
    assert!(!sim.ok(AZ1, &format!("pct config {copy}")).contains("parent:"), "a full clone has no snapshot parent");
}

#[test]
fn a_running_source_is_cloned_through_a_temporary_snapshot_embedded() {
    running_source_is_cloned_through_a_temporary_snapshot(Server::Embedded);
}

#[test]
fn a_running_source_is_cloned_through_a_temporary_snapshot_openssh() {
    running_source_is_cloned_through_a_temporary_snapshot(Server::OpenSsh);
}

fn group(rules: &str) -> String {
    format!("resource \"lws_security_group\" \"web\" {{\n  name = \"web\"\n  description = \"front\"\n{rules}}}\n")
}

fn firewall_rules_follow_verify_rule(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");

    // Unknown macro, and ports without a protocol even with a macro: refused at plan.
    let tf = Workspace::new(&format!(
        "{header}{}",
        group(
            "  rule {\n    direction = \"in\"\n    action = \"ACCEPT\"\n    macro = \"sshh\"\n  }\n\
             \x20 rule {\n    direction = \"in\"\n    action = \"ACCEPT\"\n    macro = \"HTTP\"\n    dport = \"8080\"\n  }\n"
        )
    ));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(all.contains("invalid rule[0].macro") && all.contains("'sshh' is not a Proxmox firewall macro"), "{all}");
    assert!(all.contains("invalid rule[1].dport") && all.contains("ports need a protocol, even with a macro"), "{all}");
    assert_eq!(sim.ok(AZ1, "pvesh get /cluster/firewall/groups --output-format json"), "[]\n");

    // A macro in any case: Proxmox stores its own spelling, the plan stays quiet. The datacenter
    // firewall is off on a new cluster: the plan says so.
    tf.write(&format!(
        "{header}{}",
        group("  rule {\n    direction = \"in\"\n    action = \"ACCEPT\"\n    macro = \"ssh\"\n    comment = \"admin\"\n  }\n")
    ));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(out.status.success(), "{out:?}");
    assert!(squash(&text(&out).0).contains("the datacenter firewall is off"), "{}", text(&out).0);
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("IN SSH(ACCEPT)"));
    assert_eq!(tf.resource("lws_security_group.web")["rule"][0]["macro"], "ssh");

    // With the firewall on, no warning.
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    sim.ok(AZ1, &format!("printf '%s' '[OPTIONS]\n\nenable: 1\n\n{cluster_fw}' > /etc/pve/firewall/cluster.fw"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 0, "{plan}");
    assert!(!plan.contains("firewall is off"), "{plan}");

    // Referenced from the datacenter's own rules: not deleted.
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    let with_reference = cluster_fw.replacen("[group web]", "[RULES]\n\nGROUP web\n\n[group web]", 1);
    sim.ok(AZ1, &format!("printf '%s' '{with_reference}' > /etc/pve/firewall/cluster.fw"));
    tf.write(&header);
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(all.contains("security group 'web' is still used by the datacenter firewall rules"), "{all}");
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("[group web]"));
}

#[test]
fn firewall_rules_follow_proxmox_verify_rule_embedded() {
    firewall_rules_follow_verify_rule(Server::Embedded);
}

#[test]
fn firewall_rules_follow_proxmox_verify_rule_openssh() {
    firewall_rules_follow_verify_rule(Server::OpenSsh);
}

#[test]
fn a_snapshot_on_storage_without_the_feature_fails_clearly_and_leaves_the_container() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    // A directory storage for container volumes: raw files, which cannot be snapshotted.
    sim.ok(
        AZ1,
        "printf '\\ndir: scratch\\n\\tpath /var/lib/scratch\\n\\tcontent rootdir,images\\n' >> /etc/pve/storage.cfg",
    );
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let snapshot = "resource \"lws_snapshot\" \"s\" {\n  container_id = lws_container.web.id\n  name = \"before\"\n}\n";
    let tf = Workspace::new(&format!("{header}{}{snapshot}", container("web", "  storage = \"scratch\"\n")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(all.contains("snapshot feature is not available"), "{all}");
    assert!(tf.has_resource("lws_container.web") && !tf.has_resource("lws_snapshot.s"));
    let vmid = vmid_of(&tf, "lws_container.web");
    let reserved = sim.ssh(AZ1, &format!("pct snapshot {vmid} vzdump"));
    assert!(text(&reserved).1.contains("unable to use snapshot name 'vzdump' (reserved name)"), "{reserved:?}");
}

fn moving_a_clones_source_keeps_the_clone(server: Server, source_started: bool) {
    const AZ2: &str = "eu-south-1/az2";
    let sim = Sim::start(server, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let source = |az: &str| container("source", &format!("  az = \"{az}\"\n  started = {source_started}\n"));
    let copy = "resource \"lws_container\" \"copy\" {\n  az = \"az1\"\n  hostname = \"copy\"\n  clone_from = lws_container.source.id\n}\n";
    let tf = Workspace::new(&format!("{header}{}{copy}", source("az1")));
    tf.apply();
    tf.assert_no_changes();
    let (source_vmid, copy_vmid) = (vmid_of(&tf, "lws_container.source"), vmid_of(&tf, "lws_container.copy"));

    // The source migrates; the clone's clone_from follows it in place, nothing else happens.
    tf.write(&format!("{header}{}{copy}", source("az2")));
    let (_, plan) = tf.plan();
    assert!(!plan.contains("must be replaced") && !plan.contains("forces replacement"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(vmid_of(&tf, "lws_container.copy"), copy_vmid, "the clone is the same container");
    assert_eq!(tf.resource("lws_container.copy")["clone_from"], format!("eu-south-1/az2/{source_vmid}"));
    assert!(sim.ok(AZ1, "pct list").contains("copy"), "{}", sim.ok(AZ1, "pct list"));
    assert!(sim.ok(AZ2, "pct list").contains("source"));
}

#[test]
fn moving_a_clones_running_source_keeps_the_clone_embedded() {
    moving_a_clones_source_keeps_the_clone(Server::Embedded, true);
}

#[test]
fn moving_a_clones_stopped_source_keeps_the_clone_openssh() {
    moving_a_clones_source_keeps_the_clone(Server::OpenSsh, false);
}

/// `pct clone --target` onto shared storage for a clone in another zone of the cluster; onto
/// local storage the plan refuses, naming `clone_from` and the shared storages, and nothing is
/// created or destroyed (pve-container `clone_vm`).
fn a_clone_in_another_zone_needs_shared_storage(server: Server, source_started: bool) {
    const AZ2: &str = "eu-south-1/az2";
    let sim = Sim::start(server, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let source = container("source", &format!("  az = \"az1\"\n  started = {source_started}\n"));
    let copy = |storage: &str| {
        format!("resource \"lws_container\" \"copy\" {{\n  az = \"az2\"\n  hostname = \"copy\"\n  clone_from = lws_container.source.id\n{storage}}}\n")
    };
    let tf = Workspace::new(&format!("{header}{source}"));
    tf.apply();
    let source_vmid = vmid_of(&tf, "lws_container.source");

    tf.write(&format!("{header}{source}{}", copy("")));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(
        all.contains("with lws_container.copy")
            && all.contains("clone_from")
            && all.contains(&format!("container {source_vmid} is on node"))
            && all.contains("on local storage 'local-lvm'")
            && all.contains("node 'az2' has no shared storage for containers"),
        "{all}"
    );

    // An NFS storage is shared by its type (pve-storage `@SHARED_STORAGE`).
    let out = sim.ssh_with_input(
        AZ1,
        "cat >> /etc/pve/storage.cfg",
        "\nnfs: shared\n\tpath /mnt/pve/shared\n\tserver 10.0.0.2\n\texport /srv/pve\n\tcontent rootdir,images\n",
    );
    assert!(out.status.success(), "{out:?}");
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(all.contains("(shared on node 'az2': shared)"), "{all}");
    assert_eq!(sim.ok(AZ2, "pct list"), "", "nothing was created");

    tf.write(&format!("{header}{source}{}", copy("  storage = \"shared\"\n")));
    tf.apply();
    tf.assert_no_changes();
    let copy_vmid = vmid_of(&tf, "lws_container.copy");
    assert_eq!(tf.resource("lws_container.copy")["node"], "az2");
    let config = sim.ok(AZ2, &format!("pct config {copy_vmid}"));
    assert!(config.contains("rootfs: shared:"), "{config}");
    let clone = sim.log().into_iter().find(|e| e["argv"].to_string().contains("\"clone\"")).expect("a pct clone");
    assert!(clone["argv"].to_string().contains("\"--target\",\"az2\""), "{clone}");
    assert!(sim.ok(AZ1, "pct list").contains("source"));
    assert!(!sim.ok(AZ1, &format!("pct listsnapshot {source_vmid}")).contains("lws-clone"));
}

#[test]
fn a_clone_in_another_zone_needs_shared_storage_embedded() {
    a_clone_in_another_zone_needs_shared_storage(Server::Embedded, true);
}

#[test]
fn a_clone_in_another_zone_needs_shared_storage_openssh() {
    a_clone_in_another_zone_needs_shared_storage(Server::OpenSsh, false);
}

/// Two clients create the same VMID on two nodes at once (the simulator's `vmid-race` fault):
/// Proxmox refuses the second config write with pmxcfs's EEXIST ("close (rename) atomic file …
/// failed: File exists"), not "already exists". The provider sees the VMID is now taken, takes
/// the next one, and never adopts or touches the other client's container.
fn a_vmid_lost_to_another_node_is_given_up(server: Server) {
    const AZ2: &str = "eu-south-1/az2";
    let sim = Sim::start(server, &[AZ1, AZ2], &[]);
    std::fs::write(sim.state().join("faults.json"), r#"{"vmid-race": [100]}"#).expect("faults.json");
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}", container("web", "  az = \"az1\"\n")));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(vmid_of(&tf, "lws_container.web"), 101);
    let refused = sim
        .log()
        .into_iter()
        .filter(|e| e["actor"].is_null())
        .find(|e| e["argv"].to_string().contains("\"create\",\"100\""))
        .expect("the create of 100");
    assert_ne!(refused["exit"], 0, "{refused}");
    assert!(sim.ok(AZ2, "pct list").contains("racer"), "the other client's container stays");
    tf.destroy();
    assert!(sim.ok(AZ2, "pct list").contains("racer"), "and is not destroyed with ours");
    assert_eq!(sim.ok(AZ1, "pct list"), "");
}

#[test]
fn a_vmid_lost_to_another_node_is_given_up_embedded() {
    a_vmid_lost_to_another_node_is_given_up(Server::Embedded);
}

#[test]
fn a_vmid_lost_to_another_node_is_given_up_openssh() {
    a_vmid_lost_to_another_node_is_given_up(Server::OpenSsh);
}

/// A container migrated outside Terraform is destroyed on the node that has it, even when
/// Terraform does not refresh first: `pct` run on the old node would say it does not exist.
fn destroy_follows_a_container_moved_behind_terraforms_back(server: Server) {
    const AZ2: &str = "eu-south-1/az2";
    let sim = Sim::start(server, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}", container("web", "  az = \"az1\"\n")));
    tf.apply();
    let vmid = vmid_of(&tf, "lws_container.web");
    sim.ok(AZ1, &format!("pct migrate {vmid} az2 --restart"));
    assert!(sim.ok(AZ2, "pct list").contains("web"));
    tf.ok(&["destroy", "-auto-approve", "-input=false", "-no-color", "-refresh=false"]);
    assert_eq!(sim.ok(AZ2, "pct list"), "", "destroyed where it was");
    assert_eq!(sim.ok(AZ1, "pct list"), "");
}

#[test]
fn destroy_follows_a_container_moved_behind_terraforms_back_embedded() {
    destroy_follows_a_container_moved_behind_terraforms_back(Server::Embedded);
}

#[test]
fn destroy_follows_a_container_moved_behind_terraforms_back_openssh() {
    destroy_follows_a_container_moved_behind_terraforms_back(Server::OpenSsh);
}

/// What a hand on the host may write, read as Proxmox reads it: a disk grown by part of a GiB
/// (`pct resize +512M` stores `size=8704M`) is not taken for a shrink (which would replace the
/// container) and grows to the next whole GiB when asked; `features: nesting=true` is nesting on
/// (`parse_boolean`); a deleted `swap:` is no swap (`update_lxc_config`: `// 0`), put back by the
/// next apply.
#[test]
fn hand_edits_read_as_proxmox_reads_them() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web = |disk: u32| {
        container(
            "web",
            &format!(
                "  disk_size = {disk}\n  swap = 512\n  started = false\n  features = {{\n    nesting = true\n  }}\n"
            ),
        )
    };
    let tf = Workspace::new(&format!("{header}{}", web(8)));
    tf.apply();
    let vmid = vmid_of(&tf, "lws_container.web");
    sim.ok(AZ1, &format!("pct resize {vmid} rootfs +512M"));
    sim.ok(AZ1, &format!("pct set {vmid} --features nesting=true"));
    let config = sim.ok(AZ1, &format!("pct config {vmid}"));
    assert!(config.contains(",size=8704M\n") && config.contains("features: nesting=true\n"), "{config}");
    tf.assert_no_changes();

    tf.write(&format!("{header}{}", web(9)));
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, &format!("pct config {vmid}")).contains(",size=9G\n"));

    sim.ok(AZ1, &format!("pct set {vmid} --delete swap"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("swap") && plan.contains("0 -> 512"), "{plan}");
    tf.apply();
    tf.assert_no_changes();

    // Proxmox refuses to write what the provider could not read (`pct set` checks the format).
    let out = sim.ssh(AZ1, &format!("pct set {vmid} --features nesting=maybe"));
    assert!(text(&out).1.contains("features.nesting: type check ('boolean') failed - got 'maybe'"), "{out:?}");
}
