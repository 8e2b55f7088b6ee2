//! `terraform query` (plugin protocol 6.10, Terraform ≥ 1.14: the PyPI wheel's 1.15) over the
//! lists of containers, snapshots, Docker apps and security groups: what was made outside
//! Terraform (containers in two regions, a snapshot, an app, a group) is found, filtered, and
//! adopted through `-generate-config-out` with a plan that replaces nothing.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{clis, provider_block, Workspace, DEBIAN};

const EU: &str = "eu-south-1/az1";
const US: &str = "us-east-1/az1";

fn made_outside_terraform(sim: &Sim) {
    sim.ok(EU, &format!("pct create 120 {DEBIAN} --rootfs local-lvm:4 --hostname web-eu --tags prod --start 1"));
    sim.ok(EU, &format!("pct create 121 {DEBIAN} --rootfs local-lvm:4 --hostname scratch-eu"));
    sim.ok(US, &format!("pct create 130 {DEBIAN} --rootfs local-lvm:4 --hostname web-us --tags prod --start 1"));
    sim.ok(EU, "pct snapshot 120 before-upgrade --description 'pre 2.0'");
    // An app the LWS tool deployed: its layout, its compose project.
    sim.ok(EU, "pct exec 120 -- apt-get install -y -q docker.io docker-compose-v2");
    sim.ok(
        EU,
        "pct exec 120 -- sh -c 'mkdir -p /opt/lws/apps/blog && printf \"services:\\n  blog:\\n    image: nginx:1.25\\n\" \
         > /opt/lws/apps/blog/docker-compose.yml && docker compose -p blog -f /opt/lws/apps/blog/docker-compose.yml up -d'",
    );
    sim.ok(EU, "pvesh create /cluster/firewall/groups --group webfw --comment 'web servers'");
    sim.ok(
        EU,
        "pvesh create /cluster/firewall/groups/webfw --type in --action ACCEPT --proto tcp --dport 443 --enable 1",
    );
}

#[test]
fn containers_made_outside_terraform_are_listed_and_adopted_with_no_replacement() {
    let sim = Sim::start(Server::Embedded, &[EU, US], &[]);
    made_outside_terraform(&sim);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::with_cli(clis().wheel.clone(), &header);
    std::fs::write(
        tf.path().join("estate.tfquery.hcl"),
        "list \"lws_container\" \"web\" {\n  provider = lws\n  config {\n    hostname = \"web-*\"\n  }\n}\n\
         list \"lws_container\" \"stopped_eu\" {\n  provider = lws\n  config {\n    region = \"eu-south-1\"\n    status = \"stopped\"\n  }\n}\n",
    )
    .expect("query file");

    let listed = squash(&tf.ok(&["query", "-no-color"]));
    for name in ["web-eu (eu-south-1/az1/120)", "web-us (us-east-1/az1/130)", "scratch-eu (eu-south-1/az1/121)"] {
        assert!(listed.contains(name), "{name} not listed:\n{listed}");
    }
    assert_eq!(listed.matches("scratch-eu").count(), 1, "only the stopped list has it:\n{listed}");

    // Adopt the web servers: generated resources and import blocks, then a plan that
    // imports them and replaces nothing.
    std::fs::write(
        tf.path().join("estate.tfquery.hcl"),
        "list \"lws_container\" \"web\" {\n  provider = lws\n  config {\n    tags = [\"prod\"]\n  }\n}\n\
         list \"lws_security_group\" \"web\" {\n  provider = lws\n  config {\n    name = \"web*\"\n  }\n}\n\
         list \"lws_snapshot\" \"before\" {\n  provider = lws\n  config {\n    container_id = \"eu-south-1/az1/120\"\n  }\n}\n\
         list \"lws_docker_app\" \"apps\" {\n  provider = lws\n  config {\n    container_id = \"eu-south-1/az1/120\"\n  }\n}\n",
    )
    .expect("query file");
    let out = tf.run(&["query", "-no-color", "-generate-config-out=adopt.tf"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let adopt = std::fs::read_to_string(tf.path().join("adopt.tf")).expect("adopt.tf written");
    assert_eq!(adopt.matches("resource \"lws_container\"").count(), 2, "{adopt}");
    assert_eq!(adopt.matches("resource \"lws_security_group\"").count(), 1, "{adopt}");
    assert_eq!(adopt.matches("resource \"lws_snapshot\"").count(), 1, "{adopt}");
    assert_eq!(adopt.matches("resource \"lws_docker_app\"").count(), 1, "{adopt}");
    assert_eq!(adopt.matches("import {").count(), 5, "{adopt}");

    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    let plan = squash(&plan);
    assert!(plan.contains("Plan: 5 to import, 0 to add,") && plan.contains("0 to destroy"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(sim.ok(EU, "pct list").lines().count(), 3, "nothing made or removed");
}

/// A filter Proxmox could never match is an error naming it, not an empty list.
#[test]
fn a_bad_filter_is_an_error() {
    let sim = Sim::start(Server::Embedded, &[EU], &[]);
    let tf = Workspace::with_cli(clis().wheel.clone(), &provider_block(&sim.config_file(), "eu-south-1"));
    std::fs::write(
        tf.path().join("bad.tfquery.hcl"),
        "list \"lws_container\" \"x\" {\n  provider = lws\n  config {\n    status = \"paused\"\n  }\n}\n",
    )
    .expect("query file");
    let out = tf.run(&["query", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("invalid status filter"), "{all}");
}
