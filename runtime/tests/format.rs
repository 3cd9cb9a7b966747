//! The artifact format on a small synthetic catalog: open, lookups, search, and every kind
//! of damage refused with a typed error.

use std::sync::Arc;

use opcat_runtime::dense::quantize;
use opcat_runtime::format::{
    self, CatalogData, DenseData, HEADER_LEN, NameEntry, OpCore, OpRecord, TypeRecord,
};
use opcat_runtime::index::{self, IndexDoc};
use opcat_runtime::{Catalog, Error, FORMAT_VERSION, OpenOptions, SearchMode, SearchOptions};

/// The synthetic catalog's labels, sorted: versions, operationIds, the type name, the server.
const LABELS: [&str; 8] = [
    "7.1",
    "7.2",
    "Op_build.builds.queue",
    "Op_git.pullRequests.create",
    "Op_git.pullRequests.list",
    "Op_wit.workItems.get",
    "Thing",
    "https://dev.azure.com",
];

fn label(text: &str) -> u32 {
    LABELS.iter().position(|l| *l == text).unwrap() as u32
}

fn op(id: &str, area: &str, method: &str, summary: &str) -> (OpRecord, IndexDoc) {
    let rec = OpRecord {
        core: Arc::new(OpCore {
            id: id.to_owned(),
            area: area.into(),
            method: method.into(),
            server: label("https://dev.azure.com"),
            path: format!("/{{organization}}/_apis/{area}").into(),
            summary: summary.to_owned().into(),
            read_only: method == "GET",
            signature: format!("/** {summary} */ {id}(args: {{}}): Promise<Thing>").into(),
            declarations: Arc::new(vec![Arc::new(
                "interface Thing { thingId: number }".to_owned(),
            )]),
            tokens: 12,
            ..OpCore::default()
        }),
        aliases: vec![format!("{id}Alias")].into(),
        version: label("7.2"),
        operation_id: label(&format!("Op_{id}")),
        ..OpRecord::default()
    };
    let doc = IndexDoc {
        name: format!("{id} {id}Alias"),
        summary: summary.into(),
        path: rec.core.path.to_string(),
        returns: "thingId Thing".into(),
        area: area.into(),
        method: method.into(),
        version: "7.2".into(),
        read_only: method == "GET",
        ..IndexDoc::default()
    };
    (rec, doc)
}

fn data() -> CatalogData {
    let (ops, docs): (Vec<_>, Vec<_>) = [
        op(
            "git.pullRequests.list",
            "git",
            "GET",
            "List pull requests of a repository.",
        ),
        op(
            "git.pullRequests.create",
            "git",
            "POST",
            "Create a pull request.",
        ),
        op("wit.workItems.get", "wit", "GET", "Get a work item by id."),
        op(
            "build.builds.queue",
            "build",
            "POST",
            "Queue a new build of a pipeline definition.",
        ),
    ]
    .into_iter()
    .unzip();
    let mut names: Vec<NameEntry> = ops
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            [o.core.id.to_lowercase(), o.aliases[0].to_lowercase()]
                .map(|key| NameEntry { key, op: i as u32 })
        })
        .collect();
    names.sort_by(|a, b| a.key.cmp(&b.key));
    CatalogData {
        name: "test".into(),
        source: "synthetic".into(),
        documents: vec!["a/7.2/a.json".into()],
        operations: ops,
        names,
        types: vec![TypeRecord {
            name: label("Thing"),
            document: 0,
            declaration: "interface Thing { thingId: number }".to_owned().into(),
        }],
        hosts: vec!["https://dev.azure.com".into()],
        labels: LABELS.map(String::from).to_vec(),
        index_files: index::build(&docs).unwrap(),
        index_ops: Vec::new(),
        dense: Some(dense()),
    }
}

fn artifact() -> Vec<u8> {
    format::to_bytes(&data()).unwrap()
}

/// A 4-component embedding index: pull requests, work items, builds; `ci` means builds
/// although no operation's text says so (what BM25 cannot know).
fn dense() -> DenseData {
    let axis = |k: usize| -> Vec<f32> { (0..4).map(|d| if d == k { 1.0 } else { 0.0 }).collect() };
    let mut d = DenseData {
        model: "test-model".into(),
        dim: 4,
        model_dim: 4,
        ..DenseData::default()
    };
    for k in [0, 0, 1, 2] {
        let (q, s) = quantize(&axis(k));
        d.op_vectors.extend(q);
        d.op_scales.push(s);
    }
    for (token, k) in [
        ("build", 2),
        ("ci", 2),
        ("item", 1),
        ("pull", 0),
        ("request", 0),
        ("work", 1),
    ] {
        let (q, s) = quantize(&axis(k));
        d.tokens.push(token.into());
        d.token_vectors.extend(q);
        d.token_scales.push(s);
    }
    d
}

#[test]
fn dense_and_hybrid_find_what_words_do_not() {
    let c = Catalog::from_bytes(&artifact()).unwrap();
    assert_eq!(c.dense_model(), Some("test-model"));
    let mode = |mode| SearchOptions {
        mode,
        ..SearchOptions::default()
    };
    let bm25 = c.search("ci", &mode(SearchMode::Bm25)).unwrap();
    assert!(bm25.weak && bm25.hits.is_empty(), "{bm25:?}");
    for m in [SearchMode::Dense, SearchMode::Hybrid] {
        let r = c.search("ci", &mode(m)).unwrap();
        assert_eq!(r.hits[0].op.id(), "build.builds.queue", "{m}");
        assert!(!r.weak, "{m}");
    }
    // The caller's own vector (a full model) ranks instead of the static table.
    let r = c
        .search_with_vector(
            "anything",
            Some(&[0.0, 1.0, 0.0, 0.0]),
            &mode(SearchMode::Dense),
        )
        .unwrap();
    assert_eq!(r.hits[0].op.id(), "wit.workItems.get");
    // A catalog that stores its vectors projected (4 of the model's 6 components) brings
    // the model's query vector into its own coordinates; other lengths are refused.
    let mut projected = data();
    if let Some(d) = projected.dense.as_mut() {
        d.model_dim = 6;
        for k in 0..4 {
            let row: Vec<f32> = (0..6).map(|j| if j == k + 2 { 1.0 } else { 0.0 }).collect();
            let (q, s) = quantize(&row);
            d.projection.extend(q);
            d.projection_scales.push(s);
        }
    }
    let bytes = format::to_bytes(&projected).unwrap();
    let p = Catalog::from_bytes(&bytes).unwrap();
    let model_vector = [0.9, -0.4, 0.0, 0.1, 0.0, 0.0];
    let r = p
        .search_with_vector("anything", Some(&model_vector), &mode(SearchMode::Dense))
        .unwrap();
    assert_eq!(r.hits[0].op.id(), "wit.workItems.get");
    let q = p.model_query(&model_vector).unwrap();
    assert_eq!(q.len(), 4);
    assert!((q[1] - 1.0).abs() < 1e-3, "{q:?}");
    assert!(matches!(
        p.search_with_vector("x", Some(&[1.0; 5]), &mode(SearchMode::Dense)),
        Err(Error::Dimension {
            expected: 6,
            found: 5
        })
    ));
    let wrong = c.search_with_vector("x", Some(&[1.0, 0.0]), &mode(SearchMode::Dense));
    assert!(matches!(
        wrong,
        Err(Error::Dimension {
            expected: 4,
            found: 2
        })
    ));
    // Filters hold in every mode; exact names still come first.
    let git = SearchOptions {
        area: Some("git".into()),
        ..mode(SearchMode::Hybrid)
    };
    let r = c.search("ci", &git).unwrap();
    assert!(r.hits.iter().all(|h| h.op.area() == "git"), "{r:?}");
    let r = c
        .search("wit.workItems.get", &mode(SearchMode::Dense))
        .unwrap();
    assert!(r.hits[0].exact);
    // A query with no known word: nothing dense to say, and flagged weak.
    let r = c.search("zzzz", &mode(SearchMode::Dense)).unwrap();
    assert!(r.weak && r.hits.is_empty());
}

#[test]
fn without_an_embedding_index_hybrid_is_bm25_and_dense_is_an_error() {
    let mut d = data();
    d.dense = None;
    let c = Catalog::from_bytes(&format::to_bytes(&d).unwrap()).unwrap();
    let hybrid = c.search("pull request", &SearchOptions::default()).unwrap();
    let bm25 = c
        .search(
            "pull request",
            &SearchOptions {
                mode: SearchMode::Bm25,
                ..SearchOptions::default()
            },
        )
        .unwrap();
    let ids = |r: &opcat_runtime::SearchResult<'_>| -> Vec<String> {
        r.hits.iter().map(|h| h.op.id().to_string()).collect()
    };
    assert_eq!(ids(&hybrid), ids(&bm25));
    let dense = SearchOptions {
        mode: SearchMode::Dense,
        ..SearchOptions::default()
    };
    assert!(matches!(c.search("x", &dense), Err(Error::NoDense)));
}

#[test]
fn an_embedding_index_of_the_wrong_shape_is_refused() {
    type Damage = fn(&mut DenseData);
    let cases: [(&str, Damage); 6] = [
        ("operation vectors", |d| {
            d.op_vectors.pop();
        }),
        ("operation rows: expected 4, found 3", |d| {
            d.op_rows = vec![0, 1, 2]
        }),
        ("operation row 9, of 4", |d| d.op_rows = vec![0, 1, 2, 9]),
        ("token scales", |d| {
            d.token_scales.push(1.0);
        }),
        ("not sorted", |d| d.tokens.swap(0, 1)),
        ("dimension is 0", |d| d.dim = 0),
    ];
    for (what, damage) in cases {
        let mut d = data();
        damage(d.dense.as_mut().unwrap());
        match Catalog::from_bytes(&format::to_bytes(&d).unwrap()) {
            Err(Error::Invalid { message }) => assert!(message.contains(what), "{message}"),
            other => panic!("{what}: expected Invalid, got {other:?}"),
        }
    }
}

#[test]
fn opens_looks_up_and_searches() {
    let bytes = artifact();
    assert_eq!(
        bytes,
        artifact(),
        "the same catalog must give the same bytes"
    );
    let c = Catalog::from_bytes(&bytes).unwrap();
    assert_eq!(c.len(), 4);
    assert_eq!(c.name(), "test");
    let op = c.operation("GIT.pullRequests.LIST").unwrap();
    assert_eq!(op.id(), "git.pullRequests.list");
    assert_eq!(
        c.operation("wit.workItems.getAlias").unwrap().id(),
        "wit.workItems.get"
    );
    assert_eq!(
        c.operation("a/7.2/a.json#Op_build.builds.queue")
            .unwrap()
            .method(),
        "POST"
    );
    assert!(c.operation("nope").is_none());
    assert_eq!(
        c.type_decl("Thing", Some(&op)),
        Some("interface Thing { thingId: number }")
    );
    assert!(
        c.contract("git.pullRequests.list", &["Thing"])
            .unwrap()
            .ends_with("thingId: number }")
    );

    let r = c.search("pull request", &SearchOptions::default()).unwrap();
    assert!(!r.weak);
    assert!(r.hits[0].op.id().starts_with("git.pullRequests."));
    let exact = c
        .search("wit.workItems.get", &SearchOptions::default())
        .unwrap();
    assert!(exact.hits[0].exact && exact.hits[0].op.id() == "wit.workItems.get");
    let reads = SearchOptions {
        read_only: true,
        ..SearchOptions::default()
    };
    let r = c.search("pull request", &reads).unwrap();
    assert!(r.hits.iter().all(|h| h.op.method() == "GET"));
    let area = SearchOptions {
        area: Some("build".into()),
        ..SearchOptions::default()
    };
    let r = c.search("queue pipeline", &area).unwrap();
    assert!(r.hits.iter().all(|h| h.op.area() == "build") && !r.hits.is_empty());
    let r = c.search("zebra mango", &SearchOptions::default()).unwrap();
    assert!(r.weak && r.hits.is_empty());
}

#[test]
fn mmap_open_trusted_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.opcat");
    std::fs::write(&path, artifact()).unwrap();
    // SAFETY: the file is ours and not modified while mapped.
    let c = unsafe { Catalog::open(&path, OpenOptions { verify: true }) }.unwrap();
    assert_eq!(c.len(), 4);
    let t = unsafe { Catalog::open(&path, OpenOptions::default()) }.unwrap();
    t.verify().unwrap();
    let zst = zstd::bulk::compress(&artifact(), 3).unwrap();
    assert_eq!(Catalog::from_zstd(&zst).unwrap().len(), 4);
    assert!(matches!(
        Catalog::from_zstd(b"not zstd"),
        Err(Error::Decompress { .. })
    ));
    let missing = unsafe { Catalog::open(dir.path().join("none"), OpenOptions::default()) };
    assert!(matches!(missing, Err(Error::Io { .. })));
}

fn refused(bytes: &[u8]) -> Error {
    match Catalog::from_bytes(bytes) {
        Ok(_) => panic!("a damaged artifact was accepted"),
        Err(e) => e,
    }
}

/// The message of [`Error::Invalid`] that opening `d` is refused with.
fn invalid(d: &CatalogData) -> String {
    match refused(&format::to_bytes(d).unwrap()) {
        Error::Invalid { message } => message,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn damage_is_refused_with_typed_errors() {
    let good = artifact();
    assert!(matches!(
        refused(&good[..10]),
        Error::TooShort {
            expected: 64,
            found: 10
        }
    ));
    assert!(matches!(
        refused(b"{\"json\": true}"),
        Error::TooShort { .. }
    ));
    let mut foreign = vec![0u8; 200];
    foreign[..4].copy_from_slice(b"\x7fELF");
    assert!(matches!(refused(&foreign), Error::Magic { .. }));
    let mut future = good.clone();
    future[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        refused(&future),
        Error::Version { expected, found }
            if expected == FORMAT_VERSION && found == FORMAT_VERSION + 1
    ));
    let mut longer = good.clone();
    longer.extend_from_slice(b"garbage");
    assert!(matches!(refused(&longer), Error::Length { .. }));
    assert!(matches!(
        refused(&good[..good.len() - 1]),
        Error::Length { .. }
    ));
    let mut flipped = good.clone();
    let mid = HEADER_LEN + (good.len() - HEADER_LEN) / 2;
    flipped[mid] ^= 0x40;
    assert!(matches!(refused(&flipped), Error::Checksum { .. }));
    let mut reserved = good.clone();
    reserved[40] = 1;
    assert!(matches!(refused(&reserved), Error::Header { .. }));
    // A payload rewritten with a matching checksum still fails archive validation.
    let mut forged = good.clone();
    let end = forged.len();
    forged[end - 8..].copy_from_slice(&[0xff; 8]);
    let sum = format::checksum(&forged[HEADER_LEN..]);
    forged[24..32].copy_from_slice(&sum.to_le_bytes());
    assert!(matches!(refused(&forged), Error::Invalid { .. }));
    for e in [refused(&future), refused(&flipped)] {
        let msg = e.to_string();
        assert!(msg.contains("expected"), "{msg}");
    }
}

#[test]
fn catalog_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Catalog>();
}

/// Shared values that are empty, of every shared type, and the same values shared by two
/// operations, still pass validation. rkyv's validator tells shared values apart by
/// address; a zero-sized one (an empty `Arc<str>` or `Arc<[T]>`) sat at the address of the
/// next shared value and was refused as "claimed as two different types" (format 8 keeps
/// every shared value sized).
#[test]
fn empty_and_repeated_shared_values_validate() {
    let mut data = data();
    data.dense = None;
    let empty = OpRecord {
        core: Arc::new(OpCore {
            id: "empty.op".to_owned(),
            ..OpCore::default()
        }),
        version: 1,
        ..OpRecord::default()
    };
    let mut twin = empty.clone();
    Arc::make_mut(&mut twin.core).id = "empty.twin".to_owned();
    // Another version of the twin: the same core (format 9), its own version.
    let older = OpRecord {
        version: 0,
        ..twin.clone()
    };
    data.operations.extend([empty, twin, older]);
    let bytes = format::to_bytes(&data).unwrap();
    let c = Catalog::from_bytes(&bytes).unwrap();
    c.verify().unwrap();
    assert_eq!(c.operation_at(5).map(|o| o.id()), Some("empty.twin"));
    assert_eq!(c.operation_at(5).map(|o| o.summary()), Some(""));
    let (twin, older) = (c.operation_at(5).unwrap(), c.operation_at(6).unwrap());
    assert_eq!((older.id(), older.version()), ("empty.twin", "7.1"));
    assert!(
        std::ptr::eq(twin.core(), older.core()),
        "the core is stored once"
    );
}

/// Operations that read the same (versions of one operation) may share a vector row: the
/// artifact stores the row once and every search mode ranks as with a row each.
#[test]
fn operations_sharing_a_vector_row_rank_as_with_their_own() {
    let own = Catalog::from_bytes(&artifact()).unwrap();
    let mut shared = data();
    let d = shared.dense.as_mut().unwrap();
    // Operations 0 and 1 have the same vector: keep it once.
    let dim = 4;
    d.op_vectors.drain(dim..2 * dim);
    d.op_scales.remove(1);
    d.op_rows = vec![0, 0, 1, 2];
    let bytes = format::to_bytes(&shared).unwrap();
    let shared = Catalog::from_bytes(&bytes).unwrap();
    shared.verify().unwrap();
    for query in ["pull request", "ci", "work item", "build"] {
        for mode in SearchMode::ALL {
            let opts = SearchOptions {
                mode,
                ..SearchOptions::default()
            };
            let ranked = |c: &Catalog| -> Vec<(String, u32)> {
                c.search(query, &opts)
                    .unwrap()
                    .hits
                    .iter()
                    .map(|h| (h.op.id().to_string(), h.score.to_bits()))
                    .collect()
            };
            assert_eq!(ranked(&shared), ranked(&own), "{query} ({mode})");
            // `ci` is no word of any operation: BM25 finds nothing, the vectors do.
            assert!(
                mode == SearchMode::Bm25 || !ranked(&own).is_empty(),
                "{query} ({mode})"
            );
        }
    }
}

/// An index document that stands for an operation the catalog does not have is refused.
#[test]
fn an_index_document_of_no_operation_is_refused() {
    let mut d = data();
    d.index_ops = vec![0, 1, 2, 9];
    let message = invalid(&d);
    assert!(message.contains("operation 9, of 4"), "{message}");
}

/// A record that names a label past the table (a version, an api-version, a server or an
/// operationId) or a type named past it is refused: the accessors read labels by index.
/// So is a label table out of order, which lookups search by halves.
#[test]
fn a_label_past_the_table_is_refused() {
    let past = LABELS.len() as u32;
    for damage in [
        |o: &mut OpRecord| o.version = LABELS.len() as u32,
        |o: &mut OpRecord| o.api_version = Some(LABELS.len() as u32 + 4),
        |o: &mut OpRecord| Arc::make_mut(&mut o.core).server = LABELS.len() as u32,
        |o: &mut OpRecord| o.operation_id = u32::MAX,
    ] {
        let mut d = data();
        damage(&mut d.operations[2]);
        let message = invalid(&d);
        assert!(
            message.contains(&format!("wit.workItems.get names a label past the {past}")),
            "{message}"
        );
    }
    let mut d = data();
    d.types[0].name = past;
    let message = invalid(&d);
    assert!(
        message.contains(&format!("named by label {past}, of {past}")),
        "{message}"
    );
    let mut d = data();
    d.labels.swap(0, 1);
    let message = invalid(&d);
    assert!(message.contains("not sorted"), "{message}");
    let c = Catalog::from_bytes(&artifact()).unwrap();
    let op = c.operation("wit.workItems.get").unwrap();
    assert_eq!(
        (op.version(), op.server(), op.operation_id()),
        ("7.2", "https://dev.azure.com", "Op_wit.workItems.get")
    );
    assert_eq!(
        c.type_decl("Thing", Some(&op)),
        Some("interface Thing { thingId: number }")
    );
    assert_eq!(c.type_decl("Other", Some(&op)), None);
    assert_eq!(
        c.operation("a/7.2/a.json#Op_wit.workItems.get")
            .map(|o| o.id()),
        Some("wit.workItems.get")
    );
}
