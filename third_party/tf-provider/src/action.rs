// lws patch: this file is not in the tf-provider 0.2.2 release.

//! Actions (plugin protocol 6.10, Terraform ≥ 1.14): imperative operations invoked with
//! `terraform apply -invoke=action.<type>.<name>` or from a resource's `action_trigger`, with
//! progress messages streamed to the user while they run.

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::diagnostics::Diagnostics;
use crate::raw::RawValue;
use crate::schema::Schema;

/// Where an action reports what it is doing.
#[derive(Clone)]
pub struct Progress(pub(crate) Option<UnboundedSender<String>>);

impl Progress {
    /// Tell the user (Terraform prints it while the action runs).
    pub fn say(&self, message: impl Into<String>) {
        if let Some(sender) = &self.0 {
            let _ = sender.send(message.into());
        }
    }
}

/// An action with typed configuration.
#[async_trait]
pub trait Action: Send + Sync {
    /// The `config { … }` block of the action.
    type Config<'a>: Deserialize<'a> + Send;

    /// The schema of the `config` block.
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Check the configuration before the action runs (`PlanAction`), e.g. that what it names
    /// exists. Default: nothing to check.
    async fn plan<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) {
        let _ = (diags, config);
    }

    /// Do it, reporting progress; errors go to `diags`.
    async fn invoke<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>, progress: &Progress);
}

/// [`Action`] without types, as the server holds them.
#[async_trait]
pub trait DynamicAction: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn plan(&self, diags: &mut Diagnostics, config: RawValue);
    async fn invoke(&self, diags: &mut Diagnostics, config: RawValue, progress: &Progress);
}

#[async_trait]
impl<T: Action> DynamicAction for T {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        <T as Action>::schema(self, diags)
    }

    async fn plan(&self, diags: &mut Diagnostics, config: RawValue) {
        if let Some(config) = config.deserialize(diags) {
            <T as Action>::plan(self, diags, config).await
        }
    }

    async fn invoke(&self, diags: &mut Diagnostics, config: RawValue, progress: &Progress) {
        if let Some(config) = config.deserialize(diags) {
            <T as Action>::invoke(self, diags, config, progress).await
        }
    }
}

impl<T: Action + 'static> From<T> for Box<dyn DynamicAction> {
    fn from(value: T) -> Self {
        Box::new(value)
    }
}
