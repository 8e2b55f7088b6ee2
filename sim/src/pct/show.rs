//! `pct list`, `pct status`, `pct config`: read-only views of the node's containers.

use crate::formats::pct_conf::Section;
use crate::formats::text::encode_text;

use crate::context::Node;
use crate::ct::Ct;
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};
use crate::status::container_status;

const LIST: Spec = Spec { usage: "pct list", args: &[], opts: &[], families: &[] };

/// `%-10s %-10s %-12s %-20s` rows sorted by VMID; nothing at all when there are no containers.
pub fn list(node: &Node, argv: &[String]) -> Outcome {
    LIST.parse(argv)?;
    let vmids = node.local_vmids();
    if vmids.is_empty() {
        return Ok(());
    }
    let mut out = format!("{:<10} {:<10} {:<12} {:<20}\n", "VMID", "Status", "Lock", "Name");
    for vmid in vmids {
        let Some(ct) = Ct::try_load(node, vmid)? else { continue };
        let status = if ct.is_running() { "running" } else { "stopped" };
        let name: String = ct.hostname().chars().filter(|c| !c.is_whitespace()).collect();
        out.push_str(&format!("{:<10} {:<10} {:<12} {:<20}\n", vmid, status, ct.get("lock").unwrap_or(""), name));
    }
    print!("{out}");
    Ok(())
}

const STATUS: Spec = Spec {
    usage: "pct status <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[Opt { name: "verbose", kind: Kind::Bool }]],
    families: &[],
};

pub fn status(node: &Node, argv: &[String]) -> Outcome {
    let params = STATUS.parse(argv)?;
    let ct = Ct::load(node, params.vmid(0))?;
    if !params.flag("verbose") {
        println!("status: {}", if ct.is_running() { "running" } else { "stopped" });
        return Ok(());
    }
    let mut out = String::new();
    for (key, value) in container_status(&ct) {
        if key == "cpu" {
            continue;
        }
        let shown = match value {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        out.push_str(&format!("{key}: {shown}\n"));
    }
    print!("{out}");
    Ok(())
}

const CONFIG: Spec = Spec {
    usage: "pct config <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[
        Opt { name: "current", kind: Kind::Bool },
        Opt { name: "snapshot", kind: Kind::Str { min_len: 0, max_len: 40 } },
    ]],
    families: &[],
};

pub fn config(node: &Node, argv: &[String]) -> Outcome {
    let params = CONFIG.parse(argv)?;
    let ct = Ct::load(node, params.vmid(0))?;
    let section = if let Some(name) = params.get("snapshot") {
        ct.conf.snapshots.get(name).cloned().ok_or_else(|| Failure::new(format!("snapshot '{name}' does not exist")))?
    } else if params.flag("current") {
        ct.conf.current.clone()
    } else {
        ct.clone_with_pending().conf.current
    };
    print!("{}", render_config(&section));
    Ok(())
}

/// `key: value` lines sorted by key, the description escaped, raw `lxc.*` entries last.
pub fn render_config(section: &Section) -> String {
    let mut lines: Vec<(String, String)> = section.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(description) = &section.description {
        lines.push(("description".to_owned(), encode_text(description)));
    }
    lines.sort();
    let mut out = String::new();
    for (key, value) in lines.iter().chain(section.lxc.iter()) {
        out.push_str(&format!("{key}: {value}\n"));
    }
    out
}

impl Ct {
    /// The config as it will be after the next start: pending values replace current ones.
    pub fn clone_with_pending(&self) -> Ct {
        let mut merged = Ct { vmid: self.vmid, node: self.node.clone(), conf: self.conf.clone() };
        merged.apply_pending();
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pct_conf::ConfigFile;

    #[test]
    fn config_output_escapes_the_description_and_ends_it_in_a_newline_escape() {
        let file = ConfigFile::parse("#web: frontend\narch: amd64\nhostname: web\nlxc.apparmor.profile: unconfined\n");
        let text = render_config(&file.current);
        assert_eq!(
            text,
            "arch: amd64\ndescription: web%3A frontend%0A\nhostname: web\nlxc.apparmor.profile: unconfined\n"
        );
    }
}
