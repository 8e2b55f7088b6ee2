//! Facts about a host and its cluster: `/etc/pve/.members` (first contact: no Perl start-up),
//! `pvesh get /cluster/status` (the API's fuller view), `pveversion`.

use serde::Deserialize;

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{run, run_json, Runner};

#[derive(Debug, Clone, Deserialize)]
struct StatusEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    nodeid: Option<u32>,
    #[serde(default)]
    online: Option<u8>,
    #[serde(default)]
    local: Option<u8>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    quorate: Option<u8>,
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
    let nodes = entries
        .iter()
        .filter(|e| e.kind == "node")
        .map(|e| NodeInfo {
            name: e.name.clone().unwrap_or_default(),
            id: e.nodeid.unwrap_or(0),
            online: e.online.unwrap_or(1) == 1,
            local: e.local.unwrap_or(0) == 1,
            ip: e.ip.clone(),
        })
        .collect();
    Ok(ClusterStatus {
        name: cluster.and_then(|c| c.name.clone()),
        quorate: cluster.map(|c| c.quorate.unwrap_or(0) == 1).unwrap_or(true),
        nodes,
    })
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
    Ok(parse_version(&out.stdout_text()))
}

pub fn parse_version(text: &str) -> String {
    text.split('/').nth(1).unwrap_or(text.trim()).to_owned()
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
    }

    #[test]
    fn version_is_the_manager_release() {
        assert_eq!(parse_version("pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)\n"), "8.4.1");
    }
}

/// What `pvecm status` says about quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    pub quorate: bool,
    pub expected_votes: u32,
    pub total_votes: u32,
}

/// Read `pvecm status` (the `Votequorum information` and `Quorum information` blocks).
pub fn parse_pvecm_status(text: &str) -> Option<Quorum> {
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).map(|rest| rest.trim().to_owned());
    let number = |name: &str| field(name).and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()));
    Some(Quorum {
        quorate: field("Quorate:")? == "Yes",
        expected_votes: number("Expected votes:").unwrap_or(0),
        total_votes: number("Total votes:").unwrap_or(0),
    })
}

/// `pvecm status`; `None` on a standalone host (no corosync configuration).
pub async fn quorum(runner: &dyn Runner) -> Result<Option<Quorum>, PveError> {
    // Exit 2 means "not quorate" and still prints the report, so accept it.
    let script = Script::raw("pvecm status", "pvecm status; rc=$?; [ $rc -eq 2 ] && exit 0; exit $rc");
    match run(runner, script).await {
        Ok(out) => Ok(parse_pvecm_status(&out.stdout_text())),
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
Date:             2026-11-24 18:18:50
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
