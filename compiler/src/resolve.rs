//! Stage 4, resolve: type the upgraded tree with `openapiv3`, piece by piece, and follow refs.
//!
//! Each path item and each component is deserialized on its own, so a part that does not
//! have the expected shape is reported (file + JSON pointer) and skipped while the rest of
//! the document compiles. [`Api`] then answers `$ref` lookups for the normalize stage.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use openapiv3::{
    Components, OpenAPI, Parameter, PathItem, ReferenceOr, RequestBody, Response, Schema,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::diag::{self, DiagKind, Diagnostic};

/// A typed document. Component schemas are typed lazily, on first use: only about half of
/// the Azure DevOps definitions are reachable from an operation, and typing is the
/// costliest part of the build.
#[derive(Debug)]
pub struct Api {
    pub doc: OpenAPI,
    /// Original-file JSON pointer prefix for `components/schemas` (Swagger: `/definitions`).
    pub schema_home: &'static str,
    file: String,
    schemas: LazySchemas,
    /// Diagnostics of lazily typed schemas, taken by [`Api::take_diagnostics`].
    late_diags: RefCell<Vec<Diagnostic>>,
}

/// Component schemas by name: the raw tree, typed on first use.
type LazySchemas = HashMap<String, (Value, OnceCell<Option<ReferenceOr<Schema>>>)>;

/// Types `doc` (OpenAPI 3.0 shaped). Never fails: unreadable parts become diagnostics.
pub fn resolve(
    doc: Value,
    file: &str,
    schema_home: &'static str,
    diags: &mut Vec<Diagnostic>,
) -> Api {
    let Value::Object(mut root) = doc else {
        diags.push(Diagnostic::new(
            DiagKind::Shape,
            file,
            "",
            "expected an object at the top level",
        ));
        return Api::new(empty(), file, schema_home, HashMap::new());
    };
    let paths = root.remove("paths");
    let components = root.remove("components");
    root.insert("paths".into(), Value::Object(Map::new()));
    if !root.contains_key("info") {
        root.insert(
            "info".into(),
            serde_json::json!({"title": "", "version": ""}),
        );
    }
    let mut api: OpenAPI = match serde_json::from_value(Value::Object(root)) {
        Ok(a) => a,
        Err(e) => {
            diags.push(Diagnostic::new(
                DiagKind::Shape,
                file,
                "",
                format!("document header: {e}"),
            ));
            empty()
        }
    };
    if let Some(Value::Object(paths)) = paths {
        for (path, item) in paths {
            let ptr = original_item_pointer(&item, &path);
            if let Some(item) = piece::<ReferenceOr<PathItem>>(item, file, &ptr, diags) {
                api.paths.paths.insert(path, item);
            }
        }
    }
    let mut schemas = HashMap::new();
    if let Some(Value::Object(mut comps)) = components {
        if let Some(Value::Object(raw)) = comps.remove("schemas") {
            schemas = raw
                .into_iter()
                .map(|(k, v)| (k, (v, OnceCell::new())))
                .collect();
        }
        api.components = Some(typed_components(comps, file, diags));
    }
    Api::new(api, file, schema_home, schemas)
}

fn empty() -> OpenAPI {
    OpenAPI {
        openapi: "3.0.3".into(),
        ..Default::default()
    }
}

/// The pointer of a path item in the original file, read from an operation's
/// `x-opcat-pointer` (Swagger items may come from `x-ms-paths`).
fn original_item_pointer(item: &Value, path: &str) -> String {
    item.as_object()
        .and_then(|m| {
            m.values().find_map(|op| {
                op.get(crate::upgrade::POINTER_EXT)
                    .and_then(Value::as_str)
                    .and_then(|p| p.rsplit_once('/').map(|(head, _)| head.to_string()))
            })
        })
        .unwrap_or_else(|| diag::pointer(["paths", path]))
}

fn piece<T: DeserializeOwned>(
    v: Value,
    file: &str,
    ptr: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    // Almost every piece is well formed: type it without tracking the path, and pay for
    // the path (one `String` per key on the way) only to report a failure.
    if let Ok(t) = T::deserialize(&v) {
        return Some(t);
    }
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let inner = e.path().to_string();
            let at = if inner == "." || inner.is_empty() {
                ptr.to_string()
            } else {
                format!(
                    "{ptr}{}",
                    diag::pointer(inner.split('.').filter(|s| !s.is_empty()))
                )
            };
            diags.push(Diagnostic::new(
                DiagKind::Shape,
                file,
                at,
                format!("skipped: {}", e.inner()),
            ));
            None
        }
    }
}

fn typed_components(
    mut comps: Map<String, Value>,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) -> Components {
    let mut out = Components::default();
    fn each<T: DeserializeOwned>(
        comps: &mut Map<String, Value>,
        key: &str,
        home: &str,
        file: &str,
        diags: &mut Vec<Diagnostic>,
        mut put: impl FnMut(String, T),
    ) {
        if let Some(Value::Object(m)) = comps.remove(key) {
            for (name, v) in m {
                let ptr = format!("{home}/{}", diag::escape_token(&name));
                if let Some(t) = piece::<T>(v, file, &ptr, diags) {
                    put(name, t);
                }
            }
        }
    }
    let home = |k: &str| format!("/components/{k}");
    each::<ReferenceOr<Parameter>>(
        &mut comps,
        "parameters",
        &home("parameters"),
        file,
        diags,
        |n, t| {
            out.parameters.insert(n, t);
        },
    );
    each::<ReferenceOr<RequestBody>>(
        &mut comps,
        "requestBodies",
        &home("requestBodies"),
        file,
        diags,
        |n, t| {
            out.request_bodies.insert(n, t);
        },
    );
    each::<ReferenceOr<Response>>(
        &mut comps,
        "responses",
        &home("responses"),
        file,
        diags,
        |n, t| {
            out.responses.insert(n, t);
        },
    );
    each(
        &mut comps,
        "securitySchemes",
        &home("securitySchemes"),
        file,
        diags,
        |n, t| {
            out.security_schemes.insert(n, t);
        },
    );
    out
}

/// Why a reference could not be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefError {
    /// Points into this document but names nothing.
    Missing,
    /// Not a `#/components/<kind>/<name>` reference, or a chain of refs that loops.
    Unsupported,
    Cycle,
}

impl Api {
    fn new(doc: OpenAPI, file: &str, schema_home: &'static str, schemas: LazySchemas) -> Api {
        Api {
            doc,
            schema_home,
            file: file.to_string(),
            schemas,
            late_diags: RefCell::new(Vec::new()),
        }
    }

    /// Diagnostics found while typing schemas on demand.
    pub fn take_diagnostics(&self) -> Vec<Diagnostic> {
        self.late_diags.take()
    }

    /// The name of `#/components/<kind>/<name>`.
    pub fn ref_name<'r>(reference: &'r str, kind: &str) -> Option<&'r str> {
        reference
            .strip_prefix("#/components/")?
            .strip_prefix(kind)?
            .strip_prefix('/')
            .filter(|n| !n.contains('/'))
    }

    /// Follows a chain of references in `components.<kind>` to an item.
    fn follow<'a, T>(
        &'a self,
        mut r: &'a ReferenceOr<T>,
        kind: &str,
        map: impl Fn(&'a Components) -> &'a indexmap::IndexMap<String, ReferenceOr<T>>,
    ) -> Result<&'a T, RefError> {
        for _ in 0..32 {
            match r {
                ReferenceOr::Item(t) => return Ok(t),
                ReferenceOr::Reference { reference } => {
                    let name = Self::ref_name(reference, kind).ok_or(RefError::Unsupported)?;
                    let name = crate::upgrade::unescape(name);
                    let comps = self.doc.components.as_ref().ok_or(RefError::Missing)?;
                    r = map(comps).get(&name).ok_or(RefError::Missing)?;
                }
            }
        }
        Err(RefError::Cycle)
    }

    pub fn parameter<'a>(
        &'a self,
        r: &'a ReferenceOr<Parameter>,
    ) -> Result<&'a Parameter, RefError> {
        self.follow(r, "parameters", |c| &c.parameters)
    }

    pub fn request_body<'a>(
        &'a self,
        r: &'a ReferenceOr<RequestBody>,
    ) -> Result<&'a RequestBody, RefError> {
        self.follow(r, "requestBodies", |c| &c.request_bodies)
    }

    pub fn response<'a>(&'a self, r: &'a ReferenceOr<Response>) -> Result<&'a Response, RefError> {
        self.follow(r, "responses", |c| &c.responses)
    }

    /// Whether a component schema of that name exists (typed or not).
    pub fn has_schema(&self, name: &str) -> bool {
        self.schemas.contains_key(name)
    }

    /// A named component schema, typed on first use; `None` if absent or unreadable (then
    /// a diagnostic says why).
    pub fn schema(&self, name: &str) -> Option<&ReferenceOr<Schema>> {
        let (raw, typed) = self.schemas.get(name)?;
        typed
            .get_or_init(|| {
                let ptr = format!("{}/{}", self.schema_home, diag::escape_token(name));
                let mut diags = Vec::new();
                let t = piece::<ReferenceOr<Schema>>(raw.clone(), &self.file, &ptr, &mut diags);
                self.late_diags.borrow_mut().extend(diags);
                t
            })
            .as_ref()
    }
}
