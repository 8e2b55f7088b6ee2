//! `lws_snapshot` and `lws_security_group` (with `lws_container.security_groups`) through the
//! real terraform CLI: create, no-change plan, update, drift behind Terraform's back, import
//! round trip, destroy.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

fn container() -> String {
    format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n}}\n")
}

fn snapshots(first_description: &str) -> String {
    format!(
        r#"resource "lws_snapshot" "first" {{
  container_id = lws_container.web.id
  name         = "before-upgrade"
  description  = "{first_description}"
}}
resource "lws_snapshot" "second" {{
  container_id = lws_container.web.id
  name         = "after-upgrade"
  depends_on   = [lws_snapshot.first]
}}
"#
    )
}

#[test]
fn snapshots_are_taken_described_drift_imported_and_deleted_alone() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}{}", container(), snapshots("before the upgrade")));
    tf.apply();
    tf.assert_no_changes();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    let first = tf.resource("lws_snapshot.first");
    assert_eq!(first["id"], format!("eu-south-1/az1/{vmid}/before-upgrade"));
    assert!(first["created_at"].as_str().is_some_and(|t| t.len() == 20 && t.ends_with('Z')), "{first}");
    assert!(first["parent"].is_null());
    assert_eq!(tf.resource("lws_snapshot.second")["parent"], "before-upgrade");
    let tree = sim.ok(AZ1, &format!("pct listsnapshot {vmid}"));
    assert!(
        tree.contains("before-upgrade") && tree.contains("before the upgrade") && tree.contains("after-upgrade"),
        "{tree}"
    );

    // The description changes in place.
    tf.write(&format!("{header}{}{}", container(), snapshots("known good")));
    let (_, plan) = tf.plan();
    assert!(plan.contains("update in-place") && !plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, &format!("pct listsnapshot {vmid}")).contains("known good"));

    // Deleted behind Terraform's back: planned again.
    sim.ok(AZ1, &format!("pct delsnapshot {vmid} after-upgrade"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("lws_snapshot.second will be created"), "{plan}");
    tf.apply();
    tf.assert_no_changes();

    // Import round trip.
    let before = tf.resource("lws_snapshot.first");
    tf.ok(&["state", "rm", "lws_snapshot.first"]);
    tf.ok(&["import", "-no-color", "lws_snapshot.first", &format!("eu-south-1/az1/{vmid}/before-upgrade")]);
    assert_eq!(tf.resource("lws_snapshot.first"), before);
    tf.assert_no_changes();

    // Invalid names are refused at plan time.
    tf.write(&format!(
        "{header}{}resource \"lws_snapshot\" \"bad\" {{\n  container_id = lws_container.web.id\n  name = \"1st\"\n}}\n",
        container()
    ));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    assert!(squash(&format!("{}{}", text(&out).0, text(&out).1)).contains("invalid snapshot name"));

    // Removing snapshots deletes them, never the container.
    tf.write(&format!("{header}{}", container()));
    tf.apply();
    tf.assert_no_changes();
    assert!(!sim.ok(AZ1, &format!("pct listsnapshot {vmid}")).contains("upgrade"));
    assert_eq!(sim.ok(AZ1, &format!("pct status {vmid}")), "status: running\n");

    // A snapshot whose container vanished is simply forgotten on destroy.
    tf.write(&format!("{header}{}{}", container(), snapshots("x")));
    tf.apply();
    sim.ok(AZ1, &format!("pct stop {vmid} && pct destroy {vmid} --purge"));
    tf.destroy();
    assert!(!tf.has_resource("lws_snapshot.first"));
}

fn group(rules: &str) -> String {
    format!("resource \"lws_security_group\" \"web\" {{\n  name        = \"web\"\n  description = \"web servers\"\n{rules}}}\n")
}

const RULES: &str = r#"  rule {
    direction = "in"
    action    = "ACCEPT"
    protocol  = "tcp"
    dport     = "80"
  }
  rule {
    direction = "in"
    action    = "ACCEPT"
    protocol  = "tcp"
    dport     = "443"
    comment   = "tls"
  }
  rule {
    direction = "in"
    action    = "ACCEPT"
    macro     = "SSH"
    source    = "10.0.0.0/8"
    enabled   = false
  }
"#;

fn attached(groups: &str) -> String {
    format!("resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  security_groups = [{groups}]\n}}\n")
}

#[test]
fn security_groups_keep_rule_order_and_state_and_attach_to_containers() {
    let sim = Sim::start(Server::OpenSsh, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}{}", group(RULES), attached("lws_security_group.web.name")));
    tf.apply();
    tf.assert_no_changes();
    let fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    assert_eq!(
        fw,
        "[group web] # web servers\n\nIN ACCEPT -p tcp -dport 80\nIN ACCEPT -p tcp -dport 443 # tls\n|IN SSH(ACCEPT) -source 10.0.0.0/8\n\n",
        "order and enabled state exactly as configured"
    );
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    assert_eq!(
        sim.ok(AZ1, &format!("cat /etc/pve/firewall/{vmid}.fw")),
        "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP web\n\n"
    );
    assert!(
        sim.ok(AZ1, &format!("pct config {vmid}")).contains(",firewall=1,"),
        "interfaces filter through the firewall"
    );
    assert_eq!(tf.resource("lws_security_group.web")["id"], "eu-south-1/web");

    // Reorder, change and drop rules: reconciled in place.
    let reordered = r#"  rule {
    direction = "in"
    action    = "ACCEPT"
    protocol  = "tcp"
    dport     = "443"
  }
  rule {
    direction = "in"
    action    = "DROP"
    protocol  = "tcp"
    dport     = "8000:8080"
  }
"#;
    tf.write(&format!("{header}{}{}", group(reordered), attached("lws_security_group.web.name")));
    let (_, plan) = tf.plan();
    assert!(!plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(
        sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw"),
        "[group web] # web servers\n\nIN ACCEPT -p tcp -dport 443\nIN DROP -p tcp -dport 8000:8080\n\n"
    );

    // A rule disabled behind Terraform's back is drift.
    sim.ok(AZ1, "pvesh set /cluster/firewall/groups/web/0 --enable 0");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("\nIN ACCEPT -p tcp -dport 443\n"));

    // Import round trip.
    let before = tf.resource("lws_security_group.web");
    tf.ok(&["state", "rm", "lws_security_group.web"]);
    tf.ok(&["import", "-no-color", "lws_security_group.web", "eu-south-1/web"]);
    assert_eq!(tf.resource("lws_security_group.web"), before);
    tf.assert_no_changes();

    // Detaching removes the group rule and turns the container firewall off again.
    tf.write(&format!("{header}{}{}", group(reordered), attached("")));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(
        sim.ok(AZ1, &format!("cat /etc/pve/firewall/{vmid}.fw 2>/dev/null || true")),
        "[OPTIONS]\n\nenable: 0\n\n"
    );

    // A group still used by a container outside Terraform is not deleted.
    sim.ok(AZ1, &format!("pct create 900 {DEBIAN} --rootfs local-lvm:4"));
    sim.ok(AZ1, "pvesh create /nodes/az1/lxc/900/firewall/rules --type group --action web --enable 1");
    let out = tf.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(all.contains("security group 'web' is still used by container 900"), "{all}");
    sim.ok(AZ1, "pvesh delete /nodes/az1/lxc/900/firewall/rules/0");
    tf.destroy();
    assert!(!sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw 2>/dev/null || true").contains("[group web]"));
}

#[test]
fn security_group_rules_are_validated_at_plan_time() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    for (name, rule, expected) in [
        ("web", "direction = \"sideways\"\n    action = \"ACCEPT\"", "invalid rule[0].direction"),
        ("web", "direction = \"in\"\n    action = \"allow\"", "'allow' must be ACCEPT, DROP or REJECT"),
        ("web", "direction = \"in\"\n    action = \"ACCEPT\"\n    dport = \"80\"", "ports need a protocol"),
        (
            "web",
            "direction = \"in\"\n    action = \"ACCEPT\"\n    protocol = \"icmp\"\n    dport = \"80\"",
            "protocol 'icmp' has no ports",
        ),
        (
            "web",
            "direction = \"in\"\n    action = \"ACCEPT\"\n    protocol = \"tcp\"\n    dport = \"99999\"",
            "is not a port list",
        ),
        ("web", "direction = \"in\"\n    action = \"ACCEPT\"\n    source = \"10.0.0.0/99\"", "invalid rule[0].source"),
        ("Web", "direction = \"in\"\n    action = \"ACCEPT\"", "write 'web'"),
        ("a-very-long-group-name", "direction = \"in\"\n    action = \"ACCEPT\"", "2 to 18 characters"),
    ] {
        let tf = Workspace::new(&format!(
            "{header}resource \"lws_security_group\" \"g\" {{\n  name = \"{name}\"\n  rule {{\n    {rule}\n  }}\n}}\n"
        ));
        let out = tf.run(&["plan", "-input=false", "-no-color"]);
        assert!(!out.status.success(), "{rule} should be refused");
        let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
        assert!(all.contains(expected), "expected `{expected}` in {all}");
    }
}

/// A container with a fixed `vmid` that is replaced takes its snapshots with it: the plan says
/// so, and the apply re-takes them on the new container (the id Terraform sees is unknown until
/// the replacement exists, even though it reads the same).
#[test]
fn replacing_a_container_with_a_fixed_vmid_replaces_its_snapshots_in_the_same_plan() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let web = |unprivileged: bool| {
        format!(
            "resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  vmid = 150\n  unprivileged = {unprivileged}\n  template = \"{DEBIAN}\"\n}}\n"
        )
    };
    let tf = Workspace::new(&format!("{header}{}{}", web(true), snapshots("first")));
    tf.apply();
    tf.assert_no_changes();

    tf.write(&format!("{header}{}{}", web(false), snapshots("first")));
    let (_, plan) = tf.plan();
    assert!(plan.contains("lws_snapshot.first must be replaced"), "{plan}");
    assert!(plan.contains("lws_snapshot.second must be replaced"), "{plan}");
    assert!(plan.contains("3 to add, 0 to change, 3 to destroy"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    let tree = sim.ok(AZ1, "pct listsnapshot 150");
    assert!(tree.contains("before-upgrade") && tree.contains("after-upgrade"), "{tree}");
    assert!(!sim.ok(AZ1, "pct config 150").contains("unprivileged: 1"));
}
