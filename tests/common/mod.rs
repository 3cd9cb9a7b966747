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

/// The artifact of `build` with its embedding index, through the shared vector cache
/// (`scripts/setup-models.sh` must have run). Returns the bytes and how many texts the
/// model had to embed (0 when every one was cached).
pub fn dense_artifact(build: &Build) -> (Vec<u8>, usize) {
    use opcat_compiler::embed::{Embedder, ModelDir};
    use opcat_compiler::render::{self, RenderOptions};
    use opcat_compiler::{distill, emit};
    let models = ModelDir::locate(None).unwrap_or_else(|e| panic!("{e}"));
    let vocab = models.vocab().unwrap();
    let model = models.model_id().unwrap();
    let cache = Embedder::default_cache_dir(&models);
    let mut embedder = Embedder::new(models, cache);
    let (dense, _) =
        distill::dense_index(&build.catalog, &mut embedder, &vocab, &model, false).unwrap();
    let contracts = render::render_catalog(&build.catalog, &RenderOptions::default());
    let bytes = emit::artifact_with(
        &build.catalog,
        &contracts,
        "azure-devops",
        "test",
        Some(dense),
    )
    .unwrap();
    (bytes, embedder.stats().computed)
}
