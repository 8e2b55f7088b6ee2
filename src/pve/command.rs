//! Building the command lines sent to a Proxmox host. Every variable word goes through
//! [`crate::ssh::quote::quote`]; fixed shell glue (loops, `&&`, redirections) is written here
//! as literal text with no interpolated values.

use std::time::Duration;

use crate::ssh::quote::quote;
use crate::ssh::OutputWatch;

/// One program with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    words: Vec<String>,
}

impl Command {
    pub fn new(program: &str) -> Self {
        Command { words: vec![program.to_owned()] }
    }

    pub fn arg(mut self, value: impl ToString) -> Self {
        self.words.push(value.to_string());
        self
    }

    /// `--name value`.
    pub fn opt(self, name: &str, value: impl ToString) -> Self {
        self.arg(format!("--{name}")).arg(value)
    }

    /// `--name value` when `value` is present.
    pub fn opt_if<T: ToString>(self, name: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.opt(name, v),
            None => self,
        }
    }

    /// The command line, every word quoted.
    pub fn render(&self) -> String {
        self.words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
    }

    /// `program sub-command` for messages and logs.
    pub fn summary(&self) -> String {
        self.words.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
    }
}

/// What is sent to a host in one round trip: a command line, optionally input on stdin
/// (where secrets travel), and how long it may take.
#[derive(Clone, PartialEq, Eq)]
pub struct Script {
    pub text: String,
    /// Short name for logs and errors (`pct create 101`); never contains input.
    pub summary: String,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Option<Duration>,
    /// Sees the output as it arrives (an action's progress); most scripts have none.
    pub watch: Option<OutputWatch>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script")
            .field("summary", &self.summary)
            .field("text", &self.text)
            .field("stdin", &self.stdin.as_ref().map(|s| format!("<{} bytes>", s.len())))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl From<Command> for Script {
    fn from(command: Command) -> Self {
        Script { text: command.render(), summary: command.summary(), stdin: None, timeout: None, watch: None }
    }
}

impl Script {
    /// A script from fixed shell text (no interpolated values) and already-rendered commands.
    pub fn raw(summary: impl Into<String>, text: impl Into<String>) -> Self {
        Script { text: text.into(), summary: summary.into(), stdin: None, timeout: None, watch: None }
    }

    pub fn with_stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn with_watch(mut self, watch: OutputWatch) -> Self {
        self.watch = Some(watch);
        self
    }

    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_options_are_spelled_out() {
        let cmd = Command::new("pct")
            .arg("set")
            .arg(100)
            .opt("description", "it's; rm -rf /")
            .opt_if("memory", Some(512))
            .opt_if::<u32>("cores", None);
        assert_eq!(cmd.render(), "pct set 100 --description 'it'\\''s; rm -rf /' --memory 512");
        assert_eq!(cmd.summary(), "pct set 100");
    }

    #[test]
    fn debug_output_never_shows_stdin() {
        let script = Script::raw("chpasswd", "chpasswd").with_stdin("root:hunter2\n");
        let shown = format!("{script:?}");
        assert!(!shown.contains("hunter2") && shown.contains("<13 bytes>"), "{shown}");
    }
}
