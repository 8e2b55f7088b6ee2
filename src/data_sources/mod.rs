//! Data sources, one module each: schema and read.

pub mod clusters;
pub mod container;
pub mod hosts;
pub mod status;
pub mod templates;

use std::collections::HashMap;
use std::sync::Arc;

use tf_provider::{Diagnostics, DynamicDataSource};

use crate::cloud::Shared;
use crate::cloud::{Cloud, Host};
use crate::tf::{error_at, path};

/// Every data source, by name without the `lws_` prefix.
pub fn all(shared: &Arc<Shared>) -> HashMap<String, Box<dyn DynamicDataSource>> {
    let mut sources: HashMap<String, Box<dyn DynamicDataSource>> = HashMap::new();
    sources.insert("hosts".to_owned(), Box::new(hosts::HostsDataSource::new(shared.clone())));
    sources.insert("clusters".to_owned(), Box::new(clusters::ClustersDataSource::new(shared.clone())));
    sources.insert("status".to_owned(), Box::new(status::StatusDataSource::new(shared.clone())));
    sources.insert("container".to_owned(), Box::new(container::ContainerDataSource::new(shared.clone())));
    sources.insert("templates".to_owned(), Box::new(templates::TemplatesDataSource::new(shared.clone())));
    sources
}

/// A region filter must name a configured region.
pub fn check_region(cloud: &Cloud, region: Option<&str>, diags: &mut Diagnostics) -> Option<()> {
    match region {
        Some(r) if cloud.zones(r).is_none() => {
            error_at(
                diags,
                path(&["region"]),
                format!("unknown region '{r}'"),
                format!("configured regions: {}", cloud.region_names().join(", ")),
            );
            None
        }
        _ => Some(()),
    }
}

/// An az filter must name a zone of the region (or of some region, without one).
pub fn check_az(cloud: &Cloud, region: Option<&str>, az: Option<&str>, diags: &mut Diagnostics) -> Option<()> {
    let Some(az) = az else { return Some(()) };
    let regions: Vec<String> = match region {
        Some(r) => vec![r.to_owned()],
        None => cloud.region_names(),
    };
    let found = regions.iter().any(|r| cloud.zones(r).is_some_and(|zones| zones.iter().any(|z| z == az)));
    if found {
        Some(())
    } else {
        let zones: Vec<String> = regions
            .iter()
            .flat_map(|r| cloud.zones(r).unwrap_or_default().into_iter().map(move |z| format!("{r}/{z}")))
            .collect();
        error_at(
            diags,
            path(&["az"]),
            format!("unknown availability zone '{az}'"),
            format!("configured zones: {}", zones.join(", ")),
        );
        None
    }
}

/// Configured hosts, filtered by region and zone.
pub fn hosts_in(cloud: &Cloud, region: Option<&str>, az: Option<&str>) -> Vec<Arc<Host>> {
    cloud
        .hosts()
        .into_iter()
        .filter(|h| region.is_none_or(|r| h.region == r))
        .filter(|h| az.is_none_or(|a| h.az == a))
        .collect()
}
