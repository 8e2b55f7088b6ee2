//! Docker Compose applications inside a container, laid out as the LWS tool does:
//! `/opt/lws/apps/<app>/docker-compose.yml`, run as `docker compose -p <app> -f <file>`.
//! Everything runs through `pct exec … -- sh -c '<fixed script>' sh <app> …`: the script text is
//! constant, the app name and flags arrive as arguments, file contents on standard input.

use std::time::Duration;

use serde::Deserialize;

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{run, Runner};

pub const APPS_DIR: &str = "/opt/lws/apps";

/// Defines `dc`: Compose v2 (`docker compose`) when present, else v1 (`docker-compose`).
const COMPOSE: &str = "if docker compose version >/dev/null 2>&1; then dc() { docker compose \"$@\"; }; \
elif command -v docker-compose >/dev/null 2>&1; then dc() { docker-compose \"$@\"; }; \
else echo 'docker compose is not installed in the container (set install_docker = true)' >&2; exit 127; fi";

fn in_container(vmid: u32, script: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("pct").arg("exec").arg(vmid).arg("--").arg("sh").arg("-c").arg(script).arg("sh");
    for arg in args {
        cmd = cmd.arg(arg);
    }
    cmd
}

fn script(summary: String, cmd: Command) -> Script {
    let mut s = Script::from(cmd);
    s.summary = summary;
    s
}

/// Whether Docker with Compose is available; installs it when `install` and missing. Nothing
/// is installed (or even updated) when it is already there.
pub async fn ensure_docker(
    runner: &dyn Runner,
    vmid: u32,
    install: bool,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let check = "command -v docker >/dev/null 2>&1 && { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; }";
    let body = if install {
        format!(
            "{check} && exit 0; export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q docker.io && \
             {{ apt-get install -y -q docker-compose-v2 || apt-get install -y -q docker-compose-plugin || apt-get install -y -q docker-compose; }}"
        )
    } else {
        format!("{check} || {{ echo 'Docker with Compose is not installed in the container (set install_docker = true)' >&2; exit 127; }}")
    };
    let cmd = in_container(vmid, &body, &[]);
    run(runner, script(format!("pct exec {vmid} -- ensure docker"), cmd).with_timeout(timeout)).await.map(|_| ())
}

/// Shell text that writes an app's compose file and `.env` into directory `$d` from standard
/// input: the compose file's `$2` bytes, then the rest. The input lands in a file first and is
/// cut from there: `head -c N` reading a pipe may take more than N bytes (BusyBox's does,
/// buffering), which would leave `.env` short. Private to root (`umask 077`: `.env` holds
/// secrets), the temporary removed whatever happens.
pub const WRITE_APP_FILES: &str = "umask 077; trap 'rm -f \"$d/.lws-input\"' EXIT; cat > \"$d/.lws-input\"; \
head -c \"$2\" \"$d/.lws-input\" > \"$d/docker-compose.yml\"; tail -c +\"$(($2 + 1))\" \"$d/.lws-input\" > \"$d/.env\"; \
rm -f \"$d/.lws-input\"";

/// Write the compose file and `.env` (both on stdin) and bring the project up.
pub async fn deploy(
    runner: &dyn Runner,
    vmid: u32,
    app: &str,
    compose: &str,
    env_file: &str,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let body = format!(
        "set -e; d={APPS_DIR}/$1; mkdir -p \"$d\"; {WRITE_APP_FILES}; \
         {COMPOSE}; dc -p \"$1\" -f \"$d/docker-compose.yml\" up -d --remove-orphans"
    );
    let length = compose.len().to_string();
    let cmd = in_container(vmid, &body, &[app, &length]);
    let input = format!("{compose}{env_file}");
    run(
        runner,
        script(format!("pct exec {vmid} -- docker compose -p {app} up"), cmd).with_stdin(input).with_timeout(timeout),
    )
    .await
    .map(|_| ())
}

/// One service container, as Compose reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub image: String,
    pub state: String,
}

/// The app as deployed: its compose file, `.env`, and services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    pub compose: String,
    pub env_file: String,
    pub services: Vec<Service>,
}

const MARK: char = '\u{1e}';

/// Read the deployed app; `None` if the container has no such app.
pub async fn inspect(runner: &dyn Runner, vmid: u32, app: &str) -> Result<Option<Deployed>, PveError> {
    let body = format!(
        "d={APPS_DIR}/$1; [ -f \"$d/docker-compose.yml\" ] || exit 3; cat \"$d/docker-compose.yml\"; printf '\\036'; \
         cat \"$d/.env\" 2>/dev/null; printf '\\036'; {COMPOSE}; \
         dc -p \"$1\" -f \"$d/docker-compose.yml\" ps -a --format json 2>/dev/null || \
         docker ps -a --filter \"label=com.docker.compose.project=$1\" --format '{{{{json .}}}}'"
    );
    let cmd = in_container(vmid, &body, &[app]);
    match run(runner, script(format!("pct exec {vmid} -- docker compose -p {app} ps"), cmd)).await {
        Ok(out) => {
            let text = out.stdout_text();
            let mut parts = text.splitn(3, MARK);
            let compose = parts.next().unwrap_or_default().to_owned();
            let env_file = parts.next().unwrap_or_default().to_owned();
            let services = parse_ps(parts.next().unwrap_or_default()).map_err(|message| PveError::Unreadable {
                host: runner.label().to_owned(),
                command: format!("pct exec {vmid} -- docker compose -p {app} ps"),
                message,
            })?;
            Ok(Some(Deployed { compose, env_file, services }))
        }
        Err(PveError::Failed { status: Some(3), .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `docker compose restart` of the app's project; `Ok(false)` when the container has no such app.
pub async fn restart(runner: &dyn Runner, vmid: u32, app: &str, timeout: Option<Duration>) -> Result<bool, PveError> {
    let body = format!(
        "d={APPS_DIR}/$1; [ -f \"$d/docker-compose.yml\" ] || exit 3; {COMPOSE}; \
         dc -p \"$1\" -f \"$d/docker-compose.yml\" restart"
    );
    let cmd = in_container(vmid, &body, &[app]);
    match run(runner, script(format!("pct exec {vmid} -- docker compose -p {app} restart"), cmd).with_timeout(timeout))
        .await
    {
        Ok(_) => Ok(true),
        Err(PveError::Failed { status: Some(3), .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The apps deployed in the container (directories of `APPS_DIR` with a compose file), sorted.
pub async fn apps(runner: &dyn Runner, vmid: u32) -> Result<Vec<String>, PveError> {
    let body = format!(
        "for f in {APPS_DIR}/*/docker-compose.yml; do [ -f \"$f\" ] || continue; d=${{f%/*}}; printf '%s\\n' \"${{d##*/}}\"; done"
    );
    let cmd = in_container(vmid, &body, &[]);
    let out = run(runner, script(format!("pct exec {vmid} -- ls {APPS_DIR}"), cmd)).await?;
    let mut names: Vec<String> = out.stdout_text().lines().map(str::to_owned).filter(|l| !l.is_empty()).collect();
    names.sort();
    Ok(names)
}

/// Bring the project down and remove its directory.
pub async fn remove(
    runner: &dyn Runner,
    vmid: u32,
    app: &str,
    volumes: bool,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let body = format!(
        "d={APPS_DIR}/$1; if [ -f \"$d/docker-compose.yml\" ]; then {COMPOSE}; \
         if [ \"$2\" = volumes ]; then dc -p \"$1\" -f \"$d/docker-compose.yml\" down -v --remove-orphans; \
         else dc -p \"$1\" -f \"$d/docker-compose.yml\" down --remove-orphans; fi; fi; rm -rf \"$d\""
    );
    let cmd = in_container(vmid, &body, &[app, if volumes { "volumes" } else { "keep" }]);
    run(runner, script(format!("pct exec {vmid} -- docker compose -p {app} down"), cmd).with_timeout(timeout))
        .await
        .map(|_| ())
}

#[derive(Deserialize)]
struct PsRow {
    #[serde(rename = "Service", default)]
    service: String,
    #[serde(rename = "Image", default)]
    image: String,
    #[serde(rename = "State", default)]
    state: String,
    #[serde(rename = "Status", default)]
    status: String,
    #[serde(rename = "ExitCode", default)]
    exit_code: Option<i64>,
    #[serde(rename = "Labels", default)]
    labels: String,
}

impl PsRow {
    /// Docker's state, with the exit status of an exited container: `exited (0)` is a one-shot
    /// job that finished (Compose's `service_completed_successfully`), any other a failure.
    /// Compose's JSON has `ExitCode`; `docker ps` only its `Status` text, `Exited (N) … ago`
    /// (docker/cli `formatter/container.go` `Status`).
    fn state(&self) -> String {
        let state = self.state.to_lowercase();
        if state != "exited" {
            return state;
        }
        let from_status = || {
            let rest = self.status.strip_prefix("Exited (")?;
            rest.split(')').next()?.parse::<i64>().ok()
        };
        match self.exit_code.or_else(from_status) {
            Some(code) => format!("exited ({code})"),
            None => state,
        }
    }
}

/// Whether a service in `state` ([`Service::state`]) is doing what it should: running, or, for
/// a one-shot `job` ([`super::compose::completing_services`]), finished with status 0. A
/// long-running service stopped by hand also shows `exited (0)` (SIGTERM ends most servers
/// cleanly): only the compose file can tell a finished job from it.
pub fn is_up(state: &str, job: bool) -> bool {
    state == "running" || (job && state == "exited (0)")
}

/// `docker compose ps --format json`: JSON Lines since Compose 2.21, an array before; also
/// `docker ps --format '{{json .}}'` lines (service name in the labels). A line that is not such
/// JSON fails the read, quoted.
pub fn parse_ps(text: &str) -> Result<Vec<Service>, String> {
    let text = text.trim();
    let rows: Vec<PsRow> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|e| format!("{e} in {text:?}"))?
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l.trim()).map_err(|e| format!("{e} in {l:?}")))
            .collect::<Result<_, _>>()?
    };
    let mut services: Vec<Service> = rows
        .into_iter()
        .map(|row| {
            let state = row.state();
            let name = if row.service.is_empty() {
                row.labels
                    .split(',')
                    .find_map(|l| l.strip_prefix("com.docker.compose.service="))
                    .unwrap_or_default()
                    .to_owned()
            } else {
                row.service
            };
            Service { name, image: row.image, state }
        })
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_ps_reads_json_lines_and_arrays() {
        let lines = concat!(
            r#"{"Command":"\"/docker-entrypoint.sh\"","ID":"d2763e024a10","Image":"nginx:1.25","Name":"web-app-1","Project":"web","Service":"app","State":"running","Status":"Up 2 minutes"}"#,
            "\n",
            r#"{"ID":"a1","Image":"redis:7","Name":"web-cache-1","Project":"web","Service":"cache","State":"exited","Status":"Exited (0)"}"#,
            "\n"
        );
        let services = parse_ps(lines).expect("parses");
        assert_eq!(services.len(), 2);
        assert_eq!((services[0].name.as_str(), services[0].state.as_str()), ("app", "running"));
        assert_eq!((services[1].name.as_str(), services[1].image.as_str()), ("cache", "redis:7"));
        let array = r#"[{"Service":"app","Image":"nginx","State":"running"}]"#;
        assert_eq!(parse_ps(array).expect("parses")[0].name, "app");
        let docker_ps = r#"{"ID":"x","Image":"nginx","Labels":"com.docker.compose.project=web,com.docker.compose.service=app","State":"running"}"#;
        assert_eq!(parse_ps(docker_ps).expect("parses")[0].name, "app");
        assert!(parse_ps("").expect("parses").is_empty());
    }

    #[test]
    fn an_exited_service_carries_its_exit_status_and_only_a_job_with_status_0_is_up() {
        let compose = concat!(
            r#"{"Service":"migrate","State":"exited","ExitCode":0,"Status":"Exited (0) 3 seconds ago"}"#,
            "\n",
            r#"{"Service":"worker","State":"exited","ExitCode":137,"Status":"Exited (137) 1 second ago"}"#,
            "\n",
            r#"{"Service":"web","State":"running","ExitCode":0,"Status":"Up 3 seconds"}"#,
        );
        let states: Vec<String> = parse_ps(compose).expect("parses").into_iter().map(|s| s.state).collect();
        assert_eq!(states, ["exited (0)", "running", "exited (137)"]);
        assert!(is_up("exited (0)", true) && is_up("running", false) && !is_up("exited (0)", false));
        assert!(!is_up("exited (137)", true) && !is_up("exited", true));
        // `docker ps` has no ExitCode: the status text tells.
        let docker_ps =
            r#"{"Labels":"com.docker.compose.service=job","State":"exited","Status":"Exited (2) 5 minutes ago"}"#;
        assert_eq!(parse_ps(docker_ps).expect("parses")[0].state, "exited (2)");
    }

    #[test]
    fn output_that_is_not_compose_json_fails_quoted() {
        let error = parse_ps("time=\"2026-12-04\" level=warning msg=\"version is obsolete\"").expect_err("not JSON");
        assert!(error.contains("version is obsolete"), "{error}");
    }
}
