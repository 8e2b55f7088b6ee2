//! Invalid configurations fail at plan time with a diagnostic that names the attribute (or the
//! key inside the LWS file) and says how to fix it — and never echo a secret.

mod common;

use std::thread;

use common::sim::ScratchDir;
use common::terraform::{text, Workspace, DEBIAN};

const SECRET: &str = "pw-never-shown-7f3a";

const GOOD_FILE: &str = r#"
regions:
  eu:
    availability_zones:
      az1: { host: 127.0.0.1, port: 1, user: root, ssh_password: "pw-never-shown-7f3a" }
      az2: { host: 127.0.0.1, port: 2, user: root, ssh_password: "pw-never-shown-7f3a" }
instance_sizes:
  small: { memory: 512, cpulimit: 1, storage: "local-lvm:8" }
"#;

struct Case {
    name: &'static str,
    /// LWS file contents (written to `config.yaml`), if any.
    file: Option<&'static str>,
    /// Provider block body; `CONFIG` is replaced by the file's path.
    provider: &'static str,
    /// `lws_container` body.
    resource: &'static str,
    expect: &'static [&'static str],
}

const WEB: &str = "az = \"az1\"\n  template = \"TEMPLATE\"";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "missing config file",
            file: None,
            provider: "config_file = \"/nonexistent/lws/config.yaml\"",
            resource: WEB,
            expect: &["config_file", "cannot read /nonexistent/lws/config.yaml"],
        },
        Case {
            name: "YAML syntax error",
            file: Some("regions:\n  eu: [unclosed\n"),
            provider: "config_file = \"CONFIG\"",
            resource: WEB,
            expect: &["invalid YAML", "line", "column"],
        },
        Case {
            name: "unknown default region",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"mars\"",
            resource: WEB,
            expect: &["region 'mars' is not configured", "configured regions: eu"],
        },
        Case {
            name: "availability zone without host",
            file: Some("regions:\n  eu:\n    availability_zones:\n      az1: { user: root, ssh_password: x12345 }\n"),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: WEB,
            expect: &["regions.eu.availability_zones.az1.host", "has no host"],
        },
        Case {
            name: "two authentication methods in the file",
            file: Some("regions:\n  eu:\n    availability_zones:\n      az1: { host: h, ssh_password: \"pw-never-shown-7f3a\", ssh_key_file: /k }\n"),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: WEB,
            expect: &["ssh_password and ssh_key_file are both set for eu/az1"],
        },
        Case {
            name: "two authentication methods inline",
            file: None,
            provider: "region = \"eu\"\n  regions = { eu = { availability_zones = { az1 = { host = \"h\", ssh_password = \"pw-never-shown-7f3a\", ssh_private_key = \"pw-never-shown-7f3a\" } } } }",
            resource: WEB,
            expect: &["ssh_password and ssh_private_key are both set for eu/az1"],
        },
        Case {
            name: "port out of range in the file",
            file: Some("regions:\n  eu:\n    availability_zones:\n      az1: { host: h, port: 70000, ssh_password: abcdef }\n"),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: WEB,
            expect: &["regions.eu.availability_zones.az1.port", "70000 is not a port number"],
        },
        Case {
            name: "port out of range inline",
            file: None,
            provider: "region = \"eu\"\n  regions = { eu = { availability_zones = { az1 = { host = \"h\", port = 70000, ssh_password = \"abcdef\" } } } }",
            resource: WEB,
            expect: &["invalid port", "70000 is not a port number"],
        },
        Case {
            name: "host key that is not a fingerprint",
            file: Some("regions:\n  eu:\n    availability_zones:\n      az1: { host: h, ssh_password: abcdef, host_key: \"aa:bb:cc\" }\n"),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: WEB,
            expect: &["regions.eu.availability_zones.az1.host_key", "is not a SHA256 fingerprint"],
        },
        Case {
            name: "unparsable SSH timeout",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"\n  ssh = { connect_timeout = \"soon\" }",
            resource: WEB,
            expect: &["invalid ssh.connect_timeout", "'soon' is not a duration"],
        },
        Case {
            name: "too few SSH sessions",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"\n  ssh = { max_sessions_per_host = 0 }",
            resource: WEB,
            expect: &["invalid ssh.max_sessions_per_host", "0 is not between 1 and 64"],
        },
        Case {
            name: "instance size with a bad storage",
            file: Some("regions:\n  eu:\n    availability_zones:\n      az1: { host: h, ssh_password: abcdef }\ninstance_sizes:\n  small: { memory: 512, storage: \"8GB\" }\n"),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: WEB,
            expect: &["instance_sizes.small.storage", "'8GB' is not STORAGE:GiB"],
        },
        Case {
            name: "missing key file",
            file: Some("regions:\n  eu:\n    availability_zones:\n      az1: { host: h, ssh_key_file: /nonexistent/id_ed25519 }\n"),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: WEB,
            expect: &["regions.eu.availability_zones.az1.ssh_key_file", "cannot read SSH key file /nonexistent/id_ed25519"],
        },
        Case {
            name: "no regions at all",
            file: Some("instance_sizes:\n  small: { memory: 512 }\n"),
            provider: "config_file = \"CONFIG\"",
            resource: WEB,
            expect: &["no regions configured"],
        },
        Case {
            name: "unknown instance size",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"\n  template = \"TEMPLATE\"\n  size = \"huge\"",
            expect: &["unknown instance size 'huge'", "configured sizes: small"],
        },
        Case {
            name: "no az in a region with several",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "template = \"TEMPLATE\"",
            expect: &["az is not set", "several availability zones (az1, az2)"],
        },
        Case {
            name: "uppercase tag",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"\n  template = \"TEMPLATE\"\n  tags = [\"Web\"]",
            expect: &["invalid tag 'Web'", "write 'web'"],
        },
        Case {
            name: "memory below Proxmox's minimum",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"\n  template = \"TEMPLATE\"\n  memory = 8",
            expect: &["invalid memory", "8 MiB is not between 16"],
        },
        Case {
            name: "bad network address",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"\n  template = \"TEMPLATE\"\n  network = [{ ip = \"10.0.0.5\" }]",
            expect: &["invalid network[0].ip", "IPv4 address with prefix length"],
        },
Case {
            name: "instance size out of Proxmox's ranges",
            file: Some("regions:\n  eu:\n    availability_zones:\n      az1: { host: 127.0.0.1, port: 1, user: root, ssh_password: x12345 }\ninstance_sizes:\n  huge: { memory: 99999999999, swap: -1, storage: \"local lvm:8\" }\n"),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: WEB,
            expect: &[
                "instance_sizes.huge.memory: 99999999999 MiB is not between 16 and 268435456",
                "instance_sizes.huge.swap: -1 MiB is not between 0 and 268435456",
                "instance_sizes.huge.storage: 'local lvm:8' is not STORAGE:GiB",
            ],
        },
        Case {
            name: "storage and clone_from that Proxmox cannot take",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"\n  clone_from = \"eu/az1/100;x\"\n  storage = \"local;lvm\"",
            expect: &["invalid storage", "is not a Proxmox storage id", "invalid clone_from"],
        },
        Case {
            name: "negative memory and cores",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"\n  template = \"TEMPLATE\"\n  memory = -1\n  cores = 0",
            expect: &["invalid memory", "-1 MiB is not between 16", "invalid cores"],
        },
        Case {
            name: "33 networks",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"\n  template = \"TEMPLATE\"\n  network = [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}]",
            expect: &["too many networks", "at most 32 (net0 to net31)"],
        },
                Case {
            name: "neither template nor clone_from",
            file: Some(GOOD_FILE),
            provider: "config_file = \"CONFIG\"\n  region = \"eu\"",
            resource: "az = \"az1\"",
            expect: &["template, clone_from or restore_from is required", "lws_templates"],
        },
    ]
}

fn run_case(case: &Case) -> Result<(), String> {
    let scratch = ScratchDir::new("bad");
    let config = scratch.path.join("config.yaml");
    if let Some(file) = case.file {
        std::fs::write(&config, file).expect("write config");
    }
    let provider = case.provider.replace("CONFIG", &config.display().to_string());
    let resource = case.resource.replace("TEMPLATE", DEBIAN);
    let tf = Workspace::new(&format!(
        "terraform {{\n  required_providers {{\n    lws = {{ source = \"lws/lws\" }}\n  }}\n}}\n\
         provider \"lws\" {{\n  {provider}\n}}\n\nresource \"lws_container\" \"web\" {{\n  {resource}\n}}\n"
    ));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}\n{stderr}");
    let unwrapped = all.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.status.success() {
        return Err(format!("{}: plan succeeded\n{all}", case.name));
    }
    for expected in case.expect {
        if !unwrapped.contains(expected) {
            return Err(format!("{}: the diagnostic lacks `{expected}`:\n{all}", case.name));
        }
    }
    if all.contains(SECRET) {
        return Err(format!("{}: a secret appears in the output:\n{all}", case.name));
    }
    Ok(())
}

#[test]
fn invalid_configurations_are_diagnosed_with_the_attribute_named() {
    let cases = cases();
    assert!(cases.len() >= 10);
    let failures: Vec<String> = thread::scope(|scope| {
        let handles: Vec<_> = cases.iter().map(|case| scope.spawn(move || run_case(case))).collect();
        handles.into_iter().filter_map(|h| h.join().expect("case thread").err()).collect()
    });
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
