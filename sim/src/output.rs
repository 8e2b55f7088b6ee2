//! How simulated commands fail: Proxmox's plain-text errors on stderr and its exit codes.

use std::fmt::Write as _;

/// A command's failure: what goes to stderr and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

pub type Outcome = Result<(), Failure>;

impl Failure {
    /// Most Proxmox CLI errors exit 255 (`exit(-1)`).
    pub fn new(message: impl Into<String>) -> Self {
        Failure { code: 255, message: message.into() }
    }

    pub fn with_code(code: i32, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }

    /// A Perl `die` whose message had no trailing newline: Perl appends the source location.
    pub fn perl(message: &str, file: &str, line: u32) -> Self {
        Failure::new(format!("{message} at /usr/share/perl5/{file} line {line}."))
    }

    /// `400 Parameter verification failed.` with one `param: message` line each, then the usage.
    pub fn params(errors: &[(String, String)], usage: &str) -> Self {
        let mut message = String::from("400 Parameter verification failed.\n");
        for (param, error) in errors {
            let _ = writeln!(message, "{param}: {error}");
            // Format validators end their message in a newline, which leaves an empty line.
            if error.starts_with("invalid format - ") {
                message.push('\n');
            }
        }
        message.push_str(usage);
        Failure::new(message)
    }

    /// A Getopt-level failure: `400 unable to parse option`, `400 not enough arguments`, …
    pub fn getopt(prefix_lines: &[String], reason: &str, usage: &str) -> Self {
        let mut message = String::new();
        for line in prefix_lines {
            message.push_str(line);
            message.push('\n');
        }
        let _ = writeln!(message, "400 {reason}");
        message.push_str(usage);
        Failure::new(message)
    }

    /// Print to stderr the way Proxmox does and return the exit code.
    pub fn report(&self) -> i32 {
        if !self.message.is_empty() {
            if self.message.ends_with('\n') {
                eprint!("{}", self.message);
            } else {
                eprintln!("{}", self.message);
            }
        }
        self.code
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Failure::new(format!("lws-sim: I/O error: {err}"))
    }
}

impl From<serde_json::Error> for Failure {
    fn from(err: serde_json::Error) -> Self {
        Failure::new(format!("lws-sim: corrupt state file: {err}"))
    }
}
