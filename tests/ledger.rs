//! The fidelity ledger (`docs/proxmox-commands.md`) as the harness reads it. Every end-to-end test
//! checks the provider's commands against it when its simulator stops (`common::sim::Sim`).

mod common;

use common::ledger::{parse, rows, unlisted};
use serde_json::json;

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn rows_admit_their_commands_with_listed_flags_only() {
    let rows = parse(
        "# x\n## Commands\n| command | flags | p | s | sim |\n|---|---|---|---|---|\n\
         | `pct set <vmid>` | `--memory` `--delete` | | | |\n\
         | `pvesh set /nodes/<node>/lxc/<vmid>/firewall/rules/<pos>` | `--comment` | | | |\n\
         | `lxc-ls` | `-1` `--running` | | | |\n## Files\n| `tail` | `-v` | | | |\n",
    );
    assert_eq!(rows.len(), 3);
    assert!(rows[0].admits(&words("pct set 100 --memory 512")));
    assert!(!rows[0].admits(&words("pct set 100 --cores 2")));
    assert!(rows[1].admits(&words("pvesh set /nodes/pve1/lxc/100/firewall/rules/0 --comment x")));
    assert!(!rows[1].admits(&words("pvesh set /nodes/pve1/lxc/100/firewall/options --comment x")));
    assert!(rows[2].admits(&words("lxc-ls -1 --running")));
    assert!(!rows.iter().any(|r| r.admits(&words("tail -v"))), "only the Commands table counts");
}

#[test]
fn a_last_rest_placeholder_takes_the_rest_of_the_path() {
    let rows = parse(
        "# x\n## Commands\n| c | f | p | s | sim |\n|---|---|---|---|---|\n\
         | `pvesh delete /cluster/firewall/ipset/<name>/<cidr...>` | — | | | |\n\
         | `pvesh delete /cluster/firewall/groups/<group>/<pos>` | — | | | |\n",
    );
    assert!(rows[0].admits(&words("pvesh delete /cluster/firewall/ipset/office/10.0.0.0/8")));
    assert!(rows[0].admits(&words("pvesh delete /cluster/firewall/ipset/office/10.0.0.5")));
    assert!(!rows[0].admits(&words("pvesh delete /cluster/firewall/ipset/office")));
    assert!(!rows[1].admits(&words("pvesh delete /cluster/firewall/groups/web/0/1")), "<pos> is one segment");
}

#[test]
fn a_tool_run_the_ledger_does_not_list_is_reported_unless_a_test_ran_it() {
    let log = vec![
        json!({"kind": "tool", "argv": ["pct", "frobnicate", "100"]}),
        json!({"kind": "tool", "argv": ["pct", "frobnicate", "101"], "actor": "test"}),
        json!({"kind": "ssh", "command": "pct frobnicate 102"}),
    ];
    assert_eq!(unlisted(&log, &rows()), ["pct frobnicate 100"]);
}

#[test]
fn the_ledger_lists_every_tool_the_provider_runs() {
    let rows = rows();
    for tool in ["pct", "pvesh", "pvecm", "pveam", "pveversion", "lxc-info", "lxc-ls", "hostname"] {
        assert!(rows.iter().any(|r| r.pattern[0] == tool), "no ledger row for {tool}");
    }
}
