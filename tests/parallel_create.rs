//! VMID allocation under pressure: `terraform apply -parallelism=20` creating 40 containers on
//! two nodes of one cluster, ten rounds in a row, while someone else creates containers on the
//! same cluster with Proxmox's own `nextid` (which reserves nothing).

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Instant;

use common::sim::{Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";
const AZ2: &str = "eu-south-1/az2";

#[test]
fn forty_parallel_creates_never_collide_ten_rounds_in_a_row() {
    let sim = Sim::start(Server::Embedded, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!(
        "{header}resource \"lws_container\" \"ct\" {{\n  count    = 40\n  az       = count.index % 2 == 0 ? \"az1\" : \"az2\"\n  hostname = \"ct-${{count.index}}\"\n  template = \"{DEBIAN}\"\n  started  = false\n}}\n"
    ));
    let apply = ["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20"];
    let destroy = ["destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=20"];
    let mut outsiders = 0;
    for round in 1..=10 {
        let started = Instant::now();
        let busy = AtomicBool::new(true);
        // Someone else allocating with nextid meanwhile, on the other node of the cluster.
        let outside = thread::scope(|scope| {
            let competitor = scope.spawn(|| {
                let mut made = 0;
                while busy.load(Ordering::SeqCst) && made < 3 {
                    let out = sim.ssh(
                        AZ2,
                        &format!(
                            "pct create $(pvesh get /cluster/nextid) {DEBIAN} --rootfs local-lvm:4 --hostname outsider"
                        ),
                    );
                    made += usize::from(out.status.success());
                }
                made
            });
            let out = tf.run(&apply);
            busy.store(false, Ordering::SeqCst);
            let made = competitor.join().expect("competitor");
            assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
            made
        });
        outsiders += outside;
        let state = tf.state();
        let vmids: BTreeSet<u64> = state["values"]["root_module"]["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(|r| r["values"]["vmid"].as_u64())
            .collect();
        assert_eq!(vmids.len(), 40, "round {round}: 40 distinct VMIDs");
        let on_hosts =
            sim.ok(AZ1, "pct list").lines().skip(1).count() + sim.ok(AZ2, "pct list").lines().skip(1).count();
        assert_eq!(on_hosts, 40 + outsiders, "round {round}: every create made exactly one container");
        tf.ok(&destroy);
        eprintln!("round {round}: 40 containers created and destroyed in {:.1}s", started.elapsed().as_secs_f64());
    }
    let collisions =
        sim.log().iter().filter(|e| e["kind"] == "tool" && e["argv"][1] == "create" && e["exit"] == 255).count();
    eprintln!("{outsiders} outside creates; {collisions} create attempts lost a VMID race and were retried");
}
