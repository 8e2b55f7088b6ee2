//! Clusters are told apart by what they are, not by names that repeat: two standalone hosts both
//! called `pve` (the installer's default) and a two-node cluster in one region. Every container is
//! read, updated, imported and destroyed on its own host.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const HOSTS: [&str; 4] =
    ["eu-south-1/az1@solo1=pve", "eu-south-1/az2@solo2=pve", "eu-south-1/az3@duo", "eu-south-1/az4@duo"];

fn container(name: &str, az: &str, memory: u32) -> String {
    format!(
        "resource \"lws_container\" \"{name}\" {{\n  hostname = \"{name}\"\n  az = \"{az}\"\n  memory = {memory}\n  template = \"{DEBIAN}\"\n}}\n"
    )
}

#[test]
fn same_named_standalone_hosts_and_a_cluster_each_keep_their_containers() {
    let sim = Sim::start(Server::Embedded, &HOSTS, &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let all = |b_memory: u32, with_b: bool| {
        let mut main = header.clone();
        main.push_str(&container("a", "az1", 512));
        if with_b {
            main.push_str(&container("b", "az2", b_memory));
        }
        main.push_str(&container("c", "az3", 512));
        main.push_str(&container("d", "az4", 512));
        main
    };
    let tf = Workspace::new(&all(512, true));
    tf.apply();
    let before = sim.log().len();
    tf.assert_no_changes();
    // One inventory read per cluster per plan: the cluster's two zones share theirs; each
    // standalone host reads its own. Each node still asks its own LXC for running states.
    let log = sim.log();
    let plan_log = &log[before..];
    let tool_runs = |host: &str, argv: &[&str]| {
        plan_log
            .iter()
            .filter(|e| e["kind"] == "tool" && e["host"] == host)
            .filter(|e| argv.iter().enumerate().all(|(i, a)| e["argv"][i] == *a))
            .count()
    };
    let inventory_reads = |host: &str| tool_runs(host, &["pvesh", "get", "/cluster/resources"]);
    assert_eq!(inventory_reads("eu-south-1/az1"), 1, "solo1");
    assert_eq!(inventory_reads("eu-south-1/az2"), 1, "solo2");
    assert_eq!(inventory_reads("eu-south-1/az3") + inventory_reads("eu-south-1/az4"), 1, "the two-node cluster");
    for az in ["az1", "az2", "az3", "az4"] {
        assert_eq!(tool_runs(&format!("eu-south-1/{az}"), &["lxc-ls"]), 1, "{az}: its own running states");
    }
    let vmid = |r: &str| tf.resource(&format!("lws_container.{r}"))["vmid"].as_u64().expect("vmid");
    // Each standalone host allocates on its own; the cluster's two nodes share one VMID space.
    assert_eq!((vmid("a"), vmid("b")), (100, 100));
    assert_ne!(vmid("c"), vmid("d"));
    for (r, az) in [("a", "az1"), ("b", "az2"), ("c", "az3"), ("d", "az4")] {
        assert_eq!(tf.resource(&format!("lws_container.{r}"))["az"], az, "{r}");
    }

    // A bare VMID in two standalone hosts named alike is ambiguous, and says where.
    tf.write(&format!("{}{}", all(512, true), "resource \"lws_container\" \"x\" {\n  template = \"T\"\n}\n"));
    let out = tf.run(&["import", "-input=false", "-no-color", "lws_container.x", "100"]);
    let said = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(said.contains("eu-south-1/az1/100") && said.contains("eu-south-1/az2/100"), "{said}");

    // An update of b changes b's host only.
    tf.write(&all(1024, true));
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok("eu-south-1/az2", "pct config 100").contains("memory: 1024\n"));
    assert!(sim.ok("eu-south-1/az1", "pct config 100").contains("memory: 512\n"));

    // Destroying b leaves a, its namesake on the other host.
    tf.write(&all(1024, false));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(sim.ok("eu-south-1/az2", "pct list"), "");
    assert!(sim.ok("eu-south-1/az1", "pct list").contains(" a"), "{}", sim.ok("eu-south-1/az1", "pct list"));
}
