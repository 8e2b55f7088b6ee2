//! # terraform-provider-lws
//!
//! A Terraform/OpenTofu provider for LWS, a small private cloud on Proxmox VE hosts, driven by
//! Proxmox's own commands over SSH.
//!
//! - [`cloud`] — the LWS cloud: regions, availability zones (one Proxmox host each), instance
//!   sizes, the LWS config file, ids, the state resources share ([`cloud::Shared`]), what a
//!   Proxmox cluster's hosts share (one inventory cache and VMID allocator, [`cloud::Cluster`])
//!   and finding a container's host within its cluster ([`cloud::locate`]).
//! - [`pve`] — typed Proxmox operations: command builders, output parsers, file formats, and
//!   what Proxmox accepts (firewall rule grammar, compose layout).
//! - [`ssh`] — how bytes reach a host: quoting, connections, authentication, host keys.
//! - [`provider`] — the provider block and `configure`, which builds the [`cloud::Cloud`].
//! - [`resources`] — one module per resource (`lws_container`, …), with the list resources
//!   (`terraform query`) beside the resource they list.
//! - [`actions`] — one module per action (`lws_container_power`, …): imperative commands.
//! - [`data_sources`] — one module per data source (`lws_hosts`, `lws_status`, …).
//! - [`tf`] — Terraform-facing helpers: schema builders, diagnostics, timeouts.
//! - [`logging`] — logs as Terraform shows them (hclog JSON on stderr).
//! - [`docs`] — registry docs generated from the schema.
//!
//! Layers, top down: `provider` → `resources`/`data_sources`/`actions` → `cloud` → `pve` → `ssh`; `tf`
//! beside them. A module uses only those below it: resources never import each other or the
//! provider (see `docs/architecture.md`).
//!
//! The Proxmox host simulator is another crate of the workspace (`sim/`, the `lws-sim` binary). It
//! shares no code with this library, so a format mistake here cannot be copied there; every
//! command this library sends is listed, with its source, in `docs/proxmox-commands.md`.

pub mod actions;
pub mod cloud;
pub mod data_sources;
pub mod docs;
pub mod logging;
pub mod provider;
pub mod pve;
pub mod resources;
pub mod ssh;
pub mod tf;
