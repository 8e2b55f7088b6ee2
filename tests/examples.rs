//! The runnable examples apply cleanly against the simulator, plan no changes afterwards, and
//! destroy cleanly: `examples/quickstart/` (what `make demo` runs) and `examples/webapp/`.

mod common;

use std::path::Path;

use common::sim::{Server, Sim};
use common::terraform::Workspace;

fn apply_example(name: &str, server: Server) -> (Sim, Workspace) {
    let sim = Sim::start(server, &["eu-south-1/az1", "eu-south-1/az2"], &[]);
    let mut tf = Workspace::new("");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name);
    for entry in std::fs::read_dir(&dir).expect("example dir").flatten() {
        std::fs::copy(entry.path(), tf.path().join(entry.file_name())).expect("copy example");
    }
    tf.set_env("TF_VAR_lws_config_file", &sim.config_file().display().to_string());
    let out = tf.apply();
    assert!(out.contains("Apply complete!"), "{out}");
    tf.assert_no_changes();
    (sim, tf)
}

#[test]
fn the_quickstart_example_applies_and_destroys_cleanly() {
    let (sim, tf) = apply_example("quickstart", Server::Embedded);
    let az1 = sim.ok("eu-south-1/az1", "pct list");
    assert!(az1.contains("web-1") && az1.contains("db"), "{az1}");
    assert!(sim.ok("eu-south-1/az2", "pct list").contains("web-2"));
    tf.destroy();
    assert_eq!(sim.ok("eu-south-1/az1", "pct list") + &sim.ok("eu-south-1/az2", "pct list"), "");
}

#[test]
fn the_webapp_example_wires_groups_containers_apps_and_snapshots() {
    let (sim, tf) = apply_example("webapp", Server::OpenSsh);
    for (host, az) in [("eu-south-1/az1", "az1"), ("eu-south-1/az2", "az2")] {
        let web = tf.resource(&format!("lws_container.web[\"{az}\"]"));
        let vmid = web["vmid"].as_u64().expect("vmid");
        assert_eq!(web["node"], az);
        let fw = sim.ok(host, &format!("cat /etc/pve/firewall/{vmid}.fw"));
        assert!(fw.contains("GROUP webapp") && fw.contains("enable: 1"), "{fw}");
        assert!(sim.ok(host, &format!("pct exec {vmid} -- docker ps")).contains("0.0.0.0:80->80/tcp"));
        assert!(sim.ok(host, &format!("pct listsnapshot {vmid}")).contains("first-deploy"));
    }
    let groups = sim.ok("eu-south-1/az1", "cat /etc/pve/firewall/cluster.fw");
    assert!(groups.contains("IN ACCEPT -p tcp -dport 80 # http\nIN ACCEPT -p tcp -dport 443 # https"), "{groups}");
    tf.destroy();
    assert_eq!(sim.ok("eu-south-1/az1", "pct list") + &sim.ok("eu-south-1/az2", "pct list"), "");
}
