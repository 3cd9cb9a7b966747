//! The artifact format: header, archived catalog types, and the writer.
//!
//! ```text
//! offset  size  field
//!      0     8  MAGIC
//!      8     4  FORMAT_VERSION (u32 LE)
//!     12     4  header length (u32 LE) = 64
//!     16     8  payload length (u64 LE)
//!     24     8  payload checksum, xxh3-64 (u64 LE)
//!     32    32  zero padding (reserved)
//!     64     …  payload: one rkyv archive of [`CatalogData`] (root at its end)
//! ```
//!
//! Magic, version and alignment padding live outside the archive, so a reader can refuse a
//! foreign or future file before touching the archive. The payload starts at 64, a multiple
//! of rkyv's 16-byte alignment, so a memory map (page-aligned) can be read in place.

use std::sync::Arc;

use rkyv::{Archive, Deserialize, Serialize};

use crate::error::Error;

/// First bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"OPCAT\x00\x1a\n";
/// Bumped on every change of the archived types or the header.
pub const FORMAT_VERSION: u32 = 12;
/// Header length; also the payload's offset.
pub const HEADER_LEN: usize = 64;

/// The whole catalog, as archived.
#[derive(Debug, Clone, Default, Archive, Serialize, Deserialize)]
pub struct CatalogData {
    /// Catalog name (`azure-devops`).
    pub name: String,
    /// Where the specs came from (e.g. the upstream commit), free text.
    pub source: String,
    /// Spec files, relative to the specs root; operations point here by index.
    pub documents: Vec<String>,
    /// Every operation, in catalog order (search index doc ids are these indexes).
    pub operations: Vec<OpRecord>,
    /// Lower-cased id, alias and operationId of every operation, sorted by key.
    pub names: Vec<NameEntry>,
    /// Rendered named types, sorted by (name, document) (the labels are sorted, so by name
    /// index is by name).
    pub types: Vec<TypeRecord>,
    /// Hosts (scheme + authority) the operations target.
    pub hosts: Vec<String>,
    /// The short texts that records repeat (version folders, api-versions, servers,
    /// operationIds, type names), sorted; records name them by index (format 11; before,
    /// every record and core wrote its own, a tenth of the operations' bytes in an
    /// all-versions catalog; format 12 adds operationIds and type names, which every
    /// version of a spec file repeated).
    pub labels: Vec<String>,
    /// Files of the tantivy BM25 index, sorted by path.
    pub index_files: Vec<IndexFile>,
    /// The operation each index document stands for, by document id; empty when document
    /// `i` is operation `i`. Versions of an operation share one document, which names the
    /// first of them, lists every version and holds the newest version's text (since
    /// 2026-12-07; from format 8, versions whose indexed text was the same).
    pub index_ops: Vec<u32>,
    /// Embedding index (absent when the catalog was built without a model).
    pub dense: Option<DenseData>,
}

/// The embedding index: one vector per operation from the sentence model, and a static
/// token table, distilled from the same model, that embeds a query without it.
///
/// Vectors are int8 with one `f32` scale per row (value = scale * byte), row-major.
///
/// The stored vectors may have fewer components than the model's (format 5): each is then
/// the model's vector in the coordinates of `dim` principal directions, kept in
/// `projection`, so that a query embedded by the full model can be brought alongside.
#[derive(Debug, Clone, Default, Archive, Serialize, Deserialize)]
pub struct DenseData {
    /// The model the vectors come from (name and hash of its weights).
    pub model: String,
    /// Components per stored vector.
    pub dim: u32,
    /// Components of the model's own vectors (equal to `dim` when nothing is projected).
    pub model_dim: u32,
    /// `dim` rows of `model_dim`: the directions the stored vectors are coordinates on.
    /// Empty when `model_dim == dim`.
    pub projection: Vec<i8>,
    pub projection_scales: Vec<f32>,
    /// Operation rows; each row is unit length before quantizing.
    pub op_vectors: Vec<i8>,
    pub op_scales: Vec<f32>,
    /// The row of each operation, in catalog order; empty when each operation has its own
    /// row, in catalog order. Versions of an operation that read the same share one row
    /// (format 8), so an all-versions catalog stores each distinct vector once.
    pub op_rows: Vec<u32>,
    /// WordPiece vocabulary of the static table, sorted (continuations start with `##`).
    pub tokens: Vec<String>,
    /// One row per entry of `tokens`; a query is the mean of its tokens' rows.
    pub token_vectors: Vec<i8>,
    pub token_scales: Vec<f32>,
}

/// One operation: what search hits, contracts and request preparation need.
///
/// Texts and lists that versions of an area repeat word for word are shared (`Arc`): the
/// writer makes equal ones one allocation and the archive holds each once (format 8 added
/// the lists). What the versions of an operation have in common is one shared [`OpCore`]
/// (format 9), so an extra version that reads the same costs this record only (an
/// all-versions Azure DevOps catalog has 4,968 cores for 11,833 operations). A shared value
/// is never zero-sized in the archive (`Arc<String>`, `Arc<Vec<_>>`, not `Arc<str>` or
/// `Arc<[_]>`): rkyv's validator tells shared values apart by address, and an empty `str`
/// takes no room, so it could share its address with the next shared value and fail
/// validation.
#[derive(Debug, Clone, Default, Archive, Serialize, Deserialize)]
pub struct OpRecord {
    /// Everything but what follows, shared by the versions that read the same.
    pub core: Arc<OpCore>,
    /// Version folder (`7.1`, `azure-devops-server-7.0`), index into [`CatalogData::labels`].
    pub version: u32,
    /// The api-version value to send, index into [`CatalogData::labels`].
    pub api_version: Option<u32>,
    /// Index into [`CatalogData::documents`].
    pub document: u32,
    /// Spec `operationId`, index into [`CatalogData::labels`] (format 12; before, every
    /// version of an operation wrote its own).
    pub operation_id: u32,
    pub aliases: Arc<Vec<String>>,
    pub preview: bool,
    pub deprecated: bool,
    pub examples: Arc<Vec<ExampleRecord>>,
    /// Where required inputs come from: for each one that names another resource, the
    /// read operation whose result carries it, named by the newest version of its id (the
    /// one `api.<id>` calls), so that the versions of an operation share one list (format
    /// 10; before, the same version's operation, and every version wrote its own list).
    pub inputs: Arc<Vec<InputRecord>>,
}

/// The part of an operation that its versions share when it reads the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
pub struct OpCore {
    pub id: String,
    pub area: String,
    pub resource: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Base URL template (`https://dev.azure.com`), index into [`CatalogData::labels`].
    pub server: u32,
    pub path: Arc<String>,
    pub path_query: Option<String>,
    pub summary: Arc<String>,
    pub read_only: bool,
    /// One-line doc comment + function declaration.
    pub signature: Arc<String>,
    /// Declarations of the named types the signature uses (within budget), one piece per
    /// type and then the `// Not expanded` line; joined, they are the declarations text.
    /// Each piece is shared by every contract (and version) that declares the type the same
    /// way (format 9; before, one text per contract).
    pub declarations: Arc<Vec<Arc<String>>>,
    /// Tokens of `signature` + `declarations` (o200k_base).
    pub tokens: u32,
    /// Named types referenced but not declared (expand on request).
    pub collapsed: Arc<Vec<String>>,
    /// What rendering trimmed, in words.
    pub notes: Arc<Vec<Arc<String>>>,
    /// The result's key fields on one line (ids, names, states, nested references:
    /// `GitPullRequest {pullRequestId: number; ...}`), for chaining calls; may be empty.
    pub result_fields: Arc<String>,
    pub params: Arc<Vec<ParamRecord>>,
    pub body: Option<BodyRecord>,
    pub scopes: Arc<Vec<String>>,
    /// Continuation-token response header, if the operation pages that way.
    pub continuation_header: Option<String>,
    pub continuation_param: Option<String>,
}

/// A data-flow edge: `param` of this operation is `field` of operation `op`'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
pub struct InputRecord {
    pub param: String,
    /// Index into [`CatalogData::operations`].
    pub op: u32,
    /// Path in the result (`value[].id`).
    pub field: String,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq, Clone, Copy))]
pub enum Location {
    #[default]
    Path,
    Query,
    Header,
    Cookie,
    /// A field of a form body.
    FormData,
}

/// A parameter, with what validation needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
pub struct ParamRecord {
    pub name: String,
    pub location: Location,
    pub required: bool,
    /// JSON kind: `string`, `integer`, `number`, `boolean`, `array`, `object`, `any`.
    pub kind: String,
    /// Allowed values, when an enum.
    pub allowed: Vec<String>,
    /// Array join rule (`csv`, `multi`, ...).
    pub collection_format: Option<String>,
}

/// The request body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
pub struct BodyRecord {
    pub name: String,
    pub content_type: String,
    pub required: bool,
}

/// A recorded example: its title, its file relative to the folder of the operation's spec
/// file ([`OpRecord::document`]; as the spec's `$ref` names it, so versions share the
/// record) and the status it records. The recorded response stays in the specs (and,
/// trimmed, in the catalog JSON of `opcat build --emit json`): nothing reads it from an
/// artifact, where it took a quarter of the bytes (format 9; before, the trimmed response
/// as JSON text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
pub struct ExampleRecord {
    pub title: String,
    pub file: String,
    pub status: Option<String>,
}

/// A name that finds an operation.
#[derive(Debug, Clone, Default, Archive, Serialize, Deserialize)]
pub struct NameEntry {
    pub key: String,
    pub op: u32,
}

/// A rendered named type of one document.
#[derive(Debug, Clone, Default, Archive, Serialize, Deserialize)]
pub struct TypeRecord {
    /// Index into [`CatalogData::labels`].
    pub name: u32,
    pub document: u32,
    pub declaration: Arc<String>,
}

/// One file of the search index.
#[derive(Debug, Clone, Default, Archive, Serialize, Deserialize)]
pub struct IndexFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The checksum stored in the header.
pub fn checksum(payload: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(payload)
}

/// Serializes `data` with its header. Output is a pure function of `data`.
pub fn to_bytes(data: &CatalogData) -> Result<Vec<u8>, Error> {
    // The archive is written after room for the header, in the same buffer (no copy of the
    // payload). rkyv aligns by position in the buffer, so the header's length being a
    // multiple of the archive's alignment keeps the payload what it is on its own.
    const _: () = assert!(HEADER_LEN.is_multiple_of(16));
    let mut out =
        rkyv::api::high::to_bytes_in::<_, rkyv::rancor::Error>(data, vec![0u8; HEADER_LEN])
            .map_err(|e| Error::Invalid {
                message: format!("cannot serialize the catalog: {e}"),
            })?;
    let payload = &out[HEADER_LEN..];
    let (len, sum) = (payload.len() as u64, checksum(payload));
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&(HEADER_LEN as u32).to_le_bytes());
    header.extend_from_slice(&len.to_le_bytes());
    header.extend_from_slice(&sum.to_le_bytes());
    out[..header.len()].copy_from_slice(&header);
    Ok(out)
}

/// A checked header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub payload_len: u64,
    pub checksum: u64,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Checks magic, version, header length, padding and the payload length against the
/// file length. Cheap: reads 64 bytes.
pub fn read_header(bytes: &[u8]) -> Result<Header, Error> {
    if bytes.len() < HEADER_LEN {
        return Err(Error::TooShort {
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    let mut magic = [0; 8];
    magic.copy_from_slice(&bytes[..8]);
    if magic != MAGIC {
        return Err(Error::Magic {
            expected: MAGIC,
            found: magic,
        });
    }
    let version = u32_at(bytes, 8);
    if version != FORMAT_VERSION {
        return Err(Error::Version {
            expected: FORMAT_VERSION,
            found: version,
        });
    }
    let header_len = u32_at(bytes, 12);
    if header_len as usize != HEADER_LEN {
        return Err(Error::Header {
            message: format!("header length: expected {HEADER_LEN}, found {header_len}"),
        });
    }
    if bytes[32..HEADER_LEN].iter().any(|&b| b != 0) {
        return Err(Error::Header {
            message: "reserved header bytes 32..64: expected zeros".into(),
        });
    }
    let payload_len = u64_at(bytes, 16);
    let found = (bytes.len() - HEADER_LEN) as u64;
    if payload_len != found {
        return Err(Error::Length {
            expected: payload_len,
            found,
        });
    }
    Ok(Header {
        version,
        payload_len,
        checksum: u64_at(bytes, 24),
    })
}
