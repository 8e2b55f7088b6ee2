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
/// (pve-common `RESTEnvironment.pm` `$tee_worker`, for a CLI running the worker in the
/// foreground, prints the task's own output on stdout and only its end on stderr: the error of
/// `TASK ERROR: <error>`, or `Task finished with <n> warning(s)!` for `TASK WARNINGS: <n>`;
/// a CLI without `$upid_exit` then ends in `run_cli_handler`'s `exit 0`). Anything on stderr
/// but that warnings line is a failure; a task that finished with warnings did its work.
pub fn stderr_decides(runner: &dyn Runner, script: &Script, output: Output) -> Result<Output, PveError> {
    let stderr = output.stderr_text();
    if !task_failed(&stderr) {
        if !stderr.trim().is_empty() {
            tracing::warn!(command = %script.summary, host = runner.label(), "{}", stderr.trim());
        }
        Ok(output)
    } else {
        Err(failed(runner, script, output.status, stderr))
    }
}

/// Whether a foreground task's stderr says it failed: any line but `$tee_worker`'s warnings line.
fn task_failed(stderr: &str) -> bool {
    let is_warnings_line = |line: &str| {
        line.strip_prefix("Task finished with ")
            .and_then(|rest| rest.strip_suffix(" warning(s)!"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    stderr.lines().map(str::trim).any(|line| !line.is_empty() && !is_warnings_line(line))
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

#[cfg(test)]
mod tests {
    use super::task_failed;

    #[test]
    fn a_task_that_finished_with_warnings_did_not_fail() {
        assert!(!task_failed(""));
        assert!(!task_failed("Task finished with 1 warning(s)!\n"));
        assert!(task_failed("cannot remove protected volume 'backup/x.tar.zst' on 'local'\n"));
        assert!(task_failed("Task finished with some warning(s)!\n"));
        assert!(task_failed("Task finished with 2 warning(s)!\nunexpected\n"));
    }
}
