//! BM25 search over the artifact's index, with filters, exact-name hits and a weak-match flag.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Index, IndexReader, ReloadPolicy, Term};

use crate::error::Error;
use crate::glossary;
use crate::index::{self, FIELDS};
use crate::{Catalog, Operation};

/// A best BM25 score below this means no operation matches the query well: the caller is
/// told (`weak`) instead of being handed noise as if it were an answer. Calibrated on the
/// Azure DevOps catalog, where on-topic queries score above ~8 and off-topic ones below 5.
pub const WEAK_SCORE: f32 = 6.0;

/// How hits are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SearchMode {
    /// BM25 over the words of names, summaries, paths, parameters and response fields.
    #[default]
    Bm25,
}

impl SearchMode {
    /// Every mode, in the order reports list them.
    pub const ALL: [SearchMode; 1] = [SearchMode::Bm25];

    pub fn name(self) -> &'static str {
        match self {
            SearchMode::Bm25 => "bm25",
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
    parser: QueryParser,
    area: Field,
    method: Field,
    version: Field,
    class: Field,
}

impl Search {
    fn open(catalog: &Catalog) -> Result<Search, Error> {
        let index: Index = index::open(catalog.index_files())?;
        let schema = index.schema();
        let fields: Vec<Field> = FIELDS
            .iter()
            .map(|(n, _)| index::field(&schema, n))
            .collect::<Result<_, _>>()?;
        let mut parser = QueryParser::for_index(&index, fields.clone());
        for (f, (_, boost)) in fields.iter().zip(FIELDS) {
            parser.set_field_boost(*f, boost);
        }
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
        Ok(Search {
            reader,
            parser,
            area: index::field(&schema, "area")?,
            method: index::field(&schema, "method")?,
            version: index::field(&schema, "version")?,
            class: index::field(&schema, "class")?,
        })
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

    /// Searches operations by meaning of words (BM25 over names, summaries, paths,
    /// parameter names and response field names). A query that is exactly an id, alias or
    /// operationId puts that operation first.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> Result<SearchResult<'_>, Error> {
        let s = self.searcher()?;
        let limit = opts.limit.max(1);
        let keep = |op: &Operation<'_>| {
            opts.area.as_deref().is_none_or(|a| op.area() == a)
                && opts
                    .method
                    .as_deref()
                    .is_none_or(|m| op.method().eq_ignore_ascii_case(m))
                && (!opts.read_only || op.record().read_only)
                && opts.version.as_deref().is_none_or(|v| op.version() == v)
        };
        let mut hits: Vec<Hit<'_>> = Vec::new();
        if let Some(op) = self.operation(query).filter(|o| keep(o)) {
            hits.push(Hit {
                op,
                score: f32::INFINITY,
                exact: true,
            });
        }
        let text = index::prepare_text(&glossary::expand(query)).to_lowercase();
        let (text_query, _errors) = s.parser.parse_query_lenient(&text);
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
                .search(&query, &TopDocs::with_limit(limit + 1).order_by_score())
                .map_err(Error::index)
        })?;
        let best = top.first().map_or(0.0, |(score, _)| *score);
        for (score, addr) in top {
            let Some(op) = self.operation_at(addr.doc_id as usize) else {
                continue;
            };
            if hits
                .iter()
                .any(|h| h.op.id() == op.id() && h.op.version() == op.version())
            {
                continue;
            }
            hits.push(Hit {
                op,
                score,
                exact: false,
            });
        }
        hits.truncate(limit);
        let exact = hits.first().is_some_and(|h| h.exact);
        Ok(SearchResult {
            weak: !exact && best < WEAK_SCORE,
            hits,
        })
    }
}
