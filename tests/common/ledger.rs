//! The fidelity ledger, `docs/proxmox-commands.md`, as a check: every Proxmox or LXC tool the
//! provider runs on a simulated host (the simulator logs each run with its argv) must match a row
//! of the ledger's `## Commands` table, with every flag it passes listed in that row. A command
//! the ledger does not list has no cited source for its output, so a test that makes the provider
//! run one fails.

use serde_json::Value;

/// One row of the `## Commands` table.
#[derive(Debug)]
pub struct Row {
    /// `pct create <vmid> <ostemplate>` as words.
    pub pattern: Vec<String>,
    pub flags: Vec<String>,
}

/// The rows of `docs/proxmox-commands.md`.
pub fn rows() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/proxmox-commands.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse(&text)
}

/// Backticked items of one table cell.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

pub fn parse(text: &str) -> Vec<Row> {
    let section = text.split("\n## Commands").nth(1).expect("the ledger has a `## Commands` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        let Some(command) = cells.first().map(|c| backticked(c)).and_then(|c| c.into_iter().next()) else {
            continue; // header and separator rows
        };
        let flags = cells.get(1).map(|c| backticked(c)).unwrap_or_default();
        rows.push(Row { pattern: command.split_whitespace().map(str::to_owned).collect(), flags });
    }
    assert!(!rows.is_empty(), "the ledger's `## Commands` table has no rows");
    rows
}

fn is_placeholder(word: &str) -> bool {
    word.starts_with('<') && word.ends_with('>')
}

/// A pattern word against an argument; inside an API path, `<x>` matches one segment, and a
/// last `<x...>` the rest of the path, slashes included (a parameter Proxmox registers with
/// `fragmentDelimiter => ''`, like an IP set entry's CIDR).
fn word_matches(pattern: &str, arg: &str) -> bool {
    if is_placeholder(pattern) {
        return !arg.starts_with('-');
    }
    if pattern.starts_with('/') && pattern.contains('<') {
        let (p, a): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), arg.split('/').collect());
        let rest = p.last().is_some_and(|last| is_placeholder(last) && last.ends_with("...>"));
        let lengths_fit = if rest { a.len() >= p.len() } else { p.len() == a.len() };
        return lengths_fit && p.iter().zip(&a).all(|(p, a)| if is_placeholder(p) { !a.is_empty() } else { p == a });
    }
    pattern == arg
}

impl Row {
    /// Whether `argv` (tool first) is this row's command with only its listed flags.
    pub fn admits(&self, argv: &[String]) -> bool {
        if argv.len() < self.pattern.len() || !self.pattern.iter().zip(argv).all(|(p, a)| word_matches(p, a)) {
            return false;
        }
        // After `--` the words are the program run inside the container (pct's option parser
        // stops there), not the tool's flags.
        argv[self.pattern.len()..]
            .iter()
            .take_while(|a| *a != "--")
            .filter(|a| a.starts_with('-') && a.len() > 1 && !a[1..].starts_with(|c: char| c.is_ascii_digit()))
            .all(|a| self.flags.iter().any(|f| f == a.split('=').next().unwrap_or(a)))
    }
}

/// The provider's tool runs (not the tests' own) that no row admits, as command lines.
pub fn unlisted(log: &[Value], rows: &[Row]) -> Vec<String> {
    let mut missing: Vec<String> = log
        .iter()
        .filter(|e| e["kind"] == "tool" && e["actor"].is_null())
        .filter_map(|e| e["argv"].as_array())
        .map(|argv| argv.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect::<Vec<_>>())
        .filter(|argv| !rows.iter().any(|r| r.admits(argv)))
        .map(|argv| argv.join(" "))
        .collect();
    missing.sort();
    missing.dedup();
    missing
}
