//! The read-only view through the real terraform CLI: `lws_hosts`, `lws_clusters`, `lws_status`,
//! `lws_container` (data source) and `lws_templates`.

mod common;

use common::sim::{Server, Sim};
use common::terraform::{text, Workspace, DEBIAN};
use serde_json::Value;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Provider block: the simulator's file plus, inline, a zone nobody answers for.
fn provider(sim: &Sim, dead_port: u16) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    lws = {{ source = "lws/lws" }}
  }}
}}
provider "lws" {{
  config_file = "{}"
  region      = "eu-south-1"
  regions = {{
    "eu-west-9" = {{ availability_zones = {{ az1 = {{ host = "127.0.0.1", port = {dead_port}, ssh_password = "unused-pw", host_key = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }} }} }}
  }}
  ssh = {{ connect_timeout = "2s", retries = 0 }}
}}
"#,
        sim.config_file().display()
    )
}

fn outputs(tf: &Workspace) -> Value {
    serde_json::from_str(&tf.ok(&["output", "-json", "-no-color"])).expect("terraform output -json")
}

#[test]
fn hosts_clusters_and_status_describe_the_cloud() {
    let sim = Sim::start(Server::Embedded, &["eu-south-1/az1", "eu-south-1/az2", "us-east-1/az1"], &[]);
    let dead = free_port();
    sim.ok("eu-south-1/az1", &format!("pct create 200 {DEBIAN} --hostname running --rootfs local-lvm:8 --start 1"));
    sim.ok("eu-south-1/az1", &format!("pct create 201 {DEBIAN} --hostname idle --rootfs local-lvm:8"));
    let tf = Workspace::new(&format!(
        r#"{}
data "lws_hosts" "all" {{}}
data "lws_clusters" "all" {{}}
data "lws_status" "az1" {{
  region = "eu-south-1"
  az     = "az1"
}}
output "hosts" {{ value = data.lws_hosts.all.hosts }}
output "clusters" {{ value = data.lws_clusters.all.clusters }}
output "unreachable" {{ value = data.lws_clusters.all.unreachable }}
output "status" {{ value = data.lws_status.az1.hosts }}
data "lws_status" "everywhere" {{}}
output "everywhere" {{ value = data.lws_status.everywhere.hosts }}
"#,
        provider(&sim, dead)
    ));
    tf.apply();
    let out = outputs(&tf);

    let hosts = out["hosts"]["value"].as_array().expect("hosts").clone();
    assert_eq!(hosts.len(), 4);
    let by_zone = |region: &str, az: &str| {
        hosts.iter().find(|h| h["region"] == region && h["az"] == az).cloned().expect("host listed")
    };
    let az1 = by_zone("eu-south-1", "az1");
    assert_eq!(
        (az1["reachable"].as_bool(), az1["node"].as_str(), az1["pve_version"].as_str()),
        (Some(true), Some("az1"), Some("8.4.1"))
    );
    let dead_host = by_zone("eu-west-9", "az1");
    assert_eq!(dead_host["reachable"], false, "an unreachable host is reported, not an error");
    assert!(dead_host["error"].as_str().is_some_and(|e| e.contains("cannot connect")), "{dead_host}");

    let clusters = out["clusters"]["value"].as_array().expect("clusters").clone();
    let eu = clusters.iter().find(|c| c["name"] == "eu-south-1").expect("the eu cluster");
    assert_eq!(
        (eu["quorate"].as_bool(), eu["standalone"].as_bool(), eu["expected_votes"].as_i64()),
        (Some(true), Some(false), Some(2))
    );
    assert_eq!(eu["availability_zones"], serde_json::json!(["eu-south-1/az1", "eu-south-1/az2"]));
    assert_eq!(eu["nodes"].as_array().map(Vec::len), Some(2));
    let us =
        clusters.iter().find(|c| c["availability_zones"] == serde_json::json!(["us-east-1/az1"])).expect("us host");
    assert_eq!((us["standalone"].as_bool(), us["quorate"].as_bool()), (Some(true), Some(true)));

    assert_eq!(out["unreachable"]["value"], serde_json::json!(["eu-west-9/az1"]));

    let status = out["status"]["value"].as_array().expect("status").clone();
    assert_eq!(status.len(), 1);
    let s = &status[0];
    assert_eq!((s["containers_running"].as_i64(), s["containers_stopped"].as_i64()), (Some(1), Some(1)));
    assert!(s["memory_total"].as_i64().unwrap_or(0) > s["memory_used"].as_i64().unwrap_or(i64::MAX));
    assert_eq!(s["load_average"].as_array().map(Vec::len), Some(3));
    let storages: Vec<&str> =
        s["storages"].as_array().expect("storages").iter().filter_map(|x| x["name"].as_str()).collect();
    assert_eq!(storages, ["local", "local-lvm"]);

    assert_eq!(s["reachable"], true);
    // lws_status lists the host nobody answers for, as lws_hosts does, instead of failing whole.
    let everywhere = out["everywhere"]["value"].as_array().expect("status").clone();
    assert_eq!(everywhere.len(), 4);
    let dead_status = everywhere.iter().find(|h| h["region"] == "eu-west-9").expect("the dead host is listed");
    assert_eq!(dead_status["reachable"], false);
    assert!(dead_status["error"].as_str().is_some_and(|e| e.contains("cannot connect")), "{dead_status}");
    assert!(dead_status["cpu_usage"].is_null() && dead_status["storages"].is_null(), "{dead_status}");

    // require_reachable turns the unreachable host into an error.
    tf.write(&format!("{}\ndata \"lws_hosts\" \"strict\" {{\n  require_reachable = true\n}}\n", provider(&sim, dead)));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(format!("{stdout}{stderr}").contains("host eu-west-9/az1 is unreachable"), "{stderr}");
}

#[test]
fn containers_and_templates_are_looked_up() {
    // pvestatd never updates: the cluster view says `unknown` for every guest.
    let sim =
        Sim::start(Server::Embedded, &["eu-south-1/az1", "eu-south-1/az2"], &["--pvestatd-interval", "1000000000"]);
    sim.ok("eu-south-1/az2", &format!("pct create 300 {DEBIAN} --hostname api --memory 1024 --rootfs local-lvm:8 --net0 name=eth0,bridge=vmbr0,ip=10.1.0.7/24 --start 1"));
    sim.ok("eu-south-1/az1", &format!("pct create 301 {DEBIAN} --hostname twin --rootfs local-lvm:8"));
    sim.ok("eu-south-1/az2", &format!("pct create 302 {DEBIAN} --hostname twin --rootfs local-lvm:8"));
    let header = provider(&sim, free_port());
    let tf = Workspace::new(&format!(
        r#"{header}
data "lws_container" "by_id" {{ id = "eu-south-1/az2/300" }}
data "lws_container" "by_vmid" {{ vmid = 300 }}
data "lws_container" "by_name" {{ hostname = "api" }}
data "lws_container" "by_old_id" {{ id = "eu-south-1/az1/300" }}
data "lws_templates" "debian" {{
  az                = "az1"
  name_regex        = "^debian-"
  include_available = true
}}
output "by_id" {{ value = data.lws_container.by_id }}
output "by_vmid" {{ value = data.lws_container.by_vmid.id }}
output "by_name" {{ value = data.lws_container.by_name.id }}
output "by_old_id" {{ value = data.lws_container.by_old_id }}
output "templates" {{ value = data.lws_templates.debian }}
"#
    ));
    tf.apply();
    tf.assert_no_changes();
    let out = outputs(&tf);
    let api = &out["by_id"]["value"];
    assert_eq!(
        (api["hostname"].as_str(), api["memory"].as_i64(), api["node"].as_str()),
        (Some("api"), Some(1024), Some("az2"))
    );
    assert_eq!((api["status"].as_str(), api["ipv4_address"].as_str()), (Some("running"), Some("10.1.0.7")));
    assert_eq!(out["by_vmid"]["value"], "eu-south-1/az2/300");
    assert_eq!(out["by_name"]["value"], "eu-south-1/az2/300");
    // An id naming the zone it was in before a migration: found where it is, its running state
    // read on its own node (the cluster view says `unknown` until pvestatd's first sample).
    let moved = &out["by_old_id"]["value"];
    assert_eq!((moved["az"].as_str(), moved["node"].as_str()), (Some("az2"), Some("az2")), "{moved}");
    assert_eq!(moved["status"], "running", "{moved}");
    let templates = &out["templates"]["value"];
    let names: Vec<&str> =
        templates["templates"].as_array().expect("list").iter().filter_map(|t| t["volid"].as_str()).collect();
    assert_eq!(names, [DEBIAN], "only debian matches the regex");
    let offered: Vec<&str> =
        templates["available"].as_array().expect("list").iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(
        offered.contains(&"debian-11-standard_11.7-1_amd64.tar.zst")
            && offered.iter().all(|n| n.starts_with("debian-")),
        "{offered:?}"
    );

    for (config, expected) in [
        ("data \"lws_container\" \"x\" { hostname = \"twin\" }", "2 containers match hostname 'twin'"),
        ("data \"lws_container\" \"x\" { vmid = 999 }", "no container with VMID 999"),
        (
            "data \"lws_container\" \"x\" {\n  vmid = 300\n  hostname = \"api\"\n}",
            "give exactly one of id, vmid, hostname",
        ),
        ("data \"lws_templates\" \"x\" { name_regex = \"([\" }", "invalid name_regex"),
        ("data \"lws_status\" \"x\" { az = \"az9\" }", "unknown availability zone 'az9'"),
    ] {
        tf.write(&format!("{header}\n{config}\n"));
        let out = tf.run(&["plan", "-input=false", "-no-color"]);
        let (stdout, stderr) = text(&out);
        assert!(!out.status.success(), "{config} should fail");
        let all = format!("{stdout}{stderr}").split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(all.contains(expected), "{config}: expected `{expected}` in\n{all}");
    }
}
