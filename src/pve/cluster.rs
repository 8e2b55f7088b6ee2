//! Facts about a host and its cluster: `/etc/pve/.members` (first contact: no Perl start-up),
//! `pvesh get /cluster/status` (the API's fuller view), `pveversion`.

use serde::Deserialize;

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{run, run_json, Runner};

/// One entry of `/cluster/status` (pve-manager `PVE/API2/Cluster.pm` `get_status`): a node
/// entry always has `name`, `nodeid`, `local` and `online` (`ip` when known); the cluster entry
/// `name` and `quorate`.
#[derive(Debug, Clone, Deserialize)]
struct StatusEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    nodeid: Option<u32>,
    #[serde(default)]
    online: Option<serde_json::Value>,
    #[serde(default)]
    local: Option<serde_json::Value>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    quorate: Option<serde_json::Value>,
}

/// A JSON boolean of the API: `0`/`1` (Perl numbers) or `true`/`false`.
fn api_flag(value: Option<&serde_json::Value>, what: &str) -> Result<bool, String> {
    match value {
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => {
            Ok(n.as_u64() == Some(1))
        }
        Some(serde_json::Value::String(s)) if s == "0" || s == "1" => Ok(s == "1"),
        Some(other) => Err(format!("{what} is {other}, not a boolean")),
        None => Err(format!("no {what}")),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub id: u32,
    pub online: bool,
    pub local: bool,
    pub ip: Option<String>,
}

/// `/cluster/status`: the cluster (if any) and its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    /// `None` on a standalone host.
    pub name: Option<String>,
    pub quorate: bool,
    pub nodes: Vec<NodeInfo>,
}

impl ClusterStatus {
    /// The node we are talking to.
    pub fn local_node(&self) -> Option<&str> {
        self.nodes.iter().find(|n| n.local).map(|n| n.name.as_str())
    }

    pub fn has_node(&self, name: &str) -> bool {
        self.nodes.iter().any(|n| n.name == name)
    }
}

pub fn parse_status(entries: &[serde_json::Value]) -> Result<ClusterStatus, String> {
    let entries: Vec<StatusEntry> = entries
        .iter()
        .map(|e| serde_json::from_value(e.clone()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let cluster = entries.iter().find(|e| e.kind == "cluster");
    let mut nodes = Vec::new();
    for e in entries.iter().filter(|e| e.kind == "node") {
        let name = e.name.clone().ok_or("a node entry without a name")?;
        let at = |what: &str| format!("{what} of node '{name}'");
        nodes.push(NodeInfo {
            id: e.nodeid.ok_or_else(|| format!("no {}", at("nodeid")))?,
            online: api_flag(e.online.as_ref(), &at("online"))?,
            local: api_flag(e.local.as_ref(), &at("local"))?,
            ip: e.ip.clone(),
            name,
        });
    }
    if nodes.is_empty() {
        return Err("no node entries".to_owned());
    }
    // `get_status` walks a Perl hash (`keys %$members`): the order changes from one call to the next.
    nodes.sort_by(|a, b| (a.id, &a.name).cmp(&(b.id, &b.name)));
    let (name, quorate) = match cluster {
        Some(c) => (
            Some(c.name.clone().ok_or("a cluster entry without a name")?),
            api_flag(c.quorate.as_ref(), "quorate of the cluster")?,
        ),
        None => (None, true), // a standalone host: no corosync, no quorum to lose
    };
    Ok(ClusterStatus { name, quorate, nodes })
}

/// `/etc/pve/.members`, the file pmxcfs makes up from its cluster information for the node that
/// reads it (pve-cluster `src/pmxcfs/status.c` `cfs_create_memberlist_msg`, served by
/// `src/pmxcfs/pmxcfs.c` as `.members`): in a cluster `nodename`, `version`, `cluster` (`name`,
/// `version`, `nodes`, `quorate`) and `nodelist` (`<name>: {id, online[, ip]}`); on a standalone
/// host (no corosync: no nodes) only `nodename` and `version`. PVE::Cluster's `get_members`
/// and `/cluster/status` are built from the same data.
pub fn parse_members(text: &str) -> Result<ClusterStatus, String> {
    #[derive(Deserialize)]
    struct Cluster {
        name: String,
        quorate: u8,
    }
    #[derive(Deserialize)]
    struct Member {
        id: u32,
        online: u8,
        #[serde(default)]
        ip: Option<String>,
    }
    #[derive(Deserialize)]
    struct Members {
        nodename: String,
        #[serde(default)]
        cluster: Option<Cluster>,
        #[serde(default)]
        nodelist: std::collections::BTreeMap<String, Member>,
    }
    let members: Members = serde_json::from_str(text).map_err(|e| format!("{e} in {text:?}"))?;
    let Some(cluster) = members.cluster else {
        let node = NodeInfo { name: members.nodename, id: 0, online: true, local: true, ip: None };
        return Ok(ClusterStatus { name: None, quorate: true, nodes: vec![node] });
    };
    let mut nodes: Vec<NodeInfo> = members
        .nodelist
        .into_iter()
        .map(|(name, m)| NodeInfo { local: name == members.nodename, name, id: m.id, online: m.online == 1, ip: m.ip })
        .collect();
    nodes.sort_by_key(|n| n.id);
    if !nodes.iter().any(|n| n.local) {
        return Err(format!("node '{}' is not in its own nodelist: {text:?}", members.nodename));
    }
    Ok(ClusterStatus { name: Some(cluster.name), quorate: cluster.quorate == 1, nodes })
}

/// Node name and cluster membership from `/etc/pve/.members` ([`parse_members`]).
pub async fn members(runner: &dyn Runner) -> Result<ClusterStatus, PveError> {
    let out = run(runner, Script::from(Command::new("cat").arg("/etc/pve/.members"))).await?;
    parse_members(&out.stdout_text()).map_err(|message| PveError::Unreadable {
        host: runner.label().to_owned(),
        command: "cat /etc/pve/.members".to_owned(),
        message,
    })
}

pub async fn status(runner: &dyn Runner) -> Result<ClusterStatus, PveError> {
    let cmd = Command::new("pvesh").arg("get").arg("/cluster/status").opt("output-format", "json");
    let entries: Vec<serde_json::Value> = run_json(runner, cmd.into()).await?;
    parse_status(&entries).map_err(|message| PveError::Unreadable {
        host: runner.label().to_owned(),
        command: "pvesh get /cluster/status".to_owned(),
        message,
    })
}

/// `pveversion`: `pve-manager/8.4.1/… (running kernel: …)` → `8.4.1`.
pub async fn version(runner: &dyn Runner) -> Result<String, PveError> {
    let out = run(runner, Script::from(Command::new("pveversion"))).await?;
    parse_version(&out.stdout_text()).ok_or_else(|| PveError::Unreadable {
        host: runner.label().to_owned(),
        command: "pveversion".to_owned(),
        message: format!("expected pve-manager/<version>/<commit> (running kernel: …), got {:?}", out.stdout_text()),
    })
}

/// pve-manager `bin/pveversion`: `PVE::pvecfg::package() . '/' . version_text()` (`pvecfg.pm`:
/// `pve-manager` and `<VERSION>/<REPOID>`), then ` (running kernel: <kernel>)`.
pub fn parse_version(text: &str) -> Option<String> {
    let rest = text.lines().next()?.strip_prefix("pve-manager/")?;
    let (version, _) = rest.split_once('/')?;
    (!version.is_empty() && version.starts_with(|c: char| c.is_ascii_digit())).then(|| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_read_as_pmxcfs_writes_them() {
        // `cfs_create_memberlist_msg`'s layout, byte for byte.
        let clustered = "{\n\"nodename\": \"pve2\",\n\"version\": 5,\n\"cluster\": { \"name\": \"duo\", \"version\": 2, \"nodes\": 2, \"quorate\": 1 },\n\"nodelist\": {\n  \"pve2\": { \"id\": 2, \"online\": 1, \"ip\": \"10.0.0.2\"},\n  \"pve1\": { \"id\": 1, \"online\": 0, \"ip\": \"10.0.0.1\"}\n  }\n}\n";
        let status = parse_members(clustered).expect("parses");
        assert_eq!(status.name.as_deref(), Some("duo"));
        assert!(status.quorate);
        assert_eq!(status.local_node(), Some("pve2"));
        let names: Vec<(&str, bool)> = status.nodes.iter().map(|n| (n.name.as_str(), n.online)).collect();
        assert_eq!(names, [("pve1", false), ("pve2", true)]);
        assert_eq!(status.nodes[0].ip.as_deref(), Some("10.0.0.1"));

        let standalone = parse_members("{\n\"nodename\": \"pve\",\n\"version\": 0\n}\n").expect("parses");
        assert_eq!((standalone.name.as_deref(), standalone.local_node()), (None, Some("pve")));
        assert!(parse_members("").is_err() && parse_members("<html>").is_err());
        let not_listed = "{\"nodename\": \"x\", \"version\": 1, \"cluster\": {\"name\": \"c\", \"version\": 1, \"nodes\": 1, \"quorate\": 1}, \"nodelist\": {\"y\": {\"id\": 1, \"online\": 1}}}";
        assert!(parse_members(not_listed).is_err());
    }

    #[test]
    fn clustered_and_standalone_status_read_the_same_way() {
        let clustered = vec![
            json!({"type":"cluster","id":"cluster","name":"prod","nodes":2,"version":4,"quorate":1}),
            json!({"type":"node","id":"node/pve1","name":"pve1","nodeid":1,"local":1,"online":1,"ip":"10.0.0.11","level":""}),
            json!({"type":"node","id":"node/pve2","name":"pve2","nodeid":2,"local":0,"online":0,"ip":"10.0.0.12","level":""}),
        ];
        let status = parse_status(&clustered).expect("parses");
        assert_eq!(status.name.as_deref(), Some("prod"));
        assert!(status.quorate);
        assert_eq!(status.local_node(), Some("pve1"));
        assert!(!status.nodes[1].online);

        let standalone = vec![
            json!({"type":"node","id":"node/pve","name":"pve","nodeid":0,"local":1,"online":1,"ip":"10.0.0.5","level":""}),
        ];
        let status = parse_status(&standalone).expect("parses");
        assert_eq!(status.name, None);
        assert_eq!(status.local_node(), Some("pve"));
        // Perl hash order: sorted by node id here.
        let shuffled = vec![clustered[2].clone(), clustered[0].clone(), clustered[1].clone()];
        let names: Vec<String> = parse_status(&shuffled).expect("parses").nodes.into_iter().map(|n| n.name).collect();
        assert_eq!(names, ["pve1", "pve2"]);
        // Fields get_status always sets are never defaulted.
        let no_online = vec![json!({"type":"node","id":"node/pve","name":"pve","nodeid":0,"local":1})];
        assert!(parse_status(&no_online).unwrap_err().contains("online of node 'pve'"));
        let no_quorate = vec![json!({"type":"cluster","name":"prod"}), clustered[1].clone()];
        assert!(parse_status(&no_quorate).unwrap_err().contains("quorate"));
    }

    #[test]
    fn version_is_the_manager_release() {
        assert_eq!(
            parse_version("pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)\n").as_deref(),
            Some("8.4.1")
        );
        assert_eq!(parse_version("command not found\n"), None);
        assert_eq!(parse_version("8.4.1\n"), None);
    }
}

/// What `pvecm status` says about quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    pub quorate: bool,
    pub expected_votes: u32,
    pub total_votes: u32,
}

/// Read `pvecm status`: corosync `tools/corosync-quorumtool.c` `display_quorum_data` prints
/// `Quorate:          Yes|No` and, with votequorum (always on Proxmox), `Expected votes:` and
/// `Total votes:`. Anything else is not this report: an error quoting what was read.
pub fn parse_pvecm_status(text: &str) -> Result<Quorum, String> {
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).map(|rest| rest.trim().to_owned());
    let number = |name: &str| -> Result<u32, String> {
        field(name)
            .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
            .ok_or_else(|| format!("no `{name}` number in {text:?}"))
    };
    let quorate = match field("Quorate:").as_deref() {
        Some("Yes") => true,
        Some("No") => false,
        other => return Err(format!("`Quorate:` is {other:?} in {text:?}")),
    };
    Ok(Quorum { quorate, expected_votes: number("Expected votes:")?, total_votes: number("Total votes:")? })
}

/// `pvecm status`; `None` on a standalone host (no corosync configuration).
pub async fn quorum(runner: &dyn Runner) -> Result<Option<Quorum>, PveError> {
    // Exit 2 means "not quorate" and still prints the report, so accept it.
    let script = Script::raw("pvecm status", "pvecm status; rc=$?; [ $rc -eq 2 ] && exit 0; exit $rc");
    match run(runner, script).await {
        Ok(out) => parse_pvecm_status(&out.stdout_text()).map(Some).map_err(|message| PveError::Unreadable {
            host: runner.label().to_owned(),
            command: "pvecm status".to_owned(),
            message,
        }),
        Err(PveError::Failed { stderr, .. }) if stderr.contains("is this node part of a cluster") => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod pvecm_tests {
    use super::*;

    /// The layout of pve-cli.md §7.
    const STATUS: &str = "Cluster information
-------------------
Name:             prod
Config Version:   3
Transport:        knet
Secure auth:      on

Quorum information
------------------
Date:             Tue Nov 24 18:18:50 2026
Quorum provider:  corosync_votequorum
Nodes:            2
Node ID:          0x00000001
Ring ID:          1.20
Quorate:          Yes

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      2
Quorum:           2  
Flags:            Quorate 

Membership information
----------------------
    Nodeid      Votes Name
0x00000001          1 192.168.1.10 (local)
0x00000002          1 192.168.1.11
";

    #[test]
    fn pvecm_status_reads_quorum_and_votes() {
        let q = parse_pvecm_status(STATUS).expect("parses");
        assert_eq!(q, Quorum { quorate: true, expected_votes: 3, total_votes: 2 });
        let blocked = STATUS.replace("Quorate:          Yes", "Quorate:          No");
        assert!(!parse_pvecm_status(&blocked).expect("parses").quorate);
    }
}
