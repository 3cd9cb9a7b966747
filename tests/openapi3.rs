//! The three real OpenAPI 3 corpora compile with every operation found and no diagnostics.

mod common;

use std::path::Path;

use opcat_compiler::ir::Ty;
use opcat_compiler::read::VersionSelect;
use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Operations counted from the root document itself (a `get: {$ref: file}` counts too),
/// without the compiler's parser: JSON through serde_json, YAML by its indentation (methods
/// are the four-space keys of the top-level `paths:` block).
fn count_operations(root: &Path) -> usize {
    let text = std::fs::read_to_string(root).unwrap();
    if root.extension().is_some_and(|e| e == "json") {
        let doc: Value = serde_json::from_str(&text).unwrap();
        return doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| METHODS.contains(&k.as_str()))
                    .count()
            })
            .sum();
    }
    let mut in_paths = false;
    let mut n = 0;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = line.trim_end() == "paths:";
        } else if in_paths
            && let Some(key) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && METHODS.contains(&key)
        {
            n += 1;
        }
    }
    n
}

fn check(specs: &Path, root: &Path) -> opcat_compiler::Build {
    let b = common::build(specs.to_path_buf(), VersionSelect::Latest);
    let diags: Vec<String> = b.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(b.catalog.operations.len(), count_operations(root));
    assert!(b.catalog.operations.iter().all(|o| !o.id.is_empty()));
    b
}

#[test]
fn openai_31_yaml() {
    let f = common::shared_specs().join("openai/openapi.yaml");
    let b = check(&f, &f);
    assert_eq!(b.catalog.documents[0].dialect, "openapi-3.1");
    assert!(b.catalog.operations.len() >= 280);
    // 3.1 `type: [T, "null"]` and `anyOf [.., {type: null}]` become nullable types.
    let nullable = b.catalog.documents[0]
        .types
        .values()
        .filter(|t| format!("{:?}", t.ty).contains("Nullable"))
        .count();
    assert!(nullable > 10, "{nullable}");
    let chat = b
        .catalog
        .operations
        .iter()
        .find(|o| o.source.operation_id == "createChatCompletion")
        .unwrap();
    assert!(chat.body.is_some());
    assert!(matches!(chat.returns.ty, Some(Ty::Ref { .. })));
}

#[test]
fn discord_31_json() {
    let f = common::shared_specs().join("discord/specs/openapi.json");
    let b = check(&f, &f);
    assert_eq!(b.catalog.documents[0].dialect, "openapi-3.1");
}

#[test]
fn digitalocean_30_split_over_files() {
    let dir = common::shared_specs().join("digitalocean/specification");
    let b = check(&dir, &dir.join("DigitalOcean-public.v2.yaml"));
    let doc = &b.catalog.documents[0];
    assert_eq!(doc.dialect, "openapi-3.0");
    // Schemas from other files are lifted under their own names, not inlined.
    assert!(
        doc.types.contains_key("droplet"),
        "{:?}",
        doc.types.keys().take(20).collect::<Vec<_>>()
    );
    let get = b
        .catalog
        .operations
        .iter()
        .find(|o| o.source.operation_id == "droplets_get")
        .unwrap();
    assert!(get.returns.ty.is_some());
    assert_eq!(get.server, "https://api.digitalocean.com");
    assert!(get.scopes.contains(&"droplet:read".to_string()));
}
