//! The compile-time embedder (`opcat_compiler::embed`): vectors match the reference model,
//! missing files give a typed error naming the setup command, the cache makes a warm run
//! model-free and bit-identical, and damaged cache files are survived. Needs the model files
//! of `scripts/setup-models.sh` (CI runs it first); without them these tests fail, naming it.

use std::fs;
use std::path::{Path, PathBuf};

use opcat_compiler::embed::{DIM, EmbedError, Embedder, ModelDir, SETUP_COMMAND};

fn models() -> ModelDir {
    ModelDir::locate(None).unwrap_or_else(|e| panic!("{e}"))
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|s| s.to_string()).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn bits(vectors: &[Vec<f32>]) -> Vec<Vec<u32>> {
    vectors
        .iter()
        .map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

const TEXTS: &[&str] = &[
    "List the pull requests of a Git repository.",
    "Create a work item of the given type in a project.",
    "wiki",
    "Get a build definition by its id.",
];

#[test]
fn vectors_match_the_reference_model() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/embed-reference.json");
    let fixture: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).expect("reference fixture")).expect("JSON");
    let sentences = fixture["sentences"].as_array().expect("sentences");
    let texts: Vec<String> = sentences
        .iter()
        .map(|s| s["text"].as_str().expect("text").to_string())
        .collect();
    let cache = tempfile::tempdir().expect("temp dir");
    let mut embedder = Embedder::new(models(), cache.path().to_path_buf());
    let vectors = embedder.embed(&texts, false).expect("embed");
    assert_eq!(vectors.len(), texts.len());
    let mut min = f64::MAX;
    for (sentence, vector) in sentences.iter().zip(&vectors) {
        let reference: Vec<f32> = sentence["vector"]
            .as_array()
            .expect("vector")
            .iter()
            .map(|v| v.as_f64().expect("number") as f32)
            .collect();
        assert_eq!(vector.len(), DIM);
        assert_eq!(reference.len(), DIM);
        let norm: f64 = vector
            .iter()
            .map(|x| (*x as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not normalised: {norm}");
        let c = cosine(vector, &reference);
        eprintln!("cosine {c:.5}  {}", sentence["text"]);
        assert!(c >= 0.99, "cosine {c} < 0.99 for {}", sentence["text"]);
        min = min.min(c);
    }
    eprintln!("min cosine vs reference: {min:.5}");
    let stats = embedder.stats();
    assert_eq!((stats.cached, stats.computed), (0, texts.len()));
}

#[test]
fn missing_models_name_the_setup_command() {
    let empty = tempfile::tempdir().expect("temp dir");
    let err = ModelDir::locate(Some(empty.path())).expect_err("an empty folder is not a model");
    assert!(matches!(err, EmbedError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains(SETUP_COMMAND), "{err}");

    // Every model file but ONNX Runtime's library: still missing, and the library is named.
    let partial = tempfile::tempdir().expect("temp dir");
    let real = models();
    for name in [
        "model.onnx",
        "tokenizer.json",
        "config.json",
        "special_tokens_map.json",
        "tokenizer_config.json",
    ] {
        fs::write(partial.path().join(name), b"{}").expect("write");
    }
    let err = ModelDir::locate(Some(partial.path())).expect_err("no runtime library");
    match &err {
        EmbedError::Missing { path, setup } => {
            assert_eq!(*setup, SETUP_COMMAND);
            assert!(path.to_string_lossy().contains("onnxruntime"), "{err}");
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(real.ort_library().is_file());
}

#[test]
fn a_warm_run_computes_nothing_and_is_bit_identical() {
    let cache = tempfile::tempdir().expect("temp dir");
    let texts = strings(TEXTS);
    let mut cold = Embedder::new(models(), cache.path().to_path_buf());
    let first = cold.embed(&texts, false).expect("cold embed");
    assert_eq!(cold.stats().computed, texts.len());

    let mut warm = Embedder::new(models(), cache.path().to_path_buf());
    let second = warm.embed(&texts, false).expect("warm embed");
    let stats = warm.stats();
    assert_eq!((stats.cached, stats.computed), (texts.len(), 0));
    assert_eq!(
        stats.model_seconds, 0.0,
        "the model was loaded on a warm run"
    );
    assert!(!format!("{warm:?}").contains("model_loaded: true"));
    assert_eq!(bits(&first), bits(&second));

    // Duplicates and order: one computation per distinct text, vectors follow the input.
    let mut again = Embedder::new(models(), cache.path().to_path_buf());
    let doubled = strings(&[TEXTS[2], TEXTS[0], TEXTS[2]]);
    let third = again.embed(&doubled, false).expect("embed");
    assert_eq!(
        bits(&third),
        bits(&[first[2].clone(), first[0].clone(), first[2].clone()])
    );
}

#[test]
fn vectors_do_not_depend_on_batch_neighbours() {
    let alone = tempfile::tempdir().expect("temp dir");
    let mixed = tempfile::tempdir().expect("temp dir");
    let single = Embedder::new(models(), alone.path().to_path_buf())
        .embed(&strings(&["wiki"]), false)
        .expect("embed");
    let many: Vec<String> = TEXTS
        .iter()
        .chain(["wiki pages", "git"].iter())
        .map(|s| s.to_string())
        .collect();
    let batch = Embedder::new(models(), mixed.path().to_path_buf())
        .embed(&many, false)
        .expect("embed");
    assert_eq!(bits(&single), bits(&[batch[2].clone()]));
}

#[test]
fn a_damaged_cache_is_survived() {
    let cache = tempfile::tempdir().expect("temp dir");
    let texts = strings(TEXTS);
    let first = Embedder::new(models(), cache.path().to_path_buf())
        .embed(&texts, false)
        .expect("embed");
    let files = cache_files(cache.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];

    // Torn tail: the last record loses half its bytes; it is computed again, the same.
    let len = fs::metadata(file).expect("metadata").len();
    let record = (32 + DIM * 4) as u64;
    fs::OpenOptions::new()
        .write(true)
        .open(file)
        .and_then(|f| f.set_len(len - record / 2))
        .expect("truncate");
    let mut torn = Embedder::new(models(), cache.path().to_path_buf());
    let second = torn.embed(&texts, false).expect("embed after a torn tail");
    assert_eq!(torn.stats().computed, 1);
    assert_eq!(bits(&first), bits(&second));
    assert_eq!(
        fs::metadata(file).expect("metadata").len(),
        len,
        "tail cut and re-appended"
    );

    // A file that is not a cache at all (wrong magic, odd length): ignored and replaced.
    fs::write(file, b"not a cache").expect("write");
    let mut foreign = Embedder::new(models(), cache.path().to_path_buf());
    let third = foreign
        .embed(&texts, false)
        .expect("embed after a foreign file");
    assert_eq!(foreign.stats().computed, texts.len());
    assert_eq!(bits(&first), bits(&third));
    let mut warm = Embedder::new(models(), cache.path().to_path_buf());
    warm.embed(&texts, false).expect("warm");
    assert_eq!(warm.stats().computed, 0);

    // An empty file: ignored too.
    fs::write(file, b"").expect("write");
    let mut empty = Embedder::new(models(), cache.path().to_path_buf());
    empty
        .embed(&texts, false)
        .expect("embed after an empty file");
    assert_eq!(empty.stats().computed, texts.len());
}

#[test]
fn vocabulary_and_model_id() {
    let models = models();
    let vocab = models.vocab().expect("vocab");
    assert_eq!(vocab.len(), 30522);
    assert_eq!(vocab[0], "[PAD]");
    assert_eq!(vocab[101], "[CLS]");
    assert_eq!(vocab[102], "[SEP]");
    let id = models.model_id().expect("model id");
    assert_eq!(id, "all-MiniLM-L6-v2-int8-8199be6f699a395f");
}

/// Cold throughput, printed (not a check): `cargo test -p opcat-compiler --test embed --
/// --ignored --nocapture throughput`.
#[test]
#[ignore = "a measurement, minutes long"]
fn throughput() {
    let models = models();
    let vocab = models.vocab().expect("vocab");
    let words: Vec<&str> = vocab
        .iter()
        .map(String::as_str)
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()))
        .collect();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    // ~30-word operation summaries.
    let summaries: Vec<String> = (0..1000)
        .map(|i| {
            let n = 24 + next(12);
            let body: Vec<&str> = (0..n).map(|_| words[next(words.len())]).collect();
            format!("Operation {i}: {}.", body.join(" "))
        })
        .collect();
    // 30,000 distinct single words: vocabulary words, then camelCase pairs.
    let mut singles: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let mut i = 0;
    while singles.len() < 30_000 {
        let (a, b) = (words[i % words.len()], words[(i * 7 + 3) % words.len()]);
        singles.push(format!("{a}{}{}", b[..1].to_ascii_uppercase(), &b[1..]));
        i += 1;
    }
    singles.truncate(30_000);
    singles.sort();
    singles.dedup();

    for (name, texts) in [
        ("summaries (~30 words)", &summaries),
        ("single words", &singles),
    ] {
        let cache = tempfile::tempdir().expect("temp dir");
        let mut embedder = Embedder::new(models.clone(), cache.path().to_path_buf());
        let start = std::time::Instant::now();
        embedder.embed(texts, true).expect("embed");
        let wall = start.elapsed().as_secs_f64();
        let stats = embedder.stats();
        eprintln!(
            "{name}: {} texts in {wall:.1}s wall ({:.1}s in the model, load included): {:.0} texts/s",
            texts.len(),
            stats.model_seconds,
            texts.len() as f64 / wall
        );
        let start = std::time::Instant::now();
        let mut warm = Embedder::new(models.clone(), cache.path().to_path_buf());
        warm.embed(texts, false).expect("warm");
        eprintln!(
            "{name}: warm {:.2}s, computed {}",
            start.elapsed().as_secs_f64(),
            warm.stats().computed
        );
    }
}
