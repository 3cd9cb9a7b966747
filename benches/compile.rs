//! Compile-time benchmark over the real Azure DevOps specs: latest versions and all versions.
//!
//! `cargo bench -p opcat-compiler --bench compile`. Reads `../shared/specs` (or
//! `$OPCAT_SHARED_SPECS`); no embeddings are computed here.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opcat_compiler::read::{FsLoader, VersionSelect};
use opcat_compiler::{Options, compile};

/// Same allocator as the `opcat` binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn azure_specs() -> PathBuf {
    std::env::var_os("OPCAT_SHARED_SPECS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs"))
        .join("azure-devops/specification")
}

fn bench(c: &mut Criterion) {
    let specs = azure_specs();
    assert!(specs.is_dir(), "no specs at {}", specs.display());
    let mut g = c.benchmark_group("compile");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, versions) in [
        ("latest", VersionSelect::Latest),
        ("all", VersionSelect::All),
    ] {
        let opts = Options {
            specs: specs.clone(),
            versions,
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let build = compile(&opts, &FsLoader, &|_| {});
                assert!(!build.catalog.operations.is_empty());
                build
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
