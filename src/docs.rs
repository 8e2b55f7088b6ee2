//! Registry-style documentation generated from the provider's own schema, so the docs cannot
//! drift from it: `docs/index.md`, `docs/resources/<name>.md`, `docs/data-sources/<name>.md`.
//! Examples come from `examples/` (registry layout); hand-written prose for the index comes
//! from `templates/index.md.tmpl`. `terraform-provider-lws docs` writes the files; a test fails
//! when the committed files differ from what this produces.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Block, NestedBlock, Schema};
use tf_provider::{Diagnostics, Provider};

use crate::provider::LwsProvider;

const PROVIDER: &str = "lws";

/// What a page documents.
enum Kind {
    Resource,
    DataSource,
    /// `terraform query` (Terraform ≥ 1.14).
    ListResource,
    /// `action` blocks (Terraform ≥ 1.14).
    Action,
}

fn type_name(t: &AttributeType) -> String {
    match t {
        AttributeType::String => "String".into(),
        AttributeType::Number => "Number".into(),
        AttributeType::Bool => "Boolean".into(),
        AttributeType::List(inner) => format!("List of {}", type_name(inner)),
        AttributeType::Set(inner) => format!("Set of {}", type_name(inner)),
        AttributeType::Map(inner) => format!("Map of {}", type_name(inner)),
        AttributeType::Object(_) => "Object".into(),
        AttributeType::Tuple(_) => "Tuple".into(),
        AttributeType::AttributeSingle(_) => "Attributes".into(),
        AttributeType::AttributeList(_) => "Attributes List".into(),
        AttributeType::AttributeSet(_) => "Attributes Set".into(),
        AttributeType::AttributeMap(_) => "Attributes Map".into(),
        AttributeType::Any => "Dynamic".into(),
    }
}

fn nested(t: &AttributeType) -> Option<&HashMap<String, Attribute>> {
    match t {
        AttributeType::AttributeSingle(a)
        | AttributeType::AttributeList(a)
        | AttributeType::AttributeSet(a)
        | AttributeType::AttributeMap(a) => Some(a),
        _ => None,
    }
}

fn anchor(path: &str) -> String {
    format!("nestedatt--{}", path.replace('.', "--"))
}

/// One `- `name` (Type) description` line per attribute, grouped Required/Optional/Read-Only,
/// then nested schemas.
fn render_attributes(
    out: &mut String,
    attributes: &HashMap<String, Attribute>,
    blocks: &HashMap<String, NestedBlock>,
    prefix: &str,
) {
    let mut names: Vec<&String> = attributes.keys().collect();
    names.sort();
    let groups = [
        ("Required", vec![AttributeConstraint::Required]),
        ("Optional", vec![AttributeConstraint::Optional, AttributeConstraint::OptionalComputed]),
        ("Read-Only", vec![AttributeConstraint::Computed]),
    ];
    let mut later: Vec<(String, &HashMap<String, Attribute>)> = Vec::new();
    for (title, constraints) in groups {
        let in_group: Vec<&&String> =
            names.iter().filter(|n| constraints.contains(&attributes[**n].constraint)).collect();
        let group_blocks: Vec<&String> = if title == "Optional" { blocks.keys().collect() } else { vec![] };
        if in_group.is_empty() && group_blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for name in in_group {
            let attribute = &attributes[*name];
            let path = if prefix.is_empty() { (*name).clone() } else { format!("{prefix}.{name}") };
            let mut kind = type_name(&attribute.attr_type);
            if attribute.sensitive {
                kind.push_str(", Sensitive");
            }
            if attribute.write_only {
                kind.push_str(", Write-only");
            }
            let description = attribute.description.content.replace('\n', " ");
            match nested(&attribute.attr_type) {
                Some(inner) => {
                    let _ = writeln!(
                        out,
                        "- `{name}` ({kind}) {description} (see [below for nested schema](#{}))",
                        anchor(&path)
                    );
                    later.push((path, inner));
                }
                None => {
                    let _ = writeln!(out, "- `{name}` ({kind}) {description}");
                }
            }
        }
        let mut sorted_blocks = group_blocks;
        sorted_blocks.sort();
        for name in sorted_blocks {
            let block = match &blocks[name] {
                NestedBlock::Single(b)
                | NestedBlock::List(b)
                | NestedBlock::Set(b)
                | NestedBlock::Map(b)
                | NestedBlock::Group(b)
                | NestedBlock::Optional(b) => b,
            };
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            let _ = writeln!(
                out,
                "- `{name}` (Block) {} (see [below for nested schema](#{}))",
                block.description.content.replace('\n', " "),
                anchor(&path)
            );
            later.push((path, &block.attributes));
        }
        out.push('\n');
    }
    for (path, inner) in later {
        let _ = writeln!(out, "<a id=\"{}\"></a>\n### Nested Schema for `{path}`\n", anchor(&path));
        render_attributes(out, inner, &HashMap::new(), &path);
    }
}

fn read_example(root: &Path, relative: &str) -> Option<String> {
    std::fs::read_to_string(root.join(relative)).ok().map(|t| t.trim_end().to_owned())
}

fn page(root: &Path, kind: Kind, name: &str, schema: &Schema) -> String {
    let full = format!("{PROVIDER}_{name}");
    let (label, dir, file) = match kind {
        Kind::Resource => ("Resource", "resources", "resource.tf"),
        Kind::DataSource => ("Data Source", "data-sources", "data-source.tf"),
        Kind::ListResource => ("List Resource", "list-resources", "list-resource.tfquery.hcl"),
        Kind::Action => ("Action", "actions", "action.tf"),
    };
    let description = schema.block.description.content.trim();
    let summary = description.split(". ").next().unwrap_or(description).trim_end_matches('.');
    let mut out = format!(
        "---\npage_title: \"{full} {label} - {PROVIDER}\"\nsubcategory: \"\"\ndescription: |-\n  {summary}.\n---\n\n# {full} ({label})\n\n{description}\n\n"
    );
    if let Some(example) = read_example(root, &format!("examples/{dir}/{full}/{file}")) {
        let _ = writeln!(out, "## Example Usage\n\n```terraform\n{example}\n```\n");
    }
    out.push_str(
        "<!-- generated from the provider schema by `terraform-provider-lws docs`; do not edit -->\n## Schema\n\n",
    );
    render_attributes(&mut out, &schema.block.attributes, &schema.block.blocks, "");
    if let Some(import) = read_example(root, &format!("examples/{dir}/{full}/import.sh")) {
        let _ =
            writeln!(out, "## Import\n\nImport is supported using the following syntax:\n\n```shell\n{import}\n```");
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Import by identity (Terraform ≥ 1.12) and the identity schema, after the import section.
fn identity_section(root: &Path, name: &str, identity: &tf_provider::schema::IdentitySchema) -> String {
    let full = format!("{PROVIDER}_{name}");
    let mut out = String::new();
    if let Some(example) = read_example(root, &format!("examples/resources/{full}/import-by-identity.tf")) {
        let _ = write!(
            out,
            "\n\nIn Terraform 1.12 and later, an `import` block can name the object by its identity:\n\n```terraform\n{example}\n```"
        );
    }
    if let Some(example) = read_example(root, &format!("examples/resources/{full}/import-by-string-id.tf")) {
        let _ = write!(out, "\n\nor by its id, in Terraform 1.5 and later:\n\n```terraform\n{example}\n```");
    }
    out.push_str(
        "\n\n### Identity Schema\n\nReturned with the state by Terraform 1.12 and later.\n\n#### Required\n\n",
    );
    for attribute in &identity.attributes {
        let kind = if attribute.attr_type == tf_provider::schema::AttributeType::Number { "Number" } else { "String" };
        let _ = writeln!(out, "- `{}` ({kind}) {}", attribute.name, attribute.description);
    }
    out
}

fn index(root: &Path, schema: &Schema) -> String {
    let mut schema_text = String::new();
    render_attributes(&mut schema_text, &schema.block.attributes, &schema.block.blocks, "");
    let template = std::fs::read_to_string(root.join("templates/index.md.tmpl")).unwrap_or_default();
    let example = read_example(root, "examples/provider/provider.tf").unwrap_or_default();
    let mut out = template.replace("{{ .Example }}", &example).replace("{{ .Schema }}", schema_text.trim_end());
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Every generated page: (path relative to the project root, contents).
pub fn generate(root: &Path) -> Vec<(PathBuf, String)> {
    let provider = LwsProvider::new();
    let mut diags = Diagnostics::default();
    let mut pages = Vec::new();
    if let Some(schema) = Provider::schema(&provider, &mut diags) {
        pages.push((PathBuf::from("docs/index.md"), index(root, &schema)));
    }
    let mut resources: Vec<_> =
        Provider::get_resources(&provider, &mut diags).unwrap_or_default().into_iter().collect();
    resources.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, resource) in resources {
        if let Some(schema) = resource.schema(&mut diags) {
            let mut text = page(root, Kind::Resource, &name, &schema);
            if let Some(identity) = resource.identity_schema() {
                text.truncate(text.trim_end().len());
                text.push_str(&identity_section(root, &name, &identity));
                text.truncate(text.trim_end().len());
            }
            pages.push((PathBuf::from(format!("docs/resources/{name}.md")), format!("{text}\n")));
        }
    }
    let mut lists: Vec<_> =
        Provider::get_list_resources(&provider, &mut diags).unwrap_or_default().into_iter().collect();
    lists.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, list) in lists {
        if let Some(schema) = list.schema(&mut diags) {
            let text = page(root, Kind::ListResource, &name, &schema);
            pages.push((PathBuf::from(format!("docs/list-resources/{name}.md")), format!("{text}\n")));
        }
    }
    let mut actions: Vec<_> = Provider::get_actions(&provider, &mut diags).unwrap_or_default().into_iter().collect();
    actions.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, action) in actions {
        if let Some(schema) = action.schema(&mut diags) {
            let text = page(root, Kind::Action, &name, &schema);
            pages.push((PathBuf::from(format!("docs/actions/{name}.md")), format!("{text}\n")));
        }
    }
    let mut sources: Vec<_> =
        Provider::get_data_sources(&provider, &mut diags).unwrap_or_default().into_iter().collect();
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, source) in sources {
        if let Some(schema) = source.schema(&mut diags) {
            let text = page(root, Kind::DataSource, &name, &schema);
            pages.push((PathBuf::from(format!("docs/data-sources/{name}.md")), format!("{text}\n")));
        }
    }
    pages
}

/// Names of attributes without a description (there must be none).
pub fn undescribed() -> Vec<String> {
    fn walk(prefix: &str, attributes: &HashMap<String, Attribute>, block: Option<&Block>, missing: &mut Vec<String>) {
        for (name, attribute) in attributes {
            let path = format!("{prefix}.{name}");
            let text = attribute.description.content.trim();
            if text.is_empty() || text == "empty" {
                missing.push(path.clone());
            }
            if let Some(inner) = nested(&attribute.attr_type) {
                walk(&path, inner, None, missing);
            }
        }
        if let Some(block) = block {
            for (name, nested_block) in &block.blocks {
                if let NestedBlock::Optional(b) | NestedBlock::List(b) | NestedBlock::Single(b) = nested_block {
                    walk(&format!("{prefix}.{name}"), &b.attributes, Some(b), missing);
                }
            }
        }
    }
    let provider = LwsProvider::new();
    let mut diags = Diagnostics::default();
    let mut missing = Vec::new();
    let mut schemas: Vec<(String, Schema)> = Vec::new();
    if let Some(s) = Provider::schema(&provider, &mut diags) {
        schemas.push(("provider".into(), s));
    }
    for (name, r) in Provider::get_resources(&provider, &mut diags).unwrap_or_default() {
        schemas.extend(r.schema(&mut diags).map(|s| (format!("lws_{name}"), s)));
    }
    for (name, d) in Provider::get_data_sources(&provider, &mut diags).unwrap_or_default() {
        schemas.extend(d.schema(&mut diags).map(|s| (format!("data.lws_{name}"), s)));
    }
    for (name, l) in Provider::get_list_resources(&provider, &mut diags).unwrap_or_default() {
        schemas.extend(l.schema(&mut diags).map(|s| (format!("list.lws_{name}"), s)));
    }
    for (name, a) in Provider::get_actions(&provider, &mut diags).unwrap_or_default() {
        schemas.extend(a.schema(&mut diags).map(|s| (format!("action.lws_{name}"), s)));
    }
    for (name, schema) in schemas {
        walk(&name, &schema.block.attributes, Some(&schema.block), &mut missing);
    }
    missing.sort();
    missing
}
