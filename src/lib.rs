//! # terraform-provider-lws
//!
//! A Terraform/OpenTofu provider for LWS, a small private cloud on Proxmox VE hosts, driven by
//! Proxmox's own commands over SSH.
//!
//! - [`pve`] — typed Proxmox operations: command builders, output parsers, file formats.
//! - [`ssh`] — how bytes reach a host: quoting, connections, authentication, host keys.
//!
//! The Proxmox host simulator (`src/sim/`) is compiled into the `lws-sim` binary only.

pub mod pve;
pub mod ssh;
