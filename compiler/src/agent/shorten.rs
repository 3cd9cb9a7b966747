//! Structural shortening of JSON to a token budget: long arrays keep their first items
//! and end with a note of how many were left out, long strings are cut at a word with a
//! note of the length left out, objects with very many keys keep their first ones. The
//! result is always valid JSON, never text cut in the middle.
//!
//! Caps are searched from the least to the most destructive: strings to 500 characters,
//! then as many array items as fit, then strings to 100 characters and fewer items, then
//! fewer object keys, then a depth cap; as a last resort the value becomes a note.

use serde_json::{Map, Value as Json};

use crate::render::measure::count_tokens;

/// How a value was shortened.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortened {
    pub value: Json,
    /// False when the value was within the budget as it was.
    pub cut: bool,
    /// Tokens of the value's compact JSON (o200k_base), as returned.
    pub tokens: u32,
}

/// Caps applied to a value.
#[derive(Debug, Clone, Copy)]
struct Caps {
    items: usize,
    chars: usize,
    keys: usize,
    depth: usize,
}

const NO_CAPS: Caps = Caps {
    items: usize::MAX,
    chars: usize::MAX,
    keys: usize::MAX,
    depth: usize::MAX,
};

/// Tokens of a value's compact JSON. Text over eight bytes per token of the budget is
/// over it whatever the tokenizer says (JSON runs at 2-4 bytes a token): it is not
/// counted, which keeps shortening a multi-megabyte answer cheap.
fn tokens_within(v: &Json, budget: u32) -> Option<u32> {
    let text = serde_json::to_string(v).unwrap_or_default();
    if text.len() <= budget as usize {
        // A token is at least one byte.
        return Some(count_tokens(&text)).filter(|t| *t <= budget);
    }
    if text.len() > budget as usize * 8 {
        return None;
    }
    Some(count_tokens(&text)).filter(|t| *t <= budget)
}

/// `value` within `budget` tokens. See the [module docs](self).
pub fn shorten(value: &Json, budget: u32) -> Shortened {
    if let Some(tokens) = tokens_within(value, budget) {
        return Shortened {
            value: value.clone(),
            cut: false,
            tokens,
        };
    }
    let longest = longest_array(value).max(1);
    let fits = |caps: Caps| {
        let v = apply(value, caps, 0);
        tokens_within(&v, budget).map(|t| (v, t))
    };
    for chars in [500, 100] {
        let base = Caps { chars, ..NO_CAPS };
        if let Some((v, t)) = fits(base) {
            return Shortened {
                value: v,
                cut: true,
                tokens: t,
            };
        }
        // The most array items that fit (binary search; fitting is monotone in items).
        let (mut lo, mut hi) = (0usize, longest);
        let mut best = None;
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            match fits(Caps { items: mid, ..base }) {
                Some(found) => {
                    best = Some(found);
                    lo = mid;
                }
                None => hi = mid - 1,
            }
        }
        if let Some((v, t)) = best {
            return Shortened {
                value: v,
                cut: true,
                tokens: t,
            };
        }
    }
    let tight = Caps {
        items: 1,
        chars: 100,
        ..NO_CAPS
    };
    for keys in [32, 16, 8, 4] {
        if let Some((v, t)) = fits(Caps { keys, ..tight }) {
            return Shortened {
                value: v,
                cut: true,
                tokens: t,
            };
        }
    }
    for depth in (1..=6).rev() {
        if let Some((v, t)) = fits(Caps {
            keys: 4,
            depth,
            ..tight
        }) {
            return Shortened {
                value: v,
                cut: true,
                tokens: t,
            };
        }
    }
    let note = Json::String(format!(
        "[left out: the value does not fit in {budget} tokens even shortened; return less]"
    ));
    let tokens = count_tokens(&note.to_string());
    Shortened {
        value: note,
        cut: true,
        tokens,
    }
}

fn longest_array(v: &Json) -> usize {
    match v {
        Json::Array(items) => items
            .iter()
            .map(longest_array)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        Json::Object(map) => map.values().map(longest_array).max().unwrap_or(0),
        _ => 0,
    }
}

fn apply(v: &Json, caps: Caps, depth: usize) -> Json {
    match v {
        Json::String(s) => Json::String(cut_string(s, caps.chars)),
        Json::Array(items) if depth >= caps.depth && !items.is_empty() => {
            Json::String(format!("[array of {} items left out]", items.len()))
        }
        Json::Object(map) if depth >= caps.depth && !map.is_empty() => {
            Json::String(format!("[object of {} keys left out]", map.len()))
        }
        Json::Array(items) => {
            let mut out: Vec<Json> = items
                .iter()
                .take(caps.items)
                .map(|i| apply(i, caps, depth + 1))
                .collect();
            if items.len() > caps.items {
                out.push(Json::String(format!(
                    "[{} more items left out, {} in all]",
                    items.len() - caps.items,
                    items.len()
                )));
            }
            Json::Array(out)
        }
        Json::Object(map) => {
            let mut out = Map::new();
            for (k, val) in map.iter().take(caps.keys) {
                out.insert(k.clone(), apply(val, caps, depth + 1));
            }
            if map.len() > caps.keys {
                out.insert(
                    "[left out]".into(),
                    Json::String(format!("{} more keys", map.len() - caps.keys)),
                );
            }
            Json::Object(out)
        }
        other => other.clone(),
    }
}

/// At most `max` characters, cut after a word when one ends in the last fifth, with a
/// note of how many characters were left out.
fn cut_string(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_string();
    }
    let end = s.char_indices().nth(max).map_or(s.len(), |(i, _)| i);
    let head = &s[..end];
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if i >= end * 4 / 5 => &head[..i],
        _ => head,
    };
    let left = count - head.chars().count();
    format!("{head}… [{left} more characters]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_values_are_kept() {
        let v = json!({"count": 2, "value": [{"id": 1}, {"id": 2}]});
        let s = shorten(&v, 100);
        assert_eq!((s.value, s.cut), (v, false));
    }

    #[test]
    fn long_arrays_keep_their_first_items_and_say_how_many_went() {
        let items: Vec<Json> = (0..500)
            .map(|i| json!({"id": i, "name": format!("repository {i}"), "url": format!("https://dev.azure.com/x/_git/r{i}")}))
            .collect();
        let v = json!({"count": 500, "value": items});
        let s = shorten(&v, 1000);
        assert!(s.cut && s.tokens <= 1000, "{}", s.tokens);
        let kept = s.value["value"].as_array().unwrap();
        assert!(kept.len() > 10, "kept {}", kept.len());
        assert_eq!(kept[0], v["value"][0]);
        let note = kept.last().unwrap().as_str().unwrap();
        assert!(
            note.contains(&format!(
                "{} more items left out, 500 in all",
                501 - kept.len()
            )),
            "{note}"
        );
        // Still valid, still the same shape.
        assert_eq!(s.value["count"], 500);
    }

    #[test]
    fn long_strings_are_cut_at_a_word() {
        let text = "word ".repeat(2000);
        let s = shorten(&json!({"description": text}), 300);
        let d = s.value["description"].as_str().unwrap();
        assert!(d.ends_with("more characters]"), "{d}");
        assert!(d.starts_with("word word"));
        assert!(!d.contains("wor…"));
        assert!(s.tokens <= 300);
    }

    #[test]
    fn anything_fits_in_the_end() {
        let wide: Map<String, Json> = (0..5000).map(|i| (format!("k{i}"), json!(i))).collect();
        let s = shorten(&Json::Object(wide), 200);
        assert!(s.tokens <= 200, "{}", s.tokens);
        assert!(s.value.get("[left out]").is_some(), "{}", s.value);
        // Past every cap, the value is replaced by a note saying so.
        let s = shorten(&json!("x".repeat(100_000)), 5);
        let note = s.value.as_str().unwrap();
        assert!(
            note.starts_with("[left out: the value does not fit in 5 tokens"),
            "{note}"
        );
    }
}
