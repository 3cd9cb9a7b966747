//! The BM25 index: schema, text preparation, the writer, and a read-only tantivy
//! `Directory` that serves index files straight from the artifact's bytes.
//!
//! The index is built once, at compile time, into memory, with one thread and one
//! segment, so tantivy doc ids are operation indexes. Segment UUIDs (random in tantivy)
//! are replaced by a fixed id so the same catalog always gives the same bytes.
//!
//! No field is stored, so the segment's doc store holds nothing the runtime reads. It is
//! not shipped: [`open`] serves a store it writes itself in its place. tantivy decodes a
//! store's skip index when a searcher opens, trusting its length prefixes, so a crafted
//! store (with a recomputed checksum) could make it allocate terabytes and abort the
//! process, which no `catch_unwind` stops. A store the runtime wrote cannot.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, FileSlice, Lock, ManagedDirectory, OwnedBytes,
    RamDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::index::SegmentComponent;
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::store::{Compressor, StoreWriter};
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};
use tantivy::{Index, IndexWriter, TantivyDocument};

use crate::error::Error;
use crate::format::IndexFile;

/// Searchable text of one operation, field by field (see [`FIELDS`]).
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    /// Id, aliases, operationId.
    pub name: String,
    pub summary: String,
    pub path: String,
    /// Parameter names.
    pub params: String,
    /// Names of response fields (depth 1 and 2) and returned type names.
    pub returns: String,
    /// Description and tags.
    pub description: String,
    /// What the call does in plain verbs (`list`, `create`, `delete`...), from its method
    /// and whether its path names one item or a collection.
    pub intent: String,
    /// Filters (exact terms).
    pub area: String,
    pub method: String,
    /// Version folder; several, space-separated, when versions of an operation that read
    /// the same share the document.
    pub version: String,
    pub read_only: bool,
}

impl IndexDoc {
    /// The text fields, in [`FIELDS`] order.
    pub fn texts(&self) -> [&str; 7] {
        [
            &self.name,
            &self.summary,
            &self.path,
            &self.params,
            &self.returns,
            &self.description,
            &self.intent,
        ]
    }
}

/// Text fields and their query boosts.
pub const FIELDS: [(&str, f32); 7] = [
    ("name", 3.0),
    ("summary", 2.0),
    ("path", 1.0),
    ("params", 1.0),
    ("returns", 1.2),
    ("description", 0.5),
    ("intent", 1.0),
];

/// The index schema, shared by writer and reader.
pub fn schema() -> Schema {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    for (name, _) in FIELDS {
        b.add_text_field(name, text.clone());
    }
    for name in ["area", "method", "version", "class"] {
        b.add_text_field(name, STRING);
    }
    b.add_u64_field("op", INDEXED);
    b.build()
}

/// Field handle by name (the schema is ours, so a missing field is a format error).
pub fn field(schema: &Schema, name: &str) -> Result<Field, Error> {
    schema.get_field(name).map_err(Error::index)
}

/// Splits identifiers so `getPullRequestsByProject`, `pullRequestId` and `git.pullRequests`
/// match the words `pull`, `request`...; the whole identifier is kept too.
pub fn prepare_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for word in s.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        out.push_str(word);
        out.push(' ');
        let parts = split_camel(word);
        if parts.len() > 1 {
            for p in parts {
                out.push_str(p);
                out.push(' ');
            }
        }
    }
    out
}

/// `getPRsByID2` -> `get`, `PRs`, `By`, `ID`, `2`.
pub(crate) fn split_camel(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (pos, c) = chars[i];
        let prev = chars[i - 1].1;
        let next = chars.get(i + 1).map(|&(_, n)| n);
        let boundary = (prev.is_lowercase() && c.is_uppercase())
            || (prev.is_alphabetic() && c.is_ascii_digit())
            || (prev.is_ascii_digit() && c.is_alphabetic())
            || (prev.is_uppercase()
                && c.is_uppercase()
                && next.is_some_and(|n| n.is_lowercase() && n != 's'));
        if boundary {
            parts.push(&word[start..pos]);
            start = pos;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// Fixed segment id written in place of tantivy's random one.
const SEGMENT_ID: &str = "00000000000000000000000000000001";

/// tantivy's `en_stem` analyzer with its English stemmer called once per distinct word:
/// the words of a catalog's documents are few and repeated (the stemmer was 4% of an
/// all-versions build's CPU). Builds only; queries use tantivy's own `en_stem`, which
/// gives the same tokens (the unit test `memo_stem_is_en_stem` compares them).
#[derive(Clone, Copy)]
struct MemoStem;

impl TokenFilter for MemoStem {
    type Tokenizer<T: Tokenizer> = MemoStemFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MemoStemFilter<T> {
        MemoStemFilter {
            inner,
            stems: foldhash::HashMap::default(),
        }
    }
}

#[derive(Clone)]
struct MemoStemFilter<T> {
    inner: T,
    stems: foldhash::HashMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for MemoStemFilter<T> {
    type TokenStream<'a> = MemoStemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoStemStream {
            tail: self.inner.token_stream(text),
            stems: &mut self.stems,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

struct MemoStemStream<'a, T> {
    tail: T,
    stems: &'a mut foldhash::HashMap<String, String>,
    stemmer: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for MemoStemStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        match self.stems.get(token.text.as_str()) {
            Some(stem) => {
                token.text.clear();
                token.text.push_str(stem);
            }
            None => {
                let stem = self.stemmer.stem(&token.text).into_owned();
                let word = std::mem::replace(&mut token.text, stem.clone());
                self.stems.insert(word, stem);
            }
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Builds the index of `docs` (doc id = position) and returns its files, sorted by path.
pub fn build(docs: &[IndexDoc]) -> Result<Vec<IndexFile>, Error> {
    let schema = schema();
    let dir = RamDirectory::create();
    let index = Index::open_or_create(dir.clone(), schema.clone()).map_err(Error::index)?;
    index.tokenizers().register(
        "en_stem",
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(MemoStem)
            .build(),
    );
    let mut writer: IndexWriter = index
        .writer_with_num_threads(1, 200_000_000)
        .map_err(Error::index)?;
    let text_fields: Vec<Field> = FIELDS
        .iter()
        .map(|(n, _)| field(&schema, n))
        .collect::<Result<_, _>>()?;
    let [area, method, version, class, op] =
        ["area", "method", "version", "class", "op"].map(|n| field(&schema, n));
    let (area, method, version, class, op) = (area?, method?, version?, class?, op?);
    for (i, d) in docs.iter().enumerate() {
        let mut doc = TantivyDocument::default();
        for (f, t) in text_fields.iter().zip(d.texts()) {
            doc.add_text(*f, prepare_text(t));
        }
        doc.add_text(area, &d.area);
        doc.add_text(method, &d.method);
        for v in d.version.split_whitespace() {
            doc.add_text(version, v);
        }
        doc.add_text(class, if d.read_only { "read" } else { "write" });
        doc.add_u64(op, i as u64);
        writer.add_document(doc).map_err(Error::index)?;
    }
    writer.commit().map_err(Error::index)?;
    let segments = index.searchable_segment_ids().map_err(Error::index)?;
    if segments.len() > 1 {
        writer.merge(&segments).wait().map_err(Error::index)?;
    }
    writer.wait_merging_threads().map_err(Error::index)?;
    let metas = index.searchable_segment_metas().map_err(Error::index)?;
    if metas.len() != 1 && !docs.is_empty() {
        return Err(Error::Index {
            message: format!("expected one segment, found {}", metas.len()),
        });
    }
    let mut files = BTreeMap::new();
    let meta = String::from_utf8(
        dir.atomic_read(Path::new("meta.json"))
            .map_err(Error::index)?,
    )
    .map_err(Error::index)?;
    let mut meta = meta;
    for m in &metas {
        let simple = m.id().uuid_string();
        meta = meta
            .replace(&simple, SEGMENT_ID)
            .replace(&hyphenated(&simple), &hyphenated(SEGMENT_ID));
        for component in [
            SegmentComponent::Postings,
            SegmentComponent::Positions,
            SegmentComponent::FastFields,
            SegmentComponent::FieldNorms,
            SegmentComponent::Terms,
        ] {
            let path = m.relative_path(component);
            if !dir.exists(&path).map_err(Error::index)? {
                continue;
            }
            let bytes = dir.atomic_read(&path).map_err(Error::index)?;
            let name = path.to_string_lossy().replace(&simple, SEGMENT_ID);
            files.insert(name, bytes);
        }
    }
    files.insert("meta.json".to_string(), meta.into_bytes());
    Ok(files
        .into_iter()
        .map(|(path, bytes)| IndexFile { path, bytes })
        .collect())
}

/// `8-4-4-4-12` form of a 32-hex-digit UUID.
fn hyphenated(simple: &str) -> String {
    let s = simple;
    if s.len() != 32 {
        return s.to_string();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &s[..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..]
    )
}

/// Opens the index whose files are `files` (slices of the artifact's bytes). Any doc
/// store among them (older artifacts shipped one) is replaced by [`empty_store`].
pub fn open(mut files: BTreeMap<PathBuf, OwnedBytes>) -> Result<Index, Error> {
    files.retain(|path, _| path.extension().is_none_or(|e| e != "store"));
    files.insert(
        PathBuf::from(format!("{SEGMENT_ID}.store")),
        empty_store()?.clone(),
    );
    let dir = SliceDirectory {
        files: Arc::new(files),
    };
    Index::open(dir).map_err(Error::index)
}

/// A doc store of no documents, written once per process by tantivy's own writer (so it
/// is in the format this tantivy reads). Search never fetches a stored document.
fn empty_store() -> Result<&'static OwnedBytes, Error> {
    static STORE: OnceLock<Result<OwnedBytes, String>> = OnceLock::new();
    let write = || -> Result<OwnedBytes, String> {
        let ram = RamDirectory::create();
        // The managed directory appends the footer (version, checksum) tantivy checks on read.
        let managed = ManagedDirectory::wrap(Box::new(ram.clone())).map_err(|e| e.to_string())?;
        let path = Path::new("empty.store");
        let out = managed.open_write(path).map_err(|e| e.to_string())?;
        StoreWriter::new(out, Compressor::None, 16_384, false)
            .and_then(StoreWriter::close)
            .map_err(|e| e.to_string())?;
        ram.atomic_read(path)
            .map(OwnedBytes::new)
            .map_err(|e| e.to_string())
    };
    STORE
        .get_or_init(write)
        .as_ref()
        .map_err(|message| Error::Index {
            message: format!("writing the empty doc store: {message}"),
        })
}

/// A read-only tantivy directory over byte slices of the artifact: no copy, no temp dir.
#[derive(Debug, Clone)]
struct SliceDirectory {
    files: Arc<BTreeMap<PathBuf, OwnedBytes>>,
}

fn read_only(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("the artifact's index is read-only ({})", path.display()),
    )
}

impl Directory for SliceDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.files
            .get(path)
            .map(|b| Arc::new(b.clone()) as Arc<dyn FileHandle>)
            .ok_or_else(|| OpenReadError::FileDoesNotExist(path.to_path_buf()))
    }

    fn open_read(&self, path: &Path) -> Result<FileSlice, OpenReadError> {
        self.get_file_handle(path).map(FileSlice::new)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(read_only(path)),
            filepath: path.to_path_buf(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        Ok(self.files.contains_key(path))
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::IoError {
            io_error: Arc::new(read_only(path)),
            filepath: path.to_path_buf(),
        })
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.files
            .get(path)
            .map(|b| b.as_slice().to_vec())
            .ok_or_else(|| OpenReadError::FileDoesNotExist(path.to_path_buf()))
    }

    fn atomic_write(&self, path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(read_only(path))
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    /// Nothing writes, so there is nothing to lock against.
    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        Ok(DirectoryLock::from(Box::new(())))
    }

    fn watch(&self, _cb: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(WatchHandle::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build's analyzer (memo stemmer) and the one queries use (tantivy's `en_stem`)
    /// give the same tokens, words seen again included.
    #[test]
    fn memo_stem_is_en_stem() {
        let text = "Gets the running builds; queued builds are RUNNING too. Policies, policy \
                    evaluations, generously generalized connections, caresses ies sses \
                    ÉTÉ été naïve über-long-words-are-split 12345 a b c running Policies";
        let tokens = |a: &mut TextAnalyzer| {
            let mut out = Vec::new();
            for _ in 0..2 {
                let mut s = a.token_stream(text);
                while s.advance() {
                    let t = s.token();
                    out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
                }
            }
            out
        };
        let mut memo = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(MemoStem)
            .build();
        let mut plain = tantivy::tokenizer::TokenizerManager::default()
            .get("en_stem")
            .unwrap();
        let (got, want) = (tokens(&mut memo), tokens(&mut plain));
        assert!(want.iter().any(|t| t.0 == "run"), "{want:?}");
        assert_eq!(got, want);
    }

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(
            split_camel("getPullRequestsByProject"),
            ["get", "Pull", "Requests", "By", "Project"]
        );
        assert_eq!(split_camel("pullRequestId"), ["pull", "Request", "Id"]);
        assert_eq!(split_camel("WIQL"), ["WIQL"]);
        assert_eq!(split_camel("getPRsByID2"), ["get", "PRs", "By", "ID", "2"]);
        let t = prepare_text("git.pullRequests $top");
        assert_eq!(t, "git pullRequests pull Requests top ");
    }
}
