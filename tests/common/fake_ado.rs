//! A fake Azure DevOps on loopback for the end-to-end tests: answers each operation's
//! method + path with the response recorded in its `httpExamples` file (read from the real
//! corpus), after checking basic authentication and the api-version, and records every
//! request it saw.
//!
//! Routing is by the catalog's path templates: literal segments must match, a `{name}`
//! segment must equal the example's recorded value for `name` when it recorded one
//! (so percent-encoding round trips are checked), `{organization}` matches any value.
//! A request carrying the recorded continuation token as its `continuationToken` gets the
//! same page again without the token: the last page.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use opcat_runtime::Catalog;
use serde_json::Value as Json;

/// One recorded example an operation answers with.
#[derive(Debug, Clone)]
pub struct Route {
    pub op_id: String,
    pub method: String,
    segments: Vec<String>,
    fixed_query: Vec<String>,
    /// Required query arguments of the operation: a request without one is not for it.
    required_query: Vec<String>,
    pub api_version: Option<String>,
    /// The recorded request parameters.
    pub parameters: serde_json::Map<String, Json>,
    pub status: u16,
    pub body: Option<Json>,
    pub headers: Vec<(String, String)>,
    pub file: String,
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The operation answered, if any.
    pub op_id: Option<String>,
    /// The status and JSON body the fake answered with.
    pub status: u16,
    pub answered: Option<Json>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The basic-auth credential a token is sent as: base64 of `:token`.
pub fn credential(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(":{token}"))
}

/// Fails when `text` holds the token or its basic-auth credential.
pub fn assert_no_token(token: &str, what: &str, text: &str) {
    assert!(
        !text.contains(token) && !text.contains(&credential(token)),
        "{what} leaks the token:\n{text}"
    );
}

/// The running server.
#[derive(Debug, Clone)]
pub struct FakeAdo {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub routes: Arc<Vec<Route>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Requests being answered now, and the most there ever were at once.
    pub in_flight: Arc<AtomicUsize>,
    pub max_in_flight: Arc<AtomicUsize>,
}

/// Options of the fake.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Put the received `Authorization` header into every JSON object body as `_echo`
    /// (a hostile server, for the redaction tests).
    pub echo_auth: bool,
    /// A `{name}` path segment matches any value, not only the example's recorded one
    /// (routes whose recorded values agree still win): the chained programs of
    /// tests/execute.rs feed one answer's ids into the next call, and the examples of two
    /// operations seldom recorded the same ids.
    pub any_path_value: bool,
    /// Wait this long before answering (a slow server: wall-time and concurrency tests).
    pub delay_ms: u64,
}

fn read_json(path: &Path) -> Option<Json> {
    let bytes = std::fs::read(path).ok()?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    serde_json::from_slice(bytes).ok()
}

/// Routes of every cloud operation with a readable recorded 2xx example.
pub fn routes(catalog: &Catalog, specs_root: &Path) -> Vec<Route> {
    let mut out = Vec::new();
    for op in catalog.operations() {
        if !op.version().starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let prefix = op
            .server()
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_default();
        let segments: Vec<String> = format!("{prefix}{}", op.path())
            .split('/')
            .map(str::to_string)
            .collect();
        let fixed_query: Vec<String> = op
            .core()
            .path_query
            .as_ref()
            .map(|q| {
                q.split('&')
                    .filter_map(|p| p.split('=').next())
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let required_query: Vec<String> = opcat_runtime::prepare::arguments(&op)
            .filter(|p| p.required && p.location == opcat_runtime::format::ArchivedLocation::Query)
            .map(|p| p.name.to_string())
            .collect();
        for ex in op.record().examples.iter() {
            // Relative to the spec's folder in the artifact; relative to the root here.
            let file = match op.file().rsplit_once('/') {
                Some((folder, _)) => format!("{folder}/{}", ex.file),
                None => ex.file.to_string(),
            };
            let Some(doc) = read_json(&specs_root.join(&file)) else {
                continue;
            };
            let Some(responses) = doc.get("responses").and_then(Json::as_object) else {
                continue;
            };
            let Some((status, resp)) = responses
                .iter()
                .filter(|(s, _)| s.starts_with('2'))
                .min_by(|a, b| a.0.cmp(b.0))
            else {
                continue;
            };
            let headers = resp
                .get("headers")
                .and_then(Json::as_object)
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .filter(|(k, _)| {
                            !matches!(
                                k.to_ascii_lowercase().as_str(),
                                "transfer-encoding" | "content-length" | "connection"
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(Route {
                op_id: op.id().to_string(),
                method: op.method().to_string(),
                segments: segments.clone(),
                fixed_query: fixed_query.clone(),
                required_query: required_query.clone(),
                api_version: op.api_version().map(str::to_string),
                parameters: doc
                    .get("parameters")
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default(),
                status: status.parse().unwrap_or(200),
                // A 204 or a HEAD has no body, whatever the recording says.
                body: resp
                    .get("body")
                    .cloned()
                    .filter(|_| status != "204" && op.method() != "HEAD"),
                headers,
                file,
            });
        }
    }
    out
}

fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Query pairs, decoded.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// How a path segment matched its template segment.
#[derive(PartialEq)]
enum Segment {
    Literal,
    /// A `{name}` segment equal to the recorded value (or with none recorded).
    Recorded,
    /// A `{name}` segment of another value (only with `any_path_value`).
    Other,
}

/// Matches one path segment against a template segment (`{id}`, `${type}`, `_apis`):
/// `None` when it does not match.
fn segment_matches(
    r: &Route,
    template: &str,
    raw: &str,
    decoded: &str,
    any_value: bool,
) -> Option<Segment> {
    let Some(open) = template.find('{') else {
        return template
            .eq_ignore_ascii_case(decoded)
            .then_some(Segment::Literal);
    };
    let close = template.find('}')?;
    let (prefix, name, suffix) = (
        &template[..open],
        &template[open + 1..close],
        &template[close + 1..],
    );
    // An encoded '/' or '?' must have stayed inside its segment.
    if raw.contains('?') {
        return None;
    }
    let value = decoded.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if value.is_empty() {
        return None;
    }
    if name != "organization" {
        let recorded = r
            .parameters
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| scalar_text(v));
        if recorded.is_some_and(|rec| !rec.eq_ignore_ascii_case(value)) {
            return any_value.then_some(Segment::Other);
        }
    }
    Some(Segment::Recorded)
}

/// The best route for a request: most literal segments, then most fixed query keys, then
/// most path values equal to the recorded ones, then most recorded query values equal to
/// the request's; the first on a tie.
fn find<'a>(
    routes: &'a [Route],
    method: &str,
    path: &str,
    query: &str,
    any_value: bool,
) -> Option<&'a Route> {
    let raw: Vec<&str> = path.split('/').collect();
    let segs: Vec<String> = raw.iter().map(|s| decode(s)).collect();
    let pairs = query_pairs(query);
    // (literal segments, fixed query keys, recorded path values, recorded query values)
    type Score = (usize, usize, usize, usize);
    let mut best: Option<(Score, &Route)> = None;
    for r in routes {
        if r.method != method || r.segments.len() != segs.len() {
            continue;
        }
        if !r
            .fixed_query
            .iter()
            .chain(&r.required_query)
            .all(|k| pairs.iter().any(|(q, _)| q == k))
        {
            continue;
        }
        let (mut literal, mut recorded) = (0, 0);
        let mut ok = true;
        for ((t, s), raw) in r.segments.iter().zip(&segs).zip(&raw) {
            match segment_matches(r, t, raw, s, any_value) {
                Some(Segment::Literal) => literal += 1,
                Some(Segment::Recorded) => recorded += 1,
                Some(Segment::Other) => {}
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let same_values = pairs
            .iter()
            .filter(|(k, v)| {
                r.parameters.iter().any(|(rk, rv)| {
                    rk.eq_ignore_ascii_case(k)
                        && scalar_text(rv).is_some_and(|t| t.eq_ignore_ascii_case(v))
                })
            })
            .count();
        let score = (literal, r.fixed_query.len(), recorded, same_values);
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, r));
        }
    }
    best.map(|(_, r)| r)
}

impl FakeAdo {
    /// Starts the server on 127.0.0.1 (a free port), answering with `routes` to requests
    /// authenticated with `token`.
    pub fn start(routes: Vec<Route>, token: &str, options: Options) -> FakeAdo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeAdo {
            base_url,
            routes: Arc::new(routes),
            seen: Arc::new(Mutex::new(Vec::new())),
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: Arc::new(AtomicUsize::new(0)),
        };
        let expected_auth = format!("Basic {}", credential(token));
        let server = fake.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = server.clone();
                let auth = expected_auth.clone();
                let options = options.clone();
                std::thread::spawn(move || {
                    let _ = server.handle(stream, &auth, &options);
                });
            }
        });
        fake
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }

    fn handle(&self, stream: TcpStream, auth: &str, options: &Options) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((k, v)) = h.trim_end().split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if options.delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(options.delay_ms));
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let route = find(&self.routes, &method, path, query, options.any_path_value);
        let mut seen = Seen {
            method: method.clone(),
            target: target.clone(),
            headers: headers.clone(),
            body,
            op_id: None,
            status: 0,
            answered: None,
        };
        let received_auth = seen.header("authorization").unwrap_or("").to_string();
        let pairs = query_pairs(query);
        let (status, mut json, extra): (u16, Option<Json>, Vec<(String, String)>) = if received_auth
            != auth
        {
            (
                401,
                Some(serde_json::json!({
                    "message": "TF400813: The user is not authorized to access this resource."
                })),
                vec![],
            )
        } else {
            match route {
                None => (
                    404,
                    Some(serde_json::json!({
                        "message": format!("fake Azure DevOps: no recorded example for {method} {path}"),
                        "typeKey": "RouteNotFound"
                    })),
                    vec![],
                ),
                Some(r) => {
                    seen.op_id = Some(r.op_id.clone());
                    let sent = pairs
                        .iter()
                        .find(|(k, _)| k == "api-version")
                        .map(|(_, v)| v);
                    match (&r.api_version, sent) {
                        (Some(expected), got) if got != Some(expected) => (
                            400,
                            Some(serde_json::json!({
                                "message": format!("VS800075: expected api-version {expected}, got {got:?}"),
                                "typeKey": "VssInvalidApiVersion"
                            })),
                            vec![],
                        ),
                        _ => {
                            let token = pairs
                                .iter()
                                .find(|(k, _)| k == "continuationToken")
                                .map(|(_, v)| v.clone());
                            let headers = r
                                .headers
                                .iter()
                                .filter(|(k, v)| {
                                    !(k.eq_ignore_ascii_case("x-ms-continuationtoken")
                                        && Some(v) == token.as_ref())
                                })
                                .cloned()
                                .collect();
                            (r.status, r.body.clone(), headers)
                        }
                    }
                }
            }
        };
        if options.echo_auth
            && let Some(Json::Object(map)) = json.as_mut()
        {
            map.insert("_echo".into(), Json::String(received_auth.clone()));
        }
        seen.status = status;
        seen.answered = json.clone();
        self.seen.lock().unwrap().push(seen);
        let body = match &json {
            Some(Json::String(s)) if status < 300 => s.clone().into_bytes(),
            Some(j) => serde_json::to_vec(j).unwrap(),
            None => Vec::new(),
        };
        let mut out = stream;
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            reason(status),
            body.len()
        );
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        out.write_all(&body)?;
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Other",
    }
}

/// Arguments for an operation from an example's recorded parameters: bound ones dropped,
/// values converted to the declared kinds (examples record `"22"` for integers), the body
/// under the contract's body argument, and missing required arguments filled with a
/// plausible value of their kind.
pub fn args_from_example(
    op: &opcat_runtime::Operation<'_>,
    parameters: &serde_json::Map<String, Json>,
) -> Json {
    let rec = op.core();
    let body_arg = opcat_runtime::prepare::body_arg(op);
    let mut args = serde_json::Map::new();
    for p in opcat_runtime::prepare::arguments(op) {
        let recorded = parameters
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(p.name.as_str()))
            .map(|(_, v)| v);
        let value = match recorded {
            Some(v) if !v.is_null() => convert(v, p.kind.as_str()),
            _ if p.required => Some(filler(p)),
            _ => None,
        };
        if let Some(v) = value {
            args.insert(p.name.to_string(), v);
        }
    }
    // Undeclared path placeholders (`{DefinitionId}`) are arguments too.
    for seg in op.path().split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
            && name != "organization"
            && !rec.params.iter().any(|p| p.name.eq_ignore_ascii_case(name))
        {
            let v = parameters
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| scalar_text(v))
                .unwrap_or_else(|| "1".into());
            args.insert(name.to_string(), Json::String(v));
        }
    }
    if let (Some(b), Some(body)) = (body_arg, rec.body.as_ref()) {
        let recorded = parameters
            .get(body.name.as_str())
            .or_else(|| parameters.get("body"))
            .filter(|v| !v.is_null());
        match recorded {
            Some(v) if body.content_type.contains("json") => {
                args.insert(b.to_string(), v.clone());
            }
            Some(Json::String(s)) => {
                args.insert(b.to_string(), Json::String(s.clone()));
            }
            _ if body.required => {
                let v = if body.content_type.contains("json") {
                    Json::Object(Default::default())
                } else {
                    Json::String("data".into())
                };
                args.insert(b.to_string(), v);
            }
            _ => {}
        }
    }
    Json::Object(args)
}

fn convert(v: &Json, kind: &str) -> Option<Json> {
    match (kind, v) {
        // A recorded value that does not convert is passed as recorded (and refused).
        ("integer", Json::String(s)) => Some(s.parse::<i64>().map_or(v.clone(), Json::from)),
        ("number", Json::String(s)) => Some(s.parse::<f64>().map_or(v.clone(), Json::from)),
        ("boolean", Json::String(s)) => Some(
            s.to_ascii_lowercase()
                .parse::<bool>()
                .map_or(v.clone(), Json::from),
        ),
        ("string", Json::Number(n)) => Some(Json::String(n.to_string())),
        ("string", Json::Bool(b)) => Some(Json::String(b.to_string())),
        ("array", Json::String(s)) => Some(Json::Array(
            s.split(',')
                .map(|x| Json::String(x.trim().into()))
                .collect(),
        )),
        ("array", Json::Number(_)) => Some(Json::Array(vec![v.clone()])),
        _ => Some(v.clone()),
    }
}

fn filler(p: &opcat_runtime::ArchivedParamRecord) -> Json {
    if let Some(first) = p.allowed.first() {
        return match p.kind.as_str() {
            "integer" => first
                .as_str()
                .parse::<i64>()
                .map(Json::from)
                .unwrap_or(Json::Null),
            _ => Json::String(first.to_string()),
        };
    }
    match p.kind.as_str() {
        "integer" | "number" => Json::from(1),
        "boolean" => Json::Bool(true),
        "array" => Json::Array(vec![Json::String("1".into())]),
        _ => Json::String("Fabrikam".into()),
    }
}

/// The recorded body as the client parses it: JSON, a string for text, null when empty.
pub fn expected_body(route: &Route) -> Json {
    route.body.clone().unwrap_or(Json::Null)
}

/// Map of operation id to its routes.
pub fn by_op(routes: &[Route]) -> BTreeMap<String, Vec<&Route>> {
    let mut map: BTreeMap<String, Vec<&Route>> = BTreeMap::new();
    for r in routes {
        map.entry(r.op_id.clone()).or_default().push(r);
    }
    map
}
