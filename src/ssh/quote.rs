//! The one audited shell-quoting function.
//!
//! Every value that reaches a remote shell goes through [`quote`]: the remote side runs our command
//! string through the login shell (`sh -c` semantics), so an unquoted value is code. POSIX single
//! quotes are the only quoting with no special characters inside them at all, which makes the rule
//! short enough to audit: wrap in `'…'`, and write each `'` as `'\''` (close, escaped quote, reopen).
//!
//! What this module must not do: decide *what* to run. Builders in `pve` do that.

/// Quote `value` so that a POSIX shell reads it back as exactly one word with exactly these bytes.
///
/// Words made only of characters that no shell treats specially are returned as they are, which
/// keeps commands readable in debug logs (`pct start 100`, not `'pct' 'start' '100'`).
pub fn quote(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(is_plain_byte) {
        return value.to_owned();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for ch in value.chars() {
        if ch == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(ch);
        }
    }
    quoted.push('\'');
    quoted
}

/// Join already-separate words into one command line, quoting each.
pub fn join<I, S>(words: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    words.into_iter().map(|w| quote(w.as_ref())).collect::<Vec<_>>().join(" ")
}

/// Bytes that are never special to a POSIX shell, in any position of a word.
///
/// `=` is left out because a first word `a=b` is an assignment, `~` because of tilde expansion;
/// globs, quotes, braces and whitespace need quoting anyway.
fn is_plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b':' | b'@' | b'%' | b'+' | b',')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Runs `printf %s <quoted>` through a real `sh -c` and returns what the shell saw.
    fn round_trip(value: &str) -> String {
        let script = format!("printf %s {}", quote(value));
        let out =
            Command::new("sh").arg("-c").arg(&script).output().expect("sh is available on every machine we build on");
        assert!(out.status.success(), "sh failed for {script:?}");
        String::from_utf8(out.stdout).expect("printf echoes its UTF-8 input")
    }

    #[test]
    fn plain_words_are_left_readable() {
        assert_eq!(quote("pct"), "pct");
        assert_eq!(quote("local-lvm:8"), "local-lvm:8");
        assert_eq!(quote("/etc/pve/nodes/pve/lxc/100.conf"), "/etc/pve/nodes/pve/lxc/100.conf");
        assert_eq!(quote("a=b"), "'a=b'", "a first word a=b would be an assignment");
    }

    #[test]
    fn empty_string_is_one_empty_word() {
        assert_eq!(quote(""), "''");
        assert_eq!(round_trip(""), "");
    }

    #[test]
    fn hostile_values_round_trip_through_sh_unchanged() {
        let corpus = [
            "a b",
            "it's",
            "'",
            "''",
            "\\'",
            "$(rm -rf /)",
            "`id`",
            "; reboot",
            "&& echo pwned",
            "| cat /etc/shadow",
            "$HOME",
            "${IFS}",
            "*",
            "?",
            "[a-z]",
            "~root",
            "line1\nline2",
            "tab\there",
            "-n",
            "--",
            "#comment",
            "!event",
            "a\\b",
            "\"double\"",
            "ünïcödé ✓",
            "\r\n",
            "%0A",
        ];
        for value in corpus {
            assert_eq!(round_trip(value), value, "value {value:?} changed in the shell");
        }
    }

    /// Property: any byte string without NUL (which no argv can carry) survives `sh -c`.
    ///
    /// A small deterministic generator instead of a property-testing crate: the alphabet is
    /// weighted towards shell metacharacters, and every run checks the same 2,000 cases, so a
    /// failure reproduces exactly.
    #[test]
    fn random_strings_round_trip_through_sh_unchanged() {
        const ALPHABET: &[char] = &[
            '\'', '"', '\\', '$', '`', '(', ')', '{', '}', '[', ']', ';', '&', '|', '<', '>', '*', '?', '~', '#', '!',
            ' ', '\t', '\n', '=', '%', 'a', 'Z', '0', '-', '/', 'é', '✓',
        ];
        let mut seed: u64 = 0x5eed_1e55_c0ff_ee00;
        let mut next = || {
            // xorshift64*: tiny, deterministic, good enough to spread choices.
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        // One shell invocation checks many values: keeps the test fast on slow machines.
        let mut values = Vec::new();
        for _ in 0..2000 {
            let len = (next() % 12) as usize;
            let value: String = (0..len).map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize]).collect();
            values.push(value);
        }
        let script = values.iter().map(|v| format!("printf '%s\\0' {}", quote(v))).collect::<Vec<_>>().join("\n");
        let out = Command::new("sh").arg("-c").arg(&script).output().expect("sh runs");
        assert!(out.status.success());
        let seen: Vec<String> =
            out.stdout.split(|b| *b == 0).map(|s| String::from_utf8(s.to_vec()).expect("utf-8")).collect();
        assert_eq!(seen.len(), values.len() + 1, "one trailing empty piece after the last NUL");
        for (want, got) in values.iter().zip(&seen) {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn join_keeps_word_boundaries() {
        let line = join(["pct", "set", "100", "--description", "two words; rm -rf /"]);
        assert_eq!(line, "pct set 100 --description 'two words; rm -rf /'");
    }
}
