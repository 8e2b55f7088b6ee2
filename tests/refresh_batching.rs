//! Reads are batched: refreshing many containers costs a fixed number of SSH commands per host,
//! over one SSH connection per host, whatever the number of containers. Counted from the
//! simulator's command log, never timed.

mod common;

use serde_json::Value;

use common::sim::{handshakes, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";
const AZ2: &str = "eu-south-1/az2";

#[test]
fn refreshing_thirty_containers_costs_two_commands_and_one_handshake_per_host() {
    // Two standalone hosts (two clusters), so each host's reads are its own.
    let sim = Sim::start(Server::OpenSsh, &[AZ1, "eu-south-1/az2@other"], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!(
        "{header}resource \"lws_container\" \"one\" {{\n  count    = 30\n  az       = \"az1\"\n  hostname = \"one-${{count.index}}\"\n  template = \"{DEBIAN}\"\n  size     = \"small\"\n}}\n\
         resource \"lws_container\" \"two\" {{\n  count    = 3\n  az       = \"az2\"\n  hostname = \"two-${{count.index}}\"\n  template = \"{DEBIAN}\"\n  started  = false\n}}\n"
    ));
    tf.apply();

    std::fs::write(sim.state().join("commands.log"), "").expect("clear the command log");
    // Not `-detailed-exitcode`: Terraform reports refresh-only plans as changed even when it
    // finds no drift (hashicorp/terraform#36403); the drift report is what counts.
    let out = tf.ok(&["plan", "-refresh-only", "-input=false", "-no-color", "-out=refresh.tfplan"]);
    assert!(out.contains("No changes"), "{out}");
    let plan: Value = serde_json::from_str(&tf.ok(&["show", "-json", "refresh.tfplan"])).expect("plan JSON");
    assert!(plan["resource_drift"].as_array().is_none_or(Vec::is_empty), "no drift: {}", plan["resource_drift"]);

    let log = sim.log();
    for host in [AZ1, AZ2] {
        let commands: Vec<&Value> = log.iter().filter(|e| e["kind"] == "ssh" && e["host"] == host).collect();
        assert!(
            (1..=2).contains(&commands.len()),
            "{host}: refresh ran {} SSH commands: {:#?}",
            commands.len(),
            commands.iter().map(|e| &e["command"]).collect::<Vec<_>>()
        );
        assert_eq!(handshakes(&log, host), 1, "{host}: one SSH handshake per host");
        let pct = log.iter().filter(|e| e["kind"] == "tool" && e["host"] == host && e["argv"][0] == "pct").count();
        assert_eq!(pct, 0, "{host}: no per-container pct runs on refresh");
    }

    // A plain plan (refresh + diff) and a data source read on the same host share the batch.
    std::fs::write(sim.state().join("commands.log"), "").expect("clear the command log");
    tf.write(&format!(
        "{}data \"lws_container\" \"probe\" {{\n  region   = \"eu-south-1\"\n  hostname = \"two-1\"\n}}\n\
         output \"probe_vmid\" {{ value = data.lws_container.probe.vmid }}\n",
        std::fs::read_to_string(tf.path().join("main.tf")).expect("main.tf")
    ));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "only the new output differs:\n{plan}");
    assert!(!plan.contains("# lws_container"), "no resource changes:\n{plan}");
    let log = sim.log();
    for host in [AZ1, AZ2] {
        let commands: Vec<&Value> =
            log.iter().filter(|e| e["kind"] == "ssh" && e["host"] == host).map(|e| &e["command"]).collect();
        assert!(
            commands.len() <= 2,
            "plan with a data source ran {} commands on {host}: {commands:#?}",
            commands.len()
        );
        assert_eq!(handshakes(&log, host), 1);
    }
    tf.destroy();
}
