//! Request preparation: an operation's arguments checked against its contract and turned
//! into method, URL, headers and body, ready for any HTTP client to send.
//!
//! This module sends nothing and knows no JSON library: arguments come in as [`Value`], a
//! small JSON-like tree the executor converts its own data into, and the result is a
//! [`Prepared`] request. Credentials never pass through here; the executor adds them.
//!
//! What preparation guarantees:
//!
//! - **Arguments match the contract.** Every problem is reported at once (missing required,
//!   unknown name, wrong type, value outside an enum), with the operation's signature
//!   ([`PrepareError::Arguments`]). Enum values match ignoring case, as the service parses
//!   them, and are sent in the contract's spelling; a comma-separated list of allowed
//!   values is accepted for flag enums (`$expand=children,defaultTesters`).
//! - **Values cannot change the path or the query.** Path values are percent-encoded as one
//!   segment (everything but RFC 3986 unreserved characters, `%` included; `.` and `..`
//!   encoded whole); query keys and values are encoded so `&`, `=`, `#`, `+` and `%` stay
//!   data.
//! - **Only declared hosts are targeted.** The operation's server template is filled
//!   (`{service}` from [`Target::service`], empty by default: `https://{service}dev.azure.com`
//!   becomes `https://dev.azure.com`), and the result must be one of the catalog's concrete
//!   hosts ([`crate::Catalog::hosts`]). A base-URL override ([`Target::base_url`], for tests)
//!   must be loopback (`127.0.0.1`, `[::1]`, `localhost`).
//! - **The organization is configuration** ([`Target::organization`]), never an argument;
//!   so is the `api-version`, taken from the operation.
//! - **On-premises operations go only to the configured server.** Their declared host is
//!   the spec's example server (`fabrikam-fiber-inc:8080`), so they are refused unless the
//!   caller names an Azure DevOps Server collection ([`Target::server_url`],
//!   `https://host[/prefix]/Collection`); that origin and prefix are then the only place
//!   they go, and `{collection}` is filled from its last segment (bound, not an argument).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::format::{ArchivedLocation as Location, ArchivedParamRecord};
use crate::{Catalog, Operation};

/// Characters encoded in a path segment or a query value: everything but unreserved.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Query keys may keep `$` (`$top`): a sub-delimiter without meaning in a query.
const QUERY_KEY: &AsciiSet = &STRICT.remove(b'$');

/// Path and query parameters bound by configuration, not arguments.
pub const BOUND: &[(&str, &str)] = &[
    ("organization", "configuration (--org or AZURE_DEVOPS_ORG)"),
    ("api-version", "the operation (its api-version is added)"),
];

/// The path parameter of on-premises operations bound by [`Target::server_url`].
pub const COLLECTION: (&str, &str) = (
    "collection",
    "configuration (the last segment of --server-url or AZURE_DEVOPS_SERVER_URL)",
);

/// An argument value: the JSON data model, without a JSON library.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// JSON kind name, as errors show it.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(f) if f.fract() == 0.0 && f.is_finite() => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// An empty object (no arguments).
    pub fn object() -> Value {
        Value::Object(BTreeMap::new())
    }

    /// Writes the value as JSON. `None` when a number is not finite.
    pub fn to_json(&self) -> Option<String> {
        let mut out = String::new();
        self.write_json(&mut out).then_some(out)
    }

    fn write_json(&self, out: &mut String) -> bool {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => {
                if !f.is_finite() {
                    return false;
                }
                out.push_str(&f.to_string());
            }
            Value::String(s) => json_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if !v.write_json(out) {
                        return false;
                    }
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(k, out);
                    out.push(':');
                    if !v.write_json(out) {
                        return false;
                    }
                }
                out.push('}');
            }
        }
        true
    }

    /// The text of a scalar as it goes into a path, query or header.
    fn scalar_text(&self) -> Option<String> {
        match self {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                Some((*f as i64).to_string())
            }
            Value::Float(f) if f.is_finite() => Some(f.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Where requests go: the caller's configuration.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Azure DevOps organization, filling `{organization}` in paths.
    pub organization: Option<String>,
    /// Fills `{service}` in a host template (`https://{service}dev.azure.com`). Default:
    /// empty, i.e. `https://dev.azure.com`. The filled host must be one the catalog
    /// declares (`vsrm.` gives `https://vsrm.dev.azure.com`).
    pub service: Option<String>,
    /// Replaces scheme and host of every operation (tests). Only loopback is accepted:
    /// `http(s)://127.0.0.1[:port]`, `http(s)://[::1][:port]`, `http(s)://localhost[:port]`.
    pub base_url: Option<String>,
    /// Azure DevOps Server (on premises) collection URL, e.g.
    /// `https://tfs.example.com/DefaultCollection` or
    /// `http://build01:8080/tfs/DefaultCollection`: where on-premises operations go. Without
    /// it they are refused ([`PrepareError::OnPremises`]).
    pub server_url: Option<String>,
}

/// A request ready to send. Holds no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Upper-case HTTP method.
    pub method: String,
    /// Absolute URL, query included.
    pub url: String,
    /// Request headers from header parameters, plus `Content-Type` when there is a body.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub content_type: Option<String>,
}

/// One thing wrong with the arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required argument is absent (or `null`).
    Missing { name: String, expected: String },
    /// No argument of this name; `hint` names a close one.
    Unknown { name: String, hint: Option<String> },
    /// The value has the wrong JSON kind.
    WrongType {
        name: String,
        expected: String,
        found: String,
    },
    /// The value is not one the enum allows.
    NotAllowed {
        name: String,
        expected: Vec<String>,
        found: String,
    },
    /// A path value is empty (it would remove a path segment).
    Empty { name: String },
    /// The argument is bound by configuration or by the operation, not by the caller.
    Bound { name: String, by: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { name, expected } => {
                write!(f, "missing required argument `{name}`: expected {expected}")
            }
            Problem::Unknown { name, hint } => {
                write!(f, "unknown argument `{name}`")?;
                match hint {
                    Some(h) => write!(f, " (did you mean `{h}`?)"),
                    None => Ok(()),
                }
            }
            Problem::WrongType {
                name,
                expected,
                found,
            } => write!(f, "argument `{name}`: expected {expected}, found {found}"),
            Problem::NotAllowed {
                name,
                expected,
                found,
            } => write!(
                f,
                "argument `{name}`: expected one of {}, found {found:?}",
                expected
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Problem::Empty { name } => {
                write!(
                    f,
                    "argument `{name}`: expected a non-empty value (it fills a path segment)"
                )
            }
            Problem::Bound { name, by } => {
                write!(
                    f,
                    "argument `{name}` is not an argument: it comes from {by}"
                )
            }
        }
    }
}

/// Why a request could not be prepared. Never contains credentials (none pass here).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    #[error("no operation named `{name}` (search for one first)")]
    UnknownOperation { name: String },
    #[error("arguments of `{id}`: expected an object, found {found}\nsignature:\n{signature}")]
    NotAnObject {
        id: String,
        found: String,
        signature: String,
    },
    #[error("{}", arguments_message(id, problems, signature))]
    Arguments {
        id: String,
        problems: Vec<Problem>,
        signature: String,
    },
    #[error("`{id}` needs an organization: set --org or AZURE_DEVOPS_ORG")]
    NoOrganization { id: String },
    #[error("`{id}` would target {found}: expected one of the catalog's hosts: {}", expected.join(", "))]
    Host {
        id: String,
        found: String,
        expected: Vec<String>,
    },
    #[error("base URL override {found:?}: expected {expected}")]
    BaseUrl { found: String, expected: String },
    #[error(
        "`{id}` is an on-premises operation ({version}): it is called only on a configured \
         Azure DevOps Server collection (--server-url https://host/DefaultCollection or \
         AZURE_DEVOPS_SERVER_URL)"
    )]
    OnPremises { id: String, version: String },
    #[error("server URL {found:?}: expected {expected}")]
    ServerUrl { found: String, expected: String },
    #[error("request body of `{id}`: {message}")]
    Body { id: String, message: String },
}

fn arguments_message(id: &str, problems: &[Problem], signature: &str) -> String {
    let mut s = format!(
        "{} problem{} with the arguments of `{id}`:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  - ");
        s.push_str(&p.to_string());
    }
    s.push_str("\nsignature:\n");
    s.push_str(signature);
    s
}

/// The argument name of the request body: `body`, unless a parameter is named `body`
/// (then `requestBody`). The same rule the contracts are rendered with.
pub fn body_arg(op: &Operation<'_>) -> Option<&'static str> {
    let rec = op.core();
    rec.body.as_ref()?;
    Some(if rec.params.iter().any(|p| p.name == "body") {
        "requestBody"
    } else {
        "body"
    })
}

fn is_bound(p: &ArchivedParamRecord, on_premises: bool) -> bool {
    (p.location == Location::Path && p.name == "organization")
        || (p.location == Location::Query && p.name == "api-version")
        || (on_premises && p.location == Location::Path && p.name == COLLECTION.0)
}

/// The arguments an operation takes, in declared order: not the bound ones.
pub fn arguments<'a>(op: &Operation<'a>) -> impl Iterator<Item = &'a ArchivedParamRecord> {
    let on_premises = op.on_premises();
    op.core()
        .params
        .iter()
        .filter(move |p| !is_bound(p, on_premises))
}

/// Checks an Azure DevOps Server collection URL: `http(s)://host[:port][/prefix]/Collection`,
/// no user info, query or fragment. Returns (origin + prefix, collection).
pub fn check_server_url(url: &str) -> Result<(String, String), PrepareError> {
    let err = || PrepareError::ServerUrl {
        found: url.to_string(),
        expected: "a collection URL such as https://tfs.example.com/DefaultCollection or \
                   http://build01:8080/tfs/DefaultCollection (scheme, host, optional port and \
                   path, ending in the collection; no user, query or fragment)"
            .to_string(),
    };
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(err)?;
    let (authority, path) = rest.split_once('/').ok_or_else(err)?;
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(h, _)| h);
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let path_ok = path.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%'))
    });
    if !host_ok || !path_ok {
        return Err(err());
    }
    let (prefix, collection) = match path.rsplit_once('/') {
        Some((prefix, c)) => (format!("/{prefix}"), c),
        None => (String::new(), path),
    };
    let base = format!(
        "{}{authority}{prefix}",
        &trimmed[..trimmed.len() - rest.len()]
    );
    let collection = percent_encoding::percent_decode_str(collection)
        .decode_utf8()
        .map_err(|_| err())?
        .into_owned();
    Ok((base, collection))
}

/// What a parameter kind expects, in words.
fn expected_of(p: &ArchivedParamRecord) -> String {
    let kind = p.kind.as_str();
    if p.allowed.is_empty() {
        match kind {
            "array" => "an array".to_string(),
            "any" | "" => "a value".to_string(),
            k => format!(
                "a{} {k}",
                if k.starts_with(['a', 'i', 'o']) {
                    "n"
                } else {
                    ""
                }
            ),
        }
    } else {
        format!(
            "one of {}",
            p.allowed
                .iter()
                .map(|v| format!("{:?}", v.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Checks one value against a parameter; returns the problem, if any.
/// Checks one value against a parameter: the problem, or the value to send instead
/// (an enum value in the contract's spelling).
fn check(p: &ArchivedParamRecord, v: &Value) -> Result<Option<Value>, Problem> {
    let name = p.name.to_string();
    let wrong = |expected: String| Problem::WrongType {
        name: name.clone(),
        expected,
        found: v.kind().to_string(),
    };
    let scalar_ok = |kind: &str, v: &Value| match kind {
        "string" => matches!(v, Value::String(_)),
        "integer" => v.kind() == "integer",
        "number" => matches!(v, Value::Int(_) | Value::Float(_)),
        "boolean" => matches!(v, Value::Bool(_)),
        _ => v.scalar_text().is_some(),
    };
    let kind = p.kind.as_str();
    match kind {
        "array" => match v {
            Value::Array(items) => {
                if let Some(bad) = items.iter().find(|i| i.scalar_text().is_none()) {
                    return Err(Problem::WrongType {
                        name,
                        expected: "an array of strings, numbers or booleans".into(),
                        found: format!("an array holding {}", bad.kind()),
                    });
                }
            }
            _ => return Err(wrong("an array".into())),
        },
        _ => {
            if !scalar_ok(kind, v) {
                let expected = match kind {
                    "string" | "integer" | "number" | "boolean" => kind.to_string(),
                    _ => "a string, number or boolean".to_string(),
                };
                return Err(wrong(expected));
            }
        }
    }
    let mut canonical = None;
    if !p.allowed.is_empty() {
        let text = v.scalar_text().unwrap_or_default();
        match canonical_enum(&text, &p.allowed) {
            Some(c) if c == text => {}
            Some(c) if kind == "string" => canonical = Some(Value::String(c)),
            Some(_) => {}
            None => {
                return Err(Problem::NotAllowed {
                    name,
                    expected: p.allowed.iter().map(|a| a.to_string()).collect(),
                    found: text,
                });
            }
        }
    }
    if p.location == Location::Path && v.scalar_text().is_some_and(|t| t.is_empty()) {
        return Err(Problem::Empty { name });
    }
    Ok(canonical)
}

/// An enum value in the contract's spelling: matched ignoring case (the service parses
/// enums that way), and a comma-separated list of values (flags, `"children,defaultTesters"`)
/// accepted part by part.
fn canonical_enum(text: &str, allowed: &[rkyv::string::ArchivedString]) -> Option<String> {
    let one = |t: &str| {
        let t = t.trim();
        allowed
            .iter()
            .find(|a| a.as_str() == t)
            .or_else(|| allowed.iter().find(|a| a.as_str().eq_ignore_ascii_case(t)))
            .map(|a| a.to_string())
    };
    if let Some(c) = one(text) {
        return Some(c);
    }
    if text.contains(',') {
        let parts: Option<Vec<String>> = text.split(',').map(one).collect();
        return parts.map(|p| p.join(","));
    }
    None
}

/// A known argument close to an unknown one: same name in another case, or a dotted
/// name ending in it (`status` -> `searchCriteria.status`).
fn hint(name: &str, known: &[&str]) -> Option<String> {
    let lower = name.to_lowercase();
    known
        .iter()
        .find(|k| k.to_lowercase() == lower)
        .or_else(|| {
            known
                .iter()
                .find(|k| k.to_lowercase().ends_with(&format!(".{lower}")))
        })
        .map(|k| k.to_string())
}

/// Encodes a path value as exactly one segment.
pub fn encode_segment(value: &str) -> String {
    match value {
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        v => utf8_percent_encode(v, STRICT).to_string(),
    }
}

fn encode_query(key: &str, value: &str) -> String {
    format!(
        "{}={}",
        utf8_percent_encode(key, QUERY_KEY),
        utf8_percent_encode(value, STRICT)
    )
}

/// `https://vsrm.dev.azure.com/x` -> (`https://vsrm.dev.azure.com`, `/x`).
fn split_origin(url: &str) -> Option<(&str, &str)> {
    let (_, rest) = url.split_once("://")?;
    let origin_len = url.len() - rest.len() + rest.find('/').unwrap_or(rest.len());
    Some(url.split_at(origin_len))
}

/// Checks a base-URL override: scheme http or https, loopback host, optional port, no
/// path, query, user info or fragment. Returns it without a trailing `/`.
pub fn check_base_url(base: &str) -> Result<String, PrepareError> {
    let err = || PrepareError::BaseUrl {
        found: base.to_string(),
        expected: "http(s)://127.0.0.1[:port], http(s)://[::1][:port] or \
                   http(s)://localhost[:port] (only loopback may replace the catalog's hosts)"
            .to_string(),
    };
    let trimmed = base.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(err)?;
    let (host, port) = if let Some(after) = rest.strip_prefix("[::1]") {
        ("[::1]", after)
    } else {
        match rest.find(':') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        }
    };
    if !matches!(host, "127.0.0.1" | "[::1]" | "localhost") {
        return Err(err());
    }
    if !port.is_empty() {
        let digits = port.strip_prefix(':').ok_or_else(err)?;
        if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
    }
    Ok(trimmed.to_string())
}

impl Catalog {
    /// Prepares a request for operation `name` (id, alias or operationId) with `args` (an
    /// object, or `Null` for none). See the [module docs](crate::prepare).
    pub fn prepare(
        &self,
        name: &str,
        args: &Value,
        target: &Target,
    ) -> Result<Prepared, PrepareError> {
        let op = self
            .operation(name)
            .ok_or_else(|| PrepareError::UnknownOperation {
                name: name.to_string(),
            })?;
        op.prepare(args, target)
    }

    /// Concrete hosts (no template placeholder) requests may target.
    fn concrete_hosts(&self) -> BTreeSet<&str> {
        self.hosts().filter(|h| !h.contains('{')).collect()
    }
}

impl Operation<'_> {
    /// Prepares a request for this operation. See the [module docs](crate::prepare).
    pub fn prepare(&self, args: &Value, target: &Target) -> Result<Prepared, PrepareError> {
        let id = self.id().to_string();
        let rec = self.core();
        let on_premises = self.on_premises();
        // On premises: the configured collection, or nothing.
        let server = match (on_premises, target.server_url.as_deref()) {
            (false, _) => None,
            (true, Some(url)) => Some(check_server_url(url)?),
            (true, None) => {
                return Err(PrepareError::OnPremises {
                    id,
                    version: self.version().to_string(),
                });
            }
        };
        let empty = BTreeMap::new();
        let given = match args {
            Value::Object(map) => map,
            Value::Null => &empty,
            other => {
                return Err(PrepareError::NotAnObject {
                    id,
                    found: other.kind().to_string(),
                    signature: self.signature().to_string(),
                });
            }
        };
        // Arguments: validate every one, collect every problem.
        let params: Vec<&ArchivedParamRecord> = arguments(self).collect();
        let body_name = body_arg(self);
        // A path placeholder the spec declares no parameter for is still an argument.
        let placeholders = placeholders(self.path());
        let undeclared: Vec<&str> = placeholders
            .iter()
            .copied()
            .filter(|h| {
                *h != "organization"
                    && !(on_premises && *h == COLLECTION.0)
                    && !params.iter().any(|p| p.name.eq_ignore_ascii_case(h))
            })
            .collect();
        let mut known: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        known.extend(body_name);
        known.extend(&undeclared);
        let mut problems = Vec::new();
        let mut values: BTreeMap<&str, Value> = BTreeMap::new();
        for (name, v) in given {
            let bound = BOUND
                .iter()
                .chain(on_premises.then_some(&COLLECTION))
                .find(|(b, _)| b == name);
            if let Some((_, by)) = bound {
                problems.push(Problem::Bound {
                    name: name.clone(),
                    by: by.to_string(),
                });
                continue;
            }
            if Some(name.as_str()) == body_name {
                if !matches!(v, Value::Null) {
                    values.insert(name, v.clone());
                }
                continue;
            }
            if undeclared.contains(&name.as_str()) {
                match v.scalar_text() {
                    Some(t) if t.is_empty() => problems.push(Problem::Empty { name: name.clone() }),
                    Some(_) => {
                        values.insert(name, v.clone());
                    }
                    None if matches!(v, Value::Null) => {}
                    None => problems.push(Problem::WrongType {
                        name: name.clone(),
                        expected: "a string".into(),
                        found: v.kind().to_string(),
                    }),
                }
                continue;
            }
            let Some(p) = params.iter().find(|p| p.name == name.as_str()) else {
                problems.push(Problem::Unknown {
                    name: name.clone(),
                    hint: hint(name, &known),
                });
                continue;
            };
            if matches!(v, Value::Null) {
                continue;
            }
            match check(p, v) {
                Err(problem) => problems.push(problem),
                Ok(canonical) => {
                    values.insert(p.name.as_str(), canonical.unwrap_or_else(|| v.clone()));
                }
            }
        }
        for p in &params {
            let in_path = p.location == Location::Path
                && placeholders.iter().any(|h| h.eq_ignore_ascii_case(&p.name));
            if (p.required || in_path)
                && !given
                    .get(p.name.as_str())
                    .is_some_and(|v| *v != Value::Null)
            {
                problems.push(Problem::Missing {
                    name: p.name.to_string(),
                    expected: expected_of(p),
                });
            }
        }
        for h in &undeclared {
            if !values.contains_key(h) && !given.get(*h).is_some_and(|v| *v != Value::Null) {
                problems.push(Problem::Missing {
                    name: h.to_string(),
                    expected: "a string (path segment)".into(),
                });
            }
        }
        if let (Some(b), Some(body)) = (body_name, rec.body.as_ref()) {
            let v = given.get(b).filter(|v| **v != Value::Null);
            if body.required && v.is_none() {
                problems.push(Problem::Missing {
                    name: b.to_string(),
                    expected: format!("the request body ({})", body.content_type),
                });
            }
            if let Some(v) = v
                && !body.content_type.contains("json")
                && !matches!(v, Value::String(_))
            {
                problems.push(Problem::WrongType {
                    name: b.to_string(),
                    expected: format!("a string (sent as {})", body.content_type),
                    found: v.kind().to_string(),
                });
            }
        }
        if !problems.is_empty() {
            return Err(PrepareError::Arguments {
                id,
                problems,
                signature: self.signature().to_string(),
            });
        }

        // Path.
        let org = target.organization.as_deref().filter(|o| !o.is_empty());
        let mut path = String::new();
        let mut rest = self.path();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            path.push_str(&rest[..open]);
            let name = &rest[open + 1..open + close];
            let text = match &server {
                Some((_, collection)) if name == COLLECTION.0 => collection.clone(),
                _ if name == "organization" => org
                    .ok_or_else(|| PrepareError::NoOrganization { id: id.clone() })?
                    .to_string(),
                _ => {
                    let param = params
                        .iter()
                        .find(|p| p.name == name)
                        .or_else(|| params.iter().find(|p| p.name.eq_ignore_ascii_case(name)))
                        .map_or(name, |p| p.name.as_str());
                    values
                        .get(param)
                        .or_else(|| values.get(name))
                        .and_then(|v| v.scalar_text())
                        .unwrap_or_default()
                }
            };
            path.push_str(&encode_segment(&text));
            rest = &rest[open + close + 1..];
        }
        path.push_str(rest);

        // Query: the fixed x-ms-paths part, then query arguments, then the api-version.
        let mut query: Vec<String> = Vec::new();
        let mut used: BTreeSet<&str> = BTreeSet::new();
        if let Some(fixed) = rec.path_query.as_ref() {
            for pair in fixed.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                match v.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                    Some(name) => {
                        if let Some(value) = values.get(name) {
                            used.insert(name);
                            push_query(&mut query, k, value, None);
                        }
                    }
                    None => query.push(encode_query(k, v)),
                }
            }
        }
        for p in params.iter().filter(|p| p.location == Location::Query) {
            if used.contains(p.name.as_str()) {
                continue;
            }
            if let Some(v) = values.get(p.name.as_str()) {
                let format = p.collection_format.as_ref().map(|f| f.as_str());
                push_query(&mut query, &p.name, v, format);
            }
        }
        if let Some(v) = self.api_version() {
            query.push(encode_query("api-version", v));
        }

        // Host: the configured collection on premises, else a declared host.
        let base = match &server {
            Some((base, _)) => base.clone(),
            None => {
                let server = fill_server(self.server(), target.service.as_deref().unwrap_or(""));
                let Some((origin, prefix)) = server.as_deref().and_then(split_origin) else {
                    return Err(PrepareError::Host {
                        id,
                        found: self.server().to_string(),
                        expected: self
                            .catalog
                            .concrete_hosts()
                            .iter()
                            .map(|h| h.to_string())
                            .collect(),
                    });
                };
                let hosts = self.catalog.concrete_hosts();
                if !hosts.contains(origin) || !origin.starts_with("https://") {
                    return Err(PrepareError::Host {
                        id,
                        found: origin.to_string(),
                        expected: hosts.iter().map(|h| h.to_string()).collect(),
                    });
                }
                let origin = match &target.base_url {
                    Some(base) => check_base_url(base)?,
                    None => origin.to_string(),
                };
                format!("{origin}{prefix}")
            }
        };
        let mut url = format!("{base}{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }

        // Headers, cookies, form fields, body.
        let mut headers = Vec::new();
        let mut cookies = Vec::new();
        let mut form = Vec::new();
        for p in &params {
            let Some(v) = values.get(p.name.as_str()) else {
                continue;
            };
            let text = match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::scalar_text)
                    .collect::<Vec<_>>()
                    .join(","),
                Value::Object(_) => v.to_json().unwrap_or_default(),
                v => v.scalar_text().unwrap_or_default(),
            };
            match p.location {
                Location::Header => headers.push((p.name.to_string(), header_safe(&text))),
                Location::Cookie => cookies.push(format!(
                    "{}={}",
                    utf8_percent_encode(&p.name, STRICT),
                    utf8_percent_encode(&text, STRICT)
                )),
                Location::FormData => form.push(encode_query(&p.name, &text)),
                Location::Path | Location::Query => {}
            }
        }
        if !cookies.is_empty() {
            headers.push(("Cookie".to_string(), cookies.join("; ")));
        }
        let (body, content_type) = match (body_name.and_then(|b| values.get(b)), rec.body.as_ref())
        {
            (Some(v), Some(b)) => {
                let bytes = match v {
                    Value::String(s) if !b.content_type.contains("json") => s.clone().into_bytes(),
                    v => v
                        .to_json()
                        .ok_or_else(|| PrepareError::Body {
                            id: id.clone(),
                            message: "expected finite numbers, found NaN or infinity".into(),
                        })?
                        .into_bytes(),
                };
                (Some(bytes), Some(b.content_type.to_string()))
            }
            _ if !form.is_empty() => (
                Some(form.join("&").into_bytes()),
                Some("application/x-www-form-urlencoded".to_string()),
            ),
            _ => (None, None),
        };
        if let Some(ct) = &content_type {
            headers.push(("Content-Type".to_string(), ct.clone()));
        }
        Ok(Prepared {
            method: self.method().to_string(),
            url,
            headers,
            body,
            content_type,
        })
    }
}

/// `{name}` placeholders of a path template, in order.
fn placeholders(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    out
}

/// Fills `{service}` in a server template; `None` when another placeholder remains.
fn fill_server(server: &str, service: &str) -> Option<String> {
    let filled = server.replace("{service}", service);
    (!filled.contains('{')).then_some(filled)
}

/// Control characters (CR, LF) would split a header: they are percent-encoded.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("%{:02X}", c as u32 & 0xff)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn push_query(query: &mut Vec<String>, key: &str, v: &Value, format: Option<&str>) {
    match v {
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().filter_map(Value::scalar_text).collect();
            if format == Some("multi") {
                query.extend(texts.iter().map(|t| encode_query(key, t)));
                return;
            }
            let sep = match format {
                Some("ssv") => "%20",
                Some("tsv") => "%09",
                Some("pipes") => "%7C",
                _ => ",",
            };
            let joined = texts
                .iter()
                .map(|t| utf8_percent_encode(t, STRICT).to_string())
                .collect::<Vec<_>>()
                .join(sep);
            query.push(format!("{}={joined}", utf8_percent_encode(key, QUERY_KEY)));
        }
        v => {
            if let Some(t) = v.scalar_text() {
                query.push(encode_query(key, &t));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape() {
        for v in [
            "../../_apis/x",
            "a/b?c=d",
            "%2e%2e",
            "x#y",
            "a b",
            "..",
            ".",
        ] {
            let e = encode_segment(v);
            assert!(
                !e.contains('/') && !e.contains('?') && !e.contains('#'),
                "{e}"
            );
            assert!(e != ".." && e != ".", "{e}");
            let decoded = percent_encoding::percent_decode_str(&e)
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, v);
        }
        assert_eq!(encode_segment("%2e%2e"), "%252e%252e");
        assert_eq!(encode_segment("a/b?c=d"), "a%2Fb%3Fc%3Dd");
    }

    #[test]
    fn json_is_escaped() {
        let v = Value::Object(
            [
                ("a\"b".to_string(), Value::String("x\n\u{1}é".into())),
                ("n".to_string(), Value::Float(1.5)),
                (
                    "l".to_string(),
                    Value::Array(vec![Value::Null, Value::Int(-3)]),
                ),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            v.to_json().unwrap(),
            r#"{"a\"b":"x\n\u0001é","l":[null,-3],"n":1.5}"#
        );
        assert_eq!(Value::Float(f64::NAN).to_json(), None);
    }

    #[test]
    fn base_url_must_be_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:1/",
            "https://localhost",
            "http://[::1]:9",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://127.0.0.1.evil.com",
            "http://evil.com",
            "http://127.0.0.1@evil.com",
            "http://localhost:80/x",
            "http://localhost:",
            "ftp://127.0.0.1",
            "http://[::1].evil",
            "http://10.0.0.1",
        ] {
            assert!(
                matches!(check_base_url(bad), Err(PrepareError::BaseUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn origins_split() {
        assert_eq!(
            split_origin("https://dev.azure.com"),
            Some(("https://dev.azure.com", ""))
        );
        assert_eq!(
            split_origin("https://x:8080/DefaultCollection"),
            Some(("https://x:8080", "/DefaultCollection"))
        );
        assert_eq!(
            fill_server("https://{service}dev.azure.com", "vsrm."),
            Some("https://vsrm.dev.azure.com".into())
        );
        assert_eq!(fill_server("https://{instance}", ""), None);
    }
}
