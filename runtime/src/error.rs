//! Typed errors of the runtime: each says what was expected and what was found.

use std::path::PathBuf;

/// Why an artifact could not be opened, verified or searched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not an opcat artifact: expected at least {expected} bytes, found {found}")]
    TooShort { expected: u64, found: u64 },
    #[error("not an opcat artifact: expected magic {expected:02x?}, found {found:02x?}")]
    Magic { expected: [u8; 8], found: [u8; 8] },
    #[error("unsupported artifact format version: expected {expected}, found {found}")]
    Version { expected: u32, found: u32 },
    #[error("bad artifact header: {message}")]
    Header { message: String },
    #[error(
        "truncated or extended artifact: expected {expected} payload bytes (header), found {found}"
    )]
    Length { expected: u64, found: u64 },
    #[error("artifact checksum mismatch: expected {expected:016x} (header), found {found:016x}")]
    Checksum { expected: u64, found: u64 },
    #[error("invalid artifact: {message}")]
    Invalid { message: String },
    #[error("search index: {message}")]
    Index { message: String },
    #[error(
        "this catalog has no embedding index (built with --no-embed or without the model): use --mode bm25, or rebuild it with the model (scripts/setup-models.sh)"
    )]
    NoDense,
    #[error("query vector: expected {expected} components (the catalog's model), found {found}")]
    Dimension { expected: usize, found: usize },
    #[error("cannot decompress the release artifact: {message}")]
    Decompress { message: String },
}

impl Error {
    pub(crate) fn index(e: impl std::fmt::Display) -> Error {
        Error::Index {
            message: e.to_string(),
        }
    }
}
