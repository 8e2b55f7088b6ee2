// lws patch: this file is not in the tf-provider 0.2.2 release.

//! List resources (plugin protocol 6.10, Terraform ≥ 1.14 `terraform query`): a
//! `list "<type>" "<name>" { config { … } }` block answered with the objects found, each with
//! its resource identity, a display name and, when Terraform asks, the full resource object (from
//! which `terraform query -generate-config-out` writes configuration).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::diagnostics::Diagnostics;
use crate::raw::RawValue;
use crate::schema::Schema;

/// One object a list found.
pub struct Listed<T> {
    /// Its identity, as the managed resource of the same type name declares it.
    pub identity: serde_json::Map<String, serde_json::Value>,
    /// A short name for people (`web (eu-south-1/az1/105)`).
    pub display_name: String,
    /// Its state, as the managed resource would read it.
    pub object: T,
}

/// A list resource with typed configuration and objects.
#[async_trait]
pub trait ListResource: Send + Sync {
    /// The `config { … }` block of the list.
    type Config<'a>: Deserialize<'a> + Send;
    /// The state of the managed resource of the same type name.
    type Object: Serialize + Send;

    /// The schema of the `config` block.
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Every object the configuration selects, at most `limit` (0: no limit).
    async fn list<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::Config<'a>,
        limit: usize,
    ) -> Vec<Listed<Self::Object>>;
}

/// One object found, serialised for the wire.
pub struct ListedObject {
    pub identity: serde_json::Map<String, serde_json::Value>,
    pub display_name: String,
    pub object: Option<RawValue>,
}

/// [`ListResource`] without types, as the server holds them.
#[async_trait]
pub trait DynamicListResource: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn list(&self, diags: &mut Diagnostics, config: RawValue, limit: usize) -> Vec<ListedObject>;
}

#[async_trait]
impl<T: ListResource> DynamicListResource for T {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        <T as ListResource>::schema(self, diags)
    }

    async fn list(&self, diags: &mut Diagnostics, config: RawValue, limit: usize) -> Vec<ListedObject> {
        let Some(config) = config.deserialize(diags) else { return Vec::new() };
        <T as ListResource>::list(self, diags, config, limit)
            .await
            .into_iter()
            .map(|listed| ListedObject {
                object: RawValue::serialize(diags, &listed.object),
                identity: listed.identity,
                display_name: listed.display_name,
            })
            .collect()
    }
}

impl<T: ListResource + 'static> From<T> for Box<dyn DynamicListResource> {
    fn from(value: T) -> Self {
        Box::new(value)
    }
}
