//! Stage 2, parse: bytes to a JSON tree (JSON or YAML, byte-order mark tolerated) and dialect.

use serde_json::{Map, Value};

/// The input dialects the compiler understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

impl Dialect {
    /// Name used in the catalog (`swagger-2.0`, `openapi-3.0`, `openapi-3.1`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Swagger2 => "swagger-2.0",
            Dialect::OpenApi30 => "openapi-3.0",
            Dialect::OpenApi31 => "openapi-3.1",
        }
    }

    /// Reads the dialect from the document's `swagger` or `openapi` field.
    pub fn of(doc: &Value) -> Result<Dialect, String> {
        if let Some(v) = doc.get("swagger") {
            return match v.as_str() {
                Some(s) if s.starts_with("2.") => Ok(Dialect::Swagger2),
                _ => Err(format!("expected `swagger: \"2.0\"`, found {v}")),
            };
        }
        match doc.get("openapi") {
            Some(Value::String(s)) if s.starts_with("3.0") => Ok(Dialect::OpenApi30),
            Some(Value::String(s)) if s.starts_with("3.1") => Ok(Dialect::OpenApi31),
            Some(v) => Err(format!("expected `openapi: 3.0.x` or `3.1.x`, found {v}")),
            None if doc.is_object() => {
                Err("expected a `swagger` or `openapi` field at the top level".into())
            }
            None => Err("expected a JSON object at the top level".into()),
        }
    }
}

/// Parses JSON or YAML bytes into a JSON tree.
///
/// JSON is tried when the text starts with `{` or `[` (after a byte-order mark and white
/// space); anything else is YAML. The error message carries line and column.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err("empty file".into()),
        Some(b'{' | b'[') => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        Some(_) => serde_yaml_ng::from_slice::<Yaml>(bytes)
            .map(|y| y.0)
            .map_err(|e| e.to_string()),
    }
}

/// A JSON tree built in one pass from any serde format.
///
/// From YAML (`TRIM = false`): integers beyond 64 bits (OpenAI's
/// `minimum: -9223372036854776000`) become floats and non-string keys (`200:`) become their
/// text, as a JSON reader of the same spec expects. With `TRIM = true` (recorded examples),
/// arrays keep their first [`MAX_ITEMS`] items — the rest is skipped without being built —
/// and strings are cut to [`MAX_STRING`] characters.
pub(crate) struct Tree<const TRIM: bool>(pub Value);

impl<'de, const TRIM: bool> serde::Deserialize<'de> for Tree<TRIM> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor::<TRIM>).map(Tree)
    }
}

type Yaml = Tree<false>;

/// A map key of any scalar type, as text.
struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_any(TreeVisitor::<false>)?;
        Ok(Key(match v {
            Value::String(s) => s,
            Value::Null => "null".into(),
            other => other.to_string(),
        }))
    }
}

struct TreeVisitor<const TRIM: bool>;

impl<'de, const TRIM: bool> serde::de::Visitor<'de> for TreeVisitor<TRIM> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON or YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or_else(|_| float(v as f64), Value::from))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v).map_or_else(|_| float(v as f64), Value::from))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(if TRIM {
            trim_str(v)
        } else {
            v.to_string()
        }))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(if TRIM { trim_str(&v) } else { v }))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while !TRIM || out.len() < MAX_ITEMS {
            match seq.next_element::<Tree<TRIM>>()? {
                Some(Tree(v)) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some((Key(k), Tree(v))) = map.next_entry::<Key, Tree<TRIM>>()? {
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A tagged YAML value (`!tag value`): keep the value, drop the tag.
        use serde::de::VariantAccess;
        let (_tag, variant): (Key, _) = data.variant()?;
        variant.newtype_variant::<Tree<TRIM>>().map(|t| t.0)
    }
}

/// Longest string kept in a trimmed tree.
pub const MAX_STRING: usize = 200;
/// Items kept of each array in a trimmed tree.
pub const MAX_ITEMS: usize = 2;

/// `s` cut to [`MAX_STRING`] characters, with `…` when cut.
pub fn trim_str(s: &str) -> String {
    if s.chars().count() <= MAX_STRING {
        return s.to_string();
    }
    let mut t: String = s.chars().take(MAX_STRING).collect();
    t.push('…');
    t
}

/// A JSON number for a float; NaN and infinities (not JSON) become null.
fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_json_and_yaml_parse() {
        let v = parse(b"\xEF\xBB\xBF {\"swagger\": \"2.0\"}").unwrap();
        assert_eq!(Dialect::of(&v), Ok(Dialect::Swagger2));
        let y = parse(b"openapi: 3.1.0\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n").unwrap();
        assert_eq!(Dialect::of(&y), Ok(Dialect::OpenApi31));
        assert!(y.pointer("/paths/~1a/get/responses/200").is_some());
        let big = parse(b"a: -9223372036854776000\nb: 18446744073709552000\n1: x\n").unwrap();
        assert!(big["a"].as_f64().unwrap() < -9.2e18);
        assert!(big["b"].as_f64().unwrap() > 1.8e19);
        assert_eq!(big["1"], "x");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(parse(b"").unwrap_err(), "empty file");
        assert!(parse(b"\xEF\xBB\xBF  ").is_err());
        assert!(parse(b"{\"a\": ").unwrap_err().contains("line 1"));
        assert!(parse(b"a: [unclosed").is_err());
        assert!(Dialect::of(&parse(b"{\"openapi\": \"2.5\"}").unwrap()).is_err());
        assert!(Dialect::of(&parse(b"[1]").unwrap()).is_err());
    }
}
