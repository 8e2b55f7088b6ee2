//! `lws_container_exec`: run one command inside a running container (`pct exec <vmid> -- argv…`),
//! its output shown line by line while it runs; an exit status the configuration does not expect
//! is an error carrying the end of the output.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{Action, Diagnostics, Progress};

use super::find_container;
use crate::cloud::settings::parse_duration;
use crate::cloud::{ContainerId, Shared};
use crate::pve::lxc;
use crate::ssh::{OutputWatch, Stream};
use crate::tf::schema::{config_schema, list_of_strings, number, optional, required, sensitive, string};
use crate::tf::{error_at, known, known_list, known_set, path, List, Set};

/// Without a `timeout`, how long the command may run.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Output lines shown as progress; the rest is counted, and its end is in an error.
const PROGRESS_LINES: usize = 1000;
/// Lines of each stream quoted in the error of an unexpected exit status.
const ERROR_TAIL_LINES: usize = 30;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecConfig {
    pub container_id: Value<String>,
    pub command: List<String>,
    pub stdin: Value<String>,
    pub expected_exit_codes: Set<i64>,
    pub timeout: Value<String>,
}

/// A checked configuration.
struct Request {
    id: ContainerId,
    argv: Vec<String>,
    expected: Vec<u32>,
    timeout: Duration,
}

pub struct ContainerExec {
    shared: Arc<Shared>,
}

impl ContainerExec {
    pub fn new(shared: Arc<Shared>) -> Self {
        ContainerExec { shared }
    }
}

/// `None` while something is unknown or after an error naming the attribute.
fn check(config: &ExecConfig, diags: &mut Diagnostics) -> Option<Request> {
    let id = super::container_id(&config.container_id, diags);
    let argv = known_list(&config.command);
    if argv.as_ref().is_some_and(|words| words.is_empty()) {
        error_at(
            diags,
            path(&["command"]),
            "command is empty",
            "give the program and its arguments, e.g. [\"sh\", \"-c\", \"…\"]",
        );
        return None;
    }
    let expected = match &config.expected_exit_codes {
        Value::Null => Some(vec![0]),
        codes => match known_set(codes).map(|codes| codes.into_iter().collect::<Vec<i64>>()) {
            Some(codes) if codes.is_empty() || codes.iter().any(|c| !(0..=255).contains(c)) => {
                error_at(
                    diags,
                    path(&["expected_exit_codes"]),
                    "invalid expected_exit_codes",
                    format!("{codes:?}: give at least one exit status, each from 0 to 255"),
                );
                None
            }
            Some(codes) => Some(codes.into_iter().map(|c| c as u32).collect()),
            None => None,
        },
    };
    let timeout = match known(&config.timeout) {
        None => Some(DEFAULT_TIMEOUT),
        Some(text) => match parse_duration(&text) {
            Some(limit) if !limit.is_zero() => Some(limit),
            _ => {
                error_at(
                    diags,
                    path(&["timeout"]),
                    format!("invalid timeout '{text}'"),
                    "a duration such as 90s, 10m or 1h",
                );
                None
            }
        },
    };
    Some(Request { id: id?, argv: argv?, expected: expected?, timeout: timeout? })
}

/// Cuts a stream into lines for progress messages; what is past [`PROGRESS_LINES`] is counted.
#[derive(Default)]
struct Lines {
    partial: [Vec<u8>; 2],
    shown: usize,
    held_back: usize,
}

impl Lines {
    fn take(&mut self, stream: Stream, data: &[u8], progress: &Progress) {
        let buffer = &mut self.partial[stream as usize];
        buffer.extend_from_slice(data);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).trim_end_matches('\r').to_owned();
            if self.shown < PROGRESS_LINES {
                self.shown += 1;
                progress.say(shown(stream, &text));
            } else {
                self.held_back += 1;
            }
        }
    }

    /// What is left when the command ended: last lines without a line break, and a count.
    fn finish(&mut self, progress: &Progress) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.partial[stream as usize]);
            if !rest.is_empty() {
                progress.say(shown(stream, &String::from_utf8_lossy(&rest)));
            }
        }
        if self.held_back > 0 {
            progress.say(format!("({} more lines not shown)", self.held_back));
        }
    }
}

fn shown(stream: Stream, line: &str) -> String {
    match stream {
        Stream::Stdout => format!("| {line}"),
        Stream::Stderr => format!("! {line}"),
    }
}

/// The last `count` lines of `bytes`, for an error message.
fn tail(bytes: &[u8], count: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[async_trait]
impl Action for ContainerExec {
    type Config<'a> = ExecConfig;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config_schema(
            "Run a command inside a running container (`pct exec <vmid> -- <command>`, as root), e.g. a database migration after a deploy. Its output is shown line by line while it runs (`| ` standard output, `! ` standard error); an exit status not in `expected_exit_codes` fails the action with the end of both outputs. Terraform's state is not changed.",
            vec![
                ("container_id", required(string(), "The container, `<region>/<az>/<vmid>` (an `lws_container`'s `id`). It must be running.")),
                ("command", required(list_of_strings(), "The program and its arguments, each passed as one word (no shell: use `[\"sh\", \"-c\", \"…\"]` for pipes and variables).")),
                ("stdin", sensitive(optional(string(), "Text fed to the command's standard input (sent over SSH's channel, never on a command line; hidden in plans)."))),
                ("expected_exit_codes", optional(tf_provider::schema::AttributeType::Set(Box::new(number())), "Exit statuses that count as success (default `[0]`).")),
                ("timeout", optional(string(), "How long the command may run, e.g. `90s`, `10m` (default `10m`). When it is exceeded the action fails; the command may still be running in the container.")),
            ],
        ))
    }

    async fn plan<'a>(&self, diags: &mut Diagnostics, config: ExecConfig) {
        check(&config, diags);
    }

    async fn invoke<'a>(&self, diags: &mut Diagnostics, config: ExecConfig, progress: &Progress) {
        let stdin = known(&config.stdin).map(String::into_bytes);
        let Some(request) = check(&config, diags) else { return };
        let Some(cloud) = self.shared.cloud(diags) else { return };
        let id = &request.id;
        let Some(found) = find_container(&cloud, diags, "container_id", id).await else { return };
        if !found.listing.running() {
            error_at(
                diags,
                path(&["container_id"]),
                format!("container {id} is not running"),
                "start it first (lws_container_power, or started = true on the lws_container)",
            );
            return;
        }
        progress.say(format!("running {:?} in container {id}", request.argv));
        let lines = Arc::new(Mutex::new(Lines::default()));
        let watch = {
            let (lines, progress) = (lines.clone(), progress.clone());
            OutputWatch::new(move |stream, data| {
                if let Ok(mut lines) = lines.lock() {
                    lines.take(stream, data, &progress);
                }
            })
        };
        let argv: Vec<&str> = request.argv.iter().map(String::as_str).collect();
        let result = lxc::exec_watched(found.host.as_ref(), id.vmid, &argv, stdin, Some(request.timeout), watch).await;
        if let Ok(mut lines) = lines.lock() {
            lines.finish(progress);
        }
        let output = match result {
            Ok(output) => output,
            Err(e) => {
                diags.root_error(format!("running {:?} in container {id} failed", request.argv), e.to_string());
                return;
            }
        };
        match output.status {
            Some(status) if request.expected.contains(&status) => {
                progress.say(format!("{:?} exited with status {status}", request.argv))
            }
            status => {
                let ended = status.map_or("ended without an exit status (killed by a signal)".to_owned(), |s| {
                    format!("exited with status {s}, expected {:?}", request.expected)
                });
                let mut detail = String::new();
                for (name, bytes) in [("standard output", &output.stdout), ("standard error", &output.stderr)] {
                    if !bytes.is_empty() {
                        detail.push_str(&format!("last lines of {name}:\n{}\n", tail(bytes, ERROR_TAIL_LINES)));
                    }
                }
                if detail.is_empty() {
                    detail.push_str("it printed nothing");
                }
                diags.root_error(format!("{:?} in container {id} {ended}", request.argv), detail.trim_end().to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail(b"a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail(b"only", 5), "only");
        assert_eq!(tail(b"", 5), "");
    }
}
