//! LXC containers: the typed view of a container config section, and the `pct` operations
//! (create, set, resize, power, destroy, migrate, clone, exec) as typed requests.

use std::time::Duration;

use serde::Deserialize;

use super::command::{Command, Script};
use super::config_file::{ConfigFile, Section};
use super::error::PveError;
use super::property_string::PropertyString;
use super::runner::{run, run_json, run_to_end, Runner};
use super::text::{parse_size, split_tags};
use crate::ssh::OutputWatch;

/// `rootfs` / `mpN`: a volume and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub volume: String,
    pub storage: String,
    pub size_bytes: Option<u64>,
}

impl Volume {
    /// `parse_ct_rootfs` (pve-container `src/PVE/LXC/Config.pm`): a property string whose
    /// default key is `volume`; `size` is a pve-common `parse_size` text when present.
    pub fn parse(value: &str) -> Result<Volume, String> {
        let ps = PropertyString::parse(value, Some("volume"))?;
        let volume = ps.get("volume").ok_or("no volume")?.to_owned();
        let storage = volume.split_once(':').map(|(s, _)| s.to_owned()).unwrap_or_default();
        let size_bytes = match ps.get("size") {
            Some(size) => Some(parse_size(size).ok_or_else(|| format!("size '{size}' is not a size"))?),
            None => None,
        };
        Ok(Volume { volume, storage, size_bytes })
    }

    /// Size in whole GiB, rounded down: a disk grown by hand to a fraction of a GiB (`pct resize
    /// +512M` writes `size=8704M`) reads as the GiB it has in full, so a configured size it
    /// already exceeds is never taken for a shrink (which would replace the container).
    pub fn size_gib(&self) -> Option<u64> {
        self.size_bytes.map(|b| b >> 30)
    }
}

/// pve-common `src/PVE/JSONSchema.pm` `parse_boolean`, which `check_type` applies to every
/// boolean of a config and `parse_property_string` to every boolean of a property string.
pub fn parse_boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some(true),
        "0" | "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// A boolean that is false when absent; one [`parse_boolean`] cannot read is the error
/// `unreadable` words.
fn flag(value: Option<&str>, unreadable: impl FnOnce(&str) -> String) -> Result<bool, String> {
    value.map_or(Ok(false), |v| parse_boolean(v).ok_or_else(|| unreadable(v)))
}

/// A boolean of property string `ps`.
fn flag_of(ps: &PropertyString, key: &str) -> Result<bool, String> {
    flag(ps.get(key), |v| format!("{key}={v} is not a boolean"))
}

/// A `netN` device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Network {
    pub index: u32,
    pub name: String,
    pub bridge: Option<String>,
    pub hwaddr: Option<String>,
    /// `dhcp`, `manual` or an address with prefix length.
    pub ip: Option<String>,
    pub gw: Option<String>,
    pub tag: Option<u16>,
    pub firewall: bool,
    /// Keys we do not model (`ip6`, `mtu`, `rate`, …), kept so updates preserve them.
    pub other: Vec<(String, String)>,
}

impl Network {
    /// `netN` as `parse_lxc_network` reads it (`$netconf_desc`: `name` required, `tag` 1–4094,
    /// `firewall` a boolean).
    pub fn parse(key: &str, value: &str) -> Result<Network, String> {
        let index = key.strip_prefix("net").and_then(|n| n.parse().ok()).ok_or("not a netN key")?;
        let ps = PropertyString::parse(value, None)?;
        let known = ["name", "bridge", "hwaddr", "ip", "gw", "tag", "firewall"];
        let tag = match ps.get("tag") {
            Some(t) => Some(
                t.parse().ok().filter(|t| (1..=4094).contains(t)).ok_or_else(|| format!("tag={t} is not a VLAN"))?,
            ),
            None => None,
        };
        Ok(Network {
            index,
            name: ps.get("name").ok_or("no name")?.to_owned(),
            bridge: ps.get("bridge").map(str::to_owned),
            hwaddr: ps.get("hwaddr").map(str::to_owned),
            ip: ps.get("ip").map(str::to_owned),
            gw: ps.get("gw").map(str::to_owned),
            tag,
            firewall: flag_of(&ps, "firewall")?,
            other: ps.to_map().into_iter().filter(|(k, _)| !known.contains(&k.as_str())).collect(),
        })
    }

    pub fn key(&self) -> String {
        format!("net{}", self.index)
    }

    /// The value for `pct create/set --netN`.
    pub fn to_value(&self) -> String {
        let mut ps = PropertyString::default();
        ps.set("name", self.name.clone());
        if let Some(b) = &self.bridge {
            ps.set("bridge", b.clone());
        }
        if let Some(h) = &self.hwaddr {
            ps.set("hwaddr", h.clone());
        }
        if let Some(ip) = &self.ip {
            ps.set("ip", ip.clone());
        }
        if let Some(gw) = &self.gw {
            ps.set("gw", gw.clone());
        }
        if let Some(tag) = self.tag {
            ps.set("tag", tag.to_string());
        }
        if self.firewall {
            ps.set("firewall", "1");
        }
        for (k, v) in &self.other {
            ps.set(k.clone(), v.clone());
        }
        ps.to_canonical(None, &["name"])
    }

    /// The configured IPv4 address without its prefix (static addresses only).
    pub fn static_ipv4(&self) -> Option<String> {
        let ip = self.ip.as_deref()?;
        let (addr, _) = ip.split_once('/')?;
        addr.parse::<std::net::Ipv4Addr>().ok().map(|a| a.to_string())
    }
}

/// `features`: the flags we model plus any others, kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Features {
    pub nesting: bool,
    pub keyctl: bool,
    pub fuse: bool,
    pub other: Vec<(String, String)>,
}

impl Features {
    /// `parse_features`: stored as given by `pct set --features`, so `nesting=true` is on.
    pub fn parse(value: &str) -> Result<Features, String> {
        let ps = PropertyString::parse(value, None)?;
        Ok(Features {
            nesting: flag_of(&ps, "nesting")?,
            keyctl: flag_of(&ps, "keyctl")?,
            fuse: flag_of(&ps, "fuse")?,
            other: ps
                .to_map()
                .into_iter()
                .filter(|(k, _)| !["nesting", "keyctl", "fuse"].contains(&k.as_str()))
                .collect(),
        })
    }

    /// The value for `--features`, or `None` when nothing is enabled.
    pub fn to_value(&self) -> Option<String> {
        let mut parts = Vec::new();
        for (name, on) in [("fuse", self.fuse), ("keyctl", self.keyctl), ("nesting", self.nesting)] {
            if on {
                parts.push(format!("{name}=1"));
            }
        }
        parts.extend(self.other.iter().map(|(k, v)| format!("{k}={v}")));
        (!parts.is_empty()).then(|| parts.join(","))
    }
}

/// The typed view of one config section (what `pct config` shows).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerConfig {
    pub hostname: Option<String>,
    pub memory: Option<u64>,
    pub swap: Option<u64>,
    pub cores: Option<u32>,
    pub cpulimit: Option<f64>,
    pub rootfs: Option<Volume>,
    pub networks: Vec<Network>,
    pub nameserver: Option<String>,
    pub searchdomain: Option<String>,
    pub unprivileged: bool,
    pub features: Features,
    pub onboot: bool,
    pub tags: Vec<String>,
    /// As Proxmox reads it back: each line followed by `\n`.
    pub description: Option<String>,
    pub ostype: Option<String>,
    pub arch: Option<String>,
    pub lock: Option<String>,
    pub template: bool,
    pub parent: Option<String>,
}

impl ContainerConfig {
    /// The values Proxmox's `parse_pct_config` would accept (`check_type`: integers, numbers,
    /// `parse_boolean` booleans; property strings by their formats). One it would not is an
    /// error naming the key and the text, never a default.
    pub fn from_section(section: &Section) -> Result<ContainerConfig, String> {
        fn typed<T: std::str::FromStr>(section: &Section, key: &str, what: &str) -> Result<Option<T>, String> {
            match section.get(key) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| format!("{key}: '{v}' is not {what}")),
            }
        }
        let get = |k: &str| section.get(k).map(str::to_owned);
        let boolean = |k: &str| flag(section.get(k), |v| format!("{k}: '{v}' is not a boolean"));
        let mut networks = Vec::new();
        for (key, value) in
            section.options.iter().filter(|(k, _)| k.starts_with("net") && k[3..].parse::<u32>().is_ok())
        {
            networks.push(Network::parse(key, value).map_err(|e| format!("{key}: {e} in '{value}'"))?);
        }
        networks.sort_by_key(|n| n.index);
        let rootfs = match section.get("rootfs") {
            Some(value) => Some(Volume::parse(value).map_err(|e| format!("rootfs: {e} in '{value}'"))?),
            None => None,
        };
        let features = match section.get("features") {
            Some(value) => Features::parse(value).map_err(|e| format!("features: {e} in '{value}'"))?,
            None => Features::default(),
        };
        Ok(ContainerConfig {
            hostname: get("hostname"),
            memory: typed(section, "memory", "a number of MiB")?,
            swap: typed(section, "swap", "a number of MiB")?,
            cores: typed(section, "cores", "a number of cores")?,
            cpulimit: typed(section, "cpulimit", "a number")?,
            rootfs,
            networks,
            nameserver: get("nameserver"),
            searchdomain: get("searchdomain"),
            unprivileged: boolean("unprivileged")?,
            features,
            onboot: boolean("onboot")?,
            tags: section.get("tags").map(split_tags).unwrap_or_default(),
            description: section.description.clone(),
            ostype: get("ostype"),
            arch: get("arch"),
            lock: get("lock"),
            template: boolean("template")?,
            parent: get("parent"),
        })
    }
}

/// The configuration as it will be after the next start (what `pct config` shows without
/// `--current`): pve-guest-common `src/PVE/AbstractConfig.pm` `load_current_config` puts the
/// `[pve:pending]` values over the current ones, then removes what `delete` lists
/// (`parse_pending_delete`: split on `,`, `;` or spaces, a leading `!` marks a forced delete)
/// — a value pending for a key also pending deletion is removed.
pub fn effective_section(file: &ConfigFile) -> Section {
    let mut section = file.current.clone();
    for (key, value) in &file.pending.options {
        if key != "delete" {
            section.set(key.clone(), value.clone());
        }
    }
    if file.pending.description.is_some() {
        section.description = file.pending.description.clone();
    }
    if let Some(deleted) = file.pending.get("delete") {
        for key in deleted.split([',', ';', ' ', '\t']).filter(|k| !k.is_empty()) {
            let key = key.strip_prefix('!').unwrap_or(key);
            if key == "description" {
                section.description = None;
            } else {
                section.remove(key);
            }
        }
    }
    section
}

/// Everything `pct create` needs from us.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRequest {
    pub vmid: u32,
    pub template: String,
    pub hostname: Option<String>,
    pub memory: u64,
    pub swap: u64,
    pub cores: Option<u32>,
    pub cpulimit: Option<f64>,
    pub storage: String,
    pub disk_gib: u64,
    pub networks: Vec<Network>,
    pub nameserver: Option<String>,
    pub searchdomain: Option<String>,
    pub unprivileged: bool,
    pub features: Features,
    pub onboot: bool,
    pub tags: Vec<String>,
    pub description: Option<String>,
    /// Sent on stdin into a temporary file on the host: `--ssh-public-keys` takes a path.
    pub ssh_public_keys: Option<String>,
    /// `--start 1`: start it as part of the create (one Proxmox tool run instead of two).
    pub start: bool,
    /// A backup archive (`<storage>:backup/<file>`): `pct restore` it instead of creating from
    /// `template`. Every option given overrides the archive's configuration
    /// (pve-container `PVE::LXC::Create::sanitize_and_merge_config`).
    pub restore_from: Option<String>,
}

fn pct(sub: &str, vmid: u32) -> Command {
    Command::new("pct").arg(sub).arg(vmid)
}

/// `pct create`, or `pct restore` (pve-container `src/PVE/CLI/pct.pm`: both are `create_vm`, the
/// second with `restore => 1`, taking the same options) when restoring a backup.
pub async fn create(runner: &dyn Runner, request: &CreateRequest, timeout: Option<Duration>) -> Result<(), PveError> {
    let (sub, source) = match &request.restore_from {
        Some(archive) => ("restore", archive),
        None => ("create", &request.template),
    };
    let mut cmd = pct(sub, request.vmid)
        .arg(source)
        .opt_if("hostname", request.hostname.as_ref())
        .opt("memory", request.memory)
        .opt("swap", request.swap)
        .opt_if("cores", request.cores)
        .opt_if("cpulimit", request.cpulimit)
        .opt("rootfs", format!("{}:{}", request.storage, request.disk_gib))
        .opt("unprivileged", u8::from(request.unprivileged))
        .opt("onboot", u8::from(request.onboot))
        .opt_if("nameserver", request.nameserver.as_ref())
        .opt_if("searchdomain", request.searchdomain.as_ref())
        .opt_if("features", request.features.to_value());
    if request.start {
        cmd = cmd.opt("start", 1);
    }
    for net in &request.networks {
        cmd = cmd.opt(&net.key(), net.to_value());
    }
    if !request.tags.is_empty() {
        cmd = cmd.opt("tags", request.tags.join(";"));
    }
    if let Some(description) = request.description.as_ref().filter(|d| !d.is_empty()) {
        cmd = cmd.opt("description", description);
    }
    let summary = cmd.summary();
    // A restore's keys are written into the container afterwards (the archive brings its own
    // root filesystem).
    let keys = request.ssh_public_keys.as_ref().filter(|_| request.restore_from.is_none());
    let script = match keys {
        // The keys travel on stdin into a temporary file, removed whatever happens.
        Some(keys) => Script::raw(
            summary,
            format!(
                "f=$(mktemp) && cat > \"$f\" && {} --ssh-public-keys \"$f\"; rc=$?; rm -f \"$f\"; exit $rc",
                cmd.render()
            ),
        )
        .with_stdin(format!("{}\n", keys.trim_end())),
        None => Script::from(cmd),
    };
    run(runner, script.with_timeout(timeout)).await.map(|_| ())
}

/// `pct set <vmid> --key value … [--delete k1,k2]`, within `timeout` (the operation's, not the
/// provider's per-command default: a `pct set` waits up to 10 s for the config lock).
pub async fn set(
    runner: &dyn Runner,
    vmid: u32,
    changes: &[(String, String)],
    delete: &[String],
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    if changes.is_empty() && delete.is_empty() {
        return Ok(());
    }
    let mut cmd = pct("set", vmid);
    for (key, value) in changes {
        cmd = cmd.opt(key, value);
    }
    if !delete.is_empty() {
        cmd = cmd.opt("delete", delete.join(","));
    }
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// `pct resize <vmid> <disk> <GiB>G` (grow only).
pub async fn resize(
    runner: &dyn Runner,
    vmid: u32,
    disk: &str,
    gib: u64,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let cmd = pct("resize", vmid).arg(disk).arg(format!("{gib}G"));
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

pub async fn start(runner: &dyn Runner, vmid: u32, timeout: Option<Duration>) -> Result<(), PveError> {
    run(runner, Script::from(pct("start", vmid)).with_timeout(timeout)).await.map(|_| ())
}

/// Hard stop (what Terraform's `started = false` means: now, not after a grace period).
pub async fn stop(runner: &dyn Runner, vmid: u32, timeout: Option<Duration>) -> Result<(), PveError> {
    run(runner, Script::from(pct("stop", vmid)).with_timeout(timeout)).await.map(|_| ())
}

/// `pct shutdown <vmid> [--timeout <s>] --forceStop 1`: a clean stop (the container's init is
/// asked to halt), killed when it has not stopped within the timeout — pve-container
/// `src/PVE/API2/LXC/Status.pm` `vm_shutdown` (`$timeout // 60`, then `lxc-stop --timeout`).
pub async fn shutdown(
    runner: &dyn Runner,
    vmid: u32,
    seconds: Option<u64>,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let cmd = pct("shutdown", vmid).opt_if("timeout", seconds).opt("forceStop", 1);
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// `pct reboot <vmid> [--timeout <s>]`: a clean stop, killed after the timeout, then a start
/// (pve-container `src/PVE/LXC.pm` `vm_reboot`; `VM <id> not running` when it is stopped).
pub async fn reboot(
    runner: &dyn Runner,
    vmid: u32,
    seconds: Option<u64>,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let cmd = pct("reboot", vmid).opt_if("timeout", seconds);
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// `pct unlock <vmid>`: pve-guest-common `AbstractConfig.pm` `remove_lock`, under the config
/// lock (so it waits for a task still holding it: "can't lock file … got timeout").
pub async fn unlock(runner: &dyn Runner, vmid: u32, timeout: Option<Duration>) -> Result<(), PveError> {
    run(runner, Script::from(pct("unlock", vmid)).with_timeout(timeout)).await.map(|_| ())
}

/// `pct destroy <vmid> --purge`: the container, its volumes and its firewall/backup references.
pub async fn destroy(runner: &dyn Runner, vmid: u32, timeout: Option<Duration>) -> Result<(), PveError> {
    let cmd = pct("destroy", vmid).opt("purge", 1);
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// `pct migrate <vmid> <node> [--restart]`.
pub async fn migrate(
    runner: &dyn Runner,
    vmid: u32,
    target_node: &str,
    restart: bool,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let mut cmd = pct("migrate", vmid).arg(target_node);
    if restart {
        cmd = cmd.opt("restart", 1);
    }
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// `pct clone <vmid> <newid> --full 1 [--snapname] [--hostname] [--storage] [--description]`,
/// from `snapname` when given: pve-container `src/PVE/API2/LXC.pm`
/// `clone_vm` refuses a full clone of a running source without one, on every storage.
#[allow(clippy::too_many_arguments)]
/// What `pct clone` is asked for, besides the source and the new id.
#[derive(Debug, Clone, Default)]
pub struct CloneRequest<'a> {
    /// A snapshot of the source to copy (needed when the source runs).
    pub snapname: Option<&'a str>,
    /// Another node of the cluster to put the clone on (only onto shared storage).
    pub target: Option<&'a str>,
    pub hostname: Option<&'a str>,
    pub storage: Option<&'a str>,
    pub description: Option<&'a str>,
}

/// `pct clone <source> <vmid> --full 1`, run on the source's node (`pct` is node-local).
pub async fn clone(
    runner: &dyn Runner,
    source: u32,
    vmid: u32,
    request: &CloneRequest<'_>,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let CloneRequest { snapname, target, hostname, storage, description } = request.clone();
    let cmd = pct("clone", source)
        .arg(vmid)
        .opt("full", 1)
        .opt_if("snapname", snapname)
        .opt_if("target", target)
        .opt_if("hostname", hostname)
        .opt_if("storage", storage)
        .opt_if("description", description.filter(|d| !d.is_empty()));
    run(runner, Script::from(cmd).with_timeout(timeout)).await.map(|_| ())
}

/// `pct exec <vmid> -- argv…` (pct.pm `exec`: `lxc-attach -n <vmid> --keep-env -- argv…`), every
/// word quoted, `stdin` fed to the command.
fn exec_script(vmid: u32, argv: &[&str], stdin: Option<Vec<u8>>, timeout: Option<Duration>) -> Script {
    let mut cmd = pct("exec", vmid).arg("--");
    for word in argv {
        cmd = cmd.arg(word);
    }
    let mut script = Script::from(cmd).with_timeout(timeout);
    script.summary = format!("pct exec {vmid} -- {}", argv.first().copied().unwrap_or_default());
    if let Some(input) = stdin {
        script = script.with_stdin(input);
    }
    script
}

/// Run `argv` inside the container, feeding `stdin`; a non-zero exit is an error.
pub async fn exec(
    runner: &dyn Runner,
    vmid: u32,
    argv: &[&str],
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
) -> Result<crate::ssh::Output, PveError> {
    run(runner, exec_script(vmid, argv, stdin, timeout)).await
}

/// Run `argv` inside the container to its end, showing its output to `watch` as it arrives;
/// the caller judges the exit status. `pct exec` exits with the command's status (lxc-attach
/// returns it), or non-zero with its own message on stderr — `container '<vmid>' not
/// running!`, a missing configuration — before the command starts.
pub async fn exec_watched(
    runner: &dyn Runner,
    vmid: u32,
    argv: &[&str],
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
    watch: OutputWatch,
) -> Result<crate::ssh::Output, PveError> {
    run_to_end(runner, &exec_script(vmid, argv, stdin, timeout).with_watch(watch)).await
}

/// Set a user's password inside the container: `chpasswd`, the password on stdin only.
pub async fn set_password(
    runner: &dyn Runner,
    vmid: u32,
    user: &str,
    password: &str,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    exec(runner, vmid, &["chpasswd"], Some(format!("{user}:{password}\n").into_bytes()), timeout).await.map(|_| ())
}

/// Replace root's `authorized_keys` inside the container (keys on stdin).
pub async fn set_authorized_keys(
    runner: &dyn Runner,
    vmid: u32,
    keys: &str,
    timeout: Option<Duration>,
) -> Result<(), PveError> {
    let script = "umask 077 && mkdir -p /root/.ssh && cat > /root/.ssh/authorized_keys";
    exec(runner, vmid, &["sh", "-c", script], Some(format!("{}\n", keys.trim_end()).into_bytes()), timeout)
        .await
        .map(|_| ())
}

/// One interface of a running container, as `/nodes/{node}/lxc/{vmid}/interfaces` reports it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    #[serde(default)]
    pub hwaddr: Option<String>,
    #[serde(default)]
    pub inet: Option<String>,
}

/// Addresses of a running container; `None` when it is not running.
pub async fn interfaces(runner: &dyn Runner, node: &str, vmid: u32) -> Result<Option<Vec<Interface>>, PveError> {
    let cmd = Command::new("pvesh")
        .arg("get")
        .arg(format!("/nodes/{node}/lxc/{vmid}/interfaces"))
        .opt("output-format", "json");
    run_json(runner, cmd.into()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_config_reads_into_typed_fields() {
        let file = ConfigFile::parse(
            "#web server\narch: amd64\ncores: 2\nfeatures: nesting=1,keyctl=1\nhostname: web\nmemory: 1024\n\
             net0: name=eth0,bridge=vmbr0,firewall=1,gw=10.0.0.1,hwaddr=BC:24:11:7E:3A:1D,ip=10.0.0.5/24,tag=10,type=veth\n\
             onboot: 1\nostype: debian\nrootfs: local-lvm:vm-100-disk-0,size=8G\nswap: 512\ntags: prod;web\nunprivileged: 1\n",
        );
        let config = ContainerConfig::from_section(&file.current).expect("readable");
        assert_eq!(config.hostname.as_deref(), Some("web"));
        assert_eq!((config.memory, config.swap, config.cores), (Some(1024), Some(512), Some(2)));
        let rootfs = config.rootfs.expect("rootfs");
        assert_eq!((rootfs.storage.as_str(), rootfs.size_gib()), ("local-lvm", Some(8)));
        assert!(config.unprivileged && config.onboot);
        assert!(config.features.nesting && config.features.keyctl && !config.features.fuse);
        assert_eq!(config.tags, vec!["prod", "web"]);
        assert_eq!(config.description.as_deref(), Some("web server\n"));
        let net = &config.networks[0];
        assert_eq!(
            (net.name.as_str(), net.bridge.as_deref(), net.tag, net.firewall),
            ("eth0", Some("vmbr0"), Some(10), true)
        );
        assert_eq!(net.static_ipv4().as_deref(), Some("10.0.0.5"));
        assert_eq!(
            net.to_value(),
            "name=eth0,bridge=vmbr0,firewall=1,gw=10.0.0.1,hwaddr=BC:24:11:7E:3A:1D,ip=10.0.0.5/24,tag=10,type=veth"
        );
    }

    #[test]
    fn pending_values_and_deletions_show_in_the_effective_config() {
        let file =
            ConfigFile::parse("memory: 512\nnameserver: 1.1.1.1\n\n[pve:pending]\ndelete: nameserver\nmemory: 1024\n");
        let effective = effective_section(&file);
        assert_eq!(effective.get("memory"), Some("1024"));
        assert_eq!(effective.get("nameserver"), None);
        // `load_current_config`: pending values first, then deletions (`parse_pending_delete`:
        // any separator, `!` forced) — a value pending for a deleted key is gone too.
        let file = ConfigFile::parse(
            "swap: 512\ncores: 2\nnameserver: 1.1.1.1\n\n[pve:pending]\ncores: 4\ndelete: !swap;nameserver cores\nnameserver: 9.9.9.9\n",
        );
        let effective = effective_section(&file);
        assert_eq!((effective.get("swap"), effective.get("nameserver"), effective.get("cores")), (None, None, None));
    }

    #[test]
    fn values_proxmox_reads_are_read_and_others_fail_loudly() {
        let read = |text: &str| ContainerConfig::from_section(&ConfigFile::parse(text).current);
        // `parse_boolean` in `check_type` and in property strings.
        let config =
            read("onboot: yes\nunprivileged: TRUE\ntemplate: off\nfeatures: nesting=true,keyctl=on\n").expect("read");
        assert!(config.onboot && config.unprivileged && !config.template);
        assert!(config.features.nesting && config.features.keyctl);
        assert_eq!(config.swap, None, "no swap line: state reads 0, as update_lxc_config runs it");
        // A disk grown by 512M (`pct resize +512M`) is 8 whole GiB, not 9.
        let config = read("rootfs: local:100/vm-100-disk-0.raw,size=8704M\n").expect("read");
        let rootfs = config.rootfs.expect("rootfs");
        assert_eq!((rootfs.size_gib(), rootfs.size_bytes), (Some(8), Some(8704 << 20)));
        for (text, names) in [
            ("memory: lots\n", "memory: 'lots' is not a number of MiB"),
            ("onboot: maybe\n", "onboot: 'maybe' is not a boolean"),
            ("features: nesting=2\n", "features: nesting=2 is not a boolean"),
            ("rootfs: local:vm-100-disk-0,size=8g\n", "rootfs: size '8g' is not a size"),
            ("net0: bridge=vmbr0,hwaddr=BC:24:11:00:00:01\n", "net0: no name"),
            ("net0: name=eth0,bridge=vmbr0,tag=5000\n", "net0: tag=5000 is not a VLAN"),
        ] {
            let error = read(text).expect_err(text);
            assert!(error.contains(names), "{text}: {error}");
        }
    }

    #[test]
    fn features_render_only_what_is_enabled() {
        assert_eq!(Features::default().to_value(), None);
        let f = Features { nesting: true, fuse: true, ..Features::default() };
        assert_eq!(f.to_value().as_deref(), Some("fuse=1,nesting=1"));
    }
}
