//! Firewall rules keep every field Proxmox has, through the real terraform CLI over both SSH
//! servers: a hand-written group with `-log`, `-icmp-type`, a macro, a disabled rule and comments
//! is imported whole, a description change leaves every rule line byte-for-byte as it was, and
//! attaching another group to a container keeps the container's own `-i`/`-log` rules and the
//! `-i` of a group already attached. Text Proxmox would trim and `-i` in a group (which
//! pve-firewall's `verify_rule` refuses) are plan-time errors naming the attribute.

mod common;

use common::sim::{squash, text, Server, Sim};
use common::terraform::{provider_block, Workspace, DEBIAN};

const AZ1: &str = "eu-south-1/az1";

/// `[group edge]` as pve-firewall's `$format_rules` writes it (flags in its order), so a save by
/// Proxmox that keeps every field leaves these lines unchanged.
const EDGE_RULES: &str = "IN ACCEPT -source 10.0.0.0/8 -p icmp -log info -icmp-type echo-request # ping\n\
                          |OUT DROP -dest 192.168.0.0/16 -p tcp -dport 25 -sport 1024:65535 -log nolog\n\
                          IN SSH(ACCEPT) -log warning # admins\n";

const EDGE_CONFIG: &str = r#"
  rule {
    direction = "in"
    action    = "ACCEPT"
    source    = "10.0.0.0/8"
    protocol  = "icmp"
    log       = "info"
    icmp_type = "echo-request"
    comment   = "ping"
  }
  rule {
    direction = "out"
    action    = "DROP"
    dest      = "192.168.0.0/16"
    protocol  = "tcp"
    dport     = "25"
    sport     = "1024:65535"
    log       = "nolog"
    enabled   = false
  }
  rule {
    direction = "in"
    action    = "ACCEPT"
    macro     = "SSH"
    log       = "warning"
    comment   = "admins"
  }
"#;

fn edge(description: &str) -> String {
    format!("resource \"lws_security_group\" \"edge\" {{\n  name = \"edge\"\n  description = \"{description}\"\n{EDGE_CONFIG}}}\n")
}

const EXTRA: &str = "resource \"lws_security_group\" \"extra\" {\n  name = \"extra\"\n  rule {\n    direction = \"in\"\n    action = \"DROP\"\n  }\n}\n";

fn web(groups: &str) -> String {
    format!(
        "resource \"lws_container\" \"web\" {{\n  hostname = \"web\"\n  template = \"{DEBIAN}\"\n  security_groups = [{groups}]\n}}\n"
    )
}

/// The rule lines of `[group name]` in cluster.fw.
fn group_lines(sim: &Sim, name: &str) -> String {
    let file = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    let header = format!("[group {name}]");
    let start = file.find(&header).unwrap_or_else(|| panic!("no {header} in:\n{file}"));
    let body = file[start..].split_once("\n\n").map(|(_, rest)| rest).unwrap_or_default();
    body.split("\n\n").next().unwrap_or_default().to_owned() + "\n"
}

fn write_file(sim: &Sim, path: &str, content: &str) {
    let out = sim.ssh_with_input(AZ1, &format!("cat > {path}"), content);
    assert!(out.status.success(), "{out:?}");
}

fn every_rule_field_survives(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    write_file(&sim, "/etc/pve/firewall/cluster.fw", &format!("[group edge] # old\n\n{EDGE_RULES}\n"));

    // Imported whole: the configuration that says every field plans nothing.
    let tf = Workspace::new(&format!("{header}{}", edge("old")));
    tf.ok(&["import", "-input=false", "-no-color", "lws_security_group.edge", "eu-south-1/edge"]);
    let imported = tf.resource("lws_security_group.edge");
    assert_eq!(imported["rule"][0]["icmp_type"], "echo-request", "{imported}");
    assert_eq!(imported["rule"][1]["log"], "nolog", "{imported}");
    assert_eq!(imported["rule"][1]["enabled"], false, "{imported}");
    tf.assert_no_changes();

    // Only the description changes: every rule line stays byte-for-byte.
    tf.write(&format!("{header}{}", edge("edge hosts")));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(group_lines(&sim, "edge"), EDGE_RULES);
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("[group edge] # edge hosts\n"));

    // A container using the group, whose own firewall file an operator then extends by hand:
    // an interface on the attachment, a rule with `-i` and `-log`, and one in the `--flag` form
    // pve-firewall also reads.
    tf.write(&format!("{header}{}{EXTRA}{}", edge("edge hosts"), web("lws_security_group.edge.name")));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    let ct_fw = format!("/etc/pve/firewall/{vmid}.fw");
    write_file(
        &sim,
        &ct_fw,
        "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP edge -i net0 # lan\nIN DROP -i net0 -p udp -dport 53 -log debug\nIN ACCEPT --proto tcp --dport 22\n\n",
    );
    tf.assert_no_changes();

    // Attaching a second group keeps all of it (Proxmox rewrites the `--flag` form its own way).
    tf.write(&format!(
        "{header}{}{EXTRA}{}",
        edge("edge hosts"),
        web("lws_security_group.edge.name, lws_security_group.extra.name")
    ));
    tf.apply();
    tf.assert_no_changes();
    let rules = sim.ok(AZ1, &format!("cat {ct_fw}"));
    let rules = rules.split_once("[RULES]\n\n").map(|(_, r)| r).unwrap_or_default();
    assert_eq!(
        rules,
        "GROUP edge -i net0 # lan\nGROUP extra\nIN DROP -i net0 -p udp -dport 53 -log debug\nIN ACCEPT -p tcp -dport 22\n\n"
    );
}

#[test]
fn every_rule_field_survives_import_and_unrelated_changes_embedded() {
    every_rule_field_survives(Server::Embedded);
}

#[test]
fn every_rule_field_survives_import_and_unrelated_changes_openssh() {
    every_rule_field_survives(Server::OpenSsh);
}

/// What Proxmox would not store as written fails the plan, with the attribute named; a
/// hand-written `-i` in a group (which Proxmox never applies) shows up as a planned removal.
#[test]
fn text_proxmox_would_trim_and_interfaces_in_groups_fail_at_plan() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let bad = "resource \"lws_security_group\" \"bad\" {\n  name = \"bad\"\n  description = \" padded\"\n\
               \x20 rule {\n    direction = \"in\"\n    action = \"ACCEPT\"\n    comment = \"trailing \"\n    iface = \"net0\"\n  }\n\
               \x20 rule {\n    direction = \"in\"\n    action = \"ACCEPT\"\n    protocol = \"tcp\"\n    icmp_type = \"echo-request\"\n    log = \"loud\"\n  }\n}\n";
    let tf = Workspace::new(&format!("{header}{bad}"));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    assert!(!out.status.success());
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    for expected in [
        "invalid description",
        "which Proxmox trims when it reads the firewall file; write 'padded'",
        "invalid rule[0].comment",
        "invalid rule[0].iface",
        "Proxmox does not allow an interface in a security group rule",
        "invalid rule[1].icmp_type",
        "an ICMP type needs protocol = \"icmp\"",
        "invalid rule[1].log",
        "'loud' is not a log level",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }

    write_file(&sim, "/etc/pve/firewall/cluster.fw", "[group lan]\n\nIN DROP -i net0 -p tcp -dport 23\n\n");
    let lan = "resource \"lws_security_group\" \"lan\" {\n  name = \"lan\"\n  rule {\n    direction = \"in\"\n    action = \"DROP\"\n    protocol = \"tcp\"\n    dport = \"23\"\n  }\n}\n";
    tf.write(&format!("{header}{lan}"));
    tf.ok(&["import", "-input=false", "-no-color", "lws_security_group.lan", "eu-south-1/lan"]);
    assert_eq!(tf.resource("lws_security_group.lan")["rule"][0]["iface"], "net0");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("- iface") && plan.contains("\"net0\" -> null"), "{plan}");
}

/// Renaming a group that a container uses: with `create_before_destroy` the new group exists and
/// the container moves to it before the old group is deleted (which Proxmox-side checks would
/// otherwise refuse, the group being still attached).
#[test]
fn renaming_a_used_group_works_with_create_before_destroy() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let group = |name: &str| {
        format!(
            "resource \"lws_security_group\" \"g\" {{\n  name = \"{name}\"\n  rule {{\n    direction = \"in\"\n    action = \"DROP\"\n  }}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
        )
    };
    let tf = Workspace::new(&format!("{header}{}{}", group("old"), web("lws_security_group.g.name")));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    tf.write(&format!("{header}{}{}", group("new"), web("lws_security_group.g.name")));
    tf.apply();
    tf.assert_no_changes();
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    assert!(cluster_fw.contains("[group new]") && !cluster_fw.contains("[group old]"), "{cluster_fw}");
    assert!(sim.ok(AZ1, &format!("cat /etc/pve/firewall/{vmid}.fw")).contains("GROUP new\n"));
}

const OFFICE: &str = "resource \"lws_firewall_alias\" \"office\" {\n  name = \"office\"\n  cidr = \"CIDR\"\n  comment = \"Head office\"\n}\n";

fn admin(source: &str) -> String {
    format!(
        "resource \"lws_security_group\" \"admin\" {{\n  name = \"admin\"\n  rule {{\n    direction = \"in\"\n    action = \"ACCEPT\"\n    macro = \"SSH\"\n    source = {source}\n  }}\n}}\n"
    )
}

/// Aliases: created, named by a rule, changed in place, imported; a rule naming a missing alias
/// is refused as pve-firewall's `verify_rule` refuses it; an alias a rule still names is not
/// deleted (Proxmox would, and then stop applying the rule).
fn aliases_are_managed_and_never_pulled_from_under_a_rule(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let office = |cidr: &str| OFFICE.replace("CIDR", cidr);
    let tf = Workspace::new(&format!("{header}{}{}", office("10.20.0.0/16"), admin("lws_firewall_alias.office.name")));
    tf.apply();
    tf.assert_no_changes();
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    assert!(cluster_fw.contains("[ALIASES]\n\noffice 10.20.0.0/16 # Head office\n"), "{cluster_fw}");
    assert!(cluster_fw.contains("IN SSH(ACCEPT) -source office\n"), "{cluster_fw}");

    // What Proxmox says to a rule naming an alias that does not exist.
    let out = sim.ssh(AZ1, "pvesh create /cluster/firewall/groups/admin --type in --action DROP --source nosuch");
    assert!(!out.status.success() && text(&out).1.contains("no such alias 'nosuch'"), "{out:?}");

    tf.write(&format!("{header}{}{}", office("10.21.0.0/16"), admin("lws_firewall_alias.office.name")));
    let (_, plan) = tf.plan();
    assert!(plan.contains("update in-place") && !plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("office 10.21.0.0/16 # Head office\n"));

    let before = tf.resource("lws_firewall_alias.office");
    tf.ok(&["state", "rm", "lws_firewall_alias.office"]);
    tf.ok(&["import", "-no-color", "lws_firewall_alias.office", "eu-south-1/office"]);
    assert_eq!(tf.resource("lws_firewall_alias.office"), before);
    tf.assert_no_changes();

    // The group keeps naming it by hand: the alias is not deleted.
    tf.write(&format!("{header}{}", admin("\"office\"")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("alias 'office' is still named by rules of security group 'admin'"), "{all}");
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("office 10.21.0.0/16"));

    // A single address with a prefix is refused at plan: Proxmox would store it without one.
    tf.write(&format!("{header}{}{}", office("10.20.0.5/32"), admin("lws_firewall_alias.office.name")));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success() && all.contains("invalid cidr") && all.contains("write '10.20.0.5'"), "{all}");

    // An IP set entry naming it holds it too: Proxmox would skip the entry once it is gone.
    let admins = |cidr: &str| {
        format!("resource \"lws_firewall_ipset\" \"admins\" {{\n  name = \"admins\"\n  entry {{\n    cidr = {cidr}\n  }}\n}}\n")
    };
    tf.write(&format!("{header}{}{}", office("10.21.0.0/16"), admins("lws_firewall_alias.office.name")));
    tf.apply();
    tf.assert_no_changes();
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("[IPSET admins]\n\noffice\n"));
    tf.write(&format!("{header}{}", admins("\"office\"")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success() && all.contains("alias 'office' is still named by IP set 'admins'"), "{all}");
    // A container's alias cannot be named from a datacenter set (Proxmox: "no such alias").
    tf.write(&format!("{header}{}{}", office("10.21.0.0/16"), admins("\"guest/office\"")));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success() && all.contains("write 'office' or 'dc/office'"), "{all}");
    let out = sim.ssh(AZ1, "pvesh create /cluster/firewall/ipset/admins --cidr guest/office");
    assert!(!out.status.success() && text(&out).1.contains("no such alias 'office'"), "{out:?}");

    // Once nothing names it, it goes.
    tf.write(&format!("{header}{}", office("10.21.0.0/16")));
    tf.apply();
    tf.write(&header);
    tf.apply();
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw 2>/dev/null || true");
    assert!(!cluster_fw.contains("office") && !cluster_fw.contains("admin"), "{cluster_fw}");
}

#[test]
fn aliases_are_managed_and_never_pulled_from_under_a_rule_embedded() {
    aliases_are_managed_and_never_pulled_from_under_a_rule(Server::Embedded);
}

#[test]
fn aliases_are_managed_and_never_pulled_from_under_a_rule_openssh() {
    aliases_are_managed_and_never_pulled_from_under_a_rule(Server::OpenSsh);
}

/// A container naming a security group that does not exist fails before anything is created.
#[test]
fn a_missing_security_group_fails_before_the_container_is_created() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}", web("\"doesnotexist\"")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("security_groups: 'doesnotexist' is not in the cluster firewall"), "{all}");
    assert!(!tf.has_resource("lws_container.web"));
    assert_eq!(sim.ok(AZ1, "pct list"), "", "nothing was created");
}

/// A new group with a rule Proxmox refuses (here an alias that does not exist) is not left
/// behind half-made: the group is removed again and nothing is in state.
#[test]
fn a_group_proxmox_refuses_a_rule_of_is_not_left_half_made() {
    let sim = Sim::start(Server::Embedded, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let group = "resource \"lws_security_group\" \"g\" {\n  name = \"half\"\n  rule {\n    direction = \"in\"\n    action = \"ACCEPT\"\n  }\n  rule {\n    direction = \"in\"\n    action = \"DROP\"\n    source = \"nosuchalias\"\n  }\n}\n";
    let tf = Workspace::new(&format!("{header}{group}"));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success());
    assert!(all.contains("no such alias 'nosuchalias'"), "{all}");
    assert!(!tf.has_resource("lws_security_group.g"));
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw 2>/dev/null || true");
    assert!(!cluster_fw.contains("[group half]"), "{cluster_fw}");
}

fn servers(entries: &str) -> String {
    format!("resource \"lws_firewall_ipset\" \"servers\" {{\n  name = \"servers\"\n  comment = \"app servers\"\n{entries}}}\n")
}

fn entry(cidr: &str, extra: &str) -> String {
    format!("  entry {{\n    cidr = \"{cidr}\"\n{extra}  }}\n")
}

fn web_from(source: &str) -> String {
    format!(
        "resource \"lws_security_group\" \"webs\" {{\n  name = \"webs\"\n  rule {{\n    direction = \"in\"\n    action = \"ACCEPT\"\n    protocol = \"tcp\"\n    dport = \"443\"\n    source = {source}\n  }}\n}}\n"
    )
}

/// IP sets: entries added, changed and removed one by one by address (the `{cidr}` of the API
/// path holds its slash), imported, named by rules; a set a rule still names is not deleted.
fn ip_sets_are_managed_entry_by_entry(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let first = [
        entry("10.1.0.0/16", ""),
        entry("10.1.9.0/24", "    nomatch = true\n"),
        entry("192.168.5.5", "    comment = \"db\"\n"),
    ]
    .concat();
    let source = "\"+${lws_firewall_ipset.servers.name}\"";
    let tf = Workspace::new(&format!("{header}{}{}", servers(&first), web_from(source)));
    tf.apply();
    tf.assert_no_changes();
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    assert!(
        cluster_fw.contains("[IPSET servers] # app servers\n\n10.1.0.0/16\n!10.1.9.0/24\n192.168.5.5 # db\n"),
        "{cluster_fw}"
    );
    assert!(cluster_fw.contains("IN ACCEPT -source +servers -p tcp -dport 443"), "{cluster_fw}");

    let second = [
        entry("10.1.9.0/24", "    nomatch = true\n"),
        entry("192.168.5.5", "    comment = \"primary db\"\n"),
        entry("fd00::/64", ""),
    ]
    .concat();
    tf.write(&format!("{header}{}{}", servers(&second), web_from(source)));
    let (_, plan) = tf.plan();
    assert!(plan.contains("update in-place") && !plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw");
    assert!(
        cluster_fw.contains("[IPSET servers] # app servers\n\n!10.1.9.0/24\n192.168.5.5 # primary db\nfd00::/64\n"),
        "{cluster_fw}"
    );

    let before = tf.resource("lws_firewall_ipset.servers");
    tf.ok(&["state", "rm", "lws_firewall_ipset.servers"]);
    tf.ok(&["import", "-no-color", "lws_firewall_ipset.servers", "eu-south-1/servers"]);
    assert_eq!(tf.resource("lws_firewall_ipset.servers"), before);
    tf.assert_no_changes();

    let out = sim.ssh(AZ1, "pvesh create /cluster/firewall/groups/webs --type in --action DROP --source +nosuch");
    assert!(!out.status.success() && text(&out).1.contains("no such ipset 'nosuch'"), "{out:?}");

    // Proxmox clears a network's host bits and writes IPv6 in lowercase, compressed
    // (`clean_cidr`): entries written otherwise are refused at plan, with the stored form.
    let uncleaned = [entry("10.1.2.3/16", ""), entry("FD00:0:0::/64", "")].concat();
    tf.write(&format!("{header}{}{}", servers(&uncleaned), web_from(source)));
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(!out.status.success() && all.contains("write '10.1.0.0/16'") && all.contains("write 'fd00::/64'"), "{all}");
    sim.ok(AZ1, "pvesh create /cluster/firewall/ipset/servers --cidr 10.7.2.3/16");
    assert!(sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw").contains("\n!10.1.9.0/24\n10.7.0.0/16\n"));
    sim.ok(AZ1, "pvesh delete /cluster/firewall/ipset/servers/10.7.0.0/16");
    sim.ok(AZ1, "pvesh delete /cluster/firewall/ipset/servers/10.7.0.0/16"); // nothing left: no error
    tf.write(&format!("{header}{}{}", servers(&second), web_from(source)));
    tf.assert_no_changes();

    // Named by hand in the group: the set is not deleted.
    tf.write(&format!("{header}{}", web_from("\"+servers\"")));
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let all = squash(&format!("{}{}", text(&out).0, text(&out).1));
    assert!(
        !out.status.success() && all.contains("IP set 'servers' is still named by rules of security group 'webs'"),
        "{all}"
    );
    tf.write(&format!("{header}{}", servers(&second)));
    tf.apply();
    tf.write(&header);
    tf.apply();
    let cluster_fw = sim.ok(AZ1, "cat /etc/pve/firewall/cluster.fw 2>/dev/null || true");
    assert!(!cluster_fw.contains("servers"), "{cluster_fw}");
}

#[test]
fn ip_sets_are_managed_entry_by_entry_embedded() {
    ip_sets_are_managed_entry_by_entry(Server::Embedded);
}

#[test]
fn ip_sets_are_managed_entry_by_entry_openssh() {
    ip_sets_are_managed_entry_by_entry(Server::OpenSsh);
}

/// Rules are edited by position: another client adding a rule between the provider's read and
/// its edit would shift every position. The edit carries the list's digest, Proxmox refuses it
/// (`detected modified configuration`), and the provider plans again from the new list, keeping
/// the other client's rule whole.
fn a_rule_added_by_another_client_mid_edit_is_kept(server: Server) {
    let sim = Sim::start(server, &[AZ1], &[]);
    let header = provider_block(&sim.config_file(), "eu-south-1");
    let tf = Workspace::new(&format!("{header}{}{EXTRA}{}", edge("e"), web("lws_security_group.edge.name")));
    tf.apply();
    let vmid = tf.resource("lws_container.web")["vmid"].as_u64().expect("vmid");
    let rule_lists = || {
        sim.log()
            .iter()
            .filter(|e| e["kind"] == "tool" && e["argv"][0] == "pvesh" && e["argv"][1] == "get")
            .filter(|e| e["argv"][2].as_str().is_some_and(|p| p.ends_with("/firewall/rules")))
            .count()
    };
    let lists_before = rule_lists();

    // `extra` goes first: an update of position 0, which another client's insert would shift.
    sim.arm(&format!(r#"{{"edit-rules": ["pvesh set /nodes/az1/lxc/{vmid}/firewall/rules/0"]}}"#));
    tf.write(&format!(
        "{header}{}{EXTRA}{}",
        edge("e"),
        web("lws_security_group.extra.name, lws_security_group.edge.name")
    ));
    tf.apply();
    assert!(sim.faults_fired(), "the other client's edit happened");
    assert_eq!(rule_lists() - lists_before, 2, "listed, refused by the digest, listed again");
    let file = sim.ok(AZ1, &format!("cat /etc/pve/firewall/{vmid}.fw"));
    let rules = file.split_once("[RULES]\n\n").map(|(_, r)| r).unwrap_or_default();
    assert_eq!(rules, "GROUP extra\nGROUP edge\n|IN ACCEPT -p tcp -dport 2222 # added by another client\n\n", "{file}");
    tf.assert_no_changes();
}

#[test]
fn a_rule_added_by_another_client_mid_edit_is_kept_embedded() {
    a_rule_added_by_another_client_mid_edit_is_kept(Server::Embedded);
}

#[test]
fn a_rule_added_by_another_client_mid_edit_is_kept_openssh() {
    a_rule_added_by_another_client_mid_edit_is_kept(Server::OpenSsh);
}
