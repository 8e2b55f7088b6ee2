//! `apt-get` inside a container: `update`, and `install` of a known package list. Installing
//! `docker.io` (or `docker-ce`) puts `docker` on the container's PATH; a compose package
//! (`docker-compose`, `docker-compose-v2`, `docker-compose-plugin`) enables `docker compose`.

use super::{current_root, installed_packages, link_tool, mark_installed};
use crate::output::{Failure, Outcome};

/// Packages the simulated archive has, with versions (Debian 12 flavoured).
const ARCHIVE: &[(&str, &str)] = &[
    ("ca-certificates", "20230311"),
    ("containerd", "1.6.20~ds1-1+b1"),
    ("containerd.io", "1.7.19-1"),
    ("curl", "7.88.1-10+deb12u8"),
    ("docker-ce", "5:27.1.1-1~debian.12~bookworm"),
    ("docker-ce-cli", "5:27.1.1-1~debian.12~bookworm"),
    ("docker-compose", "1.29.2-3"),
    ("docker-compose-plugin", "2.29.1-1~debian.12~bookworm"),
    ("docker-compose-v2", "2.24.6+ds1-0ubuntu1"),
    ("docker.io", "20.10.24+dfsg1-1+b3"),
    ("git", "1:2.39.5-0+deb12u1"),
    ("gnupg", "2.2.40-1.1"),
    ("htop", "3.2.2-2"),
    ("jq", "1.6-2.1"),
    ("nano", "7.2-1+deb12u1"),
    ("nginx", "1.22.1-9"),
    ("vim", "2:9.0.1378-2"),
];

/// Packages that install Docker's daemon (`dockerd`), not only its client.
pub const DOCKER_ENGINES: [&str; 2] = ["docker.io", "docker-ce"];

pub fn version_of(package: &str) -> &'static str {
    ARCHIVE.iter().find(|(p, _)| *p == package).map(|(_, v)| *v).unwrap_or("1.0")
}

pub fn run(argv: &[String]) -> Outcome {
    let root = current_root()?;
    let assume_yes = argv.iter().any(|a| matches!(a.as_str(), "-y" | "--yes" | "--assume-yes" | "-qy" | "-yq"));
    let words: Vec<&String> = argv.iter().filter(|a| !a.starts_with('-')).collect();
    let Some(command) = words.first() else {
        println!("apt 2.6.1 (amd64)\nUsage: apt-get [options] command");
        return Ok(());
    };
    match command.as_str() {
        "update" => {
            println!("Hit:1 http://deb.debian.org/debian bookworm InRelease");
            println!("Hit:2 http://deb.debian.org/debian bookworm-updates InRelease");
            println!("Hit:3 http://security.debian.org bookworm-security InRelease");
            println!("Reading package lists...");
            Ok(())
        }
        "install" => install(&root, &words[1..], assume_yes),
        other => Err(Failure::with_code(100, format!("E: Invalid operation {other}"))),
    }
}

/// dpkg's frontend lock, held for the whole `install` as apt does (`apt-pkg` `pkgSystem::Lock`):
/// a second apt-get in the same container fails at once instead of waiting (no
/// `DPkg::Lock::Timeout` set), with apt's two messages and exit 100. Installing takes a moment
/// here, as it does on a host, so two concurrent installs really overlap.
fn lock_frontend(root: &std::path::Path) -> Result<std::fs::File, Failure> {
    let path = root.join("var/lib/dpkg/lock-frontend");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(Failure::with_code(
            100,
            "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)\n\
             E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?",
        )),
    }
}

fn install(root: &std::path::Path, packages: &[&String], assume_yes: bool) -> Outcome {
    println!("Reading package lists...\nBuilding dependency tree...\nReading state information...");
    let _frontend = lock_frontend(root)?;
    for package in packages {
        if !ARCHIVE.iter().any(|(p, _)| p == package) {
            return Err(Failure::with_code(100, format!("E: Unable to locate package {package}")));
        }
    }
    let installed = installed_packages(root);
    let new: Vec<&&String> = packages.iter().filter(|p| !installed.iter().any(|i| i == p.as_str())).collect();
    if new.is_empty() {
        for package in packages {
            println!("{package} is already the newest version ({}).", version_of(package));
        }
        println!("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.");
        return Ok(());
    }
    println!("The following NEW packages will be installed:");
    println!("  {}", new.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" "));
    println!("0 upgraded, {} newly installed, 0 to remove and 0 not upgraded.", new.len());
    if !assume_yes {
        println!("Do you want to continue? [Y/n] Abort.");
        return Err(Failure::with_code(1, ""));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    for package in new {
        println!("Setting up {package} ({}) ...", version_of(package));
        mark_installed(root, package)?;
        match package.as_str() {
            "docker.io" | "docker-ce" => {
                link_tool(root, "docker")?;
                // The daemon starts at once (Debian's postinst) and makes its bridge.
                crate::lxc::add_docker_bridge(None)?;
            }
            "docker-ce-cli" => link_tool(root, "docker")?,
            "docker-compose" => {
                link_tool(root, "docker-compose")?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `docker compose` works in this container.
pub fn has_compose(root: &std::path::Path) -> bool {
    installed_packages(root)
        .iter()
        .any(|p| matches!(p.as_str(), "docker-compose" | "docker-compose-v2" | "docker-compose-plugin"))
}
