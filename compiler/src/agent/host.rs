//! `api.<id>(args)` on the host side: the [`Host`] of an [`Agent`]. Ids are resolved in
//! the catalog (an unknown one names the nearest ids), calls go through the executor
//! (read-only policy, argument checks, token, declared hosts, paging), and outcomes become
//! JSON or a [`HostError`] for the program.

use std::time::Instant;

use opcat_runtime::{Catalog, PrepareError};
use serde_json::Value as Json;

use super::Agent;
use super::http::{CallError, DEFAULT_MAX_PAGES, Paging};
use super::sandbox::{Host, HostError, Reply};

/// Nearest ids named for an unknown one.
const NEAREST: usize = 3;

impl Host for Agent {
    fn resolve(&self, id: &str) -> Result<String, HostError> {
        match self.catalog.operation(id) {
            Some(op) => Ok(op.method().to_string()),
            None => Err(HostError {
                code: "unknownOperation".into(),
                message: unknown_id(&self.catalog, id),
                ..HostError::default()
            }),
        }
    }

    fn call(
        &self,
        id: &str,
        args: Json,
        options: Json,
        deadline: Instant,
    ) -> Result<Reply, HostError> {
        let paging = Paging {
            all: options
                .get("allPages")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            max_pages: options
                .get("maxPages")
                .and_then(Json::as_u64)
                .map_or(DEFAULT_MAX_PAGES, |n| n.clamp(1, 1000) as u32),
        };
        match self
            .executor
            .call_until(&self.catalog, id, &args, paging, Some(deadline))
        {
            Ok(r) => {
                let mut body = r.body;
                // A page with more after it carries its token, to pass back as the
                // operation's continuation argument.
                if let (Some(token), Some(map)) = (r.continuation, body.as_object_mut()) {
                    map.entry("continuationToken")
                        .or_insert(Json::String(token));
                }
                Ok(Reply {
                    status: r.status,
                    body,
                })
            }
            Err(e) => Err(host_error(&e)),
        }
    }
}

/// A call's failure as the program sees it.
pub fn host_error(e: &CallError) -> HostError {
    let (status, body) = match e {
        CallError::Status { status, body, .. } => (Some(*status), body.clone()),
        _ => (None, None),
    };
    HostError {
        code: e.kind().to_string(),
        message: e.to_string(),
        status,
        body,
    }
}

/// "no operation `x`": the nearest ids by edit distance, operations of the same resource
/// first.
pub fn unknown_id(catalog: &Catalog, id: &str) -> String {
    let want = id.to_lowercase();
    let prefix = want.rsplit_once('.').map(|(p, _)| p.to_string());
    let mut scored: Vec<(f64, &str)> = catalog
        .operations()
        .map(|op| {
            let candidate = op.id();
            let lower = candidate.to_lowercase();
            let mut score = strsim::normalized_damerau_levenshtein(&want, &lower);
            if prefix
                .as_deref()
                .is_some_and(|p| lower.starts_with(p) && lower[p.len()..].starts_with('.'))
            {
                score += 0.5;
            }
            (score, candidate)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let mut names: Vec<&str> = Vec::new();
    for (_, name) in scored {
        if !names.contains(&name) {
            names.push(name);
        }
        if names.len() == NEAREST {
            break;
        }
    }
    let e = PrepareError::UnknownOperation {
        name: id.to_string(),
    };
    if names.is_empty() {
        return format!("api.{id}: {e}");
    }
    format!(
        "api.{id}: {e}; nearest ids: {}",
        names
            .iter()
            .map(|n| format!("api.{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
