//! `pvesh get|create|set|delete <path> [--param value …] [--output-format …]`: the API paths the
//! provider and pve-cli.md name, answered from the same state the `pct` tool changes.

mod api;
mod backup_jobs;
mod firewall;
pub mod format;

use std::collections::BTreeMap;

use serde_json::Value;

use super::context::Node;
use super::ct::Ct;
use super::output::{Failure, Outcome};
use super::params::{check, Kind};

/// One API call.
pub struct Request<'a> {
    pub node: &'a Node,
    pub verb: &'a str,
    pub path: String,
    pub params: BTreeMap<String, String>,
}

impl Request<'_> {
    pub fn usage(&self) -> String {
        format!("pvesh {} <api_path> [OPTIONS] [FORMAT_OPTIONS]", self.verb)
    }

    /// Check every given parameter against `known`; anything else is not in the schema.
    pub fn allow(&self, known: &[(&str, Kind)]) -> Result<(), Failure> {
        let mut errors = Vec::new();
        for (name, value) in &self.params {
            match known.iter().find(|(k, _)| k == name) {
                Some((_, kind)) => {
                    if let Err(e) = check(name, *kind, value) {
                        errors.push((name.clone(), e));
                    }
                }
                None => errors.push((
                    name.clone(),
                    "property is not defined in schema and the schema does not allow additional properties".to_owned(),
                )),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Failure::params(&errors, &self.usage()))
        }
    }

    /// Parameters that must be present.
    pub fn require(&self, names: &[&str]) -> Result<(), Failure> {
        let errors: Vec<(String, String)> = names
            .iter()
            .filter(|n| !self.params.contains_key(**n))
            .map(|n| (n.to_string(), "property is missing and it is not optional".to_owned()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Failure::params(&errors, &self.usage()))
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// `/nodes/{node}`: a node of this cluster.
    pub fn cluster_node(&self, name: &str) -> Result<Node, Failure> {
        if self.node.cluster_nodes().iter().any(|n| n == name) {
            Ok(self.node.sibling(name))
        } else {
            Err(Failure::new(format!(
                "hostname lookup '{name}' failed - failed to get address info for: {name}: Name or service not known"
            )))
        }
    }

    /// `/nodes/{node}/lxc/{vmid}`: a container on that node.
    pub fn container(&self, node: &str, vmid: &str) -> Result<Ct, Failure> {
        check("vmid", Kind::Vmid, vmid).map_err(|e| Failure::params(&[("vmid".into(), e)], &self.usage()))?;
        let node = self.cluster_node(node)?;
        Ct::load(&node, vmid.parse().unwrap_or(0))
    }

    pub fn no_handler(&self) -> Failure {
        Failure::with_code(1, format!("No '{}' handler defined for '{}'", self.verb, self.path))
    }
}

const FORMAT_OPTIONS: &[&str] = &["output-format", "noborder", "noheader", "quiet", "human-readable"];

pub fn run(node: &Node, argv: &[String]) -> Outcome {
    let Some(verb) = argv.first().map(String::as_str) else {
        return Err(Failure::new("USAGE: pvesh <COMMAND> [ARGS] [OPTIONS]"));
    };
    let verb = match verb {
        "get" | "create" | "set" | "delete" => verb,
        "ls" | "usage" | "help" => return Err(Failure::new(format!("lws-sim: 'pvesh {verb}' is not simulated"))),
        other => return Err(Failure::new(format!("ERROR: unknown command 'pvesh {other}'"))),
    };
    let Some(path) = argv.get(1) else {
        return Err(Failure::getopt(
            &[],
            "not enough arguments",
            &format!("pvesh {verb} <api_path> [OPTIONS] [FORMAT_OPTIONS]"),
        ));
    };
    let mut params = BTreeMap::new();
    let mut format_opts = BTreeMap::new();
    let mut rest = argv[2..].iter();
    while let Some(arg) = rest.next() {
        let Some(name) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(Failure::getopt(
                &[],
                "too many arguments",
                &format!("pvesh {verb} <api_path> [OPTIONS] [FORMAT_OPTIONS]"),
            ));
        };
        let (name, value) = match name.split_once('=') {
            Some((n, v)) => (n.to_owned(), v.to_owned()),
            None if matches!(name, "noborder" | "noheader" | "quiet" | "human-readable") => {
                (name.to_owned(), "1".to_owned())
            }
            None => (name.to_owned(), rest.next().cloned().unwrap_or_default()),
        };
        if FORMAT_OPTIONS.contains(&name.as_str()) {
            format_opts.insert(name, value);
        } else {
            params.insert(name, value);
        }
    }
    let path = format!("/{}", path.trim_matches('/'));
    let request = Request { node, verb, path, params };
    let value = route(&request)?;
    let output_format = format_opts.get("output-format").map(String::as_str).unwrap_or("text");
    if format_opts.contains_key("quiet") {
        return Ok(());
    }
    let text = match output_format {
        "json" => format::json(&value),
        "json-pretty" => format::json_pretty(&value),
        "yaml" => format::yaml(&value),
        "text" => format::text(&value, format_opts.contains_key("noborder"), format_opts.contains_key("noheader")),
        other => {
            return Err(Failure::params(
                &[(
                    "output-format".into(),
                    format!("value '{other}' does not have a value in the enumeration 'text, json, json-pretty, yaml'"),
                )],
                &request.usage(),
            ))
        }
    };
    // Create/set/delete answers (null) print nothing at all, whatever the format.
    if !(value.is_null() && request.verb != "get") {
        print!("{text}");
    }
    Ok(())
}

fn route(req: &Request<'_>) -> Result<Value, Failure> {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    match (req.verb, segments.as_slice()) {
        ("get", ["version"]) => api::version(req),
        ("get", ["cluster", "nextid"]) => api::nextid(req),
        ("get", ["cluster", "resources"]) => api::resources(req),
        ("get", ["cluster", "status"]) => api::cluster_status(req),
        (_, ["cluster", "backup", rest @ ..]) => backup_jobs::jobs(req, rest),
        (_, ["cluster", "firewall", "groups", ..]) => firewall::groups(req, &segments[3..]),
        (_, ["cluster", "firewall", "aliases", ..]) => firewall::aliases(req, &segments[3..]),
        (_, ["cluster", "firewall", "ipset", ..]) => firewall::ipsets(req, &segments[3..]),
        ("get", ["nodes"]) => api::nodes(req),
        ("get", ["nodes", node, "status"]) => api::node_status(req, node),
        ("get", ["nodes", node, "storage"]) => api::storage(req, node),
        ("get", ["nodes", node, "storage", storage, "content"]) => api::storage_content(req, node, storage),
        ("create", ["nodes", node, "storage", storage, "download-url"]) => api::download_url(req, node, storage),
        ("get", ["nodes", node, "aplinfo"]) => api::aplinfo(req, node),
        ("get", ["nodes", node, "lxc"]) => api::lxc_list(req, node),
        ("get", ["nodes", node, "lxc", vmid, "config"]) => api::lxc_config(req, node, vmid),
        ("get", ["nodes", node, "lxc", vmid, "status", "current"]) => api::lxc_status(req, node, vmid),
        ("get", ["nodes", node, "lxc", vmid, "interfaces"]) => api::lxc_interfaces(req, node, vmid),
        ("get", ["nodes", node, "lxc", vmid, "snapshot"]) => api::snapshots(req, node, vmid),
        (_, ["nodes", node, "lxc", vmid, "snapshot", name, "config"]) => api::snapshot_config(req, node, vmid, name),
        (_, ["nodes", node, "lxc", vmid, "firewall", rest @ ..]) => firewall::container(req, node, vmid, rest),
        _ => Err(req.no_handler()),
    }
}
