//! The shell the provider runs inside containers works with BusyBox's applets too (Alpine and
//! other small images have no coreutils): run here by `busybox sh` with only BusyBox on `PATH`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::sim::ScratchDir;
use lws::pve::docker::WRITE_APP_FILES;

fn busybox() -> &'static str {
    ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("busybox is installed by scripts/setup.sh")
}

/// A compose file and `.env` sent on one stdin are cut apart exactly: BusyBox's `head -c`
/// reading a pipe buffers past the compose file, which used to leave `.env` empty.
#[test]
fn app_files_are_split_exactly_under_busybox() {
    let dir = ScratchDir::new("busybox");
    let applets = dir.path.join("bin");
    std::fs::create_dir_all(&applets).expect("applet dir");
    let installed = Command::new(busybox()).arg("--install").arg("-s").arg(&applets).status().expect("busybox");
    assert!(installed.success());
    let app = dir.path.join("app");
    std::fs::create_dir_all(&app).expect("app dir");

    let compose =
        format!("services:\n  app:\n    image: nginx:1.25\n    labels:\n      blob: \"{}\"\n", "x".repeat(200_000));
    let env = "GREETING=hello\nTOKEN='s3cr3t'\n";
    let script = format!("set -e; d={}; {WRITE_APP_FILES}", app.display());
    let mut child = Command::new(busybox())
        .args(["sh", "-c", &script, "sh", "app", &compose.len().to_string()])
        .env_clear()
        .env("PATH", &applets)
        .stdin(Stdio::piped())
        .spawn()
        .expect("busybox sh");
    child.stdin.take().expect("stdin").write_all(format!("{compose}{env}").as_bytes()).expect("write");
    assert!(child.wait().expect("wait").success());

    assert_eq!(std::fs::read_to_string(app.join("docker-compose.yml")).expect("compose"), compose);
    assert_eq!(std::fs::read_to_string(app.join(".env")).expect(".env"), env);
    assert!(!app.join(".lws-input").exists(), "the temporary is removed");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(app.join(".env")).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, ".env holds secrets");
}
