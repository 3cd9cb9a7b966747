//! Search: BM25 over the artifact's index, dense cosine over its vectors, and their fusion
//! (scores scaled to 0..1 and averaged), with filters, exact-name hits and a weak-match flag.

use std::sync::OnceLock;

use foldhash::{HashMap, HashMapExt, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, ReloadPolicy, Term};

use crate::error::Error;
use crate::glossary;
use crate::index::{self, FIELDS};
use crate::rerank::{self, QueryShape};
use crate::{Catalog, Operation};

/// A best BM25 score below this means no operation matches the query well: the caller is
/// told (`weak`) instead of being handed noise as if it were an answer. Calibrated on the
/// Azure DevOps catalog, where on-topic queries score above ~8 and off-topic ones below 5.
pub const WEAK_SCORE: f32 = 6.0;

/// The dense counterpart of [`WEAK_SCORE`]: a best cosine below this is no good match.
/// Vectors are stored projected onto the operations' principal directions (format 5),
/// which drops much of what sets an off-topic query apart and lifts its cosine: on the
/// Azure DevOps catalog the best cosine of 480 of the 484 queries of both bench files is
/// above this, and off-topic queries ("banana bread recipe with walnuts") score 0.24-0.45.
pub const WEAK_COSINE: f32 = 0.46;

/// How many candidates each ranking hands to fusion.
const FUSE_DEPTH: usize = 50;

/// How hits are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SearchMode {
    /// BM25 over the words of names, summaries, paths, parameters and response fields.
    Bm25,
    /// Cosine similarity of embeddings (the query embedded with the static token table,
    /// or by the caller with the full model).
    Dense,
    /// Both, fused by their scores, each ranking's scaled to 0..1. Falls back to BM25 when
    /// the catalog has no embedding index.
    #[default]
    Hybrid,
}

impl SearchMode {
    /// Every mode, in the order reports list them.
    pub const ALL: [SearchMode; 3] = [SearchMode::Bm25, SearchMode::Dense, SearchMode::Hybrid];

    pub fn name(self) -> &'static str {
        match self {
            SearchMode::Bm25 => "bm25",
            SearchMode::Dense => "dense",
            SearchMode::Hybrid => "hybrid",
        }
    }
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SearchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<SearchMode, String> {
        SearchMode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = SearchMode::ALL.iter().map(|m| m.name()).collect();
                format!(
                    "unknown search mode `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Search options.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Most hits returned.
    pub limit: usize,
    /// Ranking.
    pub mode: SearchMode,
    /// Only this area (`git`, `wit`, ...).
    pub area: Option<String>,
    /// Only this HTTP method (any case).
    pub method: Option<String>,
    /// Only operations that do not change state.
    pub read_only: bool,
    /// Only this version folder (`7.2`).
    pub version: Option<String>,
    /// Re-rank the best candidates by structure (the query's action and object against
    /// each operation's method and path; [`crate::rerank`]). On by default.
    pub rerank: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 10,
            mode: SearchMode::default(),
            area: None,
            method: None,
            read_only: false,
            version: None,
            rerank: true,
        }
    }
}

/// One search hit.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub op: Operation<'a>,
    pub score: f32,
    /// The query named this operation exactly (id, alias or operationId).
    pub exact: bool,
}

/// Hits, best first, and whether even the best is a weak match.
#[derive(Debug, Clone)]
pub struct SearchResult<'a> {
    pub hits: Vec<Hit<'a>>,
    pub weak: bool,
}

/// The opened index (lazily, on first search).
pub(crate) struct Search {
    reader: IndexReader,
    /// The text fields and their boosts ([`FIELDS`]), and the analyzer they share.
    text_fields: Vec<(Field, f32)>,
    analyzer: TextAnalyzer,
    area: Field,
    method: Field,
    version: Field,
    class: Field,
    /// The catalog's newest version ([`rerank::version_rank`]).
    newest: rerank::VersionRank,
    /// Operations per distinct id, rounded up: 1 for one version, about 10 for every
    /// version of Azure DevOps. A ranking is read this much deeper before each id is kept
    /// once, so that versions of one operation do not fill the candidates.
    spread: usize,
    /// Each operation's newest version (by catalog index), when `spread` is above 1.
    newest_of: Vec<usize>,
    /// For a catalog whose index documents are shared by versions ([`crate::format::CatalogData::index_ops`]):
    /// (first operation of a document, version's label) -> that version's operation. Made by the
    /// first search with a version filter: it was two thirds of opening the search of an
    /// all-versions catalog, which a search without a filter never reads.
    by_version: OnceLock<HashMap<(usize, u32), usize>>,
}

/// The BM25 query of a prepared, lower-case text: each of its words, in every text field
/// with that field's boost, scores summed. It is what tantivy's query parser builds from
/// the text with these default fields and boosts (terms OR-ed), scores equal, without
/// parsing a query language the text cannot hold (`prepare_text` leaves words only) and
/// with one clause per term instead of a clause per word holding one per field: a word
/// written twice counts once, as the parser dedups its literals; two words of one stem
/// ("query", "queries") count twice, as the parser's two literals do; a word that is not
/// one token is left out, as the parser leaves it (no positions are indexed for a
/// phrase). Every hit and score of the 717 benchmark queries in bm25 and hybrid was the
/// parser's; p50 per query: `queries.jsonl` bm25 0.24-0.37 -> 0.19-0.23 ms,
/// `tuning-described.jsonl` hybrid 1.14-1.15 -> 0.73-0.87 ms.
fn text_query(fields: &[(Field, f32)], analyzer: &TextAnalyzer, text: &str) -> Box<dyn Query> {
    let mut analyzer = analyzer.clone();
    let mut words: Vec<&str> = Vec::new();
    let mut terms: Vec<(String, f32)> = Vec::new();
    for word in text.split_whitespace() {
        if words.contains(&word) {
            continue;
        }
        words.push(word);
        let mut tokens: Vec<String> = Vec::with_capacity(1);
        analyzer
            .token_stream(word)
            .process(&mut |t| tokens.push(t.text.clone()));
        let Ok([token]) = <[String; 1]>::try_from(tokens) else {
            continue;
        };
        match terms.iter_mut().find(|(t, _)| *t == token) {
            Some((_, n)) => *n += 1.0,
            None => terms.push((token, 1.0)),
        }
    }
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .iter()
        .flat_map(|(token, n)| {
            fields.iter().map(move |&(field, boost)| {
                let term = TermQuery::new(
                    Term::from_field_text(field, token),
                    IndexRecordOption::WithFreqs,
                );
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(term), boost * n)) as Box<dyn Query>,
                )
            })
        })
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

/// `by_id` (each operation's id's newest version) carried on to a newer twin of another
/// id: an operation a later version renamed (`distributedTask.pools.getAgentPools` of 6.0
/// is `distributedTask.taskAgent.pools.getAgentPools` from 6.1, its spec file's tags
/// changed) or an on-premises spec's (`feed-onprem.json`: `artifacts.artifactDetails.getPackage`
/// beside the cloud's `artifacts.feed.artifactDetails.getPackage`). Twins are the same
/// area, method and path, parameter names aside (`{collection}` for `{organization}`), in
/// the newest version holding that path; where either version has several operations on
/// it (`getAgentPools` and `getAgentPoolsByIds`; 7.1's `agents.getPoolPermission` beside
/// `agents.get`), the one of the same operationId, and none if that does not tell.
fn twins(catalog: &Catalog, by_id: Vec<usize>) -> Vec<usize> {
    use std::hash::BuildHasher;
    // Versions in order (cloud above on-premises, then by number), by label: an operation's
    // version is a label, and there are a few dozen of them.
    let mut labels: Vec<u32> = catalog
        .operations()
        .map(|o| o.op.version.to_native())
        .collect();
    labels.sort_unstable();
    labels.dedup();
    labels.sort_by_cached_key(|&l| {
        rerank::version_rank(
            catalog
                .data()
                .labels
                .get(l as usize)
                .map_or("", |s| s.as_str()),
        )
    });
    let order: HashMap<u32, u32> = labels.iter().zip(0..).map(|(&l, i)| (l, i)).collect();
    // (shape, version's order, operation), shape hashed: area, method and the path's
    // segments, a parameter's name left out.
    // Versions of an operation share one stored text of an equal path (the artifact
    // keeps equal texts once): a path is split and hashed once per text.
    let hasher = foldhash::fast::FixedState::with_seed(0);
    let mut text = Vec::new();
    let mut of_text: HashMap<(*const u8, &str, &str), u64> = HashMap::new();
    let mut all: Vec<(u64, u32, usize)> = catalog
        .operations()
        .map(|o| {
            let key = (o.path().as_ptr(), o.area(), o.method());
            let shape = *of_text.entry(key).or_insert_with(|| {
                text.clear();
                text.extend_from_slice(o.area().as_bytes());
                text.push(0);
                text.extend_from_slice(o.method().as_bytes());
                for seg in o.path().split('/') {
                    text.push(b'/');
                    if !seg.starts_with('{') {
                        text.extend(seg.bytes().map(|b| b.to_ascii_lowercase()));
                    }
                }
                hasher.hash_one(&text)
            });
            let version = order.get(&o.op.version.to_native()).copied().unwrap_or(0);
            (shape, version, o.index())
        })
        .collect();
    all.sort_unstable();
    // For each operation older than the newest version holding its shape, that version's
    // twin of it.
    let mut twin: HashMap<usize, usize> = HashMap::new();
    for group in all.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(_, best, _)) = group.last() else {
            continue;
        };
        let newer: Vec<usize> = group.iter().filter(|g| g.1 == best).map(|g| g.2).collect();
        let operation_id = |i: usize| catalog.operation_at(i).map(|o| o.operation_id());
        for own in group.chunk_by(|a, b| a.1 == b.1) {
            if own[0].1 == best {
                break;
            }
            for &(_, _, i) in own {
                // Of several operations on that path, in either version (a list and a
                // list by ids), the one of the same operationId.
                let same: Vec<usize> = match newer.as_slice() {
                    [t] if own.len() == 1 => vec![*t],
                    _ => newer
                        .iter()
                        .copied()
                        .filter(|&t| operation_id(t) == operation_id(i))
                        .collect(),
                };
                if let [t] = same.as_slice() {
                    twin.insert(i, *t);
                }
            }
        }
    }
    by_id
        .iter()
        .map(|&n| match twin.get(&n) {
            // The twin as its own id's newest version, should a later one have moved.
            Some(&t) => by_id.get(t).copied().unwrap_or(t),
            None => n,
        })
        .collect()
}

impl Search {
    fn open(catalog: &Catalog) -> Result<Search, Error> {
        let index: Index = index::open(catalog.index_files())?;
        let schema = index.schema();
        let fields: Vec<Field> = FIELDS
            .iter()
            .map(|(n, _)| index::field(&schema, n))
            .collect::<Result<_, _>>()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(Error::index)?;
        let segments = reader.searcher().segment_readers().len();
        if segments > 1 {
            return Err(Error::Index {
                message: format!("expected one segment, found {segments}"),
            });
        }
        let ids: HashSet<&str> = catalog.operations().map(|o| o.id()).collect();
        let spread = catalog.len().div_ceil(ids.len().max(1)).max(1);
        // In a catalog of several versions, each id's newest version, looked up by name once
        // per id (not per version); a catalog of one version needs none.
        let newest_of = if spread > 1 {
            let mut newest: HashMap<&str, Option<usize>> = HashMap::with_capacity(ids.len());
            let by_id: Vec<usize> = catalog
                .operations()
                .map(|o| {
                    newest
                        .entry(o.id())
                        .or_insert_with(|| catalog.operation(o.id()).map(|n| n.index()))
                        .unwrap_or(o.index())
                })
                .collect();
            twins(catalog, by_id)
        } else {
            Vec::new()
        };
        let analyzer = index.tokenizer_for_field(fields[0]).map_err(Error::index)?;
        Ok(Search {
            reader,
            text_fields: fields
                .iter()
                .zip(FIELDS)
                .map(|(f, (_, b))| (*f, b))
                .collect(),
            analyzer,
            area: index::field(&schema, "area")?,
            method: index::field(&schema, "method")?,
            version: index::field(&schema, "version")?,
            class: index::field(&schema, "class")?,
            newest: catalog
                .operations()
                .map(|o| rerank::version_rank(o.version()))
                .max()
                .unwrap_or_default(),
            spread,
            newest_of,
            by_version: OnceLock::new(),
        })
    }

    /// Each version of an operation whose document is shared, by the document's first
    /// operation: versions of one id, in catalog order, share a document only with an
    /// earlier version of the same id.
    fn by_version(catalog: &Catalog) -> HashMap<(usize, u32), usize> {
        let mut out = HashMap::default();
        let mut first_of: HashMap<&str, Vec<usize>> = HashMap::default();
        for f in catalog
            .data()
            .index_ops
            .iter()
            .map(|o| o.to_native() as usize)
        {
            if let Some(op) = catalog.operation_at(f) {
                first_of.entry(op.id()).or_default().push(f);
            }
        }
        if first_of.is_empty() {
            return out;
        }
        for op in catalog.operations() {
            for &f in first_of.get(op.id()).into_iter().flatten() {
                out.insert((f, op.record().version.to_native()), op.index());
            }
        }
        out
    }
}

/// Runs tantivy code over the artifact's index bytes. A valid checksum does not prove those
/// bytes well-formed (a crafted file can carry one), and tantivy panics on some damage: a
/// panic becomes [`Error::Index`], so no input can panic the caller.
fn guard<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::Index {
            message: format!("corrupted index (tantivy panicked: {why})"),
        })
    })
}

impl Catalog {
    fn searcher(&self) -> Result<&Search, Error> {
        self.search
            .get_or_init(|| guard(|| Search::open(self)).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|m| Error::Index { message: m.clone() })
    }

    /// The operation a search without a version filter shows for `op`: its id's newest
    /// version, or the newer twin a later version renamed it to (the same area, method
    /// and path); `op` itself in a catalog of one version.
    pub fn current<'a>(&'a self, op: &Operation<'a>) -> Result<Operation<'a>, Error> {
        let searcher = self.searcher()?;
        Ok(searcher
            .newest_of
            .get(op.index())
            .and_then(|&n| self.operation_at(n))
            .unwrap_or(*op))
    }

    /// The structural features the re-rank reads for `query` and each operation of
    /// `indexes` (`rerank::features`; `None` for an index past the catalog), for fitting the
    /// re-rank's weights offline (`opcat bench --features`).
    #[doc(hidden)]
    pub fn rerank_features(
        &self,
        query: &str,
        indexes: &[usize],
    ) -> Result<Vec<Option<[f32; rerank::FEATURES.len()]>>, Error> {
        let newest = &self.searcher()?.newest;
        let shape = QueryShape::of(query);
        Ok(indexes
            .iter()
            .map(|&i| {
                self.operation_at(i)
                    .map(|op| rerank::features(&shape, &op, newest))
            })
            .collect())
    }

    /// Searches operations: BM25 over names, summaries, paths, parameter and response
    /// field names; dense similarity of embeddings; or both fused (the default). A query
    /// that is exactly an id, alias or operationId puts that operation first.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> Result<SearchResult<'_>, Error> {
        self.search_with_vector(query, None, opts)
    }

    /// [`Catalog::search`] with the query's embedding computed by the caller (with the
    /// catalog's own model, [`Catalog::dense_model`]); `None` embeds it with the static
    /// token table. The vector must be unit length.
    pub fn search_with_vector(
        &self,
        query: &str,
        vector: Option<&[f32]>,
        opts: &SearchOptions,
    ) -> Result<SearchResult<'_>, Error> {
        let limit = opts.limit.max(1);
        let keep = |op: &Operation<'_>| {
            opts.area.as_deref().is_none_or(|a| op.area() == a)
                && opts
                    .method
                    .as_deref()
                    .is_none_or(|m| op.method().eq_ignore_ascii_case(m))
                && (!opts.read_only || op.read_only())
                && opts.version.as_deref().is_none_or(|v| op.version() == v)
        };
        let mode = match opts.mode {
            SearchMode::Hybrid if !self.has_dense() => SearchMode::Bm25,
            m => m,
        };
        let depth = if mode == SearchMode::Hybrid {
            FUSE_DEPTH.max(limit + 1)
        } else {
            rerank::DEPTH.max(limit + 1)
        };
        // Without a version filter each id counts once, as its newest version: the rankings
        // are read deeper and folded onto it before fusion and re-rank.
        let searcher = self.searcher()?;
        let spread = match opts.version {
            None => searcher.spread,
            Some(_) => 1,
        };
        let newest_only = |ranked: Vec<(usize, f32)>| -> Vec<(usize, f32)> {
            if spread == 1 {
                return ranked;
            }
            let mut out: Vec<(usize, f32)> = Vec::with_capacity(depth);
            for (i, score) in ranked {
                if out.len() == depth {
                    break;
                }
                let Some(&n) = searcher.newest_of.get(i) else {
                    continue;
                };
                let newest = self
                    .operation_at(n)
                    .filter(|o| keep(o))
                    .map_or(i, |o| o.index());
                if !out.iter().any(|(j, _)| *j == newest) {
                    out.push((newest, score));
                }
            }
            out
        };
        let bm25 = match mode {
            SearchMode::Dense => Vec::new(),
            _ => newest_only(self.bm25(query, opts, depth * spread)?),
        };
        let dense = match mode {
            SearchMode::Bm25 => Vec::new(),
            _ => newest_only(self.dense_ranked(focus(query), vector, &keep, depth * spread)?),
        };
        let weak_bm25 = bm25.first().is_none_or(|(_, s)| *s < WEAK_SCORE);
        let weak_dense = dense.first().is_none_or(|(_, s)| *s < WEAK_COSINE);
        let (mut ranked, weak) = match mode {
            SearchMode::Bm25 => (bm25, weak_bm25),
            SearchMode::Dense => (dense, weak_dense),
            // Embeddings tell on-topic from off-topic better than word overlap does (a
            // recipe shares words with some operation); BM25 decides only when the query
            // has no word the table knows.
            SearchMode::Hybrid if dense.is_empty() => (bm25, weak_bm25),
            SearchMode::Hybrid => (fuse(&[&bm25, &dense]), weak_dense),
        };
        if opts.rerank {
            let shape = QueryShape::of(query);
            let newest = &searcher.newest;
            rerank::rerank(
                &mut ranked,
                |i| {
                    self.operation_at(i)
                        .map(|op| rerank::fit(&shape, &op, newest))
                },
                |i| {
                    self.operation_at(i)
                        .and_then(|op| rerank::twin(&shape, &op))
                },
            );
        }
        let mut hits: Vec<Hit<'_>> = Vec::new();
        // A name only older versions carry (an operationId since renamed) names the newest
        // of those; without a version filter the hit is the id's newest version, which the
        // rankings hold, so the id comes once.
        let named = match (self.operation(query), &opts.version) {
            (Some(op), None) => {
                let current = self.current(&op)?;
                Some(if keep(&current) { current } else { op })
            }
            (named, _) => named,
        };
        if let Some(op) = named.filter(|o| keep(o)) {
            hits.push(Hit {
                op,
                score: f32::INFINITY,
                exact: true,
            });
        }
        for (index, score) in ranked {
            if hits.len() >= limit {
                break;
            }
            // Each id is already its newest version (`newest_only`) unless a version was
            // asked for; the exact-name hit comes again in the rankings.
            let Some(op) = self.operation_at(index) else {
                continue;
            };
            if hits.iter().any(|h| h.op.index() == op.index()) {
                continue;
            }
            hits.push(Hit {
                op,
                score,
                exact: false,
            });
        }
        let exact = hits.first().is_some_and(|h| h.exact);
        Ok(SearchResult {
            weak: !exact && weak,
            hits,
        })
    }

    /// Several intents in one search (a task that needs three operations is one call):
    /// each query is answered in turn with `opts`, and an operation already returned for
    /// an earlier query is left out of later ones, its place taken by the next hit, so
    /// every operation appears once over the whole answer. `vectors`, when not empty,
    /// holds each query's embedding as in [`Catalog::search_with_vector`].
    pub fn search_many(
        &self,
        queries: &[&str],
        vectors: &[Option<&[f32]>],
        opts: &SearchOptions,
    ) -> Result<Vec<SearchResult<'_>>, Error> {
        let mut seen: Vec<usize> = Vec::new();
        let mut out = Vec::with_capacity(queries.len());
        for (i, query) in queries.iter().enumerate() {
            let deeper = SearchOptions {
                limit: opts.limit.max(1).saturating_add(seen.len()),
                ..opts.clone()
            };
            let vector = vectors.get(i).copied().flatten();
            let mut result = self.search_with_vector(query, vector, &deeper)?;
            result.hits.retain(|h| !seen.contains(&h.op.index()));
            result.hits.truncate(opts.limit.max(1));
            seen.extend(result.hits.iter().map(|h| h.op.index()));
            out.push(result);
        }
        Ok(out)
    }

    /// BM25 ranking (filters applied in the index), best first.
    fn bm25(
        &self,
        query: &str,
        opts: &SearchOptions,
        depth: usize,
    ) -> Result<Vec<(usize, f32)>, Error> {
        let s = self.searcher()?;
        let text = index::prepare_text(&glossary::expand(query)).to_lowercase();
        let text_query = text_query(&s.text_fields, &s.analyzer, &text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query)];
        let term = |f: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, v),
                IndexRecordOption::Basic,
            ))
        };
        if let Some(a) = &opts.area {
            clauses.push((Occur::Must, term(s.area, a)));
        }
        if let Some(m) = &opts.method {
            clauses.push((Occur::Must, term(s.method, &m.to_uppercase())));
        }
        if let Some(v) = &opts.version {
            clauses.push((Occur::Must, term(s.version, v)));
        }
        if opts.read_only {
            clauses.push((Occur::Must, term(s.class, "read")));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = s.reader.searcher();
        let top = guard(|| {
            searcher
                .search(&query, &TopDocs::with_limit(depth).order_by_score())
                .map_err(Error::index)
        })?;
        // A document shared by versions stands for its first; a version filter asks for
        // that version of it.
        let shared = &self.data().index_ops;
        // The version asked for, as the label records name it (none: no operation has it).
        let label = opts.version.as_deref().map(|v| self.label_of(v));
        Ok(top
            .into_iter()
            .filter_map(|(score, addr)| {
                let doc = addr.doc_id as usize;
                if shared.is_empty() {
                    return Some((doc, score));
                }
                let op = shared.get(doc)?.to_native() as usize;
                match label {
                    None => Some((op, score)),
                    Some(v) => s
                        .by_version
                        .get_or_init(|| Search::by_version(self))
                        .get(&(op, v?))
                        .map(|&o| (o, score)),
                }
            })
            .collect())
    }

    /// Dense ranking of the operations `keep` accepts, best first; empty when the query
    /// has no word the static table knows.
    fn dense_ranked(
        &self,
        query: &str,
        vector: Option<&[f32]>,
        keep: &dyn Fn(&Operation<'_>) -> bool,
        depth: usize,
    ) -> Result<Vec<(usize, f32)>, Error> {
        let own;
        let q = match vector {
            Some(v) => v,
            None => match self.embed_query(&glossary::expand(query))? {
                Some(v) => {
                    own = v;
                    &own
                }
                None => return Ok(Vec::new()),
            },
        };
        let mut scored: Vec<(usize, f32)> = self
            .cosines(q)?
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.operation_at(*i).is_some_and(|o| keep(&o)))
            .collect();
        // Only the best `depth` are wanted: select them, then sort those (a catalog of every
        // version has ten times the operations; sorting them all took a third of a search).
        let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if scored.len() > depth && depth > 0 {
            scored.select_nth_unstable_by(depth - 1, order);
            scored.truncate(depth);
        }
        scored.sort_by(order);
        Ok(scored)
    }
}

/// A query of several sentences (a tool's description) says what it does in the first one;
/// the rest is mostly how it is called ("If a project is not specified, ..."), words whose
/// embedding pulls the query's mean toward every operation a little. The embedding reads
/// the first sentence only; BM25 keeps every word. On `benches/tuning-long.jsonl` (32
/// descriptions written for tuning) hybrid MRR@10 0.587 -> 0.614; BM25 on the first
/// sentence too gave 0.650 there but lost on the held-out file, so it was not kept.
///
/// A long first sentence (more than [`CLAUSE_WORDS`] words) is read to its first comma:
/// what follows elaborates ("Lists the agents registered in an agent pool, including
/// online status, enabled flag, version and operating system"), and each elaborating word
/// pulls the mean of the query's token rows away from the operation. Dense MRR@10 on
/// `benches/tuning-long.jsonl` 0.704 -> 0.840 (hybrid 0.798 -> 0.870), on
/// `benches/tuning-described.jsonl` 0.585 -> 0.652 (hybrid 0.761 -> 0.784, R@5 0.930 ->
/// 0.970); `queries.jsonl` and `tuning-terse.jsonl` equal. Cutting at any comma lost
/// `queries.jsonl`'s "who changed which field on a work item, the deltas between
/// revisions" (12 words); cutting before elaborating words ("including", "such as",
/// "optionally"...) or at any of `,;:(` did less well.
fn focus(query: &str) -> &str {
    let first = rerank::first_sentence(query);
    match first.find(", ") {
        Some(i)
            if first.split_whitespace().count() > CLAUSE_WORDS
                && first[..i].split_whitespace().count() >= 3 =>
        {
            &first[..i]
        }
        _ => first,
    }
}

/// A first sentence longer than this many words is a description's, read to its first
/// comma by [`focus`].
const CLAUSE_WORDS: usize = 12;

/// Fusion of rankings (best first) by their scores: each ranking's scores are scaled to
/// 0..1 between its last and its first hit (min-max), and a hit scores the mean over the
/// rankings, 0 where a ranking does not hold it. Ties go to the lower catalog index.
///
/// Scores keep what ranks drop: how far ahead the best hit of a ranking is. Reciprocal rank
/// fusion (k = 60) came before it; against it, same session, on `benches/queries.jsonl`
/// hybrid R@5 0.902 -> 0.917, MRR@10 0.725 -> 0.737 and on `benches/tuning-long.jsonl`
/// 0.844 -> 0.875, 0.685 -> 0.699. Weights of 0.3-0.7 for BM25 were tried; equal weights
/// were best on the two files together.
fn fuse(rankings: &[&[(usize, f32)]]) -> Vec<(usize, f32)> {
    let mut score: std::collections::BTreeMap<usize, f32> = Default::default();
    let share = 1.0 / rankings.len().max(1) as f32;
    for ranking in rankings {
        let (Some(first), Some(last)) = (ranking.first(), ranking.last()) else {
            continue;
        };
        let span = first.1 - last.1;
        for &(index, s) in ranking.iter() {
            let scaled = if span > f32::EPSILON {
                (s - last.1) / span
            } else {
                1.0
            };
            *score.entry(index).or_default() += share * scaled;
        }
    }
    let mut fused: Vec<(usize, f32)> = score.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

#[cfg(test)]
mod tests {
    use super::{Field, Query, focus, fuse, text_query};

    /// The query built without the parser scores every document as tantivy's parser's
    /// query does, repeated words and shared stems included.
    #[test]
    fn the_text_query_is_the_parsers() {
        use crate::index::{self, FIELDS, IndexDoc};
        use tantivy::collector::TopDocs;
        use tantivy::query::QueryParser;
        let doc = |name: &str, summary: &str, description: &str| IndexDoc {
            name: name.into(),
            summary: summary.into(),
            path: "/_apis/wit/queries".into(),
            params: "project query".into(),
            returns: "queries".into(),
            description: description.into(),
            intent: "list".into(),
            area: "wit".into(),
            method: "GET".into(),
            version: "7.2".into(),
            read_only: true,
        };
        let docs = [
            doc(
                "wit.queries.list",
                "List queries",
                "Gets the root queries and folders.",
            ),
            doc(
                "wit.wiql.queryByWiql",
                "Query by WIQL",
                "Runs a work item query.",
            ),
            doc(
                "build.folders.list",
                "Folders",
                "Gets a list of build definition folders.",
            ),
        ];
        let files = index::build(&docs).unwrap();
        let files = files
            .into_iter()
            .map(|f| {
                (
                    std::path::PathBuf::from(f.path),
                    tantivy::directory::OwnedBytes::new(f.bytes),
                )
            })
            .collect();
        let idx = index::open(files).unwrap();
        let fields: Vec<(Field, f32)> = FIELDS
            .iter()
            .map(|(n, b)| (index::field(&idx.schema(), n).unwrap(), *b))
            .collect();
        let mut parser = QueryParser::for_index(&idx, fields.iter().map(|(f, _)| *f).collect());
        for (f, b) in &fields {
            parser.set_field_boost(*f, *b);
        }
        let analyzer = idx.tokenizer_for_field(fields[0].0).unwrap();
        let searcher = idx.reader().unwrap().searcher();
        let top = |q: &dyn Query| {
            searcher
                .search(q, &TopDocs::with_limit(10).order_by_score())
                .unwrap()
        };
        for text in [
            "list my saved queries and shared query folders",
            "query query",
            "run a wiql query work item query",
            "",
            "folders",
        ] {
            let (parsed, _) = parser.parse_query_lenient(text);
            let (want, got) = (top(&*parsed), top(&*text_query(&fields, &analyzer, text)));
            assert_eq!(want.len(), got.len(), "{text:?}");
            for ((ws, wd), (gs, gd)) in want.iter().zip(&got) {
                assert_eq!(wd, gd, "{text:?}");
                assert!((ws - gs).abs() < 1e-4, "{text:?}: {ws} against {gs}");
            }
        }
    }

    #[test]
    fn fusion_averages_scaled_scores() {
        // BM25 puts 8 far ahead; the embedding ranks 7 first by a hair over 8.
        let bm25 = [(8, 20.0), (7, 6.0), (9, 2.0)];
        let dense = [(7, 0.62), (8, 0.61), (9, 0.22)];
        let fused = fuse(&[&bm25, &dense]);
        let order: Vec<usize> = fused.iter().map(|h| h.0).collect();
        // Reciprocal rank fusion ties 7 and 8 (and the tie goes to 7); scores put 8 first.
        assert_eq!(order, [8, 7, 9]);
        assert!((fused[0].1 - (1.0 + 0.975) / 2.0).abs() < 1e-3);
        assert_eq!(fused[2].1, 0.0);
        // A hit of one ranking only gets half; a ranking of one hit scales it to 1.
        let fused = fuse(&[&[(3, 5.0)], &[(4, 0.5), (5, 0.1)]]);
        assert_eq!(fused, [(3, 0.5), (4, 0.5), (5, 0.0)]);
        assert!(fuse(&[&[], &[]]).is_empty());
    }

    #[test]
    fn a_long_first_sentence_is_read_to_its_first_comma() {
        assert_eq!(
            focus(
                "Lists the agents registered in an agent pool, including online status, \
                 enabled flag and version. Results are paged."
            ),
            "Lists the agents registered in an agent pool"
        );
        // Twelve words or fewer: the whole sentence.
        let short = "who changed which field on a work item, the deltas between revisions";
        assert_eq!(focus(short), short);
        // A comma too early leaves too little: the whole sentence.
        let early = "Lists, for every repository of a project that the caller may read, \
                     its branches and tags";
        assert_eq!(focus(early), early);
    }

    #[test]
    fn a_description_is_searched_by_its_first_sentence() {
        assert_eq!(
            focus("List teams. If a project is not specified, you will be prompted."),
            "List teams"
        );
        assert_eq!(
            focus("list teams of project Fabrikam"),
            "list teams of project Fabrikam"
        );
        // A period inside a name or version is no sentence end.
        assert_eq!(
            focus("get build 7.2 logs. Output is JSON."),
            "get build 7.2 logs"
        );
        assert_eq!(
            focus("List files in src/main.rs of a repo"),
            "List files in src/main.rs of a repo"
        );
    }
}
