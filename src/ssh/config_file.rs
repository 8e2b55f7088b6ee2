//! The OpenSSH client configuration (`~/.ssh/config`) as ssh_config(5) reads it, for the keys
//! the provider uses: `HostName`, `Port`, `User`, `IdentityFile`, `IdentitiesOnly`,
//! `ProxyJump`, `UserKnownHostsFile`, `StrictHostKeyChecking`, `ConnectTimeout`.
//!
//! Semantics kept from OpenSSH (`readconf.c`): keywords are case-insensitive and separated from
//! their arguments by spaces or one `=`; arguments may be double-quoted; for each keyword the
//! first value obtained wins; a `Host` line's patterns use `*` and `?`, case-sensitively
//! (`match.c` `match_pattern`), each pattern a word (a comma is part of it), and a line matches
//! when one pattern matches and no negated (`!`) one does; options before the first `Host` apply
//! to every host; `Include` reads files (globs allowed, relative paths under `~/.ssh`) in place:
//! under a block that does not apply, nothing it holds applies (`SSHCONF_NEVERMATCH`), and the
//! enclosing block's state comes back after it.
//!
//! `Match` (`match_cfg_line`) is evaluated for `all`, `host` (the `HostName` obtained so far,
//! else the alias), `originalhost`, `user` (the `User` obtained so far, else the local user),
//! `localuser`, and the criteria that are false in ssh's first pass (`canonical`, `final`).
//! A block whose other criteria hold but that needs one we cannot evaluate (`exec`, `tagged`,
//! `localnetwork`, …) is an error naming the line: silently skipping it could let a later block
//! decide a host key policy or a user that `ssh` would not use.
//!
//! Written here rather than taken from a crate: the parsers available resolve only some of these
//! keys (or let the last value win), and this is ~200 lines with OpenSSH's own rules.

use std::path::{Path, PathBuf};

/// How deep `Include` may nest (OpenSSH's `READCONF_MAX_DEPTH`).
const MAX_DEPTH: usize = 16;

/// The parsed file: lines in order, includes expanded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SshConfig {
    lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq)]
enum Line {
    /// `Host` patterns.
    Host(Vec<String>),
    /// `Match` criteria, and where the line is (for errors).
    Match(Vec<String>, String),
    Option(String, Vec<String>),
    /// An `Include`d file starts: its blocks never apply when the block it sits in does not.
    IncludeStart,
    /// It ends: the enclosing block's state comes back.
    IncludeEnd,
}

/// What the file says about one host alias.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostOptions {
    pub hostname: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: Option<bool>,
    /// `ProxyJump` hops, `[user@]host[:port]`, in order; empty for `none`.
    pub proxy_jump: Vec<String>,
    pub user_known_hosts_file: Option<PathBuf>,
    /// `no`/`off`: accept any key; `yes`/`accept-new`/`ask`: check (the provider never writes
    /// known_hosts, so `accept-new` checks like `yes`).
    pub strict_host_key_checking: Option<bool>,
    pub connect_timeout: Option<u64>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}

/// `~`, `%d` (home), `%h` (the host), `%%`.
fn expand(value: &str, host: &str) -> String {
    expand_tokens(value, &[('h', host)])
}

/// `~`, `%d`, `%%`, `%u` (the local user) and the `tokens` given (`ssh.c` `percent_expand` with
/// the connection's `cinfo`); an unknown `%x` stays as written.
fn expand_tokens(value: &str, tokens: &[(char, &str)]) -> String {
    let value = match value.strip_prefix("~/") {
        Some(rest) => format!("{}/{rest}", home().display()),
        None => value.to_owned(),
    };
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, c == '%') {
            (_, true) => match chars.next() {
                Some('d') => out.push_str(&home().display().to_string()),
                Some('%') => out.push('%'),
                Some('u') => out.push_str(&local_user()),
                Some(token) => match tokens.iter().find(|(t, _)| *t == token) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('%');
                        out.push(token);
                    }
                },
                None => out.push('%'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// `*` any run, `?` one character, ignoring ASCII case (OpenSSH's patterns; also the
/// `hostname` filter of `list "lws_container"`).
pub fn wildcard(pattern: &str, text: &str) -> bool {
    glob(pattern, text, true)
}

/// OpenSSH's `match_pattern`: `*` and `?`; case-sensitive unless `fold_case` (ASCII), as
/// `match_pattern_list`'s `dolower` lowercases both sides.
fn glob(pattern: &str, text: &str, fold_case: bool) -> bool {
    fn go(p: &[char], t: &[char], fold_case: bool) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t, fold_case) || (!t.is_empty() && go(p, &t[1..], fold_case)),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..], fold_case),
            (Some(a), Some(b)) if a == b || (fold_case && a.eq_ignore_ascii_case(b)) => go(&p[1..], &t[1..], fold_case),
            _ => false,
        }
    }
    go(&pattern.chars().collect::<Vec<_>>(), &text.chars().collect::<Vec<_>>(), fold_case)
}

/// One positive pattern matching `text` and no negated (`!`) one.
fn negatable_match<'a>(patterns: impl IntoIterator<Item = &'a str>, text: &str, fold_case: bool) -> bool {
    let mut matched = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) if glob(negated, text, fold_case) => return false,
            Some(_) => {}
            None => matched |= glob(pattern, text, fold_case),
        }
    }
    matched
}

/// A `Host` line's patterns against `host` (`readconf.c`: each word a pattern, a comma part of
/// it, case-sensitive).
fn host_matches(patterns: &[String], host: &str) -> bool {
    negatable_match(patterns.iter().map(String::as_str), host, false)
}

/// `match_pattern_list` (the `Match` criteria's lists, known_hosts host fields):
/// comma-separated patterns, `!` negates, case-insensitive for host names (`dolower`).
pub fn pattern_list(list: &str, text: &str, fold_case: bool) -> bool {
    negatable_match(list.split(','), text, fold_case)
}

/// The local login name (`ssh.c`: `pw->pw_name`), for `Match localuser` and the default user.
pub fn local_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "root".to_owned())
}

/// Split a line into words: spaces separate, one `=` may separate the keyword, double quotes
/// group.
fn words(line: &str) -> Result<Vec<String>, String> {
    let line = line.trim();
    let (keyword, rest) = match line.find(|c: char| c.is_whitespace() || c == '=') {
        Some(at) => (&line[..at], line[at..].trim_start().strip_prefix('=').unwrap_or(line[at..].trim_start())),
        None => (line, ""),
    };
    let mut out = vec![keyword.to_owned()];
    let mut current = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in rest.trim().chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(format!("unbalanced quote in `{line}`"));
    }
    if any {
        out.push(current);
    }
    Ok(out)
}

/// Files an `Include` argument names (a `*`/`?` glob in its last component).
fn included(argument: &str, base: &Path) -> Vec<PathBuf> {
    let expanded = expand(argument, "");
    let path = if Path::new(&expanded).is_absolute() { PathBuf::from(expanded) } else { base.join(expanded) };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !name.contains(['*', '?']) {
        return vec![path];
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries.flatten().filter(|e| wildcard(&name, &e.file_name().to_string_lossy())).map(|e| e.path()).collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

impl SshConfig {
    /// Read `path`; relative `Include`s resolve under `~/.ssh`, as for a user's file.
    pub fn load(path: &Path) -> Result<SshConfig, String> {
        let mut config = SshConfig::default();
        config.read(path, &home().join(".ssh"), 0)?;
        Ok(config)
    }

    pub fn parse(text: &str, include_base: &Path) -> Result<SshConfig, String> {
        let mut config = SshConfig::default();
        config.read_text(text, "<text>", include_base, 0)?;
        Ok(config)
    }

    fn read(&mut self, path: &Path, base: &Path, depth: usize) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.read_text(&text, &path.display().to_string(), base, depth)
    }

    fn read_text(&mut self, text: &str, shown: &str, base: &Path, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("{shown}: Include nested more than {MAX_DEPTH} deep"));
        }
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = words(line).map_err(|e| format!("{shown} line {}: {e}", number + 1))?;
            let keyword = words.remove(0).to_ascii_lowercase();
            match keyword.as_str() {
                "host" => self.lines.push(Line::Host(words)),
                "match" => self.lines.push(Line::Match(words, format!("{shown} line {}", number + 1))),
                "include" => {
                    for argument in &words {
                        for file in included(argument, base) {
                            if file.exists() {
                                self.lines.push(Line::IncludeStart);
                                self.read(&file, base, depth + 1)?;
                                self.lines.push(Line::IncludeEnd);
                            }
                        }
                    }
                }
                _ => self.lines.push(Line::Option(keyword, words)),
            }
        }
        Ok(())
    }

    /// The options that apply to `host` (the name as given, before `HostName`); an error when a
    /// `Match` that may apply cannot be evaluated, or a value ssh would refuse.
    pub fn options_for(&self, host: &str) -> Result<HostOptions, String> {
        let mut first: Vec<(&str, &[String])> = Vec::new();
        let mut active = true;
        // Per open Include: the state to restore, and whether its blocks can never apply.
        let mut includes: Vec<(bool, bool)> = Vec::new();
        let never = |includes: &[(bool, bool)]| includes.iter().any(|(_, never)| *never);
        for line in &self.lines {
            match line {
                Line::IncludeStart => includes.push((active, !active || never(&includes))),
                Line::IncludeEnd => active = includes.pop().map(|(restore, _)| restore).unwrap_or(true),
                Line::Host(patterns) => active = !never(&includes) && host_matches(patterns, host),
                Line::Match(criteria, at) => {
                    let obtained =
                        |key: &str| first.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.first()).cloned();
                    let (hostname, user) = (obtained("hostname"), obtained("user"));
                    active =
                        !never(&includes) && match_applies(criteria, at, host, hostname.as_deref(), user.as_deref())?;
                }
                Line::Option(key, values) if active => {
                    // IdentityFile accumulates; every other keyword keeps its first value.
                    if key == "identityfile" || !first.iter().any(|(k, _)| k == key) {
                        first.push((key.as_str(), values.as_slice()));
                    }
                }
                Line::Option(..) => {}
            }
        }
        let one = |key: &str| first.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.first()).map(String::as_str);
        let yes_no = |key: &str| one(key).map(|v| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true"));
        // `parse_jump`: ProxyCommand and ProxyJump exclude each other, the first obtained wins.
        let proxy_command = first.iter().position(|(k, _)| *k == "proxycommand");
        let proxy_jump = first.iter().position(|(k, _)| *k == "proxyjump");
        let jump_words: Option<String> = match (proxy_command, proxy_jump) {
            (Some(c), j) if j.is_none_or(|j| c < j) => {
                let command = first[c].1.join(" ");
                if !command.eq_ignore_ascii_case("none") {
                    return Err(format!(
                        "ssh_config gives {host} `ProxyCommand {command}`, which the provider does not run: use ProxyJump, or the zone's jump setting"
                    ));
                }
                None
            }
            (_, Some(j)) => Some(first[j].1.join("")),
            _ => None,
        };
        // `readconf.c` `multistate_strict_hostkey`: yes/true, no/false, ask, accept-new, off.
        let strict = match one("stricthostkeychecking").map(str::to_ascii_lowercase) {
            None => None,
            Some(v) if matches!(v.as_str(), "yes" | "true" | "ask" | "accept-new") => Some(true),
            Some(v) if matches!(v.as_str(), "no" | "false" | "off") => Some(false),
            Some(v) => return Err(format!("ssh_config gives {host} `StrictHostKeyChecking {v}`, which ssh refuses")),
        };
        // `ssh.c`: IdentityFile and UserKnownHostsFile see `%h` as the host connected to (the
        // `HostName`, lowercased), `%n` as the name given, `%p` the port, `%r` the user.
        let hostname = one("hostname").map(|h| expand(h, host));
        let remote = hostname.clone().unwrap_or_else(|| host.to_owned()).to_ascii_lowercase();
        let port = one("port").unwrap_or("22").to_owned();
        let remote_user = one("user").map(str::to_owned).unwrap_or_else(local_user);
        let tokens = [('h', remote.as_str()), ('n', host), ('p', port.as_str()), ('r', remote_user.as_str())];
        Ok(HostOptions {
            hostname,
            port: one("port").and_then(|p| p.parse().ok()),
            user: one("user").map(str::to_owned),
            identity_files: first
                .iter()
                .filter(|(k, _)| *k == "identityfile")
                .filter_map(|(_, v)| v.first())
                .map(|f| PathBuf::from(expand_tokens(f, &tokens)))
                .collect(),
            identities_only: yes_no("identitiesonly"),
            proxy_jump: match jump_words {
                None => Vec::new(),
                Some(v) if v.eq_ignore_ascii_case("none") => Vec::new(),
                Some(v) => v.split(',').map(|hop| hop.trim().trim_start_matches("ssh://").to_owned()).collect(),
            },
            user_known_hosts_file: one("userknownhostsfile").map(|f| PathBuf::from(expand_tokens(f, &tokens))),
            strict_host_key_checking: strict,
            connect_timeout: one("connecttimeout").and_then(|t| t.parse().ok()),
        })
    }
}

/// `readconf.c` `match_cfg_line` for the first pass: every criterion must hold (`!` negates
/// one); `all` alone; `canonical` and `final` are false here. A criterion we cannot evaluate is
/// an error only when all the others hold (otherwise the block is decided without it).
fn match_applies(
    criteria: &[String],
    at: &str,
    host: &str,
    hostname: Option<&str>,
    user: Option<&str>,
) -> Result<bool, String> {
    let mut words = criteria.iter();
    let mut holds = true;
    let mut unknown: Option<String> = None;
    while let Some(word) = words.next() {
        let (negated, criterion) = match word.strip_prefix('!') {
            Some(rest) => (true, rest.to_ascii_lowercase()),
            None => (false, word.to_ascii_lowercase()),
        };
        let result = match criterion.as_str() {
            "all" => Some(true),
            "canonical" | "final" => Some(false),
            "host" | "originalhost" | "user" | "localuser" => {
                let list = words.next().ok_or_else(|| format!("{at}: Match {criterion} needs an argument"))?;
                Some(match criterion.as_str() {
                    "host" => {
                        let name = hostname.map(|h| expand(h, host)).unwrap_or_else(|| host.to_owned());
                        pattern_list(list, &name, true)
                    }
                    "originalhost" => pattern_list(list, host, true),
                    "user" => pattern_list(list, &user.map(str::to_owned).unwrap_or_else(local_user), false),
                    _ => pattern_list(list, &local_user(), false),
                })
            }
            other => {
                // exec, localnetwork, tagged, version, sessiontype, command…: takes an argument.
                let _ = words.next();
                unknown.get_or_insert_with(|| other.to_owned());
                None
            }
        };
        if let Some(result) = result {
            holds &= result != negated;
        }
    }
    match unknown {
        Some(criterion) if holds => Err(format!(
            "{at}: `Match {}` may apply to {host}, and the provider cannot evaluate `{criterion}`; give the host a Host block before it, or the provider's own settings",
            criteria.join(" ")
        )),
        _ => Ok(holds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
# defaults for everyone come last in practice, but options before any Host apply too
ConnectTimeout 7

Host pve-* !pve-lab
  User admin
  IdentityFile ~/.ssh/pve_ed25519
  ProxyJump jump@bastion.example:2222

Host pve-1
  HostName 10.0.0.11
  Port=2201
  User root

Host bastion
  HostName "bastion.example"
  StrictHostKeyChecking no

Host *
  User fallback
  UserKnownHostsFile %d/.ssh/known_hosts_lws
  IdentityFile ~/.ssh/id_ed25519
"#;

    fn config() -> SshConfig {
        SshConfig::parse(CONFIG, Path::new("/nonexistent")).expect("parses")
    }

    #[test]
    fn the_first_value_obtained_wins_and_identity_files_accumulate() {
        let o = config().options_for("pve-1").expect("options");
        assert_eq!(o.user.as_deref(), Some("admin"), "pve-* came first");
        assert_eq!(o.hostname.as_deref(), Some("10.0.0.11"));
        assert_eq!(o.port, Some(2201), "`=` separates too");
        assert_eq!(o.proxy_jump, ["jump@bastion.example:2222"]);
        assert_eq!(o.connect_timeout, Some(7), "options before any Host apply everywhere");
        let files: Vec<String> = o.identity_files.iter().map(|p| p.display().to_string()).collect();
        assert!(files[0].ends_with("/.ssh/pve_ed25519") && files[1].ends_with("/.ssh/id_ed25519"), "{files:?}");
        assert!(o.user_known_hosts_file.is_some_and(|p| p.ends_with(".ssh/known_hosts_lws")));
    }

    #[test]
    fn negated_patterns_exclude_and_quotes_group() {
        let lab = config().options_for("pve-lab").expect("options");
        assert_eq!(lab.user.as_deref(), Some("fallback"), "!pve-lab keeps the pve-* block away");
        assert!(lab.proxy_jump.is_empty());
        let bastion = config().options_for("bastion").expect("options");
        assert_eq!(bastion.hostname.as_deref(), Some("bastion.example"));
        assert_eq!(bastion.strict_host_key_checking, Some(false));
        assert_eq!(config().options_for("other").expect("options").hostname, None);
    }

    #[test]
    fn includes_are_read_in_place_within_their_block() {
        let dir = std::env::temp_dir().join(format!("lws-ssh-config-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).expect("dir");
        std::fs::write(dir.join("conf.d/10-pve.conf"), "Host pve\n  HostName 192.0.2.7\n").expect("write");
        std::fs::write(dir.join("legacy.conf"), "Host *\n  StrictHostKeyChecking no\n").expect("write");
        let text = "Host legacy-*\nInclude legacy.conf\nHost *\nInclude conf.d/*.conf\nHost *\n  User someone\n";
        let config = SshConfig::parse(text, &dir).expect("parses");
        let o = config.options_for("pve").expect("options");
        assert_eq!(o.hostname.as_deref(), Some("192.0.2.7"));
        assert_eq!(o.user.as_deref(), Some("someone"));
        assert_eq!(o.strict_host_key_checking, None, "a file included under Host legacy-* never applies to pve");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn match_blocks_apply_as_ssh_decides_them() {
        let parse = |text: &str| SshConfig::parse(text, Path::new("/nonexistent")).expect("parses");
        let config = parse(
            "Host pve1\n  HostName 10.0.0.11\nMatch host 10.0.0.* !originalhost pve9\n  StrictHostKeyChecking yes\n  User ops\nMatch all\n  StrictHostKeyChecking no\n",
        );
        let o = config.options_for("pve1").expect("options");
        assert_eq!(
            (o.strict_host_key_checking, o.user.as_deref()),
            (Some(true), Some("ops")),
            "Match host sees HostName"
        );
        let o = config.options_for("other").expect("options");
        assert_eq!(o.strict_host_key_checking, Some(false), "Match all applies to everyone else");
        // A criterion the provider cannot run decides nothing silently.
        let config = parse("Match host pve* exec \"test -f /x\"\n  StrictHostKeyChecking no\n");
        let error = config.options_for("pve1").expect_err("undecidable");
        assert!(error.contains("<text> line 1") && error.contains("`exec`"), "{error}");
        assert!(config.options_for("other").is_ok(), "decided by `host` alone");
    }

    #[test]
    fn tokens_name_the_host_connected_to() {
        let config = SshConfig::parse(
            "Host pve1\n  HostName 10.0.0.11\n  Port 2222\n  User ops\n  UserKnownHostsFile /kh/%h-%p\n  IdentityFile /keys/%n-%r\n",
            Path::new("/x"),
        )
        .expect("parses");
        let o = config.options_for("pve1").expect("options");
        assert_eq!(o.user_known_hosts_file.as_deref(), Some(Path::new("/kh/10.0.0.11-2222")));
        assert_eq!(o.identity_files, [PathBuf::from("/keys/pve1-ops")]);
    }

    #[test]
    fn host_patterns_are_case_sensitive_words() {
        let config = SshConfig::parse("Host PVE-LAB a,b\n  User wrong\nHost *\n  User right\n", Path::new("/x"))
            .expect("parses");
        for host in ["pve-lab", "a", "b"] {
            assert_eq!(config.options_for(host).expect("options").user.as_deref(), Some("right"), "{host}");
        }
        assert_eq!(config.options_for("a,b").expect("options").user.as_deref(), Some("wrong"));
    }

    #[test]
    fn proxies_and_host_key_checking_as_ssh_reads_them() {
        let parse = |text: &str| SshConfig::parse(text, Path::new("/x")).expect("parses");
        let o = parse("Host *\n  ProxyJump a, b:2222\n").options_for("pve").expect("options");
        assert_eq!(o.proxy_jump, ["a", "b:2222"]);
        let error = parse("Host pve\n  ProxyCommand ssh -W %h:%p gw1\nHost *\n  ProxyJump gw2\n").options_for("pve");
        assert!(error.expect_err("not run").contains("ProxyCommand ssh -W %h:%p gw1"));
        let o = parse("Host pve\n  ProxyCommand none\nHost *\n  ProxyJump gw2\n").options_for("pve").expect("options");
        assert!(o.proxy_jump.is_empty(), "ProxyCommand none came first: a direct connection");
        let o = parse("Host *\n  StrictHostKeyChecking false\n").options_for("pve").expect("options");
        assert_eq!(o.strict_host_key_checking, Some(false));
        assert!(parse("Host *\n  StrictHostKeyChecking maybe\n").options_for("pve").is_err());
    }
}
