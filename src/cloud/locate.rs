//! Finding a container from its id (`<region>/<az>/<vmid>`) for resources that live in or on
//! it (snapshots, Docker apps): the cluster's inventory says which node holds it now (it may
//! have been migrated since the id was written), and the configured zone on that node is where
//! commands must run.

use std::sync::Arc;

use tf_provider::value::Value;
use tf_provider::Diagnostics;

use crate::cloud::{Cloud, ContainerId, Host};
use crate::pve::inventory::Listing;
use crate::tf::{error_at, known, path};

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

/// The host that speaks for `region`'s cluster-wide objects (security groups, aliases, IP
/// sets); an error at `region` when the region is not configured.
pub fn cluster_host(cloud: &Cloud, region: &str, diags: &mut Diagnostics) -> Option<Arc<Host>> {
    let host = region_host(cloud, region);
    if host.is_none() {
        error_at(
            diags,
            path(&["region"]),
            format!("region '{region}' is not configured"),
            cloud.region_names().join(", "),
        );
    }
    host
}

/// A cluster-wide object's `region` at plan time: the provider's default when unset, and an
/// error at `region` when it is not configured.
pub fn plan_region(cloud: &Cloud, region: &mut Value<String>, diags: &mut Diagnostics) -> Option<()> {
    if region.is_null() {
        match &cloud.default_region {
            Some(r) => *region = Value::Value(r.clone()),
            None => {
                error_at(
                    diags,
                    path(&["region"]),
                    "region is not set",
                    "set region here or a default region on the provider",
                );
                return None;
            }
        }
    }
    if let Some(name) = known(region) {
        if cloud.zones(&name).is_none() {
            error_at(
                diags,
                path(&["region"]),
                format!("unknown region '{name}'"),
                format!("configured regions: {}", cloud.region_names().join(", ")),
            );
            return None;
        }
    }
    Some(())
}

/// A cluster-wide object's id, `<region>/<name>`, unknown until both are known.
pub fn object_id(region: &Value<String>, name: &Value<String>) -> Value<String> {
    match (known(region), known(name)) {
        (Some(r), Some(n)) => Value::Value(format!("{r}/{n}")),
        _ => Value::Unknown,
    }
}

/// What replaces a cluster-wide object: another name or another region (`(region, name)` pairs).
pub fn renamed_or_moved(
    prior: (&Value<String>, &Value<String>),
    planned: (&Value<String>, &Value<String>),
) -> Vec<tf_provider::AttributePath> {
    [("region", prior.0, planned.0), ("name", prior.1, planned.1)]
        .into_iter()
        .filter(|(_, old, new)| old.is_value() && new.is_value() && old != new)
        .map(|(attr, _, _)| path(&[attr]))
        .collect()
}

/// An import id `<region>/<name>` of a cluster-wide object: its host, region and name.
pub fn import_target(
    cloud: &Cloud,
    id: &str,
    example: &str,
    diags: &mut Diagnostics,
) -> Option<(Arc<Host>, String, String)> {
    let Some((region, name)) = id.split_once('/') else {
        diags.root_error("invalid import id", format!("'{id}' is not <region>/<name> (e.g. {example})"));
        return None;
    };
    let Some(host) = region_host(cloud, region) else {
        diags.root_error(format!("region '{region}' is not configured"), cloud.region_names().join(", "));
        return None;
    };
    Some((host, region.to_owned(), name.to_owned()))
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
