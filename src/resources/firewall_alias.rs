//! `lws_firewall_alias`: a named IP address or network of a region's cluster firewall
//! (`cluster.fw` `[ALIASES]`), usable as `source`/`dest` of any rule (`office`, `dc/office`).
//! Import `<region>/<name>`.
//!
//! Proxmox deletes or renames an alias without looking at the rules that name it; such a rule
//! then has an error and pve-firewall stops applying it (`verify_rule`: "no such alias", rules
//! with errors are skipped). So a delete, or a rename (which replaces), is refused while a rule
//! names the alias, and the error lists those rules.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::{cluster_host, import_target, object_id, plan_region, renamed_or_moved};
use crate::cloud::Host;
use crate::cloud::Shared;
use crate::pve::firewall::{create_alias, delete_alias, run_all, set_alias};
use crate::pve::firewall_file::{check_free_text, parse_ip_or_cidr, Rule};
use crate::pve::firewall_rule::is_fw_name;
use crate::pve::inventory::Inventory;
use crate::tf::identity::{Identity, Part, REGION};
use crate::tf::schema::{attributes, computed, optional, optional_computed, required, string};
use crate::tf::{error_at, known, path};

/// The identity (protocol 6.9): the parts of `id`, the import id.
const IDENTITY: Identity = Identity(&[REGION, Part { name: "name", number: false, description: "Name of the alias." }]);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FirewallAliasState {
    pub id: Value<String>,
    pub region: Value<String>,
    pub name: Value<String>,
    pub cidr: Value<String>,
    pub comment: Value<String>,
}

pub struct FirewallAliasResource {
    shared: Arc<Shared>,
}

impl FirewallAliasResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        FirewallAliasResource { shared }
    }
}

/// pve-firewall `$ip_alias_pattern` `[A-Za-z][A-Za-z0-9\-\_]+`, at most 64 characters
/// (`$max_alias_name_length`).
fn check_name(name: &str) -> Result<(), String> {
    if !is_fw_name(name) || name.len() > 64 {
        return Err(format!("'{name}' must be 2 to 64 characters: a letter, then letters, digits, '-' or '_'"));
    }
    Ok(())
}

/// An address or network Proxmox stores as written (`parse_ip_or_cidr` drops `/32`, `/128`).
fn check_cidr(cidr: &str) -> Result<(), String> {
    match parse_ip_or_cidr(cidr) {
        None => Err(format!("'{cidr}' is not an IP address or CIDR network (e.g. 10.0.0.5 or 10.0.0.0/24)")),
        Some(stored) if stored != cidr => {
            Err(format!("Proxmox stores '{cidr}' as '{stored}' (a single address has no prefix); write '{stored}'"))
        }
        Some(_) => {
            let (address, prefix) = cidr.split_once('/').unwrap_or((cidr, ""));
            let max = if address.contains(':') { 128 } else { 32 };
            match prefix.parse::<u8>() {
                Ok(p) if p > max => Err(format!("'{cidr}': the prefix length is at most {max}")),
                _ => Ok(()),
            }
        }
    }
}

/// Whether `value` (a rule's `source`/`dest`, an IP set entry) names alias `name`: `name` or
/// `dc/name`, any case (`resolve_alias` lowercases).
fn names_alias(value: &str, name: &str) -> bool {
    value.strip_prefix("dc/").unwrap_or(value).eq_ignore_ascii_case(name)
}

/// Every rule and IP set of the cluster that names alias `name`, described for an error
/// message. An entry naming a missing alias is skipped when Proxmox builds the set
/// (pve-firewall `Firewall.pm`: `resolve_alias` dies, the entry gets `errors`, and
/// `generate_ipset_chains` has `next if $entry->{errors}`), so the set silently shrinks.
fn users_of(inventory: &Inventory, name: &str) -> Option<String> {
    let rules = inventory
        .rules_using(|rule: &Rule| [&rule.source, &rule.dest].into_iter().flatten().any(|v| names_alias(v, name)));
    let sets = inventory.ipsets_using(|entry| names_alias(&entry.cidr, name));
    let mut users = Vec::new();
    if !rules.is_empty() {
        users.push(format!("rules of {}", rules.join(", ")));
    }
    if !sets.is_empty() {
        users.push(sets.join(", "));
    }
    (!users.is_empty()).then(|| users.join(" and "))
}

async fn read(host: &Host, region: &str, name: &str) -> Result<Option<FirewallAliasState>, String> {
    let inventory = host.inventory().await.map_err(|e| e.to_string())?;
    let Some(alias) = inventory.cluster_firewall.aliases.get(&name.to_lowercase()) else { return Ok(None) };
    Ok(Some(FirewallAliasState {
        id: Value::Value(format!("{region}/{}", alias.name)),
        region: Value::Value(region.to_owned()),
        name: Value::Value(alias.name.clone()),
        cidr: Value::Value(alias.cidr.clone()),
        comment: alias.comment.clone().map(Value::Value).unwrap_or(Value::Null),
    }))
}

impl FirewallAliasResource {
    fn host(&self, state: &FirewallAliasState, diags: &mut Diagnostics) -> Option<(Arc<Host>, String, String)> {
        let cloud = self.shared.cloud(diags)?;
        let (region, name) = (known(&state.region)?, known(&state.name)?);
        Some((cluster_host(&cloud, &region, diags)?, region, name))
    }

    /// Run `commands`, then read the alias back; an error keeps what the host now has.
    async fn apply(
        &self,
        host: &Host,
        region: &str,
        name: &str,
        summary: &str,
        commands: &[crate::pve::Command],
        diags: &mut Diagnostics,
    ) -> Option<FirewallAliasState> {
        let result = run_all(host, summary, commands).await;
        host.invalidate().await;
        if let Err(e) = result {
            diags.root_error(format!("{summary} failed"), e.to_string());
        }
        match read(host, region, name).await {
            Ok(found) => found,
            Err(e) => {
                diags.root_error("cannot read the alias back", e);
                None
            }
        }
    }
}

#[async_trait]
impl Resource for FirewallAliasResource {
    type State<'a> = FirewallAliasState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "A named IP address or network of a region's cluster firewall (Datacenter → Firewall → Alias). Rules name it in `source` or `dest` as `<name>` or `dc/<name>`. Deleting or renaming an alias that a rule still names is refused, naming the rules: Proxmox itself would go on and stop applying those rules.",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<name>`.")),
                    ("region", optional_computed(string(), "Region (default: the provider's). Changing it replaces the alias.")),
                    ("name", required(string(), "Alias name: 2 to 64 characters, a letter first, then letters, digits, `-` or `_`. Proxmox matches it in any case. Changing it replaces the alias.")),
                    ("cidr", required(string(), "IP address (`10.0.0.5`, `fd00::5`) or network (`10.0.0.0/24`); changes in place.")),
                    ("comment", optional(string(), "Comment: one line, without leading or trailing spaces (Proxmox trims them).")),
                ]),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(name) = known(&config.name) {
            if let Err(e) = check_name(&name) {
                error_at(diags, path(&["name"]), "invalid alias name", e);
            }
        }
        if let Some(cidr) = known(&config.cidr) {
            if let Err(e) = check_cidr(&cidr) {
                error_at(diags, path(&["cidr"]), "invalid cidr", e);
            }
        }
        if let Some(comment) = known(&config.comment) {
            if let Err(e) = check_free_text(&comment) {
                error_at(diags, path(&["comment"]), "invalid comment", format!("the comment {e}"));
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
                diags.root_error(format!("cannot read alias '{name}'"), e);
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
        let (host, region, name) = self.host(&planned, diags)?;
        let (cidr, comment) = (known(&planned.cidr).unwrap_or_default(), known(&planned.comment));
        let command = create_alias(&name, &cidr, comment.as_deref());
        self.apply(&host, &region, &name, &format!("create alias {name}"), &[command], diags)
            .await
            .map(|s| (s, private))
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
        let (host, region, name) = self.host(&planned, diags)?;
        let (cidr, comment) = (known(&planned.cidr).unwrap_or_default(), known(&planned.comment));
        let command = set_alias(&name, &cidr, comment.as_deref());
        self.apply(&host, &region, &name, &format!("update alias {name}"), &[command], diags)
            .await
            .map(|s| (s, private))
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
        if !inventory.cluster_firewall.aliases.contains_key(&name.to_lowercase()) {
            return Some(());
        }
        if let Some(users) = users_of(&inventory, &name) {
            diags.root_error(
                format!("alias '{name}' is still named by {users}"),
                "Proxmox would delete it and then stop applying those rules and IP set entries (one naming a missing alias has an error and is skipped). Change those rules and entries first; to rename an alias, give it `lifecycle { create_before_destroy = true }` and point the rules at the new name in the same apply.",
            );
            return Some(());
        }
        if let Err(e) = run_all(host.as_ref(), &format!("delete alias {name}"), &[delete_alias(&name)]).await {
            diags.root_error(format!("deleting alias '{name}' failed"), e.to_string());
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
        let (host, region, name) = import_target(&cloud, &id, "eu-south-1/office", diags)?;
        let (region, name) = (region.as_str(), name.as_str());
        match read(&host, region, name).await {
            Ok(Some(state)) => Some((state, ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("no alias '{name}' in region {region}"), "");
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

    #[test]
    fn addresses_are_accepted_as_proxmox_stores_them() {
        assert!(check_cidr("10.0.0.5").is_ok());
        assert!(check_cidr("10.0.0.0/24").is_ok());
        assert!(check_cidr("fd00::/64").is_ok());
        assert!(check_cidr("10.0.0.5/32").unwrap_err().contains("write '10.0.0.5'"));
        assert!(check_cidr("10.0.0.0/33").is_err());
        assert!(check_cidr("office").is_err());
        assert!(check_name("office-1").is_ok());
        assert!(check_name("1office").is_err());
    }

    #[test]
    fn rules_and_sets_name_an_alias_plainly_or_with_the_dc_scope() {
        assert!(names_alias("Office", "office"));
        assert!(names_alias("dc/office", "office"));
        assert!(!names_alias("+office", "office"));
        assert!(!names_alias("10.0.0.1", "office"));
    }

    #[test]
    fn an_alias_named_by_a_rule_or_an_ip_set_entry_is_in_use() {
        use crate::pve::firewall_file::FirewallFile;
        let mut inventory = Inventory {
            cluster_firewall: FirewallFile::parse(
                "[ALIASES]\n\noffice 10.0.0.0/8\n\n[IPSET admins]\n\ndc/office\n10.1.0.0/16\n\n[group web]\n\nIN ACCEPT -source office\n",
            ),
            ..Inventory::default()
        };
        inventory.container_firewalls.insert(100, FirewallFile::parse("[IPSET local]\n\n!OFFICE\n"));
        assert_eq!(
            users_of(&inventory, "office").as_deref(),
            Some("rules of security group 'web' and IP set 'admins', IP set 'local' of container 100")
        );
        assert_eq!(users_of(&inventory, "home"), None);
    }
}
