//! Measuring contracts: o200k token counts, the raw JSON Schema baseline, and coverage of
//! response fields (declared, and seen in recorded examples) by the rendered contract.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{CORRECTED_TYPES, Contract, arguments, corrected, is_json, ts};
use crate::ir::{Catalog, Document, Operation, Property, Ty, TypeSpace};

/// Default depth of named-type inlining in [`raw_schema`].
pub const RAW_DEPTH: usize = 3;

/// o200k_base tokens of `text`, as tiktoken counts them (the tokenizer's data is embedded;
/// no download).
pub fn count_tokens(text: &str) -> u32 {
    let n = bpe_openai::o200k_base().count(text);
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Loads the tokenizer's tables (about 50 ms, once per process) now, so that a build can do
/// it on a spare thread while it compiles instead of in the render stage.
pub fn warm_up() {
    bpe_openai::o200k_base();
}

/// [`count_tokens`] remembered by piece, for a whole catalog: versions of an area repeat
/// most signatures and contracts word for word, and contracts of one document repeat the
/// declarations of the types they share. A text is counted as the sum of its pieces (see
/// [`pieces`]), each remembered by its 128-bit xxh3; the sum is exactly the count of the
/// whole text (test `pieces_add_up_to_the_whole`). Shared by threads; a count is the same
/// whichever thread makes it, so the output does not depend on scheduling.
#[derive(Debug, Default)]
pub struct TokenCounts(std::sync::Mutex<foldhash::HashMap<u128, u32>>);

impl TokenCounts {
    pub fn count(&self, text: &str) -> u32 {
        let keyed: Vec<(u128, &str)> = pieces(text)
            .map(|p| (xxhash_rust::xxh3::xxh3_128(p.as_bytes()), p))
            .collect();
        let mut known: Vec<Option<u32>> = match self.0.lock() {
            Ok(m) => keyed.iter().map(|(k, _)| m.get(k).copied()).collect(),
            Err(_) => vec![None; keyed.len()],
        };
        let mut fresh = Vec::new();
        for ((key, piece), n) in keyed.iter().zip(&mut known) {
            if n.is_none() {
                let c = count_tokens(piece);
                *n = Some(c);
                fresh.push((*key, c));
            }
        }
        if !fresh.is_empty()
            && let Ok(mut m) = self.0.lock()
        {
            m.extend(fresh);
        }
        known.into_iter().flatten().fold(0u32, u32::saturating_add)
    }
}

/// `text` cut where o200k's pre-tokenizer always cuts, so that the token counts of the
/// pieces add up to the count of the text: before a line that starts with a printable
/// ASCII character other than `/`. No pre-token reaches across a newline into such a
/// character (only whitespace runs and the `[\r\n/]*` tail of a punctuation run do), and
/// the pattern looks behind nothing, so each piece splits as it would alone. In a contract
/// the cuts fall before `interface`, `type`, `}` and the signature's lines, so a type's
/// declaration is one piece that every contract showing it shares.
pub fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut at = 1;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        while at < bytes.len() {
            let cut = bytes[at - 1] == b'\n' && bytes[at].is_ascii_graphic() && bytes[at] != b'/';
            at += 1;
            if cut {
                let piece = &text[start..at - 1];
                start = at - 1;
                return Some(piece);
            }
        }
        let piece = &text[start..];
        start = bytes.len();
        Some(piece)
    })
}

/// The types one level below `ty` (property types, map values), pushing every named type
/// passed through on the way (references, `allOf` parts, union variants, array items).
pub fn shape_names<'t>(ty: &'t Ty, types: &'t TypeSpace, names: &mut Vec<String>) -> Vec<&'t Ty> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    walk_shape(ty, types, names, &mut out, &mut seen);
    out
}

fn walk_shape<'t>(
    ty: &'t Ty,
    types: &'t TypeSpace,
    names: &mut Vec<String>,
    out: &mut Vec<&'t Ty>,
    seen: &mut BTreeSet<&'t str>,
) {
    match ty {
        Ty::Ref { name } => {
            if !names.contains(name) {
                names.push(name.clone());
            }
            if seen.insert(name)
                && let Some(d) = types.get(name)
            {
                walk_shape(&d.ty, types, names, out, seen);
            }
        }
        Ty::Nullable { inner: t } | Ty::Array { items: t } => {
            walk_shape(t, types, names, out, seen)
        }
        Ty::Map { values } => out.push(values),
        Ty::Object {
            properties,
            additional,
        } => {
            out.extend(properties.iter().map(|p| &p.ty));
            if let Some(a) = additional {
                out.push(a);
            }
        }
        Ty::AllOf { parts: v } | Ty::OneOf { variants: v } | Ty::AnyOf { variants: v } => {
            for t in v {
                walk_shape(t, types, names, out, seen);
            }
        }
        _ => {}
    }
}

/// One key position of a resolved object shape.
#[derive(Debug, Clone)]
enum Field<'t> {
    Prop(&'t Property, Vec<&'t str>),
    /// Any key (a map or `additionalProperties`), with its value type.
    Dynamic(&'t Ty, Vec<&'t str>),
    /// No schema: any key, but nothing is declared.
    Unknown(Vec<&'t str>),
}

/// The key positions of `ty`, each with the named types passed through to reach it.
fn fields<'t>(ty: &'t Ty, types: &'t TypeSpace) -> Vec<Field<'t>> {
    fn go<'t>(
        ty: &'t Ty,
        types: &'t TypeSpace,
        via: &mut Vec<&'t str>,
        out: &mut Vec<Field<'t>>,
        seen: &mut BTreeSet<&'t str>,
    ) {
        match ty {
            Ty::Ref { name } => {
                if seen.insert(name)
                    && let Some(d) = types.get(name)
                {
                    via.push(name);
                    go(&d.ty, types, via, out, seen);
                    via.pop();
                }
            }
            Ty::Nullable { inner: t } | Ty::Array { items: t } => go(t, types, via, out, seen),
            Ty::Map { values } => out.push(Field::Dynamic(values, via.clone())),
            Ty::Object {
                properties,
                additional,
            } => {
                for p in properties {
                    out.push(Field::Prop(p, via.clone()));
                }
                if let Some(a) = additional {
                    out.push(Field::Dynamic(a, via.clone()));
                } else if properties.is_empty() {
                    // `{type: object}`: rendered as `Record<string, unknown>`.
                    out.push(Field::Unknown(via.clone()));
                }
            }
            Ty::AllOf { parts: v } | Ty::OneOf { variants: v } | Ty::AnyOf { variants: v } => {
                for t in v {
                    go(t, types, via, out, seen);
                }
            }
            Ty::Any => out.push(Field::Unknown(via.clone())),
            _ => {}
        }
    }
    let mut out = Vec::new();
    go(ty, types, &mut Vec::new(), &mut out, &mut BTreeSet::new());
    out
}

/// Coverage of response keys by a contract.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Keys checked.
    pub keys: usize,
    /// Keys the contract shows.
    pub present: usize,
    pub misses: Vec<Miss>,
}

/// A key the contract does not show, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Miss {
    pub id: String,
    /// Dotted key path (`value.createdBy`); array levels are transparent.
    pub path: String,
    pub reason: String,
}

impl Coverage {
    fn add(&mut self, other: Coverage) {
        self.keys += other.keys;
        self.present += other.present;
        self.misses.extend(other.misses);
    }

    /// Present keys as a percentage (100 when there is nothing to check).
    pub fn percent(&self) -> f64 {
        if self.keys == 0 {
            100.0
        } else {
            100.0 * self.present as f64 / self.keys as f64
        }
    }
}

struct Checker<'a> {
    op: &'a Operation,
    contract: &'a Contract,
    text: String,
    declared: BTreeSet<&'a str>,
    cov: Coverage,
    /// Walking corrected types: a corrected type is not a miss.
    corrected_ok: bool,
}

impl<'a> Checker<'a> {
    fn new(op: &'a Operation, contract: &'a Contract) -> Self {
        Checker {
            op,
            contract,
            text: contract.text(),
            declared: contract.declared.iter().map(String::as_str).collect(),
            cov: Coverage::default(),
            corrected_ok: false,
        }
    }

    fn miss(&mut self, path: &str, reason: String) {
        self.cov.misses.push(Miss {
            id: self.op.id.clone(),
            path: path.to_string(),
            reason,
        });
    }

    /// Whether the contract shows this key: every named type on the way is declared, and
    /// the key is written as a property.
    fn shows(&mut self, path: &str, via: &[&str], key: Option<&str>) -> bool {
        self.cov.keys += 1;
        if let Some(fixed) = via
            .iter()
            .find(|n| !self.corrected_ok && CORRECTED_TYPES.contains(n))
        {
            self.miss(
                path,
                format!("`{fixed}` is shown as the service sends it, not as the spec declares it"),
            );
            return false;
        }
        if let Some(hidden) = via.iter().find(|n| !self.declared.contains(**n)) {
            let reason = if self.contract.collapsed.iter().any(|c| c == hidden) {
                format!("type `{hidden}` is not expanded in the contract")
            } else {
                format!("type `{hidden}` is not in the contract")
            };
            self.miss(path, reason);
            return false;
        }
        if let Some(k) = key {
            let k = ts::key(k);
            if !self.text.contains(&format!("{k}:")) && !self.text.contains(&format!("{k}?:")) {
                self.miss(path, "key not written in the contract text".into());
                return false;
            }
        }
        self.cov.present += 1;
        true
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Are the declared response fields at depth 1 and 2 all in the contract? Checked against
/// the spec's types: fields of a [`CORRECTED_TYPES`] type count as misses, with the reason.
pub fn field_coverage(op: &Operation, doc: &Document, contract: &Contract) -> Coverage {
    let mut c = Checker::new(op, contract);
    let Some(root) = op
        .returns
        .ty
        .as_ref()
        .filter(|_| op.returns.content_type.as_deref().is_none_or(is_json))
    else {
        return c.cov;
    };
    for f in fields(root, &doc.types) {
        let (path, next) = match &f {
            Field::Prop(p, via) => {
                c.shows(&p.name, via, Some(&p.name));
                (p.name.clone(), &p.ty)
            }
            Field::Dynamic(t, _) => ("*".to_string(), *t),
            Field::Unknown(_) => continue,
        };
        for g in fields(next, &doc.types) {
            if let Field::Prop(p, via) = &g {
                c.shows(&join(&path, &p.name), via, Some(&p.name));
            }
        }
    }
    c.cov
}

/// Are the keys at depth 1 and 2 of every recorded example response in the contract?
/// Checked against the types as contracts show them ([`corrected`]).
pub fn example_coverage(op: &Operation, doc: &Document, contract: &Contract) -> Coverage {
    let doc = &*corrected(doc);
    let mut c = Checker::new(op, contract);
    c.corrected_ok = true;
    for ex in &op.examples {
        let Some(body) = ex.response.as_deref() else {
            continue;
        };
        if !matches!(body, Value::Object(_) | Value::Array(_)) {
            continue;
        }
        if ex.status.as_deref().is_some_and(|s| !s.starts_with('2')) {
            continue; // an error example; contracts show the success shape
        }
        match (&op.returns.ty, op.returns.content_type.as_deref()) {
            (Some(ty), ct) if ct.is_none_or(is_json) => {
                example_keys(&mut c, body, ty, &doc.types, 1, "");
            }
            (_, ct) => {
                let mut paths = Vec::new();
                key_paths(body, 1, "", &mut paths);
                let reason = match ct {
                    Some(ct) => format!("response is `{ct}`, shown as such"),
                    None => "the spec declares no response body".into(),
                };
                for p in paths {
                    c.cov.keys += 1;
                    c.miss(&p, reason.clone());
                }
            }
        }
    }
    c.cov
}

fn key_paths(v: &Value, depth: usize, path: &str, out: &mut Vec<String>) {
    if depth > 2 {
        return;
    }
    match v {
        Value::Array(a) => a.iter().for_each(|i| key_paths(i, depth, path, out)),
        Value::Object(m) => {
            for (k, v) in m {
                let here = join(path, k);
                out.push(here.clone());
                key_paths(v, depth + 1, &here, out);
            }
        }
        _ => {}
    }
}

/// What a type is, in a word, after references, `nullable` and arrays.
fn kind_of(ty: &Ty, types: &TypeSpace) -> &'static str {
    let mut t = ty;
    for _ in 0..16 {
        t = match t {
            Ty::Ref { name } => match types.get(name) {
                Some(d) => &d.ty,
                None => return "an unknown type",
            },
            Ty::Nullable { inner } | Ty::Array { items: inner } => inner,
            Ty::String { .. } => return "a string",
            Ty::Integer { .. } | Ty::Number { .. } => return "a number",
            Ty::Boolean => return "a boolean",
            Ty::Literal { .. } => return "a literal",
            Ty::Binary => return "bytes",
            Ty::Null => return "null",
            _ => return "a type without properties",
        };
    }
    "a type without properties"
}

fn example_keys(
    c: &mut Checker<'_>,
    v: &Value,
    ty: &Ty,
    types: &TypeSpace,
    depth: usize,
    path: &str,
) {
    if depth > 2 {
        return;
    }
    match v {
        Value::Array(items) => {
            for item in items {
                example_keys(c, item, ty, types, depth, path);
            }
        }
        Value::Object(m) => {
            let fs = fields(ty, types);
            for (k, val) in m {
                let here = join(path, k);
                let found = fs.iter().find_map(|f| match f {
                    Field::Prop(p, via) if p.name == *k => Some((Some(&p.ty), via.clone(), true)),
                    _ => None,
                });
                let found = found.or_else(|| {
                    fs.iter().find_map(|f| match f {
                        Field::Dynamic(t, via) => Some((Some(*t), via.clone(), false)),
                        _ => None,
                    })
                });
                match found {
                    Some((next, via, named)) => {
                        let key = named.then_some(k.as_str());
                        c.shows(&here, &via, key);
                        if let Some(next) = next {
                            example_keys(c, val, next, types, depth + 1, &here);
                        }
                    }
                    None => {
                        c.cov.keys += 1;
                        let unknown = fs.iter().find_map(|f| match f {
                            Field::Unknown(via) => Some(via.last().copied()),
                            _ => None,
                        });
                        let owner = |via: Option<&str>| match via {
                            Some(n) => format!("`{n}`"),
                            None => "the inline response object".to_string(),
                        };
                        let reason = match unknown {
                            Some(via) => format!(
                                "{} has no declared properties (`Record<string, unknown>`)",
                                owner(via)
                            ),
                            None if fs.is_empty() => format!(
                                "the spec declares `{}` as {}, not an object",
                                if path.is_empty() {
                                    "the response"
                                } else {
                                    path
                                },
                                kind_of(ty, types)
                            ),
                            None => {
                                let owner_name = fs.iter().find_map(|f| match f {
                                    Field::Prop(_, via) => via.last().copied(),
                                    _ => None,
                                });
                                format!("not declared in the spec ({})", owner(owner_name))
                            }
                        };
                        c.miss(&here, reason);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The raw baseline of an operation: its arguments (bound parameters left out, as in the
/// contract), request body and declared 2xx response as JSON Schema, named types inlined
/// `depth` levels deep (deeper, or recursive, ones stay `$ref`), with the spec's
/// descriptions, formats and enums; serialized compactly by [`raw_tokens`].
pub fn raw_schema(op: &Operation, doc: &Document, depth: usize) -> Value {
    let r = Raw {
        types: &doc.types,
        depth,
    };
    let mut stack = Vec::new();
    let params: Vec<Value> = arguments(op)
        .into_iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("name".into(), json!(p.name));
            m.insert(
                "in".into(),
                serde_json::to_value(p.location).unwrap_or(Value::Null),
            );
            if p.required {
                m.insert("required".into(), json!(true));
            }
            if let Some(d) = &p.description {
                m.insert("description".into(), json!(d));
            }
            if let Some(d) = &p.default {
                m.insert("default".into(), d.clone());
            }
            m.insert("schema".into(), r.schema(&p.ty, &mut stack));
            Value::Object(m)
        })
        .collect();
    let mut out = Map::new();
    out.insert("operationId".into(), json!(op.source.operation_id));
    if let Some(d) = op.description.as_ref().or(op.summary.as_ref()) {
        out.insert("description".into(), json!(d));
    }
    out.insert("parameters".into(), Value::Array(params));
    if let Some(b) = &op.body {
        out.insert(
            "requestBody".into(),
            json!({"contentType": b.content_type, "required": b.required,
                   "schema": r.schema(&b.ty, &mut stack)}),
        );
    }
    let mut responses = Map::new();
    for resp in op.responses.iter().filter(|r| r.status.starts_with('2')) {
        let mut m = Map::new();
        if let Some(d) = &resp.description {
            m.insert("description".into(), json!(d));
        }
        if let Some(ct) = &resp.content_type {
            m.insert("contentType".into(), json!(ct));
        }
        if let Some(t) = &resp.ty {
            m.insert("schema".into(), r.schema(t, &mut stack));
        }
        responses.insert(resp.status.clone(), Value::Object(m));
    }
    out.insert("responses".into(), Value::Object(responses));
    Value::Object(out)
}

/// o200k tokens of the compact JSON of [`raw_schema`].
pub fn raw_tokens(op: &Operation, doc: &Document, depth: usize) -> u32 {
    count_tokens(&raw_schema(op, doc, depth).to_string())
}

struct Raw<'a> {
    types: &'a TypeSpace,
    depth: usize,
}

impl Raw<'_> {
    fn schema<'s>(&'s self, t: &'s Ty, stack: &mut Vec<&'s str>) -> Value {
        let fmt = |m: &mut Map<String, Value>, f: &Option<String>| {
            if let Some(f) = f {
                m.insert("format".into(), json!(f));
            }
        };
        match t {
            Ty::Ref { name } => match self.types.get(name) {
                Some(def) if stack.len() < self.depth && !stack.contains(&name.as_str()) => {
                    stack.push(name);
                    let mut v = self.schema(&def.ty, stack);
                    stack.pop();
                    if let (Some(d), Value::Object(m)) =
                        (def.description.as_ref().filter(|d| !d.is_empty()), &mut v)
                    {
                        m.insert("description".into(), json!(d));
                    }
                    v
                }
                _ => json!({"$ref": format!("#/definitions/{name}")}),
            },
            Ty::String {
                format,
                enumeration,
            } => {
                let mut m = Map::new();
                m.insert("type".into(), json!("string"));
                fmt(&mut m, format);
                if !enumeration.is_empty() {
                    m.insert("enum".into(), json!(enumeration));
                }
                Value::Object(m)
            }
            Ty::Integer {
                format,
                enumeration,
            } => {
                let mut m = Map::new();
                m.insert("type".into(), json!("integer"));
                fmt(&mut m, format);
                if !enumeration.is_empty() {
                    m.insert("enum".into(), json!(enumeration));
                }
                Value::Object(m)
            }
            Ty::Number { format } => {
                let mut m = Map::new();
                m.insert("type".into(), json!("number"));
                fmt(&mut m, format);
                Value::Object(m)
            }
            Ty::Boolean => json!({"type": "boolean"}),
            Ty::Literal { value } => json!({ "enum": [value] }),
            Ty::Array { items } => json!({"type": "array", "items": self.schema(items, stack)}),
            Ty::Map { values } => {
                json!({"type": "object", "additionalProperties": self.schema(values, stack)})
            }
            Ty::Object {
                properties,
                additional,
            } => {
                let mut m = Map::new();
                m.insert("type".into(), json!("object"));
                let mut props = Map::new();
                let mut required = Vec::new();
                for p in properties {
                    let mut s = self.schema(&p.ty, stack);
                    if let Value::Object(sm) = &mut s {
                        if let Some(d) = p.description.as_ref().filter(|d| !d.is_empty()) {
                            sm.insert("description".into(), json!(d));
                        }
                        if p.read_only {
                            sm.insert("readOnly".into(), json!(true));
                        }
                    }
                    if p.required {
                        required.push(p.name.clone());
                    }
                    props.insert(p.name.clone(), s);
                }
                if !props.is_empty() {
                    m.insert("properties".into(), Value::Object(props));
                }
                if !required.is_empty() {
                    m.insert("required".into(), json!(required));
                }
                if let Some(a) = additional {
                    m.insert("additionalProperties".into(), self.schema(a, stack));
                }
                Value::Object(m)
            }
            Ty::AllOf { parts } => {
                json!({"allOf": parts.iter().map(|p| self.schema(p, stack)).collect::<Vec<_>>()})
            }
            Ty::OneOf { variants } => {
                json!({"oneOf": variants.iter().map(|p| self.schema(p, stack)).collect::<Vec<_>>()})
            }
            Ty::AnyOf { variants }
                if !variants.is_empty()
                    && variants.iter().all(|v| matches!(v, Ty::Literal { .. })) =>
            {
                // How the spec wrote it: one `enum`.
                let values: Vec<&Value> = variants
                    .iter()
                    .filter_map(|v| match v {
                        Ty::Literal { value } => Some(value),
                        _ => None,
                    })
                    .collect();
                json!({ "enum": values })
            }
            Ty::AnyOf { variants } => {
                json!({"anyOf": variants.iter().map(|p| self.schema(p, stack)).collect::<Vec<_>>()})
            }
            Ty::Nullable { inner } => {
                let mut v = self.schema(inner, stack);
                if let Value::Object(m) = &mut v {
                    m.insert("nullable".into(), json!(true));
                }
                v
            }
            Ty::Binary => json!({"type": "string", "format": "binary"}),
            Ty::Null => json!({"type": "null"}),
            Ty::Any => json!({}),
        }
    }
}

/// The figures of `opcat contracts --stats`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub contracts: usize,
    pub budget: usize,
    pub tokens_mean: f64,
    pub tokens_p50: u32,
    pub tokens_p95: u32,
    pub tokens_max: u32,
    /// Contracts above the budget (their mandatory part alone is larger).
    pub over_budget: usize,
    /// Named-type inlining depth of the raw baseline.
    pub raw_depth: usize,
    pub raw_mean: f64,
    pub raw_p95: u32,
    /// Mean contract tokens over mean raw tokens.
    pub ratio_of_means: f64,
    /// Median of per-operation ratios.
    pub ratio_median: f64,
    /// p95 of per-operation ratios.
    pub ratio_p95: f64,
    /// Contracts per note kind (first words of the note).
    pub notes: BTreeMap<String, usize>,
    /// Declared response fields at depth 1 and 2 shown by the contract.
    pub fields: Coverage,
    /// Operations with a recorded 2xx example response.
    pub ops_with_examples: usize,
    /// Keys at depth 1 and 2 of recorded example responses shown by the contract.
    pub examples: Coverage,
}

fn percentile<T: Copy + PartialOrd>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i.min(sorted.len() - 1)).copied()
}

/// Measures rendered contracts against the catalog (`contracts[i]` belongs to operation `i`).
pub fn stats(catalog: &Catalog, contracts: &[Contract], budget: usize, raw_depth: usize) -> Stats {
    let docs: HashMap<&str, &Document> = catalog
        .documents
        .iter()
        .map(|d| (d.file.as_str(), d))
        .collect();
    let per_op: Vec<(u32, u32, Coverage, Coverage, bool)> = catalog
        .operations
        .par_iter()
        .zip(contracts.par_iter())
        .filter_map(|(op, c)| {
            let doc = docs.get(op.source.file.as_str())?;
            let has_example = op.examples.iter().any(|e| {
                e.response.is_some() && e.status.as_deref().is_none_or(|s| s.starts_with('2'))
            });
            Some((
                c.tokens,
                raw_tokens(op, doc, raw_depth),
                field_coverage(op, doc, c),
                example_coverage(op, doc, c),
                has_example,
            ))
        })
        .collect();
    let mut tokens: Vec<u32> = per_op.iter().map(|x| x.0).collect();
    let mut raw: Vec<u32> = per_op.iter().map(|x| x.1).collect();
    let mut ratios: Vec<f64> = per_op
        .iter()
        .map(|x| f64::from(x.0) / f64::from(x.1.max(1)))
        .collect();
    let n = tokens.len().max(1) as f64;
    let tokens_mean = tokens.iter().map(|&t| f64::from(t)).sum::<f64>() / n;
    let raw_mean = raw.iter().map(|&t| f64::from(t)).sum::<f64>() / n;
    tokens.sort_unstable();
    raw.sort_unstable();
    ratios.sort_by(f64::total_cmp);
    let mut notes = BTreeMap::new();
    for c in contracts {
        for note in &c.notes {
            let head = note.split(" (").next().unwrap_or(note);
            let kind = head
                .replace(|ch: char| ch.is_ascii_digit(), "")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            *notes.entry(kind).or_insert(0) += 1;
        }
    }
    let mut fields = Coverage::default();
    let mut examples = Coverage::default();
    let mut ops_with_examples = 0;
    for (_, _, f, e, has) in per_op {
        fields.add(f);
        examples.add(e);
        ops_with_examples += usize::from(has);
    }
    Stats {
        contracts: contracts.len(),
        budget,
        tokens_mean,
        tokens_p50: percentile(&tokens, 0.5).unwrap_or(0),
        tokens_p95: percentile(&tokens, 0.95).unwrap_or(0),
        tokens_max: tokens.last().copied().unwrap_or(0),
        over_budget: contracts
            .iter()
            .filter(|c| c.tokens as usize > budget)
            .count(),
        raw_depth,
        raw_mean,
        raw_p95: percentile(&raw, 0.95).unwrap_or(0),
        ratio_of_means: if raw_mean > 0.0 {
            tokens_mean / raw_mean
        } else {
            0.0
        },
        ratio_median: percentile(&ratios, 0.5).unwrap_or(0.0),
        ratio_p95: percentile(&ratios, 0.95).unwrap_or(0.0),
        notes,
        fields,
        ops_with_examples,
        examples,
    }
}
