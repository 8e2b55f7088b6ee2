//! What LXC's own C tools print about containers: `lxc-info` (one container's state and
//! addresses) and `lxc-ls` (every running container of a node in one process). Proxmox runs its
//! containers through LXC, so these are the node's live view, with none of the up-to-10 s lag of
//! `/cluster/resources` (pve-manager `PVE/API2Tools.pm` `extract_vm_stats` takes a guest's status
//! from the RRD data `PVE/Service/pvestatd.pm` refreshes every 10 s).
//!
//! Anything these parsers do not recognise is an error quoting the text, never "stopped".

/// A container's power state as LXC reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LxcState {
    Running,
    Stopped,
}

/// `lxc-info -n <vmid> -s -i -H`, with the tool's exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LxcInfo {
    pub state: LxcState,
    /// `IP:` lines, in LXC's order (only while running).
    pub addresses: Vec<String>,
}

/// LXC's state names (lxc `src/lxc/state.c` `strstate`). A container is running in every state
/// but `STOPPED` (lxc `src/lxc/lxccontainer.c` `do_lxcapi_is_running` is `!is_stopped(c)`).
fn state_from_name(name: &str) -> Option<LxcState> {
    match name {
        "STOPPED" => Some(LxcState::Stopped),
        "STARTING" | "RUNNING" | "STOPPING" | "ABORTING" | "FREEZING" | "FROZEN" | "THAWED" => Some(LxcState::Running),
        _ => None,
    }
}

/// Read `lxc-info -n <vmid> -s -i -H` (stdout and stderr together) that exited with `exit`.
///
/// With two filters (`-s`, `-i`) `lxc-info` prints `key value` lines even with `-H`: lxc
/// `src/lxc/tools/lxc_info.c` `print_info_msg_str` prints the bare value only when
/// `filter_count == 1`, otherwise `printf("%-15s %s\n", key, value)` — `State:          RUNNING`,
/// then one `IP:` line per address while running. A container LXC has never seen on this node
/// (Proxmox writes `/var/lib/lxc/<vmid>/config` only when it starts one) makes `main` print
/// `<name> doesn't exist` on stderr and exit 1: it is not running.
pub fn parse_lxc_info(vmid: u32, exit: i32, text: &str) -> Result<LxcInfo, String> {
    let quoted = || format!("`lxc-info -n {vmid} -s -i -H` exited {exit} and printed {:?}", text.trim_end());
    if exit != 0 {
        return if text.trim() == format!("{vmid} doesn't exist") {
            Ok(LxcInfo { state: LxcState::Stopped, addresses: Vec::new() })
        } else {
            Err(quoted())
        };
    }
    let mut state = None;
    let mut addresses = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line.split_once(char::is_whitespace).ok_or_else(quoted)?;
        let value = value.trim();
        match key {
            "State:" => state = Some(state_from_name(value).ok_or_else(quoted)?),
            "IP:" if !value.is_empty() => addresses.push(value.to_owned()),
            _ => return Err(quoted()),
        }
    }
    let state = state.ok_or_else(quoted)?;
    Ok(LxcInfo { state, addresses })
}

/// Read `lxc-ls -1 --running` (stdout and stderr together) that exited with `exit`: the names of
/// the running containers, one per line (lxc `src/lxc/tools/lxc_ls.c` `ls_print_names` with
/// `--line`); nothing at all when none runs. On Proxmox a container's LXC name is its VMID; a
/// container LXC runs outside Proxmox has another name and is no concern of ours. A line with
/// spaces is no container name (LXC names have none): it is an error quoting the text.
pub fn parse_lxc_ls_running(exit: i32, text: &str) -> Result<Vec<u32>, String> {
    let quoted = || format!("`lxc-ls -1 --running` exited {exit} and printed {:?}", text.trim_end());
    if exit != 0 {
        return Err(quoted());
    }
    let mut vmids = Vec::new();
    for name in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if name.contains(char::is_whitespace) {
            return Err(quoted());
        }
        vmids.extend(name.parse::<u32>().ok());
    }
    Ok(vmids)
}

/// `uname`'s node name as Proxmox names nodes: the domain stripped (pve-common
/// `src/PVE/INotify.pm` `nodename`).
pub fn node_name(hostname: &str) -> &str {
    let hostname = hostname.trim();
    hostname.split('.').next().unwrap_or(hostname)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pve");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
    }

    #[test]
    fn two_filters_print_key_value_lines_not_bare_values() {
        let info =
            parse_lxc_info(100, 0, "State:          RUNNING\nIP:             10.0.0.5\nIP:             fd00::5\n")
                .expect("parses");
        assert_eq!(info.state, LxcState::Running);
        assert_eq!(info.addresses, ["10.0.0.5", "fd00::5"]);
        let stopped = parse_lxc_info(100, 0, "State:          STOPPED\n").expect("parses");
        assert_eq!(stopped, LxcInfo { state: LxcState::Stopped, addresses: vec![] });
    }

    #[test]
    fn the_captured_lxc_info_samples_parse() {
        let running = parse_lxc_info(100, 0, &fixture("lxc-info/state-ip-H.running.txt")).expect("parses");
        assert_eq!(running.state, LxcState::Running);
        let stopped = parse_lxc_info(101, 0, &fixture("lxc-info/state-ip-H.stopped.txt")).expect("parses");
        assert_eq!(stopped.state, LxcState::Stopped);
        let never = parse_lxc_info(102, 1, &fixture("lxc-info/never-started.stderr.txt")).expect("parses");
        assert_eq!(never.state, LxcState::Stopped);
        assert!(parse_lxc_info(100, 0, &fixture("lxc-info/state-H.running.txt")).is_err(), "one filter's bare value");
        assert_eq!(parse_lxc_ls_running(0, &fixture("lxc-ls/line-running.txt")).expect("parses"), [100]);
        assert!(parse_lxc_ls_running(0, &fixture("lxc-ls/line-running.none.txt")).expect("parses").is_empty());
    }

    #[test]
    fn a_bare_state_or_an_unknown_state_is_an_error_quoting_the_text() {
        let bare = parse_lxc_info(100, 0, "RUNNING\n").expect_err("bare value is one filter's output");
        assert!(bare.contains("\"RUNNING\""), "{bare}");
        assert!(parse_lxc_info(100, 0, "State:          SLEEPING\n").is_err());
        assert!(parse_lxc_info(100, 0, "").is_err(), "no state line");
        assert!(parse_lxc_info(100, 0, "IP:             10.0.0.5\n").is_err(), "no state line");
    }

    #[test]
    fn a_container_lxc_never_saw_is_stopped_but_other_failures_are_errors() {
        let never = parse_lxc_info(100, 1, "100 doesn't exist\n").expect("known text");
        assert_eq!(never.state, LxcState::Stopped);
        let other = parse_lxc_info(100, 1, "Failed to load config for 100\n").expect_err("unknown failure");
        assert!(other.contains("Failed to load config"), "{other}");
        assert!(parse_lxc_info(100, 1, "101 doesn't exist\n").is_err(), "another container's name");
    }

    #[test]
    fn lxc_ls_lists_running_vmids_one_per_line() {
        assert_eq!(parse_lxc_ls_running(0, "100\n105\n").expect("parses"), [100, 105]);
        assert_eq!(parse_lxc_ls_running(0, "").expect("none running prints nothing"), Vec::<u32>::new());
        assert!(parse_lxc_ls_running(0, "NAME STATE\n").is_err(), "a fancy table is not the -1 format");
        assert_eq!(parse_lxc_ls_running(0, "100\nbuilder\n").expect("parses"), [100], "not Proxmox's");
        assert!(parse_lxc_ls_running(1, "").is_err());
    }

    #[test]
    fn node_names_drop_the_domain() {
        assert_eq!(node_name("pve1.example.com\n"), "pve1");
        assert_eq!(node_name("pve1"), "pve1");
    }
}
