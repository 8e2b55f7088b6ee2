//! `pct exec`, `pct push`, `pct pull`: running commands and moving files inside a container.

use std::fs;

use crate::context::Node;
use crate::ct::Ct;
use crate::guest;
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

const EXEC: Spec = Spec {
    usage: "pct exec <vmid> [<extra-args>] [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[Opt { name: "keep-env", kind: Kind::Bool }]],
    families: &[],
};

/// Runs the command inside the container through `lxc-attach` (pve-container
/// `src/PVE/CLI/pct.pm` `exec`); the exit code, output and errors are LXC's and the command's.
pub fn exec(node: &Node, argv: &[String]) -> Outcome {
    let params = EXEC.parse_with_extra(argv, true)?;
    let vmid = params.vmid(0);
    let ct = Ct::load(node, vmid)?;
    if !ct.is_running() {
        return Err(Failure::new(format!("container '{vmid}' not running!")));
    }
    let command = &params.args[1..];
    if command.is_empty() {
        return Err(Failure::perl("missing command", "PVE/CLI/pct.pm", 226));
    }
    // `my $keep_env = $param->{'keep-env'} // 1;`
    let keep_env = params.get("keep-env").is_none() || params.flag("keep-env");
    let status = crate::lxc::attach(&ct, command, keep_env).status()?;
    match status.code() {
        Some(0) => Ok(()),
        code => Err(Failure::with_code(code.unwrap_or(255), "")),
    }
}

const PUSH: Spec = Spec {
    usage: "pct push <vmid> <file> <destination> [OPTIONS]",
    args: &[
        ("vmid", Kind::Vmid),
        ("file", Kind::Str { min_len: 1, max_len: 4096 }),
        ("destination", Kind::Str { min_len: 1, max_len: 4096 }),
    ],
    opts: &[&[
        Opt { name: "user", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "group", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "perms", kind: Kind::Str { min_len: 1, max_len: 8 } },
    ]],
    families: &[],
};

const PULL: Spec = Spec {
    usage: "pct pull <vmid> <path> <destination> [OPTIONS]",
    args: &[
        ("vmid", Kind::Vmid),
        ("path", Kind::Str { min_len: 1, max_len: 4096 }),
        ("destination", Kind::Str { min_len: 1, max_len: 4096 }),
    ],
    opts: &[&[
        Opt { name: "user", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "group", kind: Kind::Str { min_len: 1, max_len: 64 } },
        Opt { name: "perms", kind: Kind::Str { min_len: 1, max_len: 8 } },
    ]],
    families: &[],
};

pub fn push(node: &Node, argv: &[String]) -> Outcome {
    let params = PUSH.parse(argv)?;
    let ct = Ct::load(node, params.vmid(0))?;
    if !ct.is_running() {
        return Err(Failure::new("can only push files to a running CT"));
    }
    let source = node.host_path(params.arg(1));
    let dest = guest::guest_path(&ct, params.arg(2));
    let data =
        fs::read(&source).map_err(|e| Failure::new(format!("failed to open {} for reading: {e}", params.arg(1))))?;
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(&dest, data).map_err(|e| Failure::new(format!("failed to open {} for writing: {e}", params.arg(2))))?;
    if let Some(perms) = params.get("perms").and_then(|p| u32::from_str_radix(p, 8).ok()) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dest, fs::Permissions::from_mode(perms))?;
    }
    Ok(())
}

pub fn pull(node: &Node, argv: &[String]) -> Outcome {
    let params = PULL.parse(argv)?;
    let ct = Ct::load(node, params.vmid(0))?;
    if !ct.is_running() {
        return Err(Failure::perl("can only pull files from a running VM", "PVE/CLI/pct.pm", 483));
    }
    let source = guest::guest_path(&ct, params.arg(1));
    let dest = node.host_path(params.arg(2));
    let data =
        fs::read(&source).map_err(|e| Failure::new(format!("failed to open {} for reading: {e}", params.arg(1))))?;
    fs::write(&dest, data).map_err(|e| Failure::new(format!("failed to open {} for writing: {e}", params.arg(2))))?;
    Ok(())
}
