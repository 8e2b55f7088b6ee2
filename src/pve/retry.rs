//! Retrying operations that failed for a reason that passes by itself: a container locked by
//! another task (`CT is locked (backup)`), a lock file timeout, a cluster without quorum.

use std::future::Future;
use std::time::{Duration, Instant};

use super::error::PveError;

/// Run `op` until it succeeds, fails for good, or `deadline` is near; backoff 0.5 s doubling
/// to 10 s between attempts.
pub async fn until<T, F, Fut>(deadline: Instant, mut op: F) -> Result<T, PveError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, PveError>>,
{
    let mut delay = Duration::from_millis(500);
    loop {
        match op().await {
            Err(e) if e.is_transient() && Instant::now() + delay < deadline => {
                tracing::debug!(error = %e, delay_ms = delay.as_millis() as u64, "transient Proxmox error; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}

/// Time left until `deadline` (at least one second, so a last attempt can still run).
pub fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1))
}
