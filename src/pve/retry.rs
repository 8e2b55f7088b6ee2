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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::pve::error::Kind;

    fn failure(kind: Kind) -> PveError {
        PveError::Failed {
            host: "h".into(),
            command: "pct start 100".into(),
            status: Some(255),
            stderr: String::new(),
            kind,
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_they_pass() {
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(30);
        let result = until(deadline, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(failure(Kind::Locked("backup".into()))),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.ok(), Some("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn lasting_failures_and_a_near_deadline_end_at_once() {
        let calls = AtomicU32::new(0);
        let far = Instant::now() + Duration::from_secs(30);
        let lasting = until(far, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(failure(Kind::NotFound))
        })
        .await;
        assert!(lasting.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "not transient: one attempt");
        let near = Instant::now();
        assert!(until(near, || async { Err::<(), _>(failure(Kind::Locked("backup".into()))) }).await.is_err());
        assert!(remaining(near) >= Duration::from_secs(1), "a last attempt always gets a second");
    }
}
