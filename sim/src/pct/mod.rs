//! `pct`: the container tool. One file per group of sub-commands; every sub-command parses its
//! arguments with [`crate::params`] and fails with Proxmox's messages.

mod clone;
mod create;
mod destroy;
mod guest_io;
mod migrate;
mod modify;
pub mod power;
mod restore;
pub mod schema;
pub mod show;
pub mod snapshot;

use super::context::Node;
use super::output::{Failure, Outcome};

const COMMANDS: &[&str] = &[
    "clone",
    "config",
    "create",
    "delsnapshot",
    "destroy",
    "exec",
    "list",
    "listsnapshot",
    "migrate",
    "pull",
    "push",
    "reboot",
    "resize",
    "restore",
    "rollback",
    "set",
    "shutdown",
    "snapshot",
    "start",
    "status",
    "stop",
    "unlock",
];

pub fn run(node: &Node, argv: &[String]) -> Outcome {
    let Some(command) = argv.first() else {
        return Err(Failure::new(usage()));
    };
    let rest = &argv[1..];
    match command.as_str() {
        "list" => show::list(node, rest),
        "status" => show::status(node, rest),
        "config" => show::config(node, rest),
        "create" => create::create(node, rest),
        "set" => modify::set(node, rest),
        "resize" => modify::resize(node, rest),
        "restore" => restore::restore(node, rest),
        "unlock" => modify::unlock(node, rest),
        "start" => power::start(node, rest),
        "stop" => power::stop(node, rest),
        "shutdown" => power::shutdown(node, rest),
        "reboot" => power::reboot(node, rest),
        "destroy" => destroy::destroy(node, rest),
        "snapshot" => snapshot::snapshot(node, rest),
        "delsnapshot" => snapshot::delsnapshot(node, rest),
        "rollback" => snapshot::rollback(node, rest),
        "listsnapshot" => snapshot::listsnapshot(node, rest),
        "exec" => guest_io::exec(node, rest),
        "push" => guest_io::push(node, rest),
        "pull" => guest_io::pull(node, rest),
        "clone" => clone::clone(node, rest),
        "migrate" => migrate::migrate(node, rest),
        "help" => {
            println!("{}", usage());
            Ok(())
        }
        other => Err(Failure::new(format!("ERROR: unknown command 'pct {other}'\n{}", usage()))),
    }
}

fn usage() -> String {
    let mut text = String::from("USAGE: pct <COMMAND> [ARGS] [OPTIONS]\n");
    for command in COMMANDS {
        text.push_str(&format!("       pct {command}\n"));
    }
    text
}
