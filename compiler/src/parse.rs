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
        Some(_) => {
            let yaml: serde_yaml_ng::Value =
                serde_yaml_ng::from_slice(bytes).map_err(|e| e.to_string())?;
            Ok(yaml_to_json(yaml))
        }
    }
}

/// Converts a YAML tree to JSON; non-string keys (`200:`) become their text.
fn yaml_to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    other => serde_yaml_ng::to_string(&other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                out.insert(key, yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value),
    }
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
