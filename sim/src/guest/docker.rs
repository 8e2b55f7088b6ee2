//! A Docker engine and CLI inside a simulated container. Containers are records in
//! `/var/lib/docker/lws-sim-state.json` of the container's root; nothing actually runs. The CLI
//! covers `version`, `info`, `ps`, `run`, `rm`, `stop`, `start`, `restart`, `logs`, `inspect`,
//! `pull`, `images` and `compose` (see [`super::compose`]), with Docker's messages and exit codes.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{apt, current_root};
use crate::journal::epoch_secs;
use crate::output::{Failure, Outcome};
use crate::rng;

pub const VERSION: &str = "26.1.5+dfsg1";
pub const COMPOSE_VERSION: &str = "v2.26.1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PortMap {
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: String,
    /// `created`, `running` or `exited`.
    pub state: String,
    pub created: u64,
    pub changed: u64,
    pub exit_code: i32,
    pub ports: Vec<PortMap>,
    pub env: Vec<String>,
    pub restart: String,
    pub volumes: Vec<String>,
    pub project: Option<String>,
    pub service: Option<String>,
    pub config_hash: Option<String>,
    pub config_file: Option<String>,
    pub working_dir: Option<String>,
    /// Stopped because its host container stopped (brought back by `unless-stopped`).
    #[serde(default)]
    pub stopped_by_host: bool,
}

impl Container {
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    pub fn running(&self) -> bool {
        self.state == "running"
    }

    pub fn status_text(&self) -> String {
        let ago = human_duration(epoch_secs().saturating_sub(self.changed));
        match self.state.as_str() {
            "running" => format!("Up {ago}"),
            "exited" => format!("Exited ({}) {ago} ago", self.exit_code),
            _ => "Created".to_owned(),
        }
    }

    pub fn ports_text(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("{}:{}->{}/{}", p.host_ip, p.host_port, p.container_port, p.proto))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn set_state(&mut self, state: &str) {
        self.state = state.to_owned();
        self.changed = epoch_secs();
        self.stopped_by_host = false;
    }

    /// Its process ended with status `code`.
    pub fn exit(&mut self, code: i32) {
        self.set_state("exited");
        self.exit_code = code;
    }

    /// Start it: a one-shot job ([`exits_at_once`]) runs to its end at once.
    pub fn start(&mut self) {
        match exits_at_once(&self.command) {
            Some(code) => self.exit(code),
            None => {
                self.set_state("running");
                self.exit_code = 0;
            }
        }
    }
}

/// No engine runs images here, so what a container's command does is known only for one-shot
/// jobs spelled plainly: `true` (status 0), `false` (1), anything ending in `exit N` (N).
/// Every other command runs until the container is stopped.
pub fn exits_at_once(command: &str) -> Option<i32> {
    let command = command.trim().trim_matches(|c| c == '"' || c == '\'');
    match command {
        "true" => Some(0),
        "false" => Some(1),
        _ => command
            .rsplit_once("exit ")
            .and_then(|(_, code)| code.trim().trim_matches(|c| c == '"' || c == '\'').parse().ok()),
    }
}

fn human_duration(secs: u64) -> String {
    match secs {
        0..=1 => "Less than a second".to_owned(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "About a minute".to_owned(),
        120..=3599 => format!("{} minutes", secs / 60),
        _ => format!("{} hours", secs / 3600),
    }
}

/// The engine's state in one container.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Engine {
    pub containers: Vec<Container>,
    pub images: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

fn state_path(root: &Path) -> PathBuf {
    root.join("var/lib/docker/lws-sim-state.json")
}

impl Engine {
    pub fn load(root: &Path) -> Result<Engine, Failure> {
        match fs::read_to_string(state_path(root)) {
            Ok(text) => Ok(serde_json::from_str(&text)?),
            Err(_) => Ok(Engine::default()),
        }
    }

    pub fn save(&self, root: &Path) -> Outcome {
        let path = state_path(root);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        crate::context::write_atomic(&path, &serde_json::to_string_pretty(self)?)?;
        Ok(())
    }

    pub fn find(&self, name_or_id: &str) -> Option<usize> {
        let name = name_or_id.trim_start_matches('/');
        self.containers
            .iter()
            .position(|c| c.name == name || c.id == name || (name.len() >= 4 && c.id.starts_with(name)))
    }

    /// The first running container (other than `except`) already publishing one of `ports`.
    pub fn port_clash(&self, ports: &[PortMap], except: Option<&str>) -> Option<u16> {
        self.containers
            .iter()
            .filter(|c| c.running() && Some(c.name.as_str()) != except)
            .flat_map(|c| c.ports.iter())
            .find(|used| ports.iter().any(|p| p.host_port == used.host_port && p.proto == used.proto))
            .map(|p| p.host_port)
    }

    pub fn remember_image(&mut self, image: &str) {
        if !self.images.iter().any(|i| i == image) {
            self.images.push(image.to_owned());
        }
    }
}

pub fn new_id() -> String {
    rng::hex(64)
}

/// Serialise engine changes across concurrent `docker` calls in one container.
pub struct EngineLock {
    _file: fs::File,
}

pub fn lock_engine(root: &Path) -> Result<EngineLock, Failure> {
    let dir = root.join("var/lib/docker");
    fs::create_dir_all(&dir)?;
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".lws-sim.lock"))?;
    file.lock()?;
    Ok(EngineLock { _file: file })
}

pub fn on_host_stop(root: &Path) -> Outcome {
    if !state_path(root).exists() {
        return Ok(());
    }
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    for c in engine.containers.iter_mut().filter(|c| c.running()) {
        c.exit(0);
        c.stopped_by_host = true;
    }
    engine.save(root)
}

pub fn on_host_start(root: &Path) -> Outcome {
    if !state_path(root).exists() {
        return Ok(());
    }
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    for c in engine.containers.iter_mut() {
        let comes_back = c.restart == "always" || (c.stopped_by_host && c.restart == "unless-stopped");
        if c.state != "running" && comes_back {
            c.start();
        }
    }
    engine.save(root)
}

/// `docker …`
pub fn run(argv: &[String]) -> Outcome {
    let root = current_root()?;
    let Some(command) = argv.first() else {
        println!("Usage:  docker [OPTIONS] COMMAND");
        return Ok(());
    };
    let rest = &argv[1..];
    match command.as_str() {
        "--version" | "-v" => {
            println!("Docker version {VERSION}, build a72d7cd");
            Ok(())
        }
        "version" => version(rest),
        "info" => {
            let engine = Engine::load(&root)?;
            let running = engine.containers.iter().filter(|c| c.running()).count();
            println!("Client:\n Version:    {VERSION}\n Context:    default\n\nServer:");
            println!(
                " Containers: {}\n  Running: {running}\n  Stopped: {}",
                engine.containers.len(),
                engine.containers.len() - running
            );
            println!(" Images: {}\n Server Version: {VERSION}\n Storage Driver: overlay2", engine.images.len());
            Ok(())
        }
        "ps" => ps(&root, rest),
        "run" => run_container(&root, rest),
        "rm" => remove(&root, rest),
        "stop" | "start" | "restart" | "kill" => power(&root, command, rest),
        "logs" => logs(&root, rest),
        "inspect" => inspect(&root, rest),
        "pull" => pull(&root, rest),
        "images" => {
            let engine = Engine::load(&root)?;
            println!("{:<24} {:<10} {:<14} {:<16} SIZE", "REPOSITORY", "TAG", "IMAGE ID", "CREATED");
            for image in &engine.images {
                let (repo, tag) = image.split_once(':').unwrap_or((image, "latest"));
                println!("{repo:<24} {tag:<10} {:<14} {:<16} 187MB", &rng::hex(12), "2 weeks ago");
            }
            Ok(())
        }
        "compose" => {
            if !apt::has_compose(&root) {
                return Err(Failure::with_code(1, "docker: 'compose' is not a docker command.\nSee 'docker --help'"));
            }
            super::compose::run(&root, rest)
        }
        other => Err(Failure::with_code(1, format!("docker: '{other}' is not a docker command.\nSee 'docker --help'"))),
    }
}

fn version(argv: &[String]) -> Outcome {
    if let Some(format) = flag_value(argv, &["--format", "-f"]) {
        if format.contains(".Server.Version") || format.contains(".Client.Version") {
            println!("{VERSION}");
            return Ok(());
        }
    }
    println!("Client:\n Version:           {VERSION}\n API version:       1.45\n OS/Arch:           linux/amd64\n");
    println!("Server:\n Engine:\n  Version:          {VERSION}\n  API version:      1.45 (minimum version 1.24)");
    Ok(())
}

/// The value of the first of `names` in `argv` (`--name v` or `--name=v`).
pub fn flag_value(argv: &[String], names: &[&str]) -> Option<String> {
    let mut iter = argv.iter();
    while let Some(arg) = iter.next() {
        for name in names {
            if arg == name {
                return iter.next().cloned();
            }
            if let Some(v) = arg.strip_prefix(&format!("{name}=")) {
                return Some(v.to_owned());
            }
        }
    }
    None
}

pub fn ps_json(c: &Container) -> serde_json::Value {
    let publishers: Vec<serde_json::Value> = c
        .ports
        .iter()
        .map(|p| json!({"URL": p.host_ip, "TargetPort": p.container_port, "PublishedPort": p.host_port, "Protocol": p.proto}))
        .collect();
    let mut labels = Vec::new();
    if let Some(project) = &c.project {
        labels.push(format!("com.docker.compose.project={project}"));
    }
    if let Some(service) = &c.service {
        labels.push(format!("com.docker.compose.service={service}"));
    }
    if let Some(file) = &c.config_file {
        labels.push(format!("com.docker.compose.project.config_files={file}"));
    }
    json!({
        "Command": format!("\"{}\"", c.command),
        "CreatedAt": format!("{} +0000 UTC", crate::clock::datetime(c.created)),
        "ExitCode": c.exit_code,
        "Health": "",
        "ID": c.short_id(),
        "Image": c.image,
        "Labels": labels.join(","),
        "LocalVolumes": "0",
        "Mounts": "",
        "Name": c.name,
        "Names": c.name,
        "Networks": c.project.as_ref().map(|p| format!("{p}_default")).unwrap_or_else(|| "bridge".to_owned()),
        "Ports": c.ports_text(),
        "Project": c.project.clone().unwrap_or_default(),
        "Publishers": publishers,
        "RunningFor": format!("{} ago", human_duration(epoch_secs().saturating_sub(c.created))),
        "Service": c.service.clone().unwrap_or_default(),
        "Size": "0B",
        "State": c.state,
        "Status": c.status_text(),
    })
}

fn ps(root: &Path, argv: &[String]) -> Outcome {
    let all = argv.iter().any(|a| a == "-a" || a == "--all");
    let quiet = argv.iter().any(|a| a == "-q" || a == "--quiet");
    let format = flag_value(argv, &["--format"]);
    let engine = Engine::load(root)?;
    let shown: Vec<&Container> = engine.containers.iter().filter(|c| all || c.running()).collect();
    if quiet {
        for c in shown {
            println!("{}", c.short_id());
        }
        return Ok(());
    }
    if matches!(format.as_deref(), Some("json") | Some("{{json .}}")) {
        for c in shown {
            println!("{}", ps_json(c));
        }
        return Ok(());
    }
    println!(
        "{:<15}{:<20}{:<25}{:<16}{:<22}{:<28}NAMES",
        "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS"
    );
    for c in shown {
        println!(
            "{:<15}{:<20}{:<25}{:<16}{:<22}{:<28}{}",
            c.short_id(),
            c.image,
            format!("\"{}\"", c.command),
            "2 minutes ago",
            c.status_text(),
            c.ports_text(),
            c.name
        );
    }
    Ok(())
}

/// `-p [ip:]host:container[/proto]`.
pub fn parse_port(spec: &str) -> Option<PortMap> {
    let (addr, proto) = match spec.rsplit_once('/') {
        Some((a, p)) => (a, p.to_owned()),
        None => (spec, "tcp".to_owned()),
    };
    let parts: Vec<&str> = addr.split(':').collect();
    let (host_ip, host, container) = match parts.as_slice() {
        [host, container] => ("0.0.0.0", *host, *container),
        [ip, host, container] => (*ip, *host, *container),
        _ => return None,
    };
    Some(PortMap {
        host_ip: host_ip.to_owned(),
        host_port: host.parse().ok()?,
        container_port: container.parse().ok()?,
        proto,
    })
}

fn run_container(root: &Path, argv: &[String]) -> Outcome {
    let mut name = None;
    let mut ports = Vec::new();
    let mut env = Vec::new();
    let mut volumes = Vec::new();
    let mut restart = "no".to_owned();
    let mut i = 0;
    let mut image = None;
    while i < argv.len() {
        let arg = argv[i].as_str();
        let value = |i: &mut usize| -> Option<String> {
            *i += 1;
            argv.get(*i).cloned()
        };
        match arg {
            // Nothing runs, so attaching, TTYs and auto-removal change nothing here.
            "-d" | "--detach" | "-i" | "-t" | "-it" | "-ti" | "--interactive" | "--tty" | "--rm" => {}
            "--name" => name = value(&mut i),
            "-p" | "--publish" => {
                let spec = value(&mut i).unwrap_or_default();
                ports.push(parse_port(&spec).ok_or_else(|| {
                    Failure::with_code(125, format!("docker: Invalid containerPort: {spec}.\nSee 'docker run --help'."))
                })?);
            }
            "-e" | "--env" => env.extend(value(&mut i)),
            "-v" | "--volume" => volumes.extend(value(&mut i)),
            "--restart" => restart = value(&mut i).unwrap_or_default(),
            "--network" | "--hostname" | "-w" | "--workdir" | "--user" | "-u" => {
                value(&mut i);
            }
            _ if arg.starts_with('-') => {
                return Err(Failure::with_code(125, format!("unknown flag: {arg}\nSee 'docker run --help'.")));
            }
            _ => {
                image = Some(arg.to_owned());
                i += 1;
                break;
            }
        }
        i += 1;
    }
    let image = image.ok_or_else(|| {
        Failure::with_code(125, "docker: 'docker run' requires at least 1 argument.\nSee 'docker run --help'.")
    })?;
    if image.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(Failure::with_code(
            125,
            format!("docker: invalid reference format: repository name ({image}) must be lowercase."),
        ));
    }
    let command = if i < argv.len() { argv[i..].join(" ") } else { "/docker-entrypoint.sh".to_owned() };

    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    let id = new_id();
    let name = name.unwrap_or_else(|| format!("sim_{}", &id[..8]));
    if let Some(existing) = engine.find(&name).map(|i| &engine.containers[i]) {
        return Err(Failure::with_code(
            125,
            format!(
                "docker: Error response from daemon: Conflict. The container name \"/{name}\" is already in use by \
                 container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                existing.id
            ),
        ));
    }
    if let Some(port) = engine.port_clash(&ports, None) {
        return Err(Failure::with_code(
            125,
            format!(
                "docker: Error response from daemon: driver failed programming external connectivity on endpoint \
                 {name} ({id}): Bind for 0.0.0.0:{port} failed: port is already allocated."
            ),
        ));
    }
    engine.remember_image(&image);
    let now = epoch_secs();
    engine.containers.push(Container {
        id: id.clone(),
        name,
        image,
        command,
        state: "running".to_owned(),
        created: now,
        changed: now,
        exit_code: 0,
        ports,
        env,
        restart,
        volumes,
        project: None,
        service: None,
        config_hash: None,
        config_file: None,
        working_dir: None,
        stopped_by_host: false,
    });
    engine.save(root)?;
    println!("{id}");
    Ok(())
}

fn remove(root: &Path, argv: &[String]) -> Outcome {
    let force = argv.iter().any(|a| a == "-f" || a == "--force");
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    let mut failed = false;
    for name in argv.iter().filter(|a| !a.starts_with('-')) {
        match engine.find(name) {
            None => {
                eprintln!("Error response from daemon: No such container: {name}");
                failed = true;
            }
            Some(i) if engine.containers[i].running() && !force => {
                eprintln!(
                    "Error response from daemon: cannot remove container \"/{name}\": container is running: stop the \
                     container before removing or force remove"
                );
                failed = true;
            }
            Some(i) => {
                engine.containers.remove(i);
                println!("{name}");
            }
        }
    }
    engine.save(root)?;
    if failed {
        Err(Failure::with_code(1, ""))
    } else {
        Ok(())
    }
}

fn power(root: &Path, command: &str, argv: &[String]) -> Outcome {
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    let mut failed = false;
    for name in argv.iter().filter(|a| !a.starts_with('-')) {
        match engine.find(name) {
            None => {
                eprintln!("Error response from daemon: No such container: {name}");
                failed = true;
            }
            Some(i) => {
                let c = &mut engine.containers[i];
                match command {
                    "start" | "restart" => c.start(),
                    "kill" => c.exit(137),
                    _ => c.exit(0),
                }
                println!("{name}");
            }
        }
    }
    engine.save(root)?;
    if failed {
        Err(Failure::with_code(1, ""))
    } else {
        Ok(())
    }
}

fn logs(root: &Path, argv: &[String]) -> Outcome {
    let engine = Engine::load(root)?;
    let Some(name) = argv.iter().find(|a| !a.starts_with('-')) else {
        return Err(Failure::with_code(1, "\"docker logs\" requires exactly 1 argument."));
    };
    let Some(i) = engine.find(name) else {
        return Err(Failure::with_code(1, format!("Error response from daemon: No such container: {name}")));
    };
    let c = &engine.containers[i];
    println!("{} [lws-sim] container {} started from image {}", crate::clock::datetime(c.created), c.name, c.image);
    if !c.running() {
        println!(
            "{} [lws-sim] container {} exited with code {}",
            crate::clock::datetime(c.changed),
            c.name,
            c.exit_code
        );
    }
    Ok(())
}

fn inspect(root: &Path, argv: &[String]) -> Outcome {
    let engine = Engine::load(root)?;
    let mut out = Vec::new();
    let mut failed = false;
    for name in argv.iter().filter(|a| !a.starts_with('-')) {
        match engine.find(name) {
            Some(i) => {
                let c = &engine.containers[i];
                out.push(json!({
                    "Id": c.id,
                    "Name": format!("/{}", c.name),
                    "State": {"Status": c.state, "Running": c.running(), "ExitCode": c.exit_code},
                    "Config": {"Image": c.image, "Env": c.env, "Labels": {
                        "com.docker.compose.project": c.project, "com.docker.compose.service": c.service}},
                    "HostConfig": {"RestartPolicy": {"Name": c.restart}},
                }));
            }
            None => {
                eprintln!("Error: No such object: {name}");
                failed = true;
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    if failed {
        Err(Failure::with_code(1, ""))
    } else {
        Ok(())
    }
}

fn pull(root: &Path, argv: &[String]) -> Outcome {
    let Some(image) = argv.iter().find(|a| !a.starts_with('-')) else {
        return Err(Failure::with_code(1, "\"docker pull\" requires exactly 1 argument."));
    };
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    let tagged = if image.contains(':') { image.clone() } else { format!("{image}:latest") };
    if !image.contains(':') {
        println!("Using default tag: latest");
    }
    println!(
        "{}: Pulling from library/{}",
        tagged.split(':').nth(1).unwrap_or("latest"),
        image.split(':').next().unwrap_or(image)
    );
    println!("Digest: sha256:{}", rng::hex(64));
    println!("Status: Downloaded newer image for {tagged}");
    engine.remember_image(&tagged);
    engine.save(root)
}
