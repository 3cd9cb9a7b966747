//! The agent side: what a code-mode agent talks to, apart from the compiler's pipeline
//! stages and from the command line.
//!
//! - [`http`]: the executor. Configuration (organization, server URL, read-only), the
//!   token (a [`http::Secret`]), one HTTP round trip per prepared request, continuation
//!   paging, redaction of the token from everything that leaves.
//! - [`sandbox`]: runs one JavaScript/TypeScript program in QuickJS under named limits;
//!   `api.<id>(args)` goes to a [`sandbox::Host`]. It knows nothing of HTTP, catalogs or
//!   credentials.
//! - [`program`]: the model's text as a script (fences, TypeScript types, the wrapper),
//!   positions kept.
//! - [`shorten`]: JSON shortened structurally to a token budget.
//! - [`host`]: the [`sandbox::Host`] of an [`Agent`]: ids resolved in the catalog (the
//!   nearest named when unknown), calls sent by the executor.
//! - [`tools`]: the text of each tool's answer (`search`, `contract`, `call`, `execute`).
//! - [`mcp`]: the MCP server (`rmcp` over stdio) offering those tools.
//!
//! Invariants:
//!
//! - The token lives in [`http::Config`] only, is added when a request is sent, and is
//!   redacted from every answer; the sandbox and the runtime never hold it.
//! - Every request is prepared by the runtime (arguments checked, values encoded, declared
//!   hosts or the configured server only); nothing here builds a URL.
//! - A program reaches the outside only through `api`, which reaches only the catalog's
//!   operations; search is not callable from a program.

pub mod host;
pub mod http;
pub mod mcp;
pub mod program;
pub mod sandbox;
pub mod shorten;
pub mod tools;

use opcat_runtime::Catalog;

use http::Executor;

/// What the tools work on: one catalog and one executor (configuration and token).
#[derive(Debug)]
pub struct Agent {
    pub catalog: Catalog,
    pub executor: Executor,
}
