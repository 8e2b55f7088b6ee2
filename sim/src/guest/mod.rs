//! Inside a simulated container: its filesystem, its environment for `pct exec`, and the tools
//! it has — a whitelist of real host utilities (`sh`, `cat`, `mkdir`, …) plus simulated
//! `apt-get`, `chpasswd`, `hostname`, and, once installed through `apt-get`, `docker`.
//!
//! Container-absolute paths in `pct exec` arguments (`/opt`, `/etc`, `/root`, `/home`, `/srv`,
//! `/var`, `/tmp`, `/data`, `/mnt`) are rewritten onto the container's root directory; paths
//! elsewhere (`/usr/bin/…`) resolve on the host, which is how the whitelisted tools are found.

pub mod apt;
pub mod compose;
pub mod docker;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::context::{ENV_CLUSTER, ENV_CT_ROOT, ENV_CT_VMID, ENV_HOST, ENV_LATENCY, ENV_NODE, ENV_STATE};
use super::ct::Ct;
use super::output::{Failure, Outcome};
use super::pathmap;

/// Directory inside the container root with links to the simulated tools it has.
pub const TOOLS_DIR: &str = ".lws-sim/bin";
/// Packages installed through `apt-get`, one per line.
const INSTALLED: &str = "var/lib/dpkg/lws-sim-installed";

/// Container paths mapped onto the container root.
const GUEST_PREFIXES: [&str; 9] = ["/opt", "/etc", "/root", "/home", "/srv", "/var", "/tmp", "/data", "/mnt"];

/// Host utilities every container has (linked into `DIR/guest-base`).
const BASE_TOOLS: &[&str] = &[
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
];

/// Link the whitelisted host tools into `DIR/guest-base` (idempotent).
pub fn prepare_base_tools(state: &Path) -> std::io::Result<()> {
    let dir = state.join("guest-base");
    fs::create_dir_all(&dir)?;
    for tool in BASE_TOOLS {
        let link = dir.join(tool);
        if link.symlink_metadata().is_ok() {
            continue;
        }
        let found =
            ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].iter().map(|d| Path::new(d).join(tool)).find(|p| p.exists());
        if let Some(target) = found {
            symlink(target, &link)?;
        }
    }
    Ok(())
}

/// Paths mapped for commands run inside `ct`.
fn mappings(root: &Path) -> Vec<(&'static str, PathBuf)> {
    GUEST_PREFIXES.iter().map(|p| (*p, root.join(p.trim_start_matches('/')))).collect()
}

/// Rewrite one `pct exec` argument for the container.
pub fn map_arg(ct: &Ct, arg: &str) -> String {
    let root = ct.root();
    let owned = mappings(&root);
    let map: Vec<(&str, &Path)> = owned.iter().map(|(p, t)| (*p, t.as_path())).collect();
    pathmap::rewrite(arg, &map, &[ct.node.state.as_path()])
}

/// Show a host path inside the container as the container sees it.
pub fn unmap(root: &Path, path: &str) -> String {
    let owned = mappings(root);
    let map: Vec<(&str, &Path)> = owned.iter().map(|(p, t)| (*p, t.as_path())).collect();
    pathmap::unmap(path, &map)
}

/// A container-absolute path as a host path.
pub fn guest_path(ct: &Ct, path: &str) -> PathBuf {
    ct.root().join(path.trim_start_matches('/'))
}

/// The environment of a command run by `pct exec` (lxc-attach clears the caller's).
pub fn environment(ct: &Ct) -> Vec<(String, String)> {
    let root = ct.root();
    let mut env = vec![
        (
            "PATH".to_owned(),
            format!("{}:{}", root.join(TOOLS_DIR).display(), ct.node.state.join("guest-base").display()),
        ),
        ("HOME".to_owned(), root.join("root").display().to_string()),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
        (ENV_CT_ROOT.to_owned(), root.display().to_string()),
        (ENV_CT_VMID.to_owned(), ct.vmid.to_string()),
        (ENV_STATE.to_owned(), ct.node.state.display().to_string()),
        (ENV_CLUSTER.to_owned(), ct.node.cluster.clone()),
        (ENV_NODE.to_owned(), ct.node.name.clone()),
    ];
    for var in [ENV_HOST, ENV_LATENCY] {
        if let Ok(value) = std::env::var(var) {
            env.push((var.to_owned(), value));
        }
    }
    env
}

/// Create the guest filesystem of a new container.
pub fn init_root(ct: &Ct, template_file: &str) -> Outcome {
    let root = ct.root();
    for dir in ["etc", "root", "opt", "tmp", "var/lib/dpkg", "home", "srv", TOOLS_DIR] {
        fs::create_dir_all(root.join(dir))?;
    }
    fs::write(root.join("etc/hostname"), format!("{}\n", ct.hostname()))?;
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n")?;
    fs::write(root.join("etc/shadow"), "root:*:19700:0:99999:7:::\n")?;
    let (id, version) = os_release(template_file);
    fs::write(root.join("etc/os-release"), format!("ID={id}\nVERSION_ID=\"{version}\"\n"))?;
    prepare_base_tools(&ct.node.state)?;
    for tool in ["apt-get", "apt", "chpasswd", "hostname", "dpkg-query"] {
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

/// Make simulated tool `name` available inside the container.
pub fn link_tool(root: &Path, name: &str) -> Outcome {
    let dir = root.join(TOOLS_DIR);
    fs::create_dir_all(&dir)?;
    let link = dir.join(name);
    if link.symlink_metadata().is_ok() {
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    symlink(exe, link)?;
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

/// The container started: Docker brings back containers with a restart policy.
pub fn on_start(ct: &Ct) -> Outcome {
    docker::on_host_start(&ct.root())
}

/// The container stopped: every Docker container inside stops with it.
pub fn on_stop(ct: &Ct) -> Outcome {
    docker::on_host_stop(&ct.root())
}

/// The running container's root, from the environment `pct exec` sets.
pub fn current_root() -> Result<PathBuf, Failure> {
    std::env::var(ENV_CT_ROOT)
        .map(PathBuf::from)
        .map_err(|_| Failure::with_code(127, "lws-sim: this tool only runs inside a container (pct exec)"))
}

/// `hostname` inside a container prints the container's own hostname.
pub fn hostname(_: &[String]) -> Outcome {
    let root = current_root()?;
    print!("{}", fs::read_to_string(root.join("etc/hostname")).unwrap_or_default());
    Ok(())
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
