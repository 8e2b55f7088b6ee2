//! Cluster, node and container endpoints of the simulated API.

use serde_json::{json, Map, Value};

use crate::formats::pct_conf::Section;

use super::Request;
use crate::cluster::{load_storages, ClusterInfo, AVAILABLE_TEMPLATES};
use crate::context::Node;
use crate::ct::Ct;
use crate::host_tools::{container_counts, storage_used, KERNEL, PVE_MANAGER};
use crate::journal::epoch_secs;
use crate::output::Failure;
use crate::params::Kind;
use crate::pct::snapshot::snapshot_list;
use crate::status::{container_status, NODE_CPUS, NODE_MEMORY};

pub fn version(req: &Request<'_>) -> Result<Value, Failure> {
    req.allow(&[])?;
    Ok(json!({"version": "8.4.1", "release": "8.4", "repoid": "2a5fa54a8503f96d"}))
}

/// Lowest unused id in [100, 1000000). Nothing is reserved: two callers can get the same one.
pub fn nextid(req: &Request<'_>) -> Result<Value, Failure> {
    req.allow(&[("vmid", Kind::Vmid)])?;
    let used: Vec<u32> = req.node.all_containers().into_iter().map(|(_, id)| id).collect();
    if let Some(wanted) = req.param("vmid") {
        let wanted: u32 = wanted.parse().unwrap_or(0);
        if used.contains(&wanted) {
            return Err(Failure::params(&[("vmid".into(), format!("VM {wanted} already exists"))], &req.usage()));
        }
        return Ok(json!(wanted.to_string()));
    }
    (100..1_000_000)
        .find(|id| !used.contains(id))
        .map(|id| json!(id.to_string()))
        .ok_or_else(|| Failure::new("unable to get any free VMID in range [100, 1000000]"))
}

pub fn resources(req: &Request<'_>) -> Result<Value, Failure> {
    req.allow(&[("type", Kind::Enum(&["vm", "storage", "node", "sdn"]))])?;
    let wanted = req.param("type");
    let mut items = Vec::new();
    let info = ClusterInfo::load(req.node)?;
    if wanted.is_none_or(|t| t == "node") {
        for member in &info.nodes {
            let node = req.node.sibling(&member.name);
            let mut entry = node_summary(&node, member.online, member.booted_at);
            entry.insert("level".into(), json!(""));
            items.push(Value::Object(entry));
        }
    }
    if wanted.is_none_or(|t| t == "storage") {
        for member in &info.nodes {
            let node = req.node.sibling(&member.name);
            for s in load_storages(&node)? {
                let used = storage_used(&node, &s);
                items.push(json!({
                    "id": format!("storage/{}/{}", member.name, s.id),
                    "storage": s.id,
                    "node": member.name,
                    "type": "storage",
                    "plugintype": s.kind,
                    "status": if s.disabled { "unknown" } else { "available" },
                    "shared": u8::from(s.shared),
                    "content": s.content.join(","),
                    "disk": used,
                    "maxdisk": s.capacity(),
                }));
            }
        }
    }
    if wanted.is_none_or(|t| t == "vm") {
        for (node_name, vmid) in req.node.all_containers() {
            let node = req.node.sibling(&node_name);
            let Some(ct) = Ct::try_load(&node, vmid)? else { continue };
            items.push(Value::Object(resource_entry(&ct)));
        }
    }
    Ok(Value::Array(items))
}

/// One guest of `/cluster/resources` as pve-manager `PVE/API2Tools.pm` `extract_vm_stats` builds
/// it: `status` and the figures from pvestatd's last update (only `id`, `vmid`, `node`, `type` and
/// `status: unknown` before a new guest's first one), then `lock` and `tags` from the config
/// (`PVE/API2/Cluster.pm` `resources`, `get_guest_config_properties`). Simplified: the figures
/// other than `status` are current, not as of the last update.
fn resource_entry(ct: &Ct) -> Map<String, Value> {
    let mut status = container_status(ct);
    let mut entry = Map::new();
    entry.insert("id".into(), json!(format!("lxc/{}", ct.vmid)));
    entry.insert("type".into(), json!("lxc"));
    entry.insert("vmid".into(), json!(ct.vmid));
    entry.insert("node".into(), json!(ct.node.name));
    let Some(seen) = crate::status::pvestatd_status(ct) else {
        entry.insert("status".into(), json!("unknown"));
        for key in ["lock", "tags"] {
            if let Some(v) = status.get(key) {
                entry.insert(key.into(), v.clone());
            }
        }
        return entry;
    };
    status.insert("status".into(), json!(seen));
    entry.insert("template".into(), json!(u8::from(ct.is_template())));
    entry.insert("maxcpu".into(), status.get("cpus").cloned().unwrap_or(json!(1)));
    for key in [
        "status",
        "name",
        "uptime",
        "cpu",
        "maxmem",
        "mem",
        "maxdisk",
        "disk",
        "netin",
        "netout",
        "diskread",
        "diskwrite",
        "tags",
        "lock",
    ] {
        if let Some(v) = status.get(key) {
            entry.insert(key.into(), v.clone());
        }
    }
    entry
}

fn node_summary(node: &Node, online: bool, booted_at: u64) -> Map<String, Value> {
    let (running, _) = container_counts(node);
    let mem = node_memory_used(node);
    let mut entry = Map::new();
    entry.insert("id".into(), json!(format!("node/{}", node.name)));
    entry.insert("node".into(), json!(node.name));
    entry.insert("type".into(), json!("node"));
    entry.insert("status".into(), json!(if online { "online" } else { "offline" }));
    if online {
        entry.insert("cpu".into(), json!(0.02 + 0.01 * running as f64));
        entry.insert("maxcpu".into(), json!(NODE_CPUS));
        entry.insert("mem".into(), json!(mem));
        entry.insert("maxmem".into(), json!(NODE_MEMORY));
        entry.insert("disk".into(), json!(4_862_418_944u64));
        entry.insert("maxdisk".into(), json!(100_861_726_720u64));
        entry.insert("uptime".into(), json!(epoch_secs().saturating_sub(booted_at)));
    }
    entry
}

fn node_memory_used(node: &Node) -> u64 {
    let mut used: u64 = 2 << 30;
    for vmid in node.local_vmids() {
        if let Ok(Some(ct)) = Ct::try_load(node, vmid) {
            if ct.is_running() {
                used += (ct.memory_mib() << 20) / 8;
            }
        }
    }
    used
}

pub fn cluster_status(req: &Request<'_>) -> Result<Value, Failure> {
    req.allow(&[])?;
    let info = ClusterInfo::load(req.node)?;
    let mut items = Vec::new();
    if info.is_clustered() {
        items.push(json!({
            "type": "cluster", "id": "cluster", "name": info.name, "nodes": info.nodes.len(),
            "version": info.nodes.len(), "quorate": u8::from(info.quorate()),
        }));
    }
    for m in &info.nodes {
        let nodeid = if info.is_clustered() { m.id } else { 0 };
        items.push(json!({
            "type": "node", "id": format!("node/{}", m.name), "name": m.name, "nodeid": nodeid,
            "local": u8::from(m.name == req.node.name), "online": u8::from(m.online), "ip": m.ip, "level": "",
        }));
    }
    Ok(Value::Array(items))
}

pub fn nodes(req: &Request<'_>) -> Result<Value, Failure> {
    req.allow(&[])?;
    let info = ClusterInfo::load(req.node)?;
    let list = info
        .nodes
        .iter()
        .map(|m| {
            let mut entry = node_summary(&req.node.sibling(&m.name), m.online, m.booted_at);
            entry.insert("level".into(), json!(""));
            entry.insert("ssl_fingerprint".into(), json!(fingerprint(&m.name)));
            Value::Object(entry)
        })
        .collect();
    Ok(Value::Array(list))
}

fn fingerprint(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(seed.as_bytes()).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

pub fn node_status(req: &Request<'_>, node: &str) -> Result<Value, Failure> {
    req.allow(&[])?;
    let node = req.cluster_node(node)?;
    let info = ClusterInfo::load(&node)?;
    let booted = info.member(&node.name).map(|m| m.booted_at).unwrap_or(0);
    let (running, _) = container_counts(&node);
    let used = node_memory_used(&node);
    let load = 0.05 + 0.1 * running as f64;
    Ok(json!({
        "uptime": epoch_secs().saturating_sub(booted),
        "idle": 0,
        "loadavg": [format!("{load:.2}"), format!("{:.2}", load * 0.8), format!("{:.2}", load * 0.6)],
        "kversion": format!("Linux {KERNEL} #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-9 (2025-03-16T19:18Z)"),
        "current-kernel": {"sysname": "Linux", "release": KERNEL, "machine": "x86_64",
                            "version": "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-9 (2025-03-16T19:18Z)"},
        "boot-info": {"mode": "efi", "secureboot": 0},
        "cpuinfo": {"model": "Intel(R) Xeon(R) E-2278G CPU @ 3.40GHz", "sockets": 1, "cores": NODE_CPUS,
                    "cpus": NODE_CPUS, "mhz": "3400.000", "hvm": "1", "user_hz": 100},
        // `read_proc_stat` (pve-common `ProcFSTools.pm`) compares with its previous sample in
        // the same process; `pvesh` is a new process each time, so its first sample says 0.
        // Only the daemons' figures (`/cluster/resources`, from pvestatd) move.
        "cpu": 0,
        "wait": 0,
        "memory": {"total": NODE_MEMORY, "used": used, "free": NODE_MEMORY - used, "available": NODE_MEMORY - used},
        "swap": {"total": 8u64 << 30, "used": 0, "free": 8u64 << 30},
        "ksm": {"shared": 0},
        "rootfs": {"total": 100_861_726_720u64, "used": 4_862_418_944u64,
                   "avail": 90_835_443_712u64, "free": 95_999_307_776u64},
        "pveversion": PVE_MANAGER,
    }))
}

pub fn storage(req: &Request<'_>, node: &str) -> Result<Value, Failure> {
    req.allow(&[
        ("content", Kind::Str { min_len: 1, max_len: 64 }),
        ("enabled", Kind::Bool),
        ("storage", Kind::Str { min_len: 1, max_len: 64 }),
    ])?;
    let node = req.cluster_node(node)?;
    let list = load_storages(&node)?
        .into_iter()
        .filter(|s| req.param("storage").is_none_or(|id| id == s.id))
        .filter(|s| req.param("content").is_none_or(|c| s.supports(c)))
        .map(|s| {
            // pve-storage `Storage.pm` `storage_info`: figures start at 0 and are filled in only
            // for an active storage; `used_fraction` only `if ($data->{total})`.
            let (used, total) = if s.disabled { (0, 0) } else { (storage_used(&node, &s), s.capacity()) };
            let mut entry = json!({
                "storage": s.id, "type": s.kind, "content": s.content.join(","), "shared": u8::from(s.shared),
                "active": u8::from(!s.disabled), "enabled": u8::from(!s.disabled), "total": total, "used": used,
                "avail": total.saturating_sub(used),
            });
            if total > 0 {
                entry["used_fraction"] = json!(used as f64 / total as f64);
            }
            entry
        })
        .collect();
    Ok(Value::Array(list))
}

/// `GET /nodes/{node}/storage/{storage}/content` (pve-storage `API2/Storage/Content.pm`
/// `index`): templates only in the simulator; a content type the storage is not configured for,
/// or one the simulator keeps no files of, lists nothing, as `volume_list` filters by the
/// storage's content.
pub fn storage_content(req: &Request<'_>, node: &str, storage: &str) -> Result<Value, Failure> {
    const CONTENT: &[&str] = &["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "none", "import"];
    req.allow(&[("content", Kind::Str { min_len: 1, max_len: 64 }), ("vmid", Kind::Vmid)])?;
    if let Some(content) = req.param("content") {
        if !CONTENT.contains(&content) {
            return Err(Failure::params(
                &[("content".into(), format!("invalid format - invalid content type '{content}'"))],
                &req.usage(),
            ));
        }
    }
    let node = req.cluster_node(node)?;
    let storage = crate::cluster::find_storage(&node, storage)?;
    if storage.disabled {
        return Err(Failure::new(format!("storage '{}' is disabled", storage.id)));
    }
    // With `vmid`, templates are not listed (`volume_list` skips vztmpl and iso).
    let wants = |content: &str| req.param("content").is_none_or(|c| c == content);
    let vmid = req.param("vmid").and_then(|v| v.parse().ok());
    let mut list = Vec::new();
    if wants("vztmpl") && vmid.is_none() {
        list.extend(crate::storage_content::list_templates(&node, &storage));
    }
    if wants("backup") {
        list.extend(crate::storage_content::list_backups(&node, &storage, vmid));
    }
    list.sort_by_key(|e| e["volid"].as_str().unwrap_or_default().to_lowercase());
    Ok(Value::Array(list))
}

/// `POST /nodes/{node}/storage/{storage}/download-url` (pve-storage `API2/Storage/Status.pm`
/// `download_url`): the parameters' schema, then `storage_content::download_url`.
pub fn download_url(req: &Request<'_>, node: &str, storage: &str) -> Result<Value, Failure> {
    const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
    req.allow(&[
        ("url", Kind::Str { min_len: 1, max_len: 4096 }),
        ("content", Kind::Enum(&["iso", "vztmpl", "import"])),
        ("filename", Kind::Str { min_len: 1, max_len: 255 }),
        ("checksum", Kind::Str { min_len: 1, max_len: 1024 }),
        ("checksum-algorithm", Kind::Enum(ALGORITHMS)),
        ("compression", Kind::Str { min_len: 0, max_len: 64 }),
        ("verify-certificates", Kind::Bool),
    ])?;
    req.require(&["url", "content", "filename"])?;
    let url = req.param("url").unwrap_or_default();
    let mut errors = Vec::new();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        errors.push(("url".to_owned(), "value does not match the regex pattern".to_owned()));
    }
    match (req.param("checksum"), req.param("checksum-algorithm")) {
        (Some(_), None) => {
            errors.push(("checksum-algorithm".to_owned(), "missing property required by 'checksum'".to_owned()))
        }
        (None, Some(_)) => {
            errors.push(("checksum".to_owned(), "missing property required by 'checksum-algorithm'".to_owned()))
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(Failure::params(&errors, &req.usage()));
    }
    let node = req.cluster_node(node)?;
    let request = crate::storage_content::DownloadUrl {
        url,
        content: req.param("content").unwrap_or_default(),
        filename: req.param("filename").unwrap_or_default(),
        checksum: req.param("checksum-algorithm").zip(req.param("checksum")),
        verify_certificates: req.param("verify-certificates").is_none_or(crate::formats::fw_conf::perl_true),
    };
    let upid = crate::storage_content::download_url(&node, storage, &request, &req.usage())?;
    Ok(Value::String(upid))
}

pub fn aplinfo(req: &Request<'_>, node: &str) -> Result<Value, Failure> {
    req.allow(&[])?;
    req.cluster_node(node)?;
    let list = AVAILABLE_TEMPLATES
        .iter()
        .map(|(section, template, _)| {
            let mut parts = template.split('_');
            let package = parts.next().unwrap_or_default();
            let version = parts.next().unwrap_or_default();
            let os = package.split('-').next().unwrap_or_default();
            json!({
                "template": template, "package": package, "version": version, "type": "lxc", "os": os,
                "section": section, "headline": format!("{package} (LXC template)"),
                "description": format!("LXC template of {package}"),
                "location": format!("http://download.proxmox.com/images/system/{template}"),
                "infopage": "https://pve.proxmox.com/wiki/Linux_Container", "maintainer": "Proxmox Support Team <support@proxmox.com>",
                "architecture": "amd64", "sha512sum": crate::rng::hex(128), "source": "http://download.proxmox.com/images",
            })
        })
        .collect();
    Ok(Value::Array(list))
}

pub fn lxc_list(req: &Request<'_>, node: &str) -> Result<Value, Failure> {
    req.allow(&[])?;
    let node = req.cluster_node(node)?;
    let mut list = Vec::new();
    for vmid in node.local_vmids() {
        if let Some(ct) = Ct::try_load(&node, vmid)? {
            list.push(Value::Object(container_status(&ct)));
        }
    }
    Ok(Value::Array(list))
}

pub fn lxc_status(req: &Request<'_>, node: &str, vmid: &str) -> Result<Value, Failure> {
    req.allow(&[])?;
    let ct = req.container(node, vmid)?;
    let mut status = container_status(&ct);
    status.insert("ha".into(), json!({"managed": 0}));
    Ok(Value::Object(status))
}

/// Option keys the API returns as numbers.
const NUMERIC_KEYS: &[&str] = &[
    "cores",
    "memory",
    "swap",
    "cpuunits",
    "onboot",
    "unprivileged",
    "protection",
    "template",
    "console",
    "tty",
    "debug",
    "snaptime",
];

pub fn config_json(section: &Section, digest: Option<String>) -> Value {
    let mut map = Map::new();
    for (key, value) in &section.options {
        let number = NUMERIC_KEYS.contains(&key.as_str()).then(|| value.parse::<i64>().ok()).flatten();
        map.insert(key.clone(), number.map(|n| json!(n)).unwrap_or_else(|| json!(value)));
    }
    if let Some(description) = &section.description {
        map.insert("description".into(), json!(description));
    }
    if !section.lxc.is_empty() {
        map.insert("lxc".into(), json!(section.lxc.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()));
    }
    if let Some(digest) = digest {
        map.insert("digest".into(), json!(digest));
    }
    Value::Object(map)
}

pub fn lxc_config(req: &Request<'_>, node: &str, vmid: &str) -> Result<Value, Failure> {
    req.allow(&[("current", Kind::Bool), ("snapshot", Kind::Str { min_len: 1, max_len: 40 })])?;
    let ct = req.container(node, vmid)?;
    let digest = sha1_hex(&ct.conf.write());
    let section = if let Some(name) = req.param("snapshot") {
        ct.conf.snapshots.get(name).cloned().ok_or_else(|| Failure::new(format!("snapshot '{name}' does not exist")))?
    } else if req.param("current") == Some("1") {
        ct.conf.current.clone()
    } else {
        ct.clone_with_pending().conf.current
    };
    Ok(config_json(&section, Some(digest)))
}

pub fn sha1_hex(text: &str) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Addresses of a running container's interfaces; `null` when it is not running or absent.
/// pve-container `src/PVE/LXC.pm` `get_interfaces`: `nsenter -t <pid> --net -- ip --json a` in
/// the container's network namespace, every interface (`lo`, `docker0`, …) with `hwaddr`, the
/// *last* address of each family as `inet`/`inet6` and all of them under `ip-addresses`.
pub fn lxc_interfaces(req: &Request<'_>, node: &str, vmid: &str) -> Result<Value, Failure> {
    req.allow(&[])?;
    let Ok(ct) = req.container(node, vmid) else { return Ok(Value::Null) };
    if !ct.is_running() {
        return Ok(Value::Null);
    }
    // `my $pid = eval { find_lxc_pid($vmid); }; return if $@;`
    let Some(pid) = crate::lxc::init_pid(&ct.node, ct.vmid) else { return Ok(Value::Null) };
    let interfaces = crate::lxc::ip_addresses(pid)?;
    let mut list = Vec::new();
    for interface in interfaces.as_array().into_iter().flatten() {
        let mut entry = Map::new();
        entry.insert("name".into(), interface["ifname"].clone());
        let mut addresses = Vec::new();
        for ip in interface["addr_info"].as_array().into_iter().flatten() {
            let family = ip["family"].as_str().unwrap_or_default();
            let local = ip["local"].as_str().unwrap_or_default();
            entry.insert(family.to_owned(), json!(format!("{local}/{}", ip["prefixlen"])));
            addresses.push(json!({"ip-address-type": family, "ip-address": local, "prefix": ip["prefixlen"]}));
        }
        entry.insert("ip-addresses".into(), Value::Array(addresses));
        entry.insert("hardware-address".into(), interface["address"].clone());
        entry.insert("hwaddr".into(), interface["address"].clone());
        list.push(Value::Object(entry));
    }
    Ok(Value::Array(list))
}

pub fn snapshots(req: &Request<'_>, node: &str, vmid: &str) -> Result<Value, Failure> {
    req.allow(&[])?;
    let ct = req.container(node, vmid)?;
    let running = ct.is_running();
    let list = snapshot_list(&ct)
        .into_iter()
        .map(|e| {
            let mut entry = json!({"name": e.name, "description": e.description});
            if let Some(parent) = e.parent {
                entry["parent"] = json!(parent);
            }
            match e.snaptime {
                Some(t) => entry["snaptime"] = json!(t),
                None => entry["running"] = json!(u8::from(running)),
            }
            entry
        })
        .collect();
    Ok(Value::Array(list))
}

/// `GET|PUT /nodes/{n}/lxc/{id}/snapshot/{name}/config` (the description is all that changes).
pub fn snapshot_config(req: &Request<'_>, node: &str, vmid: &str, name: &str) -> Result<Value, Failure> {
    let mut ct = req.container(node, vmid)?;
    match req.verb {
        "get" => {
            req.allow(&[])?;
            let section =
                ct.conf.snapshots.get(name).ok_or_else(|| Failure::new(format!("snapshot '{name}' does not exist")))?;
            Ok(config_json(section, None))
        }
        "set" => {
            req.allow(&[("description", Kind::Str { min_len: 0, max_len: 8192 })])?;
            let _lock = crate::lock::lock_ct(&ct.node, ct.vmid, crate::lock::DEFAULT_TIMEOUT)?;
            let section = ct
                .conf
                .snapshots
                .get_mut(name)
                .ok_or_else(|| Failure::new(format!("snapshot '{name}' does not exist")))?;
            section.description = req.param("description").filter(|d| !d.is_empty()).map(str::to_owned);
            ct.save()?;
            Ok(Value::Null)
        }
        _ => Err(req.no_handler()),
    }
}
