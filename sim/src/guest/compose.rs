//! `docker compose` (v2) inside a simulated container: `up -d`, `down`, `ps`, `logs`, `stop`,
//! `start`, `restart`, `version`, `config --services`. The compose file is really parsed (YAML,
//! `${VAR}` / `${VAR:-default}` interpolation from the environment and the project's `.env`), so
//! a bad file fails as it would; containers are records in the simulated engine, labelled with
//! their project and service like the real ones. `up` without `-d` behaves like `up -d`
//! (nothing could attach to a simulated process).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::Value;
use sha2::{Digest, Sha256};

use super::docker::{
    flag_value, lock_engine, new_id, parse_port, ps_json, Container, Engine, PortMap, COMPOSE_VERSION,
};
use super::hex;
use crate::journal::epoch_secs;
use crate::output::{Failure, Outcome};

/// A service as compose would create it.
#[derive(Debug, Clone)]
struct Service {
    name: String,
    container_name: String,
    image: String,
    command: String,
    ports: Vec<PortMap>,
    env: Vec<String>,
    restart: String,
    volumes: Vec<String>,
    hash: String,
    /// Services this one waits for to exit with status 0 (`depends_on: {x: {condition:
    /// service_completed_successfully}}`).
    completed_first: Vec<String>,
}

struct Project {
    name: String,
    file: PathBuf,
    services: Vec<Service>,
    named_volumes: Vec<String>,
}

pub fn run(root: &Path, argv: &[String]) -> Outcome {
    // Global flags come before the sub-command.
    let mut files: Vec<String> = Vec::new();
    let mut project_name = None;
    let mut i = 0;
    while i < argv.len() {
        match argv[i].as_str() {
            "-f" | "--file" => {
                i += 1;
                files.extend(argv.get(i).cloned());
            }
            "-p" | "--project-name" => {
                i += 1;
                project_name = argv.get(i).cloned();
            }
            arg if arg.starts_with("--file=") => files.push(arg["--file=".len()..].to_owned()),
            arg if arg.starts_with("--project-name=") => project_name = Some(arg["--project-name=".len()..].to_owned()),
            _ => break,
        }
        i += 1;
    }
    let Some(command) = argv.get(i) else {
        println!("Usage:  docker compose [OPTIONS] COMMAND");
        return Ok(());
    };
    let rest = &argv[i + 1..];
    if command == "version" {
        println!("Docker Compose version {COMPOSE_VERSION}");
        return Ok(());
    }
    let cwd = std::env::current_dir()?;
    let file = match files.first() {
        Some(f) => cwd.join(f),
        None => ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"]
            .iter()
            .map(|n| cwd.join(n))
            .find(|p| p.exists())
            .ok_or_else(|| Failure::with_code(1, "no configuration file provided: not found".to_owned()))?,
    };
    let name = match project_name {
        Some(n) => n,
        None => file
            .parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_else(|| "default".to_owned()),
    };
    check_project_name(&name)?;

    match command.as_str() {
        "up" => up(root, &load_project(&name, &file)?, rest),
        "down" => down(root, &name, rest),
        "ps" => ps(root, &name, rest),
        "logs" => logs(root, &name),
        "stop" | "start" | "restart" => power(root, &name, command),
        "config" => {
            let project = load_project(&name, &file)?;
            if rest.iter().any(|a| a == "--services") {
                for service in &project.services {
                    println!("{}", service.name);
                }
            } else {
                print!("{}", std::fs::read_to_string(&file)?);
            }
            Ok(())
        }
        other => Err(Failure::with_code(1, format!("unknown docker command: \"compose {other}\""))),
    }
}

fn check_project_name(name: &str) -> Outcome {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Failure::with_code(
            1,
            format!(
                "invalid project name \"{name}\": must consist only of lowercase alphanumeric characters, hyphens, \
                 and underscores as well as start with a letter or number"
            ),
        ))
    }
}

fn warn(message: &str) {
    eprintln!("time=\"{}\" level=warning msg=\"{message}\"", crate::clock::datetime(epoch_secs()));
}

fn load_project(name: &str, file: &Path) -> Result<Project, Failure> {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(file)
        .map_err(|_| Failure::with_code(1, format!("open {shown}: no such file or directory")))?;
    let dotenv =
        file.parent().map(|d| d.join(".env")).and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let mut vars: BTreeMap<String, String> = std::env::vars().collect();
    for (k, value) in read_env_file(&dotenv) {
        vars.entry(k).or_insert(value);
    }
    let text = interpolate(&text, &vars);
    let mut doc: Value = serde_norway::from_str(&text).map_err(|e| Failure::with_code(15, format!("yaml: {e}")))?;
    // compose-go resolves YAML merge keys (`<<: *anchor`) before reading the model.
    doc.apply_merge().map_err(|e| Failure::with_code(15, format!("yaml: {e}")))?;
    let declared_volumes: Vec<String> = doc
        .get("volumes")
        .and_then(Value::as_mapping)
        .map(|m| m.keys().filter_map(|k| k.as_str()).map(str::to_owned).collect())
        .unwrap_or_default();
    let services = doc
        .get("services")
        .and_then(Value::as_mapping)
        .ok_or_else(|| Failure::with_code(15, format!("{shown}: services must be a mapping")))?;
    let mut project =
        Project { name: name.to_owned(), file: file.to_path_buf(), services: vec![], named_volumes: vec![] };
    for (key, spec) in services {
        let service = key.as_str().unwrap_or_default().to_owned();
        let image = spec.get("image").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            Failure::with_code(
                15,
                format!(
                    "service \"{service}\" has neither an image nor a build context specified: invalid compose project"
                ),
            )
        })?;
        let mut ports = Vec::new();
        for port in spec.get("ports").and_then(Value::as_sequence).into_iter().flatten() {
            let parsed = match port {
                Value::Mapping(m) => {
                    let target = m.get("target").and_then(value_to_string).unwrap_or_default();
                    let published = m.get("published").and_then(value_to_string).unwrap_or_else(|| target.clone());
                    let proto = m.get("protocol").and_then(Value::as_str).unwrap_or("tcp");
                    parse_port(&format!("{published}:{target}/{proto}"))
                }
                other => value_to_string(other).and_then(|s| if s.contains(':') { parse_port(&s) } else { None }),
            };
            match parsed {
                Some(p) => ports.push(p),
                None if value_to_string(port).is_some_and(|s| !s.contains(':')) => {} // unpublished port
                None => {
                    return Err(Failure::with_code(15, format!("service \"{service}\": invalid port {port:?}")));
                }
            }
        }
        // compose-spec `env_file`: files relative to the project directory, read in order, then
        // `environment` on top (it wins); a missing file is an error.
        let mut env_vars: BTreeMap<String, String> = BTreeMap::new();
        let env_files: Vec<String> = match spec.get("env_file") {
            Some(Value::String(f)) => vec![f.clone()],
            Some(Value::Sequence(list)) => list
                .iter()
                .filter_map(|f| {
                    f.as_str().map(str::to_owned).or_else(|| f.get("path").and_then(Value::as_str).map(str::to_owned))
                })
                .collect(),
            _ => vec![],
        };
        for env_file in env_files {
            let path = file.parent().map(|d| d.join(&env_file)).unwrap_or_else(|| env_file.clone().into());
            let text = std::fs::read_to_string(&path).map_err(|_| {
                Failure::with_code(
                    1,
                    format!("env file {} not found: stat {0}: no such file or directory", path.display().to_string()),
                )
            })?;
            env_vars.extend(read_env_file(&text));
        }
        match spec.get("environment") {
            Some(Value::Mapping(m)) => {
                for (k, v) in m {
                    env_vars.insert(k.as_str().unwrap_or_default().to_owned(), value_to_string(v).unwrap_or_default());
                }
            }
            Some(Value::Sequence(s)) => {
                for item in s.iter().filter_map(value_to_string) {
                    let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
                    env_vars.insert(k.to_owned(), v.to_owned());
                }
            }
            _ => {}
        }
        let env: Vec<String> = env_vars.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let volumes: Vec<String> = spec
            .get("volumes")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(value_to_string)
            .collect();
        // compose-go `checkConsistency`: a named volume (a short-syntax source that is not a
        // path) must be declared at the top level.
        for volume in &volumes {
            let Some((source, _)) = volume.split_once(':') else { continue };
            if !source.is_empty()
                && !source.starts_with(['/', '.', '~'])
                && !declared_volumes.iter().any(|d| d == source)
            {
                return Err(Failure::with_code(
                    15,
                    format!("service \"{service}\" refers to undefined volume {source}: invalid compose project"),
                ));
            }
        }
        // compose-go `checkConsistency`: networks a service joins must be declared too.
        let joined: Vec<String> = match spec.get("networks") {
            Some(Value::Sequence(list)) => list.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect(),
            Some(Value::Mapping(map)) => map.keys().filter_map(|n| n.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        let declared_networks = doc.get("networks").and_then(Value::as_mapping);
        for network in joined.iter().filter(|n| n.as_str() != "default") {
            if !declared_networks.is_some_and(|d| d.contains_key(network.as_str())) {
                return Err(Failure::with_code(
                    15,
                    format!("service \"{service}\" refers to undefined network {network}: invalid compose project"),
                ));
            }
        }
        let restart = spec.get("restart").and_then(Value::as_str).unwrap_or("no").to_owned();
        let command = spec.get("command").map(|c| match c {
            Value::Sequence(s) => s.iter().filter_map(value_to_string).collect::<Vec<_>>().join(" "),
            other => value_to_string(other).unwrap_or_default(),
        });
        let container_name = spec
            .get("container_name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{name}-{service}-1"));
        let hash = hex(&Sha256::digest(serde_norway::to_string(spec).unwrap_or_default().as_bytes()));
        let completed_first = spec
            .get("depends_on")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter(|(_, dep)| dep.get("condition").and_then(Value::as_str) == Some("service_completed_successfully"))
            .filter_map(|(dep, _)| dep.as_str().map(str::to_owned))
            .collect();
        project.services.push(Service {
            name: service,
            container_name,
            image,
            command: command.unwrap_or_else(|| "/docker-entrypoint.sh".to_owned()),
            ports,
            env,
            restart,
            volumes,
            hash,
            completed_first,
        });
    }
    if let Some(volumes) = doc.get("volumes").and_then(Value::as_mapping) {
        project.named_volumes = volumes.keys().filter_map(|k| k.as_str()).map(|v| format!("{name}_{v}")).collect();
    }
    Ok(project)
}

/// `KEY=VALUE` lines of a `.env`/`env_file` (compose-go `dotenv`): `#` comments, single quotes
/// literal, double quotes with `\"`, `\\`, `\$` escapes.
fn read_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim();
            let value = if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                inner.to_owned()
            } else if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                inner.replace("\\$", "$").replace("\\\"", "\"").replace("\\\\", "\\")
            } else {
                v.to_owned()
            };
            out.push((k.trim().to_owned(), value));
        }
    }
    out
}

fn value_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`.
fn interpolate(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push('$');
                rest = after;
                continue;
            };
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-").or_else(|| expr.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            match (vars.get(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => warn(&format!("The \\\"{name}\\\" variable is not set. Defaulting to a blank string.")),
            }
            rest = &body[end + 1..];
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(vars.get(&after[..len]).map(String::as_str).unwrap_or(""));
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

fn up(root: &Path, project: &Project, argv: &[String]) -> Outcome {
    let remove_orphans = argv.iter().any(|a| a == "--remove-orphans");
    let force_recreate = argv.iter().any(|a| a == "--force-recreate");
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    let network = format!("{}_default", project.name);
    if !engine.networks.contains(&network) {
        eprintln!(" Network {network}  Creating");
        engine.networks.push(network.clone());
        eprintln!(" Network {network}  Created");
    }
    for volume in &project.named_volumes {
        if !engine.volumes.contains(volume) {
            eprintln!(" Volume \"{volume}\"  Creating");
            engine.volumes.push(volume.clone());
            eprintln!(" Volume \"{volume}\"  Created");
        }
    }
    let orphans: Vec<String> = engine
        .containers
        .iter()
        .filter(|c| c.project.as_deref() == Some(project.name.as_str()))
        .filter(|c| !project.services.iter().any(|s| Some(&s.name) == c.service.as_ref()))
        .map(|c| c.name.clone())
        .collect();
    if !orphans.is_empty() {
        if remove_orphans {
            for name in &orphans {
                eprintln!(" Container {name}  Stopping\n Container {name}  Stopped\n Container {name}  Removing");
                engine.containers.retain(|c| &c.name != name);
                eprintln!(" Container {name}  Removed");
            }
        } else {
            warn(&format!(
                "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your \
                 compose file, you can run this command with the --remove-orphans flag to clean it up.",
                orphans.join(" ")
            ));
        }
    }
    // Jobs others wait for go first (Compose starts services in dependency order).
    let mut ordered: Vec<&Service> = project.services.iter().collect();
    ordered.sort_by_key(|s| !project.services.iter().any(|o| o.completed_first.contains(&s.name)));
    for service in ordered {
        // docker/compose `pkg/compose/convergence.go`: a dependency with condition
        // `service_completed_successfully` that exited with another status stops the `up`.
        for dep in &service.completed_first {
            let exit = project
                .services
                .iter()
                .find(|s| &s.name == dep)
                .and_then(|s| engine.find(&s.container_name))
                .map(|i| &engine.containers[i])
                .map(|c| if c.state == "exited" { c.exit_code } else { -1 });
            if exit != Some(0) {
                engine.save(root)?;
                return Err(Failure::with_code(
                    1,
                    format!("service \"{dep}\" didn't complete successfully: exit {}", exit.unwrap_or(-1)),
                ));
            }
        }
        let name = &service.container_name;
        if let Some(i) = engine.find(name) {
            let existing = &engine.containers[i];
            if existing.project.as_deref() != Some(project.name.as_str()) {
                return Err(Failure::with_code(
                    1,
                    format!(
                        "Error response from daemon: Conflict. The container name \"/{name}\" is already in use by \
                         container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                        existing.id
                    ),
                ));
            }
            if existing.config_hash.as_deref() == Some(service.hash.as_str()) && !force_recreate {
                if existing.running() {
                    eprintln!(" Container {name}  Running");
                } else {
                    check_ports(&engine, service)?;
                    eprintln!(" Container {name}  Starting");
                    engine.containers[i].start();
                    eprintln!(" Container {name}  Started");
                }
                continue;
            }
            eprintln!(" Container {name}  Recreate");
            engine.containers.remove(i);
            eprintln!(" Container {name}  Recreated");
        } else {
            eprintln!(" Container {name}  Creating");
            eprintln!(" Container {name}  Created");
        }
        check_ports(&engine, service)?;
        engine.remember_image(&service.image);
        let now = epoch_secs();
        engine.containers.push(Container {
            id: new_id(),
            name: name.clone(),
            image: service.image.clone(),
            command: service.command.clone(),
            state: "running".to_owned(),
            created: now,
            changed: now,
            exit_code: 0,
            ports: service.ports.clone(),
            env: service.env.clone(),
            restart: service.restart.clone(),
            volumes: service.volumes.clone(),
            project: Some(project.name.clone()),
            service: Some(service.name.clone()),
            config_hash: Some(service.hash.clone()),
            config_file: Some(project.file.display().to_string()),
            working_dir: project.file.parent().map(|d| d.display().to_string()),
            stopped_by_host: false,
        });
        eprintln!(" Container {name}  Starting");
        if let Some(created) = engine.containers.last_mut() {
            created.start();
        }
        eprintln!(" Container {name}  Started");
    }
    engine.save(root)
}

fn check_ports(engine: &Engine, service: &Service) -> Outcome {
    match engine.port_clash(&service.ports, Some(&service.container_name)) {
        Some(port) => Err(Failure::with_code(
            1,
            format!(
                "Error response from daemon: driver failed programming external connectivity on endpoint {} ({}): \
                 Bind for 0.0.0.0:{port} failed: port is already allocated",
                service.container_name,
                new_id()
            ),
        )),
        None => Ok(()),
    }
}

fn down(root: &Path, project: &str, argv: &[String]) -> Outcome {
    let remove_volumes = argv.iter().any(|a| a == "-v" || a == "--volumes");
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    let names: Vec<String> =
        engine.containers.iter().filter(|c| c.project.as_deref() == Some(project)).map(|c| c.name.clone()).collect();
    let network = format!("{project}_default");
    let prefix = format!("{project}_");
    let volumes: Vec<String> = engine.volumes.iter().filter(|v| v.starts_with(&prefix)).cloned().collect();
    if names.is_empty() && !engine.networks.contains(&network) && (volumes.is_empty() || !remove_volumes) {
        eprintln!("Warning: No resource found to remove for project \"{project}\".");
        return Ok(());
    }
    for name in &names {
        eprintln!(" Container {name}  Stopping\n Container {name}  Stopped\n Container {name}  Removing");
        eprintln!(" Container {name}  Removed");
    }
    engine.containers.retain(|c| c.project.as_deref() != Some(project));
    if engine.networks.contains(&network) {
        eprintln!(" Network {network}  Removing\n Network {network}  Removed");
        engine.networks.retain(|n| n != &network);
    }
    if remove_volumes {
        for volume in volumes {
            eprintln!(" Volume {volume}  Removing\n Volume {volume}  Removed");
            engine.volumes.retain(|v| v != &volume);
        }
    }
    engine.save(root)
}

fn ps(root: &Path, project: &str, argv: &[String]) -> Outcome {
    let all = argv.iter().any(|a| a == "-a" || a == "--all");
    let format = flag_value(argv, &["--format"]);
    let engine = Engine::load(root)?;
    let shown: Vec<&Container> =
        engine.containers.iter().filter(|c| c.project.as_deref() == Some(project) && (all || c.running())).collect();
    if format.as_deref() == Some("json") {
        for c in shown {
            println!("{}", ps_json(c));
        }
        return Ok(());
    }
    println!("{:<24}{:<20}{:<25}{:<12}{:<16}{:<22}PORTS", "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS");
    for c in shown {
        println!(
            "{:<24}{:<20}{:<25}{:<12}{:<16}{:<22}{}",
            c.name,
            c.image,
            format!("\"{}\"", c.command),
            c.service.clone().unwrap_or_default(),
            "2 minutes ago",
            c.status_text(),
            c.ports_text()
        );
    }
    Ok(())
}

fn logs(root: &Path, project: &str) -> Outcome {
    let engine = Engine::load(root)?;
    for c in engine.containers.iter().filter(|c| c.project.as_deref() == Some(project)) {
        let service = c.service.clone().unwrap_or_default();
        println!("{}-1  | [lws-sim] {} started from image {}", service, c.name, c.image);
    }
    Ok(())
}

fn power(root: &Path, project: &str, command: &str) -> Outcome {
    let _lock = lock_engine(root)?;
    let mut engine = Engine::load(root)?;
    for c in engine.containers.iter_mut().filter(|c| c.project.as_deref() == Some(project)) {
        let (doing, done) = match command {
            "stop" => ("Stopping", "Stopped"),
            "start" => ("Starting", "Started"),
            _ => ("Restarting", "Started"),
        };
        eprintln!(" Container {}  {doing}", c.name);
        match command {
            "stop" => c.exit(0),
            _ => c.start(),
        }
        eprintln!(" Container {}  {done}", c.name);
    }
    engine.save(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_follows_compose_rules() {
        let vars: BTreeMap<String, String> = [("TAG".to_owned(), "1.25".to_owned())].into();
        assert_eq!(interpolate("nginx:${TAG}", &vars), "nginx:1.25");
        assert_eq!(interpolate("${PORT:-8080}:80", &vars), "8080:80");
        assert_eq!(interpolate("cost $$5", &vars), "cost $5");
        assert_eq!(interpolate("$TAG-x", &vars), "1.25-x");
    }
}
