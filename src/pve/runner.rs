//! The one thing `pve` needs from below: something that runs a [`Script`] on a Proxmox host.
//! `cloud::Host` implements it over SSH; `pve` never opens connections itself.

use async_trait::async_trait;

use super::command::Script;
use super::error::{classify, PveError};
use crate::ssh::Output;

#[async_trait]
pub trait Runner: Send + Sync {
    /// The host in messages (`eu-south-1/az1`).
    fn label(&self) -> &str;

    /// Run `script`; `Err` only when it could not be run (connection, authentication, timeout).
    async fn execute(&self, script: &Script) -> anyhow::Result<Output>;
}

/// Run `script` to its end, whatever its exit status: `Err` only when it could not be run or
/// its end was not seen.
pub async fn run_to_end(runner: &dyn Runner, script: &Script) -> Result<Output, PveError> {
    runner.execute(script).await.map_err(|e| {
        use crate::ssh::Error as Ssh;
        let before_sending = matches!(
            e.downcast_ref::<Ssh>(),
            Some(Ssh::Connect { .. } | Ssh::HostKey(_) | Ssh::Auth { .. } | Ssh::Bastion { .. })
        );
        PveError::Transport {
            host: runner.label().to_owned(),
            message: format!("{e:#}"),
            may_have_run: !before_sending,
        }
    })
}

/// Run `script` and require exit status 0.
pub async fn run(runner: &dyn Runner, script: Script) -> Result<Output, PveError> {
    let output = run_to_end(runner, &script).await?;
    if output.success() {
        Ok(output)
    } else {
        let stderr = output.stderr_text();
        Err(PveError::Failed {
            host: runner.label().to_owned(),
            command: script.summary.clone(),
            status: output.status,
            kind: classify(&stderr),
            stderr,
        })
    }
}

/// Run and parse stdout as JSON.
pub async fn run_json<T: serde::de::DeserializeOwned>(runner: &dyn Runner, script: Script) -> Result<T, PveError> {
    let summary = script.summary.clone();
    let output = run(runner, script).await?;
    serde_json::from_slice(&output.stdout).map_err(|e| PveError::Unreadable {
        host: runner.label().to_owned(),
        command: summary,
        message: e.to_string(),
    })
}
