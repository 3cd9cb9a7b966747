//! Stage 6, render: each operation as a TypeScript contract an agent can read in few tokens.
//!
//! A contract is a method signature with a one-line doc comment, its arguments as one
//! object and its real return type, plus the declarations of the named types it uses:
//!
//! ```text
//! /** Retrieve all pull requests matching a specified criteria. */
//! getPullRequestsByProject(args: {
//!   /** Project ID or project name */
//!   project: string;
//!   "searchCriteria.status"?: PullRequestStatus;
//!   $top?: number;
//! }): Promise<{ count: number; value: GitPullRequest[] }>;
//!
//! interface GitPullRequest { ... }
//! type PullRequestStatus = "notSet" | "active" | "abandoned" | "completed" | "all";
//! ```
//!
//! Conventions (see `docs/contracts.md`): the executor binds the `organization` path
//! parameter and `api-version`, so they are not arguments; the request body is the
//! argument `body`; header parameters are arguments under their header name; the return
//! type is [`Operation::returns`] (already envelope-corrected).
//!
//! Trimming is explicit: past [`RenderOptions::token_budget`] descriptions are cut to their
//! first sentence, then named types farthest from the signature are left unexpanded
//! (referenced by name, listed in [`Contract::collapsed`] and on the last line), then
//! property descriptions of named types go. Independently of the budget, named types more
//! than [`RenderOptions::expand_depth`] levels from the signature stay named, properties
//! keep descriptions only in types the signature names ([`PROP_DOC_DEPTH`]), and
//! [`NOISE_TYPES`] are not expanded. Types needed to show every response field at
//! depth 1 and 2, and the types arguments name directly, are always expanded. Every step
//! taken is written to [`Contract::notes`].

pub mod keys;
pub mod measure;
pub mod ts;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

use crate::ir::{
    Catalog, Correction, Document, Operation, Param, ParamIn, Property, Ty, TypeDef, TypeSpace,
};
use ts::{Names, Style, Writer, doc_text};

/// Default [`RenderOptions::token_budget`]: o200k tokens per contract.
pub const DEFAULT_TOKEN_BUDGET: usize = 1500;

/// Named types that are never expanded unless needed for response depth 1-2 or asked for:
/// they carry no information a caller plans with (`_links` is a bag of URLs).
pub const NOISE_TYPES: &[&str] = &["ReferenceLinks"];

/// Default [`RenderOptions::expand_depth`].
pub const DEFAULT_EXPAND_DEPTH: usize = 2;

/// Properties of named types at most this many levels from the signature keep their
/// descriptions (deeper types show names and types only).
pub const PROP_DOC_DEPTH: usize = 1;

/// Spec types rendered as the service really sends them (see [`corrected`]).
pub const CORRECTED_TYPES: &[&str] = &["ReferenceLinks"];

/// The document as contracts show it: spec types that recorded examples contradict are
/// replaced. Today one: `ReferenceLinks` is declared as `{ links: Record<string, object> }`
/// but every recorded `_links` (1258 in the 7.x examples) is the map itself,
/// `{ "self": { "href": "..." } }`; it becomes `Record<string, { href: string }>`.
/// Only the exact declared shape is replaced, so a fixed spec is left alone.
pub fn corrected(doc: &Document) -> Cow<'_, Document> {
    let Some(def) = doc.types.get("ReferenceLinks") else {
        return Cow::Borrowed(doc);
    };
    let declared = matches!(&def.ty, Ty::Object { properties, additional: None }
        if properties.len() == 1 && properties[0].name == "links"
            && matches!(properties[0].ty, Ty::Map { .. }));
    if !declared {
        return Cow::Borrowed(doc);
    }
    let mut doc = doc.clone();
    let href = Ty::Object {
        properties: vec![Property {
            name: "href".into(),
            ty: Ty::String {
                format: None,
                enumeration: vec![],
            },
            required: true,
            read_only: false,
            description: None,
        }],
        additional: None,
    };
    doc.types.insert(
        "ReferenceLinks".into(),
        TypeDef {
            description: Some("REST links by relation name (`self`, `web`, ...).".into()),
            ty: Ty::Map {
                values: Box::new(href),
            },
            enum_docs: vec![],
            recursive: false,
        },
    );
    Cow::Owned(doc)
}

/// Path and query parameters the executor binds; they are not contract arguments.
pub const BOUND_PARAMS: &[(&str, ParamIn)] = &[
    ("organization", ParamIn::Path),
    ("api-version", ParamIn::Query),
    // On premises (`/{collection}/...`): the last segment of the configured server URL.
    ("collection", ParamIn::Path),
];

/// How to render contracts.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Token budget per contract (o200k_base). Default [`DEFAULT_TOKEN_BUDGET`].
    pub token_budget: usize,
    /// Named types to expand whatever the budget (spec names or rendered identifiers).
    pub expand: Vec<String>,
    /// Named types at most this many levels from the signature are expanded (1 = those
    /// the signature names); deeper ones are referenced by name. Types needed for
    /// response depth 1-2 are expanded whatever this says.
    pub expand_depth: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            token_budget: DEFAULT_TOKEN_BUDGET,
            expand: Vec::new(),
            expand_depth: DEFAULT_EXPAND_DEPTH,
        }
    }
}

/// One rendered operation contract.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Contract {
    /// The operation id (`git.pullRequests.getPullRequestsByProject`).
    pub id: String,
    /// The doc comment and the method signature.
    pub signature: String,
    /// Declarations of the named types shown, one piece per type (shared with every
    /// contract of the document that shows the type the same way), then a
    /// `// Not expanded` line if any were not; in JSON, one text.
    #[serde(serialize_with = "joined")]
    #[schemars(with = "String")]
    pub declarations: Vec<Arc<String>>,
    /// o200k_base tokens of [`Contract::text`].
    pub tokens: u32,
    /// What was trimmed and why; empty when the contract is complete within budget.
    pub notes: Vec<String>,
    /// Spec names of the types declared, in declaration order.
    pub declared: Vec<String>,
    /// Spec names of named types referenced but not declared (expand them by name).
    pub collapsed: Vec<String>,
    /// The result's key fields on one line ([`keys::result_fields`]); may be empty.
    pub result_fields: String,
}

impl Contract {
    /// What an agent reads: the signature, a blank line, the declarations.
    pub fn text(&self) -> String {
        if self.declarations.is_empty() {
            self.signature.clone()
        } else {
            format!("{}\n{}", self.signature, self.declarations_text())
        }
    }

    /// The declarations as one text.
    pub fn declarations_text(&self) -> String {
        join(&self.declarations)
    }
}

fn join(pieces: &[Arc<String>]) -> String {
    pieces.iter().map(|p| p.as_str()).collect()
}

fn joined<S: serde::Serializer>(pieces: &[Arc<String>], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&join(pieces))
}

/// Renders every operation (in parallel); output is in operation order.
pub fn render_catalog(c: &Catalog, opts: &RenderOptions) -> Vec<Contract> {
    let docs: HashMap<&str, (Cow<'_, Document>, Names, DeclMemo)> = c
        .documents
        .par_iter()
        .map(|d| {
            (
                d.file.as_str(),
                (corrected(d), Names::new(d), DeclMemo::default()),
            )
        })
        .collect();
    let empty = Document {
        file: String::new(),
        title: String::new(),
        version: String::new(),
        dialect: String::new(),
        types: TypeSpace::new(),
    };
    let empty_names = Names::default();
    let empty_memo = DeclMemo::default();
    let counts = measure::TokenCounts::default();
    c.operations
        .par_iter()
        .with_max_len(crate::PAR_LEN)
        .map(|op| match docs.get(op.source.file.as_str()) {
            Some((doc, names, memo)) => render_with(op, doc, names, memo, &counts, opts),
            None => {
                let mut c = render_with(op, &empty, &empty_names, &empty_memo, &counts, opts);
                c.notes.push(format!(
                    "document `{}` is not in the catalog: named types are unknown",
                    op.source.file
                ));
                c
            }
        })
        .collect()
}

/// Renders one operation's contract; `doc` is the document named by `op.source.file`.
pub fn render(op: &Operation, doc: &Document, opts: &RenderOptions) -> Contract {
    render_with(
        op,
        &corrected(doc),
        &Names::new(doc),
        &DeclMemo::default(),
        &measure::TokenCounts::default(),
        opts,
    )
}

/// The declarations of every named type of `doc` (first-sentence docs), in the type
/// space's order, spec name first: [`render_type`] for a whole document, with the
/// corrected document and its identifiers made once rather than once per type.
pub fn render_types(doc: &Document) -> Vec<(&str, String)> {
    let corrected = corrected(doc);
    let names = Names::new(&corrected);
    doc.types
        .keys()
        .filter_map(|name| Some((name.as_str(), declare(&corrected, &names, name)?)))
        .collect()
}

/// The declaration of one named type (first-sentence docs), for expansion on request.
pub fn render_type(name: &str, doc: &Document) -> Option<String> {
    let doc = corrected(doc);
    declare(&doc, &Names::new(&doc), name)
}

/// The first-sentence declaration of `name` in a corrected document with its identifiers.
fn declare(doc: &Document, names: &Names, name: &str) -> Option<String> {
    let spec = names.find(name)?;
    let def = doc.types.get(spec)?;
    let w = Writer {
        doc,
        names,
        style: Style::FIRST,
    };
    Some(w.declaration(spec, def))
}

/// A contract as a TypeScript module a compiler can check: its declarations, the
/// declarations of every type it leaves unexpanded (transitively, as an agent would get
/// them by name), and the signature as a member of the operation's id path.
pub fn dts_module(op: &Operation, doc: &Document, contract: &Contract) -> String {
    let doc = &*corrected(doc);
    let names = Names::new(doc);
    let w = Writer {
        doc,
        names: &names,
        style: Style::FIRST,
    };
    let mut out = contract.declarations_text();
    let mut declared: BTreeSet<&str> = contract.declared.iter().map(String::as_str).collect();
    let mut queue: VecDeque<&str> = contract.collapsed.iter().map(String::as_str).collect();
    while let Some(name) = queue.pop_front() {
        if !declared.insert(name) {
            continue;
        }
        if let Some((spec, def)) = doc.types.get_key_value(name) {
            out.push_str(&w.declaration(spec, def));
            let mut refs = Vec::new();
            refs_in_order(&def.ty, &mut refs);
            queue.extend(refs);
        }
    }
    let segments: Vec<&str> = op.id.split('.').collect();
    // The method name is in the signature; the segments before it are the member path.
    let path = segments.split_last().map_or(&[][..], |(_, p)| p);
    let mut open = String::new();
    let mut close = String::new();
    for (i, seg) in path.iter().enumerate() {
        if i == 0 {
            open.push_str(&format!("export declare const {}: {{\n", names.get(seg)));
        } else {
            open.push_str(&format!("{}: {{\n", ts::key(seg)));
        }
        close.insert_str(0, "};\n");
    }
    if path.is_empty() {
        open.push_str("export declare const api: {\n");
        close.push_str("};\n");
    }
    format!("{out}\n{open}{}\n{close}", contract.signature)
}

/// Adds the names `ty` references, in first-appearance order, without repeats.
fn refs_in_order<'t>(ty: &'t Ty, out: &mut Vec<&'t str>) {
    match ty {
        Ty::Ref { name } if !out.contains(&name.as_str()) => out.push(name),
        Ty::Array { items: t } | Ty::Map { values: t } | Ty::Nullable { inner: t } => {
            refs_in_order(t, out)
        }
        Ty::Object {
            properties,
            additional,
        } => {
            for p in properties {
                refs_in_order(&p.ty, out);
            }
            if let Some(a) = additional {
                refs_in_order(a, out);
            }
        }
        Ty::AllOf { parts: v } | Ty::OneOf { variants: v } | Ty::AnyOf { variants: v } => {
            v.iter().for_each(|t| refs_in_order(t, out))
        }
        _ => {}
    }
}

/// The arguments of an operation, in order: path parameters (in path order), query,
/// header, form fields; bound parameters left out.
pub fn arguments(op: &Operation) -> Vec<&Param> {
    let bound = |p: &Param| {
        BOUND_PARAMS
            .iter()
            .any(|(n, l)| p.location == *l && p.name == *n)
    };
    let pos = |p: &Param| match p.location {
        ParamIn::Path => (
            0,
            op.path
                .find(&format!("{{{}}}", p.name))
                .unwrap_or(usize::MAX),
        ),
        ParamIn::Query => (1, 0),
        ParamIn::Header => (2, 0),
        ParamIn::Cookie => (3, 0),
        ParamIn::FormData => (4, 0),
    };
    let mut args: Vec<&Param> = op.params.iter().filter(|p| !bound(p)).collect();
    args.sort_by_key(|p| pos(p)); // stable: declared order within a group
    args
}

/// The argument name of the request body: `body`, unless a parameter already has it.
pub fn body_arg(op: &Operation) -> &str {
    if op.params.iter().any(|p| p.name == "body") {
        "requestBody"
    } else {
        "body"
    }
}

/// Whether a content type carries JSON.
fn is_json(ct: &str) -> bool {
    ct.contains("json")
}

/// Whether a non-JSON content type is text (shown as `string`) rather than bytes.
fn is_text(ct: &str) -> bool {
    ct.starts_with("text/") || ct.ends_with("+xml") || ct.ends_with("/xml")
}

/// The signature's types: arguments, body and return type, as one list for reachability.
fn signature_types(op: &Operation) -> Vec<&Ty> {
    let mut tys: Vec<&Ty> = arguments(op).into_iter().map(|p| &p.ty).collect();
    if let Some(b) = &op.body
        && is_json(&b.content_type)
    {
        tys.push(&b.ty);
    }
    if let Some(t) = &op.returns.ty
        && op.returns.content_type.as_deref().is_none_or(is_json)
    {
        tys.push(t);
    }
    tys
}

/// The doc comment and method signature.
fn signature(op: &Operation, w: &Writer<'_>) -> String {
    let mut doc = op
        .summary
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(op.description.as_deref())
        .and_then(|d| doc_text(d, ts::Desc::First))
        .unwrap_or_else(|| format!("{} {}", op.method, op.path));
    if op.deprecated {
        doc.insert_str(0, "@deprecated ");
    }
    let errors: Vec<String> = op
        .responses
        .iter()
        .filter(|r| !r.status.starts_with('2'))
        .map(|r| {
            let mut e = r.status.clone();
            if let Some(Ty::Ref { name }) = &r.ty {
                e.push(' ');
                e.push_str(&w.names.get(name));
            }
            if w.style.desc == ts::Desc::Full
                && let Some(d) = r
                    .description
                    .as_deref()
                    .and_then(|d| doc_text(d, ts::Desc::First))
            {
                e.push_str(&format!(" ({d})"));
            }
            e
        })
        .collect();
    if !errors.is_empty() {
        doc.push_str(&format!(" Errors: {}.", errors.join("; ")));
    }

    let mut members = String::new();
    let mut all_optional = true;
    let args = arguments(op);
    for p in &args {
        let mut text = p
            .description
            .as_deref()
            .and_then(|d| doc_text(d, w.style.desc));
        if let Some(d) = &p.default {
            let d = ts::doc_text(&d.to_string(), ts::Desc::Full).unwrap_or_default();
            text = Some(match text {
                Some(t) => format!("{t} Default: {d}."),
                None => format!("Default: {d}."),
            });
        }
        if p.location == ParamIn::FormData {
            text = Some(match text {
                Some(t) => format!("Form field. {t}"),
                None => "Form field.".into(),
            });
        }
        members.push_str(&ts::doc_line(text.as_deref(), 2));
        all_optional &= !p.required;
        members.push_str(&format!(
            "  {}{}: {};\n",
            ts::key(&p.name),
            if p.required { "" } else { "?" },
            w.ty(&p.ty, 2)
        ));
    }
    if let Some(b) = &op.body {
        let text = b
            .description
            .as_deref()
            .and_then(|d| doc_text(d, w.style.desc));
        members.push_str(&ts::doc_line(text.as_deref(), 2));
        all_optional &= !b.required;
        let ty = if is_json(&b.content_type) {
            let t = w.ty(&b.ty, 2);
            if b.content_type == "application/json" {
                t
            } else {
                format!("{t} /* {} */", b.content_type)
            }
        } else if is_text(&b.content_type) {
            format!("string /* {} */", b.content_type)
        } else {
            format!("Uint8Array /* {} */", b.content_type)
        };
        members.push_str(&format!(
            "  {}{}: {ty};\n",
            body_arg(op),
            if b.required { "" } else { "?" }
        ));
    }
    let params = if members.is_empty() {
        String::new()
    } else {
        format!(
            "args{}: {{\n{members}}}",
            if all_optional { "?" } else { "" }
        )
    };
    let method = op.id.rsplit('.').next().unwrap_or(&op.id);
    format!(
        "/** {doc} */\n{}({params}): Promise<{}>;\n",
        ts::key(method),
        return_type(op, w)
    )
}

fn return_type(op: &Operation, w: &Writer<'_>) -> String {
    let r = &op.returns;
    let Some(ty) = &r.ty else {
        return match r.content_type.as_deref() {
            Some(ct) if !is_json(ct) && is_text(ct) => format!("string /* {ct} */"),
            Some(ct) if !is_json(ct) => format!("Uint8Array /* {ct} */"),
            _ => "void".into(),
        };
    };
    match r.content_type.as_deref() {
        Some(ct) if !is_json(ct) && is_text(ct) => format!("string /* {ct} */"),
        Some(ct) if !is_json(ct) => format!("Uint8Array /* {ct} */"),
        _ => {
            let enveloped = matches!(
                r.correction,
                Correction::Enveloped | Correction::EnvelopedConfirmed
            );
            if enveloped && let Ty::Object { properties, .. } = ty {
                // The corrected envelope reads best as one line, without its synthetic docs.
                let fields: Vec<String> = properties
                    .iter()
                    .map(|p| format!("{}: {}", ts::key(&p.name), w.ty(&p.ty, 0)))
                    .collect();
                return format!("{{ {} }}", fields.join("; "));
            }
            w.ty(ty, 0)
        }
    }
}

/// Reachable named types, breadth first from the signature, through expanded types only.
struct Reach {
    /// Declared (expanded) types in order, with their depth (1 = named by the signature).
    declared: Vec<(String, usize)>,
    /// Referenced but not expanded.
    collapsed: BTreeSet<String>,
}

fn reach(roots: &[&str], doc: &Document, expandable: &dyn Fn(&str) -> bool) -> Reach {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<(&str, usize)> = VecDeque::new();
    for r in roots {
        if seen.insert(r) {
            queue.push_back((r, 1));
        }
    }
    let mut out = Reach {
        declared: Vec::new(),
        collapsed: BTreeSet::new(),
    };
    while let Some((name, depth)) = queue.pop_front() {
        let Some(def) = doc.types.get(name) else {
            continue; // unknown names are reported by normalize
        };
        if !expandable(name) {
            out.collapsed.insert(name.to_string());
            continue;
        }
        out.declared.push((name.to_string(), depth));
        let mut refs = Vec::new();
        refs_in_order(&def.ty, &mut refs);
        for r in refs {
            if seen.insert(r) {
                queue.push_back((r, depth + 1));
            }
        }
    }
    out
}

/// Named types that must be expanded: those the arguments name directly, and those needed to
/// show every response field at depth 1 and 2.
pub fn mandatory_types(op: &Operation, doc: &Document) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in signature_types(op) {
        if let Ty::Ref { name } = t {
            out.insert(name.clone());
        }
    }
    for p in arguments(op) {
        let mut refs = Vec::new();
        refs_in_order(&p.ty, &mut refs);
        out.extend(refs.into_iter().map(str::to_string));
    }
    if let Some(b) = &op.body {
        let mut refs = Vec::new();
        measure::shape_names(&b.ty, &doc.types, &mut refs);
        out.extend(refs);
    }
    if let Some(t) = &op.returns.ty
        && op.returns.content_type.as_deref().is_none_or(is_json)
    {
        let mut names = Vec::new();
        let level1 = measure::shape_names(t, &doc.types, &mut names);
        for field_ty in level1 {
            measure::shape_names(field_ty, &doc.types, &mut names);
        }
        out.extend(names);
    }
    out
}

/// One document's declarations and their token counts per (type, description mode,
/// property docs), shared by every operation of the document: a declaration is written
/// and counted once, then copied into each contract that shows it (operations render in
/// parallel; a declaration is the same whichever thread writes it, so the output does not
/// depend on order).
#[derive(Debug, Default)]
struct DeclMemo(Mutex<foldhash::HashMap<DeclKey, (Arc<String>, u32)>>);

/// A declaration's type, description mode and whether its properties keep their docs.
type DeclKey = (String, ts::Desc, bool);

impl DeclMemo {
    fn get(&self, key: &DeclKey) -> Option<(Arc<String>, u32)> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: DeclKey, value: (Arc<String>, u32)) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key, value);
        }
    }
}

/// Declarations and their token counts, from the document's [`DeclMemo`].
struct Sizer<'a> {
    doc: &'a Document,
    names: &'a Names,
    cache: &'a DeclMemo,
    counts: &'a measure::TokenCounts,
}

impl Sizer<'_> {
    fn writer(&self, desc: ts::Desc, prop_docs: bool) -> Writer<'_> {
        Writer {
            doc: self.doc,
            names: self.names,
            style: Style { desc, prop_docs },
        }
    }

    /// The declaration of the named type `name` (empty if the document has none) and its
    /// tokens.
    fn declared(&self, name: &str, desc: ts::Desc, prop_docs: bool) -> (Arc<String>, u32) {
        let key = (name.to_string(), desc, prop_docs);
        if let Some(known) = self.cache.get(&key) {
            return known;
        }
        let text = Arc::new(self.doc.types.get(name).map_or_else(String::new, |d| {
            self.writer(desc, prop_docs).declaration(name, d)
        }));
        let n = self.counts.count(&text);
        self.cache.put(key, (text.clone(), n));
        (text, n)
    }

    fn decl(&self, name: &str, desc: ts::Desc, prop_docs: bool) -> u32 {
        self.declared(name, desc, prop_docs).1
    }

    /// Estimated tokens of the whole contract (pieces counted separately).
    fn total(&self, sig: u32, r: &Reach, desc: ts::Desc, prop_docs: bool) -> u32 {
        let decls: u32 = r
            .declared
            .iter()
            .map(|(n, d)| self.decl(n, desc, prop_docs && *d <= PROP_DOC_DEPTH))
            .sum();
        let line = collapsed_line(&r.collapsed, self.names);
        sig + decls
            + if line.is_empty() {
                0
            } else {
                self.counts.count(&line)
            }
    }
}

fn render_with(
    op: &Operation,
    doc: &Document,
    names: &Names,
    memo: &DeclMemo,
    counts: &measure::TokenCounts,
    opts: &RenderOptions,
) -> Contract {
    let forced: BTreeSet<String> = opts
        .expand
        .iter()
        .filter_map(|e| names.find(e).map(str::to_string))
        .collect();
    let mut mandatory = mandatory_types(op, doc);
    mandatory.extend(forced.iter().cloned());
    let mut roots: Vec<&str> = Vec::new();
    for t in signature_types(op) {
        refs_in_order(t, &mut roots);
    }
    let budget = opts.token_budget;
    let mut notes = Vec::new();
    let noise: BTreeSet<&str> = NOISE_TYPES
        .iter()
        .copied()
        .filter(|n| !mandatory.contains(*n))
        .collect();
    let mut excluded: BTreeSet<String> = noise.iter().map(|s| s.to_string()).collect();
    let reach_now = |ex: &BTreeSet<String>| reach(&roots, doc, &|n: &str| !ex.contains(n));
    let mut r = reach_now(&excluded);

    // Expansion depth: types farther than `expand_depth` from the signature stay named.
    let mut too_deep = 0;
    loop {
        let deep: Vec<String> = r
            .declared
            .iter()
            .filter(|(n, d)| *d > opts.expand_depth && !mandatory.contains(n))
            .map(|(n, _)| n.clone())
            .collect();
        if deep.is_empty() {
            break;
        }
        too_deep += deep.len();
        excluded.extend(deep);
        r = reach_now(&excluded);
    }
    if too_deep > 0 {
        notes.push(format!(
            "depth: named types more than {} levels from the signature are not expanded",
            opts.expand_depth
        ));
    }

    let sizer = Sizer {
        doc,
        names,
        cache: memo,
        counts,
    };
    let mut desc = ts::Desc::Full;
    let mut prop_docs = true;
    let mut sig = signature(op, &sizer.writer(desc, prop_docs));
    let mut sig_tokens = counts.count(&sig);
    let mut total = sizer.total(sig_tokens, &r, desc, prop_docs);

    // Step 1: first sentences.
    if total as usize > budget {
        desc = ts::Desc::First;
        sig = signature(op, &sizer.writer(desc, prop_docs));
        sig_tokens = counts.count(&sig);
        total = sizer.total(sig_tokens, &r, desc, prop_docs);
        notes.push(format!(
            "budget: descriptions cut to their first sentence (over {budget} tokens)"
        ));
    }
    // Step 2: leave the farthest, then largest, optional types unexpanded ...
    let mut dropped = Vec::new();
    while total as usize > budget {
        let mut candidates: Vec<(usize, u32, String)> = Vec::new();
        for (n, d) in &r.declared {
            if !mandatory.contains(n) {
                let t = sizer.decl(n, desc, prop_docs && *d <= PROP_DOC_DEPTH);
                candidates.push((*d, t, n.clone()));
            }
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let Some((_, _, name)) = candidates.into_iter().next() else {
            break;
        };
        excluded.insert(name.clone());
        dropped.push(name);
        r = reach_now(&excluded);
        total = sizer.total(sig_tokens, &r, desc, prop_docs);
    }
    // ... then take back, nearest first, those that fit in what is left.
    let mut restored = 0;
    for name in dropped.iter().rev() {
        excluded.remove(name);
        let candidate = reach_now(&excluded);
        let t = sizer.total(sig_tokens, &candidate, desc, prop_docs);
        if t as usize <= budget {
            r = candidate;
            total = t;
            restored += 1;
        } else {
            excluded.insert(name.clone());
        }
    }
    if dropped.len() > restored {
        let n = dropped.len() - restored;
        notes.push(format!(
            "budget: {n} named type{} not expanded (farthest from the signature first)",
            if n == 1 { "" } else { "s" }
        ));
    }
    // Step 3: property descriptions of named types.
    if total as usize > budget {
        prop_docs = false;
        total = sizer.total(sig_tokens, &r, desc, prop_docs);
        notes.push("budget: property descriptions of named types dropped".into());
    }
    let shown_noise: Vec<&str> = noise
        .iter()
        .copied()
        .filter(|n| r.collapsed.contains(*n))
        .collect();
    if !shown_noise.is_empty() {
        notes.push(format!(
            "noise: {} not expanded (a map of REST links)",
            shown_noise.join(", ")
        ));
    }

    // Assemble.
    let mut declarations = Vec::with_capacity(r.declared.len() + 1);
    for (name, d) in &r.declared {
        let (text, _) = sizer.declared(name, desc, prop_docs && *d <= PROP_DOC_DEPTH);
        if !text.is_empty() {
            declarations.push(text);
        }
    }
    let mut collapsed: BTreeSet<String> = r.collapsed.clone();
    for resp in op.responses.iter().filter(|r| !r.status.starts_with('2')) {
        if let Some(Ty::Ref { name }) = &resp.ty
            && !r.declared.iter().any(|(n, _)| n == name)
        {
            collapsed.insert(name.clone());
        }
    }
    let line = collapsed_line(&collapsed, names);
    if !line.is_empty() {
        declarations.push(Arc::new(line));
    }
    let mut contract = Contract {
        id: op.id.clone(),
        signature: sig,
        declarations,
        tokens: 0,
        notes,
        declared: r.declared.into_iter().map(|(n, _)| n).collect(),
        collapsed: collapsed.into_iter().collect(),
        result_fields: keys::result_fields(op.returns.ty.as_ref(), doc, names),
    };
    contract.tokens = counts.count(&contract.text());
    if contract.tokens as usize > budget {
        contract.notes.push(format!(
            "over budget: {} tokens > {budget}; left: the signature and the types needed for response depth 1-2 and direct arguments{}",
            contract.tokens,
            if total as usize > budget {
                ""
            } else {
                " (the piecewise estimate was within budget)"
            }
        ));
    }
    if op.returns.correction == Correction::Contradicted {
        contract
            .notes
            .push("response: a recorded example contradicts the declared shape".into());
    }
    contract
}

fn collapsed_line(collapsed: &BTreeSet<String>, names: &Names) -> String {
    if collapsed.is_empty() {
        return String::new();
    }
    let list: BTreeMap<String, ()> = collapsed
        .iter()
        .map(|n| (names.get(n).into_owned(), ()))
        .collect();
    format!(
        "// Not expanded (ask by name): {}\n",
        list.into_keys().collect::<Vec<_>>().join(", ")
    )
}
