//! `lws_security_group`: a Proxmox cluster firewall security group in a region, with its rules
//! in order. Containers use it through `lws_container.security_groups`. Import `<region>/<name>`.
//!
//! Deleting a group that a container still uses is refused, naming the containers: Terraform
//! detaches the containers it manages first (they depend on the group); others must be
//! detached by hand.

pub mod list;
mod state;
mod validate;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::{cluster_host, import_target, object_id, plan_region, renamed_or_moved};
use crate::cloud::Shared;
use crate::cloud::{Cloud, Host};
use crate::pve::firewall::{
    self, check_group_name, create_group, delete_group, edit_rules, preferred_macro, reconcile, run_all,
    set_group_comment, Scope, MACROS,
};
use crate::pve::firewall_file::{check_free_text, Rule, LOG_LEVELS};
use crate::pve::firewall_rule::{check_addresses, check_ports, PORT_PROTOCOLS, PROTOCOLS};
use crate::tf::identity::{Identity, Part, REGION};
use crate::tf::schema::{attributes, bool as boolean, computed, optional, optional_computed, required, string};
use crate::tf::{error_at, known, path};

use state::{from_rule, text, to_rule, IDENTITY};
pub use state::{RuleState, SecurityGroupState};

pub struct SecurityGroupResource {
    shared: Arc<Shared>,
}

impl SecurityGroupResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        SecurityGroupResource { shared }
    }
}

/// Everything whose rules use the group (`GROUP <name>`): the datacenter's own rules, containers
/// and nodes' host firewalls. Proxmox deletes a group that is merely empty (pve-firewall
/// `src/PVE/API2/Firewall/Groups.pm`), leaving such references dangling (`no such security group`).
fn users_of(inventory: &crate::pve::inventory::Inventory, name: &str) -> Vec<String> {
    inventory.rules_using(|r| r.kind == "group" && r.action.eq_ignore_ascii_case(name))
}

pub(super) async fn read(
    host: &Host,
    region: &str,
    name: &str,
    prior: &SecurityGroupState,
) -> Result<Option<SecurityGroupState>, String> {
    let inventory = host.inventory().await.map_err(|e| e.to_string())?;
    let Some(group) = inventory.cluster_firewall.groups.get(name) else { return Ok(None) };
    let description = match (&group.comment, &prior.description) {
        (None, Value::Value(p)) if p.is_empty() => prior.description.clone(),
        (None, _) => Value::Null,
        (Some(c), _) => Value::Value(c.clone()),
    };
    let prior_rules = known(&prior.rule).unwrap_or_default();
    let rules = group
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut state = from_rule(rule);
            // Proxmox stores a macro under its preferred spelling: keep the one the user wrote.
            if let (Some(mine), Some(stored)) =
                (prior_rules.get(i).and_then(|p| known(&p.macro_name)), known(&state.macro_name))
            {
                if mine.eq_ignore_ascii_case(&stored) {
                    state.macro_name = Value::Value(mine);
                }
            }
            state
        })
        .collect();
    Ok(Some(SecurityGroupState {
        id: Value::Value(format!("{region}/{name}")),
        region: Value::Value(region.to_owned()),
        name: Value::Value(name.to_owned()),
        description,
        rule: Value::Value(rules),
    }))
}

impl SecurityGroupResource {
    fn place(
        &self,
        state: &SecurityGroupState,
        diags: &mut Diagnostics,
    ) -> Option<(Arc<Cloud>, Arc<Host>, String, String)> {
        let cloud = self.shared.cloud(diags)?;
        let region = known(&state.region)?;
        let name = known(&state.name)?;
        let host = cluster_host(&cloud, &region, diags)?;
        Some((cloud, host, region, name))
    }

    /// Delete a group this apply created (its rules first: Proxmox deletes only empty groups);
    /// whether it is gone.
    async fn roll_back(&self, host: &Host, name: &str, diags: &mut Diagnostics) -> bool {
        let rules = match host.inventory().await {
            Ok(inventory) => match inventory.cluster_firewall.groups.get(name) {
                Some(group) => group.rules.clone(),
                None => return true,
            },
            Err(e) => {
                diags.root_error(format!("cannot read back the half-made group '{name}'"), e.to_string());
                return false;
            }
        };
        let mut commands = reconcile(&Scope::Group(name.to_owned()), &rules, &[], None);
        commands.push(delete_group(name));
        let result = run_all(host, &format!("remove half-made security group {name}"), &commands).await;
        host.invalidate().await;
        match result {
            Ok(()) => true,
            Err(e) => {
                diags.root_error(format!("removing the half-made security group '{name}' failed"), e.to_string());
                false
            }
        }
    }

    /// Make the group's comment and rules what `planned` says.
    async fn converge(
        &self,
        host: &Host,
        name: &str,
        planned: &SecurityGroupState,
        exists: bool,
        diags: &mut Diagnostics,
    ) -> Option<SecurityGroupState> {
        host.invalidate().await;
        let inventory = match host.inventory().await {
            Ok(i) => i,
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e.to_string());
                return None;
            }
        };
        let current = inventory.cluster_firewall.groups.get(name).cloned().unwrap_or_default();
        let wanted: Vec<Rule> = known(&planned.rule).unwrap_or_default().iter().map(to_rule).collect();
        let comment = text(&planned.description);
        let scope = Scope::Group(name.to_owned());
        let summary = format!("security group {name}");
        let result = if !exists {
            let mut commands = vec![create_group(name, comment.as_deref())];
            commands.extend(reconcile(&scope, &[], &wanted, None));
            run_all(host, &summary, &commands).await
        } else if current.comment == comment && reconcile(&scope, &current.rules, &wanted, None).is_empty() {
            Ok(())
        } else {
            // Planned again from Proxmox's own list, guarded by its digest (rules are edited by
            // position: another client's edit meanwhile must not make us change the wrong one).
            edit_rules(host, &scope, &summary, |rules, digest| {
                let mut commands = Vec::new();
                if current.comment != comment {
                    commands.push(set_group_comment(name, comment.as_deref()));
                }
                commands.extend(reconcile(&scope, rules, &wanted, digest));
                commands
            })
            .await
        };
        host.invalidate().await;
        if let Err(e) = result {
            diags.root_error(format!("configuring security group '{name}' failed"), e.to_string());
            // A new group Proxmox refused a rule of is taken back whole, rather than left
            // half-made (and tainted) in state; if that fails too, state keeps what is there.
            if !exists && self.roll_back(host, name, diags).await {
                return None;
            }
        }
        let region = known(&planned.region).unwrap_or_default();
        match read(host, &region, name, planned).await {
            Ok(found) => found,
            Err(e) => {
                diags.root_error("cannot read the security group back", e);
                // A group this apply may have made stays in state, tainted by the error: the
                // next plan reads it and replaces it, or creates it if it is not there.
                let settled = |v: &Value<String>| if v.is_unknown() { Value::Null } else { v.clone() };
                (!exists).then(|| SecurityGroupState {
                    id: settled(&planned.id),
                    description: settled(&planned.description),
                    ..planned.clone()
                })
            }
        }
    }
}

#[async_trait]
impl Resource for SecurityGroupResource {
    type State<'a> = SecurityGroupState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        state::schema()
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate::validate(&config, diags);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some((_, host, region, name)) = self.place(&state, diags) else { return Some((state, private)) };
        match read(&host, &region, &name, &state).await {
            Ok(found) => found.map(|s| (s, private)),
            Err(e) => {
                diags.root_error(format!("cannot read security group '{name}'"), e);
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
        if let Value::Value(rules) = &mut planned.rule {
            for rule in rules {
                if rule.enabled.is_null() {
                    rule.enabled = Value::Value(true);
                }
            }
        }
        // The plan can tell whether the group will filter anything at all. A host that cannot be
        // read now is left to apply, which reports it.
        if let Some(host) = known(&planned.region).and_then(|r| crate::cloud::locate::region_host(&cloud, &r)) {
            if let Ok(inventory) = host.inventory().await {
                if !firewall::datacenter_firewall_enabled(&inventory.cluster_firewall) {
                    diags.root_warning(firewall::FIREWALL_OFF.0, firewall::FIREWALL_OFF.1);
                }
            }
        }
        planned.id = object_id(&planned.region, &planned.name);
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _proposed: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        // From the configuration, not Terraform's proposal: an unset `enabled` means true, not
        // "whatever the host has now" (which would hide a rule disabled behind our back).
        let (mut planned, _) = self.plan_create(diags, config.clone(), config, meta).await?;
        let replace = renamed_or_moved((&prior.region, &prior.name), (&planned.region, &planned.name));
        if replace.is_empty() {
            planned.id = prior.id;
        }
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
        let (_, host, _, name) = self.place(&planned, diags)?;
        self.converge(&host, &name, &planned, false, diags).await.map(|s| (s, private))
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
        let (_, host, _, name) = self.place(&planned, diags)?;
        self.converge(&host, &name, &planned, true, diags).await.map(|s| (s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let (_, host, _, name) = self.place(&prior, diags)?;
        host.invalidate().await;
        let inventory = match host.inventory().await {
            Ok(i) => i,
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e.to_string());
                return Some(());
            }
        };
        let Some(group) = inventory.cluster_firewall.groups.get(&name) else { return Some(()) };
        let users = users_of(&inventory, &name);
        if !users.is_empty() {
            diags.root_error(
                format!("security group '{name}' is still used by {}", users.join(", ")),
                "remove it from those containers' security_groups and from any firewall rule that names it first; Proxmox would otherwise keep references to a group that no longer exists",
            );
            return Some(());
        }
        // Proxmox deletes only empty groups.
        let mut commands = reconcile(&Scope::Group(name.clone()), &group.rules, &[], None);
        commands.push(delete_group(&name));
        if let Err(e) = run_all(host.as_ref(), &format!("delete security group {name}"), &commands).await {
            diags.root_error(format!("deleting security group '{name}' failed"), e.to_string());
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
        let (host, region, name) = import_target(&cloud, &id, "eu-south-1/web", diags)?;
        let (region, name) = (region.as_str(), name.as_str());
        match read(&host, region, name, &SecurityGroupState::default()).await {
            Ok(Some(state)) => Some((state, ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("no security group '{name}' in region {region}"), "");
                None
            }
            Err(e) => {
                diags.root_error("cannot read the cluster firewall", e);
                None
            }
        }
    }
}
