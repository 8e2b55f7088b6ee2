//! `lws_docker_app` through the real terraform CLI: Docker installed once, compose and image
//! modes, redeploy on change, a service stopped behind Terraform's back, import of an app the
//! LWS tool deployed, secrets in `env`, a stopped container, destroy.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

fn container(started: bool) -> String {
    format!(
        "resource \"lws_container\" \"app\" {{\n  hostname = \"app\"\n  template = \"{DEBIAN}\"\n  started = {started}\n  features = {{ nesting = true, keyctl = true }}\n}}\n"
    )
}

fn compose_app(port: u16) -> String {
    format!(
        "resource \"lws_docker_app\" \"web\" {{\n  container_id = lws_container.app.id\n  name = \"web\"\n  compose = <<-YAML\n    services:\n      app:\n        image: nginx:1.25\n        ports: [\"{port}:80\"]\n        environment:\n          GREETING: \"$${{GREETING}}\"\n      cache:\n        image: redis:7\n  YAML\n  env = {{ GREETING = \"hello\" }}\n}}\n"
    )
}

fn guest_tool_runs(sim: &Sim, tool: &str) -> usize {
    sim.log().iter().filter(|e| e["kind"] == "guest" && e["argv"][0] == tool).count()
}

#[test]
fn compose_apps_deploy_redeploy_recover_import_and_go() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}{}", container(true), compose_app(8080)));
    tf.apply();
    tf.assert_no_changes();
    let app = tf.resource("lws_docker_app.web");
    let vmid = tf.resource("lws_container.app")["vmid"].as_u64().expect("vmid");
    assert_eq!(app["id"], format!("eu-south-1/az1/{vmid}/web"));
    assert_eq!(app["compose_file"], "/opt/lws/apps/web/docker-compose.yml");
    let states: Vec<(String, String)> = app["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            (s["name"].as_str().unwrap_or_default().to_owned(), s["state"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    assert_eq!(states, [("app".to_owned(), "running".to_owned()), ("cache".to_owned(), "running".to_owned())]);
    let installs = guest_tool_runs(&sim, "apt-get");
    assert!(installs >= 2, "Docker was installed (apt-get update, apt-get install …)");
    let ps = sim.ok(AZ1, &format!("pct exec {vmid} -- docker ps"));
    assert!(ps.contains("web-app-1") && ps.contains("0.0.0.0:8080->80/tcp"), "{ps}");

    // A changed compose file redeploys in place; Docker is not installed again.
    tf.write(&format!("{header}{}{}", container(true), compose_app(9090)));
    let (_, plan) = tf.plan();
    assert!(plan.contains("update in-place") && !plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, &format!("pct exec {vmid} -- docker ps")).contains("0.0.0.0:9090->80/tcp"));
    assert_eq!(guest_tool_runs(&sim, "apt-get"), installs, "already installed: apt-get does not run again");

    // A service stopped behind Terraform's back is drift; the next apply brings it back.
    sim.ok(AZ1, &format!("pct exec {vmid} -- docker stop web-cache-1"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(squash(&plan).contains("cache not running"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, &format!("pct exec {vmid} -- docker ps")).contains("web-cache-1"));

    // Import round trip.
    let before = tf.resource("lws_docker_app.web");
    tf.ok(&["state", "rm", "lws_docker_app.web"]);
    tf.ok(&["import", "-no-color", "lws_docker_app.web", &format!("eu-south-1/az1/{vmid}/web")]);
    assert_eq!(tf.resource("lws_docker_app.web"), before);
    tf.assert_no_changes();

    // Destroy runs compose down and removes the app directory; the container stays.
    tf.write(&format!("{header}{}", container(true)));
    tf.apply();
    assert_eq!(sim.ok(AZ1, &format!("pct exec {vmid} -- docker ps -a -q")), "");
    let out = sim.ssh(AZ1, &format!("pct exec {vmid} -- test -d /opt/lws/apps/web"));
    assert_ne!(out.status.code(), Some(0), "the app directory is gone");
    tf.assert_no_changes();
}

#[test]
fn single_image_apps_keep_env_secrets_off_command_lines() {
    let sim = Sim::start(Server::OpenSsh, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let secret = "db-pass-Xq9'$HOME";
    let app = format!(
        "resource \"lws_docker_app\" \"api\" {{\n  container_id = lws_container.app.id\n  name = \"api\"\n  image = \"ghcr.io/example/api:2.1\"\n  ports = [\"8000:8000\"]\n  volumes = [\"data:/var/lib/api\"]\n  env = {{\n    DATABASE_PASSWORD = \"{}\"\n    MODE = \"production\"\n  }}\n}}\n",
        secret
    );
    let tf = Workspace::new(&format!("{header}{}{app}", container(true)));
    let out = tf.apply();
    assert!(!out.contains(secret), "sensitive values stay out of the plan output");
    tf.assert_no_changes();
    let vmid = tf.resource("lws_container.app")["vmid"].as_u64().expect("vmid");
    let api = tf.resource("lws_docker_app.api");
    assert_eq!((api["restart"].as_str(), api["services"][0]["name"].as_str()), (Some("unless-stopped"), Some("api")));
    let env_file = sim.ok(AZ1, &format!("pct exec {vmid} -- cat /opt/lws/apps/api/.env"));
    assert!(env_file.contains("DATABASE_PASSWORD=\"db-pass-Xq9'\\$HOME\""), "the .env holds the value: {env_file}");
    let commands = std::fs::read_to_string(sim.state().join("commands.log")).expect("command log");
    assert!(!commands.contains("db-pass-Xq9"), "the secret never reaches a command line");

    // Import gets the image-mode settings back.
    let before = tf.resource("lws_docker_app.api");
    tf.ok(&["state", "rm", "lws_docker_app.api"]);
    tf.ok(&["import", "-no-color", "lws_docker_app.api", &format!("eu-south-1/az1/{vmid}/api")]);
    assert_eq!(tf.resource("lws_docker_app.api"), before);
    tf.assert_no_changes();
}

#[test]
fn an_app_in_a_stopped_container_is_a_clear_error() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let app = "resource \"lws_docker_app\" \"web\" {\n  container_id = lws_container.app.id\n  name = \"web\"\n  image = \"nginx:1.25\"\n}\n";
    let tf = Workspace::new(&format!("{header}{}{app}", container(false)));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(all.contains("is stopped") && all.contains("started = true"), "{all}");
    assert!(!tf.has_resource("lws_docker_app.web"));

    for (body, expected) in [
        ("name = \"web\"\n  image = \"nginx\"\n  compose = \"services: {}\"", "compose and image are exclusive"),
        ("name = \"Web\"\n  image = \"nginx\"", "invalid app name"),
        (
            "name = \"web\"\n  compose = \"services:\\n  a:\\n    ports: [1]\\n\"",
            "has neither an image nor a build context",
        ),
        ("name = \"web\"\n  image = \"nginx\"\n  ports = [\"eighty\"]", "invalid port 'eighty'"),
    ] {
        tf.write(&format!(
            "{header}{}resource \"lws_docker_app\" \"x\" {{\n  container_id = lws_container.app.id\n  {body}\n}}\n",
            container(false)
        ));
        let out = tf.run(&["plan", "-input=false", "-no-color"]);
        assert!(!out.status.success(), "{body}");
        let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
        assert!(all.contains(expected), "expected `{expected}` in {all}");
    }
}

/// Compose files as Compose reads them: a YAML merge key and a declared named volume deploy; a
/// `$` in an image app's command reaches the container as written (the generated file escapes
/// it from Compose's interpolation), and its named volume is declared. The two apps land on one
/// new container at once: Docker is installed by one of them while the other waits (two
/// `apt-get install` at a time fail on dpkg's lock, which the simulator holds as apt does).
#[test]
fn compose_files_are_read_and_written_as_compose_reads_them() {
    let sim = Sim::start(Server::OpenSsh, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let apps = r#"
resource "lws_docker_app" "merged" {
  container_id = lws_container.app.id
  name         = "merged"
  compose      = <<-YAML
    x-common: &common
      image: redis:7
      restart: always
    services:
      cache:
        <<: *common
        volumes: ["cachedata:/data"]
    volumes:
      cachedata: {}
  YAML
}
resource "lws_docker_app" "job" {
  container_id = lws_container.app.id
  name         = "job"
  image        = "busybox:1.36"
  command      = "sh -c 'echo $HOME; sleep 3600'"
  volumes      = ["jobdata:/data"]
  env          = { GREETING = "it's $5" }
}
"#;
    let tf = Workspace::new(&format!("{header}{}{apps}", container(true)));
    tf.apply();
    tf.assert_no_changes();
    let vmid = tf.resource("lws_container.app")["vmid"].as_u64().expect("vmid");
    let ps = sim.ok(AZ1, &format!("pct exec {vmid} -- docker ps --format json"));
    assert!(ps.contains("merged-cache-1"), "{ps}");
    let job = ps.lines().find(|l| l.contains("job-job-1")).unwrap_or_else(|| panic!("no job container in {ps}"));
    assert!(job.contains("echo $HOME; sleep 3600"), "the command as written: {job}");
    let file = sim.ok(AZ1, &format!("pct exec {vmid} -- cat /opt/lws/apps/job/docker-compose.yml"));
    assert!(file.contains("volumes:\n  \"jobdata\": {}\n"), "{file}");
    // `env` reaches the container through the `.env` file the service names in `env_file`.
    let inspect = sim.ok(AZ1, &format!("pct exec {vmid} -- docker inspect job-job-1"));
    assert!(inspect.contains("GREETING=it's $5"), "{inspect}");

    // An undeclared named volume is refused at plan, as Compose would refuse the file.
    let bad = apps.replace("    volumes:\n      cachedata: {}\n", "");
    tf.write(&format!("{header}{}{bad}", container(true)));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success() && all.contains("refers to undefined volume cachedata"), "{all}");
}

/// Apps on a container Terraform stops: no plan to redeploy them over and over, and they can be
/// destroyed (the container is started for `docker compose down`, then stopped again).
#[test]
fn apps_on_a_container_terraform_stopped_plan_nothing_and_can_be_destroyed() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let app = "resource \"lws_docker_app\" \"web\" {\n  container_id = lws_container.app.id\n  name = \"web\"\n  image = \"nginx:1.25\"\n}\n";
    let tf = Workspace::new(&format!("{header}{}{app}", container(true)));
    tf.apply();
    let vmid = tf.resource("lws_container.app")["vmid"].as_u64().expect("vmid");

    tf.write(&format!("{header}{}{app}", container(false)));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(sim.ok(AZ1, &format!("pct status {vmid}")), "status: stopped\n");
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(tf.resource("lws_docker_app.web")["services"][0]["state"], "container stopped");
    tf.assert_no_changes();

    tf.write(&format!("{header}{}", container(false)));
    let out = tf.apply();
    assert!(squash(&out).contains("was started to remove web"), "{out}");
    tf.assert_no_changes();
    assert_eq!(sim.ok(AZ1, &format!("pct status {vmid}")), "status: stopped\n", "stopped again");
    sim.ok(AZ1, &format!("pct start {vmid}"));
    let ps = sim.ok(AZ1, &format!("pct exec {vmid} -- docker ps -a"));
    assert!(!ps.contains("web-web-1"), "the app is gone: {ps}");
}

/// A configuration bigger than gRPC's default 4 MiB message (a compose file with a large
/// embedded config) reaches the provider: the plan succeeds instead of "message length too large".
#[test]
fn a_compose_file_over_four_mebibytes_plans() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let big = "x".repeat(5 << 20);
    let compose = format!(
        "resource \"lws_docker_app\" \"big\" {{\n  container_id = lws_container.app.id\n  name = \"big\"\n  \
         compose = yamlencode({{ services = {{ app = {{ image = \"nginx:1.25\", labels = {{ blob = \"{big}\" }} }} }} }})\n}}\n"
    );
    let tf = Workspace::new(&format!("{header}{}{compose}", container(true)));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{}", squash(&stderr));
    assert!(stdout.contains("Plan: 2 to add"), "{}", &stdout[stdout.len().saturating_sub(400)..]);
}

/// A one-shot service (a database migration the app waits for, as Compose spells it) runs and
/// exits: finished with status 0 it is done, so the plan stays empty; one that failed stops the
/// deployment with Compose's message, and the next plan runs it again.
#[test]
fn a_one_shot_service_that_finished_converges_and_a_failed_one_is_named() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let app = |status: u8| {
        format!(
            "resource \"lws_docker_app\" \"web\" {{\n  container_id = lws_container.app.id\n  name = \"web\"\n  compose = <<-YAML\n    services:\n      app:\n        image: nginx:1.25\n        depends_on:\n          migrate:\n            condition: service_completed_successfully\n      migrate:\n        image: alpine:3.20\n        command: [\"sh\", \"-c\", \"exit {status}\"]\n        restart: \"no\"\n  YAML\n}}\n"
        )
    };
    let tf = Workspace::new(&format!("{header}{}{}", container(true), app(0)));
    tf.apply();
    let states: Vec<String> = tf.resource("lws_docker_app.web")["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| format!("{}={}", s["name"].as_str().unwrap_or_default(), s["state"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(states, ["app=running", "migrate=exited (0)"]);
    tf.assert_no_changes();

    tf.write(&format!("{header}{}{}", container(true), app(3)));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let said = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("service \"migrate\" didn't complete successfully: exit 3"), "{said}");
    let migrate = tf.resource("lws_docker_app.web")["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "migrate").cloned())
        .expect("migrate in state");
    assert_eq!(migrate["state"], "exited (3)");
    let (code, plan) = tf.plan();
    let said = squash(&plan);
    assert_eq!(code, 2, "a failed job is run again:\n{plan}");
    assert!(said.contains("migrate not running") && said.contains("exited with a status other than 0"), "{said}");

    // The same service stopped by hand, not a job: exited (0) is drift.
    tf.write(&format!("{header}{}{}", container(true), app(0)));
    tf.apply();
    tf.assert_no_changes();
    let vmid = tf.resource("lws_container.app")["vmid"].as_u64().expect("vmid");
    sim.ok(AZ1, &format!("pct exec {vmid} -- docker stop web-app-1"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "a server stopped by hand is down:\n{plan}");
    assert!(squash(&plan).contains("app not running"), "{plan}");
}
