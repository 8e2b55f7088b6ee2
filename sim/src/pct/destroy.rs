//! `pct destroy <vmid> [--purge] [--force]`.

use std::fs;

use crate::context::Node;
use crate::ct::{free_disk, Ct};
use crate::lock::{lock_ct, DEFAULT_TIMEOUT};
use crate::output::{Failure, Outcome};
use crate::params::{Kind, Opt, Spec};

use super::power::stop_now;

const DESTROY: Spec = Spec {
    usage: "pct destroy <vmid> [OPTIONS]",
    args: &[("vmid", Kind::Vmid)],
    opts: &[&[
        Opt { name: "purge", kind: Kind::Bool },
        Opt { name: "force", kind: Kind::Bool },
        Opt { name: "destroy-unreferenced-disks", kind: Kind::Bool },
    ]],
    families: &[],
};

pub fn destroy(node: &Node, argv: &[String]) -> Outcome {
    let params = DESTROY.parse(argv)?;
    let vmid = params.vmid(0);
    let _lock = lock_ct(node, vmid, DEFAULT_TIMEOUT)?;
    let ct = Ct::load(node, vmid)?;
    if ct.get("protection") == Some("1") {
        return Err(Failure::new(format!("can't remove CT {vmid} - protection mode enabled")));
    }
    ct.check_lock(&[])?;
    if ct.is_running() {
        if !params.flag("force") {
            return Err(Failure::new(format!("unable to destroy CT {vmid} - container is running")));
        }
        println!("forced to stop CT {vmid} before destroying!");
        stop_now(&ct)?;
    }

    // Volumes of the current config and of every snapshot.
    let mut volids: Vec<String> =
        ct.disks().into_iter().filter_map(|(_, p)| p.get("volume").map(str::to_owned)).collect();
    volids.sort();
    volids.dedup();
    for volid in volids {
        println!("{}", free_disk(node, &volid)?);
    }
    fs::remove_file(node.conf_path(vmid))?;
    crate::status::forget(node, vmid);
    let _ = fs::remove_dir_all(node.lxc_config_path(vmid).parent().unwrap_or(&node.lxc_config_path(vmid)));
    let _ = fs::remove_dir_all(node.ct_root(vmid).parent().unwrap_or(&node.ct_root(vmid)));
    let _ = fs::remove_file(node.firewall_dir().join(format!("{vmid}.fw")));
    if params.flag("purge") {
        println!("purging CT {vmid} from related configurations..");
    }
    Ok(())
}
