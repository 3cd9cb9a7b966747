//! `opcat bench`: the offline search benchmark. Runs a JSONL query set (or one the catalog
//! writes itself: each operation's summary or name words) against the artifact in each
//! ranking mode and reports primary Recall@1/5/10, MRR@10, recall@10 of the expected ids,
//! and query latency percentiles.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use opcat_compiler::output::{BenchMiss, BenchMode, BenchOutput};
use opcat_runtime::{Catalog, SearchMode, SearchOptions};
use serde::Deserialize;

use crate::query_cmd::{DEFAULT_CATALOG, open};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Query set, one JSON object per line:
    /// `{"query": "...", "expected": ["<id>", ...], "primary": "<id>"}`; an id is a catalog
    /// id, an alias, or `<spec file>#<operationId>`.
    #[arg(
        long,
        value_name = "FILE.jsonl",
        required_unless_present = "from_catalog"
    )]
    queries: Option<PathBuf>,
    /// Instead of a file, queries the catalog writes itself: every operation whose summary
    /// (`summaries`, three words or more) or whose name's words (`names`: `getBuildChanges`
    /// -> "get build changes", two words or more) no other operation shares, searched by
    /// them and expected first. A check of "an exact summary match wins", not a benchmark
    /// of how people ask.
    #[arg(long, value_name = "KIND", conflicts_with = "queries")]
    from_catalog: Option<Generated>,
    /// Ranking modes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "bm25,dense,hybrid")]
    modes: Vec<SearchMode>,
    /// Also measure dense and hybrid with queries embedded by the full model (needs the
    /// model files: scripts/setup-models.sh); reported as `dense+model`, `hybrid+model`.
    #[arg(long)]
    full_model: bool,
    /// Timed passes over the query set (after one warm-up pass) for the latency figures.
    #[arg(long, default_value_t = 5, value_name = "N")]
    repeat: usize,
    /// Also measure each mode without the structural re-rank (reported as `<mode>-rerank`),
    /// to see what it changes in the same run.
    #[arg(long)]
    without_rerank: bool,
    /// Also list the queries whose primary operation is not in the top 5.
    #[arg(long)]
    misses: bool,
    /// Print JSON (schemas/bench.schema.json).
    #[arg(long)]
    json: bool,
    /// Instead of measuring, write each query's hybrid candidates before the re-rank, with
    /// their BM25 and dense scores and the re-rank's structural features, one JSON object
    /// per query: what `benches/fit_rerank.py` fits the re-rank's weights on.
    #[arg(long, value_name = "FILE.jsonl", hide = true)]
    features: Option<PathBuf>,
    /// Artifact to read.
    #[arg(long, default_value = DEFAULT_CATALOG, value_name = "FILE")]
    catalog: PathBuf,
}

/// One line of the query file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryLine {
    query: String,
    expected: Vec<String>,
    primary: String,
}

/// A query with its ids resolved to operation indexes.
#[derive(Debug)]
struct Query {
    text: String,
    primary: usize,
    expected: Vec<usize>,
}

/// The query sets [`BenchArgs::from_catalog`] writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Generated {
    Summaries,
    Names,
}

/// One query per operation id whose text (per `kind`) no other id shares, the operation a
/// search shows for the id expected first (its newest version, or the newer twin it was
/// renamed to: [`Catalog::current`]); in catalog order.
fn generated(catalog: &Catalog, kind: Generated) -> Vec<Query> {
    let text_of = |op: &opcat_runtime::Operation<'_>| -> Option<String> {
        let text = match kind {
            Generated::Summaries => op.summary().trim().to_string(),
            Generated::Names => {
                let name = op.id().rsplit('.').next().unwrap_or_default();
                opcat_runtime::dense::text_words(name).join(" ")
            }
        };
        let least = match kind {
            Generated::Summaries => 3,
            Generated::Names => 2,
        };
        (text.split_whitespace().count() >= least).then_some(text)
    };
    let mut ids: Vec<&str> = catalog.operations().map(|op| op.id()).collect();
    ids.dedup();
    let mut by_text: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    let mut order = Vec::new();
    for id in ids {
        let Some(op) = catalog.operation(id) else {
            continue;
        };
        if let Some(text) = text_of(&op) {
            // Expected: what a search shows for the id (a renamed one's current twin).
            let shown = catalog.current(&op).map_or(op.index(), |o| o.index());
            let seen = by_text.entry(text.to_lowercase()).or_default();
            if !seen.contains(&shown) {
                seen.push(shown);
                order.push((text, shown));
            }
        }
    }
    order
        .into_iter()
        .filter(|(text, _)| by_text[&text.to_lowercase()].len() == 1)
        .map(|(text, i)| Query {
            text,
            primary: i,
            expected: vec![i],
        })
        .collect()
}

/// The cut-offs reported.
const TOP: usize = 10;

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let catalog = open(&args.catalog)?;
    let (queries, source) = match (&args.queries, args.from_catalog) {
        (Some(path), _) => (load(path, &catalog)?, path.display().to_string()),
        (None, Some(kind)) => (
            generated(&catalog, kind),
            format!(
                "the catalog's {}",
                kind.to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string())
            ),
        ),
        (None, None) => bail!("give --queries FILE or --from-catalog KIND"),
    };
    if queries.is_empty() {
        bail!("{source}: no queries");
    }
    if let Some(path) = &args.features {
        write_features(&catalog, &queries, path)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut modes = Vec::new();
    for &mode in &args.modes {
        modes.push(measure(
            &catalog,
            &queries,
            mode,
            true,
            args.repeat.max(1),
            None,
        )?);
        if args.without_rerank {
            modes.push(measure(
                &catalog,
                &queries,
                mode,
                false,
                args.repeat.max(1),
                None,
            )?);
        }
    }
    if args.full_model {
        let mut model = crate::query_cmd::QueryModel::load(&catalog)?;
        for &mode in &args.modes {
            if mode != SearchMode::Bm25 {
                let m = measure(
                    &catalog,
                    &queries,
                    mode,
                    true,
                    args.repeat.max(1),
                    Some(&mut model),
                )?;
                modes.push(m);
            }
        }
    }
    let out = BenchOutput {
        queries: queries.len(),
        catalog: args.catalog.display().to_string(),
        modes,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} queries from {source}, {} operations",
        out.queries,
        catalog.len()
    );
    println!(
        "{:<8} {:>6} {:>6} {:>6} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "mode", "R@1", "R@5", "R@10", "MRR@10", "exp.R@10", "p50 ms", "p99 ms", "multi", "+inputs"
    );
    for m in &out.modes {
        println!(
            "{:<8} {:>6.3} {:>6.3} {:>6.3} {:>7.3} {:>10.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            m.mode,
            m.recall_at_1,
            m.recall_at_5,
            m.recall_at_10,
            m.mrr_at_10,
            m.expected_recall_at_10,
            m.p50_ms,
            m.p99_ms,
            m.multi_expected_recall_at_10,
            m.multi_expected_recall_with_inputs
        );
    }
    if args.misses {
        for m in &out.modes {
            println!("\n{} misses (primary not in the top 5):", m.mode);
            for miss in &m.misses {
                let rank = miss.rank.map_or("-".to_string(), |r| r.to_string());
                println!("  [{rank:>2}] {}  (want {})", miss.query, miss.primary);
                println!("        got {}", miss.top.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads and resolves the query file; an id that names no operation is an error.
fn load(path: &PathBuf, catalog: &Catalog) -> Result<Vec<Query>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let resolve = |name: &str, line: usize| -> Result<usize> {
        catalog
            .operation(name)
            .map(|op| op.index())
            .with_context(|| format!("{}:{line}: `{name}` names no operation", path.display()))
    };
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let q: QueryLine = serde_json::from_str(&line)
            .with_context(|| format!("{}:{n}: not a query line", path.display()))?;
        let primary = resolve(&q.primary, n)?;
        let mut expected = vec![primary];
        for e in &q.expected {
            let e = resolve(e, n)?;
            if !expected.contains(&e) {
                expected.push(e);
            }
        }
        out.push(Query {
            text: q.query,
            primary,
            expected,
        });
    }
    Ok(out)
}

/// Writes [`BenchArgs::features`]: per query, the fused hybrid ranking's first
/// candidates (as many as the re-rank reads) without the re-rank, each with its path, its
/// fused, BM25 and dense scores (null where that ranking does not hold it), the cosine of
/// the query's and its summary's static-table embeddings, and its re-rank features.
fn write_features(catalog: &Catalog, queries: &[Query], path: &PathBuf) -> Result<()> {
    use std::collections::HashMap;
    use std::io::Write;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("{}", path.display()))?,
    );
    let scores = |text: &str, mode: SearchMode, limit: usize| -> Result<Vec<(usize, f32)>> {
        let opts = SearchOptions {
            limit,
            mode,
            rerank: false,
            ..SearchOptions::default()
        };
        let r = catalog.search(text, &opts)?;
        Ok(r.hits.iter().map(|h| (h.op.index(), h.score)).collect())
    };
    for q in queries {
        let fused = scores(&q.text, SearchMode::Hybrid, opcat_runtime::RERANK_DEPTH)?;
        let bm25: HashMap<usize, f32> =
            scores(&q.text, SearchMode::Bm25, 50)?.into_iter().collect();
        let dense: HashMap<usize, f32> = scores(&q.text, SearchMode::Dense, 50)?
            .into_iter()
            .collect();
        let qv = catalog.embed_query(&opcat_runtime::glossary::expand(&q.text))?;
        let cos = |text: &str| -> Result<Option<f32>> {
            Ok(match (&qv, catalog.embed_query(text)?) {
                (Some(a), Some(b)) => Some(a.iter().zip(&b).map(|(x, y)| x * y).sum()),
                _ => None,
            })
        };
        let indexes: Vec<usize> = fused.iter().map(|(i, _)| *i).collect();
        let features = catalog.rerank_features(&q.text, &indexes)?;
        let mut candidates = Vec::new();
        for ((i, s), features) in fused.into_iter().zip(features) {
            let features = features.unwrap_or_default();
            let op = catalog.operation_at(i);
            candidates.push(serde_json::json!({
                "i": i,
                "id": name_at(catalog, i),
                "path": op.map(|o| o.path()),
                "fused": s.is_finite().then_some(s),
                "bm25": bm25.get(&i).filter(|s| s.is_finite()),
                "dense": dense.get(&i).filter(|s| s.is_finite()),
                "summary_cosine": match op {
                    Some(o) => cos(o.summary())?,
                    None => None,
                },
                "f": features,
            }));
        }
        let line = serde_json::json!({
            "query": q.text,
            "primary": q.primary,
            "expected": q.expected,
            "features": opcat_runtime::RERANK_FEATURES.map(|(name, _)| name),
            "weights": opcat_runtime::RERANK_FEATURES.map(|(_, w)| w),
            "candidates": candidates,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

fn measure(
    catalog: &Catalog,
    queries: &[Query],
    mode: SearchMode,
    rerank: bool,
    repeat: usize,
    mut model: Option<&mut crate::query_cmd::QueryModel>,
) -> Result<BenchMode> {
    let opts = SearchOptions {
        limit: TOP,
        mode,
        rerank,
        ..SearchOptions::default()
    };
    // One search, the query embedded by the full model when given (timed with it).
    let mut search = |text: &str| -> Result<Vec<usize>> {
        let vector = match model.as_deref_mut() {
            Some(m) => Some(m.embed(text)?),
            None => None,
        };
        let r = catalog
            .search_with_vector(text, vector.as_deref(), &opts)
            .with_context(|| format!("{mode} search of `{text}`"))?;
        Ok(r.hits.iter().map(|h| h.op.index()).collect())
    };
    // Ranked operation indexes per query (warm-up pass).
    let mut ranked = Vec::with_capacity(queries.len());
    for q in queries {
        ranked.push(search(&q.text)?);
    }
    let mut latencies = Vec::with_capacity(queries.len() * repeat);
    for _ in 0..repeat {
        for q in queries {
            let t = Instant::now();
            let r = search(&q.text)?;
            latencies.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(r);
        }
    }
    let with_model = model.is_some();
    let scores = Scores::of(queries, &ranked);
    let (multi, multi_inputs) = multi_recall(catalog, queries, &ranked);
    let misses = queries
        .iter()
        .zip(&ranked)
        .filter(|(q, r)| rank_of(r, q.primary).is_none_or(|k| k > 5))
        .map(|(q, r)| BenchMiss {
            query: q.text.clone(),
            primary: name_at(catalog, q.primary),
            rank: rank_of(r, q.primary),
            top: r.iter().take(5).map(|&i| name_at(catalog, i)).collect(),
        })
        .collect();
    Ok(BenchMode {
        mode: match (with_model, rerank) {
            (true, _) => format!("{mode}+model"),
            (false, true) => mode.to_string(),
            (false, false) => format!("{mode}-rerank"),
        },
        recall_at_1: scores.recall[0],
        recall_at_5: scores.recall[1],
        recall_at_10: scores.recall[2],
        mrr_at_10: scores.mrr,
        expected_recall_at_10: scores.expected_recall,
        multi_expected_recall_at_10: multi,
        multi_expected_recall_with_inputs: multi_inputs,
        p50_ms: percentile(&mut latencies, 50.0),
        p99_ms: percentile(&mut latencies, 99.0),
        misses,
    })
}

fn name_at(catalog: &Catalog, i: usize) -> String {
    catalog
        .operation_at(i)
        .map_or_else(String::new, |o| o.id().to_string())
}

/// Expected recall@10 over the queries that expect several operations: of the top 10
/// alone, and with the inputs shown on the first hits (what `search` declares).
fn multi_recall(catalog: &Catalog, queries: &[Query], ranked: &[Vec<usize>]) -> (f64, f64) {
    let (mut n, mut alone, mut with) = (0.0, 0.0, 0.0);
    for (q, r) in queries.iter().zip(ranked) {
        if q.expected.len() < 2 {
            continue;
        }
        let top = &r[..r.len().min(TOP)];
        let mut seen: Vec<usize> = top.to_vec();
        for &i in top
            .iter()
            .take(opcat_compiler::agent::tools::DECLARED_PER_QUERY)
        {
            if let Some(op) = catalog.operation_at(i) {
                seen.extend(
                    opcat_compiler::agent::tools::shown_inputs(op).map(|(_, from, _)| from.index()),
                );
            }
        }
        let share = |set: &[usize]| {
            q.expected.iter().filter(|e| set.contains(e)).count() as f64 / q.expected.len() as f64
        };
        n += 1.0;
        alone += share(top);
        with += share(&seen);
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    (alone / n, with / n)
}

/// 1-based rank of `target` in `ranked`.
fn rank_of(ranked: &[usize], target: usize) -> Option<usize> {
    ranked.iter().position(|&i| i == target).map(|p| p + 1)
}

/// Retrieval scores of a query set.
#[derive(Debug, PartialEq)]
struct Scores {
    /// Primary recall at 1, 5 and 10.
    recall: [f64; 3],
    mrr: f64,
    expected_recall: f64,
}

impl Scores {
    fn of(queries: &[Query], ranked: &[Vec<usize>]) -> Scores {
        let n = queries.len().max(1) as f64;
        let mut recall = [0.0; 3];
        let (mut mrr, mut expected) = (0.0, 0.0);
        for (q, r) in queries.iter().zip(ranked) {
            let top = &r[..r.len().min(TOP)];
            if let Some(k) = rank_of(top, q.primary) {
                for (slot, cut) in recall.iter_mut().zip([1, 5, 10]) {
                    if k <= cut {
                        *slot += 1.0;
                    }
                }
                mrr += 1.0 / k as f64;
            }
            let found = q.expected.iter().filter(|e| top.contains(e)).count();
            expected += found as f64 / q.expected.len().max(1) as f64;
        }
        Scores {
            recall: recall.map(|r| r / n),
            mrr: mrr / n,
            expected_recall: expected / n,
        }
    }
}

/// Nearest-rank percentile (sorts `xs`); 0 for no samples.
fn percentile(xs: &mut [f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * xs.len() as f64).ceil() as usize;
    xs[rank.clamp(1, xs.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(primary: usize, expected: &[usize]) -> Query {
        Query {
            text: String::new(),
            primary,
            expected: expected.to_vec(),
        }
    }

    #[test]
    fn scores_count_ranks_within_the_cut_offs() {
        let queries = [q(1, &[1, 2]), q(7, &[7]), q(3, &[3, 4])];
        let ranked = [
            vec![1, 9, 2],                          // primary at 1, both expected found
            vec![0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 7], // primary at 11: outside the top 10
            vec![5, 6, 3],                          // primary at 3, one of two expected
        ];
        let s = Scores::of(&queries, &ranked);
        assert_eq!(s.recall, [1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0]);
        assert!((s.mrr - (1.0 + 1.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((s.expected_recall - (1.0 + 0.0 + 0.5) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut xs: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&mut xs, 50.0), 50.0);
        assert_eq!(percentile(&mut xs, 99.0), 99.0);
        assert_eq!(percentile(&mut [3.0], 99.0), 3.0);
        assert_eq!(percentile(&mut [], 50.0), 0.0);
    }
}
