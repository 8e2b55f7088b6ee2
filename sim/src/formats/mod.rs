//! Proxmox's file and value formats, written again for the simulator from Proxmox's Perl sources
//! (pve-container, pve-common, pve-guest-common, pve-firewall) and sharing no code with the
//! provider, so that a format mistake on one side is caught by the other. Each module says which
//! Perl functions it follows and where it simplifies.
//!
//! - [`pct_conf`]: `/etc/pve/lxc/<vmid>.conf` (`parse_pct_config`, `write_pct_config`).
//! - [`property_string`]: `k=v,…` values (`parse_property_string`, `print_property_string`).
//! - [`text`]: description escaping, disk sizes, tags, calendar fields.
//! - [`fw_conf`]: `/etc/pve/firewall/*.fw` (`generic_fw_config_parser`, `save_*_conf`).

pub mod fw_conf;
pub mod pct_conf;
pub mod property_string;
pub mod text;
