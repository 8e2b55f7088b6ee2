//! Proxmox's command-line parameter handling (`PVE::JSONSchema::get_options` over Getopt::Long,
//! then schema verification), with its exact error texts.
//!
//! Options are `--name value`, `--name=value` or `-name value`, in any order among positional
//! arguments. Booleans take an optional value (`--start`, `--start 1`, `--start=no`). Every
//! failing parameter is reported at once under `400 Parameter verification failed.`.

use std::collections::BTreeMap;

use super::output::Failure;

/// The type and constraints of one parameter.
#[derive(Clone, Copy)]
pub enum Kind {
    Int {
        min: i64,
        max: i64,
    },
    Number {
        min: f64,
        max: f64,
    },
    Bool,
    Str {
        min_len: usize,
        max_len: usize,
    },
    Enum(&'static [&'static str]),
    /// A `pve-vmid`: integer, `^[1-9][0-9]{2,8}$`.
    Vmid,
    /// A format checked by a function; its error is shown as `invalid format - <error>`.
    Format(fn(param: &str, value: &str) -> Result<(), String>),
}

/// One named option.
pub struct Opt {
    pub name: &'static str,
    pub kind: Kind,
}

/// The parameters of one command.
pub struct Spec {
    /// Short usage line, e.g. `pct start <vmid> [OPTIONS]`.
    pub usage: &'static str,
    pub args: &'static [(&'static str, Kind)],
    /// Groups of options, so commands can share option lists (`pct create` and `pct set`).
    pub opts: &'static [&'static [Opt]],
    /// Indexed option families such as `net0`..`net31`: (prefix, highest index, kind).
    pub families: &'static [(&'static str, u32, Kind)],
}

/// Parsed and verified parameters.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pub args: Vec<String>,
    pub opts: BTreeMap<String, String>,
}

impl Params {
    pub fn arg(&self, i: usize) -> &str {
        self.args.get(i).map(String::as_str).unwrap_or("")
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.opts.get(name).map(String::as_str)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name) == Some("1")
    }

    pub fn vmid(&self, i: usize) -> u32 {
        self.arg(i).parse().unwrap_or(0)
    }
}

impl Spec {
    fn kind_of(&self, name: &str) -> Option<Kind> {
        if let Some(opt) = self.opts.iter().flat_map(|group| group.iter()).find(|o| o.name == name) {
            return Some(opt.kind);
        }
        self.families.iter().find_map(|(prefix, max, kind)| {
            let index = name.strip_prefix(prefix)?;
            let ok = !index.is_empty()
                && index.bytes().all(|b| b.is_ascii_digit())
                && !(index.len() > 1 && index.starts_with('0'))
                && index.parse::<u32>().is_ok_and(|i| i <= *max);
            ok.then_some(*kind)
        })
    }

    /// Parse and verify `argv` (everything after the sub-command).
    pub fn parse(&self, argv: &[String]) -> Result<Params, Failure> {
        self.parse_with_extra(argv, false)
    }

    /// Like [`Spec::parse`]; with `allow_extra`, surplus positional arguments are kept.
    pub fn parse_with_extra(&self, argv: &[String], allow_extra: bool) -> Result<Params, Failure> {
        let mut params = Params::default();
        let mut unknown = Vec::new();
        let mut bad_bool = false;
        let mut i = 0;
        while i < argv.len() {
            let arg = &argv[i];
            i += 1;
            if arg == "--" {
                params.args.extend(argv[i..].iter().cloned());
                break;
            }
            let Some(stripped) = option_name(arg) else {
                params.args.push(arg.clone());
                continue;
            };
            let (name, inline) = match stripped.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (stripped, None),
            };
            let Some(kind) = self.kind_of(name) else {
                unknown.push(format!("Unknown option: {name}"));
                continue;
            };
            let value = match (kind, inline) {
                (_, Some(v)) => v,
                (Kind::Bool, None) => match argv.get(i) {
                    Some(next) if option_name(next).is_none() && next != "--" => {
                        i += 1;
                        next.clone()
                    }
                    _ => String::new(),
                },
                (_, None) => match argv.get(i) {
                    Some(next) => {
                        i += 1;
                        next.clone()
                    }
                    None => {
                        unknown.push(format!("Option {name} requires an argument"));
                        continue;
                    }
                },
            };
            let value = if matches!(kind, Kind::Bool) {
                match parse_boolean(&value) {
                    Some(b) => b.to_string(),
                    None => {
                        bad_bool = true;
                        value
                    }
                }
            } else {
                value
            };
            params.opts.insert(name.to_owned(), value);
        }

        if !unknown.is_empty() {
            return Err(Failure::getopt(&unknown, "unable to parse option", self.usage));
        }
        if bad_bool {
            return Err(Failure::getopt(&[], "unable to parse boolean option", self.usage));
        }
        if params.args.len() < self.args.len() {
            return Err(Failure::getopt(&[], "not enough arguments", self.usage));
        }
        if params.args.len() > self.args.len() && !allow_extra {
            return Err(Failure::getopt(&[], "too many arguments", self.usage));
        }

        let mut errors = Vec::new();
        for ((name, kind), value) in self.args.iter().zip(&params.args) {
            if let Err(e) = check(name, *kind, value) {
                errors.push((name.to_string(), e));
            }
        }
        for (name, value) in &params.opts {
            if let Some(kind) = self.kind_of(name) {
                if let Err(e) = check(name, kind, value) {
                    errors.push((name.clone(), e));
                }
            }
        }
        if !errors.is_empty() {
            errors.sort();
            return Err(Failure::params(&errors, self.usage));
        }
        Ok(params)
    }
}

/// `-x`/`--x` (but not a negative number, which is a value).
fn option_name(arg: &str) -> Option<&str> {
    let stripped = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    let first = stripped.chars().next()?;
    if first.is_ascii_digit() {
        return None;
    }
    Some(stripped)
}

/// `PVE::JSONSchema::parse_boolean`.
pub fn parse_boolean(value: &str) -> Option<u8> {
    match value.to_ascii_lowercase().as_str() {
        "" | "1" | "on" | "yes" | "true" => Some(1),
        "0" | "off" | "no" | "false" => Some(0),
        _ => None,
    }
}

/// Verify one value against its kind, returning Proxmox's message.
pub fn check(param: &str, kind: Kind, value: &str) -> Result<(), String> {
    match kind {
        Kind::Int { min, max } => {
            let n = parse_integer(value).ok_or_else(|| format!("type check ('integer') failed - got '{value}'"))?;
            check_range(n as f64, min as f64, max as f64, |v| v.to_string())
        }
        Kind::Number { min, max } => {
            let n: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| format!("type check ('number') failed - got '{value}'"))?;
            check_range(n, min, max, |v| v.to_string())
        }
        Kind::Bool => match parse_boolean(value) {
            Some(_) => Ok(()),
            None => Err(format!("type check ('boolean') failed - got '{value}'")),
        },
        Kind::Str { min_len, max_len } => {
            let len = value.chars().count();
            if len > max_len {
                Err(format!("value may only be {max_len} characters long"))
            } else if len < min_len {
                Err(format!("value must be at least {min_len} characters long"))
            } else {
                Ok(())
            }
        }
        Kind::Enum(values) => {
            if values.contains(&value) {
                Ok(())
            } else {
                Err(format!("value '{value}' does not have a value in the enumeration '{}'", values.join(", ")))
            }
        }
        Kind::Vmid => {
            parse_integer(value).ok_or_else(|| format!("type check ('integer') failed - got '{value}'"))?;
            if !is_vmid(value) {
                return Err("invalid format - value does not look like a valid VM ID".to_owned());
            }
            Ok(())
        }
        Kind::Format(f) => f(param, value).map_err(|e| format!("invalid format - {e}")),
    }
}

fn check_range(n: f64, min: f64, max: f64, show: impl Fn(f64) -> String) -> Result<(), String> {
    if n < min {
        return Err(format!("value must have a minimum value of {}", show(min)));
    }
    if n > max {
        return Err(format!("value must have a maximum value of {}", show(max)));
    }
    Ok(())
}

fn parse_integer(value: &str) -> Option<i64> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// `^[1-9][0-9]{2,8}$`
pub fn is_vmid(value: &str) -> bool {
    let bytes = value.as_bytes();
    (3..=9).contains(&bytes.len()) && bytes[0] != b'0' && bytes.iter().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        usage: "pct demo <vmid> [OPTIONS]",
        args: &[("vmid", Kind::Vmid)],
        opts: &[&[
            Opt { name: "memory", kind: Kind::Int { min: 16, max: i64::MAX } },
            Opt { name: "start", kind: Kind::Bool },
            Opt { name: "arch", kind: Kind::Enum(&["amd64", "i386"]) },
        ]],
        families: &[("net", 31, Kind::Str { min_len: 0, max_len: 100 })],
    };

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn options_may_come_before_or_after_positionals() {
        let p = SPEC.parse(&argv(&["--memory", "512", "100", "--start", "--net0=name=eth0"])).expect("ok");
        assert_eq!(p.arg(0), "100");
        assert_eq!(p.get("memory"), Some("512"));
        assert_eq!(p.get("start"), Some("1"));
        assert_eq!(p.get("net0"), Some("name=eth0"));
    }

    #[test]
    fn verification_errors_match_proxmox_texts() {
        let err = SPEC.parse(&argv(&["100", "--memory", "8"])).unwrap_err();
        assert_eq!(
            err.message,
            "400 Parameter verification failed.\nmemory: value must have a minimum value of 16\npct demo <vmid> [OPTIONS]"
        );
        let err = SPEC.parse(&argv(&["abc"])).unwrap_err();
        assert!(err.message.contains("vmid: type check ('integer') failed - got 'abc'"));
        let err = SPEC.parse(&argv(&["0100"])).unwrap_err();
        assert!(err.message.contains("vmid: invalid format - value does not look like a valid VM ID\n\n"));
        let err = SPEC.parse(&argv(&["100", "--arch", "x"])).unwrap_err();
        assert!(err.message.contains("arch: value 'x' does not have a value in the enumeration 'amd64, i386'"));
        assert_eq!(err.code, 255);
    }

    #[test]
    fn getopt_failures_name_the_problem() {
        let err = SPEC.parse(&argv(&["100", "--foo", "1"])).unwrap_err();
        assert_eq!(err.message, "Unknown option: foo\n400 unable to parse option\npct demo <vmid> [OPTIONS]");
        let err = SPEC.parse(&argv(&[])).unwrap_err();
        assert!(err.message.starts_with("400 not enough arguments\n"));
        let err = SPEC.parse(&argv(&["100", "101"])).unwrap_err();
        assert!(err.message.starts_with("400 too many arguments\n"));
        let err = SPEC.parse(&argv(&["100", "--start", "maybe"])).unwrap_err();
        assert!(err.message.starts_with("400 unable to parse boolean option\n"));
    }

    #[test]
    fn option_families_are_bounded() {
        assert!(SPEC.parse(&argv(&["100", "--net31", "x"])).is_ok());
        assert!(SPEC.parse(&argv(&["100", "--net32", "x"])).is_err());
        assert!(SPEC.parse(&argv(&["100", "--net01", "x"])).is_err());
    }
}
