//! `lws_container` end to end: the real terraform CLI, the provider binary, real SSH (our
//! embedded server and OpenSSH), the simulator. Every apply is followed by a plan that must
//! show no changes.

mod common;

use common::sim::{Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};
use serde_json::Value;

const HOST: &str = "eu-south-1/az1";

fn container(body: &str) -> String {
    format!("resource \"lws_container\" \"web\" {{\n  template = \"{DEBIAN}\"\n{body}\n}}\n")
}

fn pct_config(sim: &Sim, vmid: u64) -> String {
    sim.ok(HOST, &format!("pct config {vmid}"))
}

/// Attributes Proxmox cannot report back; after an import they come from configuration.
const CONFIG_ONLY: &[&str] = &["template", "size", "password", "ssh_public_keys", "clone_from", "timeouts"];

fn without_config_only(mut values: Value) -> Value {
    if let Some(map) = values.as_object_mut() {
        for key in CONFIG_ONLY {
            map.remove(*key);
        }
    }
    values
}

fn lifecycle(server: Server) {
    let sim = Sim::start(server, &[HOST], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!(
        "{header}{}",
        container(
            "  hostname = \"web\"\n  size = \"small\"\n  tags = [\"web\", \"prod\"]\n  description = \"web: frontend\""
        )
    ));

    // Create with a size.
    let out = tf.apply();
    assert!(out.contains("1 added"), "{out}");
    tf.assert_no_changes();
    let web = tf.resource("lws_container.web");
    let vmid = web["vmid"].as_u64().expect("vmid");
    assert_eq!(web["id"], format!("eu-south-1/az1/{vmid}"));
    assert_eq!(
        (web["memory"].as_i64(), web["cpulimit"].as_f64(), web["disk_size"].as_i64()),
        (Some(512), Some(1.0), Some(8))
    );
    assert_eq!(
        (web["storage"].as_str(), web["status"].as_str(), web["node"].as_str()),
        (Some("local-lvm"), Some("running"), Some("az1"))
    );
    assert!(web["mac_address"].as_str().is_some_and(|m| m.starts_with("BC:24:11:")));
    assert!(
        web["ipv4_address"].as_str().is_some_and(|ip| ip.starts_with("10.10.")),
        "DHCP lease read while running: {web}"
    );
    let config = pct_config(&sim, vmid);
    for line in [
        "memory: 512",
        "cpulimit: 1",
        "hostname: web",
        "tags: prod;web",
        "rootfs: local-lvm:vm-100-disk-0,size=8G",
        "unprivileged: 1",
    ] {
        assert!(config.lines().any(|l| l == line), "missing `{line}` in\n{config}");
    }
    assert!(config.contains("description: web%3A frontend%0A"), "{config}");

    // In-place update of memory and cores.
    tf.write(&format!(
        "{header}{}",
        container("  hostname = \"web\"\n  size = \"small\"\n  memory = 1024\n  cores = 2\n  tags = [\"web\", \"prod\"]\n  description = \"web: frontend\"")
    ));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(
        plan.contains("update in-place") && plan.contains("memory") && !plan.contains("forces replacement"),
        "{plan}"
    );
    tf.apply();
    tf.assert_no_changes();
    let config = pct_config(&sim, vmid);
    assert!(config.contains("memory: 1024\n") && config.contains("cores: 2\n"), "{config}");
    assert_eq!(tf.resource("lws_container.web")["vmid"].as_u64(), Some(vmid), "updated in place, same container");

    // Stop and start through `started`.
    let stopped = "  hostname = \"web\"\n  size = \"small\"\n  memory = 1024\n  cores = 2\n  tags = [\"web\", \"prod\"]\n  description = \"web: frontend\"\n  started = false";
    tf.write(&format!("{header}{}", container(stopped)));
    tf.apply();
    assert_eq!(sim.ok(HOST, &format!("pct status {vmid}")), "status: stopped\n");
    tf.assert_no_changes();
    assert_eq!(tf.resource("lws_container.web")["status"], "stopped");
    let running = stopped.replace("started = false", "started = true");
    tf.write(&format!("{header}{}", container(&running)));
    tf.apply();
    assert_eq!(sim.ok(HOST, &format!("pct status {vmid}")), "status: running\n");
    tf.assert_no_changes();

    // Stopped behind Terraform's back: drift, and the next apply starts it again.
    sim.ok(HOST, &format!("pct stop {vmid}"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("started") && plan.contains("false -> true"), "{plan}");
    tf.apply();
    assert_eq!(sim.ok(HOST, &format!("pct status {vmid}")), "status: running\n");
    tf.assert_no_changes();

    // Import round trip: the imported state equals the created one, but for what Proxmox
    // cannot report; the next plan adopts those from configuration without replacing.
    let created = tf.resource("lws_container.web");
    tf.ok(&["state", "rm", "lws_container.web"]);
    tf.ok(&["import", "-no-color", "lws_container.web", &format!("eu-south-1/az1/{vmid}")]);
    let imported = tf.resource("lws_container.web");
    assert_eq!(without_config_only(imported), without_config_only(created.clone()));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(
        !plan.contains("must be replaced") && !plan.contains("forces replacement"),
        "import never forces a replacement:\n{plan}"
    );
    assert!(plan.contains("+ template") && plan.contains("+ size"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(tf.resource("lws_container.web"), created, "after adoption the state is the created one");

    // Deleted outside Terraform: the plan re-creates it.
    sim.ok(HOST, &format!("pct stop {vmid} && pct destroy {vmid} --purge"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("will be created") && plan.contains("1 to add"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(HOST, "pct list").contains("web"));

    // Destroy.
    let out = tf.destroy();
    assert!(out.contains("1 destroyed"), "{out}");
    assert_eq!(sim.ok(HOST, "pct list"), "", "nothing left on the host");
}

#[test]
fn create_update_power_import_drift_and_destroy_over_embedded_ssh() {
    lifecycle(Server::Embedded);
}

#[test]
fn create_update_power_import_drift_and_destroy_over_openssh() {
    lifecycle(Server::OpenSsh);
}

#[test]
fn create_with_explicit_resources_and_a_static_address() {
    let sim = Sim::start(Server::Embedded, &[HOST], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let body = r#"
  vmid      = 321
  hostname  = "db"
  memory    = 2048
  cores     = 4
  swap      = 1024
  disk_size = 20
  storage   = "local-lvm"
  network = [{ name = "eth0", bridge = "vmbr0", ip = "10.0.0.5/24", gateway = "10.0.0.1", vlan = 20 }]
  nameserver = "1.1.1.1 9.9.9.9"
  start_on_boot = true
  features = { nesting = true, keyctl = true }"#;
    let tf = Workspace::new(&format!("{header}{}", container(body)));
    tf.apply();
    tf.assert_no_changes();
    let db = tf.resource("lws_container.web");
    assert_eq!(db["id"], "eu-south-1/az1/321");
    assert_eq!(db["ipv4_address"], "10.0.0.5");
    assert_eq!(db["network"][0]["vlan"], 20);
    let config = pct_config(&sim, 321);
    for line in [
        "memory: 2048",
        "cores: 4",
        "swap: 1024",
        "rootfs: local-lvm:vm-321-disk-0,size=20G",
        "nameserver: 1.1.1.1 9.9.9.9",
        "onboot: 1",
        "features: keyctl=1,nesting=1",
    ] {
        assert!(config.lines().any(|l| l == line), "missing `{line}` in\n{config}");
    }
    let net = config.lines().find(|l| l.starts_with("net0:")).expect("net0");
    assert!(net.contains("gw=10.0.0.1") && net.contains("ip=10.0.0.5/24") && net.contains("tag=20"), "{net}");
    tf.destroy();
}
