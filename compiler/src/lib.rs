//! Compiles REST API contracts into an opcat operation catalog.
//!
//! The compiler is a pipeline of stages, one module each. Files go through stages 2-5 in
//! parallel (rayon); output order is the sorted file order, so builds are deterministic.
//!
//! 1. [`read`]: find spec files (Azure DevOps `<area>/<version>/*.json` layout, a folder,
//!    or one file), choose versions, load bytes. The only stage that touches the disk;
//!    later stages load referenced files through the [`read::Loader`] trait.
//! 2. [`parse`]: JSON or YAML to a JSON tree; detect the dialect.
//! 3. [`upgrade`]: Swagger 2.0 and OpenAPI 3.1 to the OpenAPI 3.0 shape; then [`bundle`]
//!    pulls relative-file `$ref`s into the document.
//! 4. [`resolve`]: type the tree with `openapiv3`, piece by piece; follow refs.
//! 5. [`normalize`]: operations and named types ([`types`]) into the IR ([`ir`]), with
//!    recorded examples and the list-envelope correction ([`examples`]).
//! 6. [`render`]: each operation as a TypeScript contract (signature, return type, named
//!    types) within a token budget, with explicit trimming notes; [`links`], where each
//!    required input comes from (the read operation whose result carries it).
//! 7. [`emit`]: the IR and contracts into the runtime's artifact (`.opcat`, rkyv + tantivy),
//!    its zstd release form and `manifest.json`; with [`distill`], the embedding index:
//!    operation vectors from the sentence model ([`embed`], cached by content) and the
//!    static query table fitted to it.
//!
//! Beside the stages, [`embed`] is the compile-time sentence embedder for hybrid search
//! (all-MiniLM-L6-v2 int8 on ONNX Runtime, from the offline files of
//! `scripts/setup-models.sh`, with a content-addressed vector cache).
//!
//! Two default features carry the heavy dependencies: `embed` (modules [`embed`] and
//! [`distill`]: ONNX Runtime, the tokenizer) and `agent` (`agent` and `output`: HTTP, MCP,
//! QuickJS, the TypeScript transform). Without them the library is the stages alone, and
//! the `opcat` binary, which needs both, is not built.
//!
//! No stage aborts the build for one bad input: each returns its output plus
//! [`diag::Diagnostic`]s (file, JSON pointer, message).
//!
//! ```no_run
//! use opcat_compiler::{Options, compile, read::{FsLoader, VersionSelect}};
//!
//! let build = compile(
//!     &Options { specs: "../shared/specs/azure-devops/specification".into(), versions: VersionSelect::Latest },
//!     &FsLoader::default(),
//!     &|_file| {},
//! );
//! println!("{} operations", build.catalog.operations.len());
//! for d in &build.diagnostics { eprintln!("{d}"); }
//! ```

#[cfg(feature = "agent")]
pub mod agent;
pub mod bundle;
pub mod diag;
#[cfg(feature = "embed")]
pub mod distill;
#[cfg(feature = "embed")]
pub mod embed;
pub mod emit;
pub mod examples;
pub mod ir;
pub mod links;
pub mod normalize;
#[cfg(feature = "agent")]
pub mod output;
pub mod parse;
pub mod read;
pub mod render;
pub mod resolve;
pub mod types;
pub mod upgrade;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use diag::{DiagKind, Diagnostic};
use ir::{Catalog, Correction, Document, Operation};
use parse::Dialect;
use read::{Loader, SpecFile, VersionSelect};

/// What to compile.
#[derive(Debug, Clone)]
pub struct Options {
    /// A spec file, an Azure DevOps `specification` folder, or a folder of specs.
    pub specs: PathBuf,
    pub versions: VersionSelect,
}

/// The result of a build: the catalog, every diagnostic, and the summary.
#[derive(Debug)]
pub struct Build {
    pub catalog: Catalog,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

/// Counts and timings of a build.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Spec files found.
    pub files: usize,
    /// Spec files that produced no document (unreadable, not a spec).
    pub files_failed: usize,
    pub operations: usize,
    pub named_types: usize,
    /// Diagnostics per kind.
    pub diagnostics: BTreeMap<String, usize>,
    /// Declared arrays replaced by the `{count, value}` envelope.
    pub enveloped: usize,
    /// Of those, how many a recorded example confirms.
    pub enveloped_confirmed: usize,
    /// Declared shapes a recorded example confirms (no correction needed).
    pub confirmed: usize,
    /// Recorded examples that contradict the declared shape.
    pub contradicted: usize,
    /// Recorded examples attached, and how many of those files exist.
    pub examples: usize,
    pub examples_found: usize,
    /// Time per stage in milliseconds, summed over threads (stages run in parallel).
    pub stage_ms: BTreeMap<String, f64>,
    /// Wall-clock time of the whole build in milliseconds.
    pub wall_ms: f64,
}

/// The most operations one parallel task takes. rayon splits a range into a few pieces and
/// splits further only when a thread steals; a thread that was busy elsewhere (the index
/// beside rendering) then finds no piece left to take and waits while the other finishes
/// a long one. Small pieces keep both cores busy to the end (files go one by one).
pub(crate) const PAR_LEN: usize = 64;

/// Stage names, in pipeline order.
pub const STAGES: [&str; 5] = ["read", "parse", "upgrade", "resolve", "normalize"];

/// What one spec file compiles to ([`compile_file`]).
#[derive(Debug)]
pub struct FileOut {
    /// `None` when the file could not be read or is not a spec.
    pub document: Option<Document>,
    pub operations: Vec<Operation>,
    pub diagnostics: Vec<Diagnostic>,
    /// Time per stage ([`STAGES`]).
    pub times: [Duration; 5],
}

/// Runs the whole pipeline. `progress` is called once per finished spec file.
pub fn compile(opts: &Options, loader: &dyn Loader, progress: &(dyn Fn(&str) + Sync)) -> Build {
    let start = Instant::now();
    // One spelling of the root (no `..`), so paths joined from refs stay below it.
    let specs = std::fs::canonicalize(&opts.specs).unwrap_or_else(|_| opts.specs.clone());
    let discovery = read::discover(&specs, &opts.versions);
    let discover_time = start.elapsed();
    let specs_root = if specs.is_file() {
        specs.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        specs
    };
    let examples = examples::Memo::default();
    let outs: Vec<FileOut> = discovery
        .files
        .par_iter()
        .with_max_len(1)
        .map(|spec| {
            let out = compile_one(spec, &specs_root, loader, &examples);
            progress(&spec.rel);
            out
        })
        .collect();
    // Its trees are freed on a pool thread, beside what follows.
    rayon::spawn(move || drop(examples));

    let mut summary = Summary {
        files: discovery.files.len(),
        ..Summary::default()
    };
    let mut times = [Duration::ZERO; 5];
    times[0] = discover_time;
    let mut diagnostics = discovery.diagnostics;
    let mut documents = Vec::with_capacity(outs.len());
    // Sized once: grown a file at a time, the operations (11,833 of them in an all-versions
    // build) were copied at each doubling, on the one thread.
    let mut operations = Vec::with_capacity(outs.iter().map(|o| o.operations.len()).sum());
    diagnostics.reserve(outs.iter().map(|o| o.diagnostics.len()).sum());
    for out in outs {
        for (t, d) in times.iter_mut().zip(out.times) {
            *t += d;
        }
        match out.document {
            Some(d) => documents.push(d),
            None => summary.files_failed += 1,
        }
        operations.extend(out.operations);
        diagnostics.extend(out.diagnostics);
    }
    dedupe_ids(&mut operations, &mut diagnostics);

    summary.operations = operations.len();
    summary.named_types = documents.iter().map(|d| d.types.len()).sum();
    for kind in DiagKind::ALL {
        let n = diagnostics.iter().filter(|d| d.kind == kind).count();
        if n > 0 {
            summary.diagnostics.insert(kind.name().to_string(), n);
        }
    }
    for op in &operations {
        match op.returns.correction {
            Correction::Enveloped => summary.enveloped += 1,
            Correction::EnvelopedConfirmed => {
                summary.enveloped += 1;
                summary.enveloped_confirmed += 1;
            }
            Correction::Confirmed => summary.confirmed += 1,
            Correction::Contradicted => summary.contradicted += 1,
            Correction::None => {}
        }
        summary.examples += op.examples.len();
        summary.examples_found += op.examples.iter().filter(|e| e.found).count();
    }
    for (name, t) in STAGES.iter().zip(times) {
        summary
            .stage_ms
            .insert(name.to_string(), t.as_secs_f64() * 1e3);
    }
    summary.wall_ms = start.elapsed().as_secs_f64() * 1e3;
    Build {
        catalog: Catalog {
            format_version: ir::CATALOG_JSON_VERSION,
            documents,
            operations,
        },
        diagnostics,
        summary,
    }
}

/// Stages 1-5 for one file, loaded (with what it references) through `loader`. Public for
/// hosts that compile bytes from elsewhere, and for the fuzzer (`fuzz/`).
pub fn compile_file(spec: &SpecFile, specs_root: &std::path::Path, loader: &dyn Loader) -> FileOut {
    compile_one(spec, specs_root, loader, &examples::Memo::default())
}

/// [`compile_file`] with the recorded examples' memo of a whole build.
fn compile_one(
    spec: &SpecFile,
    specs_root: &std::path::Path,
    loader: &dyn Loader,
    examples: &examples::Memo,
) -> FileOut {
    let mut out = FileOut {
        document: None,
        operations: Vec::new(),
        diagnostics: Vec::new(),
        times: [Duration::ZERO; 5],
    };
    let diag = |kind, msg: String| Diagnostic::new(kind, spec.rel.clone(), "", msg);
    let t = Instant::now();
    let bytes = match loader.load(&spec.path) {
        Ok(b) => b,
        Err(e) => {
            out.diagnostics
                .push(diag(DiagKind::Io, format!("cannot read: {e}")));
            return out;
        }
    };
    out.times[0] = t.elapsed();

    let t = Instant::now();
    let parsed = parse::parse(&bytes).and_then(|v| Dialect::of(&v).map(|d| (v, d)));
    drop(bytes);
    out.times[1] = t.elapsed();
    let (value, dialect) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let kind = if e.starts_with("expected") {
                DiagKind::UnknownDialect
            } else {
                DiagKind::Syntax
            };
            out.diagnostics.push(diag(kind, e));
            return out;
        }
    };

    let t = Instant::now();
    let mut doc = upgrade::upgrade(value, dialect);
    let mut bundle_diags = Vec::new();
    bundle::bundle(&mut doc, &spec.path, specs_root, loader, &mut bundle_diags);
    if dialect == Dialect::Swagger2 {
        // Point into the original file: Swagger keeps schemas under `/definitions`.
        for d in &mut bundle_diags {
            if let Some(rest) = d.pointer.strip_prefix("/components/schemas/") {
                d.pointer = format!("/definitions/{rest}");
            }
        }
    }
    out.diagnostics.extend(bundle_diags);
    out.times[2] = t.elapsed();

    let t = Instant::now();
    let schema_home = match dialect {
        Dialect::Swagger2 => "/definitions",
        _ => "/components/schemas",
    };
    let api = resolve::resolve(doc, &spec.rel, schema_home, &mut out.diagnostics);
    out.times[3] = t.elapsed();

    let t = Instant::now();
    let norm = normalize::normalize(
        &normalize::Input {
            spec,
            api: &api,
            dialect,
            specs_root,
            examples,
        },
        loader,
    );
    out.times[4] = t.elapsed();
    out.document = Some(norm.document);
    out.operations = norm.operations;
    out.diagnostics.extend(norm.diagnostics);
    out
}

/// Ids must be unique within a version; a repeat gets `_2`, `_3`... and a diagnostic.
fn dedupe_ids(ops: &mut [Operation], diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for op in ops.iter_mut() {
        let n = seen
            .entry((op.version.clone(), op.id.clone()))
            .and_modify(|n| *n += 1)
            .or_insert(1);
        if *n > 1 {
            let new = format!("{}_{n}", op.id);
            diags.push(Diagnostic::new(
                DiagKind::DuplicateId,
                op.source.file.clone(),
                op.source.pointer.clone(),
                format!(
                    "id `{}` is taken in version {}; this operation is `{new}`",
                    op.id, op.version
                ),
            ));
            op.id = new;
        }
    }
}

/// JSON arguments into the runtime's argument value, what `prepare` takes (`call`, `execute`,
/// the prepare fuzz target).
pub fn to_value(v: &serde_json::Value) -> opcat_runtime::Value {
    use opcat_runtime::Value;
    use serde_json::Value as Json;
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        Json::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_converts() {
        let v = super::to_value(&serde_json::json!({
            "a": [1, 2.5, "x", null, true],
            "b": {"c": -1}
        }));
        assert_eq!(
            v.to_json().unwrap(),
            r#"{"a":[1,2.5,"x",null,true],"b":{"c":-1}}"#
        );
    }
}
