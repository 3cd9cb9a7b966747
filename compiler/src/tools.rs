//! What the agent-facing tools answer (`opcat serve`): compact search hits within a token
//! budget, a contract with its calling notes, and a call's outcome, as text for a model.
//!
//! The MCP glue lives in the binary (`serve.rs`); these functions are plain so they can be
//! tested without a protocol in between.

use opcat_runtime::{Catalog, Operation, SearchOptions};
use serde_json::Value as Json;

use crate::exec::{CallError, Executor, Paging, Response};
use crate::render::measure::count_tokens;

/// Default token budget of one `search` answer (o200k_base).
pub const SEARCH_BUDGET: u32 = 1500;
/// Most hits one `search` returns.
pub const MAX_LIMIT: usize = 25;
/// Most characters of a `call` answer; longer bodies are cut with a note.
pub const MAX_CALL_CHARS: usize = 60_000;

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

/// The `search` answer: hits best first, each `id  METHOD  summary` and its compact
/// signature, within `budget` tokens; hits past the budget keep their first line only.
pub fn search_text(
    catalog: &Catalog,
    query: &str,
    area: Option<&str>,
    limit: Option<usize>,
    budget: u32,
) -> Result<String, opcat_runtime::Error> {
    let opts = SearchOptions {
        limit: limit.unwrap_or(8).clamp(1, MAX_LIMIT),
        area: area.filter(|a| !a.is_empty()).map(str::to_string),
        ..SearchOptions::default()
    };
    let result = catalog.search(query, &opts)?;
    if result.hits.is_empty() {
        let mut msg = format!("No operation matches {query:?}");
        if let Some(a) = &opts.area {
            msg.push_str(&format!(" in area {a:?}"));
        }
        msg.push_str(". Try other words (what the API does, not how), or no area.");
        return Ok(msg);
    }
    let mut out = String::new();
    if result.weak {
        out.push_str("Weak matches only; the closest operations:\n");
    }
    const NEXT: &str =
        "Next: `contract` with an id for its argument and result types, or `call` it directly.";
    let cut_note = |cut: usize| {
        format!(
            "({cut} signature(s) left out to stay within {budget} tokens; `contract` shows any)\n"
        )
    };
    // The closing lines are paid for first, so the whole answer stays within the budget.
    let mut used = count_tokens(&out) + count_tokens(NEXT) + count_tokens(&cut_note(MAX_LIMIT));
    let mut cut = 0;
    for h in &result.hits {
        let op = h.op;
        let head = format!(
            "{}  {}{}  {}\n",
            op.id(),
            op.method(),
            if op.read_only() { "" } else { " (writes)" },
            op.summary()
        );
        let sig = format!("  {}\n", compact_signature(op.signature()));
        let (th, ts) = (count_tokens(&head), count_tokens(&sig));
        if used + th + ts <= budget {
            out.push_str(&head);
            out.push_str(&sig);
            used += th + ts;
        } else if used + th <= budget {
            out.push_str(&head);
            used += th;
            cut += 1;
        } else {
            cut += 1;
        }
    }
    if cut > 0 {
        out.push_str(&cut_note(cut));
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
    s.push_str(
        "\n// Call with `call`: {\"id\": \"<this id>\", \"args\": {<the fields of args>}}. \
         organization and api-version are filled in for you.\n",
    );
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
            let param = catalog.operation(id).and_then(|op| {
                op.record()
                    .continuation_param
                    .as_ref()
                    .map(|p| p.to_string())
            });
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
