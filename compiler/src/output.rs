//! JSON shapes of the CLI's `--json` outputs (`opcat search`, `show`, `bench`, `call`); their JSON
//! Schemas in `schemas/` are generated from these types.

use opcat_runtime::{Catalog, Operation, SearchResult};
use schemars::JsonSchema;
use serde::Serialize;

/// `opcat search --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchOutput {
    pub query: String,
    /// True when even the best hit matches the query weakly.
    pub weak: bool,
    pub hits: Vec<SearchHit>,
}

/// One search hit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub id: String,
    /// Score in the search mode (BM25 score, cosine, or fused score: the mean of both scaled to 0..1);
    /// `null` for an exact name match (always first).
    pub score: Option<f32>,
    pub exact: bool,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub signature: String,
    pub source: SourceRef,
}

/// Where an operation is defined.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceRef {
    /// Spec file relative to the specs root.
    pub file: String,
    /// Spec operationId.
    pub operation_id: String,
}

/// `opcat show --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShowOutput {
    pub id: String,
    pub aliases: Vec<String>,
    pub method: String,
    pub server: String,
    pub path: String,
    pub api_version: Option<String>,
    pub version: String,
    pub read_only: bool,
    pub summary: String,
    /// Signature, declarations and any expanded types, as one text.
    pub contract: String,
    pub tokens: u32,
    /// Named types not declared; pass them to `--expand`.
    pub collapsed: Vec<String>,
    pub notes: Vec<String>,
    pub scopes: Vec<String>,
    pub source: SourceRef,
}

fn source(op: &Operation<'_>) -> SourceRef {
    SourceRef {
        file: op.file().to_string(),
        operation_id: op.operation_id().to_string(),
    }
}

impl SearchOutput {
    pub fn new(query: &str, r: &SearchResult<'_>) -> SearchOutput {
        SearchOutput {
            query: query.to_string(),
            weak: r.weak,
            hits: r
                .hits
                .iter()
                .map(|h| SearchHit {
                    id: h.op.id().to_string(),
                    score: h.score.is_finite().then_some(h.score),
                    exact: h.exact,
                    method: h.op.method().to_string(),
                    path: h.op.path().to_string(),
                    summary: h.op.summary().to_string(),
                    signature: h.op.signature().to_string(),
                    source: source(&h.op),
                })
                .collect(),
        }
    }
}

impl ShowOutput {
    pub fn new(catalog: &Catalog, op: &Operation<'_>, expand: &[&str]) -> ShowOutput {
        let strings = |it: &mut dyn Iterator<Item = &str>| it.map(str::to_string).collect();
        ShowOutput {
            id: op.id().to_string(),
            aliases: strings(&mut op.aliases()),
            method: op.method().to_string(),
            server: op.server().to_string(),
            path: op.path().to_string(),
            api_version: op.api_version().map(str::to_string),
            version: op.version().to_string(),
            read_only: op.read_only(),
            summary: op.summary().to_string(),
            contract: catalog.contract(op.id(), expand).unwrap_or_default(),
            tokens: op.tokens(),
            collapsed: strings(&mut op.collapsed()),
            notes: strings(&mut op.notes()),
            scopes: strings(&mut op.scopes()),
            source: source(op),
        }
    }
}

/// `opcat bench --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BenchOutput {
    /// Number of queries.
    pub queries: usize,
    /// Artifact searched.
    pub catalog: String,
    /// One entry per ranking mode measured.
    pub modes: Vec<BenchMode>,
}

/// Benchmark figures of one ranking mode.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BenchMode {
    /// `bm25`, `dense` or `hybrid`.
    pub mode: String,
    /// Share of queries whose primary operation ranks first.
    pub recall_at_1: f64,
    /// ... within the top 5.
    pub recall_at_5: f64,
    /// ... within the top 10.
    pub recall_at_10: f64,
    /// Mean reciprocal rank of the primary operation, 0 beyond rank 10.
    pub mrr_at_10: f64,
    /// Mean share of a query's expected operations found in its top 10.
    pub expected_recall_at_10: f64,
    /// The same over the queries expecting several operations only.
    pub multi_expected_recall_at_10: f64,
    /// ... counting also the inputs a search answer shows for its declared hits (the
    /// operations whose results carry their required inputs, project aside).
    pub multi_expected_recall_with_inputs: f64,
    /// Median query latency (query embedding included), milliseconds.
    pub p50_ms: f64,
    /// 99th percentile query latency, milliseconds.
    pub p99_ms: f64,
    /// Queries whose primary operation is not in the top 5.
    pub misses: Vec<BenchMiss>,
}

/// A query whose primary operation ranked below 5.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BenchMiss {
    pub query: String,
    /// Id of the operation that should have ranked first.
    pub primary: String,
    /// Its 1-based rank within the top 10, if there.
    pub rank: Option<usize>,
    /// Ids of the top 5 hits.
    pub top: Vec<String>,
}

/// JSON Schemas of the CLI outputs, by file name in `schemas/`.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let v = |s: schemars::Schema| serde_json::to_value(s).unwrap_or_default();
    vec![
        ("search.schema.json", v(schemars::schema_for!(SearchOutput))),
        ("show.schema.json", v(schemars::schema_for!(ShowOutput))),
        ("bench.schema.json", v(schemars::schema_for!(BenchOutput))),
        ("call.schema.json", v(schemars::schema_for!(CallOutput))),
        (
            "exec.schema.json",
            v(schemars::schema_for!(crate::agent::tools::ExecAnswer)),
        ),
    ]
}

/// `opcat call --json`: the outcome of one call, success or not.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallOutput {
    /// The operation id as asked.
    pub id: String,
    /// True when the request was prepared (and, unless a dry run, answered with 2xx).
    pub ok: bool,
    /// HTTP status of the (last) response; absent when nothing was sent.
    pub status: Option<u16>,
    /// Pages fetched (more than 1 only with `--all-pages`).
    pub pages: u32,
    /// A continuation token not followed: more results exist (`--all-pages` follows).
    pub continuation_token: Option<String>,
    /// The response body (JSON; text as a string); pages merged with `--all-pages`.
    pub body: Option<serde_json::Value>,
    /// The prepared request (`--dry-run`). Authentication is added only when sending.
    pub request: Option<RequestOutput>,
    pub error: Option<ErrorOutput>,
}

/// A prepared request, as `--dry-run` shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestOutput {
    pub method: String,
    pub url: String,
    /// `[name, value]` pairs.
    pub headers: Vec<[String; 2]>,
    /// The body as text (UTF-8, lossy).
    pub body: Option<String>,
    pub content_type: Option<String>,
}

/// Why a call failed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorOutput {
    /// `unknownOperation`, `arguments`, `configuration`, `noToken`, `status`, `transport`.
    pub kind: String,
    /// The whole message, as the terminal shows it.
    pub message: String,
    /// The server's message (`status` errors).
    pub server_message: Option<String>,
    /// Every problem with the arguments (`arguments` errors).
    pub problems: Vec<String>,
    /// The operation's signature (`arguments` errors).
    pub signature: Option<String>,
    /// The process exit code.
    pub exit_code: u8,
}

impl RequestOutput {
    pub fn new(p: &opcat_runtime::Prepared) -> RequestOutput {
        RequestOutput {
            method: p.method.clone(),
            url: p.url.clone(),
            headers: p
                .headers
                .iter()
                .map(|(k, v)| [k.clone(), v.clone()])
                .collect(),
            body: p
                .body
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            content_type: p.content_type.clone(),
        }
    }
}

impl ErrorOutput {
    pub fn new(e: &crate::agent::http::CallError) -> ErrorOutput {
        use crate::agent::http::CallError;
        use opcat_runtime::PrepareError;
        let (problems, signature) = match e {
            CallError::Prepare(PrepareError::Arguments {
                problems,
                signature,
                ..
            }) => (
                problems.iter().map(|p| p.to_string()).collect(),
                Some(signature.clone()),
            ),
            CallError::Prepare(PrepareError::NotAnObject { signature, .. }) => {
                (Vec::new(), Some(signature.clone()))
            }
            _ => (Vec::new(), None),
        };
        ErrorOutput {
            kind: e.kind().to_string(),
            message: e.to_string(),
            server_message: match e {
                CallError::Status { message, .. } => Some(message.clone()),
                _ => None,
            },
            problems,
            signature,
            exit_code: e.exit_code(),
        }
    }
}
