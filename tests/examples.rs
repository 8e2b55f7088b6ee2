//! The runnable examples apply cleanly against the simulator, plan no changes afterwards, and
//! destroy cleanly: `examples/quickstart/` (what `make demo` runs) and `examples/webapp/`.

mod common;

use std::path::Path;

use common::sim::{cargo_as_from_a_shell, sim_binary, ScratchDir, Server, Sim};
use common::terraform::Workspace;

fn apply_example(name: &str, server: Server) -> (Sim, Workspace) {
    let sim = Sim::start(server, &["eu-south-1/az1", "eu-south-1/az2"], &[]);
    let mut tf = Workspace::new("");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name);
    for entry in std::fs::read_dir(&dir).expect("example dir").flatten() {
        std::fs::copy(entry.path(), tf.path().join(entry.file_name())).expect("copy example");
    }
    tf.set_env("TF_VAR_lws_config_file", &sim.config_file().display().to_string());
    let out = tf.apply();
    assert!(out.contains("Apply complete!"), "{out}");
    tf.assert_no_changes();
    (sim, tf)
}

#[test]
fn the_quickstart_example_applies_and_destroys_cleanly() {
    let (sim, tf) = apply_example("quickstart", Server::Embedded);
    let az1 = sim.ok("eu-south-1/az1", "pct list");
    assert!(az1.contains("web-1") && az1.contains("db"), "{az1}");
    assert!(sim.ok("eu-south-1/az2", "pct list").contains("web-2"));
    tf.destroy();
    assert_eq!(sim.ok("eu-south-1/az1", "pct list") + &sim.ok("eu-south-1/az2", "pct list"), "");
}

#[test]
fn the_webapp_example_wires_groups_containers_apps_and_snapshots() {
    let (sim, tf) = apply_example("webapp", Server::OpenSsh);
    for (host, az) in [("eu-south-1/az1", "az1"), ("eu-south-1/az2", "az2")] {
        let web = tf.resource(&format!("lws_container.web[\"{az}\"]"));
        let vmid = web["vmid"].as_u64().expect("vmid");
        assert_eq!(web["node"], az);
        let fw = sim.ok(host, &format!("cat /etc/pve/firewall/{vmid}.fw"));
        assert!(fw.contains("GROUP webapp") && fw.contains("enable: 1"), "{fw}");
        assert!(sim.ok(host, &format!("pct exec {vmid} -- docker ps")).contains("0.0.0.0:80->80/tcp"));
        assert!(sim.ok(host, &format!("pct listsnapshot {vmid}")).contains("first-deploy"));
    }
    let groups = sim.ok("eu-south-1/az1", "cat /etc/pve/firewall/cluster.fw");
    assert!(groups.contains("IN ACCEPT -p tcp -dport 80 # http\nIN ACCEPT -p tcp -dport 443 # https"), "{groups}");
    tf.destroy();
    assert_eq!(sim.ok("eu-south-1/az1", "pct list") + &sim.ok("eu-south-1/az2", "pct list"), "");
}

/// The README's demo command, run as a newcomer with `CARGO_TARGET_DIR` elsewhere would: it says
/// what it does first, finds the binaries where cargo put them (not `./target`), applies, plans
/// nothing and destroys. The other directory is a link to this build's target directory, and
/// nothing may be rebuilt there: a relinked `lws-sim` is missing for a moment under the
/// simulators other tests are running (a CI run failed on "cannot start shell").
#[test]
fn make_demo_runs_with_the_target_directory_elsewhere() {
    let exe = std::env::current_exe().expect("test binary path");
    // <target>/debug/deps/examples-<hash>
    let target = exe.ancestors().nth(3).expect("target directory");
    let elsewhere = ScratchDir::new("demo");
    let link = elsewhere.path.join("cargo-target");
    std::os::unix::fs::symlink(target, &link).expect("link to the target directory");
    let binaries = [sim_binary().to_path_buf(), target.join("debug").join("terraform-provider-lws")];
    let inode = |path: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).expect("a built binary"));
    let before: Vec<u64> = binaries.iter().map(|b| inode(b)).collect();
    let out = cargo_as_from_a_shell("make")
        .args(["--no-print-directory", "demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", &link)
        .env_remove("TF_CLI_CONFIG_FILE")
        .output()
        .expect("make runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "make demo failed:\n{stdout}\n{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("setup: "), "the first line says what is happening: {first:?}");
    assert!(stdout.contains("==> Building the provider"), "{stdout}");
    let started = format!("==> Starting simulated Proxmox VE hosts ({}/debug/lws-sim)", link.display());
    assert!(stdout.contains(&started), "the simulator is run from CARGO_TARGET_DIR:\n{stdout}");
    assert!(stdout.contains("Apply complete! Resources: 3 added"), "{stdout}");
    assert!(stdout.contains("No changes.") || stdout.contains("no changes are needed"), "{stdout}");
    assert!(stdout.contains("Destroy complete! Resources: 3 destroyed."), "{stdout}");
    for warning in ["terraformrc", "Warning"] {
        assert!(!stdout.contains(warning) && !stderr.contains(warning), "no {warning} shown:\n{stdout}\n{stderr}");
    }
    let after: Vec<u64> = binaries.iter().map(|b| inode(b)).collect();
    assert_eq!(
        before, after,
        "`make demo` relinked {binaries:?} under the other tests; build them as `make test` does \
         (cargo build --workspace --bins) before running this test"
    );
}
