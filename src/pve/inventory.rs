//! Everything about a cluster's containers in one round trip: every config and firewall file
//! under `/etc/pve` (one `tail`, no process per file) while `pvesh get /cluster/resources` runs
//! in parallel. A refresh of any number of containers costs one SSH command whose latency is
//! one Proxmox tool start.
//!
//! `/cluster/resources` reports a guest's status up to 10 s late (pve-manager `PVE/API2Tools.pm`
//! `extract_vm_stats` reads the RRD data `pvestatd` refreshes every 10 s; `unknown` before the first
//! update), so the running state of the asked node's own containers comes from LXC itself: one
//! `lxc-ls -1 --running` (LXC's C tool, no Perl start-up) beside the rest ([`super::lxc_tools`]);
//! another node of the cluster answers the same for its own ([`running_script`]).
//!
//! After a write, the containers it touched are re-read directly ([`containers_script`]): their
//! files, and their state from `lxc-info` when they live on the node asked, or from
//! `/cluster/resources` when they live elsewhere.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::command::Script;
use super::config_file::ConfigFile;
use super::error::PveError;
use super::firewall_file::FirewallFile;
use super::lxc_tools::{node_name, parse_lxc_info, parse_lxc_ls_running, LxcState};
use super::runner::{run, Runner};
use crate::ssh::quote::quote;

/// Marks the start of each tool's part of the output (a byte no Proxmox file or JSON contains).
const MARK: char = '\u{1e}';

/// One VM or container as `/cluster/resources` lists it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub vmid: u32,
    pub node: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uptime: Option<u64>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub maxmem: Option<u64>,
    #[serde(default)]
    pub mem: Option<u64>,
    #[serde(default)]
    pub maxdisk: Option<u64>,
    #[serde(default)]
    pub disk: Option<u64>,
}

impl Resource {
    /// What LXC tells of a container on `node`.
    fn from_lxc_state(vmid: u32, node: &str, state: LxcState) -> Resource {
        let status = match state {
            LxcState::Running => "running",
            LxcState::Stopped => "stopped",
        };
        Resource {
            kind: "lxc".to_owned(),
            vmid,
            node: node.to_owned(),
            status: Some(status.to_owned()),
            name: None,
            uptime: None,
            lock: None,
            maxmem: None,
            mem: None,
            maxdisk: None,
            disk: None,
        }
    }
}

/// A container found in the cluster.
#[derive(Debug, Clone)]
pub struct Listing {
    pub vmid: u32,
    /// The node whose directory holds the config.
    pub node: String,
    pub config: ConfigFile,
    pub resource: Option<Resource>,
    /// Addresses `lxc-info -i` reported (a direct re-read of a running container on the node
    /// asked); empty when not asked.
    pub addresses: Vec<String>,
}

impl Listing {
    /// The typed config as `pct config` shows it (pending values applied); one Proxmox would not
    /// have written is an error naming the file.
    pub fn typed_config(&self) -> Result<super::lxc::ContainerConfig, String> {
        self.typed(&super::lxc::effective_section(&self.config))
    }

    /// The typed config of what runs now, without pending values (`pct config --current`).
    pub fn current_config(&self) -> Result<super::lxc::ContainerConfig, String> {
        self.typed(&self.config.current)
    }

    fn typed(&self, section: &super::config_file::Section) -> Result<super::lxc::ContainerConfig, String> {
        super::lxc::ContainerConfig::from_section(section)
            .map_err(|e| format!("cannot read /etc/pve/nodes/{}/lxc/{}.conf: {e}", self.node, self.vmid))
    }

    pub fn running(&self) -> bool {
        self.resource.as_ref().and_then(|r| r.status.as_deref()) == Some("running")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub containers: BTreeMap<u32, Listing>,
    /// Every VMID in use in the cluster, VMs included (for allocation).
    pub used_ids: BTreeSet<u32>,
    /// `/etc/pve/firewall/cluster.fw` (security groups).
    pub cluster_firewall: FirewallFile,
    /// `/etc/pve/firewall/<vmid>.fw` of each container that has one.
    pub container_firewalls: BTreeMap<u32, FirewallFile>,
    /// `/etc/pve/nodes/<node>/host.fw` of each node that has one (their rules may use groups).
    pub host_firewalls: BTreeMap<String, FirewallFile>,
    /// Nodes whose containers' running state came from their own LXC (`lxc-ls`, `lxc-info`);
    /// the others' is `/cluster/resources`', up to 10 s late.
    pub lxc_nodes: BTreeSet<String>,
}

impl Inventory {
    /// Every firewall file of the cluster with a rule `matches` accepts, as a message names it:
    /// the datacenter's rules, security groups, containers, nodes' host firewalls.
    pub fn rules_using(&self, matches: impl Fn(&super::firewall_file::Rule) -> bool) -> Vec<String> {
        let uses = |rules: &[super::firewall_file::Rule]| rules.iter().any(&matches);
        let mut users = Vec::new();
        if uses(&self.cluster_firewall.rules) {
            users.push("the datacenter firewall rules (cluster.fw)".to_owned());
        }
        users.extend(
            self.cluster_firewall
                .groups
                .iter()
                .filter(|(_, g)| uses(&g.rules))
                .map(|(g, _)| format!("security group '{g}'")),
        );
        users.extend(
            self.container_firewalls.iter().filter(|(_, fw)| uses(&fw.rules)).map(|(v, _)| format!("container {v}")),
        );
        users.extend(
            self.host_firewalls
                .iter()
                .filter(|(_, fw)| uses(&fw.rules))
                .map(|(n, _)| format!("the host firewall of node {n}")),
        );
        users
    }

    /// Every IP set of the cluster with an entry `matches` accepts, as a message names it: the
    /// datacenter's sets and containers' own (a host firewall has none).
    pub fn ipsets_using(&self, matches: impl Fn(&super::firewall_file::IpSetEntry) -> bool) -> Vec<String> {
        let using = |file: &'_ super::firewall_file::FirewallFile| -> Vec<String> {
            file.ipsets.iter().filter(|(_, set)| set.entries.iter().any(&matches)).map(|(n, _)| n.clone()).collect()
        };
        let mut users: Vec<String> =
            using(&self.cluster_firewall).into_iter().map(|n| format!("IP set '{n}'")).collect();
        for (vmid, file) in &self.container_firewalls {
            users.extend(using(file).into_iter().map(|n| format!("IP set '{n}' of container {vmid}")));
        }
        users
    }

    /// Replace what is known of `vmids` by a direct re-read of them asked on `node`. A container
    /// found on another node got its state from `/cluster/resources`: that node's running states
    /// are no longer all LXC's, so its own host asks LXC again before its next answer.
    pub fn patch(&mut self, vmids: &BTreeSet<u32>, node: &str, fresh: Inventory) {
        for vmid in vmids {
            self.containers.remove(vmid);
            self.container_firewalls.remove(vmid);
        }
        for listing in fresh.containers.values().filter(|l| l.node != node) {
            self.lxc_nodes.remove(&listing.node);
        }
        self.used_ids.extend(fresh.containers.keys().copied());
        self.containers.extend(fresh.containers);
        self.container_firewalls.extend(fresh.container_firewalls.into_iter().filter(|(v, _)| vmids.contains(v)));
    }

    /// The running state of every container of `node`, as that node's `lxc-ls --running` says.
    pub fn set_running(&mut self, node: &str, running: &[u32]) {
        for listing in self.containers.values_mut().filter(|l| l.node == node) {
            let state = if running.contains(&listing.vmid) { LxcState::Running } else { LxcState::Stopped };
            let fresh = Resource::from_lxc_state(listing.vmid, node, state);
            match listing.resource.as_mut() {
                Some(resource) => resource.status = fresh.status,
                None => listing.resource = Some(fresh),
            }
        }
        self.lxc_nodes.insert(node.to_owned());
    }
}

/// Run `pvesh get PATH` in the background into `$t/NAME` (stderr to `$t/NAME.err`).
fn background_pvesh(name: &str, path_and_args: &str) -> String {
    format!("pvesh get {path_and_args} --output-format json >\"$t/{name}\" 2>\"$t/{name}.err\" & {name}=$!; ")
}

/// Wait for a background `pvesh`, then print its part, or fail with its stderr and status.
fn collect_pvesh(name: &str, header: &str) -> String {
    format!(
        "wait ${name}; c=$?; if [ $c -ne 0 ]; then cat \"$t/{name}.err\" >&2; rm -rf \"$t\"; exit $c; fi; \
         printf '\\n\\036{header}\\n'; cat \"$t/{name}\"; "
    )
}

/// This node's running containers, as one part of a script's output.
const RUNNING_PART: &str = "o=$(lxc-ls -1 --running 2>\"$t/ls.err\"); c=$?; [ $c -eq 0 ] || o=$(cat \"$t/ls.err\"); \
     printf '\\n\\036RUNNING %s\\nexit %s\\n%s\\n' \"$(hostname)\" \"$c\" \"$o\"; ";

/// The one-round-trip script: the whole cluster, and the asked node's running containers.
pub fn script() -> Script {
    let mut text = String::from("t=$(mktemp -d) || exit 1; ");
    text.push_str(&background_pvesh("resources", "/cluster/resources --type vm"));
    text.push_str(
        "tail -v -n +1 /etc/pve/nodes/*/lxc/*.conf /etc/pve/firewall/*.fw /etc/pve/nodes/*/host.fw 2>/dev/null; ",
    );
    text.push_str(RUNNING_PART);
    text.push_str(&collect_pvesh("resources", "RESOURCES"));
    text.push_str("rm -rf \"$t\"");
    Script::raw("read container configs and /cluster/resources", text)
}

/// The asked node's running containers alone (another member of a cluster already read).
pub fn running_script() -> Script {
    Script::raw("list running containers", format!("t=$(mktemp -d) || exit 1; {RUNNING_PART}rm -rf \"$t\""))
}

/// Re-read `vmids` (asked on `node`): their files, and their state.
pub fn containers_script(node: &str, vmids: &BTreeSet<u32>) -> Script {
    let files: Vec<String> = vmids
        .iter()
        .flat_map(|v| [format!("/etc/pve/nodes/*/lxc/{v}.conf"), format!("/etc/pve/firewall/{v}.fw")])
        .collect();
    let list: Vec<String> = vmids.iter().map(u32::to_string).collect();
    let node = quote(node);
    let text = format!(
        "t=$(mktemp) || exit 1; tail -v -n +1 {files} 2>/dev/null; r=0; for v in {list}; do \
         if [ -f /etc/pve/nodes/{node}/lxc/$v.conf ]; then o=$(lxc-info -n \"$v\" -s -i -H 2>\"$t\"); c=$?; \
         [ $c -eq 0 ] || o=$(cat \"$t\"); printf '\\n\\036STATE %s\\nexit %s\\n%s\\n' \"$v\" \"$c\" \"$o\"; \
         elif ls /etc/pve/nodes/*/lxc/$v.conf >/dev/null 2>&1; then r=1; fi; done; \
         if [ $r = 1 ]; then printf '\\n\\036RESOURCES\\n'; pvesh get /cluster/resources --type vm --output-format json; fi; \
         c=$?; rm -f \"$t\"; exit $c",
        files = files.join(" "),
        list = list.join(" "),
    );
    Script::raw(format!("re-read containers {}", list.join(", ")), text)
}

/// One file of `tail -v` output: its path and text.
fn tail_files(text: &str) -> Vec<(&str, String)> {
    let mut files: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("==> ").and_then(|l| l.strip_suffix(" <==")) {
            files.push((path, String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    files
}

/// Read a script's output (either script).
pub fn parse(stdout: &str) -> Result<Inventory, String> {
    let mut inventory = Inventory::default();
    let mut resources: Option<Vec<Resource>> = None;
    let mut states: BTreeMap<u32, (i32, String)> = BTreeMap::new();
    let mut running_on: Option<(String, Vec<u32>)> = None;
    let mut parts = stdout.split(MARK);
    for (path, body) in tail_files(parts.next().unwrap_or("")) {
        if let Some((node, vmid)) = node_and_vmid(path) {
            let listing = Listing {
                vmid,
                node: node.to_owned(),
                config: ConfigFile::parse(&body),
                resource: None,
                addresses: Vec::new(),
            };
            inventory.containers.insert(vmid, listing);
        } else if let Some(node) = path.strip_suffix("/host.fw").and_then(|p| p.rsplit('/').next()) {
            inventory.host_firewalls.insert(node.to_owned(), FirewallFile::parse(&body));
        } else if let Some(name) = path.rsplit('/').next().and_then(|n| n.strip_suffix(".fw")) {
            let file = FirewallFile::parse(&body);
            if name == "cluster" {
                inventory.cluster_firewall = file;
            } else if let Ok(vmid) = name.parse() {
                inventory.container_firewalls.insert(vmid, file);
            }
        }
    }
    for part in parts {
        let (header, body) = part.split_once('\n').unwrap_or((part, ""));
        if header == "RESOURCES" {
            resources = Some(serde_json::from_str(body.trim()).map_err(|e| format!("/cluster/resources: {e}"))?);
        } else if let Some(vmid) = header.strip_prefix("STATE ").and_then(|v| v.trim().parse().ok()) {
            states.insert(vmid, exit_and_output(body)?);
        } else if let Some(hostname) = header.strip_prefix("RUNNING ") {
            running_on = Some(running_part(hostname, body)?);
        } else {
            return Err(format!("unexpected part {header:?} in the output"));
        }
    }
    for resource in resources.iter().flatten() {
        inventory.used_ids.insert(resource.vmid);
        if let Some(listing) = inventory.containers.get_mut(&resource.vmid) {
            if resource.kind == "lxc" {
                listing.resource = Some(resource.clone());
            }
        }
    }
    if let Some((node, running)) = running_on {
        inventory.set_running(&node, &running);
    }
    for (vmid, (exit, text)) in states {
        if let Some(listing) = inventory.containers.get_mut(&vmid) {
            let info = parse_lxc_info(vmid, exit, &text)?;
            listing.resource = Some(Resource::from_lxc_state(vmid, &listing.node, info.state));
            listing.addresses = info.addresses;
        }
    }
    inventory.used_ids.extend(inventory.containers.keys().copied());
    Ok(inventory)
}

/// A `RUNNING <hostname>` part: the node (the hostname's first label, as Proxmox names nodes)
/// and its running containers.
fn running_part(hostname: &str, body: &str) -> Result<(String, Vec<u32>), String> {
    let (exit, text) = exit_and_output(body)?;
    Ok((node_name(hostname).to_owned(), parse_lxc_ls_running(exit, &text)?))
}

/// A tool's part written as `exit <status>` and then its output.
fn exit_and_output(body: &str) -> Result<(i32, String), String> {
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    let exit = first
        .strip_prefix("exit ")
        .and_then(|c| c.trim().parse().ok())
        .ok_or_else(|| format!("no exit status before {body:?}"))?;
    Ok((exit, rest.to_owned()))
}

/// `/etc/pve/nodes/<node>/lxc/<vmid>.conf` → (node, vmid).
fn node_and_vmid(path: &str) -> Option<(&str, u32)> {
    let rest = path.strip_prefix("/etc/pve/nodes/").or_else(|| path.split("/etc/pve/nodes/").nth(1))?;
    let (node, file) = rest.split_once("/lxc/")?;
    Some((node, file.strip_suffix(".conf")?.parse().ok()?))
}

async fn fetch_with(runner: &dyn Runner, script: Script, require_resources: bool) -> Result<Inventory, PveError> {
    let summary = script.summary.clone();
    let output = run(runner, script).await?;
    let text = output.stdout_text();
    let unreadable =
        |message: String| PveError::Unreadable { host: runner.label().to_owned(), command: summary.clone(), message };
    if require_resources && !text.contains(&format!("{MARK}RESOURCES\n")) {
        return Err(unreadable("the output has no /cluster/resources part".to_owned()));
    }
    parse(&text).map_err(unreadable)
}

/// The whole cluster, with the asked node's running states from LXC.
pub async fn fetch(runner: &dyn Runner) -> Result<Inventory, PveError> {
    fetch_with(runner, script(), true).await
}

/// `vmids` alone, asked on `node` (absent ones are gone).
pub async fn fetch_containers(runner: &dyn Runner, node: &str, vmids: &BTreeSet<u32>) -> Result<Inventory, PveError> {
    fetch_with(runner, containers_script(node, vmids), false).await
}

/// The asked node's name and its running containers.
pub async fn fetch_running(runner: &dyn Runner) -> Result<(String, Vec<u32>), PveError> {
    let script = running_script();
    let summary = script.summary.clone();
    let output = run(runner, script).await?;
    let text = output.stdout_text();
    let part = text.split(MARK).nth(1).and_then(|p| p.split_once('\n'));
    let parsed = match part.and_then(|(header, body)| Some((header.strip_prefix("RUNNING ")?, body))) {
        Some((hostname, body)) => running_part(hostname, body),
        None => Err(format!("no lxc-ls part in {text:?}")),
    };
    parsed.map_err(|message| PveError::Unreadable { host: runner.label().to_owned(), command: summary, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_and_resources_are_matched_by_vmid() {
        let out = "==> /etc/pve/nodes/pve1/lxc/100.conf <==\narch: amd64\nhostname: web\nmemory: 512\n\
                   \n==> /etc/pve/nodes/pve2/lxc/101.conf <==\nhostname: db\n\
                   \n==> /etc/pve/firewall/cluster.fw <==\n[group web]\n\nIN ACCEPT -p tcp -dport 80\n\n\
                   \n==> /etc/pve/firewall/100.fw <==\n[RULES]\n\nGROUP web\n\
                   \n\u{1e}RESOURCES\n[{\"id\":\"lxc/100\",\"type\":\"lxc\",\"vmid\":100,\"node\":\"pve1\",\"status\":\"running\",\"name\":\"web\"},\
                   {\"id\":\"qemu/200\",\"type\":\"qemu\",\"vmid\":200,\"node\":\"pve1\",\"status\":\"stopped\"}]\n";
        let inventory = parse(out).expect("parses");
        assert_eq!(inventory.containers.len(), 2);
        let web = &inventory.containers[&100];
        assert_eq!(web.node, "pve1");
        assert_eq!(web.config.current.get("hostname"), Some("web"));
        assert!(web.running());
        assert!(inventory.containers[&101].resource.is_none());
        assert_eq!(inventory.used_ids.iter().copied().collect::<Vec<_>>(), vec![100, 101, 200]);
        assert_eq!(inventory.cluster_firewall.groups["web"].rules[0].dport.as_deref(), Some("80"));
        assert_eq!(inventory.container_firewalls[&100].rules[0].action, "web");
    }

    #[test]
    fn an_empty_cluster_is_an_empty_inventory() {
        assert!(parse("\n\u{1e}RESOURCES\n[]\n").expect("parses").containers.is_empty());
        assert!(parse("\u{1e}RESOURCES\ngarbage").is_err());
    }

    #[test]
    fn the_asked_nodes_running_state_comes_from_lxc_ls_not_the_stale_cluster_resources() {
        let out = "==> /etc/pve/nodes/pve1/lxc/100.conf <==\nhostname: a\n\n==> /etc/pve/nodes/pve1/lxc/101.conf <==\nhostname: b\n\
                   \n==> /etc/pve/nodes/pve2/lxc/102.conf <==\nhostname: c\n\
                   \n\u{1e}RUNNING pve1.example.com\nexit 0\n100\n\
                   \n\u{1e}RESOURCES\n[{\"type\":\"lxc\",\"vmid\":100,\"node\":\"pve1\",\"status\":\"unknown\"},\
                   {\"type\":\"lxc\",\"vmid\":101,\"node\":\"pve1\",\"status\":\"running\"},\
                   {\"type\":\"lxc\",\"vmid\":102,\"node\":\"pve2\",\"status\":\"running\"}]\n";
        let inventory = parse(out).expect("parses");
        assert!(inventory.containers[&100].running(), "just started: lxc-ls knows before pvestatd");
        assert!(!inventory.containers[&101].running(), "just stopped");
        assert!(inventory.containers[&102].running(), "another node's container keeps /cluster/resources");
    }

    #[test]
    fn unreadable_lxc_output_fails_the_read_instead_of_reading_as_stopped() {
        let head = "==> /etc/pve/nodes/pve1/lxc/100.conf <==\nhostname: a\n";
        let bare = format!("{head}\u{1e}STATE 100\nexit 0\nRUNNING\n");
        assert!(parse(&bare).expect_err("bare value").contains("RUNNING"));
        let no_exit = format!("{head}\u{1e}STATE 100\nState:          RUNNING\n");
        assert!(parse(&no_exit).is_err());
        let ls_failed = format!("{head}\u{1e}RUNNING pve1\nexit 127\nsh: lxc-ls: not found\n");
        assert!(parse(&ls_failed).expect_err("lxc-ls missing").contains("not found"));
    }

    #[test]
    fn a_direct_re_read_takes_states_from_lxc_info_and_patches_only_its_containers() {
        let mut inventory = parse(
            "==> /etc/pve/nodes/pve1/lxc/100.conf <==\nhostname: a\n\n==> /etc/pve/nodes/pve1/lxc/101.conf <==\nhostname: b\n\
             \u{1e}RESOURCES\n[{\"type\":\"lxc\",\"vmid\":100,\"node\":\"pve1\",\"status\":\"stopped\"}]\n",
        )
        .expect("parses");
        let fresh = parse(
            "==> /etc/pve/nodes/pve1/lxc/100.conf <==\nhostname: a2\n\u{1e}STATE 100\nexit 0\n\
             State:          RUNNING\nIP:             10.0.0.5\nIP:             fd00::5\n",
        )
        .expect("parses");
        assert!(fresh.containers[&100].running());
        assert_eq!(fresh.containers[&100].addresses, ["10.0.0.5", "fd00::5"]);
        inventory.patch(&[100, 102].into(), "pve1", fresh);
        assert_eq!(inventory.containers[&100].config.current.get("hostname"), Some("a2"));
        assert!(inventory.containers[&100].running());
        assert_eq!(inventory.containers[&101].config.current.get("hostname"), Some("b"), "others are kept");
        assert!(!inventory.containers.contains_key(&102));
    }
}
