//! Stage 5c, examples: load recorded examples and correct the declared success shape.
//!
//! Azure DevOps declares many list operations as returning `T[]`, but the service returns
//! `{ "count": n, "value": [...] }`. For Azure DevOps operations (those with
//! `x-ms-vss-method`) a declared array becomes that envelope; every recorded example with a
//! body is compared with the result, and an example that disagrees keeps the declared shape
//! and is reported as [`DiagKind::ExampleMismatch`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::diag::{DiagKind, Diagnostic};
use crate::ir::{Correction, Example, Property, Ty, TypeSpace};
use crate::parse::{MAX_ITEMS, Tree, trim_str};
use crate::read::{Loader, join_relative, rel_path};

/// A loaded example with the body of every recorded response, for checking.
#[derive(Debug)]
pub struct Loaded {
    pub example: Example,
    /// Status and (trimmed) response body of each recorded response. Trimming keeps what
    /// the checks read: the top-level shape and whether `value` is a list.
    pub bodies: Vec<(String, Arc<Value>)>,
}

/// What an example file records, split once per distinct content: its request parameters
/// and each response's status and body, shared (not copied) by every example that reads it.
#[derive(Debug)]
struct Recorded {
    parameters: Option<Arc<Value>>,
    responses: Vec<(String, Option<Arc<Value>>)>,
}

impl Recorded {
    fn of(v: Value) -> Recorded {
        let Value::Object(mut top) = v else {
            return Recorded {
                parameters: None,
                responses: Vec::new(),
            };
        };
        let responses = match top.remove("responses") {
            Some(Value::Object(resps)) => resps
                .into_iter()
                .map(|(status, resp)| {
                    let body = match resp {
                        Value::Object(mut r) => r.remove("body").map(Arc::new),
                        _ => None,
                    };
                    (status, body)
                })
                .collect(),
            _ => Vec::new(),
        };
        Recorded {
            parameters: top.remove("parameters").map(Arc::new),
            responses,
        }
    }
}

/// Recorded example files parsed once per distinct content. The versions of an area
/// record the same exchanges in files of their own: the Azure DevOps specs hold 10,661
/// example files with 4,082 distinct contents. Shared by the threads of one build; keyed
/// by the content's 128-bit xxh3 hash, so no file's bytes are kept.
#[derive(Debug, Default)]
pub struct Memo {
    parsed: Mutex<HashMap<u128, Arc<Parsed>>>,
}

type Parsed = Result<Recorded, String>;

impl Memo {
    /// What `bytes` records (its trimmed tree, [`parse_trimmed`], split by
    /// [`Recorded::of`]), parsed only if no file of the same content was.
    fn parse(&self, bytes: &[u8]) -> Arc<Parsed> {
        let key = xxhash_rust::xxh3::xxh3_128(bytes);
        if let Some(p) = self.parsed.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return p;
        }
        // Two threads may parse the same content at once; both get the same tree.
        let p = Arc::new(parse_trimmed(bytes).map(Recorded::of));
        if let Ok(mut m) = self.parsed.lock() {
            m.entry(key).or_insert_with(|| p.clone());
        }
        p
    }
}

/// Loads the `x-ms-examples` of one operation (`{title: {$ref: file}}`).
#[allow(clippy::too_many_arguments)]
pub fn load(
    refs: Option<&Value>,
    spec: &Path,
    specs_root: &Path,
    spec_rel: &str,
    pointer: &str,
    loader: &dyn Loader,
    memo: &Memo,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Loaded> {
    let Some(Value::Object(refs)) = refs else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (title, r) in refs {
        let Some(reference) = r.get("$ref").and_then(Value::as_str) else {
            continue;
        };
        let path = join_relative(spec, reference);
        let mut file = rel_path(specs_root, &path);
        let at = format!(
            "{pointer}/x-ms-examples/{}",
            crate::diag::escape_token(title)
        );
        let parsed = match loader.load_any_case(&path) {
            Ok((bytes, found)) => {
                if let Some(found) = found {
                    let real = rel_path(specs_root, &found);
                    diags.push(Diagnostic::new(
                        DiagKind::ExampleCase,
                        spec_rel,
                        at.clone(),
                        format!(
                            "example `{file}` found as `{real}` (the file name's case differs)"
                        ),
                    ));
                    file = real;
                }
                memo.parse(&bytes)
            }
            Err(e) => Arc::new(Err(e.to_string())),
        };
        let mut example = Example {
            title: title.clone(),
            file: file.clone(),
            found: false,
            status: None,
            parameters: None,
            response: None,
        };
        let mut bodies = Vec::new();
        match parsed.as_ref() {
            Ok(recorded) => {
                example.found = true;
                example.parameters = recorded.parameters.clone();
                for (i, (status, body)) in recorded.responses.iter().enumerate() {
                    if i == 0 {
                        example.status = Some(status.clone());
                        example.response = body.clone();
                    }
                    if let Some(body) = body {
                        bodies.push((status.clone(), body.clone()));
                    }
                }
            }
            Err(e) => diags.push(Diagnostic::new(
                DiagKind::MissingExample,
                spec_rel,
                at,
                format!("example `{file}` cannot be read: {e}"),
            )),
        }
        out.push(Loaded { example, bodies });
    }
    out
}

/// A copy of `v` with arrays cut to [`MAX_ITEMS`] and strings to [`crate::parse::MAX_STRING`] chars.
pub fn trim(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(trim_str(s)),
        Value::Array(a) => Value::Array(a.iter().take(MAX_ITEMS).map(trim).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), trim(v))).collect()),
        other => other.clone(),
    }
}

/// Parses an example file straight into its trimmed form: items past [`MAX_ITEMS`] are
/// skipped without being built (example files total ~96 MB; most of it is list items).
pub fn parse_trimmed(bytes: &[u8]) -> Result<Value, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("empty file".into());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = serde::Deserialize::deserialize(&mut de)
        .map(|Tree::<true>(v)| v)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

/// The broad shape of a type or a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Array,
    Object,
    Scalar,
    Unknown,
}

fn shape_of_ty(ty: &Ty, types: &TypeSpace) -> Shape {
    let mut ty = ty;
    for _ in 0..16 {
        match ty {
            Ty::Ref { name } => match types.get(name) {
                Some(d) => ty = &d.ty,
                None => return Shape::Unknown,
            },
            Ty::Nullable { inner } => ty = inner,
            Ty::Array { .. } => return Shape::Array,
            Ty::Object { .. } | Ty::Map { .. } | Ty::AllOf { .. } => return Shape::Object,
            Ty::String { .. }
            | Ty::Integer { .. }
            | Ty::Number { .. }
            | Ty::Boolean
            | Ty::Literal { .. }
            | Ty::Binary => return Shape::Scalar,
            Ty::OneOf { .. } | Ty::AnyOf { .. } | Ty::Null | Ty::Any => return Shape::Unknown,
        }
    }
    Shape::Unknown
}

fn shape_of_value(v: &Value) -> Shape {
    match v {
        Value::Array(_) => Shape::Array,
        Value::Object(_) => Shape::Object,
        Value::Null => Shape::Unknown,
        _ => Shape::Scalar,
    }
}

/// `{"count": n, "value": [...]}` (some lists put an object in `value`; still the envelope).
fn is_envelope(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.get("value").is_some_and(Value::is_array)
        || (m.contains_key("count") && m.contains_key("value")))
}

/// `{ count: number; value: T[] }` around a declared array type.
pub fn envelope(array: Ty) -> Ty {
    Ty::Object {
        properties: vec![
            Property {
                name: "count".into(),
                ty: Ty::Integer {
                    format: Some("int32".into()),
                    enumeration: vec![],
                },
                required: true,
                read_only: false,
                description: Some("Number of items in `value`.".into()),
            },
            Property {
                name: "value".into(),
                ty: array,
                required: true,
                read_only: false,
                description: None,
            },
        ],
        additional: None,
    }
}

/// Inputs of [`correct`] about one operation.
#[derive(Debug)]
pub struct Check<'a> {
    pub declared: Option<&'a Ty>,
    pub status: &'a str,
    /// Azure DevOps operation: declared arrays are enveloped.
    pub azure: bool,
    pub examples: &'a [Loaded],
}

/// Decides the real success shape; returns it, the correction, and any mismatch message.
pub fn correct(c: &Check<'_>, types: &TypeSpace) -> (Option<Ty>, Correction, Option<String>) {
    let bodies: Vec<(&str, &Value)> = c
        .examples
        .iter()
        .flat_map(|l| {
            l.bodies
                .iter()
                .filter(|(s, _)| s == c.status)
                .map(move |(_, b)| (l.example.file.as_str(), &**b))
        })
        .filter(|(_, b)| !b.is_null())
        .collect();
    let Some(declared) = c.declared else {
        return match bodies.first() {
            Some((file, b)) if shape_of_value(b) != Shape::Scalar => (
                None,
                Correction::Contradicted,
                Some(format!(
                    "`{file}` records {} {} body for status {} but the spec declares none",
                    article(shape_of_value(b)),
                    kind_name(shape_of_value(b)),
                    c.status
                )),
            ),
            _ => (None, Correction::None, None),
        };
    };
    let declared_shape = shape_of_ty(declared, types);
    if c.azure && declared_shape == Shape::Array {
        // A bare array agrees with the spec (only the envelope rule is wrong there);
        // anything else that is not an envelope contradicts both.
        if let Some((file, b)) = bodies
            .iter()
            .find(|(_, b)| !is_envelope(b) && shape_of_value(b) != Shape::Array)
        {
            let msg = format!(
                "`{file}` records {} {} where the spec declares an array (usually sent as \
                 {{count, value}}); keeping the declared array",
                article(shape_of_value(b)),
                kind_name(shape_of_value(b))
            );
            return (Some(declared.clone()), Correction::Contradicted, Some(msg));
        }
        if bodies
            .iter()
            .any(|(_, b)| shape_of_value(b) == Shape::Array)
        {
            return (Some(declared.clone()), Correction::Confirmed, None);
        }
        let correction = if bodies.is_empty() {
            Correction::Enveloped
        } else {
            Correction::EnvelopedConfirmed
        };
        return (Some(envelope(declared.clone())), correction, None);
    }
    if declared_shape == Shape::Unknown {
        return (Some(declared.clone()), Correction::None, None);
    }
    if let Some((file, b)) = bodies.iter().find(|(_, b)| {
        !matches!(shape_of_value(b), Shape::Unknown) && shape_of_value(b) != declared_shape
    }) {
        let msg = format!(
            "`{file}` records {} {} where the spec declares {} {}",
            article(shape_of_value(b)),
            kind_name(shape_of_value(b)),
            article(declared_shape),
            kind_name(declared_shape)
        );
        return (Some(declared.clone()), Correction::Contradicted, Some(msg));
    }
    let correction = if bodies.is_empty() {
        Correction::None
    } else {
        Correction::Confirmed
    };
    (Some(declared.clone()), correction, None)
}

fn kind_name(s: Shape) -> &'static str {
    match s {
        Shape::Array => "array",
        Shape::Object => "object",
        Shape::Scalar => "scalar",
        Shape::Unknown => "value",
    }
}

fn article(s: Shape) -> &'static str {
    match s {
        Shape::Array | Shape::Object => "an",
        _ => "a",
    }
}

/// Keys of a JSON object (helper for tests and reports).
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(Map::keys)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::MAX_STRING;
    use serde_json::json;

    fn loaded(body: Value) -> Loaded {
        Loaded {
            example: Example {
                title: "t".into(),
                file: "x.json".into(),
                found: true,
                status: Some("200".into()),
                parameters: None,
                response: Some(Arc::new(trim(&body))),
            },
            bodies: vec![("200".into(), Arc::new(body))],
        }
    }

    #[test]
    fn equal_contents_are_parsed_once() {
        let memo = Memo::default();
        let a = memo.parse(br#"{"responses": {"200": {"body": [1]}}}"#);
        let b = memo.parse(br#"{"responses": {"200": {"body": [1]}}}"#);
        let c = memo.parse(br#"{"responses": {"200": {"body": [2]}}}"#);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        let c = c.as_ref().as_ref().expect("parsed");
        assert_eq!(c.responses.len(), 1);
        assert_eq!(c.responses[0].0, "200");
        assert_eq!(c.responses[0].1.as_deref(), Some(&json!([2])));
        assert!(c.parameters.is_none());
        assert!(memo.parse(b"{").is_err());
    }

    #[test]
    fn envelope_is_confirmed_or_contradicted_by_examples() {
        let arr = Ty::Array {
            items: Box::new(Ty::Boolean),
        };
        let types = TypeSpace::new();
        let check = |ex: &[Loaded]| {
            correct(
                &Check {
                    declared: Some(&arr),
                    status: "200",
                    azure: true,
                    examples: ex,
                },
                &types,
            )
        };
        assert_eq!(check(&[]).1, Correction::Enveloped);
        let ok = [loaded(json!({"count": 1, "value": [true]}))];
        let (ty, c, _) = check(&ok);
        assert_eq!(c, Correction::EnvelopedConfirmed);
        assert_eq!(
            keys(&serde_json::to_value(ty).unwrap()),
            ["kind", "properties"]
        );
        let bare = [loaded(json!([true]))];
        let (ty, c, msg) = check(&bare);
        assert_eq!(
            (ty, c, msg),
            (Some(arr.clone()), Correction::Confirmed, None)
        );
        let single = [loaded(json!({"id": 1}))];
        let (ty, c, msg) = check(&single);
        assert_eq!((ty, c), (Some(arr.clone()), Correction::Contradicted));
        assert!(msg.unwrap().contains("records an object"));
    }

    #[test]
    fn trim_cuts_arrays_and_strings() {
        let full = json!({"a": [1, [2, 3, 4], 5], "s": "x".repeat(300), "n": null});
        let v = trim(&full);
        assert_eq!(v["a"], json!([1, [2, 3]]));
        assert_eq!(v["s"].as_str().unwrap().chars().count(), MAX_STRING + 1);
        let text = serde_json::to_vec(&full).unwrap();
        assert_eq!(parse_trimmed(&text).unwrap(), v);
        assert!(parse_trimmed(b"{\"a\": [1,").is_err());
        assert!(parse_trimmed(b"{} x").is_err());
        assert_eq!(parse_trimmed(b" ").unwrap_err(), "empty file");
    }
}
