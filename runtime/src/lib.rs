//! Opens an opcat catalog artifact and answers `search`, `contract` and type lookups.
//!
//! An artifact is one file: a 64-byte header and one rkyv archive holding every operation,
//! its pre-rendered TypeScript contract, the named types, recorded example names and a tantivy
//! BM25 index and an embedding index ([`format`] describes the layout). Opening it is cheap: a memory map and a
//! header check; nothing is parsed or copied. [`Catalog::verify`] checks the whole file
//! (checksum and archive validation) when the file is not trusted.
//!
//! [`Catalog::prepare`] turns an operation and its arguments into a request to send
//! ([`prepare`]: validation against the contract, percent-encoding, declared hosts only);
//! sending it, with credentials, is the executor's job.
//!
//! This crate owns the file format and knows nothing of OpenAPI, JSON or HTTP.
//!
//! ```no_run
//! use opcat_runtime::{Catalog, OpenOptions, SearchOptions, Target, Value};
//!
//! # fn main() -> Result<(), opcat_runtime::Error> {
//! // SAFETY: nothing modifies the file while it is mapped; `verify` checks its content.
//! let catalog = unsafe { Catalog::open("dist/azure-devops.opcat", OpenOptions { verify: true })? };
//! let found = catalog.search("list pull requests in a project", &SearchOptions::default())?;
//! for hit in &found.hits {
//!     println!("{:.2} {} {}", hit.score, hit.op.id(), hit.op.signature());
//! }
//! if let Some(op) = catalog.operation("git.pullRequests.getPullRequestsByProject") {
//!     println!("{}\n{}", op.signature(), op.declarations());
//! }
//! let args = Value::Object([("project".to_string(), Value::String("Fabrikam".into()))].into());
//! let target = Target { organization: Some("fabrikam".into()), ..Target::default() };
//! match catalog.prepare("git.pullRequests.getPullRequestsByProject", &args, &target) {
//!     Ok(req) => println!("{} {}", req.method, req.url),
//!     Err(e) => eprintln!("{e}"), // every problem with the arguments, and the signature
//! }
//! # Ok(()) }
//! ```

pub mod dense;
pub mod error;
pub mod format;
pub mod glossary;
pub mod index;
pub mod prepare;
mod rerank;
pub use rerank::singular;
#[doc(hidden)]
pub use rerank::{DEPTH as RERANK_DEPTH, FEATURES as RERANK_FEATURES};
mod search;

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rkyv::util::AlignedVec;
use tantivy::directory::OwnedBytes;

pub use error::Error;
pub use format::{ArchivedOpCore, ArchivedOpRecord, ArchivedParamRecord, FORMAT_VERSION};
pub use prepare::{PrepareError, Prepared, Problem, Target, Value};
pub use search::{Hit, SearchMode, SearchOptions, SearchResult};

use format::{ArchivedCatalogData, HEADER_LEN};

/// How to open an artifact.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Validate the whole file (checksum + archive) before use. Without it only the
    /// header is checked and the file is trusted.
    pub verify: bool,
}

/// An open catalog. Cheap to share: `Send + Sync`, all lookups take `&self`.
pub struct Catalog {
    bytes: OwnedBytes,
    search: OnceLock<Result<search::Search, String>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("bytes", &self.bytes.len())
            .field("operations", &self.data().operations.len())
            .finish()
    }
}

/// A heap buffer aligned for rkyv, whose address never moves.
struct Aligned(AlignedVec<16>);

impl Deref for Aligned {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

// SAFETY: the buffer is never mutated or reallocated after construction, so the slice it
// derefs to stays at one address for its whole life.
unsafe impl stable_deref_trait::StableDeref for Aligned {}

impl Catalog {
    /// Memory-maps an artifact.
    ///
    /// # Safety
    ///
    /// The file must not be modified or truncated while the catalog lives: a changed
    /// mapping is undefined behaviour and a truncated one can kill the process (SIGBUS).
    /// Unless `options.verify` is set, the file must also be a genuine artifact: only its
    /// header is checked, and a corrupted payload is undefined behaviour on access. Use
    /// [`Catalog::read`] for a safe, verified, copying open.
    pub unsafe fn open(path: impl AsRef<Path>, options: OpenOptions) -> Result<Catalog, Error> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the caller promises the file is not modified while mapped.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let bytes = OwnedBytes::new(map);
        // SAFETY: forwarded to the caller (trusted content unless verified).
        unsafe { Catalog::from_owned(bytes, options.verify) }
    }

    /// Reads a whole artifact into memory and verifies it. Safe: no mapping, no trust.
    /// A path ending in `.zst` is decompressed first (the release form).
    pub fn read(path: impl AsRef<Path>) -> Result<Catalog, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "zst") {
            Catalog::from_zstd(&bytes)
        } else {
            Catalog::from_bytes(&bytes)
        }
    }

    /// Copies `bytes` into an aligned buffer and verifies them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Catalog, Error> {
        let mut v = AlignedVec::<16>::with_capacity(bytes.len());
        v.extend_from_slice(bytes);
        // SAFETY: verified before any access.
        unsafe { Catalog::from_owned(OwnedBytes::new(Aligned(v)), true) }
    }

    /// Decompresses the release form (`.opcat.zst`) once into an aligned buffer, verified.
    pub fn from_zstd(compressed: &[u8]) -> Result<Catalog, Error> {
        let decompressed = zstd::stream::decode_all(compressed).map_err(|e| Error::Decompress {
            message: e.to_string(),
        })?;
        Catalog::from_bytes(&decompressed)
    }

    /// # Safety
    /// Unless `verify`, `bytes` must be a genuine artifact whose payload starts 16-aligned.
    unsafe fn from_owned(bytes: OwnedBytes, verify: bool) -> Result<Catalog, Error> {
        format::read_header(&bytes)?;
        if !(bytes.as_ptr() as usize + HEADER_LEN).is_multiple_of(16) {
            return Err(Error::Header {
                message: "payload is not 16-byte aligned in memory".into(),
            });
        }
        let catalog = Catalog {
            bytes,
            search: OnceLock::new(),
        };
        if verify {
            catalog.verify()?;
        }
        Ok(catalog)
    }

    /// Validates the whole file: header, checksum, archive structure, and every index
    /// that one record keeps into another. A file that passes is safe to read.
    pub fn verify(&self) -> Result<(), Error> {
        let header = format::read_header(&self.bytes)?;
        let payload = &self.bytes[HEADER_LEN..];
        let found = format::checksum(payload);
        if found != header.checksum {
            return Err(Error::Checksum {
                expected: header.checksum,
                found,
            });
        }
        let data =
            rkyv::access::<ArchivedCatalogData, rkyv::rancor::Error>(payload).map_err(|e| {
                Error::Invalid {
                    message: format!("archive validation failed: {e}"),
                }
            })?;
        let ops = data.operations.len();
        let docs = data.documents.len();
        if let Some(op) = data
            .operations
            .iter()
            .find(|o| o.document.to_native() as usize >= docs)
        {
            return Err(Error::Invalid {
                message: format!(
                    "operation {} names document {}, of {docs}",
                    op.core.id, op.document
                ),
            });
        }
        let labels = data.labels.len();
        if let Some(op) = data.operations.iter().find(|o| {
            [
                Some(&o.version),
                o.api_version.as_ref(),
                Some(&o.core.server),
                Some(&o.operation_id),
            ]
            .into_iter()
            .flatten()
            .any(|i| i.to_native() as usize >= labels)
        }) {
            return Err(Error::Invalid {
                message: format!(
                    "operation {} names a label past the {labels} of the catalog",
                    op.core.id
                ),
            });
        }
        if let Some(t) = data
            .types
            .iter()
            .find(|t| t.name.to_native() as usize >= labels)
        {
            return Err(Error::Invalid {
                message: format!(
                    "a type of document {} is named by label {}, of {labels}",
                    t.document, t.name
                ),
            });
        }
        if !data.labels.windows(2).all(|w| w[0] < w[1]) {
            return Err(Error::Invalid {
                message: "label table is not sorted".into(),
            });
        }
        if let Some(n) = data.names.iter().find(|n| n.op.to_native() as usize >= ops) {
            return Err(Error::Invalid {
                message: format!("name `{}` names operation {}, of {ops}", n.key, n.op),
            });
        }
        for op in data.operations.iter() {
            if let Some(i) = op.inputs.iter().find(|i| i.op.to_native() as usize >= ops) {
                return Err(Error::Invalid {
                    message: format!(
                        "operation {} takes `{}` from operation {}, of {ops}",
                        op.core.id, i.param, i.op
                    ),
                });
            }
        }
        if let Some(i) = data
            .index_ops
            .iter()
            .find(|i| i.to_native() as usize >= ops)
        {
            return Err(Error::Invalid {
                message: format!("an index document stands for operation {i}, of {ops}"),
            });
        }
        if !data.names.windows(2).all(|w| w[0].key <= w[1].key) {
            return Err(Error::Invalid {
                message: "name table is not sorted".into(),
            });
        }
        if let Some(dense) = data.dense.as_ref() {
            dense.check(ops).map_err(|m| Error::Invalid {
                message: format!("embedding index: {m}"),
            })?;
        }
        Ok(())
    }

    /// The archived catalog.
    fn data(&self) -> &ArchivedCatalogData {
        // SAFETY: the header was checked at construction, and the payload was either
        // verified or vouched for by the caller of the unsafe `open`.
        unsafe { rkyv::access_unchecked::<ArchivedCatalogData>(&self.bytes[HEADER_LEN..]) }
    }

    /// Catalog name (`azure-devops`).
    pub fn name(&self) -> &str {
        self.data().name.as_str()
    }

    /// Where the specs came from.
    pub fn source(&self) -> &str {
        self.data().source.as_str()
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.data().operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every operation, in catalog order.
    pub fn operations(&self) -> impl Iterator<Item = Operation<'_>> {
        self.data()
            .operations
            .iter()
            .map(move |op| Operation { catalog: self, op })
    }

    /// The operation at `index`.
    pub fn operation_at(&self, index: usize) -> Option<Operation<'_>> {
        self.data()
            .operations
            .get(index)
            .map(|op| Operation { catalog: self, op })
    }

    /// Finds an operation by id, alias, spec operationId (any case), or
    /// `<spec file>#<operationId>`.
    pub fn operation(&self, name: &str) -> Option<Operation<'_>> {
        let key = name.trim().to_lowercase();
        let names = &self.data().names;
        if let Ok(i) = names.binary_search_by(|n| n.key.as_str().cmp(&key)) {
            return names
                .get(i)
                .and_then(|n| self.operation_at(n.op.to_native() as usize));
        }
        let (file, op_id) = name.trim().split_once('#')?;
        let op_id = self.label_of(op_id)?;
        self.operations()
            .find(|o| o.file() == file && o.op.operation_id.to_native() == op_id)
    }

    /// The rendered declaration of a named type. Names repeat across spec files; `near`
    /// prefers the type of that operation's file.
    pub fn type_decl(&self, name: &str, near: Option<&Operation<'_>>) -> Option<&str> {
        let name = self.label_of(name)?;
        let types = &self.data().types;
        let start = types.partition_point(|t| t.name.to_native() < name);
        let same: Vec<_> = types[start..]
            .iter()
            .take_while(|t| t.name.to_native() == name)
            .collect();
        let doc = near.map(|o| o.op.document.to_native());
        same.iter()
            .find(|t| Some(t.document.to_native()) == doc)
            .or(same.first())
            .map(|t| t.declaration.as_str())
    }

    /// The index of `text` among the catalog's labels (sorted), if it is one.
    pub(crate) fn label_of(&self, text: &str) -> Option<u32> {
        self.data()
            .labels
            .binary_search_by(|l| l.as_str().cmp(text))
            .ok()
            .map(|i| i as u32)
    }

    /// A contract with the named types in `expand` declared as well.
    pub fn contract(&self, name: &str, expand: &[&str]) -> Option<String> {
        let op = self.operation(name)?;
        let mut out = format!("{}\n{}", op.signature(), op.declarations());
        for t in expand {
            if let Some(decl) = self.type_decl(t, Some(&op)) {
                out.push('\n');
                out.push_str(decl);
            }
        }
        Some(out)
    }

    /// Hosts the catalog's operations target.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.data().hosts.iter().map(|h| h.as_str())
    }

    /// The index files as slices of the artifact bytes (no copy).
    fn index_files(&self) -> BTreeMap<PathBuf, OwnedBytes> {
        let base = self.bytes.as_ptr() as usize;
        self.data()
            .index_files
            .iter()
            .map(|f| {
                let start = f.bytes.as_ptr() as usize - base;
                let end = start + f.bytes.len();
                (PathBuf::from(f.path.as_str()), self.bytes.slice(start..end))
            })
            .collect()
    }
}

/// One operation of an open catalog.
#[derive(Clone, Copy)]
pub struct Operation<'a> {
    catalog: &'a Catalog,
    op: &'a ArchivedOpRecord,
}

impl std::fmt::Debug for Operation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Operation").field(&self.id()).finish()
    }
}

impl<'a> Operation<'a> {
    /// Position in catalog order (`Catalog::operation_at(op.index())` is `op`).
    pub fn index(&self) -> usize {
        let base = self.catalog.data().operations.as_ptr() as usize;
        (self.op as *const ArchivedOpRecord as usize - base)
            / std::mem::size_of::<ArchivedOpRecord>()
    }
    /// The archived record, for every field.
    pub fn record(&self) -> &'a ArchivedOpRecord {
        self.op
    }
    /// The part of the record its versions share ([`format::OpCore`]).
    pub fn core(&self) -> &'a ArchivedOpCore {
        &self.op.core
    }
    pub fn id(&self) -> &'a str {
        self.op.core.id.as_str()
    }
    pub fn method(&self) -> &'a str {
        self.op.core.method.as_str()
    }
    pub fn path(&self) -> &'a str {
        &self.op.core.path
    }
    pub fn summary(&self) -> &'a str {
        &self.op.core.summary
    }
    pub fn signature(&self) -> &'a str {
        &self.op.core.signature
    }
    /// The declarations of the named types the contract shows, joined from the pieces the
    /// artifact shares (one per type).
    pub fn declarations(&self) -> String {
        self.op
            .core
            .declarations
            .iter()
            .map(|p| p.as_str())
            .collect()
    }
    pub fn area(&self) -> &'a str {
        self.op.core.area.as_str()
    }
    pub fn version(&self) -> &'a str {
        self.label(self.op.version.to_native())
    }
    /// True for an on-premises version (`azure-devops-server-7.1`, `tfs-4.1`): cloud
    /// versions are numeric.
    pub fn on_premises(&self) -> bool {
        !self.version().starts_with(|c: char| c.is_ascii_digit())
    }
    /// Spec file relative to the specs root.
    pub fn file(&self) -> &'a str {
        self.catalog
            .data()
            .documents
            .get(self.op.document.to_native() as usize)
            .map_or("", |d| d.as_str())
    }
    /// Spec `operationId`.
    pub fn operation_id(&self) -> &'a str {
        self.label(self.op.operation_id.to_native())
    }
    /// Base URL template (`https://dev.azure.com`).
    pub fn server(&self) -> &'a str {
        self.label(self.op.core.server.to_native())
    }
    /// The api-version value to send, if the API versions by query parameter.
    pub fn api_version(&self) -> Option<&'a str> {
        self.op
            .api_version
            .as_ref()
            .map(|i| self.label(i.to_native()))
    }
    /// Entry `i` of the catalog's labels (`verify` checks every index a record holds).
    fn label(&self, i: u32) -> &'a str {
        self.catalog
            .data()
            .labels
            .get(i as usize)
            .map_or("", |s| s.as_str())
    }
    /// The result's key fields on one line (ids, names, nested references), empty when the
    /// result has none: what a next call would take from it.
    pub fn result_fields(&self) -> &'a str {
        &self.op.core.result_fields
    }
    pub fn read_only(&self) -> bool {
        self.op.core.read_only
    }
    /// Tokens of the contract (signature + declarations).
    pub fn tokens(&self) -> u32 {
        self.op.core.tokens.to_native()
    }
    pub fn aliases(&self) -> impl Iterator<Item = &'a str> {
        self.op.aliases.iter().map(|s| s.as_str())
    }
    /// Named types the contract references without declaring.
    pub fn collapsed(&self) -> impl Iterator<Item = &'a str> {
        self.op.core.collapsed.iter().map(|s| s.as_str())
    }
    /// What rendering trimmed.
    pub fn notes(&self) -> impl Iterator<Item = &'a str> {
        self.op.core.notes.iter().map(|s| s.as_str())
    }
    pub fn scopes(&self) -> impl Iterator<Item = &'a str> {
        self.op.core.scopes.iter().map(|s| s.as_str())
    }
    /// Where required inputs come from: `(parameter, the operation whose result carries
    /// it, the field in that result)`, e.g. `("repositoryId", git.repositories.list,
    /// "value[].id")`. Computed at build time between operations of one version; the
    /// provider is stored as the newest version of its id, the one `api.<id>` calls. An
    /// edge to a missing operation is skipped.
    pub fn inputs(&self) -> impl Iterator<Item = (&'a str, Operation<'a>, &'a str)> + use<'a> {
        let catalog = self.catalog;
        self.op.inputs.iter().filter_map(move |i| {
            let op = catalog.operation_at(i.op.to_native() as usize)?;
            Some((i.param.as_str(), op, i.field.as_str()))
        })
    }
}
