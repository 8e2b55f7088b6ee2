//! Today's plugin protocol (6.10, from Terraform v1.15.9's `tfplugin6.proto`) through the real
//! CLIs: a write-only root password (6.8) that reaches the container but never the state, the
//! plan, the logs or a command line, and write-only app environment (`env_wo`), under Terraform
//! 1.11 and 1.15; and resource identity (6.9):
//! returned with the state and accepted by `import { identity = … }` on Terraform 1.15.

mod common;

use std::path::PathBuf;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{clis, provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

/// The password comes from an ephemeral variable (Terraform ≥ 1.10), as a secret should: a
/// literal in the configuration would be in the plan's copy of the configuration.
fn container(version: u32) -> String {
    format!(
        "variable \"root_password\" {{\n  type = string\n  sensitive = true\n  ephemeral = true\n}}\n\
         resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  \
         password_wo = var.root_password\n  password_wo_version = {version}\n}}\n"
    )
}

/// root's entry in the container's `/etc/shadow`, read through `pct exec` by the test.
fn shadow(sim: &Sim, vmid: u64) -> String {
    sim.ok(AZ1, &format!("pct exec {vmid} -- grep ^root: /etc/shadow"))
}

/// Every place a secret could leak to: state, plan JSON, the trace log, the simulator's log of
/// every command line.
fn assert_nowhere(sim: &Sim, tf: &Workspace, log: &PathBuf, secret: &str) {
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate")).expect("state");
    assert!(!state.contains(secret), "the write-only password is in the state");
    assert!(!state.contains("\"password_wo\": \""), "password_wo is null in state");
    tf.ok(&["plan", "-out=plan.bin", "-input=false", "-no-color"]);
    let plan = tf.ok(&["show", "-json", "plan.bin"]);
    assert!(!plan.contains(secret), "the write-only password is in the plan");
    let trace = std::fs::read_to_string(log).unwrap_or_default();
    assert!(trace.contains("ApplyResourceChange") || trace.contains("apply"), "trace log written");
    assert!(!trace.contains(secret), "the write-only password is in TF_LOG=trace");
    let commands = std::fs::read_to_string(sim.state().join("commands.log")).expect("command log");
    assert!(!commands.contains(secret), "the write-only password is on a command line");
}

fn write_only_password(cli: PathBuf) {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let mut tf = Workspace::with_cli(cli, &format!("{header}{}", container(1)));
    tf.set_env("TF_VAR_root_password", "first-Secret-1");
    let log = tf.path().join("trace.log");
    tf.set_env("TF_LOG", "trace");
    tf.set_env("TF_LOG_PATH", &log.display().to_string());
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    let first = shadow(&sim, vmid);
    assert!(first.starts_with("root:$"), "the password was set: {first}");
    tf.assert_no_changes();
    assert_nowhere(&sim, &tf, &log, "first-Secret-1");

    // A new value alone changes nothing (Terraform never sees it again) ...
    tf.set_env("TF_VAR_root_password", "second-Secret-2");
    tf.assert_no_changes();
    assert_eq!(shadow(&sim, vmid), first);
    // ... a new version sends it.
    tf.write(&format!("{header}{}", container(2)));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("password_wo_version") && plan.contains("update in-place"), "{plan}");
    tf.apply();
    let second = shadow(&sim, vmid);
    assert!(second.starts_with("root:$") && second != first, "rotated: {second}");
    tf.assert_no_changes();
    assert_nowhere(&sim, &tf, &log, "second-Secret-2");

    // Both forms at once is a plan-time error naming the attribute.
    tf.write(&format!(
        "{header}{}",
        container(2).replace("hostname = \"web\"", "hostname = \"web\"\n  password = \"stored-pw\"")
    ));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("password and password_wo are exclusive") && all.contains("password_wo"), "{all}");
}

fn app(version: u32) -> String {
    format!(
        "variable \"api_token\" {{\n  type = string\n  sensitive = true\n  ephemeral = true\n}}\n\
         resource \"lws_container\" \"apps\" {{\n  hostname = \"apps\"\n  template = \"{DEBIAN}\"\n}}\n\
         resource \"lws_docker_app\" \"api\" {{\n  container_id = lws_container.apps.id\n  name = \"api\"\n  \
         image = \"nginx:1.25\"\n  env = {{ MODE = \"production\" }}\n  env_wo = {{ API_TOKEN = var.api_token }}\n  \
         env_wo_version = {version}\n}}\n"
    )
}

/// The app's `.env` inside its container, read through `pct exec` by the test.
fn dot_env(sim: &Sim, vmid: u64) -> String {
    sim.ok(AZ1, &format!("pct exec {vmid} -- cat /opt/lws/apps/api/.env"))
}

/// `env_wo`: secrets in the app's `.env`, never in state, plan, logs or command lines; `env`
/// beside them shows no drift; a new version redeploys with the new value.
fn write_only_app_environment(cli: PathBuf) {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let mut tf = Workspace::with_cli(cli, &format!("{header}{}", app(1)));
    tf.set_env("TF_VAR_api_token", "tok-Alpha-1");
    let log = tf.path().join("trace.log");
    tf.set_env("TF_LOG", "trace");
    tf.set_env("TF_LOG_PATH", &log.display().to_string());
    tf.apply();
    let vmid = tf.resource("lws_container.apps")["vmid"].as_u64().expect("vmid");
    let env = dot_env(&sim, vmid);
    assert!(env.contains("API_TOKEN='tok-Alpha-1'") && env.contains("MODE='production'"), "{env}");
    assert_eq!(tf.resource("lws_docker_app.api")["env"], serde_json::json!({"MODE": "production"}));
    tf.assert_no_changes();
    assert_nowhere(&sim, &tf, &log, "tok-Alpha-1");

    tf.set_env("TF_VAR_api_token", "tok-Beta-2");
    tf.assert_no_changes();
    tf.write(&format!("{header}{}", app(2)));
    tf.apply();
    assert!(dot_env(&sim, vmid).contains("API_TOKEN='tok-Beta-2'"));
    tf.assert_no_changes();
    assert_nowhere(&sim, &tf, &log, "tok-Beta-2");
}

#[test]
fn write_only_app_environment_terraform_on_path() {
    write_only_app_environment(clis().path.clone().expect("the machine's Terraform 1.11 on PATH"));
}

#[test]
fn write_only_app_environment_terraform_1_15() {
    write_only_app_environment(clis().wheel.clone());
}

#[test]
fn a_write_only_password_reaches_the_container_and_nothing_else_terraform_on_path() {
    let Some(cli) = clis().path.clone() else {
        panic!("scripts/terraform.sh found no terraform on PATH; this suite needs the machine's Terraform 1.11");
    };
    write_only_password(cli);
}

#[test]
fn a_write_only_password_reaches_the_container_and_nothing_else_terraform_1_15() {
    write_only_password(clis().wheel.clone());
}

/// Terraform 1.15: every resource returns its identity with its state, and `import` blocks
/// take an identity instead of an id string.
#[test]
fn resources_are_imported_by_identity() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let resources = format!(
        "resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n}}\n\
         resource \"lws_security_group\" \"g\" {{\n  name = \"webg\"\n  rule {{\n    direction = \"in\"\n    \
         action = \"ACCEPT\"\n    protocol = \"tcp\"\n    dport = \"80\"\n  }}\n}}\n"
    );
    let tf = Workspace::with_cli(clis().wheel.clone(), &format!("{header}{resources}"));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tf.path().join("terraform.tfstate")).expect("state"))
            .expect("JSON");
    let identity = |kind: &str| {
        state["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["type"] == kind))
            .map(|r| r["instances"][0]["identity"].clone())
            .unwrap_or_default()
    };
    assert_eq!(identity("lws_container"), serde_json::json!({"region": "eu-south-1", "az": "az1", "vmid": vmid}));
    assert_eq!(identity("lws_security_group"), serde_json::json!({"region": "eu-south-1", "name": "webg"}));

    // Forget both, then adopt them again by identity.
    tf.ok(&["state", "rm", "lws_container.web", "lws_security_group.g"]);
    let imports = format!(
        "import {{\n  to = lws_container.web\n  identity = {{\n    region = \"eu-south-1\"\n    az = \"az1\"\n    vmid = {vmid}\n  }}\n}}\n\
         import {{\n  to = lws_security_group.g\n  identity = {{\n    region = \"eu-south-1\"\n    name = \"webg\"\n  }}\n}}\n"
    );
    tf.write(&format!("{header}{resources}{imports}"));
    let out = tf.apply();
    assert!(squash(&out).contains("2 imported, 0 added"), "{out}");
    tf.write(&format!("{header}{resources}"));
    tf.assert_no_changes();
    assert_eq!(sim.ok(AZ1, "pct list").lines().count(), 2, "the same container, nothing new");

    // A wrong identity is an error naming the attribute.
    tf.ok(&["state", "rm", "lws_container.web"]);
    tf.write(&format!(
        "{header}{resources}import {{\n  to = lws_container.web\n  identity = {{\n    region = \"eu-south-1\"\n    az = \"az1\"\n    vmid = 0.5\n  }}\n}}\n"
    ));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("identity.vmid must be a whole number"), "{all}");
}
