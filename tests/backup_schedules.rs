//! `lws_backup_schedule`: one of Proxmox's backup jobs created, changed in place, imported and
//! removed, read back from `/etc/pve/jobs.cfg` as pve-common's SectionConfig writes it; an
//! invalid schedule refused with Proxmox's message at the attribute.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace};

const AZ1: &str = "eu-south-1/az1";
const AZ2: &str = "eu-south-1/az2";

fn jobs_cfg(sim: &Sim) -> String {
    sim.ok(AZ2, "cat /etc/pve/jobs.cfg 2>/dev/null || true")
}

fn schedule_lifecycle(server: Server) {
    let sim = Sim::start(server, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let first = "resource \"lws_backup_schedule\" \"nightly\" {\n  name = \"nightly\"\n  schedule = \"21:00\"\n  \
                 vmids = [101, 100]\n  keep_last = 3\n  comment = \"nightly: 100% of CTs\"\n}\n";
    let tf = Workspace::new(&format!("{header}{first}"));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(
        jobs_cfg(&sim),
        "vzdump: nightly\n\tcomment nightly%3A 100%25 of CTs\n\tschedule 21:00\n\tcompress zstd\n\tenabled 1\n\t\
         mode snapshot\n\tprune-backups keep-last=3\n\tstorage local\n\tvmid 100,101\n\n",
        "the cluster-wide file, on the other node too"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&sim.ok(AZ1, "pvesh get /cluster/backup --output-format json")).expect("json");
    assert_eq!(listed[0]["id"], "nightly");
    assert_eq!(listed[0]["comment"], "nightly: 100% of CTs");
    assert!(listed[0]["next-run"].as_u64().is_some(), "{listed}");

    // In place: another schedule, every guest, other retention, paused, no comment.
    let second =
        "resource \"lws_backup_schedule\" \"nightly\" {\n  name = \"nightly\"\n  schedule = \"mon..fri 02:30\"\n  \
                  all = true\n  keep_daily = 7\n  keep_weekly = 4\n  enabled = false\n  mode = \"stop\"\n}\n";
    tf.write(&format!("{header}{second}"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("1 to change") && !plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    let file = jobs_cfg(&sim);
    assert!(file.contains("\tall 1\n") && !file.contains("vmid") && !file.contains("comment"), "{file}");
    assert!(file.contains("\tenabled 0\n") && file.contains("\tprune-backups keep-daily=7,keep-weekly=4\n"), "{file}");
    assert!(file.contains("\tschedule mon..fri 02:30\n") && file.contains("\tmode stop\n"), "{file}");

    // "All except selected" and "Keep all backups" (the web UI's `exclude`, `keep-all=1`), then
    // imported with them.
    tf.write(&format!(
        "{header}{}",
        second.replace("keep_daily = 7\n  keep_weekly = 4", "keep_all = true\n  exclude = [103, 101]")
    ));
    tf.apply();
    tf.assert_no_changes();
    let file = jobs_cfg(&sim);
    assert!(file.contains("\tprune-backups keep-all=1\n") && file.contains("\texclude 101,103\n"), "{file}");

    // Import round-trips.
    tf.ok(&["state", "rm", "lws_backup_schedule.nightly"]);
    tf.ok(&["import", "-input=false", "lws_backup_schedule.nightly", "eu-south-1/nightly"]);
    tf.assert_no_changes();

    // Removed behind Terraform's back: planned again.
    sim.ok(AZ1, "pvesh delete /cluster/backup/nightly");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("will be created"), "{plan}");
    tf.apply();
    tf.assert_no_changes();

    tf.destroy();
    assert!(!jobs_cfg(&sim).contains("nightly"), "removed");
}

#[test]
fn a_backup_schedule_is_created_changed_imported_and_removed_embedded() {
    schedule_lifecycle(Server::Embedded);
}

#[test]
fn a_backup_schedule_is_created_changed_imported_and_removed_openssh() {
    schedule_lifecycle(Server::OpenSsh);
}

#[test]
fn a_bad_schedule_is_refused_at_its_attribute() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let refused = |body: &str, expected: &[&str]| {
        let tf = Workspace::new(&format!("{header}resource \"lws_backup_schedule\" \"s\" {{\n{body}\n}}\n"));
        let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
        assert!(!out.status.success(), "{body}: {all}");
        for e in expected {
            assert!(all.contains(e), "{body}: expected {e:?} in {all}");
        }
        assert!(!tf.has_resource("lws_backup_schedule.s"), "nothing in state");
    };
    refused(
        "  name = \"s1\"\n  schedule = \"whenever\"\n  all = true",
        &["creating backup job 's1' failed", "invalid calendar event 'whenever'", "schedule"],
    );
    refused("  name = \"s2\"\n  schedule = \"21:00\"", &["nothing to back up", "vmids"]);
    refused("  name = \"s3\"\n  schedule = \"21:00\"\n  all = true\n  vmids = [101]", &["vmids and all are exclusive"]);
    refused("  name = \"9lives\"\n  schedule = \"21:00\"\n  all = true", &["invalid name"]);
    refused("  name = \"s4\"\n  schedule = \"21:00\"\n  all = true\n  keep_last = 0", &["invalid keep_last"]);
    refused(
        "  name = \"s5\"\n  schedule = \"21:00\"\n  all = true\n  keep_all = true\n  keep_last = 2",
        &["keep_all conflicts with the keep_* rules"],
    );
    refused(
        "  name = \"s6\"\n  schedule = \"21:00\"\n  all = true\n  keep_all = false",
        &["keep_all = false is not a setting"],
    );
    refused(
        "  name = \"s7\"\n  schedule = \"21:00\"\n  vmids = [100]\n  exclude = [101]",
        &["exclude needs all = true"],
    );
    assert_eq!(sim.ok(AZ1, "cat /etc/pve/jobs.cfg 2>/dev/null || true"), "", "no job was left behind");
}
