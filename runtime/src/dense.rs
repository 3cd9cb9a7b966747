//! Dense retrieval without a model: WordPiece tokenization, query embedding from the
//! artifact's static token table, and cosine ranking against the operation vectors.
//!
//! Words are split as the BM25 index splits them (camelCase, digits, punctuation), then
//! cut into pieces by BERT's greedy longest-match WordPiece (`##` continuations) over the
//! artifact's vocabulary. The compiler fits the token table with this same tokenizer, so
//! a query is embedded exactly as the table was trained to be read. Accents are not
//! stripped: a word with accents falls back to its pieces or is skipped.

use crate::Catalog;
use crate::error::Error;
use crate::format::ArchivedDenseData;

/// Longest word WordPiece will split (BERT's limit); longer words are skipped.
const MAX_WORD_CHARS: usize = 100;

/// A sorted vocabulary that WordPiece can look pieces up in.
pub trait Vocab {
    /// Index of `piece` in the vocabulary, if present.
    fn find(&self, piece: &str) -> Option<usize>;
}

impl Vocab for [String] {
    fn find(&self, piece: &str) -> Option<usize> {
        self.binary_search_by(|t| t.as_str().cmp(piece)).ok()
    }
}

impl Vocab for rkyv::vec::ArchivedVec<rkyv::string::ArchivedString> {
    fn find(&self, piece: &str) -> Option<usize> {
        self.binary_search_by(|t| t.as_str().cmp(piece)).ok()
    }
}

/// WordPiece over `words`: the vocabulary indexes of each word's pieces, greedy longest
/// match first. A word with no full split is skipped (BERT's `[UNK]`).
pub fn word_pieces<V: Vocab + ?Sized>(vocab: &V, words: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut piece = String::new();
    for word in words {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() > MAX_WORD_CHARS {
            continue;
        }
        let mut found = Vec::new();
        let mut start = 0;
        let mut ok = true;
        while start < chars.len() {
            let mut end = chars.len();
            let mut hit = None;
            while end > start {
                let from = chars[start].0;
                let to = chars.get(end).map_or(word.len(), |c| c.0);
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                piece.push_str(&word[from..to]);
                if let Some(i) = vocab.find(&piece) {
                    hit = Some(i);
                    break;
                }
                end -= 1;
            }
            match hit {
                Some(i) => {
                    found.push(i);
                    start = end;
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            out.extend(found);
        }
    }
    out
}

/// The words a text is embedded from, on both sides (compile-time fitting and queries):
/// split at every non-alphanumeric character and at camelCase and digit boundaries, as the
/// BM25 index splits names, and lower-cased. Punctuation carries no meaning here.
pub fn text_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .flat_map(crate::index::split_camel)
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl ArchivedDenseData {
    fn dim(&self) -> usize {
        self.dim.to_native() as usize
    }

    /// Checks that the vectors and scales have the lengths the catalog implies.
    pub(crate) fn check(&self, operations: usize) -> Result<(), String> {
        let dim = self.dim();
        let tokens = self.tokens.len();
        let rows = if self.op_rows.is_empty() {
            operations
        } else {
            if self.op_rows.len() != operations {
                return Err(format!(
                    "operation rows: expected {operations}, found {}",
                    self.op_rows.len()
                ));
            }
            let rows = self.op_scales.len();
            if let Some(r) = self.op_rows.iter().find(|r| r.to_native() as usize >= rows) {
                return Err(format!("operation row {r}, of {rows}"));
            }
            rows
        };
        let want = [
            ("operation vectors", self.op_vectors.len(), rows * dim),
            ("operation scales", self.op_scales.len(), rows),
            ("token vectors", self.token_vectors.len(), tokens * dim),
            ("token scales", self.token_scales.len(), tokens),
        ];
        if dim == 0 {
            return Err("embedding dimension is 0".into());
        }
        let model_dim = self.model_dim.to_native() as usize;
        let projected = if model_dim == dim { 0 } else { dim };
        if model_dim == 0 {
            return Err("the model's dimension is 0".into());
        }
        for (what, found, expected) in [
            ("projection", self.projection.len(), projected * model_dim),
            ("projection scales", self.projection_scales.len(), projected),
        ] {
            if found != expected {
                return Err(format!("{what}: expected {expected} values, found {found}"));
            }
        }
        for (what, found, expected) in want {
            if found != expected {
                return Err(format!("{what}: expected {expected} values, found {found}"));
            }
        }
        if !self.tokens.windows(2).all(|w| w[0] < w[1]) {
            return Err("token table is not sorted".into());
        }
        Ok(())
    }

    /// Embeds a query with the static table: the normalized mean of its pieces' rows.
    /// `None` when no piece of the query is in the vocabulary.
    fn embed(&self, text: &str) -> Option<Vec<f32>> {
        let dim = self.dim();
        let pieces = word_pieces(&self.tokens, &text_words(text));
        if pieces.is_empty() {
            return None;
        }
        let mut v = vec![0f32; dim];
        for t in pieces {
            let scale = self.token_scales[t].to_native();
            let row = &self.token_vectors[t * dim..(t + 1) * dim];
            for (x, b) in v.iter_mut().zip(row) {
                *x += scale * f32::from(*b);
            }
        }
        normalize(&mut v).then_some(v)
    }

    /// A unit query vector in the stored coordinates: as given when it has `dim`
    /// components, projected when it has the model's.
    fn coordinates(&self, query: &[f32]) -> Result<Vec<f32>, Error> {
        let dim = self.dim();
        let model_dim = self.model_dim.to_native() as usize;
        let mut v = if query.len() == dim {
            query.to_vec()
        } else if query.len() == model_dim {
            self.projection
                .chunks_exact(model_dim)
                .zip(self.projection_scales.iter())
                .map(|(row, s)| dot(row, query) * s.to_native())
                .collect()
        } else {
            return Err(Error::Dimension {
                expected: model_dim,
                found: query.len(),
            });
        };
        normalize(&mut v);
        Ok(v)
    }

    /// Cosine of `query` (unit length, stored coordinates) with every operation's vector.
    fn cosines(&self, query: &[f32]) -> Vec<f32> {
        let dim = self.dim();
        let rows: Vec<f32> = self
            .op_vectors
            .chunks_exact(dim)
            .zip(self.op_scales.iter())
            .map(|(row, s)| dot(row, query) * s.to_native())
            .collect();
        if self.op_rows.is_empty() {
            return rows;
        }
        self.op_rows
            .iter()
            .map(|r| rows.get(r.to_native() as usize).copied().unwrap_or(0.0))
            .collect()
    }
}

/// Dot product of an int8 row with a float vector, in 8 independent lanes (a single running
/// sum is one long dependency chain the compiler may not reorder; lanes let it vectorize).
fn dot(row: &[i8], q: &[f32]) -> f32 {
    let split = row.len() - row.len() % 8;
    let mut lanes = [0f32; 8];
    for (r, x) in row[..split].chunks_exact(8).zip(q[..split].chunks_exact(8)) {
        for k in 0..8 {
            lanes[k] += f32::from(r[k]) * x[k];
        }
    }
    let tail: f32 = row[split..]
        .iter()
        .zip(&q[split..])
        .map(|(b, x)| f32::from(*b) * x)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Scales `v` to unit length; false when it is zero.
pub fn normalize(v: &mut [f32]) -> bool {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
        true
    } else {
        false
    }
}

/// Quantizes one vector to int8 with a scale (value = scale * byte).
pub fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    let q = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scale)
}

impl Catalog {
    fn dense(&self) -> Result<&ArchivedDenseData, Error> {
        self.data().dense.as_ref().ok_or(Error::NoDense)
    }

    /// Whether the artifact carries an embedding index.
    pub fn has_dense(&self) -> bool {
        self.data().dense.is_some()
    }

    /// The model the artifact's vectors come from, if it has them.
    pub fn dense_model(&self) -> Option<&str> {
        self.data().dense.as_ref().map(|d| d.model.as_str())
    }

    /// Embeds a query with the artifact's static token table (no model, no network).
    /// `Ok(None)` when no word of the query is in the vocabulary.
    pub fn embed_query(&self, text: &str) -> Result<Option<Vec<f32>>, Error> {
        Ok(self.dense()?.embed(text))
    }

    /// A query vector from the catalog's model (or already in the stored coordinates)
    /// as the unit vector that [`Catalog::embed_query`] would give: projected when the
    /// catalog stores fewer components than the model has.
    pub fn model_query(&self, vector: &[f32]) -> Result<Vec<f32>, Error> {
        self.dense()?.coordinates(vector)
    }

    /// Cosine similarity of a unit-length query vector (the model's or the stored
    /// dimension) with every operation, in catalog order.
    pub(crate) fn cosines(&self, query: &[f32]) -> Result<Vec<f32>, Error> {
        let dense = self.dense()?;
        Ok(dense.cosines(&dense.coordinates(query)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn words_split_names_and_punctuation() {
        assert_eq!(
            text_words("getPRsByID2, please! git.pullRequests"),
            [
                "get", "prs", "by", "id", "2", "please", "git", "pull", "requests"
            ]
        );
    }

    #[test]
    fn wordpiece_is_greedy_longest_match() {
        let v = vocab(&["un", "##aff", "##able", "aff", "##a", "run", "##ning"]);
        let words = text_words("unaffable running xyz");
        let got: Vec<&str> = word_pieces(v.as_slice(), &words)
            .into_iter()
            .map(|i| v[i].as_str())
            .collect();
        // `xyz` has no split: skipped, as BERT's [UNK] would be.
        assert_eq!(got, ["un", "##aff", "##able", "run", "##ning"]);
    }

    #[test]
    fn lane_dot_product_matches_the_plain_one() {
        let row: Vec<i8> = (0..21).map(|i| (i * 37 % 255 - 127) as i8).collect();
        let q: Vec<f32> = (0..21).map(|i| (i as f32 * 0.37).sin()).collect();
        let plain: f32 = row.iter().zip(&q).map(|(b, x)| f32::from(*b) * x).sum();
        assert!(
            (dot(&row, &q) - plain).abs() < 1e-3,
            "{} vs {plain}",
            dot(&row, &q)
        );
    }

    #[test]
    fn quantize_round_trips_within_a_step() {
        let v = [0.5f32, -0.25, 0.0, 0.125];
        let (q, s) = quantize(&v);
        for (x, b) in v.iter().zip(q) {
            assert!((x - s * f32::from(b)).abs() <= s / 2.0 + f32::EPSILON);
        }
        assert_eq!(quantize(&[0.0, 0.0]), (vec![0, 0], 0.0));
    }
}
