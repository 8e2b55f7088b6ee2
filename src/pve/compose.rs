//! The files of a Docker Compose app as LWS lays them out and as Compose reads them: the
//! compose file generated for a single image (its settings recorded on the first line, so a
//! read or an import gets them back), the `.env` file, and reading a compose text the way
//! compose-go does (merge keys resolved, named volumes declared).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;

/// First line of a compose file generated from `image` & co; the rest of the line records
/// those settings so a read (or an import) gets them back.
pub const SPEC_MARK: &str = "# lws-docker-app: ";

/// The single-service spec of image mode.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageSpec {
    pub image: String,
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    pub restart: String,
    pub command: Option<String>,
    pub env_file: bool,
}

/// A YAML (JSON-quoted) string Compose reads back as `text`: `$` is doubled, since Compose
/// interpolates `$VAR`/`${VAR}` in every value of the file (compose-spec "Interpolation").
fn quoted(text: &str) -> String {
    serde_json::to_string(&text.replace('$', "$$")).unwrap_or_default()
}

/// The named volume a service's `volumes` entry uses, if any: in the short syntax
/// `SOURCE:TARGET[:MODE]`, a source that is not a path (`/`, `.`, `~`) names a volume, which the
/// file must declare at the top level (compose-spec "volumes"; compose-go: "refers to undefined
/// volume").
fn named_volume(entry: &str) -> Option<&str> {
    let (source, _) = entry.split_once(':')?;
    (!source.is_empty() && !source.starts_with(['/', '.', '~', '$'])).then_some(source)
}

/// The compose file of image mode (YAML written by hand: flow style, JSON-quoted strings).
pub fn render_image_compose(name: &str, spec: &ImageSpec) -> String {
    let mut out = format!(
        "{SPEC_MARK}{}\nservices:\n  {name}:\n    image: {}\n    restart: {}\n",
        json!(spec),
        quoted(&spec.image),
        quoted(&spec.restart)
    );
    if let Some(command) = &spec.command {
        out.push_str(&format!("    command: {}\n", quoted(command)));
    }
    for (key, list) in [("ports", &spec.ports), ("volumes", &spec.volumes)] {
        if !list.is_empty() {
            out.push_str(&format!("    {key}:\n"));
            for item in list {
                out.push_str(&format!("      - {}\n", quoted(item)));
            }
        }
    }
    if spec.env_file {
        out.push_str("    env_file: [\".env\"]\n");
    }
    let mut named: Vec<&str> = spec.volumes.iter().filter_map(|v| named_volume(v)).collect();
    named.sort();
    named.dedup();
    if !named.is_empty() {
        out.push_str("volumes:\n");
        for volume in named {
            out.push_str(&format!("  {}: {{}}\n", quoted(volume)));
        }
    }
    out
}

pub fn parse_image_compose(text: &str) -> Option<ImageSpec> {
    serde_json::from_str(text.lines().next()?.strip_prefix(SPEC_MARK)?).ok()
}

/// `.env`: `KEY='value'`, or double quotes (escaped) when the value holds a single quote.
pub fn render_env(env: &BTreeMap<String, String>) -> String {
    env.iter()
        .map(|(k, v)| {
            if v.contains('\'') {
                let escaped = v.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$");
                format!("{k}=\"{escaped}\"\n")
            } else {
                format!("{k}='{v}'\n")
            }
        })
        .collect()
}

pub fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let value = if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                inner.to_owned()
            } else if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                inner.replace("\\$", "$").replace("\\\"", "\"").replace("\\\\", "\\")
            } else {
                v.to_owned()
            };
            (k.trim().to_owned(), value)
        })
        .collect()
}

/// Service names a compose text defines, read as Compose reads it: YAML merge keys (`<<:`)
/// resolved, `x-` extensions ignored, and every named volume a service uses declared.
pub fn compose_services(text: &str) -> Result<Vec<String>, String> {
    let mut doc: serde_norway::Value = serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    doc.apply_merge().map_err(|e| format!("invalid YAML merge key: {e}"))?;
    let services =
        doc.get("services").and_then(|s| s.as_mapping()).ok_or("a compose file needs a `services:` mapping")?;
    let declared = doc.get("volumes").and_then(|v| v.as_mapping());
    let mut names = Vec::new();
    for (name, spec) in services {
        let name = name.as_str().unwrap_or_default().to_owned();
        if spec.get("image").is_none() && spec.get("build").is_none() {
            return Err(format!("service \"{name}\" has neither an image nor a build context"));
        }
        let volumes = spec.get("volumes").and_then(|v| v.as_sequence()).into_iter().flatten();
        for volume in volumes.filter_map(|v| v.as_str()).filter_map(named_volume) {
            if !declared.is_some_and(|d| d.contains_key(volume)) {
                return Err(format!(
                    "service \"{name}\" refers to undefined volume {volume}: declare it under a top-level `volumes:` key"
                ));
            }
        }
        // compose-go `checkConsistency`: every network a service joins is declared (`default`
        // always exists).
        let declared_networks = doc.get("networks").and_then(|n| n.as_mapping());
        let joined: Vec<String> = match spec.get("networks") {
            Some(serde_norway::Value::Sequence(list)) => {
                list.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect()
            }
            Some(serde_norway::Value::Mapping(map)) => {
                map.keys().filter_map(|n| n.as_str().map(str::to_owned)).collect()
            }
            _ => Vec::new(),
        };
        for network in joined.iter().filter(|n| n.as_str() != "default") {
            if !declared_networks.is_some_and(|d| d.contains_key(network.as_str())) {
                return Err(format!(
                    "service \"{name}\" refers to undefined network {network}: declare it under a top-level `networks:` key"
                ));
            }
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Services of a compose text that run to completion: others wait for them to exit with status 0
/// (`depends_on: {migrate: {condition: service_completed_successfully}}`, the Compose
/// specification's `depends_on` long syntax). Exited with status 0, such a job is done, not down.
pub fn completing_services(text: &str) -> BTreeSet<String> {
    let Ok(mut doc) = serde_norway::from_str::<serde_norway::Value>(text) else { return BTreeSet::new() };
    if doc.apply_merge().is_err() {
        return BTreeSet::new();
    }
    let services = doc.get("services").and_then(|s| s.as_mapping()).into_iter().flatten();
    services
        .filter_map(|(_, spec)| spec.get("depends_on")?.as_mapping())
        .flatten()
        .filter(|(_, dep)| dep.get("condition").and_then(|c| c.as_str()) == Some("service_completed_successfully"))
        .filter_map(|(name, _)| name.as_str().map(str::to_owned))
        .collect()
}

/// Two compose texts that parse to the same YAML are the same app.
pub fn same_yaml(a: &str, b: &str) -> bool {
    match (serde_norway::from_str::<serde_norway::Value>(a), serde_norway::from_str::<serde_norway::Value>(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_mode_compose_files_carry_their_spec_and_are_valid_compose() {
        let spec = ImageSpec {
            image: "nginx:1.25".into(),
            ports: vec!["8080:80".into()],
            volumes: vec![],
            restart: "unless-stopped".into(),
            command: None,
            env_file: true,
        };
        let text = render_image_compose("web", &spec);
        assert_eq!(parse_image_compose(&text), Some(spec));
        assert_eq!(compose_services(&text), Ok(vec!["web".to_owned()]));
    }

    #[test]
    fn image_mode_escapes_dollars_and_declares_named_volumes() {
        let spec = ImageSpec {
            image: "busybox".into(),
            ports: vec![],
            volumes: vec!["data:/data".into(), "/srv/x:/x:ro".into(), "./rel:/rel".into()],
            restart: "no".into(),
            command: Some("sh -c 'echo $HOME $5'".into()),
            env_file: false,
        };
        let text = render_image_compose("job", &spec);
        assert!(text.contains(r#"command: "sh -c 'echo $$HOME $$5'""#), "{text}");
        assert!(text.ends_with("volumes:\n  \"data\": {}\n"), "{text}");
        assert_eq!(compose_services(&text), Ok(vec!["job".to_owned()]));
        assert_eq!(parse_image_compose(&text), Some(spec));
    }

    #[test]
    fn compose_files_are_read_as_compose_reads_them() {
        let merged = "x-common: &common\n  image: nginx\n  restart: always\nservices:\n  web:\n    <<: *common\n    ports: [\"80:80\"]\n";
        assert_eq!(compose_services(merged), Ok(vec!["web".to_owned()]));
        let undeclared = "services:\n  db:\n    image: postgres\n    volumes: [\"pgdata:/var/lib/postgresql/data\"]\n";
        assert!(compose_services(undeclared).unwrap_err().contains("refers to undefined volume pgdata"));
        let declared = format!("{undeclared}volumes:\n  pgdata: {{}}\n");
        assert_eq!(compose_services(&declared), Ok(vec!["db".to_owned()]));
        let network = "services:\n  web:\n    image: nginx\n    networks: [front, default]\n";
        assert!(compose_services(network).unwrap_err().contains("refers to undefined network front"));
        assert_eq!(compose_services(&format!("{network}networks:\n  front: {{}}\n")), Ok(vec!["web".to_owned()]));
    }

    #[test]
    fn env_files_round_trip_awkward_values() {
        let env: BTreeMap<String, String> =
            [("A".into(), "plain".into()), ("B".into(), "it's $HOME \"x\"".into()), ("C".into(), "a=b c".into())]
                .into();
        assert_eq!(parse_env(&render_env(&env)), env);
    }

    #[test]
    fn equal_yaml_is_the_same_compose() {
        assert!(same_yaml("services:\n  a: {image: x}\n", "services:\n  a:\n    image: x\n"));
        assert!(!same_yaml("services:\n  a: {image: x}\n", "services:\n  a: {image: y}\n"));
    }
}
