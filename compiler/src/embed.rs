//! Compile-time sentence embedder for hybrid search: all-MiniLM-L6-v2 (int8 ONNX) run through
//! fastembed on ONNX Runtime loaded from the offline model folder, with a content-addressed
//! vector cache so a warm rebuild spends no model time.
//!
//! The model files are installed by [`SETUP_COMMAND`] into `.cache/models` (or
//! `$OPCAT_MODELS`); nothing is downloaded at build or run time. [`ModelDir::locate`] checks
//! every file first, ONNX Runtime's shared library included (ort would panic on a missing
//! library), and answers [`EmbedError::Missing`] naming the setup command.
//!
//! Vectors are the reference sentence-transformers recipe: tokens truncated to 256, mean
//! pooling over the attention mask, L2 normalisation. Texts are batched by exact token count,
//! so no batch is padded and a text's vector does not depend on the other texts in the call.
//!
//! Cache: one file per model id, `<cache dir>/<model id>.vec`: an 8-byte magic, then records
//! `[32-byte sha256(model_id + "\0" + text)][DIM f32 little-endian]`. It is loaded into a map
//! on the first [`Embedder::embed`]; new records are appended after each model batch. A torn
//! tail is cut back to the last whole record, a file with a wrong magic is replaced; neither
//! is an error.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// The command that installs the model files.
pub const SETUP_COMMAND: &str = "scripts/setup-models.sh";
/// Dimension of the vectors.
pub const DIM: usize = 384;
/// Texts per model call, at least.
pub const BATCH_SIZE: usize = 64;
/// Tokens per model call, at most, unless [`BATCH_SIZE`] texts have more: short texts (the
/// static table's single tokens) go in larger calls, about 1.25x faster on 2 cores.
pub const BATCH_TOKENS: usize = 1024;
/// Tokens per text, as sentence-transformers' `max_seq_length` for this model.
pub const MAX_TOKENS: usize = 256;
/// Model sessions run side by side (at most; fewer when the machine has fewer cores), one
/// ONNX Runtime intra-op thread each, each taking the next batch: on 2 cores they embed
/// the latest catalog's 11,900 new texts in 7.9 s against 9.0-9.1 s for one session of two
/// threads (whose threads meet at every operator), with the same vectors.
pub const MAX_SESSIONS: usize = 2;

/// Name of the model, the first part of [`ModelDir::model_id`].
const MODEL_NAME: &str = "all-MiniLM-L6-v2-int8";
const MODEL_FILE: &str = "model.onnx";
const TOKENIZER_FILE: &str = "tokenizer.json";
const CONFIG_FILE: &str = "config.json";
const SPECIAL_TOKENS_FILE: &str = "special_tokens_map.json";
const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";
const VOCAB_FILE: &str = "vocab.txt";
/// Magic at the start of a cache file (format version in the last byte).
const CACHE_MAGIC: &[u8; 8] = b"opcvec\0\x01";
const KEY_LEN: usize = 32;
const RECORD_LEN: usize = KEY_LEN + DIM * 4;

/// Errors of the embedder. None of them is a panic, whatever the files hold.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file (or ONNX Runtime's library) is not there.
    #[error(
        "embedding model file not found: {}; run `{setup}` to install the offline model \
         (into .cache/models, or $OPCAT_MODELS)",
        path.display()
    )]
    Missing { path: PathBuf, setup: &'static str },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A model file is there but does not hold what it should.
    #[error("{}: {message}; reinstall with `{SETUP_COMMAND}`", path.display())]
    Invalid { path: PathBuf, message: String },
    /// ONNX Runtime's shared library is there but could not be loaded.
    #[error(
        "cannot load ONNX Runtime from {}: {message}; reinstall with `{SETUP_COMMAND}`",
        path.display()
    )]
    Runtime { path: PathBuf, message: String },
    /// The model failed to load or to run.
    #[error("embedding model: {0}")]
    Model(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> EmbedError + '_ {
    move |source| EmbedError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The folder holding the model files, checked complete.
#[derive(Debug, Clone)]
pub struct ModelDir {
    root: PathBuf,
    model_id: OnceLock<String>,
}

impl ModelDir {
    /// The files [`ModelDir::locate`] requires, ONNX Runtime's library last.
    fn required() -> [String; 6] {
        [
            MODEL_FILE.to_string(),
            TOKENIZER_FILE.to_string(),
            CONFIG_FILE.to_string(),
            SPECIAL_TOKENS_FILE.to_string(),
            TOKENIZER_CONFIG_FILE.to_string(),
            ort_library_name(),
        ]
    }

    /// The model folder: `explicit`, else `$OPCAT_MODELS`, else `.cache/models` under the
    /// current directory, else under the workspace root. Checks every needed file (ONNX
    /// Runtime's shared library included) and answers [`EmbedError::Missing`] otherwise.
    pub fn locate(explicit: Option<&Path>) -> Result<ModelDir, EmbedError> {
        let env = std::env::var_os("OPCAT_MODELS").filter(|v| !v.is_empty());
        let candidates: Vec<PathBuf> = match (explicit, env) {
            (Some(dir), _) => vec![dir.to_path_buf()],
            (None, Some(dir)) => vec![PathBuf::from(dir)],
            (None, None) => {
                let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("..")
                    .join(".cache/models");
                let mut c = Vec::new();
                if let Ok(cwd) = std::env::current_dir() {
                    c.push(cwd.join(".cache/models"));
                }
                c.push(workspace);
                c
            }
        };
        let mut first_missing = None;
        for root in &candidates {
            match Self::first_missing(root) {
                None => {
                    return Ok(ModelDir {
                        root: root.clone(),
                        model_id: OnceLock::new(),
                    });
                }
                Some(path) => {
                    // Report the first folder that exists at all; else the last candidate.
                    if first_missing.is_none() && root.is_dir() {
                        first_missing = Some(path);
                    }
                }
            }
        }
        let path = first_missing.unwrap_or_else(|| {
            let last = candidates.last().cloned().unwrap_or_default();
            last.join(MODEL_FILE)
        });
        Err(EmbedError::Missing {
            path,
            setup: SETUP_COMMAND,
        })
    }

    fn first_missing(root: &Path) -> Option<PathBuf> {
        Self::required()
            .iter()
            .map(|name| root.join(name))
            .find(|path| !path.is_file())
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// ONNX Runtime's shared library in the folder.
    pub fn ort_library(&self) -> PathBuf {
        self.root.join(ort_library_name())
    }

    fn read(&self, name: &str) -> Result<Vec<u8>, EmbedError> {
        let path = self.root.join(name);
        fs::read(&path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                EmbedError::Missing {
                    path,
                    setup: SETUP_COMMAND,
                }
            } else {
                EmbedError::Io { path, source }
            }
        })
    }

    /// The WordPiece vocabulary in id order (from tokenizer.json's `model.vocab`, else
    /// vocab.txt).
    pub fn vocab(&self) -> Result<Vec<String>, EmbedError> {
        let path = self.root.join(TOKENIZER_FILE);
        let bytes = self.read(TOKENIZER_FILE)?;
        let invalid = |message: String| EmbedError::Invalid {
            path: path.clone(),
            message,
        };
        let json: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        if let Some(map) = json.pointer("/model/vocab").and_then(|v| v.as_object()) {
            let mut by_id: Vec<Option<String>> = vec![None; map.len()];
            for (token, id) in map {
                let id = id
                    .as_u64()
                    .and_then(|id| usize::try_from(id).ok())
                    .filter(|&id| id < by_id.len())
                    .ok_or_else(|| {
                        invalid(format!(
                            "token {token:?} has id {id}, not in 0..{}",
                            map.len()
                        ))
                    })?;
                if by_id[id].replace(token.clone()).is_some() {
                    return Err(invalid(format!("two tokens have id {id}")));
                }
            }
            // Ids are in range and distinct, so every slot is filled.
            return Ok(by_id.into_iter().flatten().collect());
        }
        let text = String::from_utf8(self.read(VOCAB_FILE)?).map_err(|e| EmbedError::Invalid {
            path: self.root.join(VOCAB_FILE),
            message: format!("not UTF-8: {e}"),
        })?;
        Ok(text.lines().map(str::to_string).collect())
    }

    /// A stable identifier of the model: its name and the first 16 hex digits of the sha256
    /// of model.onnx.
    pub fn model_id(&self) -> Result<String, EmbedError> {
        if let Some(id) = self.model_id.get() {
            return Ok(id.clone());
        }
        let path = self.root.join(MODEL_FILE);
        let mut file = File::open(&path).map_err(io_err(&path))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io_err(&path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let id = format!("{MODEL_NAME}-{hex}");
        Ok(self.model_id.get_or_init(|| id).clone())
    }
}

fn ort_library_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// What an [`Embedder`] did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EmbedStats {
    /// Texts answered from the cache.
    pub cached: usize,
    /// Texts run through the model.
    pub computed: usize,
    /// Seconds spent loading and running the model.
    pub model_seconds: f64,
}

/// Sentence embedder with a content-addressed vector cache; the model is loaded on the first
/// cache miss only.
pub struct Embedder {
    models: ModelDir,
    cache_dir: PathBuf,
    /// Loaded on first use: one for [`Embedder::embed_uncached`], [`session_count`] for
    /// cache misses.
    sessions: Vec<TextEmbedding>,
    cache: Option<Cache>,
    stats: EmbedStats,
}

impl fmt::Debug for Embedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedder")
            .field("models", &self.models)
            .field("cache_dir", &self.cache_dir)
            .field("model_loaded", &!self.sessions.is_empty())
            .field("cached_vectors", &self.cache.as_ref().map(|c| c.map.len()))
            .field("stats", &self.stats)
            .finish()
    }
}

impl Embedder {
    /// An embedder over `models`, caching vectors in `cache_dir` (created when first written).
    pub fn new(models: ModelDir, cache_dir: PathBuf) -> Embedder {
        Embedder {
            models,
            cache_dir,
            sessions: Vec::new(),
            cache: None,
            stats: EmbedStats::default(),
        }
    }

    /// The default cache folder: `embeddings` next to the models folder (so
    /// `.cache/embeddings` for `.cache/models`).
    pub fn default_cache_dir(models: &ModelDir) -> PathBuf {
        match models.root().parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.join("embeddings"),
            _ => PathBuf::from(".cache/embeddings"),
        }
    }

    /// The model folder.
    pub fn models(&self) -> &ModelDir {
        &self.models
    }

    /// L2-normalised [`DIM`]-float vectors, one per text, in order. Cached texts are not run
    /// through the model (which is loaded on the first miss only); misses are embedded in
    /// batches, with a progress bar when `progress` is true, and appended to the cache.
    pub fn embed(&mut self, texts: &[String], progress: bool) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model_id = self.models.model_id()?;
        if self.cache.is_none() {
            let path = self.cache_dir.join(format!("{model_id}.vec"));
            self.cache = Some(Cache::load(path)?);
        }
        let keys: Vec<[u8; KEY_LEN]> = texts.iter().map(|t| cache_key(&model_id, t)).collect();

        // Distinct misses, first occurrence order.
        let mut misses: Vec<usize> = Vec::new();
        {
            let cache = self.cache.as_ref().map(|c| &c.map);
            let mut seen = std::collections::HashSet::new();
            for (i, key) in keys.iter().enumerate() {
                let cached = cache.is_some_and(|m| m.contains_key(key));
                if !cached && seen.insert(*key) {
                    misses.push(i);
                }
            }
        }
        self.stats.cached += texts.len() - misses.len();

        if !misses.is_empty() {
            self.compute(texts, &keys, &misses, progress)?;
        }

        let cache = self.cache.as_ref().map(|c| &c.map);
        keys.iter()
            .map(|key| {
                cache
                    .and_then(|m| m.get(key))
                    .map(|v| v.to_vec())
                    .ok_or_else(|| EmbedError::Model("a vector went missing from the cache".into()))
            })
            .collect()
    }

    /// Runs the texts at `misses` through the model and stores their vectors in the cache.
    fn compute(
        &mut self,
        texts: &[String],
        keys: &[[u8; KEY_LEN]],
        misses: &[usize],
        progress: bool,
    ) -> Result<(), EmbedError> {
        let start = Instant::now();
        let result = self.compute_timed(texts, keys, misses, progress);
        self.stats.model_seconds += start.elapsed().as_secs_f64();
        result
    }

    fn compute_timed(
        &mut self,
        texts: &[String],
        keys: &[[u8; KEY_LEN]],
        misses: &[usize],
        progress: bool,
    ) -> Result<(), EmbedError> {
        let sessions = loaded(&mut self.sessions, &self.models, session_count())?;

        // Group by exact token count (then text, for a stable order): batches are never
        // padded, so each vector is independent of its batch neighbours.
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in misses {
            let encoding = sessions[0]
                .tokenizer
                .encode(texts[i].as_str(), true)
                .map_err(|e| EmbedError::Model(format!("tokenizing: {e}")))?;
            groups
                .entry(encoding.len().min(MAX_TOKENS))
                .or_default()
                .push(i);
        }
        let mut batches: Vec<Vec<usize>> = Vec::new();
        for (&tokens, group) in groups.iter_mut() {
            group.sort_by(|&a, &b| texts[a].cmp(&texts[b]));
            let size = BATCH_SIZE.max(BATCH_TOKENS / tokens.max(1));
            batches.extend(group.chunks(size).map(<[usize]>::to_vec));
        }

        let bar = if progress {
            let bar = ProgressBar::new(misses.len() as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} embedding {pos}/{len} texts [{elapsed_precise}, ETA {eta}] {wide_bar}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        } else {
            ProgressBar::hidden()
        };

        let Some(cache) = self.cache.as_mut() else {
            return Err(EmbedError::Model("the cache is not loaded".into()));
        };
        let stats = &mut self.stats;
        // Each session takes the next batch; the vectors go to the cache in batch order, as
        // soon as the batches before them are in, so the cache file's records come in the
        // same order whatever the scheduling.
        let next = AtomicUsize::new(0);
        let (sent, received) = mpsc::channel();
        std::thread::scope(|scope| {
            for session in sessions.iter_mut() {
                let (sent, next, batches) = (sent.clone(), &next, &batches);
                scope.spawn(move || {
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        let Some(batch) = batches.get(b) else { break };
                        let inputs: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
                        let vectors = session
                            .embed(&inputs, Some(inputs.len()))
                            .map_err(|e| EmbedError::Model(e.to_string()));
                        let failed = vectors.is_err();
                        if sent.send((b, vectors)).is_err() || failed {
                            break;
                        }
                    }
                });
            }
            drop(sent);
            let mut pending: BTreeMap<usize, Vec<Vec<f32>>> = BTreeMap::new();
            let mut done = 0;
            let result = (|| {
                for (b, vectors) in received {
                    pending.insert(b, vectors?);
                    while let Some(vectors) = pending.remove(&done) {
                        let batch = &batches[done];
                        store(cache, keys, batch, vectors)?;
                        stats.computed += batch.len();
                        bar.inc(batch.len() as u64);
                        done += 1;
                    }
                }
                Ok(())
            })();
            // On an error the sessions stop after their current batch.
            next.store(batches.len(), Ordering::Relaxed);
            result
        })?;
        bar.finish_and_clear();
        Ok(())
    }

    /// Embeds `texts` with the model, bypassing the cache (for queries, and for timing the
    /// model itself).
    pub fn embed_uncached(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let start = Instant::now();
        let sessions = loaded(&mut self.sessions, &self.models, 1)?;
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vectors = sessions[0]
            .embed(&inputs, Some(BATCH_SIZE))
            .map_err(|e| EmbedError::Model(e.to_string()))?;
        self.stats.computed += texts.len();
        self.stats.model_seconds += start.elapsed().as_secs_f64();
        Ok(vectors)
    }

    /// Texts cached, texts computed and seconds spent in the model so far.
    pub fn stats(&self) -> EmbedStats {
        self.stats
    }
}

/// The cache key of `text`: sha256(model_id + "\0" + text).
fn cache_key(model_id: &str, text: &str) -> [u8; KEY_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(model_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(text.as_bytes());
    hasher.finalize().into()
}

/// Sessions for this machine: [`MAX_SESSIONS`], or fewer when it has fewer cores.
fn session_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_SESSIONS)
}

/// The loaded sessions, at least `want` of them (loading the missing ones first).
fn loaded<'a>(
    sessions: &'a mut Vec<TextEmbedding>,
    models: &ModelDir,
    want: usize,
) -> Result<&'a mut [TextEmbedding], EmbedError> {
    // Side by side: each load is a third of a second of one core's graph optimization.
    let missing = want.saturating_sub(sessions.len());
    let fresh: Vec<Result<TextEmbedding, EmbedError>> = std::thread::scope(|scope| {
        let loads: Vec<_> = (0..missing)
            .map(|_| scope.spawn(|| load_model(models)))
            .collect();
        loads
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(EmbedError::Model("loading the model panicked".into())))
            })
            .collect()
    });
    for session in fresh {
        sessions.push(session?);
    }
    Ok(sessions)
}

/// Stores one batch's vectors under their texts' keys.
fn store(
    cache: &mut Cache,
    keys: &[[u8; KEY_LEN]],
    batch: &[usize],
    vectors: Vec<Vec<f32>>,
) -> Result<(), EmbedError> {
    if vectors.len() != batch.len() {
        return Err(EmbedError::Model(format!(
            "{} vectors for {} texts",
            vectors.len(),
            batch.len()
        )));
    }
    let mut records = Vec::with_capacity(batch.len());
    for (&i, vector) in batch.iter().zip(vectors) {
        let vector: Box<[f32; DIM]> =
            vector
                .into_boxed_slice()
                .try_into()
                .map_err(|v: Box<[f32]>| {
                    EmbedError::Model(format!("a vector of {} floats, not {DIM}", v.len()))
                })?;
        records.push((keys[i], vector));
    }
    cache.append(records)
}

/// Loads ONNX Runtime from the model folder (a typed error if it cannot), then the model.
fn load_model(models: &ModelDir) -> Result<TextEmbedding, EmbedError> {
    let library = models.ort_library();
    if !library.is_file() {
        return Err(EmbedError::Missing {
            path: library,
            setup: SETUP_COMMAND,
        });
    }
    // Loads the library once per process; ort would otherwise look it up by itself and
    // panic when it is not there. Later calls keep the library already loaded.
    ort::init_from(&library).map_err(|e| EmbedError::Runtime {
        path: library.clone(),
        message: e.to_string(),
    })?;

    let onnx = models.read(MODEL_FILE)?;
    let tokenizer_files = TokenizerFiles {
        tokenizer_file: models.read(TOKENIZER_FILE)?,
        config_file: models.read(CONFIG_FILE)?,
        special_tokens_map_file: models.read(SPECIAL_TOKENS_FILE)?,
        tokenizer_config_file: models.read(TOKENIZER_CONFIG_FILE)?,
    };
    let model = UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(Pooling::Mean);
    let options = InitOptionsUserDefined::new()
        .with_max_length(MAX_TOKENS)
        .with_intra_threads(1);
    TextEmbedding::try_new_from_user_defined(model, options)
        .map_err(|e| EmbedError::Model(format!("loading {}: {e}", models.root().display())))
}

/// The vector cache of one model: records in memory, appended to the file.
struct Cache {
    path: PathBuf,
    map: HashMap<[u8; KEY_LEN], Box<[f32; DIM]>>,
    /// Length of the valid prefix of the file (0 when it must be rewritten from scratch).
    valid_len: u64,
}

impl Cache {
    /// Loads the cache file; a missing, foreign or torn file is not an error.
    fn load(path: PathBuf) -> Result<Cache, EmbedError> {
        let mut cache = Cache {
            path,
            map: HashMap::new(),
            valid_len: 0,
        };
        let bytes = match fs::read(&cache.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(cache),
            Err(source) => {
                return Err(EmbedError::Io {
                    path: cache.path,
                    source,
                });
            }
        };
        let Some(body) = bytes.strip_prefix(CACHE_MAGIC.as_slice()) else {
            return Ok(cache);
        };
        cache.map.reserve(body.len() / RECORD_LEN);
        for record in body.chunks_exact(RECORD_LEN) {
            let (key, floats) = record.split_at(KEY_LEN);
            let mut vector = Box::new([0f32; DIM]);
            for (v, b) in vector.iter_mut().zip(floats.chunks_exact(4)) {
                *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            if vector.iter().all(|v| v.is_finite()) {
                let mut k = [0u8; KEY_LEN];
                k.copy_from_slice(key);
                cache.map.insert(k, vector);
            }
        }
        let whole = body.len() / RECORD_LEN * RECORD_LEN;
        cache.valid_len = (CACHE_MAGIC.len() + whole) as u64;
        Ok(cache)
    }

    /// Adds `records` to the map and appends them to the file in one write. A file that was
    /// foreign is replaced (temp file + rename); a torn tail is cut off first.
    fn append(&mut self, records: Vec<([u8; KEY_LEN], Box<[f32; DIM]>)>) -> Result<(), EmbedError> {
        let mut bytes = Vec::with_capacity(records.len() * RECORD_LEN);
        for (key, vector) in &records {
            bytes.extend_from_slice(key);
            for v in vector.iter() {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        if self.valid_len == 0 || !self.path.is_file() {
            // New, foreign or vanished file: write magic + records to a temp file, then rename.
            let tmp = self
                .path
                .with_extension(format!("vec.tmp{}", std::process::id()));
            let write = || -> io::Result<()> {
                let mut file = File::create(&tmp)?;
                file.write_all(CACHE_MAGIC)?;
                file.write_all(&bytes)?;
                file.sync_data()?;
                fs::rename(&tmp, &self.path)
            };
            if let Err(source) = write() {
                let _ = fs::remove_file(&tmp);
                return Err(EmbedError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
            self.valid_len = (CACHE_MAGIC.len() + bytes.len()) as u64;
        } else {
            let path = self.path.clone();
            let mut file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            let len = file.metadata().map_err(io_err(&path))?.len();
            if len != self.valid_len {
                // A torn tail (or another writer): cut back to the last whole record.
                let whole = len.saturating_sub(CACHE_MAGIC.len() as u64) / RECORD_LEN as u64
                    * RECORD_LEN as u64
                    + CACHE_MAGIC.len() as u64;
                file.set_len(whole.max(CACHE_MAGIC.len() as u64))
                    .map_err(io_err(&path))?;
            }
            use std::io::Seek;
            let end = file.seek(io::SeekFrom::End(0)).map_err(io_err(&path))?;
            file.write_all(&bytes).map_err(io_err(&path))?;
            self.valid_len = end + bytes.len() as u64;
        }
        self.map.extend(records);
        Ok(())
    }
}
