//! The HTTP executor: configuration (organization, service, server URL, base URL, token,
//! read-only), one HTTP round trip with `ureq`, continuation paging, and redaction of the
//! token from everything that leaves.
//!
//! The runtime prepares requests ([`opcat_runtime::prepare`]); this module adds the only
//! secret, the personal access token, as HTTP basic authentication at the moment of
//! sending. The token lives in a [`Secret`], whose `Debug` and `Display` print `***`, and
//! every message and response body that leaves [`Executor::call`] has the token (and its
//! base64 credential) replaced by `***`.

use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine;
use opcat_runtime::{Catalog, Operation, PrepareError, Prepared, Target};
use serde_json::Value as Json;

/// Environment variable holding the personal access token.
pub const PAT_VAR: &str = "AZURE_DEVOPS_PAT";
/// Environment variable naming the organization (`--org` wins).
pub const ORG_VAR: &str = "AZURE_DEVOPS_ORG";
/// Environment variable filling `{service}` in host templates.
pub const SERVICE_VAR: &str = "AZURE_DEVOPS_SERVICE";
/// Environment variable replacing every host with a loopback base URL (tests).
pub const BASE_URL_VAR: &str = "OPCAT_BASE_URL";
/// Environment variable naming an Azure DevOps Server collection (`--server-url` wins).
pub const SERVER_URL_VAR: &str = "AZURE_DEVOPS_SERVER_URL";
/// Longest any one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Most bytes of one response body read.
pub const MAX_BODY: u64 = 64 << 20;
/// Default most pages followed by `--all-pages`.
pub const DEFAULT_MAX_PAGES: u32 = 50;

/// A secret string: `Debug` and `Display` print `***`; [`Secret::expose`] is the only way
/// to the value.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself: only for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Who calls and where: everything that is configuration, not an argument.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Organization (`--org`, else `AZURE_DEVOPS_ORG`).
    pub organization: Option<String>,
    /// Fills `{service}` in host templates (`AZURE_DEVOPS_SERVICE`); default empty.
    pub service: Option<String>,
    /// Loopback base URL replacing every host (`OPCAT_BASE_URL`, tests only).
    pub base_url: Option<String>,
    /// Azure DevOps Server collection URL for on-premises operations (`--server-url`,
    /// else `AZURE_DEVOPS_SERVER_URL`).
    pub server_url: Option<String>,
    /// Personal access token (`AZURE_DEVOPS_PAT`).
    pub token: Option<Secret>,
    /// Refuse every operation the catalog classes as a write (`--read-only`).
    pub read_only: bool,
}

impl Config {
    /// Reads the environment; `org` (the `--org` flag) wins over `AZURE_DEVOPS_ORG`.
    pub fn from_env(org: Option<String>) -> Config {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Config {
            organization: org.or_else(|| var(ORG_VAR)),
            service: var(SERVICE_VAR),
            base_url: var(BASE_URL_VAR),
            server_url: var(SERVER_URL_VAR),
            token: var(PAT_VAR).map(Secret::new),
            read_only: false,
        }
    }

    /// The runtime's view: no token.
    pub fn target(&self) -> Target {
        Target {
            organization: self.organization.clone(),
            service: self.service.clone(),
            base_url: self.base_url.clone(),
            server_url: self.server_url.clone(),
        }
    }

    /// Refuses a write in read-only mode, before anything is prepared or sent.
    pub fn allow(&self, op: &Operation<'_>) -> Result<(), CallError> {
        if self.read_only && !op.read_only() {
            return Err(CallError::ReadOnly {
                id: op.id().to_string(),
                method: op.method().to_string(),
            });
        }
        Ok(())
    }

    /// Replaces the token, and its basic-auth credential, by `***` in `text`.
    pub fn redact(&self, text: &str) -> String {
        let Some(token) = self.token.as_ref().filter(|t| !t.is_empty()) else {
            return text.to_string();
        };
        let mut out = text.replace(token.expose(), "***");
        let credential = basic_credential(token);
        if !credential.is_empty() {
            out = out.replace(&credential, "***");
        }
        out
    }

    /// Redacts every string (and key) of a JSON value.
    pub fn redact_json(&self, v: &mut Json) {
        if self.token.as_ref().is_none_or(|t| t.is_empty()) {
            return;
        }
        match v {
            Json::String(s) => *s = self.redact(s),
            Json::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i)),
            Json::Object(map) => {
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    self.redact_json(&mut v);
                    map.insert(self.redact(&k), v);
                }
            }
            _ => {}
        }
    }
}

/// base64(`:` + token), what the `Authorization: Basic` header carries.
fn basic_credential(token: &Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(":{}", token.expose()))
}

/// Why a call failed. Messages never hold the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error("no personal access token: set {PAT_VAR}")]
    NoToken,
    #[error(
        "`{id}` writes ({method}): refused, because opcat runs read-only (--read-only); \
         only operations that read are allowed"
    )]
    ReadOnly { id: String, method: String },
    #[error("HTTP {status} from {method} {url}: {message}")]
    Status {
        status: u16,
        method: String,
        url: String,
        /// The server's message (`message` of an Azure DevOps error), or the start of the body.
        message: String,
        /// The error body, when JSON.
        body: Option<Json>,
    },
    #[error("{method} {url} failed: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
    },
}

impl CallError {
    /// The process exit code `opcat call` uses for this error (see `opcat call --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            CallError::Prepare(PrepareError::UnknownOperation { .. }) => 1,
            CallError::Prepare(
                PrepareError::Arguments { .. }
                | PrepareError::NotAnObject { .. }
                | PrepareError::Body { .. },
            ) => 3,
            CallError::Prepare(_) | CallError::NoToken | CallError::ReadOnly { .. } => 2,
            CallError::Status { .. } => 4,
            CallError::Transport { .. } => 5,
        }
    }

    /// A short machine name of the error kind.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Prepare(PrepareError::UnknownOperation { .. }) => "unknownOperation",
            CallError::Prepare(
                PrepareError::Arguments { .. }
                | PrepareError::NotAnObject { .. }
                | PrepareError::Body { .. },
            ) => "arguments",
            CallError::Prepare(_) => "configuration",
            CallError::NoToken => "noToken",
            CallError::ReadOnly { .. } => "readOnly",
            CallError::Status { .. } => "status",
            CallError::Transport { .. } => "transport",
        }
    }
}

/// Paging choice.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// Follow continuation tokens.
    pub all: bool,
    /// Stop after this many pages.
    pub max_pages: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            all: false,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }
}

/// One raw HTTP response.
#[derive(Debug, Clone)]
pub struct Raw {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The result of a call.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status of the last page.
    pub status: u16,
    /// The JSON body (pages merged with `--all-pages`); non-JSON text as a string.
    pub body: Json,
    pub pages: u32,
    /// A continuation token not followed (more results exist).
    pub continuation: Option<String>,
}

/// Sends prepared requests with the configuration's token.
#[derive(Debug)]
pub struct Executor {
    agent: ureq::Agent,
    config: Config,
}

impl Executor {
    pub fn new(config: Config) -> Executor {
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect could lead anywhere: it is returned, not followed.
            .max_redirects(0)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .user_agent(concat!("opcat/", env!("CARGO_PKG_VERSION")));
        if config.base_url.is_some() {
            // Loopback override: no proxy may see (or forward) the traffic.
            builder = builder.proxy(None);
        }
        Executor {
            agent: builder.build().into(),
            config,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// One request, within `timeout`.
    fn run<B: ureq::AsSendBody>(
        &self,
        request: ureq::http::Request<B>,
        timeout: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        self.agent.run(request)
    }

    /// Sends one prepared request with basic authentication, giving up at `deadline`.
    pub fn send(&self, p: &Prepared, deadline: Option<Instant>) -> Result<Raw, CallError> {
        let token = self
            .config
            .token
            .as_ref()
            .filter(|t| !t.is_empty())
            .ok_or(CallError::NoToken)?;
        let transport = |message: String| CallError::Transport {
            method: p.method.clone(),
            url: p.url.clone(),
            message: self.config.redact(&message),
        };
        let mut builder = ureq::http::Request::builder()
            .method(p.method.as_str())
            .uri(p.url.as_str())
            .header("Accept", "application/json")
            .header(
                "Authorization",
                format!("Basic {}", basic_credential(token)),
            );
        for (k, v) in &p.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let timeout = deadline.map_or(REQUEST_TIMEOUT, |d| {
            d.saturating_duration_since(Instant::now())
                .min(REQUEST_TIMEOUT)
        });
        if timeout.is_zero() {
            return Err(transport("the run's time is up".into()));
        }
        let result = match &p.body {
            Some(body) => builder
                .body(body.clone())
                .map_err(|e| transport(e.to_string()))
                .map(|r| self.run(r, timeout)),
            None => builder
                .body(())
                .map_err(|e| transport(e.to_string()))
                .map(|r| self.run(r, timeout)),
        }?;
        let mut response = result.map_err(|e| transport(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| transport(e.to_string()))?;
        Ok(Raw {
            status,
            headers,
            body,
        })
    }

    /// Prepares and sends operation `id` with JSON `args`, following continuation tokens
    /// when `paging.all`. Error statuses (>= 400) and redirects are errors.
    pub fn call(
        &self,
        catalog: &Catalog,
        id: &str,
        args: &Json,
        paging: Paging,
    ) -> Result<Response, CallError> {
        self.call_until(catalog, id, args, paging, None)
    }

    /// [`Executor::call`], giving up at `deadline` (every page included).
    pub fn call_until(
        &self,
        catalog: &Catalog,
        id: &str,
        args: &Json,
        paging: Paging,
        deadline: Option<Instant>,
    ) -> Result<Response, CallError> {
        let op = catalog
            .operation(id)
            .ok_or_else(|| PrepareError::UnknownOperation {
                name: id.to_string(),
            })?;
        self.config.allow(&op)?;
        let target = self.config.target();
        let mut args = args.clone();
        let mut pages: Vec<Json> = Vec::new();
        let rec = op.core();
        let header = rec.continuation_header.as_ref().map(|h| h.to_string());
        let param = rec.continuation_param.as_ref().map(|p| p.to_string());
        loop {
            let prepared = op.prepare(&crate::to_value(&args), &target)?;
            let raw = self.send(&prepared, deadline)?;
            if raw.status >= 300 {
                return Err(self.status_error(&prepared, &raw));
            }
            let mut body = parse_body(&raw.body);
            self.config.redact_json(&mut body);
            pages.push(body);
            let token = header
                .as_deref()
                .or(Some("x-ms-continuationtoken"))
                .and_then(|h| raw.header(h))
                .filter(|t| !t.is_empty())
                .map(|t| self.config.redact(t));
            let follow = paging.all && (pages.len() as u32) < paging.max_pages.max(1);
            match (token, &param, args.as_object_mut()) {
                (Some(t), Some(p), Some(map)) if follow => {
                    if map.get(p).and_then(Json::as_str) == Some(t.as_str()) {
                        // The server repeats the token: stop rather than loop.
                        return Ok(merge(raw.status, pages, None));
                    }
                    map.insert(p.clone(), Json::String(t));
                }
                (Some(t), Some(_), None) if follow => {
                    let mut map = serde_json::Map::new();
                    map.insert(param.clone().unwrap_or_default(), Json::String(t));
                    args = Json::Object(map);
                }
                (token, _, _) => return Ok(merge(raw.status, pages, token)),
            }
        }
    }

    fn status_error(&self, p: &Prepared, raw: &Raw) -> CallError {
        let text = self.config.redact(&String::from_utf8_lossy(&raw.body));
        let mut body: Option<Json> = serde_json::from_str(&text).ok();
        if let Some(b) = body.as_mut() {
            self.config.redact_json(b);
        }
        let message = body
            .as_ref()
            .and_then(|b| b.get("message"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                let t = text.trim();
                if t.is_empty() {
                    match raw.header("location") {
                        Some(l) => format!("redirect to {} (not followed)", self.config.redact(l)),
                        None => "(empty body)".to_string(),
                    }
                } else {
                    t.chars().take(500).collect()
                }
            });
        CallError::Status {
            status: raw.status,
            method: p.method.clone(),
            url: p.url.clone(),
            message,
            body,
        }
    }
}

/// JSON when it parses; else the text as a string; empty is `null`.
fn parse_body(bytes: &[u8]) -> Json {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Json::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Merges pages: `{count, value}` envelopes concatenate `value` (count updated), arrays
/// concatenate, anything else becomes an array of pages.
fn merge(status: u16, mut pages: Vec<Json>, continuation: Option<String>) -> Response {
    let n = pages.len() as u32;
    let body = if pages.len() == 1 {
        pages.pop().unwrap_or(Json::Null)
    } else if pages.iter().all(Json::is_array) {
        Json::Array(
            pages
                .into_iter()
                .flat_map(|p| match p {
                    Json::Array(items) => items,
                    _ => Vec::new(),
                })
                .collect(),
        )
    } else if pages
        .iter()
        .all(|p| p.get("value").is_some_and(Json::is_array))
    {
        let mut first = pages.remove(0);
        let mut values: Vec<Json> = first
            .get_mut("value")
            .and_then(Json::as_array_mut)
            .map(std::mem::take)
            .unwrap_or_default();
        for mut p in pages {
            if let Some(v) = p.get_mut("value").and_then(Json::as_array_mut) {
                values.append(v);
            }
        }
        if let Some(map) = first.as_object_mut() {
            if map.contains_key("count") {
                map.insert("count".into(), Json::from(values.len()));
            }
            map.insert("value".into(), Json::Array(values));
        }
        first
    } else {
        Json::Array(pages)
    };
    Response {
        status,
        body,
        pages: n,
        continuation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_do_not_print() {
        let config = Config {
            organization: Some("fabrikam".into()),
            token: Some(Secret::new("planted-token-123")),
            ..Config::default()
        };
        let debug = format!(
            "{config:?} {:?} {}",
            config.token,
            config.token.clone().unwrap()
        );
        assert!(!debug.contains("planted-token-123"), "{debug}");
        assert!(debug.contains("***"));
        let cred = basic_credential(config.token.as_ref().unwrap());
        let mut v = json!({"a": ["x planted-token-123 y", format!("Basic {cred}")], "planted-token-123": 1});
        config.redact_json(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("planted-token-123") && !text.contains(&cred),
            "{text}"
        );
        let executor = Executor::new(config);
        assert!(!format!("{executor:?}").contains("planted-token-123"));
    }

    #[test]
    fn pages_merge() {
        let r = merge(
            200,
            vec![
                json!({"count": 2, "value": [1, 2]}),
                json!({"count": 1, "value": [3]}),
            ],
            None,
        );
        assert_eq!(r.body, json!({"count": 3, "value": [1, 2, 3]}));
        assert_eq!(r.pages, 2);
        let r = merge(200, vec![json!([1]), json!([2, 3])], None);
        assert_eq!(r.body, json!([1, 2, 3]));
        let r = merge(
            200,
            vec![json!({"a": 1}), json!({"a": 2})],
            Some("t".into()),
        );
        assert_eq!(r.body, json!([{"a": 1}, {"a": 2}]));
        assert_eq!(r.continuation.as_deref(), Some("t"));
    }
}
