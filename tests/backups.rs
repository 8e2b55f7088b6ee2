//! `lws_backup` and `lws_container.restore_from`: a backup taken of a container with a data
//! marker, the container destroyed, a new one restored from the archive with the marker and the
//! configuration given, an empty plan after each apply, import round-tripping, and bad input
//! refused with nothing left behind.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

fn backups_on(sim: &Sim) -> serde_json::Value {
    let out = sim.ok(AZ1, "pvesh get /nodes/az1/storage/local/content --content backup --output-format json");
    serde_json::from_str(&out).expect("content list is JSON")
}

/// A workspace with one running container `name`, applied: its provider block, its resource,
/// the workspace and the container's VMID.
fn one_container(sim: &Sim, name: &str) -> (String, String, Workspace, u64) {
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let container =
        format!("resource \"lws_container\" \"{name}\" {{\n  hostname = \"{name}\"\n  template = \"{DEBIAN}\"\n}}\n");
    let tf = Workspace::new(&format!("{header}{container}"));
    tf.apply();
    let vmid = tf.resource(&format!("lws_container.{name}"))["vmid"].as_u64().expect("vmid");
    (header, container, tf, vmid)
}

fn backup_then_restore(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let container = format!(
        "resource \"lws_container\" \"db\" {{\n  hostname = \"db\"\n  template = \"{DEBIAN}\"\n  memory = 512\n}}\n"
    );
    let backup = |container_id: &str| {
        format!(
            "resource \"lws_backup\" \"db\" {{\n  container_id = {container_id}\n  notes_template = \"{{{{guestname}}}} before upgrade\"\n}}\n"
        )
    };
    let tf = Workspace::new(&format!("{header}{container}{}", backup("lws_container.db.id")));
    tf.write(&format!("{header}{container}"));
    tf.apply();
    let vmid = tf.resource("lws_container.db")["vmid"].as_u64().expect("vmid");
    sim.ok(AZ1, &format!("pct exec {vmid} -- sh -c 'echo precious > /root/marker'"));

    tf.write(&format!("{header}{container}{}", backup("lws_container.db.id")));
    tf.apply();
    tf.assert_no_changes();
    let state = tf.resource("lws_backup.db");
    let volid = state["volid"].as_str().expect("volid").to_owned();
    assert!(volid.starts_with(&format!("local:backup/vzdump-lxc-{vmid}-")) && volid.ends_with(".tar.zst"), "{volid}");
    assert_eq!(state["notes"], "db before upgrade");
    assert_eq!(state["vmid"], vmid);
    let listed = backups_on(&sim);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["volid"], volid.as_str());
    assert_eq!(listed[0]["notes"], "db before upgrade");

    // The container goes; the backup stays (its container_id now written out).
    let literal = format!("\"eu-south-1/az1/{vmid}\"");
    tf.write(&format!("{header}{}", backup(&literal)));
    let out = tf.apply();
    assert!(out.contains("0 added, 0 changed, 1 destroyed"), "{out}");
    assert!(!sim.ok(AZ1, "pct list").contains("db"), "the container is gone");

    // Restored under a new VMID, with what the configuration says over the archive's.
    let restored = "resource \"lws_container\" \"db2\" {\n  hostname = \"db2\"\n  restore_from = lws_backup.db.volid\n  memory = 1024\n}\n";
    tf.write(&format!("{header}{}{restored}", backup(&literal)));
    tf.apply();
    tf.assert_no_changes();
    let new_vmid = tf.resource("lws_container.db2")["vmid"].as_u64().expect("vmid");
    let marker = sim.ok(AZ1, &format!("pct exec {new_vmid} -- cat /root/marker"));
    assert_eq!(marker, "precious\n", "the data came back");
    let config = sim.ok(AZ1, &format!("pct config {new_vmid}"));
    assert!(config.contains("hostname: db2") && config.contains("memory: 1024"), "{config}");
    assert!(config.contains("ostype: debian"), "the archive's settings fill the rest: {config}");
    let restores = sim.log().iter().filter(|e| e["kind"] == "tool" && e["argv"][1] == "restore").count();
    assert_eq!(restores, 1, "one pct restore");

    // Import round-trips: the settings the archive cannot tell come from the configuration.
    let id = tf.resource("lws_backup.db")["id"].as_str().expect("id").to_owned();
    tf.ok(&["state", "rm", "lws_backup.db"]);
    tf.ok(&["import", "-input=false", "lws_backup.db", &id]);
    let (code, plan) = tf.plan();
    assert!(!plan.contains("must be replaced") && !plan.contains("will be created"), "{plan}");
    assert!(code == 0 || plan.contains("update in-place"), "{plan}");
    tf.apply();
    tf.assert_no_changes();

    tf.destroy();
    assert_eq!(backups_on(&sim), serde_json::json!([]), "the archive is freed");
}

#[test]
fn a_backup_restores_into_a_new_container_embedded() {
    backup_then_restore(Server::Embedded);
}

#[test]
fn a_backup_restores_into_a_new_container_openssh() {
    backup_then_restore(Server::OpenSsh);
}

#[test]
fn bad_backup_input_fails_clearly_and_leaves_nothing() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let (header, container, tf, vmid) = one_container(&sim, "web");
    let failing = |extra: &str, expected: &[&str]| {
        tf.write(&format!("{header}{container}{extra}"));
        let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
        assert!(!out.status.success(), "{extra}: {all}");
        for e in expected {
            assert!(all.contains(e), "{extra}: expected {e:?} in {all}");
        }
    };
    failing(
        "resource \"lws_backup\" \"b\" {\n  container_id = lws_container.web.id\n  storage = \"local-lvm\"\n}\n",
        &["storage 'local-lvm' on eu-south-1/az1 does not hold backups", "'backup' content there: local"],
    );
    failing(
        "resource \"lws_backup\" \"b\" {\n  container_id = lws_container.web.id\n  notes_template = \"{{owner}}\"\n}\n",
        &["invalid notes_template", "'{{owner}}' is not a variable"],
    );
    failing(
        "resource \"lws_container\" \"r\" {\n  hostname = \"r\"\n  restore_from = \"local:vztmpl/x.tar\"\n}\n",
        &["invalid restore_from", "not a backup volume"],
    );
    // A container locked by another operation: vzdump's `lock_vm` refuses, nothing is recorded.
    sim.ok(AZ1, &format!("pct set {vmid} --lock snapshot"));
    failing(
        "resource \"lws_backup\" \"b\" {\n  container_id = lws_container.web.id\n}\n",
        &["backup of container eu-south-1/az1/", "CT is locked (snapshot)"],
    );
    assert!(!tf.has_resource("lws_backup.b"));
    sim.ok(AZ1, &format!("pct unlock {vmid}"));
    // A backup, then a restore onto the VMID the running container holds: Proxmox refuses,
    // nothing is created, the container is untouched.
    tf.write(&format!(
        "{header}{container}resource \"lws_backup\" \"b\" {{\n  container_id = lws_container.web.id\n}}\n"
    ));
    tf.apply();
    failing(
        &format!(
            "resource \"lws_backup\" \"b\" {{\n  container_id = lws_container.web.id\n}}\n\
             resource \"lws_container\" \"r\" {{\n  hostname = \"r\"\n  vmid = {vmid}\n  restore_from = lws_backup.b.volid\n}}\n"
        ),
        &[&format!("CT {vmid} already exists on node 'az1'")],
    );
    assert!(!tf.has_resource("lws_container.r"), "nothing of the refused restore in state");
    let list = sim.ok(AZ1, "pct list");
    assert_eq!(list.lines().count(), 2, "only the original container: {list}");
    assert!(sim.ok(AZ1, &format!("pct status {vmid}")).contains("running"));
    // A missing archive: vzdump's own error, after `recovering backed-up configuration`.
    failing(
        "resource \"lws_container\" \"r\" {\n  hostname = \"r\"\n  restore_from = \"local:backup/vzdump-lxc-999-2020_01_01-00_00_00.tar.zst\"\n}\n",
        &["volume 'local:backup/vzdump-lxc-999-2020_01_01-00_00_00.tar.zst' does not exist"],
    );
    assert_eq!(sim.ok(AZ1, "pct list").lines().count(), 2, "the failed restore left no container");
}

const RETENTION_CFG: &str =
    "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\tprune-backups keep-last=1\n\n\
lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n";

/// A storage with retention (`prune-backups keep-last=1`): vzdump alone would refuse a second
/// archive with `--remove 0`, or prune the first without it; the provider's backups ask for
/// `keep-all` and so keep every tracked archive. Two backups of one container in one apply run
/// one after the other, as Proxmox's node lock makes them.
#[test]
fn a_storage_with_retention_neither_prunes_nor_refuses_tracked_backups() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let written = sim.ssh_with_input(AZ1, "cat > /etc/pve/storage.cfg", RETENTION_CFG);
    assert!(written.status.success());
    let (header, container, tf, vmid) = one_container(&sim, "db");

    // What the storage's retention does to vzdump by itself (pve-manager `exec_backup_task`).
    sim.ok(AZ1, &format!("vzdump {vmid} --storage local --remove 0"));
    let refused = sim.ssh(AZ1, &format!("vzdump {vmid} --storage local --remove 0"));
    assert_eq!(refused.status.code(), Some(255));
    assert!(
        text(&refused).0.contains("There is a max backup limit of 1 enforced by the target storage"),
        "{}",
        text(&refused).0
    );
    let pruned = sim.ok(AZ1, &format!("vzdump {vmid} --storage local"));
    assert!(
        pruned.contains("prune older backups with retention: keep-last=1")
            && pruned.contains("pruned 1 backup(s) not covered"),
        "{pruned}"
    );
    assert_eq!(backups_on(&sim).as_array().map(Vec::len), Some(1));

    let backups = "resource \"lws_backup\" \"daily\" {\n  container_id = lws_container.db.id\n}\n\
                   resource \"lws_backup\" \"before_upgrade\" {\n  container_id = lws_container.db.id\n}\n";
    tf.write(&format!("{header}{container}{backups}"));
    tf.apply();
    tf.assert_no_changes();
    let (a, b) =
        (tf.resource("lws_backup.daily")["volid"].clone(), tf.resource("lws_backup.before_upgrade")["volid"].clone());
    assert_ne!(a, b, "two archives");
    let listed: Vec<serde_json::Value> =
        backups_on(&sim).as_array().cloned().unwrap_or_default().into_iter().map(|e| e["volid"].clone()).collect();
    assert!(listed.contains(&a) && listed.contains(&b), "both kept: {listed:?}");
}
