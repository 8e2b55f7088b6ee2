//! Secrets never appear in logs or on remote command lines: an apply with `TF_LOG=trace`, SSH
//! password authentication and a container root password, then a grep of Terraform's whole
//! log, its output and the simulator's command log (every command line the host ran).

mod common;

use common::sim::{Server, Sim};
use common::terraform::{text, Workspace, DEBIAN};
use sha2::{Digest, Sha256};

const HOST: &str = "eu-south-1/az1";

/// Check `/etc/shadow`'s `$5$salt$hash` entry for root the way the simulator writes it.
fn root_password_is(sim: &Sim, vmid: u64, password: &str) -> bool {
    let shadow = sim.ok(HOST, &format!("pct exec {vmid} -- cat /etc/shadow"));
    shadow.lines().filter(|l| l.starts_with("root:")).any(|line| {
        let stored = line.split(':').nth(1).unwrap_or_default();
        let mut parts = stored.split('$').skip(2);
        match (parts.next(), parts.next()) {
            (Some(salt), Some(hash)) => {
                let digest = Sha256::digest(format!("{salt}{password}").as_bytes());
                digest.iter().map(|b| format!("{b:02x}")).collect::<String>() == hash
            }
            _ => false,
        }
    })
}

#[test]
fn no_secret_reaches_a_log_or_a_remote_command_line() {
    let ssh_password = "ssh-pw-Q7x!2;rm -rf";
    let root_password = "root-pw-Z9$(id)";
    let new_root_password = "root-pw-second-K4";
    let sim = Sim::start(Server::Embedded, &[HOST], &["--password", ssh_password]);
    let port = sim.port(HOST);
    let pin = sim.host(HOST)["host_key_fingerprint"].as_str().expect("fingerprint").to_owned();
    let main_tf = |password: &str| {
        format!(
            r#"terraform {{
  required_providers {{
    lws = {{ source = "lws/lws" }}
  }}
}}
variable "ssh_password" {{
  type      = string
  sensitive = true
}}
provider "lws" {{
  region  = "eu-south-1"
  regions = {{
    "eu-south-1" = {{
      availability_zones = {{
        az1 = {{ host = "127.0.0.1", port = {port}, user = "root", ssh_password = var.ssh_password, host_key = "{pin}" }}
      }}
    }}
  }}
}}
resource "lws_container" "web" {{
  template = "{DEBIAN}"
  hostname = "web"
  password = "{password}"
}}
"#
        )
    };
    let mut tf = Workspace::new(&main_tf(root_password));
    let log = tf.path().join("terraform.log");
    tf.set_env("TF_LOG", "trace");
    tf.set_env("TF_LOG_PATH", &log.display().to_string());
    tf.set_env("TF_VAR_ssh_password", ssh_password);

    let apply = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let (out1, err1) = text(&apply);
    assert!(apply.status.success(), "{out1}\n{err1}");
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    assert!(root_password_is(&sim, vmid, root_password), "the root password was set inside the container");

    // Changing the password later goes the same way (stdin, never argv).
    tf.write(&main_tf(new_root_password));
    let update = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let (out2, err2) = text(&update);
    assert!(update.status.success(), "{out2}\n{err2}");
    assert!(root_password_is(&sim, vmid, new_root_password));
    let plan = tf.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan).0);

    let log_text = std::fs::read_to_string(&log).expect("TF_LOG_PATH written");
    assert!(
        log_text.contains("provider.lws") && log_text.contains("ssh exec"),
        "the provider's own logs reach Terraform's log"
    );
    let commands = std::fs::read_to_string(sim.state().join("commands.log")).expect("command log");
    assert!(commands.contains("chpasswd"), "the password was set through chpasswd");
    for secret in [ssh_password, root_password, new_root_password] {
        for (name, haystack) in [
            ("TF_LOG", &log_text),
            ("command log", &commands),
            ("stdout", &out1),
            ("stderr", &err1),
            ("stdout", &out2),
            ("stderr", &err2),
        ] {
            assert!(!haystack.contains(secret), "secret {secret:?} appears in {name}");
        }
    }
}
