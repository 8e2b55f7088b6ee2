//! Resources, one module each, all with the same shape: schema, validate, plan, create, read,
//! update, delete, import.

pub mod backup;
pub mod backup_schedule;
pub mod container;
pub mod docker_app;
pub mod firewall_alias;
pub mod firewall_ipset;
pub mod security_group;
pub mod snapshot;
pub mod template;

use std::collections::HashMap;
use std::sync::Arc;

use tf_provider::{DynamicListResource, DynamicResource};

use crate::cloud::Shared;

/// Every resource, by name without the `lws_` prefix.
pub fn all(shared: &Arc<Shared>) -> HashMap<String, Box<dyn DynamicResource>> {
    let mut resources: HashMap<String, Box<dyn DynamicResource>> = HashMap::new();
    resources.insert("container".to_owned(), Box::new(container::ContainerResource::new(shared.clone())));
    resources.insert("snapshot".to_owned(), Box::new(snapshot::SnapshotResource::new(shared.clone())));
    resources.insert("security_group".to_owned(), Box::new(security_group::SecurityGroupResource::new(shared.clone())));
    resources.insert("docker_app".to_owned(), Box::new(docker_app::DockerAppResource::new(shared.clone())));
    resources.insert("firewall_alias".to_owned(), Box::new(firewall_alias::FirewallAliasResource::new(shared.clone())));
    resources.insert("firewall_ipset".to_owned(), Box::new(firewall_ipset::FirewallIpsetResource::new(shared.clone())));
    resources.insert("backup".to_owned(), Box::new(backup::BackupResource::new(shared.clone())));
    resources
        .insert("backup_schedule".to_owned(), Box::new(backup_schedule::BackupScheduleResource::new(shared.clone())));
    resources.insert("template".to_owned(), Box::new(template::TemplateResource::new(shared.clone())));
    resources
}

/// Every list resource (`terraform query`), by name without the `lws_` prefix.
pub fn lists(shared: &Arc<Shared>) -> HashMap<String, Box<dyn DynamicListResource>> {
    let mut lists: HashMap<String, Box<dyn DynamicListResource>> = HashMap::new();
    lists.insert("container".to_owned(), Box::new(container::list::ContainerList::new(shared.clone())));
    lists.insert("security_group".to_owned(), Box::new(security_group::list::SecurityGroupList::new(shared.clone())));
    lists.insert("snapshot".to_owned(), Box::new(snapshot::list::SnapshotList::new(shared.clone())));
    lists.insert("docker_app".to_owned(), Box::new(docker_app::list::DockerAppList::new(shared.clone())));
    lists
}
