//! A release, installed the way a user installs one: the zip `scripts/package.sh` builds (named
//! as `.goreleaser.yaml` names release archives) goes into a `filesystem_mirror`; Terraform
//! installs it with `terraform init` (no dev_overrides), locks it with `terraform providers lock`,
//! and applies the quick start with it.

mod common;

use std::path::Path;
use std::process::Command;

use common::sim::{ScratchDir, Server, Sim};
use common::terraform::{default_cli, Workspace};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Terraform's name for this machine's platform.
fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}_{arch}")
}

#[test]
fn a_packaged_release_installs_from_a_mirror_locks_and_applies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dist = ScratchDir::new("dist");
    let platform = platform();
    let out = Command::new(root.join("scripts/package.sh"))
        .arg(env!("CARGO_BIN_EXE_terraform-provider-lws"))
        .arg(VERSION)
        .arg(&platform)
        .arg(&dist.path)
        .output()
        .expect("scripts/package.sh runs");
    assert!(out.status.success(), "package.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    let zip_name = format!("terraform-provider-lws_{VERSION}_{platform}.zip");
    let sums = std::fs::read_to_string(dist.path.join(format!("terraform-provider-lws_{VERSION}_SHA256SUMS")))
        .expect("SHA256SUMS written");
    assert!(sums.lines().any(|l| l.ends_with(&format!("  {zip_name}"))), "{sums}");
    assert!(sums.contains(&format!("  terraform-provider-lws_{VERSION}_manifest.json")), "{sums}");
    let manifest = std::fs::read_to_string(dist.path.join(format!("terraform-provider-lws_{VERSION}_manifest.json")))
        .expect("manifest");
    assert!(manifest.contains("\"6.0\""), "{manifest}");

    // The mirror's packed layout: HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_TARGET.zip.
    let cli = default_cli();
    let registry = if cli.file_name().is_some_and(|n| n.to_string_lossy().contains("tofu")) {
        "registry.opentofu.org"
    } else {
        "registry.terraform.io"
    };
    let mirror = ScratchDir::new("mirror");
    let package_dir = mirror.path.join(registry).join("lws/lws");
    std::fs::create_dir_all(&package_dir).expect("mirror dir");
    std::fs::copy(dist.path.join(&zip_name), package_dir.join(&zip_name)).expect("copy the zip into the mirror");

    let sim = Sim::start(Server::Embedded, &["eu-south-1/az1", "eu-south-1/az2"], &[]);
    let mut tf = Workspace::with_cli(cli, "");
    std::fs::write(
        tf.path().join("terraformrc"),
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{registry}/lws/lws\"]\n  }}\n  direct {{\n    exclude = [\"{registry}/lws/lws\"]\n  }}\n}}\n",
            mirror.path.display()
        ),
    )
    .expect("write the CLI config");
    let quickstart = std::fs::read_to_string(root.join("examples/quickstart/main.tf")).expect("quick start");
    let pinned =
        quickstart.replace("source = \"lws/lws\"", &format!("source  = \"lws/lws\"\n      version = \"{VERSION}\""));
    assert_ne!(pinned, quickstart, "the quick start names its provider source");
    tf.write(&pinned);
    tf.set_env("TF_VAR_lws_config_file", &sim.config_file().display().to_string());

    let init = tf.ok(&["init", "-input=false", "-no-color"]);
    assert!(
        init.contains(&format!("Installed lws/lws v{VERSION}")) || init.contains(&format!("lws/lws v{VERSION}")),
        "{init}"
    );
    assert!(!init.contains("development overrides"), "no dev_overrides are involved:\n{init}");
    let lock_file = tf.path().join(".terraform.lock.hcl");
    let lock = std::fs::read_to_string(&lock_file).expect("init writes the lock file");
    assert!(
        lock.contains(&format!("provider \"{registry}/lws/lws\""))
            && lock.lines().any(|l| l.trim_start().starts_with("version") && l.contains(&format!("\"{VERSION}\""))),
        "{lock}"
    );

    let mirror_arg = format!("-fs-mirror={}", mirror.path.display());
    let platform_arg = format!("-platform={platform}");
    tf.ok(&["providers", "lock", "-no-color", &mirror_arg, &platform_arg]);
    let locked = std::fs::read_to_string(&lock_file).expect("lock file");
    assert!(locked.contains("h1:"), "the lock records the package's hash:\n{locked}");

    let applied = tf.apply();
    assert!(applied.contains("Apply complete! Resources: 3 added"), "{applied}");
    assert!(sim.ok("eu-south-1/az1", "pct list").contains("web-1"));
    tf.assert_no_changes();
    tf.destroy();
    assert_eq!(sim.ok("eu-south-1/az1", "pct list") + &sim.ok("eu-south-1/az2", "pct list"), "");
}
