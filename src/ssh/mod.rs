//! How bytes travel to a host: quoting, and (later) connections, authentication, host keys,
//! exec with stdin and timeouts. Knows nothing about Proxmox.

pub mod quote;
