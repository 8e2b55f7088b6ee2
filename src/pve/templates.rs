//! OS templates: `pveam list <storage>` (installed) and `pveam available` (downloadable).

use super::command::{Command, Script};
use super::error::PveError;
use super::runner::{run, Runner};

/// A template volume on a storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`
    pub volid: String,
    /// `debian-12-standard_12.7-1_amd64.tar.zst`
    pub name: String,
    pub size_mb: f64,
}

/// Parse `pveam list`: a `NAME SIZE` header, then `%-60s %-4.2fMB` rows.
pub fn parse_list(text: &str) -> Vec<Template> {
    text.lines()
        .skip_while(|l| !l.starts_with("NAME"))
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let volid = words.next()?.to_owned();
            let size_mb = words.next().and_then(|s| s.trim_end_matches("MB").parse().ok()).unwrap_or(0.0);
            let name = volid.split_once("vztmpl/").map(|(_, n)| n.to_owned()).unwrap_or_else(|| volid.clone());
            Some(Template { volid, name, size_mb })
        })
        .collect()
}

/// Parse `pveam available`: `%-15s %s` (section, template).
pub fn parse_available(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

pub async fn list(runner: &dyn Runner, storage: &str) -> Result<Vec<Template>, PveError> {
    let out = run(runner, Script::from(Command::new("pveam").arg("list").arg(storage))).await?;
    Ok(parse_list(&out.stdout_text()))
}

pub async fn available(runner: &dyn Runner) -> Result<Vec<(String, String)>, PveError> {
    let out = run(runner, Script::from(Command::new("pveam").arg("available"))).await?;
    Ok(parse_available(&out.stdout_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pveam_list_rows_become_templates() {
        let text = format!(
            "{:<60} {:<6}\n{:<60} {:<4.2}MB\n{:<60} {:<4.2}MB\n",
            "NAME",
            "SIZE",
            "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
            126.0,
            "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
            141.25
        );
        let list = parse_list(&text);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "debian-12-standard_12.7-1_amd64.tar.zst");
        assert_eq!(list[1].size_mb, 141.25);
        assert!(parse_list("").is_empty());
    }

    #[test]
    fn pveam_available_rows_are_section_and_template() {
        let rows = parse_available("system          debian-12-standard_12.7-1_amd64.tar.zst\nturnkeylinux    debian-12-turnkey-wordpress_18.0-1_amd64.tar.gz\n");
        assert_eq!(rows[1], ("turnkeylinux".to_owned(), "debian-12-turnkey-wordpress_18.0-1_amd64.tar.gz".to_owned()));
    }
}
