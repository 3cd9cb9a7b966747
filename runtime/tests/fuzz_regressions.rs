//! Inputs found by fuzzing (see `fuzz/`), kept as regression tests: each must give a typed
//! error or a result, never a panic.
//!
//! The first family: an artifact whose search index bytes are corrupted but whose header
//! checksum was recomputed, so `verify` passes (the checksum guards against accidents, not
//! against a crafted file) and the damage reaches tantivy, which panics on some of it.

use std::sync::Arc;

use opcat_runtime::format::{self, CatalogData, HEADER_LEN, NameEntry, OpCore, OpRecord};
use opcat_runtime::index::{self, IndexDoc};
use opcat_runtime::{Catalog, SearchOptions};

const WORDS: &[&str] = &[
    "list",
    "pull",
    "request",
    "repository",
    "work",
    "item",
    "build",
    "queue",
    "pipeline",
    "release",
    "wiki",
    "page",
    "team",
    "project",
    "commit",
    "branch",
    "policy",
    "agent",
];

/// A small catalog whose index has a few hundred distinct terms.
fn artifact() -> (Vec<u8>, CatalogData) {
    let mut ops = Vec::new();
    let mut docs = Vec::new();
    for i in 0..40 {
        let w = |k: usize| WORDS[(i * 7 + k * 5) % WORDS.len()];
        let id = format!("{}.{}{}.{}{i}", w(0), w(1), w(2), w(3));
        let summary = format!("{} the {} of a {} {}", w(0), w(4), w(5), w(6));
        ops.push(OpRecord {
            core: Arc::new(OpCore {
                id: id.as_str().to_owned(),
                area: w(0).into(),
                method: if i % 3 == 0 { "POST" } else { "GET" }.into(),
                server: 1,
                path: format!("/{{organization}}/_apis/{}/{}", w(1), w(2)).into(),
                summary: summary.as_str().to_owned().into(),
                read_only: i % 3 != 0,
                signature: format!("{id}(args: {{}}): Promise<void>").into(),
                ..OpCore::default()
            }),
            version: 0,
            ..OpRecord::default()
        });
        docs.push(IndexDoc {
            name: id,
            summary,
            path: format!("/_apis/{}/{}/{{{}Id}}", w(1), w(2), w(3)),
            params: format!("{}Id {} top skip", w(3), w(7)),
            returns: format!("{} {}", w(8), w(9)),
            description: format!("{} {} {} {i}", w(10), w(11), w(12)),
            intent: w(13).into(),
            area: w(0).into(),
            method: if i % 3 == 0 { "POST" } else { "GET" }.into(),
            version: "7.2".into(),
            read_only: i % 3 != 0,
        });
    }
    let mut names: Vec<NameEntry> = ops
        .iter()
        .enumerate()
        .map(|(i, o)| NameEntry {
            key: o.core.id.to_lowercase(),
            op: i as u32,
        })
        .collect();
    names.sort_by(|a, b| a.key.cmp(&b.key));
    let data = CatalogData {
        name: "fuzz".into(),
        source: "synthetic".into(),
        documents: vec!["a/7.2/a.json".into()],
        operations: ops,
        names,
        hosts: vec!["https://dev.azure.com".into()],
        labels: vec!["7.2".into(), "https://dev.azure.com".into()],
        index_files: index::build(&docs).unwrap(),
        ..CatalogData::default()
    };
    (format::to_bytes(&data).unwrap(), data)
}

/// Where each index file's bytes sit in the artifact (rkyv stores them verbatim).
fn regions(bytes: &[u8], data: &CatalogData) -> Vec<(String, usize, usize)> {
    data.index_files
        .iter()
        .filter(|f| f.bytes.len() >= 8)
        .map(|f| {
            let at = bytes[HEADER_LEN..]
                .windows(f.bytes.len())
                .position(|w| w == f.bytes.as_slice())
                .unwrap_or_else(|| panic!("{} not found in the artifact", f.path))
                + HEADER_LEN;
            (f.path.clone(), at, f.bytes.len())
        })
        .collect()
}

/// Rewrites the header checksum so the damaged payload passes `verify`.
fn reseal(bytes: &mut [u8]) {
    let sum = format::checksum(&bytes[HEADER_LEN..]);
    bytes[24..32].copy_from_slice(&sum.to_le_bytes());
}

/// Opens, verifies and searches; any outcome but a panic is fine.
fn exercise(bytes: &[u8], what: &str) {
    let run = || {
        let Ok(c) = Catalog::from_bytes(bytes) else {
            return;
        };
        for q in ["list pull requests", "queue build", "wiki", "x"] {
            let _ = c.search(q, &SearchOptions::default());
        }
        let opts = SearchOptions {
            area: Some("git".into()),
            read_only: true,
            ..SearchOptions::default()
        };
        let _ = c.search("repository branch policy", &opts);
        let _ = c.contract(c.operation_at(0).map_or("", |o| o.id()), &[]);
    };
    if std::panic::catch_unwind(run).is_err() {
        panic!("panicked on {what}");
    }
}

/// Deterministic pseudo-random numbers (no dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn corrupted_index_with_valid_checksum_gives_an_error_not_a_panic() {
    let (clean, data) = artifact();
    let regions = regions(&clean, &data);
    assert!(regions.len() >= 4, "{regions:?}");
    let mut rng = Lcg(0x5eed_0ff0_22aa);
    let mut damaged = 0;
    for (path, at, len) in &regions {
        // Every file: its tail (footers, offsets), its head, and random bytes in between.
        let len = *len;
        let mut spots: Vec<usize> = (0..len.min(24)).map(|k| len - 1 - k).collect();
        spots.extend(0..len.min(16));
        spots.extend((0..40).map(|_| rng.next() as usize % len));
        for spot in spots {
            for value in [0x00, 0xff, 0x7f, 0x80] {
                let mut bytes = clean.clone();
                if bytes[at + spot] == value {
                    continue;
                }
                bytes[at + spot] = value;
                reseal(&mut bytes);
                exercise(&bytes, &format!("{path} byte {spot} = {value:#04x}"));
                damaged += 1;
            }
        }
    }
    assert!(damaged > 1000, "{damaged}");
}

#[test]
fn truncated_index_files_with_valid_checksum_give_an_error_not_a_panic() {
    let (_, data) = artifact();
    for victim in 0..data.index_files.len() {
        for keep in [0usize, 1, 4, 8, 16, 100] {
            let mut d = data.clone();
            let f = &mut d.index_files[victim];
            if keep >= f.bytes.len() {
                continue;
            }
            f.bytes.truncate(keep);
            let what = format!("{} cut to {keep} bytes", f.path);
            exercise(&format::to_bytes(&d).unwrap(), &what);
        }
    }
}

/// Each artifact input the fuzzer once crashed on (`fuzz/crashes/artifact-*`), as is and
/// resealed (as the fuzz target tries it), is exercised without a panic or an abort. One
/// such input (`artifact-store-skip-index-oom`) damaged the doc store's skip index so that
/// tantivy allocated 878 TB and aborted the process; the runtime no longer reads a shipped
/// store, so damage confined to it (`artifact-store-*`) must not even cost the search.
#[test]
fn kept_fuzz_crashes_of_the_artifact_are_handled() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/crashes");
    let mut store_crashes = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("artifact-") {
            continue;
        }
        let data = std::fs::read(entry.path()).unwrap();
        exercise(&data, &name);
        if data.len() < HEADER_LEN {
            continue;
        }
        let mut sealed = data.clone();
        reseal(&mut sealed);
        exercise(&sealed, &format!("{name} (resealed)"));
        if name.starts_with("artifact-store-") {
            let c = Catalog::from_bytes(&sealed).unwrap();
            c.verify().unwrap();
            let summary = c.operation_at(0).map(|o| o.summary().to_string());
            let hits = c.search(&summary.unwrap_or_default(), &SearchOptions::default());
            assert!(!hits.unwrap().hits.is_empty(), "{name}: no hits");
            store_crashes += 1;
        }
    }
    assert!(
        store_crashes > 0,
        "no kept doc-store crash in {}",
        dir.display()
    );
}
