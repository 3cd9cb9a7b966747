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
    compile(&Options { specs, versions }, &FsLoader::default(), &|_| {})
}

/// The artifact of `build` with its embedding index, through the shared vector cache
/// (`scripts/setup-models.sh` must have run). Returns the bytes and how many texts the
/// model had to embed (0 when every one was cached).
pub fn dense_artifact(build: &Build) -> (Vec<u8>, usize) {
    use opcat_compiler::embed::{Embedder, ModelDir};
    use opcat_compiler::render::{self, RenderOptions};
    use opcat_compiler::{distill, emit};
    let models = ModelDir::locate(None).unwrap_or_else(|e| panic!("{e}"));
    let cache = Embedder::default_cache_dir(&models);
    let mut embedder = Embedder::new(models, cache);
    let (dense, _) = distill::dense_index(&build.catalog, &mut embedder, false).unwrap();
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

/// Damages a real artifact every way a disk, a download or an attacker might, and checks
/// that each copy is refused with a typed error: every header byte flipped (two bits each),
/// 3,000 pseudo-random bit flips across the payload, truncation at 48 lengths, and garbage
/// appended. Deterministic (xorshift), so a failure names a reproducible case.
pub fn corruption_sweep(good: &[u8]) {
    use opcat_runtime::Catalog;
    use opcat_runtime::format::HEADER_LEN;
    let check = |bad: &[u8], what: &str| match Catalog::from_bytes(bad) {
        Ok(_) => panic!("accepted: {what}"),
        Err(e) => assert!(!e.to_string().is_empty(), "{what}: empty error"),
    };
    for i in 0..HEADER_LEN {
        for bit in [0x01u8, 0x80] {
            let mut bad = good.to_vec();
            bad[i] ^= bit;
            check(&bad, &format!("header byte {i} ^ {bit:#x}"));
        }
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for n in 0..3000 {
        let at = HEADER_LEN + (next() as usize) % (good.len() - HEADER_LEN);
        let mut bad = good.to_vec();
        bad[at] ^= 1 << (n % 8);
        check(&bad, &format!("payload byte {at} bit {}", n % 8));
    }
    let mut cuts: Vec<usize> = vec![0, 1, 8, 63, 64, 65, 1000, good.len() / 2, good.len() - 1];
    cuts.extend((0..39).map(|_| (next() as usize) % good.len()));
    for cut in cuts {
        check(&good[..cut], &format!("truncated at {cut}"));
    }
    for extra in [1usize, 16, 4096] {
        let mut longer = good.to_vec();
        longer.extend((0..extra).map(|_| next() as u8));
        check(&longer, &format!("{extra} garbage bytes appended"));
    }
}

/// The ids of `catalog`'s hits for `query`, best first.
pub fn hit_ids(
    catalog: &opcat_runtime::Catalog,
    query: &str,
    opts: &opcat_runtime::SearchOptions,
) -> Vec<String> {
    catalog
        .search(query, opts)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.op.id().to_string())
        .collect()
}
