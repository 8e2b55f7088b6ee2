//! Resource ids: `<region>/<az>/<vmid>` for containers, with an optional trailing name for
//! things that live in a container (`<region>/<az>/<vmid>/<name>`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerId {
    pub region: String,
    pub az: String,
    pub vmid: u32,
}

impl ContainerId {
    /// The same container as `other`: same region and VMID, whatever the zone (a container keeps
    /// its VMID when it migrates within its cluster).
    pub fn is_same_container(&self, other: &ContainerId) -> bool {
        self.region == other.region && self.vmid == other.vmid
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.region, self.az, self.vmid)
    }
}

/// Parse a VMID the way Proxmox accepts it (100 to 999999999, no leading zero).
pub fn parse_vmid(text: &str) -> Result<u32, String> {
    let ok = (3..=9).contains(&text.len()) && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit());
    if ok {
        text.parse().map_err(|_| format!("'{text}' is not a VMID"))
    } else {
        Err(format!("'{text}' is not a VMID (a number from 100 to 999999999)"))
    }
}

impl std::str::FromStr for ContainerId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [region, az, vmid] if !region.is_empty() && !az.is_empty() => {
                Ok(ContainerId { region: (*region).to_owned(), az: (*az).to_owned(), vmid: parse_vmid(vmid)? })
            }
            _ => Err(format!("'{text}' is not a container id of the form <region>/<az>/<vmid>")),
        }
    }
}

/// A reference to a container as `clone_from` takes it: `<region>/<az>/<vmid>` → (its region,
/// its VMID), or a VMID alone → (no region, the VMID). The zone is left out: a container keeps
/// its VMID when it migrates within its cluster.
pub fn parse_container_reference(text: &str) -> Result<(Option<String>, u32), String> {
    match text.parse::<ContainerId>() {
        Ok(id) => Ok((Some(id.region), id.vmid)),
        Err(_) => parse_vmid(text).map(|vmid| (None, vmid)),
    }
}

/// `<region>/<az>/<vmid>/<name>` → (container, name).
pub fn parse_child_id(text: &str) -> Result<(ContainerId, String), String> {
    match text.rsplit_once('/') {
        Some((container, name)) if !name.is_empty() => Ok((container.parse()?, name.to_owned())),
        _ => Err(format!("'{text}' is not an id of the form <region>/<az>/<vmid>/<name>")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_round_trip() {
        let id: ContainerId = "eu-south-1/az1/105".parse().expect("valid");
        assert_eq!((id.region.as_str(), id.az.as_str(), id.vmid), ("eu-south-1", "az1", 105));
        assert_eq!(id.to_string(), "eu-south-1/az1/105");
        assert!("eu-south-1/az1".parse::<ContainerId>().is_err());
        assert!("eu-south-1/az1/99".parse::<ContainerId>().is_err());
        assert!("eu-south-1/az1/0100".parse::<ContainerId>().is_err());
        let (ct, name) = parse_child_id("eu/az1/100/before-upgrade").expect("valid");
        assert_eq!((ct.vmid, name.as_str()), (100, "before-upgrade"));
    }
}
