//! Short constructors for `tf_provider` schema attributes. Each takes the description, so an
//! attribute cannot be declared without one (the docs are generated from these).

use std::collections::HashMap;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Block, Description, NestedBlock};

fn make(attr_type: AttributeType, constraint: AttributeConstraint, description: &str) -> Attribute {
    Attribute {
        attr_type,
        description: Description::markdown(description),
        constraint,
        sensitive: false,
        deprecated: false,
        write_only: false,
    }
}

pub fn required(attr_type: AttributeType, description: &str) -> Attribute {
    make(attr_type, AttributeConstraint::Required, description)
}

pub fn optional(attr_type: AttributeType, description: &str) -> Attribute {
    make(attr_type, AttributeConstraint::Optional, description)
}

/// Optional; when not set, the provider fills in the value (shown known in plans).
pub fn optional_computed(attr_type: AttributeType, description: &str) -> Attribute {
    make(attr_type, AttributeConstraint::OptionalComputed, description)
}

pub fn computed(attr_type: AttributeType, description: &str) -> Attribute {
    make(attr_type, AttributeConstraint::Computed, description)
}

pub fn sensitive(mut attribute: Attribute) -> Attribute {
    attribute.sensitive = true;
    attribute
}

/// A secret in configuration only (protocol 6.8, Terraform ≥ 1.11): optional, sensitive,
/// never in plan or state.
pub fn write_only(attr_type: AttributeType, description: &str) -> Attribute {
    let mut attribute = sensitive(optional(attr_type, description));
    attribute.write_only = true;
    attribute
}

pub fn string() -> AttributeType {
    AttributeType::String
}

pub fn number() -> AttributeType {
    AttributeType::Number
}

pub fn bool() -> AttributeType {
    AttributeType::Bool
}

pub fn set_of_strings() -> AttributeType {
    AttributeType::Set(Box::new(AttributeType::String))
}

pub fn list_of_strings() -> AttributeType {
    AttributeType::List(Box::new(AttributeType::String))
}

pub fn map_of_strings() -> AttributeType {
    AttributeType::Map(Box::new(AttributeType::String))
}

/// Attributes from `(name, attribute)` pairs.
pub fn attributes(list: Vec<(&str, Attribute)>) -> HashMap<String, Attribute> {
    list.into_iter().map(|(name, attribute)| (name.to_owned(), attribute)).collect()
}

/// The standard `timeouts` block (create/update/delete durations).
pub fn timeouts_block(create: &str, update: &str, delete: &str) -> (String, NestedBlock) {
    let attributes = attributes(vec![
        ("create", optional(string(), &format!("How long creating may take (default {create}), e.g. `30m`."))),
        ("update", optional(string(), &format!("How long an update may take (default {update})."))),
        ("delete", optional(string(), &format!("How long deleting may take (default {delete})."))),
    ]);
    (
        "timeouts".to_owned(),
        NestedBlock::Optional(Block {
            attributes,
            description: Description::markdown("Operation timeouts. Locked containers are retried until these expire."),
            ..Block::default()
        }),
    )
}

/// The schema of a configuration block with no nested blocks (an action's or a list's
/// `config { … }`): what it is for, and its attributes.
pub fn config_schema(description: &str, config: Vec<(&str, Attribute)>) -> tf_provider::schema::Schema {
    tf_provider::schema::Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(description),
            attributes: attributes(config),
            ..Default::default()
        },
    }
}
