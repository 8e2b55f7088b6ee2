//! Typed Proxmox VE operations: what to run (command builders) and how to read the answer
//! (parsers tested against real Proxmox output samples), plus error classification. Commands
//! are built through the one quoting function in `ssh::quote` and run through the [`Runner`]
//! trait; this module never opens connections itself.

pub mod backup;
pub mod backup_jobs;
pub mod cluster;
pub mod command;
pub mod compose;
pub mod config_file;
pub mod docker;
pub mod error;
pub mod firewall;
pub mod firewall_file;
pub mod firewall_rule;
pub mod inventory;
pub mod lxc;
pub mod lxc_tools;
pub mod node;
pub mod property_string;
pub mod retry;
pub mod runner;
pub mod snapshot;
pub mod templates;
pub mod text;

pub use command::{Command, Script};
pub use error::{Kind, PveError};
pub use runner::Runner;
