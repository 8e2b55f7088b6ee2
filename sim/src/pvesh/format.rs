//! pvesh output formats: `json` (compact, keys sorted), `json-pretty` (Perl JSON's 3-space
//! indent with `"key" : value`), `yaml`, and `text` (simplified tables, see below).

use serde_json::Value;

pub fn json(value: &Value) -> String {
    // serde_json's map is a BTreeMap here (no `preserve_order`), so keys come out sorted.
    format!("{value}\n")
}

pub fn json_pretty(value: &Value) -> String {
    let mut out = String::new();
    pretty(value, 0, &mut out);
    out.push('\n');
    out
}

fn pretty(value: &Value, depth: usize, out: &mut String) {
    let pad = "   ".repeat(depth + 1);
    let close = "   ".repeat(depth);
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                pretty(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&close);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in map.iter().enumerate() {
                out.push_str(&format!("{pad}{} : ", Value::String(k.clone())));
                pretty(v, depth + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&close);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub fn yaml(value: &Value) -> String {
    let body = serde_norway::to_string(value).unwrap_or_default();
    if body.starts_with("---") {
        body
    } else {
        format!("---\n{body}")
    }
}

/// Text output. Scalars print as they are, null and empty lists print nothing; objects and
/// lists of objects print as ASCII tables (Proxmox's are the same shape, with UTF-8 borders
/// under a UTF-8 locale and columns ordered by the schema — simplified here to sorted keys).
pub fn text(value: &Value, noborder: bool, noheader: bool) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => format!("{s}\n"),
        Value::Number(_) | Value::Bool(_) => format!("{value}\n"),
        Value::Array(items) if items.is_empty() => String::new(),
        Value::Array(items) => {
            let mut columns: Vec<String> = Vec::new();
            for item in items {
                if let Value::Object(map) = item {
                    for key in map.keys() {
                        if !columns.contains(key) {
                            columns.push(key.clone());
                        }
                    }
                }
            }
            if columns.is_empty() {
                return items.iter().map(|i| format!("{}\n", scalar(i))).collect();
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|item| columns.iter().map(|c| item.get(c).map(scalar).unwrap_or_default()).collect())
                .collect();
            table(&columns, &rows, noborder, noheader)
        }
        Value::Object(map) => {
            let rows: Vec<Vec<String>> = map.iter().map(|(k, v)| vec![k.clone(), scalar(v)]).collect();
            table(&["key".to_owned(), "value".to_owned()], &rows, noborder, noheader)
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn table(columns: &[String], rows: &[Vec<String>], noborder: bool, noheader: bool) -> String {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| rows.iter().map(|r| r[i].chars().count()).chain([c.chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        if noborder {
            format!("{}\n", padded.join(" ").trim_end())
        } else {
            format!("| {} |\n", padded.join(" | "))
        }
    };
    let rule = format!("+{}+\n", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+"));
    let mut out = String::new();
    if !noborder {
        out.push_str(&rule);
    }
    if !noheader {
        out.push_str(&line(columns));
        if !noborder {
            out.push_str(&rule.replace('-', "="));
        }
    }
    for row in rows {
        out.push_str(&line(row));
    }
    if !noborder {
        out.push_str(&rule);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_is_compact_with_sorted_keys_and_a_newline() {
        assert_eq!(json(&json!({"b": 1, "a": "x"})), "{\"a\":\"x\",\"b\":1}\n");
    }

    #[test]
    fn json_pretty_uses_three_spaces_and_spaced_colons() {
        assert_eq!(json_pretty(&json!({"a": [1, 2]})), "{\n   \"a\" : [\n      1,\n      2\n   ]\n}\n");
    }

    #[test]
    fn text_prints_scalars_bare_and_nothing_for_null() {
        assert_eq!(text(&json!("100"), false, false), "100\n");
        assert_eq!(text(&Value::Null, false, false), "");
        assert_eq!(text(&json!([]), false, false), "");
    }
}
