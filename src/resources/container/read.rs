//! The container as Proxmox reports it, turned into state. What Proxmox cannot report
//! (template, size, password, SSH keys, clone source, timeouts) comes from the prior state.

use tf_provider::value::Value;

use crate::tf::{description, list_of, set_of, List, Set};

use crate::cloud::Host;
use crate::pve::firewall_file::FirewallFile;
use crate::pve::inventory::Listing;
use crate::pve::lxc::interfaces;

use super::state::{ContainerState, FeaturesState, NetworkState};

fn tags(remote: &[String], prior: &Set<String>) -> Set<String> {
    if remote.is_empty() {
        match prior {
            Value::Value(p) if p.is_empty() => prior.clone(),
            _ => Value::Null,
        }
    } else {
        set_of(remote.iter().cloned())
    }
}

/// The security groups a container's firewall rules reference, in order.
fn security_groups(firewall: Option<&FirewallFile>, prior: &List<String>) -> List<String> {
    let groups: Vec<String> = firewall
        .map(|f| f.rules.iter().filter(|r| r.kind == "group").map(|r| r.action.clone()).collect())
        .unwrap_or_default();
    match (groups.is_empty(), prior) {
        (true, Value::Value(p)) if p.is_empty() => prior.clone(),
        (true, _) => Value::Null,
        (false, _) => list_of(groups),
    }
}

/// Evidence that the container under this VMID is not the one in state: every interface state
/// knows the MAC address of has another one now. Proxmox draws a random MAC for every interface
/// of a new container (pve-container `src/PVE/LXC/Config.pm` `parse_lxc_network` →
/// `PVE::Tools::random_ether_addr`) and keeps it across updates, so a container destroyed and
/// created again under the same VMID shows as one whose every MAC changed. One interface of
/// several re-made by hand is not enough (that container is still ours, with drift).
pub fn replaced_since(prior: &ContainerState, listing: &Listing) -> Option<String> {
    let Value::Value(prior_nets) = &prior.network else { return None };
    let known: Vec<(String, String)> = prior_nets
        .iter()
        .filter_map(|n| match (&n.name, &n.mac_address) {
            (Value::Value(name), Value::Value(mac)) => Some((name.clone(), mac.clone())),
            _ => None,
        })
        .collect();
    if known.is_empty() {
        return None;
    }
    let config = listing.typed_config().ok()?;
    let mut changed = Vec::new();
    for (name, mac) in &known {
        let now = config.networks.iter().find(|n| &n.name == name)?.hwaddr.as_deref()?;
        if now.eq_ignore_ascii_case(mac) {
            return None;
        }
        changed.push(format!("{name} was {mac}, is {now}"));
    }
    Some(format!("every MAC address Terraform knew changed ({})", changed.join("; ")))
}

/// State from what the host reports, in `region`/`az`.
pub async fn state_from_listing(
    listing: &Listing,
    firewall: Option<&FirewallFile>,
    host: &Host,
    region: &str,
    az: &str,
    prior: &ContainerState,
) -> Result<ContainerState, String> {
    let config = listing.typed_config()?;
    let running = listing.running();
    let rootfs = config.rootfs.clone();
    let networks: Vec<NetworkState> = config
        .networks
        .iter()
        .map(|n| NetworkState {
            name: Value::Value(n.name.clone()),
            bridge: n.bridge.clone().map(Value::Value).unwrap_or(Value::Null),
            ip: n.ip.clone().map(Value::Value).unwrap_or(Value::Null),
            gateway: n.gw.clone().map(Value::Value).unwrap_or(Value::Null),
            vlan: n.tag.map(|t| Value::Value(i64::from(t))).unwrap_or(Value::Null),
            firewall: Value::Value(n.firewall),
            mac_address: n.hwaddr.clone().map(Value::Value).unwrap_or(Value::Null),
        })
        .collect();
    let first = config.networks.first();
    let ipv4_address = match first {
        Some(net) => match net.static_ipv4() {
            Some(ip) => Value::Value(ip),
            None if running && net.ip.as_deref() == Some("dhcp") => match &prior.ipv4_address {
                Value::Value(ip) => Value::Value(ip.clone()),
                // Not `lxc-info -i`: it lists the addresses of every interface without their
                // names (lxc `do_lxcapi_get_ips`), and a container running Docker also has
                // docker0's 172.17.0.1, alone while the lease is pending. Only Proxmox's
                // per-interface view says which address is this interface's.
                _ => leased_address(host, &listing.node, listing.vmid, &net.name).await?,
            },
            None => Value::Null,
        },
        None => Value::Null,
    };
    Ok(ContainerState {
        id: Value::Value(format!("{region}/{az}/{}", listing.vmid)),
        region: Value::Value(region.to_owned()),
        az: Value::Value(az.to_owned()),
        vmid: Value::Value(i64::from(listing.vmid)),
        node: Value::Value(listing.node.clone()),
        hostname: Value::Value(config.hostname.clone().unwrap_or_else(|| format!("CT{}", listing.vmid))),
        template: prior.template.clone(),
        clone_from: prior.clone_from.clone(),
        restore_from: prior.restore_from.clone(),
        size: prior.size.clone(),
        memory: Value::Value(config.memory.unwrap_or(512) as i64),
        cores: config.cores.map(|c| Value::Value(i64::from(c))).unwrap_or(Value::Null),
        cpulimit: config.cpulimit.map(Value::Value).unwrap_or(Value::Null),
        // No `swap:` line is no swap: pve-container `LXC.pm` `update_lxc_config` (`$conf->{swap}
        // // 0`); 512 is only what `pct create` writes when not told.
        swap: Value::Value(config.swap.unwrap_or(0) as i64),
        disk_size: rootfs.as_ref().and_then(|r| r.size_gib()).map(|g| Value::Value(g as i64)).unwrap_or(Value::Null),
        storage: rootfs.map(|r| Value::Value(r.storage)).unwrap_or(Value::Null),
        network: Value::Value(networks),
        nameserver: config.nameserver.clone().map(Value::Value).unwrap_or(Value::Null),
        ssh_public_keys: prior.ssh_public_keys.clone(),
        password: prior.password.clone(),
        password_wo: Value::Null,
        password_wo_version: prior.password_wo_version,
        unprivileged: Value::Value(config.unprivileged),
        features: Value::Value(FeaturesState {
            nesting: Value::Value(config.features.nesting),
            keyctl: Value::Value(config.features.keyctl),
            fuse: Value::Value(config.features.fuse),
        }),
        start_on_boot: Value::Value(config.onboot),
        started: Value::Value(running),
        tags: tags(&config.tags, &prior.tags),
        description: description(config.description.as_deref(), &prior.description),
        security_groups: security_groups(firewall, &prior.security_groups),
        status: Value::Value(if running { "running" } else { "stopped" }.to_owned()),
        ipv4_address,
        mac_address: first.and_then(|n| n.hwaddr.clone()).map(Value::Value).unwrap_or(Value::Null),
        timeouts: prior.timeouts.clone(),
    })
}

/// The DHCP address of interface `name`, if the container reports one.
/// `null` (pve-container `LXC.pm` `get_interfaces`: undef when the container has no PID, i.e.
/// stopped meanwhile) is no address; a failed call is an error, never "no lease yet".
async fn leased_address(host: &Host, node: &str, vmid: u32, name: &str) -> Result<Value<String>, String> {
    match interfaces(host, node, vmid).await.map_err(|e| e.to_string())? {
        Some(list) => Ok(list
            .into_iter()
            .find(|i| i.name == name)
            .and_then(|i| i.inet)
            .and_then(|inet| inet.split('/').next().map(str::to_owned))
            .map(Value::Value)
            .unwrap_or(Value::Null)),
        None => Ok(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_equal_up_to_trailing_newlines_keep_their_configured_form() {
        let prior = Value::Value("web: frontend".to_owned());
        assert_eq!(description(Some("web: frontend\n"), &prior), prior);
        let heredoc = Value::Value("line one\nline two\n".to_owned());
        assert_eq!(description(Some("line one\nline two\n"), &heredoc), heredoc);
        assert_eq!(description(Some("changed\n"), &prior), Value::Value("changed".to_owned()));
        assert_eq!(description(None, &Value::Null), Value::Null);
    }

    #[test]
    fn no_tags_and_an_empty_tag_set_are_the_same() {
        let empty: Set<String> = Value::Value(Default::default());
        assert_eq!(tags(&[], &empty), empty);
        assert_eq!(tags(&[], &Value::Null), Value::Null);
        assert_eq!(tags(&["web".to_owned()], &Value::Null), set_of(["web".to_owned()]));
    }
}
