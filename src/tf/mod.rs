//! Terraform-facing helpers shared by the provider, resources and data sources: schema
//! builders (every attribute gets a description), diagnostics, `timeouts` blocks, and small
//! plan helpers on `tf_provider::value::Value`.

pub mod identity;
pub mod schema;

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::cloud::settings::{parse_duration, Step};

/// `AttributePath` from owned names.
pub fn path(steps: &[&str]) -> AttributePath {
    let mut p = AttributePath::default();
    for step in steps {
        p.add_attribute(Cow::Owned(step.to_string()));
    }
    p
}

/// Convert a settings problem path into an attribute path.
pub fn path_of(steps: &[Step]) -> AttributePath {
    let mut p = AttributePath::default();
    for step in steps {
        match step {
            Step::Attr(name) => p.add_attribute(Cow::Owned(name.clone())),
            Step::Key(key) => p.add_key(Cow::Owned(key.clone())),
        };
    }
    p
}

/// Report an error on an attribute.
pub fn error_at(
    diags: &mut Diagnostics,
    attribute: AttributePath,
    summary: impl Into<String>,
    detail: impl Into<String>,
) {
    diags.error(summary.into(), detail.into(), attribute);
}

/// The value if known and present.
pub fn known<T: Clone>(value: &Value<T>) -> Option<T> {
    match value {
        Value::Value(v) => Some(v.clone()),
        _ => None,
    }
}

/// A list whose elements may be unknown while planning (`[some_resource.attr]`): Terraform
/// sends each element as known or unknown, so collections hold `Value`s, not bare values.
pub type List<T> = Value<Vec<Value<T>>>;
/// A set whose elements may be unknown while planning.
pub type Set<T> = Value<std::collections::BTreeSet<Value<T>>>;
/// A map whose values may be unknown while planning.
pub type Map<T> = Value<std::collections::BTreeMap<String, Value<T>>>;

/// The list, if it and every element are known.
pub fn known_list<T: Clone>(list: &List<T>) -> Option<Vec<T>> {
    known(list)?.iter().map(known).collect()
}

/// The set, if it and every element are known.
pub fn known_set<T: Clone + Ord>(set: &Set<T>) -> Option<std::collections::BTreeSet<T>> {
    known(set)?.iter().map(known).collect()
}

/// The map, if it and every value are known.
pub fn known_map<T: Clone>(map: &Map<T>) -> Option<std::collections::BTreeMap<String, T>> {
    known(map)?.iter().map(|(k, v)| Some((k.clone(), known(v)?))).collect()
}

pub fn list_of<T>(items: impl IntoIterator<Item = T>) -> List<T> {
    Value::Value(items.into_iter().map(Value::Value).collect())
}

pub fn set_of<T: Ord>(items: impl IntoIterator<Item = T>) -> Set<T> {
    Value::Value(items.into_iter().map(Value::Value).collect())
}

pub fn map_of<T>(items: impl IntoIterator<Item = (String, T)>) -> Map<T> {
    Value::Value(items.into_iter().map(|(k, v)| (k, Value::Value(v))).collect())
}

/// Config value if set (or unknown), else the fallback.
pub fn or_default<T>(config: Value<T>, fallback: Option<T>) -> Value<T> {
    match config {
        Value::Null => fallback.map(Value::Value).unwrap_or(Value::Null),
        other => other,
    }
}

/// `timeouts { create = "20m" update = "20m" delete = "10m" }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Timeouts {
    pub create: Value<String>,
    pub update: Value<String>,
    pub delete: Value<String>,
}

/// Which operation a timeout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Timeouts {
    /// The configured timeout for `op`, or `default`.
    pub fn get(timeouts: &Value<Timeouts>, op: Operation, default: Duration) -> Duration {
        let Value::Value(t) = timeouts else { return default };
        let value = match op {
            Operation::Create => &t.create,
            Operation::Update => &t.update,
            Operation::Delete => &t.delete,
        };
        known(value).and_then(|v| parse_duration(&v)).unwrap_or(default)
    }

    /// Plan-time check of the block's values.
    pub fn validate(timeouts: &Value<Timeouts>, diags: &mut Diagnostics) {
        let Value::Value(t) = timeouts else { return };
        for (name, value) in [("create", &t.create), ("update", &t.update), ("delete", &t.delete)] {
            if let Some(text) = known(value) {
                if parse_duration(&text).is_none() {
                    error_at(
                        diags,
                        path(&["timeouts", name]),
                        format!("invalid timeouts.{name}"),
                        format!("'{text}' is not a duration; write e.g. \"30s\", \"10m\" or \"1h\""),
                    );
                }
            }
        }
    }
}

/// Proxmox reads descriptions back with a newline after each line: equal up to trailing
/// newlines means unchanged, so configured text keeps its exact form in state.
pub fn description(remote: Option<&str>, prior: &Value<String>) -> Value<String> {
    let remote = remote.map(|d| d.trim_end_matches('\n')).filter(|d| !d.is_empty());
    match (remote, prior) {
        (None, Value::Value(p)) if p.trim_end_matches('\n').is_empty() => prior.clone(),
        (None, _) => Value::Null,
        (Some(r), Value::Value(p)) if p.trim_end_matches('\n') == r => prior.clone(),
        (Some(r), _) => Value::Value(r.to_owned()),
    }
}
