//! Actions (plugin protocol 6.10, Terraform ≥ 1.14): LWS's imperative commands — power, snapshot
//! rollback, app restart — invoked with `terraform apply -invoke=action.<type>.<name>` or from a
//! resource's `lifecycle { action_trigger { … } }`, with progress messages while they run. They
//! change what is on the hosts, never Terraform's state: the next refresh reads the result.

mod container_exec;
mod container_power;
mod docker_app_restart;
mod snapshot_rollback;

use std::collections::HashMap;
use std::sync::Arc;

use tf_provider::value::Value;
use tf_provider::{Diagnostics, DynamicAction};

use crate::cloud::id::parse_child_id;
use crate::cloud::locate::{locate, Located};
use crate::cloud::{Cloud, ContainerId, Shared};
use crate::tf::{error_at, known, path};

/// Every action, by name without the `lws_` prefix.
pub fn all(shared: &Arc<Shared>) -> HashMap<String, Box<dyn DynamicAction>> {
    let mut actions: HashMap<String, Box<dyn DynamicAction>> = HashMap::new();
    actions.insert("container_exec".to_owned(), Box::new(container_exec::ContainerExec::new(shared.clone())));
    actions.insert("container_power".to_owned(), Box::new(container_power::ContainerPower::new(shared.clone())));
    actions.insert("snapshot_rollback".to_owned(), Box::new(snapshot_rollback::SnapshotRollback::new(shared.clone())));
    actions
        .insert("docker_app_restart".to_owned(), Box::new(docker_app_restart::DockerAppRestart::new(shared.clone())));
    actions
}

/// The container `attribute` names (`<region>/<az>/<vmid>`), found where it lives now; errors
/// name the attribute.
async fn find_container(cloud: &Cloud, diags: &mut Diagnostics, attribute: &str, id: &ContainerId) -> Option<Located> {
    match locate(cloud, id, true).await {
        Ok(Some(found)) => Some(found),
        Ok(None) => {
            error_at(diags, path(&[attribute]), format!("container {id} does not exist"), "");
            None
        }
        Err(e) => {
            diags.root_error(format!("cannot find container {id}"), e);
            None
        }
    }
}

/// The container `container_id` names; `None` while unknown, or with an error at it.
fn container_id(value: &Value<String>, diags: &mut Diagnostics) -> Option<ContainerId> {
    match known(value)?.parse::<ContainerId>() {
        Ok(id) => Some(id),
        Err(e) => {
            error_at(diags, path(&["container_id"]), "invalid container_id", e);
            None
        }
    }
}

/// `<region>/<az>/<vmid>/<name>` (a snapshot's or an app's id) from `attribute`; `None` while
/// unknown, or with an error naming the attribute.
fn child_id(value: &Value<String>, attribute: &str, diags: &mut Diagnostics) -> Option<(ContainerId, String)> {
    match parse_child_id(&known(value)?) {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            error_at(diags, path(&[attribute]), format!("invalid {attribute}"), e);
            None
        }
    }
}
