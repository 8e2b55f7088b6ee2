//! `lws_docker_app`: an application run by Docker Compose inside a container, at the LWS
//! tool's layout (`/opt/lws/apps/<name>/docker-compose.yml`, project `<name>`), so apps the LWS
//! tool deployed can be imported. Either `compose` text, or `image` (+ ports, env, volumes,
//! restart) for a single service. `env` goes to the project's `.env` (Compose reads it for
//! `${VAR}` in compose mode; image mode passes it to the service) on standard input only.
//! Import `<region>/<az>/<vmid>/<name>`.

pub mod list;
mod state;
mod validate;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{self, Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::id::parse_child_id;
use crate::cloud::locate::{locate, Located};
use crate::cloud::Shared;
use crate::cloud::{Cloud, ContainerId};
use crate::pve::compose::{
    completing_services, compose_services, parse_env, parse_image_compose, render_env, render_image_compose, same_yaml,
    ImageSpec,
};
use crate::pve::docker::{self, Deployed, APPS_DIR};
use crate::pve::lxc;
use crate::pve::retry::remaining;
use crate::tf::identity::{Identity, Part, AZ, REGION, VMID};
use crate::tf::schema::{
    attributes, bool as boolean, computed, list_of_strings, map_of_strings, number, optional, optional_computed,
    required, sensitive, string, timeouts_block, write_only,
};
use crate::tf::{error_at, known, known_list, known_map, list_of, map_of, path, List, Map, Operation, Timeouts};
use state::{compose_of, container_of, env_wo_keys, CONTAINER_STOPPED};
use state::{state_from, IDENTITY};
pub use state::{AppPrivate, DockerAppState, ServiceState};

pub struct DockerAppResource {
    shared: Arc<Shared>,
}

impl DockerAppResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        DockerAppResource { shared }
    }
}

impl DockerAppResource {
    /// The running container the app lives in, or a clear error.
    async fn running_container(
        &self,
        cloud: &Cloud,
        state: &DockerAppState,
        diags: &mut Diagnostics,
    ) -> Option<(ContainerId, Located)> {
        let container = container_of(state)?;
        match locate(cloud, &container, true).await {
            Ok(Some(found)) if found.listing.running() => Some((container, found)),
            Ok(Some(_)) => {
                error_at(
                    diags,
                    path(&["container_id"]),
                    format!("container {container} is stopped"),
                    "Docker apps run inside the container: start it (lws_container started = true) and apply again",
                );
                None
            }
            Ok(None) => {
                error_at(diags, path(&["container_id"]), format!("container {container} does not exist"), "");
                None
            }
            Err(e) => {
                diags.root_error(format!("cannot find container {container}"), e);
                None
            }
        }
    }

    /// Install Docker if asked, write the files (`env` and the write-only `env_wo` of `config`
    /// together in `.env`), `up -d`; then read back.
    async fn deploy(
        &self,
        planned: &DockerAppState,
        config: &DockerAppState,
        op: Operation,
        diags: &mut Diagnostics,
    ) -> Option<(DockerAppState, Option<AppPrivate>)> {
        let cloud = self.shared.cloud(diags)?;
        let (container, found) = self.running_container(&cloud, planned, diags).await?;
        let name = known(&planned.name)?;
        let (compose, _) = compose_of(planned)?;
        let secrets = known_map(&config.env_wo).unwrap_or_default();
        let private = Some(AppPrivate { env_wo_keys: secrets.keys().cloned().collect() });
        let mut variables = known_map(&planned.env).unwrap_or_default();
        variables.extend(secrets);
        let env = render_env(&variables);
        let deadline = Instant::now() + Timeouts::get(&planned.timeouts, op, Duration::from_secs(20 * 60));
        // Advice only: an unreadable config fails the container's own read, loudly.
        let config = found.listing.typed_config().unwrap_or_default();
        if config.unprivileged && !(config.features.nesting && config.features.keyctl) {
            diags.root_warning(
                format!("container {container} may not run Docker"),
                "Docker in an unprivileged LXC container needs the container features nesting and keyctl (lws_container features = { nesting = true, keyctl = true })",
            );
        }
        let host = found.host.clone();
        let install = known(&planned.install_docker).unwrap_or(true);
        let installed = {
            let _one_install_at_a_time = host.lock_guest(container.vmid).await;
            docker::ensure_docker(host.as_ref(), container.vmid, install, Some(remaining(deadline))).await
        };
        let result = match installed {
            Ok(()) => {
                docker::deploy(host.as_ref(), container.vmid, &name, &compose, &env, Some(remaining(deadline))).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            diags.root_error(format!("deploying {name} in container {container} failed"), e.to_string());
        }
        match docker::inspect(host.as_ref(), container.vmid, &name).await {
            Ok(Some(deployed)) => {
                let state = state_from(&deployed, &container, &name, planned, env_wo_keys(&private));
                Some((state, private))
            }
            Ok(None) => None,
            Err(e) => {
                diags.root_error("cannot read the app back", e.to_string());
                None
            }
        }
    }
}

#[async_trait]
impl Resource for DockerAppResource {
    type State<'a> = DockerAppState;
    type PrivateState<'a> = Option<AppPrivate>;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        state::schema()
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate::validate(&config, diags);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (Some(container), Some(name)) = (container_of(&state), known(&state.name)) else {
            return Some((state, private));
        };
        let found = match locate(&cloud, &container, false).await {
            Ok(Some(found)) => found,
            Ok(None) => return None, // the container is gone, and the app with it
            Err(e) => {
                diags.root_error(format!("cannot find container {container}"), e);
                return Some((state, private));
            }
        };
        if !found.listing.running() {
            // Nothing can be asked inside; report the app down so the plan shows it.
            let mut stale = state.clone();
            if let Value::Value(services) = &mut stale.services {
                for s in services {
                    s.state = Value::Value(CONTAINER_STOPPED.to_owned());
                }
            }
            return Some((stale, private));
        }
        match docker::inspect(found.host.as_ref(), container.vmid, &name).await {
            Ok(Some(deployed)) => {
                let fresh = state_from(&deployed, &container, &name, &state, env_wo_keys(&private));
                Some((fresh, private))
            }
            Ok(None) => None,
            Err(e) => {
                diags.root_error(format!("cannot read app {name} in container {container}"), e.to_string());
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let mut planned = proposed;
        planned.id = match (known(&planned.container_id), known(&planned.name)) {
            (Some(c), Some(n)) => Value::Value(format!("{c}/{n}")),
            _ => Value::Unknown,
        };
        planned.compose_file = match known(&planned.name) {
            Some(n) => Value::Value(format!("{APPS_DIR}/{n}/docker-compose.yml")),
            None => Value::Unknown,
        };
        if planned.image.is_value() && planned.restart.is_null() {
            planned.restart = Value::Value("unless-stopped".to_owned());
        }
        if planned.install_docker.is_null() {
            planned.install_docker = Value::Value(true);
        }
        if planned.remove_volumes.is_null() {
            planned.remove_volumes = Value::Value(false);
        }
        planned.services = Value::Unknown;
        // Write-only: Terraform wants it null in every plan; `create`/`update` read it from config.
        planned.env_wo = Value::Null;
        Some((planned, None))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _proposed: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        // Defaults come from the configuration, so a setting changed on the host shows as drift.
        let (mut planned, _) = self.plan_create(diags, config.clone(), config, meta).await?;
        let mut replace = Vec::new();
        if prior.name != planned.name && planned.name.is_value() {
            replace.push(path(&["name"]));
        }
        let same_container = matches!(
            (container_of(&prior), container_of(&planned)),
            (Some(old), Some(new)) if old.is_same_container(&new)
        );
        if !same_container {
            replace.push(path(&["container_id"]));
        }
        // Only what decides the deployment matters; delete-time and install settings do not.
        let deployment = |s: &DockerAppState| {
            (
                s.compose.clone(),
                s.image.clone(),
                s.ports.clone(),
                s.env.clone(),
                s.volumes.clone(),
                s.restart.clone(),
                s.command.clone(),
                s.env_wo_version,
            )
        };
        let redeploy = deployment(&prior) != deployment(&planned);
        let expected = compose_of(&planned).map(|(_, services)| services);
        // Up: running, or a one-shot job (a migration, say) that finished with status 0.
        let jobs = known(&planned.compose).map(|c| completing_services(&c)).unwrap_or_default();
        let running: Vec<String> = known(&prior.services)
            .unwrap_or_default()
            .iter()
            .filter(|s| {
                let job = known(&s.name).is_some_and(|n| jobs.contains(&n));
                known(&s.state).is_some_and(|state| docker::is_up(&state, job))
            })
            .filter_map(|s| known(&s.name))
            .collect();
        // A container that is stopped (by Terraform, say) stops its apps with it: that is no
        // drift to repair, and nothing could run inside it anyway.
        let container_stopped = known(&prior.services)
            .is_some_and(|s| !s.is_empty() && s.iter().all(|s| known(&s.state).as_deref() == Some(CONTAINER_STOPPED)));
        let down: Vec<String> = match container_stopped {
            true => Vec::new(),
            false => expected.unwrap_or_default().into_iter().filter(|s| !running.contains(s)).collect(),
        };
        if container_stopped && redeploy {
            diags.root_warning(
                format!("container {} is stopped", known(&prior.container_id).unwrap_or_default()),
                "this change redeploys the app, which runs inside the container: the apply fails unless the container is started first (lws_container started = true)",
            );
        }
        if !down.is_empty() && replace.is_empty() {
            diags.root_warning(
                format!("{} not running", down.join(", ")),
                "the service(s) stopped, failed (a one-shot job that exited with a status other than 0) or disappeared outside Terraform; this apply redeploys the app",
            );
        }
        planned.services =
            if redeploy || !down.is_empty() || !replace.is_empty() { Value::Unknown } else { prior.services.clone() };
        if replace.is_empty() {
            planned.id = match (known(&planned.container_id), known(&planned.name)) {
                (Some(c), Some(n)) => Value::Value(format!("{c}/{n}")),
                _ => prior.id.clone(),
            };
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        self.deploy(&planned, &config, Operation::Create, diags).await
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        self.deploy(&planned, &config, Operation::Update, diags).await
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let cloud = self.shared.cloud(diags)?;
        let container = container_of(&prior)?;
        let name = known(&prior.name)?;
        match locate(&cloud, &container, true).await {
            Ok(None) => return Some(()), // the container is gone, and the app with it
            Ok(Some(found)) if found.listing.running() => {
                let timeout = Timeouts::get(&prior.timeouts, Operation::Delete, Duration::from_secs(600));
                let volumes = known(&prior.remove_volumes).unwrap_or(false);
                if let Err(e) = docker::remove(found.host.as_ref(), container.vmid, &name, volumes, Some(timeout)).await
                {
                    diags.root_error(format!("removing {name} from container {container} failed"), e.to_string());
                }
            }
            Ok(Some(found)) => {
                // `docker compose down` runs inside: start the container for it, and stop it
                // again afterwards, so the app is gone and the container as it was.
                let timeout = Timeouts::get(&prior.timeouts, Operation::Delete, Duration::from_secs(600));
                let volumes = known(&prior.remove_volumes).unwrap_or(false);
                let host = found.host.as_ref();
                let result = async {
                    lxc::start(host, container.vmid, Some(timeout)).await?;
                    let removed = docker::remove(host, container.vmid, &name, volumes, Some(timeout)).await;
                    let stopped = lxc::stop(host, container.vmid, Some(timeout)).await;
                    removed.and(stopped)
                }
                .await;
                found.host.forget(container.vmid).await;
                match result {
                    Ok(()) => diags.root_warning(
                        format!("container {container} was started to remove {name}"),
                        "the app is removed with `docker compose down` inside the container; the container is stopped again",
                    ),
                    Err(e) => diags.root_error(format!("removing {name} from stopped container {container} failed"), e.to_string()),
                }
            }
            Err(e) => diags.root_error(format!("cannot find container {container}"), e),
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (container, name) = match parse_child_id(&id) {
            Ok(parts) => parts,
            Err(e) => {
                diags.root_error("invalid import id", format!("{e} (e.g. eu-south-1/az1/105/web)"));
                return None;
            }
        };
        let seed = DockerAppState {
            container_id: Value::Value(container.to_string()),
            name: Value::Value(name.clone()),
            ..DockerAppState::default()
        };
        let (container, found) = self.running_container(&cloud, &seed, diags).await?;
        match docker::inspect(found.host.as_ref(), container.vmid, &name).await {
            Ok(Some(deployed)) => Some((state_from(&deployed, &container, &name, &seed, &[]), None)),
            Ok(None) => {
                diags.root_error(
                    format!("no app '{name}' in container {container}"),
                    format!("expected {APPS_DIR}/{name}/docker-compose.yml"),
                );
                None
            }
            Err(e) => {
                diags.root_error("cannot read the app", e.to_string());
                None
            }
        }
    }
}
