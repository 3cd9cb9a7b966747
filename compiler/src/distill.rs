//! Stage 7b: distills the static query-embedding table from the sentence model.
//!
//! The runtime embeds a query with no model: the mean of its WordPiece tokens' rows in a
//! table. Each row starts as the model's embedding of that token alone (as model2vec
//! does), then the rows of the tokens the catalog uses are fitted so that the mean over a
//! text's tokens lands where the model puts the whole text (least squares over the
//! catalog's own phrases, pulled towards the starting rows):
//!
//! ```text
//! minimise  sum_texts |mean(E[t] for t in text) - model(text)|^2 + lambda * sum_t |E[t] - E0[t]|^2
//! ```
//!
//! The problem separates by component; each is solved by conjugate gradients on the
//! normal equations, 32 components per pass over the texts, blocks in parallel, each
//! component on its own recurrence in a fixed order (deterministic).
//!
//! To keep the artifact small, the table covers a pruned vocabulary ([`kept_vocab`]), and
//! every vector is stored in the coordinates of the operation vectors' [`DIM`] principal
//! directions ([`principal_directions`]), which the artifact keeps so that a query
//! embedded by the full model can be projected alike.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use rayon::prelude::*;

use opcat_runtime::dense::{normalize, quantize, text_words, word_pieces};
use opcat_runtime::format::DenseData;

use crate::embed::{EmbedError, Embedder};
use crate::emit::first_sentence;
use crate::ir::{Catalog, Operation};

/// How strongly fitted rows are pulled towards the token's own embedding.
pub const LAMBDA: f64 = 0.05;
/// Conjugate-gradient iterations per component.
pub const ITERATIONS: usize = 60;
/// Components stored per vector: the model's projected onto the operations' principal
/// directions (256 of MiniLM's 384 keep 99.4% of the Azure DevOps operations' second
/// moment, and bench figures within a query of the whole vectors).
pub const DIM: usize = 256;

/// What fitting did, for the build report.
#[derive(Debug, Clone, Copy, Default)]
pub struct FitStats {
    pub texts: usize,
    pub fitted_tokens: usize,
    /// Mean squared error over the texts before and after fitting (per component).
    pub error_before: f64,
    pub error_after: f64,
}

/// What building the embedding index did, for the build report.
#[derive(Debug, Clone, Default)]
pub struct DenseReport {
    pub operations: usize,
    pub tokens: usize,
    pub fit: FitStats,
    /// Share of the operation vectors' second moment that the stored components keep.
    pub energy: f64,
    /// Texts embedded in all (operations, tokens, fitting phrases), and how many of them
    /// came from the cache.
    pub texts: usize,
    pub cached: usize,
    pub model_seconds: f64,
    pub fit_seconds: f64,
}

/// The text embedded for an operation: what it does in words (summary, first sentence of
/// the description), its name's words, and its area.
pub fn op_text(op: &Operation) -> String {
    let name = op
        .id
        .split_once('.')
        .map_or(op.id.as_str(), |(_, rest)| rest);
    let parts = [
        op.summary.clone().unwrap_or_default(),
        first_sentence(op.description.as_deref().unwrap_or("")),
        text_words(name).join(" "),
        op.area.clone(),
    ];
    let parts: Vec<&str> = parts
        .iter()
        .map(|p| p.trim().trim_end_matches('.'))
        .filter(|p| !p.is_empty())
        .collect();
    parts.join(". ")
}

/// The phrases the token table is fitted on: every operation's text and its parts, its
/// name's words, and the words of its parameters and their descriptions. Sorted and
/// unique (the fit is deterministic).
pub fn training_texts(catalog: &Catalog) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    let mut add = |t: String| {
        let t = t.trim().to_string();
        if !t.is_empty() && t.len() < 600 {
            out.insert(t);
        }
    };
    for op in &catalog.operations {
        add(op_text(op));
        if let Some(s) = &op.summary {
            add(s.clone());
        }
        if let Some(d) = &op.description {
            add(first_sentence(d));
        }
        let name = op
            .id
            .split_once('.')
            .map_or(op.id.as_str(), |(_, rest)| rest);
        add(text_words(name).join(" "));
        for p in &op.params {
            add(text_words(&p.name).join(" "));
            if let Some(d) = &p.description {
                add(first_sentence(d));
            }
        }
    }
    out.into_iter().collect()
}

/// The vocabulary of the static table: the model's WordPiece vocabulary without its
/// special tokens and without non-ASCII pieces (the catalog and its queries are English),
/// sorted as the runtime looks pieces up.
pub fn table_vocab(vocab: &[String]) -> Vec<String> {
    let mut v: Vec<String> = vocab
        .iter()
        .filter(|t| !(t.starts_with('[') && t.ends_with(']')) && t.is_ascii() && !t.is_empty())
        .cloned()
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The table's vocabulary, pruned: every piece the catalog's own words use (they split
/// exactly as with the whole vocabulary, since greedy longest-match only ever picks pieces
/// that are kept) and every single character (every ASCII word still splits). Sorted, like
/// `table`. (The model's 8,000 most frequent tokens were kept too until they measured
/// within a query of none on every bench file and mode, for 46% of the `.zst` and a sixth
/// of the cold build's model time: `docs/figures.md`.)
pub fn kept_vocab(table: &[String], catalog: &Catalog) -> Vec<String> {
    let mut keep = vec![false; table.len()];
    let mut texts = training_texts(catalog);
    for op in &catalog.operations {
        texts.extend(op.description.clone());
        texts.extend(op.params.iter().filter_map(|p| p.description.clone()));
    }
    for text in &texts {
        for t in word_pieces(table, &text_words(text)) {
            keep[t] = true;
        }
    }
    for (i, t) in table.iter().enumerate() {
        if t.strip_prefix("##").unwrap_or(t).chars().count() == 1 {
            keep[i] = true;
        }
    }
    table
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(t, _)| t.clone())
        .collect()
}

/// Builds the embedding index: operation vectors from the model, and the static token
/// table distilled from it, for the embedder's model and vocabulary. Every text goes
/// through the embedder's cache.
pub fn dense_index(
    catalog: &Catalog,
    embedder: &mut Embedder,
    progress: bool,
) -> Result<(DenseData, DenseReport), EmbedError> {
    let vocab = embedder.models().vocab()?;
    let model = embedder.models().model_id()?;
    let before = embedder.stats();
    let ops: Vec<String> = catalog.operations.iter().map(op_text).collect();
    let tokens = kept_vocab(&table_vocab(&vocab), catalog);
    let token_texts: Vec<String> = tokens
        .iter()
        .map(|t| t.strip_prefix("##").unwrap_or(t).to_string())
        .collect();
    let texts = training_texts(catalog);
    // One call for the three sets: the model's batches are balanced over its sessions once,
    // not three times with an idle session at the end of each.
    let all: Vec<String> = [&ops, &token_texts, &texts]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let mut vectors = embedder.embed(&all, progress)?;
    let targets = vectors.split_off(ops.len() + token_texts.len());
    let prior = vectors.split_off(ops.len());
    let op_vectors = vectors;
    let t = Instant::now();
    let model_dim = op_vectors.first().map_or(0, Vec::len);
    let (directions, energy) = principal_directions(&op_vectors, DIM.min(model_dim));
    let in_coordinates = |vectors: &[Vec<f32>]| project(&directions, vectors);
    let mut op_vectors = in_coordinates(&op_vectors);
    for v in &mut op_vectors {
        normalize(v);
    }
    let (table, fit_stats) = fit(
        &tokens,
        &in_coordinates(&prior),
        &texts,
        &in_coordinates(&targets),
    );
    let fit_seconds = t.elapsed().as_secs_f64();
    let after = embedder.stats();
    let mut data = DenseData {
        model,
        dim: directions.len() as u32,
        model_dim: model_dim as u32,
        ..DenseData::default()
    };
    if directions.len() != model_dim {
        for d in &directions {
            let (q, s) = quantize(d);
            data.projection.extend(q);
            data.projection_scales.push(s);
        }
    }
    // Operations of several versions that read the same have one row (the first), each
    // operation its row's index; a catalog with no such repeat keeps one row per operation.
    let mut rows: HashMap<(Vec<i8>, u32), u32> = HashMap::new();
    let mut op_rows = Vec::with_capacity(op_vectors.len());
    for v in &op_vectors {
        let (q, s) = quantize(v);
        let next = rows.len() as u32;
        let row = *rows.entry((q.clone(), s.to_bits())).or_insert_with(|| {
            data.op_vectors.extend(q);
            data.op_scales.push(s);
            next
        });
        op_rows.push(row);
    }
    if rows.len() < op_rows.len() {
        data.op_rows = op_rows;
    }
    for row in &table {
        let (q, s) = quantize(row);
        data.token_vectors.extend(q);
        data.token_scales.push(s);
    }
    data.tokens = tokens;
    let report = DenseReport {
        operations: ops.len(),
        tokens: data.tokens.len(),
        fit: fit_stats,
        energy,
        texts: ops.len() + token_texts.len() + texts.len(),
        cached: after.cached - before.cached,
        model_seconds: after.model_seconds - before.model_seconds,
        fit_seconds,
    };
    Ok((data, report))
}

/// The `dim` principal directions of `vectors`: eigenvectors of their second moment,
/// largest eigenvalue first, each signed so that its largest component is positive, and
/// the share of the second moment's trace they keep. Scores are dot products with
/// operation vectors, so the directions the operations lie in are the ones to keep.
pub fn principal_directions(vectors: &[Vec<f32>], dim: usize) -> (Vec<Vec<f32>>, f64) {
    let n = vectors.first().map_or(0, Vec::len);
    let x = nalgebra::DMatrix::<f64>::from_fn(vectors.len(), n, |i, j| {
        f64::from(vectors[i].get(j).copied().unwrap_or(0.0))
    });
    let eig = (x.transpose() * &x).symmetric_eigen();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        eig.eigenvalues[b]
            .total_cmp(&eig.eigenvalues[a])
            .then(a.cmp(&b))
    });
    order.truncate(dim);
    let total: f64 = eig.eigenvalues.iter().sum();
    let kept: f64 = order.iter().map(|&i| eig.eigenvalues[i]).sum();
    let directions = order
        .into_iter()
        .map(|c| {
            let col = eig.eigenvectors.column(c);
            let big = col
                .iter()
                .fold(0f64, |m, &x| if x.abs() > m.abs() { x } else { m });
            let sign = if big < 0.0 { -1.0 } else { 1.0 };
            col.iter().map(|&x| (x * sign) as f32).collect()
        })
        .collect();
    (directions, if total > 0.0 { kept / total } else { 0.0 })
}

/// Each of `vectors` in the coordinates of `directions` (one matrix product).
pub fn project(directions: &[Vec<f32>], vectors: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let n = directions.first().map_or(0, Vec::len);
    let d = nalgebra::DMatrix::<f32>::from_fn(n, directions.len(), |i, j| directions[j][i]);
    let v = nalgebra::DMatrix::<f32>::from_fn(vectors.len(), n, |i, j| {
        vectors[i].get(j).copied().unwrap_or(0.0)
    });
    let out = v * d;
    out.row_iter()
        .map(|row| row.iter().copied().collect())
        .collect()
}

/// Fits the rows of `tokens` (sorted; `prior[i]` is token i's own embedding) to map
/// `texts` onto `targets`. Returns the table (one row per token) and statistics.
pub fn fit(
    tokens: &[String],
    prior: &[Vec<f32>],
    texts: &[String],
    targets: &[Vec<f32>],
) -> (Vec<Vec<f32>>, FitStats) {
    let dim = prior.first().map_or(0, Vec::len);
    // Sparse rows: (active token, weight), weights summing to 1 per text.
    let mut active: Vec<usize> = Vec::new();
    let mut slot = vec![usize::MAX; tokens.len()];
    let mut rows: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut ys: Vec<&Vec<f32>> = Vec::new();
    for (text, y) in texts.iter().zip(targets) {
        let pieces = word_pieces(tokens, &text_words(text));
        if pieces.is_empty() {
            continue;
        }
        let w = 1.0 / pieces.len() as f64;
        let mut row: Vec<(usize, f64)> = Vec::new();
        for t in pieces {
            if slot[t] == usize::MAX {
                slot[t] = active.len();
                active.push(t);
            }
            match row.iter_mut().find(|(s, _)| *s == slot[t]) {
                Some(e) => e.1 += w,
                None => row.push((slot[t], w)),
            }
        }
        rows.push(row);
        ys.push(y);
    }
    let n = active.len();
    let blocks: Vec<std::ops::Range<usize>> = (0..dim)
        .step_by(BLOCK)
        .map(|s| s..(s + BLOCK).min(dim))
        .collect();
    let solved: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = blocks
        .par_iter()
        .map(|cs| {
            let w = cs.len();
            let e0: Vec<f64> = active
                .iter()
                .flat_map(|&t| prior[t][cs.clone()].iter().map(|&x| f64::from(x)))
                .collect();
            let y: Vec<f64> = ys
                .iter()
                .flat_map(|v| v[cs.clone()].iter().map(|&x| f64::from(x)))
                .collect();
            let before = residuals(&rows, &e0, &y, w);
            let e = solve(&rows, &y, &e0, n, w);
            let after = residuals(&rows, &e, &y, w);
            (e, before, after)
        })
        .collect();
    let mut table: Vec<Vec<f32>> = prior.to_vec();
    for (cs, (e, _, _)) in blocks.iter().zip(&solved) {
        let w = cs.len();
        for (k, &t) in active.iter().enumerate() {
            for (c, d) in cs.clone().enumerate() {
                table[t][d] = e[k * w + c] as f32;
            }
        }
    }
    let denom = (rows.len().max(1) * dim.max(1)) as f64;
    let stats = FitStats {
        texts: rows.len(),
        fitted_tokens: n,
        error_before: solved.iter().flat_map(|s| &s.1).sum::<f64>() / denom,
        error_after: solved.iter().flat_map(|s| &s.2).sum::<f64>() / denom,
    };
    (table, stats)
}

/// Components solved together: one pass over the sparse rows serves all of them.
const BLOCK: usize = 32;

/// `X e` for sparse rows, `w` components side by side (`e` is `n x w`, row-major).
fn apply(rows: &[Vec<(usize, f64)>], e: &[f64], w: usize) -> Vec<f64> {
    let mut out = vec![0.0; rows.len() * w];
    for (row, o) in rows.iter().zip(out.chunks_exact_mut(w)) {
        for &(k, x) in row {
            o.iter_mut()
                .zip(&e[k * w..(k + 1) * w])
                .for_each(|(o, e)| *o += x * e);
        }
    }
    out
}

/// `X^T r`, `w` components side by side.
fn apply_t(rows: &[Vec<(usize, f64)>], r: &[f64], n: usize, w: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * w];
    for (row, ri) in rows.iter().zip(r.chunks_exact(w)) {
        for &(k, x) in row {
            out[k * w..(k + 1) * w]
                .iter_mut()
                .zip(ri)
                .for_each(|(o, r)| *o += x * r);
        }
    }
    out
}

/// Per component, `sum_i a[i] * b[i]` (in order of `i`).
fn dots(a: &[f64], b: &[f64], w: usize) -> Vec<f64> {
    let mut out = vec![0.0; w];
    for (a, b) in a.chunks_exact(w).zip(b.chunks_exact(w)) {
        for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
            *o += x * y;
        }
    }
    out
}

/// Per component, `|X e - y|^2`.
fn residuals(rows: &[Vec<(usize, f64)>], e: &[f64], y: &[f64], w: usize) -> Vec<f64> {
    let d: Vec<f64> = apply(rows, e, w)
        .iter()
        .zip(y)
        .map(|(a, b)| a - b)
        .collect();
    dots(&d, &d, w)
}

/// Conjugate gradients on `(X^T X + LAMBDA I) e = X^T y + LAMBDA e0`, from `e0`, for `w`
/// components side by side (`y` is `rows x w`, `e0` is `n x w`). Each component follows
/// its own recurrence (its own step sizes, its own stop), exactly as if solved alone.
fn solve(rows: &[Vec<(usize, f64)>], y: &[f64], e0: &[f64], n: usize, w: usize) -> Vec<f64> {
    let a = |v: &[f64]| -> Vec<f64> {
        let mut out = apply_t(rows, &apply(rows, v, w), n, w);
        out.iter_mut().zip(v).for_each(|(o, x)| *o += LAMBDA * x);
        out
    };
    let mut e = e0.to_vec();
    let b: Vec<f64> = apply_t(rows, y, n, w)
        .into_iter()
        .zip(e0)
        .map(|(v, z)| v + LAMBDA * z)
        .collect();
    let ae = a(&e);
    let mut r: Vec<f64> = b.iter().zip(&ae).map(|(x, y)| x - y).collect();
    let mut p = r.clone();
    let mut rr = dots(&r, &r, w);
    let mut done = vec![false; w];
    for _ in 0..ITERATIONS {
        for (d, &v) in done.iter_mut().zip(&rr) {
            *d |= v < 1e-20;
        }
        if done.iter().all(|&d| d) {
            break;
        }
        let ap = a(&p);
        let pap = dots(&p, &ap, w);
        let alpha: Vec<f64> = rr.iter().zip(&pap).map(|(a, b)| a / b).collect();
        let step = |x: &mut [f64], by: &[f64], sign: f64| {
            for (x, by) in x.chunks_exact_mut(w).zip(by.chunks_exact(w)) {
                for c in 0..w {
                    if !done[c] {
                        x[c] += sign * (alpha[c] * by[c]);
                    }
                }
            }
        };
        step(&mut e, &p, 1.0);
        step(&mut r, &ap, -1.0);
        let next = dots(&r, &r, w);
        let beta: Vec<f64> = next.iter().zip(&rr).map(|(a, b)| a / b).collect();
        for (p, r) in p.chunks_exact_mut(w).zip(r.chunks_exact(w)) {
            for c in 0..w {
                if !done[c] {
                    p[c] = r[c] + beta[c] * p[c];
                }
            }
        }
        for c in 0..w {
            if !done[c] {
                rr[c] = next[c];
            }
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_moves_text_means_towards_their_targets() {
        let mut tokens: Vec<String> = ["pull", "request", "work", "item", "list"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        tokens.sort();
        let prior: Vec<Vec<f32>> = (0..tokens.len())
            .map(|i| (0..4).map(|d| if d == i % 4 { 1.0 } else { 0.0 }).collect())
            .collect();
        let texts: Vec<String> = ["list pull request", "list work item", "pull request"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let targets = vec![
            vec![0.0, 0.0, 0.6, 0.8],
            vec![0.8, 0.6, 0.0, 0.0],
            vec![0.0, 0.0, 0.8, 0.6],
        ];
        let (table, stats) = fit(&tokens, &prior, &texts, &targets);
        assert_eq!(stats.texts, 3);
        assert_eq!(stats.fitted_tokens, 5);
        assert!(
            stats.error_after < stats.error_before / 4.0,
            "{stats:?} did not fit"
        );
        assert_eq!(table.len(), tokens.len());
    }

    /// Components are solved side by side, but each must come out as if solved alone.
    #[test]
    fn a_component_is_fitted_as_if_alone() {
        let tokens: Vec<String> = ["item", "list", "pull", "request", "work"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let prior: Vec<Vec<f32>> = (0..tokens.len())
            .map(|i| {
                (0..40)
                    .map(|d| ((i * 7 + d * 3) % 11) as f32 / 11.0)
                    .collect()
            })
            .collect();
        let texts: Vec<String> = [
            "list pull request",
            "list work item",
            "pull request",
            "work",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let targets: Vec<Vec<f32>> = (0..texts.len())
            .map(|i| (0..40).map(|d| ((i * 5 + d) % 13) as f32 / 13.0).collect())
            .collect();
        let (all, _) = fit(&tokens, &prior, &texts, &targets);
        for d in [0, 33, 39] {
            let one =
                |v: &Vec<Vec<f32>>| -> Vec<Vec<f32>> { v.iter().map(|r| vec![r[d]]).collect() };
            let (alone, _) = fit(&tokens, &one(&prior), &texts, &one(&targets));
            for (a, b) in all.iter().zip(&alone) {
                assert_eq!(a[d].to_bits(), b[0].to_bits(), "component {d}");
            }
        }
    }
}
