//! Docs and examples stay true: the committed docs equal what the schema generates, every
//! attribute is described, every resource and data source has a page and an example, and
//! every example directory passes `terraform validate`.

mod common;

use std::path::{Path, PathBuf};

use common::terraform::{clis, Workspace};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_docs_match_the_schema() {
    let mut stale = Vec::new();
    for (relative, text) in lws::docs::generate(root()) {
        let on_disk = std::fs::read_to_string(root().join(&relative)).unwrap_or_default();
        if on_disk != text {
            stale.push(relative.display().to_string());
        }
    }
    assert!(stale.is_empty(), "docs out of date with the schema: {stale:?}; run `make docs`");
}

#[test]
fn every_attribute_has_a_description() {
    assert_eq!(lws::docs::undescribed(), Vec::<String>::new());
}

#[test]
fn every_resource_data_source_list_and_action_has_a_page_and_an_example() {
    let pages = lws::docs::generate(root());
    for (relative, _) in &pages {
        let name = relative.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let example = match relative.parent().and_then(|p| p.file_name()).and_then(|p| p.to_str()) {
            Some("resources") => format!("examples/resources/lws_{name}/resource.tf"),
            Some("data-sources") => format!("examples/data-sources/lws_{name}/data-source.tf"),
            Some("list-resources") => format!("examples/list-resources/lws_{name}/list-resource.tfquery.hcl"),
            Some("actions") => format!("examples/actions/lws_{name}/action.tf"),
            _ => "examples/provider/provider.tf".to_owned(),
        };
        assert!(root().join(&example).exists(), "{} has no example at {example}", relative.display());
    }
    for resource in pages.iter().filter(|(p, _)| p.starts_with("docs/resources")) {
        let name = resource.0.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert!(
            root().join(format!("examples/resources/lws_{name}/import.sh")).exists(),
            "lws_{name} has no import example"
        );
        assert!(resource.1.contains("## Import"), "{}", resource.0.display());
        assert!(resource.1.contains("### Identity Schema"), "{} has no identity section", resource.0.display());
    }
}

/// Every directory with `.tf` files under `examples/`.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut has_tf = false;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            found.push(dir.to_path_buf());
        }
    }
    let mut found = Vec::new();
    walk(&root().join("examples"), &mut found);
    found.sort();
    found
}

/// Example directories whose configuration needs Terraform ≥ 1.14 (`action` blocks).
fn needs_terraform_1_14(dir: &Path) -> bool {
    dir.starts_with(root().join("examples/actions"))
}

#[test]
fn every_example_passes_terraform_validate() {
    let dirs = example_dirs();
    assert!(dirs.len() >= 8, "{dirs:?}");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|dir| {
                scope.spawn(move || {
                    // Every file of the example (compose files, templates), not only the .tf ones.
                    let files: Vec<PathBuf> = std::fs::read_dir(dir)
                        .expect("example dir")
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_file())
                        // Import examples are alternatives to one another: checked one at a time below.
                        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("import-by-")))
                        .collect();
                    let declares_provider = files
                        .iter()
                        .filter(|f| f.extension().is_some_and(|e| e == "tf"))
                        .any(|f| std::fs::read_to_string(f).unwrap_or_default().contains("required_providers"));
                    // Snippets (resource and data-source examples) get the provider declaration
                    // every real configuration has.
                    let header = if declares_provider {
                        ""
                    } else {
                        "terraform {\n  required_providers {\n    lws = { source = \"lws/lws\" }\n  }\n}\n"
                    };
                    let tf = if needs_terraform_1_14(dir) {
                        Workspace::with_cli(clis().wheel.clone(), header)
                    } else {
                        Workspace::new(header)
                    };
                    for file in &files {
                        let name = file.file_name().expect("file name");
                        std::fs::copy(file, tf.path().join(name)).expect("copy example");
                    }
                    let out = tf.run(&["validate", "-no-color"]);
                    if out.status.success() {
                        Ok(())
                    } else {
                        Err(format!(
                            "{}:\n{}{}",
                            dir.strip_prefix(root()).unwrap_or(dir).display(),
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr)
                        ))
                    }
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().expect("validate thread").err()).collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Each resource's `import` block examples, with its `resource.tf`: by string id (any Terraform
/// with import blocks) and by identity (Terraform ≥ 1.12, so the 1.15 wheel).
#[test]
fn every_import_example_passes_terraform_validate() {
    let header = "terraform {\n  required_providers {\n    lws = { source = \"lws/lws\" }\n  }\n}\n";
    let mut checked = 0;
    for dir in example_dirs().iter().filter(|d| d.join("import.sh").exists()) {
        let resource = std::fs::read_to_string(dir.join("resource.tf")).expect("resource.tf");
        for (file, cli) in [("import-by-string-id.tf", None), ("import-by-identity.tf", Some(clis().wheel.clone()))] {
            let example =
                std::fs::read_to_string(dir.join(file)).unwrap_or_else(|_| panic!("{} has no {file}", dir.display()));
            let main = format!("{header}{resource}\n{example}");
            let tf = match cli {
                Some(cli) => Workspace::with_cli(cli, &main),
                None => Workspace::new(&main),
            };
            let out = tf.run(&["validate", "-no-color"]);
            assert!(
                out.status.success(),
                "{}/{file}:\n{}{}",
                dir.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked} import examples");
}
