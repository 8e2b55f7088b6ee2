//! Inside a simulated container: its filesystem and the tools it has. A container is a real LXC
//! container (see [`crate::lxc`]) whose `/usr/bin` holds links to a whitelist of real host
//! utilities (`sh`, `cat`, `mkdir`, …) and to this binary for the simulated `apt-get`, `apt`,
//! `chpasswd`, `dpkg-query` and, once installed through `apt-get`, `docker`. Those simulated
//! tools run inside the container, where `/` is the container's root.

pub mod apt;
pub mod compose;
pub mod docker;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ct::Ct;
use super::lxc::{GuestContext, GUEST_EXE};
use super::output::{Failure, Outcome};

/// Packages installed through `apt-get`, one per line.
const INSTALLED: &str = "var/lib/dpkg/lws-sim-installed";

/// Host utilities every container has (linked from its `/usr/bin` into the host's).
pub const BASE_TOOLS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "cat",
    "mkdir",
    "rm",
    "rmdir",
    "ls",
    "echo",
    "printf",
    "test",
    "[",
    "grep",
    "sed",
    "awk",
    "mawk",
    "tee",
    "chmod",
    "chown",
    "mktemp",
    "head",
    "tail",
    "sleep",
    "env",
    "id",
    "true",
    "false",
    "cp",
    "mv",
    "touch",
    "wc",
    "sort",
    "uniq",
    "cut",
    "tr",
    "date",
    "dirname",
    "basename",
    "find",
    "xargs",
    "stat",
    "readlink",
    "ln",
    "sha256sum",
    "base64",
    "gzip",
    "tar",
    "uname",
    "whoami",
    "diff",
    "cmp",
    "seq",
    "timeout",
    "hostname",
    "cksum",
];

/// A container-absolute path as a host path (what `pct push`/`pull` reach through the root).
pub fn guest_path(ct: &Ct, path: &str) -> PathBuf {
    ct.root().join(path.trim_start_matches('/'))
}

/// Create the guest filesystem of a new container.
pub fn init_root(ct: &Ct, template_file: &str) -> Outcome {
    let root = ct.root();
    for dir in ["etc", "root", "opt", "tmp", "var/lib/dpkg", "home", "srv", "usr/bin"] {
        fs::create_dir_all(root.join(dir))?;
    }
    fs::write(root.join("etc/hostname"), format!("{}\n", ct.hostname()))?;
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n")?;
    fs::write(root.join("etc/shadow"), "root:*:19700:0:99999:7:::\n")?;
    fs::write(root.join("etc/group"), "root:x:0:\n")?;
    let (id, version) = os_release(template_file);
    fs::write(root.join("etc/os-release"), format!("ID={id}\nVERSION_ID=\"{version}\"\n"))?;
    for tool in ["apt-get", "apt", "chpasswd", "dpkg-query"] {
        link_tool(&root, tool)?;
    }
    Ok(())
}

fn os_release(template_file: &str) -> (String, String) {
    let mut parts = template_file.split(['-', '_']);
    let id = parts.next().unwrap_or("linux").to_owned();
    let version = parts.next().unwrap_or("").to_owned();
    (id, version)
}

/// Make simulated tool `name` available inside the container: `/usr/bin/<name>`, a link to this
/// binary as it is mounted inside.
pub fn link_tool(root: &Path, name: &str) -> Outcome {
    let dir = root.join("usr/bin");
    fs::create_dir_all(&dir)?;
    let link = dir.join(name);
    if link.symlink_metadata().is_ok() {
        return Ok(());
    }
    symlink(GUEST_EXE, link)?;
    Ok(())
}

pub fn installed_packages(root: &Path) -> Vec<String> {
    fs::read_to_string(root.join(INSTALLED)).map(|t| t.lines().map(str::to_owned).collect()).unwrap_or_default()
}

pub fn mark_installed(root: &Path, package: &str) -> Outcome {
    let mut packages = installed_packages(root);
    if !packages.iter().any(|p| p == package) {
        packages.push(package.to_owned());
        packages.sort();
        fs::create_dir_all(root.join("var/lib/dpkg"))?;
        fs::write(root.join(INSTALLED), packages.join("\n") + "\n")?;
    }
    Ok(())
}

pub fn install_authorized_keys(ct: &Ct, keys: &str) -> Outcome {
    let dir = ct.root().join("root/.ssh");
    fs::create_dir_all(&dir)?;
    fs::write(dir.join("authorized_keys"), keys)?;
    Ok(())
}

/// Store a password hash for `user` in the container's `/etc/shadow` (never the password).
pub fn set_password(root: &Path, user: &str, password: &str) -> Outcome {
    let shadow = root.join("etc/shadow");
    let text = fs::read_to_string(&shadow).unwrap_or_default();
    let salt = super::rng::hex(16);
    let hash = hex(&Sha256::digest(format!("{salt}{password}").as_bytes()));
    let entry = format!("{user}:$5${salt}${hash}:19700:0:99999:7:::");
    let mut found = false;
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.split(':').next() == Some(user) {
                found = true;
                entry.clone()
            } else {
                line.to_owned()
            }
        })
        .collect();
    if !found {
        lines.push(entry);
    }
    fs::write(&shadow, lines.join("\n") + "\n")?;
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The container started: Docker's daemon makes its bridge and brings back containers with a
/// restart policy.
pub fn on_start(ct: &Ct) -> Outcome {
    let root = ct.root();
    if docker_installed(&root) {
        if let Some(runtime) = ct.runtime() {
            crate::lxc::add_docker_bridge(Some(runtime.pid))?;
        }
    }
    docker::on_host_start(&root)
}

/// Whether Docker's engine is installed in the container at `root`.
pub fn docker_installed(root: &Path) -> bool {
    installed_packages(root).iter().any(|p| apt::DOCKER_ENGINES.contains(&p.as_str()))
}

/// The container stopped: every Docker container inside stops with it.
pub fn on_stop(ct: &Ct) -> Outcome {
    docker::on_host_stop(&ct.root())
}

/// The root of the container this tool runs in: `/`, when it runs in one.
pub fn current_root() -> Result<PathBuf, Failure> {
    match GuestContext::current() {
        Some(_) => Ok(PathBuf::from("/")),
        None => Err(Failure::with_code(127, "lws-sim: this tool only runs inside a container (pct exec)")),
    }
}

/// `chpasswd`: `user:password` lines on stdin.
pub fn chpasswd(_: &[String]) -> Outcome {
    let root = current_root()?;
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)?;
    let users: Vec<String> = fs::read_to_string(root.join("etc/passwd"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(':').next().map(str::to_owned))
        .collect();
    for (number, line) in input.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if line.is_empty() {
            continue;
        }
        let Some((user, password)) = line.split_once(':') else {
            return Err(Failure::with_code(1, format!("chpasswd: line {number}: missing new password")));
        };
        if !users.iter().any(|u| u == user) {
            return Err(Failure::with_code(
                1,
                format!(
                    "chpasswd: (user {user}) pam_chauthtok() failed, error:\nAuthentication token manipulation error\n\
                     chpasswd: (line {number}, user {user}) password not changed"
                ),
            ));
        }
        set_password(&root, user, password)?;
    }
    Ok(())
}

/// `dpkg-query -W <pkg>`: whether a package is installed (exit 1 if not).
pub fn dpkg_query(argv: &[String]) -> Outcome {
    let root = current_root()?;
    let installed = installed_packages(&root);
    let mut missing = false;
    for package in argv.iter().filter(|a| !a.starts_with('-')) {
        if installed.iter().any(|p| p == package) {
            println!("{package}\t{}", apt::version_of(package));
        } else {
            eprintln!("dpkg-query: no packages found matching {package}");
            missing = true;
        }
    }
    if missing {
        Err(Failure::with_code(1, ""))
    } else {
        Ok(())
    }
}
