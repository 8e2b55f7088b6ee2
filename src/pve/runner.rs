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
        // Once sent, which command was lost is what the user needs to check on the host.
        let message = if before_sending { format!("{e:#}") } else { format!("`{}`: {e:#}", script.summary) };
        PveError::Transport { host: runner.label().to_owned(), message, may_have_run: !before_sending }
    })
}

/// Run `script` and require exit status 0.
pub async fn run(runner: &dyn Runner, script: Script) -> Result<Output, PveError> {
    let output = run_to_end(runner, &script).await?;
    if output.success() {
        Ok(output)
    } else {
        Err(failed(runner, &script, output.status, output.stderr_text()))
    }
}

/// The error of `script` having failed with `status`, Proxmox's reason in `stderr`.
pub fn failed(runner: &dyn Runner, script: &Script, status: Option<u32>, stderr: String) -> PveError {
    PveError::Failed {
        host: runner.label().to_owned(),
        command: script.summary.clone(),
        status,
        kind: classify(&stderr),
        stderr,
    }
}

/// A command whose Proxmox worker task's failure reaches only stderr while it exits 0
/// (pve-common `RESTEnvironment::fork_worker` prints the task error there, and a CLI without
/// `$upid_exit` ends in `run_cli_handler`'s `exit 0`): anything on stderr is a failure.
pub fn stderr_decides(runner: &dyn Runner, script: &Script, output: Output) -> Result<Output, PveError> {
    if output.stderr_text().trim().is_empty() {
        Ok(output)
    } else {
        Err(failed(runner, script, output.status, output.stderr_text()))
    }
}

/// [`run`] a command whose worker task's failure only reaches stderr ([`stderr_decides`]).
pub async fn run_task(runner: &dyn Runner, script: Script) -> Result<Output, PveError> {
    let output = run(runner, script.clone()).await?;
    stderr_decides(runner, &script, output)
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
