//! `lws_firewall_ipset`: a named set of addresses and networks of a region's cluster firewall
//! (`cluster.fw` `[IPSET name]`), usable as `source`/`dest` of any rule (`+name`, `+dc/name`).
//! Entries are a set keyed by their address: added, changed (`nomatch`, `comment`) and removed
//! one by one. Import `<region>/<name>`.
//!
//! As with aliases, Proxmox deletes a set without looking at the rules that name it, and such a
//! rule then has an error and is skipped: a delete is refused while a rule names the set.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::{cluster_host, import_target, object_id, plan_region, renamed_or_moved};
use crate::cloud::{Host, Shared};
use crate::pve::firewall::{
    add_ipset_entry, create_ipset, delete_ipset, delete_ipset_entry, run_all, set_ipset_comment, set_ipset_entry,
};
use crate::pve::firewall_file::{check_free_text, clean_cidr, parse_ip_or_cidr, IpSetEntry, Rule};
use crate::pve::firewall_rule::is_fw_name;
use crate::pve::inventory::Inventory;
use crate::pve::Command;
use crate::tf::identity::{Identity, Part, REGION};
use crate::tf::schema::{attributes, bool as boolean, computed, optional, optional_computed, required, string};
use crate::tf::{error_at, known, path, Set};

/// The identity (protocol 6.9): the parts of `id`, the import id.
const IDENTITY: Identity =
    Identity(&[REGION, Part { name: "name", number: false, description: "Name of the IP set." }]);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(default)]
pub struct EntryState {
    pub cidr: Value<String>,
    pub nomatch: Value<bool>,
    pub comment: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FirewallIpsetState {
    pub id: Value<String>,
    pub region: Value<String>,
    pub name: Value<String>,
    pub comment: Value<String>,
    pub entry: Set<EntryState>,
}

pub struct FirewallIpsetResource {
    shared: Arc<Shared>,
}

impl FirewallIpsetResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        FirewallIpsetResource { shared }
    }
}

/// `[a-z][a-z0-9_-]+`, 2 to 64 characters: pve-firewall's `$ipset_name_pattern` in the case
/// the set reads back in (the parser lowercases names).
fn check_name(name: &str) -> Result<(), String> {
    if !is_fw_name(name) || name.chars().any(|c| c.is_ascii_uppercase()) || name.len() > 64 {
        return Err(format!(
            "'{name}' must be 2 to 64 characters: a lowercase letter, then lowercase letters, digits, '-' or '_' (Proxmox reads set names back lowercased)"
        ));
    }
    Ok(())
}

/// An entry as `create_ip` stores it: an address or network as `clean_cidr` and
/// `parse_ip_or_cidr` leave it (host bits cleared, IPv6 lowercase and compressed, no `/32`,
/// `/128`), never a zero prefix; or an alias (`name`, `dc/name`). `guest/name` never resolves
/// in a cluster set: `ClusterIPset::load_config` gives `resolve_alias` no guest file, and it
/// looks in the cluster's only for other scopes ("no such alias").
fn check_cidr(cidr: &str) -> Result<(), String> {
    if let Some(alias) = cidr.strip_prefix("guest/").filter(|a| is_fw_name(a)) {
        return Err(format!(
            "'guest/{alias}' names a container's alias, which a datacenter IP set cannot use; write '{alias}' or 'dc/{alias}'"
        ));
    }
    let alias = cidr.strip_prefix("dc/").unwrap_or(cidr);
    if is_fw_name(alias) {
        return Ok(());
    }
    match clean_cidr(cidr).and_then(|clean| parse_ip_or_cidr(&clean)) {
        None => Err(format!("'{cidr}' is not an address, a network or an alias")),
        Some(stored) if stored != cidr => Err(format!("Proxmox stores '{cidr}' as '{stored}'; write '{stored}'")),
        Some(_) if cidr.rsplit_once('/').is_some_and(|(_, p)| p.bytes().all(|b| b == b'0')) => {
            Err("a zero prefix is not allowed in an IP set".to_owned())
        }
        Some(_) => Ok(()),
    }
}

fn entries_of(state: &FirewallIpsetState) -> Vec<IpSetEntry> {
    let mut entries: Vec<IpSetEntry> = match &state.entry {
        Value::Value(set) => set
            .iter()
            .filter_map(|e| match e {
                Value::Value(e) => Some(IpSetEntry {
                    cidr: known(&e.cidr)?,
                    nomatch: known(&e.nomatch).unwrap_or(false),
                    comment: known(&e.comment).filter(|c| !c.is_empty()),
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    entries.sort_by(|a, b| a.cidr.cmp(&b.cidr));
    entries
}

/// Whether a rule names set `name` (`+name`, `+dc/name`).
fn names_set(rule: &Rule, name: &str) -> bool {
    [&rule.source, &rule.dest].into_iter().flatten().any(|value| {
        let Some(set) = value.strip_prefix('+') else { return false };
        set.strip_prefix("dc/").unwrap_or(set).eq_ignore_ascii_case(name)
    })
}

fn users_of(inventory: &Inventory, name: &str) -> Vec<String> {
    inventory.rules_using(|rule| names_set(rule, name))
}

async fn read(host: &Host, region: &str, name: &str) -> Result<Option<FirewallIpsetState>, String> {
    let inventory = host.inventory().await.map_err(|e| e.to_string())?;
    let Some(set) = inventory.cluster_firewall.ipsets.get(name) else { return Ok(None) };
    let entries: BTreeSet<Value<EntryState>> = set
        .entries
        .iter()
        .map(|e| {
            Value::Value(EntryState {
                cidr: Value::Value(e.cidr.clone()),
                nomatch: Value::Value(e.nomatch),
                comment: e.comment.clone().map(Value::Value).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Some(FirewallIpsetState {
        id: Value::Value(format!("{region}/{name}")),
        region: Value::Value(region.to_owned()),
        name: Value::Value(name.to_owned()),
        comment: set.comment.clone().map(Value::Value).unwrap_or(Value::Null),
        entry: Value::Value(entries),
    }))
}

/// Commands turning entries `current` into `wanted` (both sorted by address).
fn reconcile(name: &str, current: &[IpSetEntry], wanted: &[IpSetEntry]) -> Vec<Command> {
    let mut commands = Vec::new();
    for have in current.iter().filter(|h| !wanted.iter().any(|w| w.cidr == h.cidr)) {
        commands.push(delete_ipset_entry(name, &have.cidr));
    }
    for want in wanted {
        match current.iter().find(|h| h.cidr == want.cidr) {
            None => commands.push(add_ipset_entry(name, &want.cidr, want.nomatch, want.comment.as_deref())),
            Some(have) if have != want => {
                commands.push(set_ipset_entry(name, &want.cidr, want.nomatch, want.comment.as_deref()))
            }
            Some(_) => {}
        }
    }
    commands
}

impl FirewallIpsetResource {
    fn host(&self, state: &FirewallIpsetState, diags: &mut Diagnostics) -> Option<(Arc<Host>, String, String)> {
        let cloud = self.shared.cloud(diags)?;
        let (region, name) = (known(&state.region)?, known(&state.name)?);
        Some((cluster_host(&cloud, &region, diags)?, region, name))
    }

    async fn converge(
        &self,
        planned: &FirewallIpsetState,
        exists: bool,
        diags: &mut Diagnostics,
    ) -> Option<FirewallIpsetState> {
        let (host, region, name) = self.host(planned, diags)?;
        host.invalidate().await;
        let inventory = match host.inventory().await {
            Ok(i) => i,
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e.to_string());
                return None;
            }
        };
        let current = inventory.cluster_firewall.ipsets.get(&name).cloned().unwrap_or_default();
        let comment = known(&planned.comment).filter(|c| !c.is_empty());
        let mut commands = Vec::new();
        if !exists {
            commands.push(create_ipset(&name, comment.as_deref()));
        } else if current.comment != comment {
            commands.push(set_ipset_comment(&name, comment.as_deref()));
        }
        let mut have = current.entries.clone();
        have.sort_by(|a, b| a.cidr.cmp(&b.cidr));
        commands.extend(reconcile(&name, &have, &entries_of(planned)));
        let result = run_all(host.as_ref(), &format!("IP set {name}"), &commands).await;
        host.invalidate().await;
        if let Err(e) = result {
            diags.root_error(format!("configuring IP set '{name}' failed"), e.to_string());
            // A new set Proxmox refused an entry of is taken back whole.
            if !exists {
                let removed =
                    run_all(host.as_ref(), &format!("remove half-made IP set {name}"), &[delete_ipset(&name)]).await;
                host.invalidate().await;
                if removed.is_ok() {
                    return None;
                }
            }
        }
        match read(&host, &region, &name).await {
            Ok(found) => found,
            Err(e) => {
                diags.root_error("cannot read the IP set back", e);
                None
            }
        }
    }
}

#[async_trait]
impl Resource for FirewallIpsetResource {
    type State<'a> = FirewallIpsetState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let entry = Block {
            version: 1,
            description: Description::markdown("One address, network or alias of the set."),
            attributes: attributes(vec![
                ("cidr", required(string(), "Address (`10.0.0.5`), network (`10.0.0.0/24`) or alias (`office`, `dc/office`); the key of the entry.")),
                ("nomatch", optional_computed(boolean(), "Exclude this network from the set (default `false`).")),
                ("comment", optional(string(), "Comment: one line, without leading or trailing spaces.")),
            ]),
            ..Block::default()
        };
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "A named set of addresses and networks of a region's cluster firewall (Datacenter → Firewall → IPSet). Rules name it in `source` or `dest` as `+<name>` or `+dc/<name>`. Entries are reconciled one by one. Deleting a set a rule still names is refused, naming the rules: Proxmox would delete it and stop applying them.",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<name>`.")),
                    ("region", optional_computed(string(), "Region (default: the provider's). Changing it replaces the set.")),
                    ("name", required(string(), "Set name: 2 to 64 characters, a lowercase letter, then lowercase letters, digits, `-` or `_`. Changing it replaces the set.")),
                    ("comment", optional(string(), "Comment: one line, without leading or trailing spaces.")),
                ]),
                blocks: [("entry".to_owned(), NestedBlock::Set(entry))].into_iter().collect(),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(name) = known(&config.name) {
            if let Err(e) = check_name(&name) {
                error_at(diags, path(&["name"]), "invalid IP set name", e);
            }
        }
        if let Some(comment) = known(&config.comment) {
            if let Err(e) = check_free_text(&comment) {
                error_at(diags, path(&["comment"]), "invalid comment", format!("the comment {e}"));
            }
        }
        if let Value::Value(entries) = &config.entry {
            for entry in entries.iter().filter_map(|e| match e {
                Value::Value(e) => Some(e),
                _ => None,
            }) {
                if let Some(cidr) = known(&entry.cidr) {
                    if let Err(e) = check_cidr(&cidr) {
                        error_at(diags, path(&["entry"]), format!("invalid entry {cidr}"), e);
                    }
                }
                if let Some(comment) = known(&entry.comment) {
                    if let Err(e) = check_free_text(&comment) {
                        error_at(diags, path(&["entry"]), "invalid entry comment", format!("the comment {e}"));
                    }
                }
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some((host, region, name)) = self.host(&state, diags) else { return Some((state, private)) };
        match read(&host, &region, &name).await {
            Ok(found) => found.map(|s| (s, private)),
            Err(e) => {
                diags.root_error(format!("cannot read IP set '{name}'"), e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let mut planned = proposed;
        plan_region(&cloud, &mut planned.region, diags)?;
        if let Value::Value(entries) = &planned.entry {
            let defaulted: BTreeSet<Value<EntryState>> = entries
                .iter()
                .map(|e| match e {
                    Value::Value(e) if e.nomatch.is_null() => {
                        Value::Value(EntryState { nomatch: Value::Value(false), ..e.clone() })
                    }
                    other => other.clone(),
                })
                .collect();
            planned.entry = Value::Value(defaulted);
        }
        planned.id = object_id(&planned.region, &planned.name);
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let (planned, _) = self.plan_create(diags, proposed, config, meta).await?;
        let replace = renamed_or_moved((&prior.region, &prior.name), (&planned.region, &planned.name));
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        self.converge(&planned, false, diags).await.map(|s| (s, private))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        self.converge(&planned, true, diags).await.map(|s| (s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let (host, _, name) = self.host(&prior, diags)?;
        host.invalidate().await;
        let inventory = match host.inventory().await {
            Ok(i) => i,
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e.to_string());
                return Some(());
            }
        };
        if !inventory.cluster_firewall.ipsets.contains_key(&name) {
            return Some(());
        }
        let users = users_of(&inventory, &name);
        if !users.is_empty() {
            diags.root_error(
                format!("IP set '{name}' is still named by rules of {}", users.join(", ")),
                "Proxmox would delete it and then stop applying those rules (a rule naming a missing IP set has an error and is skipped). Change those rules first.",
            );
            return Some(());
        }
        if let Err(e) = run_all(host.as_ref(), &format!("delete IP set {name}"), &[delete_ipset(&name)]).await {
            diags.root_error(format!("deleting IP set '{name}' failed"), e.to_string());
        }
        host.invalidate().await;
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let (host, region, name) = import_target(&cloud, &id, "eu-south-1/servers", diags)?;
        let (region, name) = (region.as_str(), name.as_str());
        match read(&host, region, &name.to_lowercase()).await {
            Ok(Some(state)) => Some((state, ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("no IP set '{name}' in region {region}"), "");
                None
            }
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cidr: &str, nomatch: bool, comment: Option<&str>) -> IpSetEntry {
        IpSetEntry { cidr: cidr.into(), nomatch, comment: comment.map(Into::into) }
    }

    #[test]
    fn entries_are_added_changed_and_removed_by_address() {
        let current = [entry("10.0.0.0/8", false, None), entry("192.168.1.5", false, Some("old"))];
        let wanted = [entry("172.16.0.0/12", true, None), entry("192.168.1.5", false, Some("new"))];
        let rendered: Vec<String> = reconcile("servers", &current, &wanted).iter().map(Command::render).collect();
        assert_eq!(
            rendered,
            [
                "pvesh delete /cluster/firewall/ipset/servers/10.0.0.0/8",
                "pvesh create /cluster/firewall/ipset/servers --cidr 172.16.0.0/12 --nomatch 1",
                "pvesh set /cluster/firewall/ipset/servers/192.168.1.5 --nomatch 0 --comment new",
            ]
        );
    }

    #[test]
    fn entries_are_written_as_proxmox_stores_them() {
        assert!(check_cidr("10.0.0.0/8").is_ok());
        assert!(check_cidr("dc/office").is_ok());
        assert!(check_cidr("10.0.0.5/32").unwrap_err().contains("write '10.0.0.5'"));
        assert!(check_cidr("0.0.0.0/0").unwrap_err().contains("zero prefix"));
        assert!(check_cidr("10.0.0.5/24").unwrap_err().contains("write '10.0.0.0/24'"));
        assert!(check_cidr("FD00::/64").unwrap_err().contains("write 'fd00::/64'"));
        assert!(check_cidr("10.0.0.0/33").unwrap_err().contains("not an address"));
        assert!(check_cidr("guest/office").unwrap_err().contains("write 'office' or 'dc/office'"));
        assert!(check_name("Servers").is_err());
    }
}
