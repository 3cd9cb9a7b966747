//! Shared helpers for the integration tests: where the real spec corpora live.

#![allow(dead_code)]

use std::path::PathBuf;

use opcat_compiler::read::{FsLoader, VersionSelect};
use opcat_compiler::{Build, Options, compile};

/// `../shared/specs` beside the project (or `$OPCAT_SHARED_SPECS`). Panics when absent:
/// these tests exist to run over the real corpora, never to pass without them.
pub fn shared_specs() -> PathBuf {
    let p = std::env::var_os("OPCAT_SHARED_SPECS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs"));
    assert!(
        p.is_dir(),
        "spec corpora not found at {} (set OPCAT_SHARED_SPECS)",
        p.display()
    );
    p
}

pub fn azure_specs() -> PathBuf {
    shared_specs().join("azure-devops/specification")
}

pub fn build(specs: PathBuf, versions: VersionSelect) -> Build {
    compile(&Options { specs, versions }, &FsLoader, &|_| {})
}
