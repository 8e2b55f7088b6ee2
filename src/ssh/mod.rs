//! How bytes travel to a host: one shared connection per host with many sessions on it,
//! authentication, host-key verification, commands with stdin and timeouts, and the one audited
//! shell-quoting function. Knows nothing about Proxmox.

pub mod auth;
pub mod config_file;
pub mod host_key;
pub mod quote;
pub mod remote;
pub mod secret;

pub use auth::Credentials;
pub use host_key::HostKeyPolicy;
pub use remote::{Endpoint, Error, Limits, Output, OutputWatch, Remote, Stream};
pub use secret::Secret;
