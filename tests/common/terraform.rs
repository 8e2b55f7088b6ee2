//! Running the real `terraform` (or `tofu`) CLI against the built provider, through a CLI config
//! with `dev_overrides` pointing at the test build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use super::sim::ScratchDir;

/// The CLIs `scripts/terraform.sh` provides: the one on PATH (if any) and the wheel's 1.15.
pub struct Clis {
    pub path: Option<PathBuf>,
    pub wheel: PathBuf,
}

pub fn clis() -> &'static Clis {
    static CLIS: OnceLock<Clis> = OnceLock::new();
    CLIS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(root.join("scripts/terraform.sh")).output().expect("scripts/terraform.sh runs");
        assert!(out.status.success(), "scripts/terraform.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |name: &str| {
            text.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).map(str::to_owned).filter(|v| !v.is_empty())
        };
        Clis { path: field("path").map(PathBuf::from), wheel: PathBuf::from(field("wheel").expect("wheel path")) }
    })
}

/// The CLI tests use: `LWS_TEST_TERRAFORM` (a path, or `wheel`), else the one on PATH, else the wheel.
pub fn default_cli() -> PathBuf {
    match std::env::var("LWS_TEST_TERRAFORM").ok().as_deref() {
        Some("wheel") => clis().wheel.clone(),
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => clis().path.clone().unwrap_or_else(|| clis().wheel.clone()),
    }
}

/// A Terraform working directory.
pub struct Workspace {
    pub cli: PathBuf,
    pub env: Vec<(String, String)>,
    // Dropped last.
    pub dir: ScratchDir,
}

pub fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-lws")).parent().expect("target dir").to_path_buf()
}

impl Workspace {
    pub fn new(main_tf: &str) -> Workspace {
        Self::with_cli(default_cli(), main_tf)
    }

    pub fn with_cli(cli: PathBuf, main_tf: &str) -> Workspace {
        let dir = ScratchDir::new("tf");
        let cli_config = dir.path.join("terraformrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"lws/lws\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir().display()
            ),
        )
        .expect("write CLI config");
        let work = Workspace {
            cli,
            env: vec![
                ("TF_CLI_CONFIG_FILE".into(), cli_config.display().to_string()),
                ("TF_IN_AUTOMATION".into(), "1".into()),
                ("CHECKPOINT_DISABLE".into(), "1".into()),
            ],
            dir,
        };
        work.write(main_tf);
        work
    }

    pub fn path(&self) -> &Path {
        &self.dir.path
    }

    /// Replace `main.tf`.
    pub fn write(&self, main_tf: &str) {
        std::fs::write(self.dir.path.join("main.tf"), main_tf).expect("write main.tf");
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.cli);
        cmd.args(args).current_dir(&self.dir.path).env_remove("TF_LOG").env_remove("TF_LOG_PATH");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.cli.display()))
    }

    /// Run and insist on exit status 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "terraform {} failed ({:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            args.join(" "),
            out.status.code()
        );
        stdout
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"])
    }

    pub fn destroy(&self) -> String {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `plan -detailed-exitcode`: (exit code, stdout).
    pub fn plan(&self) -> (i32, String) {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        let (stdout, stderr) = text(&out);
        let code = out.status.code().unwrap_or(-1);
        assert!(code == 0 || code == 2, "terraform plan failed ({code})\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        (code, stdout)
    }

    /// The plan shows no changes (exit 0 of `plan -detailed-exitcode`).
    pub fn assert_no_changes(&self) {
        let (code, stdout) = self.plan();
        assert_eq!(code, 0, "expected no changes, got a plan:\n{stdout}");
        assert!(stdout.contains("No changes."), "{stdout}");
    }

    /// `terraform show -json` of the state.
    pub fn state(&self) -> Value {
        serde_json::from_str(&self.ok(&["show", "-json", "-no-color"])).expect("terraform show -json")
    }

    /// Attributes of `address` (e.g. `lws_container.web`) in the state.
    pub fn resource(&self, address: &str) -> Value {
        find_resource(&self.state()["values"]["root_module"], address)
            .unwrap_or_else(|| panic!("{address} is not in the state"))
    }

    pub fn has_resource(&self, address: &str) -> bool {
        find_resource(&self.state()["values"]["root_module"], address).is_some()
    }

    /// Attributes of every instance of resource type `kind` in the state file, tainted ones
    /// included (read from `terraform.tfstate` itself, whatever a failed apply left there).
    pub fn instances_in_state_file(&self, kind: &str) -> Vec<Value> {
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(self.path().join("terraform.tfstate")).unwrap_or_default())
                .unwrap_or(Value::Null);
        state["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == kind)
            .flat_map(|r| r["instances"].as_array().cloned().unwrap_or_default())
            .map(|i| i["attributes"].clone())
            .collect()
    }
}

fn find_resource(module: &Value, address: &str) -> Option<Value> {
    module["resources"].as_array()?.iter().find(|r| r["address"] == address).map(|r| r["values"].clone())
}

pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A `terraform` + `provider` header for a simulator's config file.
pub fn provider_block(config_file: &Path, region: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    lws = {{ source = \"lws/lws\" }}\n  }}\n}}\n\n\
         provider \"lws\" {{\n  config_file = \"{}\"\n  region      = \"{region}\"\n}}\n\n",
        config_file.display()
    )
}

pub const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
