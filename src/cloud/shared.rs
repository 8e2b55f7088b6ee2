//! What the provider, its resources and its data sources share: the cloud, once the provider
//! is configured. It lives here, below them all, so nothing imports the provider.

use std::sync::{Arc, RwLock};

use tf_provider::Diagnostics;

use super::Cloud;

/// What resources share with the provider: the cloud, once configured.
#[derive(Default)]
pub struct Shared {
    cloud: RwLock<Option<Arc<Cloud>>>,
}

impl Shared {
    /// The configured cloud, or an error diagnostic.
    pub fn cloud(&self, diags: &mut Diagnostics) -> Option<Arc<Cloud>> {
        let cloud = self.cloud.read().ok().and_then(|c| c.clone());
        if cloud.is_none() {
            diags.root_error(
                "The lws provider is not configured",
                "Terraform has not configured the provider yet (its configuration may depend on values known only after apply).",
            );
        }
        cloud
    }

    /// Called once by the provider's `configure`.
    pub fn set(&self, cloud: Cloud) {
        if let Ok(mut slot) = self.cloud.write() {
            *slot = Some(Arc::new(cloud));
        }
    }
}
