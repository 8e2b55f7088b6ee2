//! Real LXC behind the simulator: every started container is an LXC container on this machine,
//! so what the provider reads back (power state, addresses, MAC, what `pct exec` did inside) is
//! checked here from outside the simulator, with LXC's own tools on the node's lxcpath. The
//! simulator cannot agree with the provider by itself: LXC is the far end. Docker inside gets a
//! real `docker0`, whose address `lxc-info -i` lists beside the container's own.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::sim::{Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

/// The lxcpath of node `az1` of cluster `eu-south-1` (the node's `/var/lib/lxc`).
fn lxcpath(sim: &Sim) -> PathBuf {
    sim.state().join("clusters/eu-south-1/nodes/az1/var/lib/lxc")
}

/// Run one of LXC's tools on `lxcpath` and return what it printed (it must succeed).
fn lxc(tool: &str, lxcpath: &Path, args: &[&str]) -> String {
    let out = Command::new(format!("/usr/bin/{tool}"))
        .arg("-P")
        .arg(lxcpath)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{tool} {args:?} failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// `lxc-ls -f` rows as (name, state, IPv4 addresses).
fn lxc_ls(lxcpath: &Path) -> Vec<(String, String, String)> {
    lxc("lxc-ls", lxcpath, &["-f", "-F", "NAME,STATE,IPV4"])
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?.to_owned();
            let state = fields.next()?.to_owned();
            let ipv4 = fields.collect::<Vec<_>>().join(" ");
            Some((name, state, ipv4))
        })
        .collect()
}

fn row(lxcpath: &Path, vmid: u64) -> (String, String, String) {
    let rows = lxc_ls(lxcpath);
    rows.iter()
        .find(|(name, ..)| *name == vmid.to_string())
        .cloned()
        .unwrap_or_else(|| panic!("{vmid} not in {rows:?}"))
}

fn config(header: &str, web_started: bool) -> String {
    format!(
        "{header}\
         resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  \
           password = \"correct-horse\"\n  started  = {web_started}\n  \
           network  = [{{ ip = \"10.20.0.5/24\" }}]\n}}\n\
         resource \"lws_container\" \"db\" {{\n  hostname = \"db\"\n  template = \"{DEBIAN}\"\n}}\n"
    )
}

fn terraform_state_is_what_real_lxc_runs(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let path = lxcpath(&sim);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&config(&header, true));
    tf.apply();
    tf.assert_no_changes();

    for name in ["web", "db"] {
        let ct = tf.resource(&format!("lws_container.{name}"));
        let vmid = ct["vmid"].as_u64().expect("vmid");
        let (_, state, ipv4) = row(&path, vmid);
        assert_eq!(state, "RUNNING", "{name}");
        assert_eq!(ct["status"], "running");
        let address = ct["ipv4_address"].as_str().expect("ipv4_address");
        assert!(ipv4.split([',', ' ']).any(|a| a == address), "{name}: LXC has {ipv4:?}, Terraform {address}");
        // Inside, as LXC attaches to it: the kernel's hostname and the interface's MAC.
        assert_eq!(lxc("lxc-attach", &path, &["-n", &vmid.to_string(), "--", "hostname"]), format!("{name}\n"));
        let mac = lxc("lxc-attach", &path, &["-n", &vmid.to_string(), "--", "cat", "/sys/class/net/eth0/address"]);
        assert_eq!(mac.trim(), ct["mac_address"].as_str().expect("mac").to_lowercase(), "{name}");
    }
    assert_eq!(address_of(&tf, "web"), "10.20.0.5", "the static address is the one LXC configured on eth0");

    // The password went in through `pct exec … chpasswd` (lxc-attach): root has a hash now.
    let web = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid").to_string();
    let shadow = lxc("lxc-attach", &path, &["-n", &web, "--", "grep", "^root:", "/etc/shadow"]);
    assert!(shadow.starts_with("root:$"), "{shadow}");
    assert!(!shadow.contains("correct-horse"), "only a hash is stored");

    // Stopped behind everyone's back with LXC itself: Terraform sees it and starts it again.
    let db = tf.resource("lws_container.db")["vmid"].as_u64().expect("vmid");
    lxc("lxc-stop", &path, &["-n", &db.to_string(), "-k"]);
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "a container LXC stopped is drift:\n{plan}");
    tf.apply();
    assert_eq!(row(&path, db).1, "RUNNING");
    tf.assert_no_changes();

    // A power change through Terraform is LXC's state.
    tf.write(&config(&header, false));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(lxc("lxc-info", &path, &["-n", &web, "-s", "-H"]), "STOPPED\n");
    assert_eq!(tf.resource("lws_container.web")["status"], "stopped");

    // The simulator stops every container it started when it stops.
    let db_pid: u32 = lxc("lxc-info", &path, &["-n", &db.to_string(), "-p", "-H"]).trim().parse().expect("PID");
    assert!(Path::new(&format!("/proc/{db_pid}")).exists());
    drop(tf);
    drop(sim);
    assert!(!Path::new(&format!("/proc/{db_pid}")).exists(), "init {db_pid} of {db} outlived the simulator");
}

/// A container running Docker has docker0 (172.17.0.1) beside its own interface: `lxc-info -i`
/// lists both without names, so with no DHCP lease on `eth0` docker0's address is the only IPv4.
/// The provider must not take it for the lease.
fn docker_bridge_is_never_taken_for_the_lease(server: Server) {
    let sim = Sim::start(server, &[AZ1], &["--no-dhcp"]);
    let path = lxcpath(&sim);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf_config = format!(
        "{header}\
         resource \"lws_container\" \"app\" {{\n  hostname = \"app\"\n  template = \"{DEBIAN}\"\n}}\n\
         resource \"lws_docker_app\" \"web\" {{\n  container_id = lws_container.app.id\n  name = \"web\"\n  \
           image = \"nginx:1.25\"\n}}\n"
    );
    let tf = Workspace::new(&tf_config);
    tf.apply();
    let vmid = tf.resource("lws_container.app")["vmid"].as_u64().expect("vmid").to_string();
    let info = lxc("lxc-info", &path, &["-n", &vmid, "-i", "-H"]);
    assert_eq!(info, "172.17.0.1\n", "Docker's bridge is the only IPv4 LXC sees");
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(tf.resource("lws_container.app")["ipv4_address"], serde_json::Value::Null, "no lease, no address");
    tf.assert_no_changes();
    // An update re-reads the container on its node (`lxc-info -s -i` there) and still finds none.
    tf.write(&tf_config.replace("hostname = \"app\"", "hostname = \"app\"\n  description = \"docker host\""));
    tf.apply();
    assert_eq!(tf.resource("lws_container.app")["ipv4_address"], serde_json::Value::Null, "no lease, no address");
    tf.assert_no_changes();
}

#[test]
fn docker_bridge_is_never_taken_for_the_lease_embedded() {
    docker_bridge_is_never_taken_for_the_lease(Server::Embedded);
}

#[test]
fn docker_bridge_is_never_taken_for_the_lease_openssh() {
    docker_bridge_is_never_taken_for_the_lease(Server::OpenSsh);
}

fn address_of(tf: &Workspace, name: &str) -> String {
    tf.resource(&format!("lws_container.{name}"))["ipv4_address"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn terraform_state_is_what_real_lxc_runs_embedded() {
    terraform_state_is_what_real_lxc_runs(Server::Embedded);
}

#[test]
fn terraform_state_is_what_real_lxc_runs_openssh() {
    terraform_state_is_what_real_lxc_runs(Server::OpenSsh);
}
