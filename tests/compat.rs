//! Format compatibility: an artifact of the current format, built from a few real specs,
//! is kept in `tests/fixtures/format-v<N>.opcat`. Changing the archived layout without
//! bumping `FORMAT_VERSION` breaks this test; after a bump, regenerate the fixture with
//! `UPDATE_FIXTURE=1 cargo test --test compat` (older fixtures must then be refused).

mod common;

use std::path::{Path, PathBuf};

use opcat_compiler::emit;
use opcat_compiler::read::VersionSelect;
use opcat_compiler::render::{self, RenderOptions};
use opcat_runtime::dense::quantize;
use opcat_runtime::format::DenseData;
use opcat_runtime::{Catalog, Error, FORMAT_VERSION, SearchMode, SearchOptions};

/// Areas the fixture is built from (small specs), linked, not copied, into a temp layout.
const AREAS: [&str; 3] = ["account", "operations", "resourceUsage"];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn build_fixture() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for area in AREAS {
        std::fs::create_dir_all(dir.path().join(area)).unwrap();
        std::os::unix::fs::symlink(
            common::azure_specs().join(area).join("7.2"),
            dir.path().join(area).join("7.2"),
        )
        .unwrap();
    }
    let build = common::build(dir.path().to_path_buf(), VersionSelect::Latest);
    let contracts = render::render_catalog(&build.catalog, &RenderOptions::default());
    emit::artifact_with(
        &build.catalog,
        &contracts,
        "fixture",
        "compat fixture",
        Some(tiny_dense(build.catalog.operations.len())),
    )
    .unwrap()
}

/// A small embedding index (4 components projected from a 5-component model, 3 tokens) so
/// the fixture covers the dense layout without carrying a model's table: operation i
/// points along axis i % 4, stored axis k is the model's axis k + 1.
fn tiny_dense(operations: usize) -> DenseData {
    let axis =
        |k: usize| -> Vec<f32> { (0..4).map(|d| if d == k % 4 { 1.0 } else { 0.0 }).collect() };
    let mut d = DenseData {
        model: "fixture".into(),
        dim: 4,
        model_dim: 5,
        ..DenseData::default()
    };
    for k in 0..4 {
        let (q, s) = quantize(
            &(0..5)
                .map(|j| if j == k + 1 { 1.0 } else { 0.0 })
                .collect::<Vec<f32>>(),
        );
        d.projection.extend(q);
        d.projection_scales.push(s);
    }
    for i in 0..operations {
        let (q, s) = quantize(&axis(i));
        d.op_vectors.extend(q);
        d.op_scales.push(s);
    }
    for (i, t) in ["operation", "status", "usage"].into_iter().enumerate() {
        let (q, s) = quantize(&axis(i));
        d.tokens.push(t.into());
        d.token_vectors.extend(q);
        d.token_scales.push(s);
    }
    d
}

fn version_of(path: &Path) -> u32 {
    let b = std::fs::read(path).unwrap();
    u32::from_le_bytes([b[8], b[9], b[10], b[11]])
}

#[test]
fn current_format_fixture_opens_and_reads() {
    let path = fixtures().join(format!("format-v{FORMAT_VERSION}.opcat"));
    if std::env::var_os("UPDATE_FIXTURE").is_some() {
        std::fs::create_dir_all(fixtures()).unwrap();
        std::fs::write(&path, build_fixture()).unwrap();
    }
    assert!(
        path.exists(),
        "no fixture for format {FORMAT_VERSION}: run `UPDATE_FIXTURE=1 cargo test --test compat`"
    );
    let bytes = std::fs::read(&path).unwrap();
    let c = Catalog::from_bytes(&bytes).unwrap_or_else(|e| {
        panic!(
            "the format-{FORMAT_VERSION} fixture no longer opens ({e}): the archived layout \
             changed without a FORMAT_VERSION bump"
        )
    });
    assert_eq!(c.name(), "fixture");
    let op = c
        .operation("operations.operations.get")
        .expect("known operation");
    assert_eq!(op.method(), "GET");
    assert_eq!(op.file(), "operations/7.2/operations.json");
    assert!(op.signature().contains("get("), "{}", op.signature());
    let decls = op.declarations();
    assert!(
        decls.contains("interface OperationReference {")
            && decls.contains("type ReferenceLinks = Record<string, { href: string }>;"),
        "{decls}"
    );
    let hits = c
        .search("operation status", &SearchOptions::default())
        .unwrap()
        .hits;
    assert!(
        hits.iter()
            .any(|h| h.op.id() == "operations.operations.get")
    );
    assert_eq!(c.dense_model(), Some("fixture"));
    let dense = SearchOptions {
        mode: SearchMode::Dense,
        ..SearchOptions::default()
    };
    let first = c.search("usage", &dense).unwrap().hits[0].op.index();
    assert_eq!(first % 4, 2, "operation {first} is not on the `usage` axis");
    let model_vector = [0.0, 0.0, 0.0, 1.0, 0.0];
    let first = c
        .search_with_vector("anything", Some(&model_vector), &dense)
        .unwrap()
        .hits[0]
        .op
        .index();
    assert_eq!(
        first % 4,
        2,
        "the model's axis 3 is not projected onto stored axis 2"
    );
}

#[test]
fn older_fixtures_are_refused_by_version() {
    for entry in std::fs::read_dir(fixtures()).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "opcat") {
            continue;
        }
        let v = version_of(&path);
        if v == FORMAT_VERSION {
            continue;
        }
        match Catalog::read(&path) {
            Err(Error::Version { expected, found }) => {
                assert_eq!((expected, found), (FORMAT_VERSION, v));
            }
            other => panic!(
                "{}: expected a version error, got {other:?}",
                path.display()
            ),
        }
    }
}
