//! `lws_template`: a template put on every host of a region from Proxmox's catalogue or from a
//! local file, a container created from it in the same apply, a host that lost it repaired,
//! import round-tripping, and bad input refused at plan with nothing left behind.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace};

const AZ1: &str = "eu-south-1/az1";
const AZ2: &str = "eu-south-1/az2";
const ALPINE: &str = "alpine-3.20-default_20240908_amd64.tar.xz";
const CUSTOM: &str = "custom-app_1.0_amd64.tar.gz";

fn templates_on(sim: &Sim, host: &str) -> String {
    sim.ok(host, "pveam list local")
}

fn catalogue_and_upload(server: Server) {
    let sim = Sim::start(server, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let config = format!(
        "{header}resource \"lws_template\" \"alpine\" {{\n  name = \"{ALPINE}\"\n}}\n\
         resource \"lws_template\" \"custom\" {{\n  source_file = \"{CUSTOM}\"\n  source_hash = filesha256(\"{CUSTOM}\")\n}}\n\
         resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  az = \"az2\"\n  template = lws_template.alpine.volid\n}}\n"
    );
    let tf = Workspace::new(&config);
    let payload: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    std::fs::write(tf.path().join(CUSTOM), &payload).expect("write the local template");
    tf.apply();
    for host in [AZ1, AZ2] {
        let list = templates_on(&sim, host);
        assert!(list.contains(&format!("local:vztmpl/{ALPINE}")), "{host}: {list}");
        assert!(list.contains(&format!("local:vztmpl/{CUSTOM}")), "{host}: {list}");
        let sum = sim.ok(host, &format!("cksum < /var/lib/vz/template/cache/{CUSTOM}"));
        let local = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("cksum < {CUSTOM}"))
            .current_dir(tf.path())
            .output()
            .expect("cksum");
        assert_eq!(sum, String::from_utf8_lossy(&local.stdout), "{host}: the uploaded bytes are the file's");
    }
    let alpine = tf.resource("lws_template.alpine");
    assert_eq!(alpine["volid"], format!("local:vztmpl/{ALPINE}"));
    assert_eq!(alpine["zones"], serde_json::json!(["az1", "az2"]));
    assert_eq!(alpine["id"], format!("eu-south-1/*/local/{ALPINE}"));
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    assert!(sim.ok(AZ2, &format!("pct config {vmid}")).contains("ostype: alpine"), "created from the template");
    tf.assert_no_changes();

    // Lost on one host behind Terraform's back: planned back, put back there only.
    sim.ok(AZ1, &format!("pveam remove local:vztmpl/{ALPINE}"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("lws_template.alpine will be created"), "{plan}");
    let downloads = |sim: &Sim| {
        sim.log()
            .iter()
            .filter(|e| e["kind"] == "tool" && e["argv"][0] == "pveam" && e["argv"][1] == "download")
            .count()
    };
    let before = downloads(&sim);
    tf.apply();
    assert_eq!(downloads(&sim), before + 1, "downloaded again only where it was missing");
    assert!(templates_on(&sim, AZ1).contains(ALPINE));
    tf.assert_no_changes();

    // Import round-trips: the catalogue name comes back as `name`.
    tf.ok(&["state", "rm", "lws_template.alpine"]);
    tf.ok(&["import", "-input=false", "lws_template.alpine", &format!("eu-south-1/*/local/{ALPINE}")]);
    tf.assert_no_changes();

    tf.destroy();
    for host in [AZ1, AZ2] {
        let list = templates_on(&sim, host);
        assert!(!list.contains(ALPINE) && !list.contains(CUSTOM), "{host}: {list}");
    }
}

#[test]
fn templates_from_the_catalogue_and_a_local_file_reach_every_host_embedded() {
    catalogue_and_upload(Server::Embedded);
}

#[test]
fn templates_from_the_catalogue_and_a_local_file_reach_every_host_openssh() {
    catalogue_and_upload(Server::OpenSsh);
}

#[test]
fn a_bad_template_is_refused_at_plan_and_nothing_is_left() {
    let sim = Sim::start(Server::Embedded, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let refused = |body: &str, expected: &[&str]| {
        let tf = Workspace::new(&format!("{header}resource \"lws_template\" \"t\" {{\n{body}\n}}\n"));
        let out = tf.run(&["plan", "-input=false", "-no-color"]);
        let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
        assert!(!out.status.success(), "{body}: {all}");
        for e in expected {
            assert!(all.contains(e), "{body}: expected {e:?} in {all}");
        }
    };
    refused(
        "  name = \"debian-13-imaginary_13.0-1_amd64.tar.zst\"",
        &["catalogue has no template 'debian-13-imaginary_13.0-1_amd64.tar.zst'", "similar: debian-", "name"],
    );
    refused(
        &format!("  name = \"{ALPINE}\"\n  storage = \"local-lvm\""),
        &[
            "storage 'local-lvm' on eu-south-1/az1 does not hold templates",
            "storages with 'vztmpl' content there: local",
        ],
    );
    refused(
        &format!("  name = \"{ALPINE}\"\n  storage = \"nfs9\""),
        &["storage 'nfs9' does not exist on eu-south-1/az1"],
    );
    refused("  source_file = \"old.tgz\"", &["must end in .tar, .tar.gz", "source_file"]);
    refused("  source_file = \"missing.tar.gz\"", &["cannot read 'missing.tar.gz'"]);
    refused(
        &format!("  name = \"{ALPINE}\"\n  source_file = \"x.tar\""),
        &["more than one of name, source_file and url are set"],
    );
    refused("  az = \"az9\"\n  name = \"x.tar\"", &["zone 'az9' is not configured"]);
    for host in [AZ1, AZ2] {
        let list = templates_on(&sim, host);
        assert!(!list.contains(ALPINE), "nothing downloaded: {list}");
    }
}

/// A local HTTP server for the simulated hosts to download from (they run on this machine).
struct HttpServer {
    child: std::process::Child,
    port: u16,
}

impl HttpServer {
    fn serve(dir: &std::path::Path) -> HttpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = std::process::Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 http.server");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        HttpServer { child, port }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256_of(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned()
}

/// Each host downloads the template from a URL itself, checking its checksum; a wrong checksum
/// fails with Proxmox's message and leaves no file and no state.
#[test]
fn a_template_from_a_url_is_downloaded_by_every_host_and_checked() {
    let sim = Sim::start(Server::Embedded, &[AZ1, AZ2], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let files = common::sim::ScratchDir::new("http");
    let payload: Vec<u8> = (0..50_000u32).flat_map(|i| (i * 7).to_le_bytes()).collect();
    std::fs::write(files.path.join("base-image_2.0_amd64.tar.zst"), &payload).expect("write");
    let sum = sha256_of(&files.path.join("base-image_2.0_amd64.tar.zst"));
    let server = HttpServer::serve(&files.path);
    let url = format!("http://127.0.0.1:{}/base-image_2.0_amd64.tar.zst", server.port);
    let config = |checksum: &str| {
        format!("{header}resource \"lws_template\" \"base\" {{\n  url = \"{url}\"\n  checksum = \"sha256:{checksum}\"\n}}\n")
    };

    let wrong = "0".repeat(64);
    let tf = Workspace::new(&config(&wrong));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success(), "{all}");
    assert!(all.contains(&format!("checksum mismatch: got '{sum}' != expect '{wrong}'")), "{all}");
    assert!(!tf.has_resource("lws_template.base"), "nothing in state");
    for host in [AZ1, AZ2] {
        let left = sim.ok(host, "ls -a /var/lib/vz/template/cache/");
        assert!(!left.contains("base-image"), "{host}: no file or partial download left: {left}");
    }

    tf.write(&config(&sum));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(tf.resource("lws_template.base")["file_name"], "base-image_2.0_amd64.tar.zst");
    for host in [AZ1, AZ2] {
        assert!(templates_on(&sim, host).contains("local:vztmpl/base-image_2.0_amd64.tar.zst"), "{host}");
        assert_eq!(
            sim.ok(host, "sha256sum < /var/lib/vz/template/cache/base-image_2.0_amd64.tar.zst")
                .split_whitespace()
                .next(),
            Some(sum.as_str())
        );
    }
    tf.destroy();
    drop(server);
}
