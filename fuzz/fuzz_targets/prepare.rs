//! Fuzz target: `prepare` argument validation on a real catalog (the newest `wiki` and `git`
//! specs, compiled once at start-up). Input: two bytes choose the operation, one byte the
//! target options, the rest is JSON arguments (or, by a flag, an operation name line and a
//! base-URL line first). Any outcome but a panic is fine; a prepared request must keep to its
//! host and to its path template's segments, whatever the values.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use opcat_compiler::read::{self, FsLoader, VersionSelect};
use opcat_compiler::{emit, ir, render};
use opcat_runtime::{Catalog, Target, Value};

/// The Azure DevOps specs: `$OPCAT_SPECS`, else `../../shared/specs/...` from this crate.
fn specs() -> PathBuf {
    std::env::var_os("OPCAT_SPECS").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/specs/azure-devops/specification")
        },
        PathBuf::from,
    )
}

fn build() -> Catalog {
    let root = std::fs::canonicalize(specs()).expect("the Azure DevOps specs (set OPCAT_SPECS)");
    let found = read::discover(&root, &VersionSelect::Latest);
    let mut catalog = ir::Catalog {
        format_version: ir::CATALOG_JSON_VERSION,
        documents: Vec::new(),
        operations: Vec::new(),
    };
    for spec in found
        .files
        .iter()
        .filter(|f| matches!(f.area.as_deref(), Some("wiki" | "git")))
    {
        let out = opcat_compiler::compile_file(spec, &root, &FsLoader::default());
        catalog.documents.extend(out.document);
        catalog.operations.extend(out.operations);
    }
    assert!(
        catalog.operations.len() > 50,
        "wiki and git specs not found"
    );
    let contracts = render::render_catalog(&catalog, &render::RenderOptions::default());
    let bytes = emit::artifact(&catalog, &contracts, "fuzz", "fuzz").expect("artifact");
    Catalog::from_bytes(&bytes).expect("a fresh artifact opens")
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(build)
}

/// `/` after the scheme and before the query: the segments of a URL's path.
fn slashes(url: &str) -> usize {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    path.matches('/').count()
}

fuzz_target!(|data: &[u8]| {
    let catalog = catalog();
    if data.len() < 3 {
        return;
    }
    let index = usize::from(u16::from_le_bytes([data[0], data[1]])) % catalog.len();
    let flags = data[2];
    let text = String::from_utf8_lossy(&data[3..]);
    let mut lines = text.as_ref();
    let mut line = || {
        let (first, rest) = lines.split_once('\n').unwrap_or((lines, ""));
        lines = rest;
        first.to_string()
    };
    let by_name = (flags & 8 != 0).then(&mut line);
    let base_url = (flags & 4 != 0).then(&mut line);
    let args = match serde_json::from_str::<serde_json::Value>(lines) {
        Ok(json) => opcat_compiler::to_value(&json),
        Err(_) => Value::String(lines.to_string()),
    };
    let target = Target {
        organization: (flags & 1 != 0).then(|| "fabrikam".to_string()),
        service: (flags & 2 != 0).then(|| if flags & 16 != 0 { "vsrm." } else { "x" }.into()),
        base_url: base_url.clone(),
        // The catalog is cloud only: a collection URL must change nothing.
        server_url: (flags & 32 != 0).then(|| "https://tfs.example.com/DefaultCollection".into()),
    };
    let op = catalog.operation_at(index).expect("index below len");
    let result = match &by_name {
        Some(name) => catalog.prepare(name, &args, &target),
        None => op.prepare(&args, &target),
    };
    let Ok(req) = result else {
        return;
    };
    let op = by_name
        .map_or(Some(op), |n| catalog.operation(&n))
        .expect("prepared by name");
    // The request keeps to a declared host (or the loopback override)...
    let origin_ok = match &base_url {
        Some(base) => req.url.starts_with(base.trim_end_matches('/')),
        None => catalog
            .hosts()
            .any(|h| req.url.starts_with(h) && req.url[h.len()..].starts_with('/')),
    };
    assert!(origin_ok, "{} left its host: {}", op.id(), req.url);
    // ...and to its path template: values cannot add segments, a query or a fragment.
    let server = op
        .server()
        .replace("{service}", target.service.as_deref().unwrap_or(""));
    assert_eq!(
        slashes(&req.url),
        slashes(&server) + op.path().matches('/').count(),
        "{} gained path segments: {}",
        op.id(),
        req.url
    );
    assert!(req.url.matches('?').count() <= 1, "{}", req.url);
    assert!(!req.url.contains('#'), "{}", req.url);
    assert!(
        !req.url
            .contains(|c: char| c.is_whitespace() || c.is_control()),
        "{}",
        req.url
    );
    for (name, value) in &req.headers {
        assert!(!value.contains(['\r', '\n']), "header {name}: {value:?}");
    }
});
