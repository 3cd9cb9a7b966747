//! What the agent-facing tools answer (`opcat serve`, `opcat exec`): compact search hits
//! within a token budget, a contract with its calling notes, a call's outcome, and a
//! program run's outcome, as text for a model.
//!
//! The MCP glue is [`super::mcp`]; these functions are plain so they can be tested without
//! a protocol in between.

use opcat_runtime::{Catalog, Operation, SearchOptions};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value as Json;

use std::sync::Arc;

use super::Agent;
use super::http::{CallError, Executor, Paging, Response};
use super::sandbox::{self, CallRecord, Limits, Outcome, RunError};
use super::shorten;
use crate::render::measure::count_tokens;

/// Default token budget of one `search` answer (o200k_base).
pub const SEARCH_BUDGET: u32 = 2000;
/// Most hits one `search` returns.
pub const MAX_LIMIT: usize = 25;
/// Most characters of a `call` answer; longer bodies are cut with a note.
pub const MAX_CALL_CHARS: usize = 60_000;
/// Default token budget of one `execute` answer (o200k_base): `{result, logs, calls,
/// error?}` past it is shortened structurally.
pub const OUTPUT_BUDGET: u32 = 6000;

/// A signature on one line, doc comments (`/** */`) removed, inline notes (`/* uuid */`)
/// kept.
pub fn compact_signature(signature: &str) -> String {
    let mut out = String::with_capacity(signature.len());
    let mut rest = signature;
    while let Some(start) = rest.find("/**") {
        out.push_str(&rest[..start]);
        match rest[start..].find("*/") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let mut joined = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [("{ ", "{"), (" }", "}"), ("; }", "}"), (";}", "}")] {
        joined = joined.replace(from, to);
    }
    joined
}

/// The declaration a program calls: `api.<id>(args: {...}): Promise<R>;` on one line, from
/// the operation's signature (`name(args...)`).
pub fn api_declaration(op: &Operation<'_>) -> String {
    let sig = compact_signature(op.signature());
    let params = sig.find('(').map_or("(): Promise<unknown>;", |i| &sig[i..]);
    format!("api.{}{params}", op.id())
}

/// The inputs a search answer shows for a declared hit ([`Operation::inputs`]), the
/// project aside: it is the one the task names, its lookup is not worth a line.
pub fn shown_inputs<'a>(
    op: Operation<'a>,
) -> impl Iterator<Item = (&'a str, Operation<'a>, &'a str)> + use<'a> {
    op.inputs()
        .filter(|(param, ..)| !param.eq_ignore_ascii_case("project"))
}

/// Default hits per query.
pub const DEFAULT_LIMIT: usize = 6;
/// Hits per query shown with their declaration; later ones get their first line only.
pub const DECLARED_PER_QUERY: usize = 3;
/// Budget added per query past the first (several intents in one search).
pub const BUDGET_PER_EXTRA_QUERY: u32 = 800;
/// Most queries one search answers.
pub const MAX_QUERIES: usize = 8;

/// The `search` answer for one or more queries: per query, its hits best first; the first
/// ones as `api.<id>(args): Promise<R>` with the result's key fields, the rest as one line.
/// An operation already shown for an earlier query is named, not repeated. The whole answer
/// stays within `budget` tokens (plus [`BUDGET_PER_EXTRA_QUERY`] per extra query).
pub fn search_text(
    catalog: &Catalog,
    queries: &[String],
    area: Option<&str>,
    limit: Option<usize>,
    budget: u32,
) -> Result<String, opcat_runtime::Error> {
    let queries: Vec<&str> = queries
        .iter()
        .map(|q| q.trim())
        .filter(|q| !q.is_empty())
        .take(MAX_QUERIES)
        .collect();
    let opts = SearchOptions {
        limit: limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        area: area.filter(|a| !a.is_empty()).map(str::to_string),
        ..SearchOptions::default()
    };
    let budget = budget.saturating_add(
        BUDGET_PER_EXTRA_QUERY.saturating_mul(queries.len().saturating_sub(1) as u32),
    );
    const NEXT: &str = "Next: one `execute` program that calls these in order (`const r = \
                        await api.<id>(args)`), feeding each result into the next call. \
                        `contract` shows an operation's full types.";
    let mut out = String::new();
    let mut used = count_tokens(NEXT) + 40;
    // Operations shown so far (a line at least), and those declared with their signature.
    let mut shown: Vec<usize> = Vec::new();
    let mut declared: Vec<usize> = Vec::new();
    let many = queries.len() > 1;
    for (qi, query) in queries.iter().enumerate() {
        let result = catalog.search(query, &opts)?;
        // This query's share: what is left, split over the queries still to answer.
        let left = budget.saturating_sub(used);
        let share = left / (queries.len() - qi) as u32;
        let mut spent = 0;
        let mut section = String::new();
        if many {
            section.push_str(&format!("## {query}\n"));
        }
        if result.hits.is_empty() {
            section.push_str(
                "No operation matches. Try other words (what the API does), or no area.\n",
            );
        } else if result.weak {
            section.push_str("(weak matches only: the closest operations)\n");
        }
        let mut cut = 0;
        for (rank, h) in result.hits.iter().enumerate() {
            let op = h.op;
            let head = format!(
                "{}  {}{}  {}\n",
                op.id(),
                op.method(),
                if op.read_only() { "" } else { " (writes)" },
                op.summary()
            );
            // Shown above: declared, or listed and not to be declared here.
            if declared.contains(&op.index())
                || (rank >= DECLARED_PER_QUERY && shown.contains(&op.index()))
            {
                let line = format!("{}  (shown above)\n", op.id());
                let t = count_tokens(&line);
                if spent + t <= share {
                    section.push_str(&line);
                    spent += t;
                }
                continue;
            }
            let mut full = head.clone();
            if rank < DECLARED_PER_QUERY {
                full.push_str(&format!("  {}\n", api_declaration(&op)));
                if !op.result_fields().is_empty() {
                    full.push_str(&format!("  // result: {}\n", op.result_fields()));
                }
                let inputs: Vec<String> = shown_inputs(op)
                    .map(|(param, from, field)| format!("{param} <- {} {field}", from.id()))
                    .collect();
                if !inputs.is_empty() {
                    full.push_str(&format!("  // inputs: {}\n", inputs.join("; ")));
                }
            }
            let (tf, th) = (count_tokens(&full), count_tokens(&head));
            if spent + tf <= share {
                section.push_str(&full);
                spent += tf;
                shown.push(op.index());
                if rank < DECLARED_PER_QUERY {
                    declared.push(op.index());
                }
            } else if spent + th <= share {
                section.push_str(&head);
                spent += th;
                cut += usize::from(rank < DECLARED_PER_QUERY);
            } else {
                cut += 1;
            }
        }
        if cut > 0 {
            let note = format!(
                "({cut} left out or shortened to stay within the budget; `contract` shows any)\n"
            );
            spent += count_tokens(&note);
            section.push_str(&note);
        }
        used += spent;
        out.push_str(&section);
    }
    out.push_str(NEXT);
    Ok(out)
}

/// The `contract` answer: where the call goes, the signature and types, and what can be
/// expanded; `None` when no operation has that name.
pub fn contract_text(catalog: &Catalog, id: &str, expand: &[&str]) -> Option<String> {
    let op = catalog.operation(id)?;
    let contract = catalog.contract(id, expand)?;
    let mut out = header(&op);
    out.push_str(&contract);
    let collapsed: Vec<&str> = op.collapsed().filter(|c| !expand.contains(c)).collect();
    if !collapsed.is_empty() {
        out.push_str(&format!(
            "\n// Not declared above (pass them in `expand` to see them): {}",
            collapsed.join(", ")
        ));
    }
    for n in op.notes() {
        out.push_str(&format!("\n// note: {n}"));
    }
    Some(out)
}

fn header(op: &Operation<'_>) -> String {
    let mut s = format!(
        "// {}: {} {}{}",
        op.id(),
        op.method(),
        op.server(),
        op.path()
    );
    if let Some(v) = op.api_version() {
        s.push_str(&format!(" (api-version {v})"));
    }
    s.push_str(&format!(
        "\n// In `execute`: `await api.{}(args)`; or `call` {{\"id\": \"<this id>\", \"args\": \
         {{<the fields of args>}}}}. organization and api-version are filled in for you.\n",
        op.id()
    ));
    s
}

/// The `call` answer: `Ok(text)` is the JSON body (with a paging note); `Err(text)` a
/// message for the model (every argument problem with the signature, or the server's
/// status and message).
pub fn call_text(
    executor: &Executor,
    catalog: &Catalog,
    id: &str,
    args: &Json,
    paging: Paging,
) -> Result<String, String> {
    match executor.call(catalog, id, args, paging) {
        Ok(r) => {
            let param = catalog
                .operation(id)
                .and_then(|op| op.core().continuation_param.as_ref().map(|p| p.to_string()));
            Ok(response_text(&r, param.as_deref()))
        }
        Err(e) => Err(error_text(&e)),
    }
}

/// `param`: the operation's continuation argument, named in the paging note.
fn response_text(r: &Response, param: Option<&str>) -> String {
    let mut text = serde_json::to_string(&r.body).unwrap_or_default();
    if text.len() > MAX_CALL_CHARS {
        let mut end = MAX_CALL_CHARS;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(&format!(
            "\n[cut at {MAX_CALL_CHARS} characters: ask for less ($top, filters)]"
        ));
    }
    if r.pages > 1 {
        text.push_str(&format!("\n[{} pages merged]", r.pages));
    }
    if let Some(t) = &r.continuation {
        let next = match param {
            Some(p) => format!("or pass {p:?}: {t:?} in args"),
            None => format!("continuation token {t:?}"),
        };
        text.push_str(&format!(
            "\n[more results: call again with all_pages: true, {next}]"
        ));
    }
    text
}

fn error_text(e: &CallError) -> String {
    match e {
        CallError::Status { body: Some(b), .. } if b.get("message").is_none() => {
            format!("{e}\n{b}")
        }
        _ => e.to_string(),
    }
}

/// What `execute` and `opcat exec --json` answer: the run's outcome within a token budget
/// (`schemas/exec.schema.json`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ExecAnswer {
    /// The program's returned value (`null` when none), shortened structurally past the
    /// budget: arrays keep their first items and end with a note of how many were left out,
    /// long strings are cut with a note.
    pub result: Json,
    /// `console` lines; levels other than `log` are prefixed (`[warn] ...`).
    pub logs: Vec<String>,
    /// Every operation call made, in order: id, method, status, milliseconds.
    pub calls: Vec<CallRecord>,
    /// Why the run failed: the error with its line, or the limit that stopped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
    /// What was shortened to fit the budget.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Runs a program for a model: the outcome, and the answer within `budget` tokens.
pub fn execute(
    agent: &Arc<Agent>,
    code: &str,
    limits: &Limits,
    budget: u32,
) -> (Outcome, ExecAnswer) {
    let outcome = sandbox::run(code, limits, agent.clone());
    let answer = answer(&outcome, budget);
    (outcome, answer)
}

/// An outcome within `budget` tokens: logs and calls get at most a quarter each (the middle
/// of the logs, and successful calls past the first ones, are left out first), the error is
/// kept whole, the result gets the rest and is shortened structurally.
pub fn answer(outcome: &Outcome, budget: u32) -> ExecAnswer {
    let quarter = (budget / 4).max(64);
    let mut notes = Vec::new();
    let mut logs = outcome.logs.clone();
    if budget != u32::MAX && json_tokens(&logs) > quarter {
        let all = logs.len();
        let (mut head, mut tail) = (Vec::new(), Vec::new());
        let mut used = 0;
        let (mut i, mut j) = (0, all);
        while i < j {
            let line = if head.len() <= tail.len() {
                &logs[i]
            } else {
                &logs[j - 1]
            };
            let t = count_tokens(line) + 1;
            if used + t > quarter {
                break;
            }
            used += t;
            if head.len() <= tail.len() {
                head.push(logs[i].clone());
                i += 1;
            } else {
                tail.push(logs[j - 1].clone());
                j -= 1;
            }
        }
        let left = j - i;
        tail.reverse();
        head.push(format!("[{left} console line(s) left out]"));
        head.extend(tail);
        logs = head;
        notes.push(format!(
            "logs: {left} of {all} lines left out to fit {budget} tokens"
        ));
    }
    let mut calls = outcome.calls.clone();
    if budget != u32::MAX && json_tokens(&calls) > quarter {
        let all = calls.len();
        let mut kept: Vec<CallRecord> = Vec::new();
        let mut used = 0;
        // Failed calls first (they explain an error), then the earliest.
        let order = calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.error.is_some())
            .chain(calls.iter().enumerate().filter(|(_, c)| c.error.is_none()));
        let mut picked: Vec<usize> = Vec::new();
        for (i, c) in order {
            let t = json_tokens(c);
            if used + t > quarter {
                break;
            }
            used += t;
            picked.push(i);
        }
        picked.sort_unstable();
        for i in picked {
            kept.push(calls[i].clone());
        }
        notes.push(format!(
            "calls: {} of {all} left out to fit {budget} tokens (failed calls kept first)",
            all - kept.len()
        ));
        calls = kept;
    }
    let mut answer = ExecAnswer {
        result: Json::Null,
        logs,
        calls,
        error: outcome.error.clone(),
        notes,
    };
    if budget == u32::MAX {
        answer.result = outcome.result.clone();
        return answer;
    }
    // The result gets what the rest leaves, with room for its note.
    let rest = json_tokens(&answer) + 60;
    let s = shorten::shorten(&outcome.result, budget.saturating_sub(rest).max(64));
    if s.cut {
        answer.notes.push(format!(
            "result shortened to fit {budget} tokens (notes inside say what was left out): \
             return fewer items or fields"
        ));
    }
    answer.result = s.value;
    answer
}

/// Tokens of a value's compact JSON.
fn json_tokens<T: Serialize>(v: &T) -> u32 {
    count_tokens(&serde_json::to_string(v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_compact() {
        let sig = "/** Get a thing. */\nget(args: {\n  /** The id */\n  id: string /* uuid */;\n  \
                   $top?: number;\n}): Promise<Thing>;";
        assert_eq!(
            compact_signature(sig),
            "get(args: {id: string /* uuid */; $top?: number}): Promise<Thing>;"
        );
    }

    #[test]
    fn paging_note_names_the_continuation_argument() {
        let r = Response {
            status: 200,
            body: serde_json::json!({"count": 1, "value": [1]}),
            pages: 1,
            continuation: Some("abc".into()),
        };
        let text = response_text(&r, Some("continuationToken"));
        assert!(
            text.ends_with(
                "[more results: call again with all_pages: true, or pass \"continuationToken\": \"abc\" in args]"
            ),
            "{text}"
        );
        assert!(response_text(&r, None).contains("continuation token \"abc\""));
    }
}
