//! `lws_docker_app`: an application run by Docker Compose inside a container, at the LWS
//! tool's layout (`/opt/lws/apps/<name>/docker-compose.yml`, project `<name>`), so apps the LWS
//! tool deployed can be imported. Either `compose` text, or `image` (+ ports, env, volumes,
//! restart) for a single service. `env` goes to the project's `.env` (Compose reads it for
//! `${VAR}` in compose mode; image mode passes it to the service) on standard input only.
//! Import `<region>/<az>/<vmid>/<name>`.

pub mod list;

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
    compose_services, parse_env, parse_image_compose, render_env, render_image_compose, same_yaml, ImageSpec,
};
use crate::pve::docker::{self, Deployed, APPS_DIR};
use crate::pve::lxc::{self, effective_section, ContainerConfig};
use crate::pve::retry::remaining;
use crate::tf::identity::{Identity, Part, AZ, REGION, VMID};
use crate::tf::schema::{
    attributes, bool as boolean, computed, list_of_strings, map_of_strings, number, optional, optional_computed,
    required, sensitive, string, timeouts_block, write_only,
};
use crate::tf::{error_at, known, known_list, known_map, list_of, map_of, path, List, Map, Operation, Timeouts};

/// The identity (protocol 6.9): the parts of `id`, the import id.
pub(super) const IDENTITY: Identity =
    Identity(&[REGION, AZ, VMID, Part { name: "name", number: false, description: "Name of the app." }]);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServiceState {
    pub name: Value<String>,
    pub image: Value<String>,
    pub state: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DockerAppState {
    pub id: Value<String>,
    pub container_id: Value<String>,
    pub name: Value<String>,
    pub compose: Value<String>,
    pub image: Value<String>,
    pub ports: List<String>,
    pub env: Map<String>,
    /// Write-only: in configuration (and so in `create`/`update`'s config) only.
    pub env_wo: Map<String>,
    pub env_wo_version: Value<i64>,
    pub volumes: List<String>,
    pub restart: Value<String>,
    pub command: Value<String>,
    pub install_docker: Value<bool>,
    pub remove_volumes: Value<bool>,
    pub compose_file: Value<String>,
    pub services: Value<Vec<ServiceState>>,
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

/// Kept in Terraform's private state: the names (never the values) of the write-only
/// variables in the app's `.env`, which a read leaves out of `env`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AppPrivate {
    pub env_wo_keys: Vec<String>,
}

pub struct DockerAppResource {
    shared: Arc<Shared>,
}

impl DockerAppResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        DockerAppResource { shared }
    }
}

/// A service's state while its container is stopped (nothing can be asked inside).
const CONTAINER_STOPPED: &str = "container stopped";

fn image_spec(state: &DockerAppState) -> Option<ImageSpec> {
    Some(ImageSpec {
        image: known(&state.image)?,
        ports: known_list(&state.ports).unwrap_or_default(),
        volumes: known_list(&state.volumes).unwrap_or_default(),
        restart: known(&state.restart).unwrap_or_else(|| "unless-stopped".to_owned()),
        command: known(&state.command),
        env_file: known(&state.env).is_some_and(|e| !e.is_empty()),
    })
}

/// The compose text to deploy for `state`, and its expected services.
fn compose_of(state: &DockerAppState) -> Option<(String, Vec<String>)> {
    let name = known(&state.name)?;
    if let Some(text) = known(&state.compose) {
        let services = compose_services(&text).ok()?;
        return Some((text, services));
    }
    let spec = image_spec(state)?;
    Some((render_image_compose(&name, &spec), vec![name]))
}

fn container_of(state: &DockerAppState) -> Option<ContainerId> {
    known(&state.container_id)?.parse().ok()
}

fn services_state(deployed: &Deployed) -> Value<Vec<ServiceState>> {
    Value::Value(
        deployed
            .services
            .iter()
            .map(|s| ServiceState {
                name: Value::Value(s.name.clone()),
                image: Value::Value(s.image.clone()),
                state: Value::Value(s.state.clone()),
            })
            .collect(),
    )
}

/// The write-only variable names `private` recorded.
fn env_wo_keys(private: &Option<AppPrivate>) -> &[String] {
    private.as_ref().map(|p| p.env_wo_keys.as_slice()).unwrap_or_default()
}

/// State from what is deployed; settings Docker cannot report come from `prior`, and the
/// write-only variables (`env_wo_keys`) are left out of `env`.
pub(super) fn state_from(
    deployed: &Deployed,
    container: &ContainerId,
    name: &str,
    prior: &DockerAppState,
    env_wo_keys: &[String],
) -> DockerAppState {
    let mut state = DockerAppState {
        id: Value::Value(format!("{container}/{name}")),
        container_id: if prior.container_id.is_value() {
            prior.container_id.clone()
        } else {
            Value::Value(container.to_string())
        },
        name: Value::Value(name.to_owned()),
        install_docker: if prior.install_docker.is_null() { Value::Value(true) } else { prior.install_docker },
        remove_volumes: if prior.remove_volumes.is_null() { Value::Value(false) } else { prior.remove_volumes },
        compose_file: Value::Value(format!("{APPS_DIR}/{name}/docker-compose.yml")),
        services: services_state(deployed),
        timeouts: prior.timeouts.clone(),
        env_wo_version: prior.env_wo_version,
        ..DockerAppState::default()
    };
    match parse_image_compose(&deployed.compose) {
        Some(spec) => {
            state.image = Value::Value(spec.image);
            state.ports =
                if spec.ports.is_empty() && prior.ports.is_null() { Value::Null } else { list_of(spec.ports) };
            state.volumes =
                if spec.volumes.is_empty() && prior.volumes.is_null() { Value::Null } else { list_of(spec.volumes) };
            state.restart = Value::Value(spec.restart);
            state.command = spec.command.map(Value::Value).unwrap_or(Value::Null);
        }
        None => {
            state.compose = match &prior.compose {
                Value::Value(p) if same_yaml(p, &deployed.compose) => prior.compose.clone(),
                _ => Value::Value(deployed.compose.clone()),
            };
        }
    }
    let mut env = parse_env(&deployed.env_file);
    env.retain(|key, _| !env_wo_keys.contains(key));
    state.env = match (&prior.env, known_map(&prior.env)) {
        (_, Some(p)) if p == env => prior.env.clone(),
        (Value::Null, _) if env.is_empty() => Value::Null,
        _ => map_of(env),
    };
    state
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
        let config = ContainerConfig::from_section(&effective_section(&found.listing.config));
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
        let service = attributes(vec![
            ("name", computed(string(), "Compose service name.")),
            ("image", computed(string(), "Image it runs.")),
            ("state", computed(string(), "`running`, `exited`, … as Docker reports it.")),
        ]);
        let (timeouts_name, timeouts) = timeouts_block("20m", "20m", "10m");
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "An application run by Docker Compose inside a container, laid out as the LWS tool does (`/opt/lws/apps/<name>/docker-compose.yml`, project `<name>`), so apps it deployed can be imported. Give `compose` (YAML) or `image` for a single service. Docker is installed first when missing (`install_docker`). Updates redeploy with `up -d`; a service stopped or removed behind Terraform's back is redeployed by the next apply. Destroy runs `down` (volumes kept unless `remove_volumes`). While the container is stopped the app plans no change (its services read `container stopped`); destroying it then starts the container for `down` and stops it again.",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<az>/<vmid>/<name>`.")),
                    ("container_id", required(string(), "The container (`lws_container.<name>.id`); it must be running.")),
                    ("name", required(string(), "Compose project name: lowercase letters, digits, `_`, `-`, starting with a letter or digit.")),
                    ("compose", optional(string(), "A compose file (YAML), read as Compose reads it: merge keys (`<<: *anchor`) and `x-` extensions work, `${VAR}` is interpolated from `env` (write `$$` for a literal `$`), and a named volume a service uses must be declared under a top-level `volumes:` (checked at plan). Exclusive with `image`.")),
                    ("image", optional(string(), "Image of a single service (named after the app). Exclusive with `compose`.")),
                    ("ports", optional(list_of_strings(), "Published ports of the single service, `HOST:CONTAINER[/PROTO]`.")),
                    ("env", sensitive(optional(map_of_strings(), "Environment: written to the project's `.env` (on standard input, never on a command line). Compose mode uses it for `${VAR}` in the file; image mode passes it to the service. Stored in Terraform's state: put secrets in `env_wo`."))),
                    ("env_wo", write_only(map_of_strings(), "Secret environment, write-only (Terraform ≥ 1.11): written to `.env` with `env`, never stored in state or plans. Sent whenever the app is deployed, and a new `env_wo_version` redeploys it. Names must not repeat those of `env`.")),
                    ("env_wo_version", optional(number(), "Any number: changing it redeploys the app with the current `env_wo`.")),
                    ("volumes", optional(list_of_strings(), "Volumes of the single service, `NAME_OR_PATH:/path`; a name (not a path) is a named volume, declared in the generated file.")),
                    ("restart", optional_computed(string(), "Restart policy of the single service: `no`, `always`, `unless-stopped` (default), `on-failure`.")),
                    ("command", optional(string(), "Command of the single service, passed as written: a `$` reaches the container as `$` (the generated file escapes it from Compose's interpolation).")),
                    ("install_docker", optional_computed(boolean(), "Install Docker and Compose with apt-get when missing (default `true`); nothing runs when they are present.")),
                    ("remove_volumes", optional_computed(boolean(), "On destroy, also remove the project's volumes (default `false`).")),
                    ("compose_file", computed(string(), "Path of the compose file inside the container.")),
                    ("services", computed(AttributeType::AttributeList(service), "The project's service containers.")),
                ]),
                blocks: [(timeouts_name, timeouts)].into_iter().collect(),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(name) = known(&config.name) {
            let mut chars = name.chars();
            let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !ok {
                error_at(diags, path(&["name"]), "invalid app name", format!("'{name}' must be lowercase letters, digits, '_' or '-', starting with a letter or digit (a Compose project name)"));
            }
        }
        if let Some(id) = known(&config.container_id) {
            if let Err(e) = id.parse::<ContainerId>() {
                error_at(diags, path(&["container_id"]), "invalid container_id", e);
            }
        }
        match (&config.compose, &config.image) {
            (Value::Null, Value::Null) => error_at(
                diags,
                path(&["image"]),
                "compose or image is required",
                "give a compose file (compose = file(\"docker-compose.yml\")) or a single image",
            ),
            (Value::Value(_), Value::Value(_)) => error_at(
                diags,
                path(&["image"]),
                "compose and image are exclusive",
                "describe the app either as a compose file or as a single image",
            ),
            _ => {}
        }
        if let Some(text) = known(&config.compose) {
            if let Err(e) = compose_services(&text) {
                error_at(diags, path(&["compose"]), "invalid compose file", e);
            }
            for field in ["ports", "volumes", "restart", "command"] {
                let set = match field {
                    "ports" => config.ports.is_value(),
                    "volumes" => config.volumes.is_value(),
                    "restart" => config.restart.is_value(),
                    _ => config.command.is_value(),
                };
                if set {
                    error_at(
                        diags,
                        path(&[field]),
                        format!("{field} goes with image"),
                        "in compose mode, put it in the compose file",
                    );
                }
            }
        }
        for port in known(&config.ports).unwrap_or_default().iter().filter_map(known) {
            let (addr, proto) = port.rsplit_once('/').unwrap_or((&port, "tcp"));
            let parts: Vec<&str> = addr.split(':').collect();
            let numbers_ok =
                parts.len() >= 2 && parts[parts.len() - 2..].iter().all(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
            if !numbers_ok || !matches!(proto, "tcp" | "udp" | "sctp") {
                error_at(
                    diags,
                    path(&["ports"]),
                    format!("invalid port '{port}'"),
                    "write HOST:CONTAINER, optionally IP:HOST:CONTAINER and /udp",
                );
            }
        }
        if let Some(restart) = known(&config.restart) {
            if !matches!(restart.as_str(), "no" | "always" | "unless-stopped" | "on-failure") {
                error_at(
                    diags,
                    path(&["restart"]),
                    "invalid restart",
                    format!("'{restart}' must be no, always, unless-stopped or on-failure"),
                );
            }
        }
        if let Some(env) = known(&config.env) {
            for (key, value) in env.iter().filter_map(|(k, v)| Some((k, known(v)?))) {
                let mut chars = key.chars();
                let key_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !key_ok || value.contains('\n') {
                    // Never name the value: it may be a secret.
                    error_at(
                        diags,
                        path(&["env"]),
                        format!("invalid env entry '{key}'"),
                        "names are letters, digits and '_' (not starting with a digit); values are one line",
                    );
                }
            }
        }
        if let Some(secrets) = known(&config.env_wo) {
            for key in secrets.keys() {
                let mut chars = key.chars();
                let key_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !key_ok {
                    error_at(
                        diags,
                        path(&["env_wo"]),
                        format!("invalid env_wo name '{key}'"),
                        "names are letters, digits and '_' (not starting with a digit)",
                    );
                }
                if known(&config.env).is_some_and(|env| env.contains_key(key)) {
                    error_at(
                        diags,
                        path(&["env_wo"]),
                        format!("'{key}' is in both env and env_wo"),
                        "give each variable once: env is stored in state, env_wo is not",
                    );
                }
            }
            if !tf_provider::client_allows_write_only() {
                error_at(
                    diags,
                    path(&["env_wo"]),
                    "this Terraform cannot send write-only attributes",
                    "env_wo needs Terraform 1.11 or later (plugin protocol 6.8); upgrade, or use env (stored in state)",
                );
            }
        }
        Timeouts::validate(&config.timeouts, diags);
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
            (Some(old), Some(new)) if old.region == new.region && old.vmid == new.vmid
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
        let running: Vec<String> = known(&prior.services)
            .unwrap_or_default()
            .iter()
            .filter(|s| known(&s.state).as_deref() == Some("running"))
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
                "the service(s) stopped or disappeared outside Terraform; this apply redeploys the app",
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
