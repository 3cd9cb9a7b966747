//! Diagnostics: what went wrong in which file at which JSON pointer, without aborting.
//!
//! Every stage returns its output *and* a list of diagnostics; one bad spec, schema or
//! reference never stops the build. The summary counts them by [`DiagKind`].

use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;

/// What kind of problem a diagnostic reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DiagKind {
    /// A file or folder could not be read.
    Io,
    /// The file is not valid JSON or YAML.
    Syntax,
    /// The document is neither Swagger 2.0 nor OpenAPI 3.x.
    UnknownDialect,
    /// A folder under an area is not a version folder.
    UnknownVersion,
    /// A version folder without any spec file (only examples, or nothing).
    EmptyFolder,
    /// A part of the document does not have the expected shape; it was skipped.
    Shape,
    /// A `$ref` whose target does not exist.
    MissingRef,
    /// A `$ref` that cannot be followed (unsupported form or a reference cycle).
    BrokenRef,
    /// An `x-ms-examples` file that does not exist or cannot be read.
    MissingExample,
    /// An `x-ms-examples` file found only under another letter case (and used).
    ExampleCase,
    /// A recorded example contradicts the declared response shape.
    ExampleMismatch,
    /// Two operations derived the same id; the later one got a suffix.
    DuplicateId,
}

impl DiagKind {
    /// Every kind, in summary order.
    pub const ALL: [DiagKind; 12] = [
        DiagKind::Io,
        DiagKind::Syntax,
        DiagKind::UnknownDialect,
        DiagKind::UnknownVersion,
        DiagKind::EmptyFolder,
        DiagKind::Shape,
        DiagKind::MissingRef,
        DiagKind::BrokenRef,
        DiagKind::MissingExample,
        DiagKind::ExampleCase,
        DiagKind::ExampleMismatch,
        DiagKind::DuplicateId,
    ];

    /// The kebab-case name used in output.
    pub fn name(self) -> &'static str {
        match self {
            DiagKind::Io => "io",
            DiagKind::Syntax => "syntax",
            DiagKind::UnknownDialect => "unknown-dialect",
            DiagKind::UnknownVersion => "unknown-version",
            DiagKind::EmptyFolder => "empty-folder",
            DiagKind::Shape => "shape",
            DiagKind::MissingRef => "missing-ref",
            DiagKind::BrokenRef => "broken-ref",
            DiagKind::MissingExample => "missing-example",
            DiagKind::ExampleCase => "example-case",
            DiagKind::ExampleMismatch => "example-mismatch",
            DiagKind::DuplicateId => "duplicate-id",
        }
    }
}

/// One problem, located by file and JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct Diagnostic {
    /// File relative to the specs root (or as given on the command line).
    pub file: String,
    /// RFC 6901 JSON pointer into that file; empty for the whole file.
    pub pointer: String,
    pub kind: DiagKind,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        kind: DiagKind,
        file: impl Into<String>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            pointer: pointer.into(),
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.file)?;
        if !self.pointer.is_empty() {
            write!(f, "#{}", self.pointer)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Escapes one reference token for a JSON pointer (RFC 6901: `~` -> `~0`, `/` -> `~1`).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from unescaped tokens.
pub fn pointer<'a>(tokens: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for t in tokens {
        out.push('/');
        out.push_str(&escape_token(t));
    }
    out
}
