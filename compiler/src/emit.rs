//! Stage 7, emit: the IR and its contracts into the runtime's artifact (format owned by
//! `opcat-runtime`), its zstd release form and the build manifest.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use opcat_runtime::format::{
    self, BodyRecord, CatalogData, DenseData, ExampleRecord, InputRecord, Location, NameEntry,
    OpCore, OpRecord, ParamRecord, TypeRecord,
};
use opcat_runtime::index::{self, IndexDoc};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ir::{Catalog, OpClass, Operation, ParamIn, Ty, TypeSpace};
use crate::render::{self, Contract};

/// Version of `manifest.json`'s shape.
pub const MANIFEST_VERSION: u32 = 1;

/// zstd level of the release form: high ratio, decompression stays fast. Level 11 writes
/// within 0.05% of level 12's bytes on the Azure DevOps artifacts (latest: 764,664 against
/// 764,255) in three quarters of its time (73 against 99 ms); higher levels cost seconds.
pub const ZSTD_LEVEL: i32 = 11;

/// The release form of an artifact: one zstd frame at [`ZSTD_LEVEL`]. (Two zstd worker
/// threads measured no faster on 2 cores: the latest artifact is one zstd job.)
pub fn release_form(artifact: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::bulk::compress(artifact, ZSTD_LEVEL)
}

/// Builds the artifact bytes without an embedding index (deterministic for the same
/// catalog).
pub fn artifact(
    catalog: &Catalog,
    contracts: &[Contract],
    name: &str,
    source: &str,
) -> Result<Vec<u8>, opcat_runtime::Error> {
    artifact_with(catalog, contracts, name, source, None)
}

/// Builds the artifact bytes with an embedding index (from [`crate::distill::dense_index`]).
pub fn artifact_with(
    catalog: &Catalog,
    contracts: &[Contract],
    name: &str,
    source: &str,
    dense: Option<DenseData>,
) -> Result<Vec<u8>, opcat_runtime::Error> {
    rendering(catalog, || contracts, move || dense, name, source)
}

/// [`artifact_with`], rendering the contracts with `render` and making the embedding
/// index with `dense` while what reads only the catalog is made beside them: the BM25
/// index (tantivy writes with one thread, to stay deterministic, so the other core renders
/// meanwhile), the links and the type records.
pub fn rendering<C: std::borrow::Borrow<[Contract]> + Send>(
    catalog: &Catalog,
    render: impl FnOnce() -> C + Send,
    dense: impl FnOnce() -> Option<DenseData> + Send,
    name: &str,
    source: &str,
) -> Result<Vec<u8>, opcat_runtime::Error> {
    let doc_index: HashMap<&str, usize> = catalog
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| (d.file.as_str(), i))
        .collect();
    let empty = TypeSpace::new();
    let types_of = |op: &Operation| -> &TypeSpace {
        doc_index
            .get(op.source.file.as_str())
            .map_or(&empty, |&i| &catalog.documents[i].types)
    };
    // Everything is made in parallel and collected in order, so the bytes do not depend on
    // scheduling. The index (one tantivy thread), the links and the type records read the
    // catalog alone, so they are made beside rendering; the operation records wait for the
    // contracts.
    let index_files = || {
        let (groups, index_ops) = doc_groups(&catalog.operations);
        let docs: Vec<IndexDoc> = groups
            .into_par_iter()
            .with_max_len(crate::PAR_LEN)
            .map(|(text, versions)| {
                let op = &catalog.operations[text];
                IndexDoc {
                    version: versions,
                    ..index_doc(op, types_of(op))
                }
            })
            .collect();
        index::build(&docs).map(|files| (files, index_ops))
    };
    let tables = || {
        let rendered: Vec<(&str, u32, String)> = catalog
            .documents
            .par_iter()
            .with_max_len(1)
            .enumerate()
            .flat_map_iter(|(i, d)| {
                render::render_types(d)
                    .into_iter()
                    .map(move |(name, declaration)| (name, i as u32, declaration))
            })
            .collect();
        let labels = Labels::of(&catalog.operations, rendered.iter().map(|t| t.0));
        let mut types: Vec<TypeRecord> = rendered
            .into_par_iter()
            .map(|(name, document, declaration)| TypeRecord {
                name: labels.of_text(name),
                document,
                declaration: declaration.into(),
            })
            .collect();
        types.par_sort_by_key(|t| (t.name, t.document));
        (
            types,
            name_table(&catalog.operations),
            newest_of(&catalog.operations),
            labels,
        )
    };
    let beside = || {
        let (index, (links, types)) = rayon::join(index_files, || {
            rayon::join(|| crate::links::links(catalog, types_of), tables)
        });
        (index, links, types)
    };
    let ((index, links, (mut types, names, newest, labels)), (contracts, dense)) =
        rayon::join(beside, || rayon::join(render, dense));
    let contracts = contracts.borrow();
    let mut operations: Vec<OpRecord> = catalog
        .operations
        .par_iter()
        .with_max_len(crate::PAR_LEN)
        .zip(contracts)
        .zip(links)
        .map(|((op, c), links)| {
            let doc = doc_index.get(op.source.file.as_str()).copied().unwrap_or(0);
            let mut rec = op_record(op, c, doc as u32, types_of(op), &labels);
            rec.inputs = Arc::new(
                links
                    .into_iter()
                    .map(|l| InputRecord {
                        param: l.param,
                        op: newest[l.op] as u32,
                        field: l.field,
                    })
                    .collect(),
            );
            rec
        })
        .collect();
    let (index_files, index_ops) = index?;
    share(&mut operations, &mut types);
    let hosts: BTreeSet<String> = catalog
        .operations
        .iter()
        .map(|o| host_of(&o.server))
        .filter(|h| !h.is_empty())
        .collect();
    let data = CatalogData {
        name: name.to_string(),
        source: source.to_string(),
        documents: catalog.documents.iter().map(|d| d.file.clone()).collect(),
        names,
        operations,
        types,
        hosts: hosts.into_iter().collect(),
        labels: labels.0,
        index_files,
        index_ops,
        dense,
    };
    format::to_bytes(&data)
}

/// Makes equal texts and lists one allocation, so the archive writes each once: rkyv's
/// serializer writes a shared pointer's target at its first use and points later uses at
/// it. Versions of an area repeat most contracts, parameters, examples and types word for
/// word, so an all-versions catalog costs little more than its latest one. The bytes
/// depend only on which values end up as one allocation, not on which of them is kept,
/// so each kind is shared in parallel ([`share_all`]) and the bytes are the same whatever
/// the scheduling. Texts go first, so lists that hold them compare and share whole; cores
/// go last, when their texts and lists are shared.
fn share(operations: &mut [OpRecord], types: &mut [TypeRecord]) {
    // Fresh from `op_record`: the cores and their lists have one owner each, so they are
    // changed in place. A core's id stays a plain string: each shared value costs `verify`
    // a registration, and ids save little (versions, servers, operationIds and type names
    // are labels, indexes into one table).
    let mut texts: Vec<&mut Arc<String>> = Vec::new();
    for op in operations.iter_mut() {
        let Some(core) = Arc::get_mut(&mut op.core) else {
            continue;
        };
        texts.extend([
            &mut core.path,
            &mut core.summary,
            &mut core.signature,
            &mut core.result_fields,
        ]);
        if let Some(pieces) = Arc::get_mut(&mut core.declarations) {
            texts.extend(pieces.iter_mut());
        }
        if let Some(notes) = Arc::get_mut(&mut core.notes) {
            texts.extend(notes.iter_mut());
        }
    }
    texts.extend(types.iter_mut().map(|t| &mut t.declaration));
    share_all(texts);
    let (mut strings, mut notes, mut params) = (Vec::new(), Vec::new(), Vec::new());
    let (mut examples, mut inputs) = (Vec::new(), Vec::new());
    for op in operations.iter_mut() {
        strings.push(&mut op.aliases);
        examples.push(&mut op.examples);
        inputs.push(&mut op.inputs);
        if let Some(core) = Arc::get_mut(&mut op.core) {
            strings.extend([&mut core.collapsed, &mut core.scopes]);
            notes.extend([&mut core.notes, &mut core.declarations]);
            params.push(&mut core.params);
        }
    }
    rayon::join(
        || rayon::join(|| share_all(strings), || share_all(notes)),
        || {
            rayon::join(
                || share_all(params),
                || rayon::join(|| share_all(examples), || share_all(inputs)),
            )
        },
    );
    share_all(operations.iter_mut().map(|op| &mut op.core).collect());
}

/// Points every slot holding a value equal to another's at one allocation of it. Slots are
/// hashed in parallel, then split by hash into shards that are shared side by side (equal
/// values hash alike, so they meet in one shard).
fn share_all<T: Eq + std::hash::Hash + Send + Sync>(slots: Vec<&mut Arc<T>>) {
    use std::hash::BuildHasher;
    const SHARDS: usize = 16;
    let state = foldhash::fast::FixedState::default();
    let hashed: Vec<(u64, &mut Arc<T>)> = slots
        .into_par_iter()
        .with_min_len(256)
        .map(|slot| (state.hash_one(&**slot), slot))
        .collect();
    let mut shards: Vec<Vec<(u64, &mut Arc<T>)>> = (0..SHARDS).map(|_| Vec::new()).collect();
    for (hash, slot) in hashed {
        // The high bits pick the shard; the table reads the low ones.
        shards[(hash >> 60) as usize % SHARDS].push((hash, slot));
    }
    shards.into_par_iter().for_each(|shard| {
        let mut seen: hashbrown::HashTable<(u64, Arc<T>)> =
            hashbrown::HashTable::with_capacity(shard.len());
        for (hash, slot) in shard {
            match seen.find(hash, |(h, first)| *h == hash && **first == **slot) {
                Some((_, first)) => *slot = Arc::clone(first),
                None => {
                    seen.insert_unique(hash, (hash, Arc::clone(slot)), |(h, _)| *h);
                }
            }
        }
    });
}

/// One index document for the versions of an operation id (and its area, method and
/// class, which filters read): placed at the first of them, listing every version, with
/// the text of the newest, the version a search returns. Returns, per document, the
/// operation whose text it holds and its versions; and the first operation each document
/// stands for (empty when every operation has its own: document `i` is operation `i`).
/// An all-versions Azure DevOps catalog indexes 1,492 documents for 11,833 operations
/// (5,300 when only versions whose text was the same shared one).
fn doc_groups(ops: &[Operation]) -> (Vec<(usize, String)>, Vec<u32>) {
    let mut slot_of: foldhash::HashMap<(&str, &str, &str, bool), usize> = Default::default();
    let mut groups: Vec<(usize, String)> = Vec::new();
    let mut firsts: Vec<u32> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let key = (
            op.id.as_str(),
            op.area.as_str(),
            op.method.as_str(),
            op.class == OpClass::Read,
        );
        match slot_of.get(&key) {
            Some(&slot) => {
                let (text, versions) = &mut groups[slot];
                versions.push(' ');
                versions.push_str(&op.version);
                // As `newest_of` picks it.
                if version_rank(&op.version) >= version_rank(&ops[*text].version) {
                    *text = i;
                }
            }
            None => {
                slot_of.insert(key, groups.len());
                groups.push((i, op.version.clone()));
                firsts.push(i as u32);
            }
        }
    }
    if groups.len() == ops.len() {
        firsts.clear();
    }
    (groups, firsts)
}

/// `https://vsrm.dev.azure.com/x` -> `https://vsrm.dev.azure.com`.
pub fn host_of(server: &str) -> String {
    match server.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split('/').next().unwrap_or("");
            format!("{scheme}://{authority}")
        }
        None => String::new(),
    }
}

/// Lower-cased id, aliases and operationId -> operation. A key shared by operations with
/// different ids (an alias used in two areas) is ambiguous and left out; a key shared by
/// the same id in several versions points at the newest cloud version.
fn name_table(ops: &[Operation]) -> Vec<NameEntry> {
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        let mut keys: BTreeSet<String> = op.aliases.iter().map(|a| a.to_lowercase()).collect();
        keys.insert(op.id.to_lowercase());
        for k in keys {
            by_key.entry(k).or_default().push(i);
        }
    }
    by_key
        .into_iter()
        .filter_map(|(key, idx)| {
            let first = &ops[idx[0]].id;
            if idx.iter().any(|&i| &ops[i].id != first) {
                return None;
            }
            let best = idx
                .into_iter()
                .max_by_key(|&i| version_rank(&ops[i].version))?;
            Some(NameEntry {
                key,
                op: best as u32,
            })
        })
        .collect()
}

/// For each operation, the newest version of its id (the one [`name_table`] names for the
/// id; an alias that only older versions carry names the newest of those): where a
/// data-flow edge points, so that equal edges of several versions are one list.
fn newest_of(ops: &[Operation]) -> Vec<usize> {
    let mut best: HashMap<&str, usize> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        let b = best.entry(op.id.as_str()).or_insert(i);
        if version_rank(&op.version) >= version_rank(&ops[*b].version) {
            *b = i;
        }
    }
    ops.iter().map(|op| best[op.id.as_str()]).collect()
}

/// Cloud versions above on-premises ones, then numerically.
fn version_rank(v: &str) -> (bool, Vec<u32>) {
    match crate::read::numeric_version(v) {
        Some(n) => (true, n),
        None => (false, Vec::new()),
    }
}

/// First sentence (or line) of a text, at most 200 characters.
pub fn first_sentence(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let end = line
        .char_indices()
        .find(|&(i, c)| c == '.' && line[i + 1..].starts_with(' '))
        .map_or(line.len(), |(i, _)| i + 1);
    line[..end].chars().take(200).collect()
}

/// The catalog's labels ([`CatalogData::labels`]): every version folder, api-version,
/// server, operationId and type name, sorted; a record names one by its place.
struct Labels(Vec<String>);

impl Labels {
    fn of<'a>(ops: &'a [Operation], type_names: impl Iterator<Item = &'a str>) -> Labels {
        let mut texts: BTreeSet<&str> = ops
            .iter()
            .flat_map(|o| {
                [
                    Some(o.version.as_str()),
                    o.api_version.as_deref(),
                    Some(o.server.as_str()),
                    Some(o.source.operation_id.as_str()),
                ]
            })
            .flatten()
            .collect();
        texts.extend(type_names);
        Labels(texts.into_iter().map(str::to_string).collect())
    }

    /// The index of a text [`Labels::of`] saw (0 for another, which it never is).
    fn of_text(&self, text: &str) -> u32 {
        self.0
            .binary_search_by(|t| t.as_str().cmp(text))
            .map_or(0, |i| i as u32)
    }
}

fn op_record(
    op: &Operation,
    c: &Contract,
    document: u32,
    types: &TypeSpace,
    labels: &Labels,
) -> OpRecord {
    let core = OpCore {
        id: op.id.clone(),
        area: op.area.clone(),
        resource: op.resource.clone(),
        method: op.method.clone(),
        server: labels.of_text(&op.server),
        path: op.path.clone().into(),
        path_query: op.path_query.clone(),
        summary: summary(op).into(),
        read_only: op.class == OpClass::Read,
        signature: c.signature.clone().into(),
        declarations: Arc::new(c.declarations.clone()),
        tokens: c.tokens,
        collapsed: c.collapsed.clone().into(),
        notes: Arc::new(c.notes.iter().map(|n| Arc::new(n.clone())).collect()),
        result_fields: c.result_fields.clone().into(),
        params: Arc::new(
            op.params
                .iter()
                .map(|p| {
                    let (kind, allowed) = kind_of(&p.ty, types);
                    ParamRecord {
                        name: p.name.clone(),
                        location: match p.location {
                            ParamIn::Path => Location::Path,
                            ParamIn::Query => Location::Query,
                            ParamIn::Header => Location::Header,
                            ParamIn::Cookie => Location::Cookie,
                            ParamIn::FormData => Location::FormData,
                        },
                        required: p.required,
                        kind,
                        allowed,
                        collection_format: p.collection_format.clone(),
                    }
                })
                .collect(),
        ),
        body: op.body.as_ref().map(|b| BodyRecord {
            name: b.name.clone(),
            content_type: b.content_type.clone(),
            required: b.required,
        }),
        scopes: op.scopes.clone().into(),
        continuation_header: op.paging.continuation_header.clone(),
        continuation_param: op.paging.continuation_param.clone(),
    };
    OpRecord {
        core: Arc::new(core),
        version: labels.of_text(&op.version),
        api_version: op.api_version.as_deref().map(|v| labels.of_text(v)),
        document,
        operation_id: labels.of_text(&op.source.operation_id),
        aliases: op.aliases.clone().into(),
        preview: op.preview,
        deprecated: op.deprecated,
        examples: Arc::new(
            op.examples
                .iter()
                .map(|e| ExampleRecord {
                    title: e.title.clone(),
                    file: relative_to(&op.source.file, &e.file),
                    status: e.status.clone(),
                })
                .collect(),
        ),
        inputs: Default::default(),
    }
}

/// `file` (relative to the specs root) relative to the folder of the spec file `spec`, as
/// the spec's own `$ref` names it: versions of an operation then record the same name, and
/// their example lists are shared.
fn relative_to(spec: &str, file: &str) -> String {
    let dir: Vec<&str> = spec.split('/').collect();
    let dir = &dir[..dir.len() - 1];
    let parts: Vec<&str> = file.split('/').collect();
    let common = dir.iter().zip(&parts).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; dir.len() - common];
    out.extend(&parts[common..]);
    out.join("/")
}

fn summary(op: &Operation) -> String {
    op.summary
        .as_deref()
        .or(op.description.as_deref())
        .map(first_sentence)
        .unwrap_or_default()
}

/// JSON kind of a parameter type and its allowed values (enums), refs followed.
fn kind_of(ty: &Ty, types: &TypeSpace) -> (String, Vec<String>) {
    let ty = resolve(ty, types);
    let kind = match ty {
        Ty::String { enumeration, .. } => return ("string".into(), enumeration.clone()),
        Ty::Integer { enumeration, .. } => {
            return (
                "integer".into(),
                enumeration.iter().map(|i| i.to_string()).collect(),
            );
        }
        Ty::Number { .. } => "number",
        Ty::Boolean => "boolean",
        Ty::Array { .. } => "array",
        Ty::Object { .. } | Ty::Map { .. } | Ty::AllOf { .. } => "object",
        Ty::Binary => "binary",
        _ => "any",
    };
    (kind.into(), Vec::new())
}

/// Follows refs and nullability to a structural type.
pub(crate) fn resolve<'a>(mut ty: &'a Ty, types: &'a TypeSpace) -> &'a Ty {
    for _ in 0..16 {
        match ty {
            Ty::Ref { name } => match types.get(name) {
                Some(d) => ty = &d.ty,
                None => return ty,
            },
            Ty::Nullable { inner } => ty = inner,
            _ => break,
        }
    }
    ty
}

/// Property names of an object-like type (allOf parts merged), refs followed.
pub(crate) fn properties<'a>(
    ty: &'a Ty,
    types: &'a TypeSpace,
    out: &mut Vec<(&'a str, &'a Ty)>,
    depth: u8,
) {
    if depth > 8 {
        return;
    }
    match resolve(ty, types) {
        Ty::Object { properties, .. } => {
            out.extend(properties.iter().map(|p| (p.name.as_str(), &p.ty)));
        }
        Ty::AllOf { parts } => {
            for p in parts {
                properties(p, types, out, depth + 1);
            }
        }
        Ty::Array { items } => properties(items, types, out, depth + 1),
        _ => {}
    }
}

fn index_doc(op: &Operation, types: &TypeSpace) -> IndexDoc {
    let mut returns = Vec::new();
    if let Some(ty) = &op.returns.ty {
        let mut level1 = Vec::new();
        properties(ty, types, &mut level1, 0);
        for (name, t) in level1 {
            returns.push(name.to_string());
            let mut level2 = Vec::new();
            properties(t, types, &mut level2, 0);
            returns.extend(level2.into_iter().map(|(n, _)| n.to_string()));
        }
        let mut names = BTreeSet::new();
        crate::types::collect_refs(ty, &mut names);
        returns.extend(names.into_iter().map(str::to_string));
    }
    let mut name = vec![op.id.clone()];
    name.extend(op.aliases.iter().cloned());
    let mut params: Vec<String> = op.params.iter().map(|p| p.name.clone()).collect();
    // A parameter's allowed values name what the operation can do (`structureGroup`:
    // `areas`, `iterations`). (Their `x-ms-enum` descriptions too were tried: they cost
    // held-out MRR and buried `deleteWorkItems` under long enum prose.)
    for p in &op.params {
        if let Ty::String { enumeration, .. } = resolve(&p.ty, types) {
            params.extend(enumeration.iter().cloned());
        }
    }
    if let Some(b) = &op.body {
        params.push(b.name.clone());
        // What the body carries: its fields, and what recorded requests put in it (the
        // paths of a JSON patch: `/relations/-` says "link", `/fields/System.Title` "title").
        let mut fields = Vec::new();
        properties(&b.ty, types, &mut fields, 0);
        params.extend(fields.into_iter().map(|(n, _)| n.to_string()));
        for e in &op.examples {
            if let Some(v) = e.parameters.as_ref().and_then(|p| p.get(&b.name)) {
                patch_paths(v, &mut params);
            }
        }
    }
    IndexDoc {
        name: name.join(" "),
        summary: summary(op),
        path: format!(
            "{} {}",
            camel_path(op),
            op.path_query.as_deref().unwrap_or("")
        ),
        params: params.join(" "),
        returns: returns.join(" "),
        description: format!(
            "{} {}",
            op.description.as_deref().unwrap_or(""),
            op.tags.join(" ")
        ),
        intent: intent(op).to_string(),
        area: op.area.clone(),
        method: op.method.clone(),
        version: op.version.clone(),
        read_only: op.class == OpClass::Read,
    }
}

/// The `path` of each JSON-patch operation in a recorded request body. (The keys of an
/// object body were tried too: they repeat the body's fields and cost held-out MRR.)
fn patch_paths(body: &serde_json::Value, out: &mut Vec<String>) {
    let ops = body.as_array().into_iter().flatten();
    out.extend(ops.filter(|o| o.get("op").is_some()).filter_map(|o| {
        let path = o.get("path")?.as_str()?;
        Some(path.to_string())
    }));
}

/// The path with each all-lower-case segment written as the operation's own identifiers
/// spell it (`pullrequests` -> `pullRequests`, from the id `git.pullRequests.get...`), so
/// the index splits it into words as it splits the id: `pullrequests` alone matches no
/// query word.
fn camel_path(op: &Operation) -> String {
    let mut spelled: BTreeMap<String, &str> = BTreeMap::new();
    let names = std::iter::once(op.id.as_str())
        .chain(std::iter::once(op.resource.as_str()))
        .chain(op.aliases.iter().map(String::as_str))
        .chain(op.params.iter().map(|p| p.name.as_str()));
    for name in names {
        for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
            if word.chars().skip(1).any(|c| c.is_ascii_uppercase()) {
                spelled.entry(word.to_ascii_lowercase()).or_insert(word);
            }
        }
    }
    op.path
        .split('/')
        // Keys are lower-case letters and digits: only such a segment can match one.
        .map(|seg| spelled.get(seg).copied().unwrap_or(seg))
        .collect::<Vec<_>>()
        .join("/")
}

/// Plain verbs for what a call does: its method, and for reads whether the path ends at
/// one item (`.../{id}`) or a collection.
fn intent(op: &Operation) -> &'static str {
    let one = op.path.trim_end_matches('/').ends_with('}');
    match (op.method.as_str(), op.class) {
        ("GET", _) if one => "get read show one",
        ("GET", _) => "list get all",
        ("POST", OpClass::Read) => "query get list find",
        ("POST", _) => "create add new",
        ("PUT", _) => "replace set update",
        ("PATCH", _) => "update change edit modify set",
        ("DELETE", _) => "delete remove",
        ("HEAD", _) => "check exists",
        _ => "",
    }
}

/// `manifest.json`: what a release publishes beside the artifact.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Shape of this manifest ([`MANIFEST_VERSION`]).
    pub manifest_version: u32,
    /// Artifact format version (`opcat_runtime::FORMAT_VERSION`).
    pub format_version: u32,
    pub name: String,
    /// Where the specs came from (upstream commit when known).
    pub source: String,
    /// Options the catalog was built with.
    pub build: BTreeMap<String, String>,
    pub counts: BTreeMap<String, usize>,
    /// Output files by name.
    pub files: BTreeMap<String, FileEntry>,
}

/// One output file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileEntry {
    pub bytes: u64,
    pub sha256: String,
}

impl FileEntry {
    pub fn of(bytes: &[u8]) -> FileEntry {
        let digest = Sha256::digest(bytes);
        FileEntry {
            bytes: bytes.len() as u64,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// The JSON Schema of [`Manifest`].
pub fn manifest_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Manifest)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_files_are_named_from_their_spec_folder() {
        let spec = "git/7.2/git.json";
        assert_eq!(
            relative_to(spec, "git/7.2/httpExamples/items/GET.json"),
            "httpExamples/items/GET.json"
        );
        assert_eq!(relative_to(spec, "git/common/x.json"), "../common/x.json");
        assert_eq!(relative_to(spec, "other.json"), "../../other.json");
        assert_eq!(relative_to("one.json", "a/b.json"), "a/b.json");
    }

    /// Equal values end as one allocation and unequal ones stay apart, over enough slots to
    /// spread across threads and every shard.
    #[test]
    fn equal_values_become_one_allocation() {
        let values: Vec<String> = (0..5000).map(|i| format!("text {}", i % 1234)).collect();
        let mut slots: Vec<Arc<String>> = values.iter().map(|v| Arc::new(v.clone())).collect();
        share_all(slots.iter_mut().collect());
        let mut first: HashMap<&str, &Arc<String>> = HashMap::new();
        for (slot, value) in slots.iter().zip(&values) {
            assert_eq!(**slot, *value);
            let kept = *first.entry(value.as_str()).or_insert(slot);
            assert!(Arc::ptr_eq(kept, slot), "{value} is two allocations");
        }
        let distinct: BTreeSet<*const String> = slots.iter().map(Arc::as_ptr).collect();
        assert_eq!(distinct.len(), 1234);
    }

    #[test]
    fn first_sentences_and_hosts() {
        assert_eq!(
            first_sentence("Retrieve all pull requests. Please note x.\n\nMore"),
            "Retrieve all pull requests."
        );
        assert_eq!(first_sentence("Version 7.2 is here"), "Version 7.2 is here");
        assert_eq!(
            host_of("https://vsrm.dev.azure.com"),
            "https://vsrm.dev.azure.com"
        );
        assert_eq!(
            host_of("https://fabrikam-fiber-inc:8080/DefaultCollection"),
            "https://fabrikam-fiber-inc:8080"
        );
    }
}
