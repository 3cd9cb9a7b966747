//! Build-time benchmark over the real Azure DevOps specs: compile (latest and all versions),
//! then the later stages of the latest catalog one by one (render, emit, zstd), and token
//! counting of every contract against its baseline (tiktoken) in the same run.
//!
//! `cargo bench -p opcat-compiler --bench compile`. Reads `../shared/specs` (or
//! `$OPCAT_SHARED_SPECS`); no embeddings are computed here.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opcat_compiler::read::{FsLoader, VersionSelect};
use opcat_compiler::render::{self, RenderOptions, measure};
use opcat_compiler::{Options, compile, emit};

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
                let build = compile(&opts, &FsLoader::default(), &|_| {});
                assert!(!build.catalog.operations.is_empty());
                build
            })
        });
    }
    g.finish();

    let build = compile(
        &Options {
            specs,
            versions: VersionSelect::Latest,
        },
        &FsLoader::default(),
        &|_| {},
    );
    let catalog = &build.catalog;
    let contracts = render::render_catalog(catalog, &RenderOptions::default());
    let artifact = emit::artifact(catalog, &contracts, "bench", "bench").unwrap();
    let mut g = c.benchmark_group("stages-latest");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("render", |b| {
        b.iter(|| render::render_catalog(catalog, &RenderOptions::default()))
    });
    g.bench_function("emit", |b| {
        b.iter(|| emit::artifact(catalog, &contracts, "bench", "bench").unwrap())
    });
    g.bench_function("zstd", |b| {
        b.iter(|| emit::release_form(&artifact).unwrap())
    });
    g.finish();

    // The texts the render loop counts: every contract, signature and declaration block.
    let texts: Vec<String> = contracts
        .iter()
        .flat_map(|c| [c.text(), c.signature.clone(), c.declarations_text()])
        .collect();
    let mut g = c.benchmark_group("count-tokens-latest");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("tiktoken (baseline)", |b| {
        let tik = tiktoken_rs::o200k_base_singleton();
        b.iter(|| texts.iter().map(|t| tik.count_ordinary(t)).sum::<usize>())
    });
    g.bench_function("bpe-openai", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| measure::count_tokens(t) as usize)
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
