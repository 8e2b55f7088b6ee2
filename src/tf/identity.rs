//! Resource identity (plugin protocol 6.9, Terraform ≥ 1.12): the attributes that name one
//! object, returned with every state and accepted by `import { to = … identity = { … } }`.
//! Every LWS resource's identity is the parts of its `id` (which is also its import id), in
//! order, so importing by identity is importing by that string.

use serde_json::{Map, Value as Json};
use tf_provider::schema::{AttributeType, IdentityAttribute, IdentitySchema};
use tf_provider::value::Value;
use tf_provider::Diagnostics;

use super::known;

/// One part of an identity: its name, whether it is a number, and what it is.
pub struct Part {
    pub name: &'static str,
    pub number: bool,
    pub description: &'static str,
}

pub const REGION: Part = Part { name: "region", number: false, description: "Region of the object." };
pub const AZ: Part = Part { name: "az", number: false, description: "Availability zone of the container." };
pub const VMID: Part = Part { name: "vmid", number: true, description: "Proxmox VMID of the container." };

/// An identity: the parts of the resource's `id`, `/`-separated, in this order.
pub struct Identity(pub &'static [Part]);

impl Identity {
    pub fn schema(&self) -> IdentitySchema {
        IdentitySchema {
            version: 0,
            attributes: self
                .0
                .iter()
                .map(|part| IdentityAttribute {
                    name: part.name.to_owned(),
                    attr_type: if part.number { AttributeType::Number } else { AttributeType::String },
                    required_for_import: true,
                    description: part.description.to_owned(),
                })
                .collect(),
        }
    }

    /// The identity of the object whose `id` this is; `None` while the id is unknown.
    pub fn of(&self, id: &Value<String>) -> Option<Map<String, Json>> {
        let id = known(id)?;
        let values: Vec<&str> = id.splitn(self.0.len(), '/').collect();
        if values.len() != self.0.len() {
            return None;
        }
        self.0
            .iter()
            .zip(values)
            .map(|(part, value)| {
                let json = if part.number { Json::from(value.parse::<u64>().ok()?) } else { Json::from(value) };
                Some((part.name.to_owned(), json))
            })
            .collect()
    }

    /// The import id an identity names, or an error naming what is missing or wrong.
    pub fn import_id(&self, diags: &mut Diagnostics, identity: &Map<String, Json>) -> Option<String> {
        let mut parts = Vec::new();
        for part in self.0 {
            let value = match identity.get(part.name) {
                Some(Json::String(s)) if !part.number && !s.is_empty() && !s.contains('/') => s.clone(),
                Some(Json::Number(n)) if part.number && n.as_u64().is_some() => n.to_string(),
                other => {
                    let kind = if part.number { "a whole number" } else { "a non-empty name without '/'" };
                    diags.root_error(
                        format!("identity.{} must be {kind}", part.name),
                        format!(
                            "got {}; the identity is {{ {} }}",
                            other.map(Json::to_string).unwrap_or_else(|| "nothing".to_owned()),
                            self.0.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                        ),
                    );
                    return None;
                }
            };
            parts.push(value);
        }
        Some(parts.join("/"))
    }
}

/// The three identity methods of `tf_provider::Resource` for a resource whose state has an
/// `id` made of `$identity`'s parts.
#[macro_export]
macro_rules! identity_from_id {
    ($identity:expr) => {
        fn identity_schema(&self) -> Option<tf_provider::schema::IdentitySchema> {
            Some($identity.schema())
        }

        fn identity<'a>(&self, state: &Self::State<'a>) -> Option<serde_json::Map<String, serde_json::Value>> {
            $identity.of(&state.id)
        }

        fn import_id_from_identity(
            &self,
            diags: &mut tf_provider::Diagnostics,
            identity: &serde_json::Map<String, serde_json::Value>,
        ) -> Option<String> {
            $identity.import_id(diags, identity)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMED: Part = Part { name: "name", number: false, description: "Name." };
    const SNAPSHOT: Identity = Identity(&[REGION, AZ, VMID, NAMED]);

    #[test]
    fn an_identity_is_the_parts_of_the_id_and_imports_as_it() {
        let identity = SNAPSHOT.of(&Value::Value("eu-south-1/az1/105/before".to_owned())).expect("identity");
        assert_eq!(
            serde_json::Value::Object(identity.clone()),
            serde_json::json!({"region": "eu-south-1", "az": "az1", "vmid": 105, "name": "before"})
        );
        let mut diags = Diagnostics::default();
        assert_eq!(SNAPSHOT.import_id(&mut diags, &identity).as_deref(), Some("eu-south-1/az1/105/before"));
        assert!(SNAPSHOT.of(&Value::Unknown).is_none());
        assert!(SNAPSHOT.of(&Value::Value("eu-south-1/az1/x/before".to_owned())).is_none());
    }

    #[test]
    fn a_missing_or_mistyped_part_is_an_error_naming_it() {
        let mut diags = Diagnostics::default();
        let identity = serde_json::json!({"region": "eu-south-1", "az": "az1", "vmid": "105"});
        let identity = identity.as_object().expect("object");
        assert!(Identity(&[REGION, AZ, VMID]).import_id(&mut diags, identity).is_none());
        assert!(format!("{diags:?}").contains("identity.vmid must be a whole number"), "{diags:?}");
    }
}
