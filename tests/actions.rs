//! Actions (plugin protocol 6.10, Terraform ≥ 1.14: the PyPI wheel's 1.15), invoked with
//! `terraform apply -invoke=…`: each one's effect read back on the simulator, its progress
//! messages shown, and a bad configuration refused before anything runs.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{clis, provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

const RESOURCES: &str = "resource \"lws_container\" \"web\" {\n  hostname = \"web\"\n  template = \"TEMPLATE\"\n}\n\
resource \"lws_snapshot\" \"before\" {\n  container_id = lws_container.web.id\n  name = \"before\"\n}\n\
resource \"lws_docker_app\" \"site\" {\n  container_id = lws_container.web.id\n  name = \"site\"\n  image = \"nginx:1.25\"\n}\n";

fn power(name: &str, operation: &str) -> String {
    format!(
        "action \"lws_container_power\" \"{name}\" {{\n  config {{\n    container_id = lws_container.web.id\n    \
         operation = \"{operation}\"\n    timeout = 10\n  }}\n}}\n"
    )
}

const OTHERS: &str = "action \"lws_snapshot_rollback\" \"undo\" {\n  config {\n    snapshot_id = lws_snapshot.before.id\n    start = true\n  }\n}\n\
action \"lws_docker_app_restart\" \"site\" {\n  config {\n    app_id = lws_docker_app.site.id\n  }\n}\n";

/// Invoke one action; returns everything Terraform printed.
fn invoke(tf: &Workspace, action: &str) -> String {
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", &format!("-invoke=action.{action}")]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "invoking {action} failed:\n{stdout}\n{stderr}");
    squash(&format!("{stdout}{stderr}"))
}

fn status(sim: &Sim, vmid: u64) -> String {
    sim.ok(AZ1, &format!("pct status {vmid}")).trim().to_owned()
}

#[test]
fn each_action_does_what_it_says_on_the_host() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let actions = format!("{}{}{}{OTHERS}", power("off", "shutdown"), power("on", "start"), power("bounce", "reboot"));
    let config = format!("{header}{}{actions}", RESOURCES.replace("TEMPLATE", DEBIAN));
    let tf = Workspace::with_cli(clis().wheel.clone(), &config);
    tf.apply();
    tf.assert_no_changes();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    assert_eq!(status(&sim, vmid), "status: running");

    let out = invoke(&tf, "lws_container_power.off");
    assert!(out.contains("shutting container eu-south-1/az1/") && out.contains("shutdown done"), "{out}");
    assert_eq!(status(&sim, vmid), "status: stopped");
    let (code, _) = tf.plan();
    assert_eq!(code, 2, "stopped behind the configuration's back: drift");

    invoke(&tf, "lws_container_power.on");
    assert_eq!(status(&sim, vmid), "status: running");
    let before = sim.log().iter().filter(|e| e["kind"] == "tool" && e["argv"][1] == "reboot").count();
    invoke(&tf, "lws_container_power.bounce");
    let after = sim.log().iter().filter(|e| e["kind"] == "tool" && e["argv"][1] == "reboot").count();
    assert_eq!(after, before + 1, "one pct reboot");
    assert_eq!(status(&sim, vmid), "status: running");
    tf.assert_no_changes();

    // Rolled back: memory changed behind Terraform's back is the snapshot's again, started.
    sim.ok(AZ1, &format!("pct set {vmid} --memory 1024"));
    let out = invoke(&tf, "lws_snapshot_rollback.undo");
    assert!(out.contains("is at snapshot 'before', started"), "{out}");
    assert!(sim.ok(AZ1, &format!("pct config {vmid}")).contains("memory: 512"));
    assert_eq!(status(&sim, vmid), "status: running");

    let restarts = |sim: &Sim| {
        sim.log()
            .iter()
            .filter(|e| e["kind"] == "guest" && e["argv"].as_array().is_some_and(|a| a.iter().any(|w| w == "restart")))
            .count()
    };
    let before = restarts(&sim);
    let out = invoke(&tf, "lws_docker_app_restart.site");
    assert!(out.contains("app 'site' restarted"), "{out}");
    assert_eq!(restarts(&sim), before + 1, "one docker compose restart inside the container");
    tf.assert_no_changes();
}

#[test]
fn a_bad_action_configuration_is_refused_before_anything_runs() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let container =
        format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n}}\n");
    let tf = Workspace::with_cli(clis().wheel.clone(), &format!("{header}{container}{}", power("nap", "hibernate")));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    let out =
        tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", "-invoke=action.lws_container_power.nap"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("unknown operation 'hibernate'") && all.contains("operation"), "{all}");
    assert_eq!(status(&sim, vmid), "status: running", "nothing ran");
}

/// An action fired by Terraform itself: a `terraform_data` whose change triggers the app's
/// restart (`lifecycle { action_trigger { … } }`).
#[test]
fn an_action_trigger_runs_the_action_after_the_change() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let config = |release: &str| {
        format!(
            "{header}{}{OTHERS}resource \"terraform_data\" \"release\" {{\n  input = \"{release}\"\n  \
             lifecycle {{\n    action_trigger {{\n      events  = [after_update]\n      \
             actions = [action.lws_docker_app_restart.site]\n    }}\n  }}\n}}\n",
            RESOURCES.replace("TEMPLATE", DEBIAN)
        )
    };
    let restarts = |sim: &Sim| {
        sim.log()
            .iter()
            .filter(|e| e["kind"] == "guest" && e["argv"].as_array().is_some_and(|a| a.iter().any(|w| w == "restart")))
            .count()
    };
    let tf = Workspace::with_cli(clis().wheel.clone(), &config("v1"));
    tf.apply();
    assert_eq!(restarts(&sim), 0, "created, not updated: nothing triggered");
    tf.write(&config("v2"));
    let out = squash(&tf.apply());
    assert_eq!(restarts(&sim), 1, "the update triggered one restart:\n{out}");
    tf.assert_no_changes();
}
