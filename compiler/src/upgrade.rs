//! Stage 3, upgrade: every dialect to the OpenAPI 3.0 shape that `openapiv3` reads.
//!
//! `openapiv3` models 3.0 only, so the compiler brings every document to that one model
//! before typing it, and everything downstream sees a single model:
//!
//! - **Swagger 2.0** (Azure DevOps): `definitions`/`parameters`/`responses` move under
//!   `components` (refs rewritten), body and formData parameters become `requestBody`,
//!   `produces`/`consumes` become media types, `host`/`basePath`/`schemes` become
//!   `servers`, and the query-qualified `x-ms-paths` join `paths` as distinct operations.
//!   Each operation keeps its original JSON pointer in `x-opcat-pointer`.
//! - **OpenAPI 3.1**: JSON Schema 2020-12 forms are lowered (`type: [T, "null"]` ->
//!   `nullable`, type lists -> `anyOf`, `const` -> one-value `enum`, `examples` -> `example`,
//!   numeric `exclusiveMinimum`/`exclusiveMaximum` -> 3.0 booleans).
//!
//! The transform works on the JSON tree, so it is cheap and never fails: odd input passes
//! through and the resolve stage reports what it cannot type.

use serde_json::{Map, Value, json};

use crate::diag;
use crate::parse::Dialect;

/// Extension on each operation holding its JSON pointer in the original file.
pub const POINTER_EXT: &str = "x-opcat-pointer";
/// Extension on a request body holding the Swagger body parameter's name.
pub const BODY_NAME_EXT: &str = "x-opcat-body-name";
/// Extension on a parameter holding the Swagger `collectionFormat`.
pub const COLLECTION_EXT: &str = "x-opcat-collection-format";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Brings a parsed document of `dialect` to the OpenAPI 3.0 shape.
pub fn upgrade(doc: Value, dialect: Dialect) -> Value {
    match (dialect, doc) {
        (Dialect::Swagger2, Value::Object(m)) => Value::Object(swagger2(m)),
        (Dialect::OpenApi31, mut doc) => {
            walk_schemas(&mut doc, &mut lower_31);
            if let Some(o) = doc.as_object_mut() {
                o.insert("openapi".into(), json!("3.0.3"));
            }
            doc
        }
        (_, doc) => {
            let mut doc = doc;
            add_pointers(&mut doc);
            doc
        }
    }
}

/// Records each operation's pointer in an OpenAPI 3 document (already the final shape).
fn add_pointers(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for m in METHODS {
            if let Some(Value::Object(op)) = item.get_mut(m) {
                op.insert(POINTER_EXT.into(), json!(diag::pointer(["paths", path, m])));
            }
        }
    }
}

// ---------------------------------------------------------------- Swagger 2.0

struct Globals {
    consumes: Vec<String>,
    produces: Vec<String>,
    /// Global parameters, to tell body/formData refs from plain ones.
    parameters: Map<String, Value>,
}

fn swagger2(mut src: Map<String, Value>) -> Map<String, Value> {
    let g = Globals {
        consumes: strings(src.remove("consumes")),
        produces: strings(src.remove("produces")),
        parameters: match src.remove("parameters") {
            Some(Value::Object(p)) => p,
            _ => Map::new(),
        },
    };
    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    out.insert(
        "info".into(),
        src.remove("info")
            .unwrap_or_else(|| json!({"title": "", "version": ""})),
    );
    out.insert("servers".into(), json!([{ "url": server_url(&src) }]));

    let mut components = Map::new();
    if let Some(Value::Object(defs)) = src.remove("definitions") {
        components.insert("schemas".into(), Value::Object(defs));
    }
    let mut params = Map::new();
    let mut bodies = Map::new();
    for (name, p) in &g.parameters {
        match p.get("in").and_then(Value::as_str) {
            Some("body") => {
                bodies.insert(name.clone(), body_from_param(p, &g.consumes));
            }
            Some("formData") => {} // inlined where used
            _ => {
                params.insert(name.clone(), convert_param(p.clone()));
            }
        }
    }
    components.insert("parameters".into(), Value::Object(params));
    components.insert("requestBodies".into(), Value::Object(bodies));
    if let Some(Value::Object(resps)) = src.remove("responses") {
        let resps = resps
            .into_iter()
            .map(|(k, r)| (k, convert_response(r, &g.produces)))
            .collect();
        components.insert("responses".into(), Value::Object(resps));
    }
    if let Some(Value::Object(sec)) = src.remove("securityDefinitions") {
        let sec = sec
            .into_iter()
            .map(|(k, s)| (k, convert_security(s)))
            .collect();
        components.insert("securitySchemes".into(), Value::Object(sec));
    }

    let mut paths = Map::new();
    for section in ["paths", "x-ms-paths"] {
        let Some(Value::Object(items)) = src.remove(section) else {
            continue;
        };
        for (path, item) in items {
            let item = convert_path_item(item, section, &path, &g);
            paths.insert(path, item);
        }
    }
    out.insert("paths".into(), Value::Object(paths));
    out.insert("components".into(), Value::Object(components));
    for (k, v) in src {
        match k.as_str() {
            "tags" | "security" | "externalDocs" => {
                out.insert(k, v);
            }
            _ if k.starts_with("x-") => {
                out.insert(k, v);
            }
            _ => {}
        }
    }
    let mut doc = Value::Object(out);
    rewrite_refs(&mut doc, &g);
    match doc {
        Value::Object(m) => m,
        _ => unreachable!("built as an object above"),
    }
}

fn strings(v: Option<Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// `host` + `basePath` as a URL; `host` may carry its own scheme and path (on-premises specs).
fn server_url(src: &Map<String, Value>) -> String {
    let host = src.get("host").and_then(Value::as_str).unwrap_or("");
    let base = src.get("basePath").and_then(Value::as_str).unwrap_or("");
    let scheme = src
        .get("schemes")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or("https");
    let mut url = if host.contains("://") {
        host.to_string()
    } else if host.is_empty() {
        String::new()
    } else {
        format!("{scheme}://{host}")
    };
    url.push_str(base);
    while url.ends_with('/') {
        url.pop();
    }
    url
}

fn convert_path_item(item: Value, section: &str, path: &str, g: &Globals) -> Value {
    let Value::Object(item) = item else {
        return item;
    };
    let mut out = Map::new();
    for (k, v) in item {
        if METHODS.contains(&k.as_str()) {
            let ptr = diag::pointer([section, path, k.as_str()]);
            out.insert(k, convert_operation(v, ptr, g));
        } else if k == "parameters" {
            // Path-level parameters: plain ones stay, body/formData move to each operation
            // (rare in practice; kept plain here).
            let params = match v {
                Value::Array(a) => a
                    .into_iter()
                    .filter(|p| !matches!(param_in(p, g), Some("body" | "formData")))
                    .map(|p| convert_param_or_ref(p, g))
                    .collect(),
                other => vec![other],
            };
            out.insert(k, Value::Array(params));
        } else {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// The `in` of a parameter or of the global parameter a `$ref` names.
fn param_in<'a>(p: &'a Value, g: &'a Globals) -> Option<&'a str> {
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/parameters/")?;
        return g
            .parameters
            .get(&unescape(name))
            .and_then(|p| p.get("in"))
            .and_then(Value::as_str);
    }
    p.get("in").and_then(Value::as_str)
}

fn convert_param_or_ref(p: Value, _g: &Globals) -> Value {
    if p.get("$ref").is_some() {
        p
    } else {
        convert_param(p)
    }
}

fn convert_operation(op: Value, ptr: String, g: &Globals) -> Value {
    let Value::Object(mut op) = op else {
        return op;
    };
    let consumes = match op.remove("consumes") {
        Some(v) => strings(Some(v)),
        None => g.consumes.clone(),
    };
    let produces = match op.remove("produces") {
        Some(v) => strings(Some(v)),
        None => g.produces.clone(),
    };
    let mut params = Vec::new();
    let mut body = None;
    let mut form: Vec<Value> = Vec::new();
    if let Some(Value::Array(ps)) = op.remove("parameters") {
        for p in ps {
            match param_in(&p, g) {
                Some("body") => {
                    body = Some(match p.get("$ref").and_then(Value::as_str) {
                        Some(r) => {
                            let name = r.trim_start_matches("#/parameters/");
                            json!({ "$ref": format!("#/components/requestBodies/{name}") })
                        }
                        None => body_from_param(&p, &consumes),
                    });
                }
                Some("formData") => {
                    let p = match p.get("$ref").and_then(Value::as_str) {
                        Some(r) => g
                            .parameters
                            .get(&unescape(r.trim_start_matches("#/parameters/")))
                            .cloned()
                            .unwrap_or(p),
                        None => p,
                    };
                    form.push(p);
                }
                _ => params.push(convert_param_or_ref(p, g)),
            }
        }
    }
    if !form.is_empty() && body.is_none() {
        body = Some(form_body(form, &consumes));
    }
    op.insert("parameters".into(), Value::Array(params));
    if let Some(b) = body {
        op.insert("requestBody".into(), b);
    }
    if let Some(Value::Object(resps)) = op.remove("responses") {
        let resps: Map<String, Value> = resps
            .into_iter()
            .map(|(k, r)| {
                if k.starts_with("x-") {
                    (k, r)
                } else {
                    (k, convert_response(r, &produces))
                }
            })
            .collect();
        op.insert("responses".into(), Value::Object(resps));
    } else {
        op.insert("responses".into(), json!({}));
    }
    op.insert(POINTER_EXT.into(), Value::String(ptr));
    Value::Object(op)
}

/// Swagger keys that describe a parameter's value and move into its 3.0 `schema`.
const SCHEMA_KEYS: [&str; 17] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "x-ms-enum",
];

fn convert_param(p: Value) -> Value {
    let Value::Object(mut p) = p else {
        return p;
    };
    let mut schema = Map::new();
    for k in SCHEMA_KEYS {
        if let Some(v) = p.remove(k) {
            schema.insert(k.into(), v);
        }
    }
    fix_file_type(&mut schema);
    if let Some(Value::Object(items)) = schema.get_mut("items") {
        fix_file_type(items);
    }
    if let Some(cf) = p.remove("collectionFormat") {
        p.insert(COLLECTION_EXT.into(), cf);
    }
    p.remove("allowEmptyValue");
    if p.get("in").and_then(Value::as_str) == Some("path") {
        p.insert("required".into(), Value::Bool(true));
    }
    if !p.contains_key("schema") {
        p.insert("schema".into(), Value::Object(schema));
    }
    Value::Object(p)
}

/// Swagger's `type: file` is a binary string in 3.0.
fn fix_file_type(schema: &mut Map<String, Value>) {
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), json!("string"));
        schema.insert("format".into(), json!("binary"));
    }
}

fn body_from_param(p: &Value, consumes: &[String]) -> Value {
    let schema = p.get("schema").cloned().unwrap_or_else(|| json!({}));
    let mut content = Map::new();
    let types: Vec<String> = if consumes.is_empty() {
        vec!["application/json".into()]
    } else {
        consumes.to_vec()
    };
    for ct in types {
        content.insert(ct, json!({ "schema": schema }));
    }
    let mut body = Map::new();
    if let Some(d) = p.get("description") {
        body.insert("description".into(), d.clone());
    }
    body.insert("content".into(), Value::Object(content));
    body.insert(
        "required".into(),
        Value::Bool(p.get("required").and_then(Value::as_bool).unwrap_or(false)),
    );
    if let Some(n) = p.get("name") {
        body.insert(BODY_NAME_EXT.into(), n.clone());
    }
    Value::Object(body)
}

fn form_body(form: Vec<Value>, consumes: &[String]) -> Value {
    let ct = if consumes.iter().any(|c| c == "multipart/form-data")
        || form
            .iter()
            .any(|p| p.get("type").and_then(Value::as_str) == Some("file"))
    {
        "multipart/form-data"
    } else {
        "application/x-www-form-urlencoded"
    };
    let mut props = Map::new();
    let mut required = Vec::new();
    for p in form {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if p.get("required").and_then(Value::as_bool) == Some(true) {
            required.push(json!(name));
        }
        let desc = p.get("description").cloned();
        let mut converted = convert_param(p);
        let mut schema = converted
            .get_mut("schema")
            .map(Value::take)
            .unwrap_or_else(|| json!({}));
        if let (Some(d), Some(s)) = (desc, schema.as_object_mut()) {
            s.insert("description".into(), d);
        }
        props.insert(name, schema);
    }
    json!({
        "required": !required.is_empty(),
        "content": { ct: { "schema": {
            "type": "object", "properties": props, "required": required
        } } }
    })
}

fn convert_response(r: Value, produces: &[String]) -> Value {
    let Value::Object(mut r) = r else {
        return r;
    };
    if r.contains_key("$ref") {
        return Value::Object(r);
    }
    let mut out = Map::new();
    out.insert(
        "description".into(),
        r.remove("description").unwrap_or_else(|| json!("")),
    );
    if let Some(mut schema) = r.remove("schema") {
        let is_file = schema.get("type").and_then(Value::as_str) == Some("file");
        if let Some(s) = schema.as_object_mut() {
            fix_file_type(s);
        }
        let types: Vec<String> = if !produces.is_empty() {
            produces.to_vec()
        } else if is_file {
            vec!["application/octet-stream".into()]
        } else {
            vec!["application/json".into()]
        };
        let mut content = Map::new();
        for ct in types {
            content.insert(ct, json!({ "schema": schema }));
        }
        out.insert("content".into(), Value::Object(content));
    }
    if let Some(Value::Object(headers)) = r.remove("headers") {
        let headers: Map<String, Value> = headers
            .into_iter()
            .map(|(name, h)| {
                let mut h = match h {
                    Value::Object(h) => h,
                    _ => Map::new(),
                };
                let mut schema = Map::new();
                for k in SCHEMA_KEYS {
                    if let Some(v) = h.remove(k) {
                        schema.insert(k.into(), v);
                    }
                }
                let mut out = Map::new();
                if let Some(d) = h.remove("description") {
                    out.insert("description".into(), d);
                }
                out.insert("schema".into(), Value::Object(schema));
                (name, Value::Object(out))
            })
            .collect();
        out.insert("headers".into(), Value::Object(headers));
    }
    for (k, v) in r {
        if k.starts_with("x-") {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

fn convert_security(s: Value) -> Value {
    let Value::Object(s) = s else { return s };
    let desc = s.get("description").cloned().unwrap_or(json!(""));
    match s.get("type").and_then(Value::as_str) {
        Some("basic") => json!({"type": "http", "scheme": "basic", "description": desc}),
        Some("apiKey") => json!({
            "type": "apiKey",
            "name": s.get("name").cloned().unwrap_or(json!("")),
            "in": s.get("in").cloned().unwrap_or(json!("header")),
            "description": desc,
        }),
        Some("oauth2") => {
            let scopes = s.get("scopes").cloned().unwrap_or(json!({}));
            let auth = s.get("authorizationUrl").cloned().unwrap_or(json!(""));
            let token = s.get("tokenUrl").cloned().unwrap_or(json!(""));
            let flows = match s.get("flow").and_then(Value::as_str) {
                Some("implicit") => {
                    json!({"implicit": {"authorizationUrl": auth, "scopes": scopes}})
                }
                Some("password") => json!({"password": {"tokenUrl": token, "scopes": scopes}}),
                Some("application") => {
                    json!({"clientCredentials": {"tokenUrl": token, "scopes": scopes}})
                }
                _ => json!({"authorizationCode": {
                    "authorizationUrl": auth, "tokenUrl": token, "scopes": scopes
                }}),
            };
            json!({"type": "oauth2", "flows": flows, "description": desc})
        }
        _ => Value::Object(s),
    }
}

/// Rewrites Swagger refs to their 3.0 homes; leaves other refs (files, examples) alone.
fn rewrite_refs(v: &mut Value, g: &Globals) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                if let Some(rest) = r.strip_prefix("#/definitions/") {
                    *r = format!("#/components/schemas/{rest}");
                } else if let Some(rest) = r.strip_prefix("#/responses/") {
                    *r = format!("#/components/responses/{rest}");
                } else if let Some(rest) = r.strip_prefix("#/parameters/") {
                    let is_body = g
                        .parameters
                        .get(&unescape(rest))
                        .and_then(|p| p.get("in"))
                        .and_then(Value::as_str)
                        == Some("body");
                    let home = if is_body {
                        "requestBodies"
                    } else {
                        "parameters"
                    };
                    *r = format!("#/components/{home}/{rest}");
                }
            }
            for (k, child) in m.iter_mut() {
                if k != "example" && k != "x-ms-examples" {
                    rewrite_refs(child, g);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_refs(c, g)),
        _ => {}
    }
}

/// Unescapes one JSON pointer token (`~1` -> `/`, `~0` -> `~`).
pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

// ---------------------------------------------------------------- schema walking

/// Calls `f` on every schema object of an OpenAPI 3 document, outermost first.
///
/// Schemas are found by position (`schema`, `components.schemas`, and inside schemas:
/// `properties`, `items`, `additionalProperties`, `allOf`/`anyOf`/`oneOf`, `not`), so a
/// property that happens to be called `const` or `type` is never mistaken for a keyword.
/// Extensions (`x-*`) and examples are not entered.
pub fn walk_schemas(doc: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    walk_generic(doc, f);
}

fn walk_generic(v: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                match k.as_str() {
                    "schema" => walk_schema(child, f),
                    "schemas" => {
                        if let Value::Object(s) = child {
                            s.values_mut().for_each(|c| walk_schema(c, f));
                        }
                    }
                    "example" | "examples" | "default" => {}
                    _ if k.starts_with("x-") => {}
                    _ => walk_generic(child, f),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| walk_generic(c, f)),
        _ => {}
    }
}

fn walk_schema(v: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Value::Object(m) = v else { return };
    f(m);
    for (k, child) in m.iter_mut() {
        match k.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" => {
                if let Value::Object(props) = child {
                    props.values_mut().for_each(|c| walk_schema(c, f));
                }
            }
            "items" | "additionalProperties" | "not" | "contains" => walk_schema(child, f),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(a) = child {
                    a.iter_mut().for_each(|c| walk_schema(c, f));
                }
            }
            _ => {}
        }
    }
}

/// Lowers one 3.1 schema object to 3.0 (children are visited by the walker).
fn lower_31(s: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = s.get("type").cloned() {
        let mut types: Vec<Value> = types;
        let had_null = types.iter().any(|t| t == "null");
        types.retain(|t| t != "null");
        s.remove("type");
        match types.len() {
            0 => {}
            1 => {
                s.insert("type".into(), types.remove(0));
            }
            _ => {
                let variants: Vec<Value> =
                    types.into_iter().map(|t| json!({ "type": t })).collect();
                s.insert("anyOf".into(), Value::Array(variants));
            }
        }
        if had_null {
            s.insert("nullable".into(), Value::Bool(true));
        }
    } else if s.get("type").and_then(Value::as_str) == Some("null") {
        s.remove("type");
        s.insert("nullable".into(), Value::Bool(true));
        s.insert("enum".into(), json!([null]));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(vs)) = s.get_mut(key) {
            let before = vs.len();
            vs.retain(|v| v.get("type").and_then(Value::as_str) != Some("null"));
            if vs.len() != before {
                s.insert("nullable".into(), Value::Bool(true));
            }
        }
    }
    if let Some(c) = s.remove("const") {
        s.insert("enum".into(), Value::Array(vec![c]));
    }
    if let Some(Value::Array(mut ex)) = s.remove("examples")
        && !ex.is_empty()
    {
        s.insert("example".into(), ex.swap_remove(0));
    }
    for (key, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n @ Value::Number(_)) = s.get(key).cloned() {
            s.insert(bound.into(), n);
            s.insert(key.into(), Value::Bool(true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_31_type_lists_and_const() {
        let mut doc = json!({"components": {"schemas": {"A": {
            "type": "object",
            "properties": {
                "const": {"type": ["string", "null"]},
                "b": {"const": "x"},
                "c": {"type": ["integer", "string"]},
                "d": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]}
            }
        }}}});
        walk_schemas(&mut doc, &mut lower_31);
        let p = &doc["components"]["schemas"]["A"]["properties"];
        assert_eq!(p["const"], json!({"type": "string", "nullable": true}));
        assert_eq!(p["b"], json!({"enum": ["x"]}));
        assert_eq!(
            p["c"]["anyOf"],
            json!([{"type": "integer"}, {"type": "string"}])
        );
        assert_eq!(p["d"]["nullable"], json!(true));
    }

    #[test]
    fn swagger_body_params_and_x_ms_paths_upgrade() {
        let doc = json!({
            "swagger": "2.0", "host": "vsrm.dev.azure.com", "basePath": "/",
            "paths": {"/a/{id}": {"post": {
                "operationId": "A_Post",
                "parameters": [
                    {"in": "path", "name": "id", "type": "string"},
                    {"in": "body", "name": "doc", "schema": {"$ref": "#/definitions/D"}},
                    {"$ref": "#/parameters/v"}
                ],
                "responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/D"}}}}
            }}},
            "x-ms-paths": {"/a/{id}?x={x}": {"get": {"operationId": "A_Get", "responses": {}}}},
            "parameters": {"v": {"in": "query", "name": "api-version", "type": "string"}},
            "definitions": {"D": {"type": "object"}}
        });
        let up = upgrade(doc, Dialect::Swagger2);
        assert_eq!(up["servers"][0]["url"], "https://vsrm.dev.azure.com");
        let op = &up["paths"]["/a/{id}"]["post"];
        assert_eq!(op["parameters"][0]["required"], json!(true));
        assert_eq!(op["parameters"][0]["schema"]["type"], "string");
        assert_eq!(op["parameters"][1]["$ref"], "#/components/parameters/v");
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/D"
        );
        assert_eq!(op["requestBody"][BODY_NAME_EXT], "doc");
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"],
            "#/components/schemas/D"
        );
        assert_eq!(
            up["paths"]["/a/{id}?x={x}"]["get"][POINTER_EXT],
            "/x-ms-paths/~1a~1{id}?x={x}/get"
        );
    }
}
