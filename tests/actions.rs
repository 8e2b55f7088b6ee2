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

/// `lws_container_exec`: a command's input, output and exit status, over both SSH servers.
fn exec_runs_the_command_in_the_container(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let exec = |name: &str, command: &str, extra: &str| {
        format!(
            "action \"lws_container_exec\" \"{name}\" {{\n  config {{\n    container_id = lws_container.web.id\n    \
             command = {command}\n{extra}  }}\n}}\n"
        )
    };
    let actions = [
        exec(
            "write",
            r#"["sh", "-c", "cat > /root/marker && echo wrote it; echo careful >&2"]"#,
            "    stdin = \"it's $HOME; `x`\\n\"\n",
        ),
        exec("fail", r#"["sh", "-c", "echo half done; echo broke >&2; exit 3"]"#, ""),
        exec("tolerated", r#"["sh", "-c", "exit 3"]"#, "    expected_exit_codes = [0, 3]\n"),
        exec("missing", r#"["no-such-program"]"#, ""),
    ]
    .concat();
    let container =
        format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n}}\n");
    let tf = Workspace::with_cli(clis().wheel.clone(), &format!("{header}{container}{actions}"));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");

    let out = invoke(&tf, "lws_container_exec.write");
    assert!(out.contains("| wrote it") && out.contains("! careful"), "output shown as progress: {out}");
    assert!(out.contains("exited with status 0"), "{out}");
    let marker = sim.ok(AZ1, &format!("pct exec {vmid} -- cat /root/marker"));
    assert_eq!(marker, "it's $HOME; `x`\n", "stdin reached the command unchanged");
    assert!(sim.log().iter().all(|e| !e.to_string().contains("$HOME; `x`")), "stdin never appears on a command line");

    let failed = |action: &str| {
        let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", &format!("-invoke=action.{action}")]);
        assert!(!out.status.success(), "{action} should fail");
        squash(&format!("{}{}", text(&out).0, text(&out).1))
    };
    let out = failed("lws_container_exec.fail");
    assert!(out.contains("exited with status 3, expected [0]"), "{out}");
    assert!(out.contains("half done") && out.contains("broke"), "the error carries the output: {out}");

    let out = invoke(&tf, "lws_container_exec.tolerated");
    assert!(out.contains("exited with status 3"), "{out}");

    // lxc-attach's own error when the program does not exist: exit 127 (not found).
    let out = failed("lws_container_exec.missing");
    assert!(out.contains("no-such-program") && out.contains("exited with status"), "{out}");

    sim.ok(AZ1, &format!("pct stop {vmid}"));
    let out = failed("lws_container_exec.write");
    assert!(out.contains("is not running") && out.contains("container_id"), "{out}");
    tf.destroy();
}

#[test]
fn exec_runs_the_command_in_the_container_embedded() {
    exec_runs_the_command_in_the_container(Server::Embedded);
}

#[test]
fn exec_runs_the_command_in_the_container_openssh() {
    exec_runs_the_command_in_the_container(Server::OpenSsh);
}

#[test]
fn an_empty_exec_command_is_refused_at_plan() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let config = format!(
        "{header}action \"lws_container_exec\" \"nothing\" {{\n  config {{\n    container_id = \"eu-south-1/az1/100\"\n    \
         command = []\n    timeout = \"soon\"\n  }}\n}}\n"
    );
    let tf = Workspace::with_cli(clis().wheel.clone(), &config);
    let out =
        tf.run(&["apply", "-auto-approve", "-input=false", "-no-color", "-invoke=action.lws_container_exec.nothing"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("command is empty"), "{all}");
}
