//! What `lws_docker_app` holds: its state, its schema, and the state read from a deployment.

use super::*;

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

/// A service's state while its container is stopped (nothing can be asked inside).
pub(super) const CONTAINER_STOPPED: &str = "container stopped";

pub(super) fn image_spec(state: &DockerAppState) -> Option<ImageSpec> {
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
pub(super) fn compose_of(state: &DockerAppState) -> Option<(String, Vec<String>)> {
    let name = known(&state.name)?;
    if let Some(text) = known(&state.compose) {
        let services = compose_services(&text).ok()?;
        return Some((text, services));
    }
    let spec = image_spec(state)?;
    Some((render_image_compose(&name, &spec), vec![name]))
}

pub(super) fn container_of(state: &DockerAppState) -> Option<ContainerId> {
    known(&state.container_id)?.parse().ok()
}

pub(super) fn services_state(deployed: &Deployed) -> Value<Vec<ServiceState>> {
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
pub(super) fn env_wo_keys(private: &Option<AppPrivate>) -> &[String] {
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

/// The resource's schema.
pub fn schema() -> Option<Schema> {
    let service = attributes(vec![
        ("name", computed(string(), "Compose service name.")),
        ("image", computed(string(), "Image it runs.")),
        ("state", computed(string(), "As Docker reports it: `running`, `exited (N)` with the exit status, `created`, … A one-shot job (a migration, say: a service others `depends_on` with `condition: service_completed_successfully`) that shows `exited (0)` is done, not down, so it is not redeployed.")),
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
