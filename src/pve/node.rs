//! A node's live figures and storages: `pvesh get /nodes/{node}/status`,
//! `/nodes/{node}/storage` and the node's entry of `/cluster/resources`, fetched in one round
//! trip.

use serde::Deserialize;

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{run, Runner};

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct Usage {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub used: u64,
    #[serde(default)]
    pub free: u64,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct CpuInfo {
    #[serde(default)]
    pub cpus: u32,
    #[serde(default)]
    pub model: String,
}

/// `/nodes/{node}/status` (pve-manager `PVE/API2/Nodes.pm` `status`, which always sets these).
/// Its own `cpu` is not read: `read_proc_stat` needs a previous sample in the same process, and
/// each `pvesh` is a new one, so it is always 0 there.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct NodeStatus {
    pub uptime: u64,
    pub loadavg: Vec<String>,
    pub memory: Usage,
    pub swap: Usage,
    pub rootfs: Usage,
    pub cpuinfo: CpuInfo,
    pub pveversion: String,
    /// pvestatd's CPU figure for the node: `cpu` of its `/cluster/resources` entry
    /// (`API2Tools.pm` `extract_node_stats`, from the RRD data); none before pvestatd's first
    /// update, or while the node is offline.
    #[serde(skip)]
    pub cpu: Option<f64>,
    /// `loadavg` as numbers (Proxmox sends them as strings).
    #[serde(skip)]
    pub load_average: Vec<f64>,
}

/// One storage of `/nodes/{node}/storage`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct StorageStatus {
    pub storage: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub active: u8,
    #[serde(default)]
    pub enabled: u8,
    #[serde(default)]
    pub shared: u8,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub used: u64,
    #[serde(default)]
    pub avail: u64,
}

impl StorageStatus {
    /// Whether the storage is configured for `content` (`vztmpl`, `backup`, `rootdir`, …).
    pub fn holds(&self, content: &str) -> bool {
        self.content.split(',').any(|c| c.trim() == content)
    }
}

const MARK: char = '\u{1e}';

/// Status and storages of `node` in one command.
pub async fn status_and_storages(
    runner: &dyn Runner,
    node: &str,
) -> Result<(NodeStatus, Vec<StorageStatus>), PveError> {
    let status = Command::new("pvesh").arg("get").arg(format!("/nodes/{node}/status")).opt("output-format", "json");
    let storage = Command::new("pvesh").arg("get").arg(format!("/nodes/{node}/storage")).opt("output-format", "json");
    let nodes =
        Command::new("pvesh").arg("get").arg("/cluster/resources").opt("type", "node").opt("output-format", "json");
    let script = Script::raw(
        format!("pvesh get /nodes/{node}/status, /storage and /cluster/resources --type node"),
        format!(
            "{} && printf '\\036' && {} && printf '\\036' && {}",
            status.render(),
            storage.render(),
            nodes.render()
        ),
    );
    let summary = script.summary.clone();
    let out = run(runner, script).await?;
    let text = out.stdout_text();
    let unreadable =
        |message: String| PveError::Unreadable { host: runner.label().to_owned(), command: summary.clone(), message };
    let mut parts = text.split(MARK);
    let (Some(status_json), Some(storage_json), Some(nodes_json), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(unreadable(format!("expected three JSON documents separated by \\036, got {text:?}")));
    };
    let mut status: NodeStatus =
        serde_json::from_str(status_json).map_err(|e| unreadable(format!("node status: {e} in {status_json:?}")))?;
    status.load_average = status
        .loadavg
        .iter()
        .map(|l| l.parse().map_err(|_| unreadable(format!("loadavg {l:?} is not a number"))))
        .collect::<Result<_, _>>()?;
    let storages = serde_json::from_str(storage_json).map_err(|e| unreadable(format!("storages: {e}")))?;
    let nodes: Vec<serde_json::Value> =
        serde_json::from_str(nodes_json).map_err(|e| unreadable(format!("cluster resources: {e}")))?;
    let entry = nodes.iter().find(|n| n["id"] == format!("node/{node}").as_str());
    status.cpu = match entry.map(|e| &e["cpu"]) {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => return Err(unreadable(format!("cpu of node/{node} is {other}, not a number"))),
    };
    Ok((status, storages))
}

/// The storages `node` sees (`/nodes/{node}/storage`, with `shared` as pve-storage's
/// `storage_config` sets it: by `shared 1` or by a network storage type).
pub async fn storages(runner: &dyn Runner, node: &str) -> Result<Vec<StorageStatus>, PveError> {
    let cmd = Command::new("pvesh").arg("get").arg(format!("/nodes/{node}/storage")).opt("output-format", "json");
    let script = Script::from(cmd);
    let summary = script.summary.clone();
    let out = run(runner, script).await?;
    serde_json::from_str(&out.stdout_text()).map_err(|e| PveError::Unreadable {
        host: runner.label().to_owned(),
        command: summary,
        message: format!("storages: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_status_reads_the_documented_fields() {
        let json = r#"{"uptime":3600,"idle":0,"loadavg":["0.15","0.12","0.09"],"cpu":0.031,"wait":0.0,
            "memory":{"total":68719476736,"used":2147483648,"free":66571993088},
            "swap":{"total":8589934592,"used":0,"free":8589934592},"rootfs":{"total":100,"used":40,"avail":60,"free":60},
            "cpuinfo":{"model":"Xeon","sockets":1,"cores":8,"cpus":8,"mhz":"3400.000"},
            "pveversion":"pve-manager/8.4.1/2a5fa54a8503f96d","kversion":"Linux 6.8.12-9-pve","ksm":{"shared":0}}"#;
        let status: NodeStatus = serde_json::from_str(json).expect("parses");
        assert_eq!(status.memory.total, 68_719_476_736);
        assert_eq!(status.loadavg, vec!["0.15", "0.12", "0.09"]);
        assert_eq!(status.cpuinfo.cpus, 8);
        let storage: Vec<StorageStatus> = serde_json::from_str(
            r#"[{"storage":"local-lvm","type":"lvmthin","content":"rootdir,images","shared":0,"active":1,"enabled":1,"total":373662154752,"used":8589934592,"avail":365072220160,"used_fraction":0.02}]"#,
        )
        .expect("parses");
        assert_eq!((storage[0].kind.as_str(), storage[0].used), ("lvmthin", 8_589_934_592));
    }
}
