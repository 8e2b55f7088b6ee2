//! Typed Proxmox VE operations: what to run (command builders) and how to read the answer
//! (parsers built from real Proxmox output samples). Every command is built through the one
//! quoting function in `ssh::quote`; this module never opens connections itself.

pub mod config_file;
pub mod firewall_file;
pub mod property_string;
pub mod text;
