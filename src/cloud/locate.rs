//! Finding a container from its id (`<region>/<az>/<vmid>`) for resources that live in or on
//! it (snapshots, Docker apps): the cluster's inventory says which node holds it now (it may
//! have been migrated since the id was written), and the configured zone on that node is where
//! commands must run.

use std::sync::Arc;

use crate::cloud::{Cloud, ContainerId, Host};
use crate::pve::inventory::Listing;

/// A container and the host its commands run on.
pub struct Located {
    pub host: Arc<Host>,
    pub az: String,
    pub listing: Listing,
}

/// Any host of the region, for what is cluster-wide (`cluster.fw`: security groups, aliases).
pub fn region_host(cloud: &Cloud, region: &str) -> Option<Arc<Host>> {
    let zones = cloud.zones(region)?;
    cloud.host(region, zones.first()?)
}

/// The configured zone whose host is `node` of the cluster `from` belongs to. Node names are
/// unique only within a cluster: two standalone hosts are both called `pve` by the installer, so
/// a zone of another cluster with that node name is never the answer.
pub async fn zone_of_node(cloud: &Cloud, from: &Host, node: &str) -> Option<String> {
    let cluster = from.cluster_key().await.ok()?;
    for az in cloud.zones(&from.region)? {
        let Some(host) = cloud.host(&from.region, &az) else { continue };
        if host.node().await.ok().as_deref() == Some(node) && host.cluster_key().await.ok().as_ref() == Some(&cluster) {
            return Some(az);
        }
    }
    None
}

/// Locate `id`; `Ok(None)` when the container no longer exists.
pub async fn locate(cloud: &Cloud, id: &ContainerId, fresh: bool) -> Result<Option<Located>, String> {
    let host = cloud
        .host(&id.region, &id.az)
        .ok_or_else(|| format!("availability zone {}/{} is not configured", id.region, id.az))?;
    if fresh {
        host.forget(id.vmid).await;
    }
    let inventory = host.inventory().await.map_err(|e| e.to_string())?;
    let Some(listing) = inventory.containers.get(&id.vmid).cloned() else { return Ok(None) };
    if host.node().await.ok().as_deref() == Some(listing.node.as_str()) {
        return Ok(Some(Located { host, az: id.az.clone(), listing }));
    }
    let az = zone_of_node(cloud, &host, &listing.node).await.ok_or_else(|| {
        format!(
            "container {} is on node '{}', which no configured availability zone of {} reaches",
            id.vmid, listing.node, id.region
        )
    })?;
    let host = cloud.host(&id.region, &az).ok_or_else(|| format!("availability zone {}/{az} vanished", id.region))?;
    // The listing as the container's own node has it: another node's view of its running state
    // is pvestatd's last sample (`unknown` for a new guest).
    if fresh {
        host.forget(id.vmid).await;
    }
    let inventory = host.inventory().await.map_err(|e| e.to_string())?;
    let Some(listing) = inventory.containers.get(&id.vmid).cloned() else { return Ok(None) };
    Ok(Some(Located { host, az, listing }))
}
