//! Stage 5, normalize: one typed document to IR [`Operation`]s and its [`TypeSpace`].
//!
//! Names every operation (`area[.file].resource.method`), merges path-level and
//! operation-level parameters, picks body and response media types, reads scopes, paging
//! hints and the read/write class, attaches recorded examples and applies the envelope
//! correction (see [`crate::examples`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use openapiv3::{
    MediaType, Operation as OaOperation, Parameter, ParameterSchemaOrContent, PathItem,
    ReferenceOr, StatusCode,
};
use serde_json::Value;

use crate::diag::{DiagKind, Diagnostic};
use crate::examples::{self, Check, Loaded};
use crate::ir::{
    Body, Correction, Document, OpClass, Operation, Paging, Param, ParamIn, Response, Returns,
    Source, Ty,
};
use crate::parse::Dialect;
use crate::read::{Loader, SpecFile};
use crate::resolve::Api;
use crate::types::{TypeBuilder, schema_enum_docs};
use crate::upgrade::{BODY_NAME_EXT, COLLECTION_EXT, POINTER_EXT};

/// Everything normalize needs about one document.
#[derive(Debug)]
pub struct Input<'a> {
    pub spec: &'a SpecFile,
    pub api: &'a Api,
    pub dialect: Dialect,
    pub specs_root: &'a Path,
    /// Recorded examples parsed once per distinct content, across the files of a build.
    pub examples: &'a examples::Memo,
}

/// One normalized document.
#[derive(Debug)]
pub struct Output {
    pub document: Document,
    pub operations: Vec<Operation>,
    pub diagnostics: Vec<Diagnostic>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Normalizes every operation of one document.
pub fn normalize(input: &Input<'_>, loader: &dyn Loader) -> Output {
    let api = input.api;
    let file = input.spec.rel.as_str();
    let mut types = TypeBuilder::new(api, file);
    let mut diags = Vec::new();
    let mut ops: Vec<(Operation, Vec<Loaded>, Option<Ty>)> = Vec::new();
    let server = api
        .doc
        .servers
        .first()
        .map(|s| s.url.trim_end_matches('/').to_string())
        .unwrap_or_default();
    for (key, item) in &api.doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            diags.push(Diagnostic::new(
                DiagKind::BrokenRef,
                file,
                crate::diag::pointer(["paths", key]),
                "a path item `$ref` into this document is not supported; skipped",
            ));
            continue;
        };
        for (method, op) in operations(item) {
            let (op, loaded, declared) = operation(
                input, loader, &server, key, method, item, op, &mut types, &mut diags,
            );
            ops.push((op, loaded, declared));
        }
    }
    let (type_space, type_diags) = types.finish();
    diags.extend(type_diags);
    let operations = ops
        .into_iter()
        .map(|(mut op, loaded, declared)| {
            let (ty, correction, mismatch) = examples::correct(
                &Check {
                    declared: declared.as_ref(),
                    status: &op.returns.status,
                    azure: op.extensions.contains_key("x-ms-vss-method"),
                    examples: &loaded,
                },
                &type_space,
            );
            if let Some(msg) = mismatch {
                diags.push(Diagnostic::new(
                    DiagKind::ExampleMismatch,
                    file,
                    op.source.pointer.clone(),
                    msg,
                ));
            }
            op.returns.ty = ty;
            op.returns.correction = correction;
            op.examples = loaded.into_iter().map(|l| l.example).collect();
            op
        })
        .collect();
    let info = &api.doc.info;
    Output {
        document: Document {
            file: file.to_string(),
            title: info.title.clone(),
            version: info.version.clone(),
            dialect: input.dialect.name().to_string(),
            types: type_space,
        },
        operations,
        diagnostics: diags,
    }
}

fn operations(item: &PathItem) -> impl Iterator<Item = (&'static str, &OaOperation)> {
    let ops = [
        &item.get,
        &item.put,
        &item.post,
        &item.delete,
        &item.options,
        &item.head,
        &item.patch,
        &item.trace,
    ];
    METHODS
        .into_iter()
        .zip(ops)
        .filter_map(|(m, o)| o.as_ref().map(|o| (m, o)))
}

#[allow(clippy::too_many_arguments)]
fn operation(
    input: &Input<'_>,
    loader: &dyn Loader,
    server: &str,
    key: &str,
    method: &str,
    item: &PathItem,
    op: &OaOperation,
    types: &mut TypeBuilder<'_>,
    diags: &mut Vec<Diagnostic>,
) -> (Operation, Vec<Loaded>, Option<Ty>) {
    let api = input.api;
    let spec = input.spec;
    let file = spec.rel.as_str();
    let pointer = op
        .extensions
        .get(POINTER_EXT)
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| crate::diag::pointer(["paths", key, method]));
    let (path, path_query) = match key.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string()).filter(|q| !q.is_empty())),
        None => (key.to_string(), None),
    };
    let operation_id = op
        .operation_id
        .clone()
        .unwrap_or_else(|| format!("{} {key}", method.to_uppercase()));
    let extensions: BTreeMap<String, Value> = op
        .extensions
        .iter()
        .filter(|(k, _)| !k.starts_with("x-opcat-") && *k != "x-ms-examples")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let ext_str = |k: &str| extensions.get(k).and_then(Value::as_str);
    let vss_method = ext_str("x-ms-vss-method").map(str::to_string);
    let first_tag = op.tags.first().map(String::as_str);

    // Naming.
    let (resource, method_name) = match (&vss_method, operation_id.split_once('_')) {
        (Some(_), Some((res, m))) => (camel(res), camel(m)),
        _ => (
            camel(first_tag.unwrap_or("default")),
            if op.operation_id.is_some() {
                camel(&operation_id)
            } else {
                camel(&format!("{method} {path}"))
            },
        ),
    };
    let (area, id) = match &spec.area {
        Some(area) => {
            let mut id = area.clone();
            if spec.shares_folder {
                let stem = spec.rel.rsplit('/').next().unwrap_or("");
                id.push('.');
                id.push_str(&camel(stem.trim_end_matches(".json")));
            }
            (area.clone(), format!("{id}.{resource}.{method_name}"))
        }
        None => (resource.clone(), format!("{resource}.{method_name}")),
    };
    let mut aliases = vec![operation_id.clone()];
    if let Some(v) = &vss_method
        && !aliases.contains(v)
    {
        aliases.push(v.clone());
    }

    // Parameters: path-level first, operation-level overrides by (name, in).
    let mut params: Vec<Param> = Vec::new();
    let all = item
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("{pointer}/../parameters/{i}"), p))
        .chain(
            op.parameters
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("{pointer}/parameters/{i}"), p)),
        );
    for (at, p) in all {
        let p = match api.parameter(p) {
            Ok(p) => p,
            Err(e) => {
                diags.push(ref_diag(file, &at, p_ref(p), e));
                continue;
            }
        };
        let param = param(p, &at, types);
        if let Some(existing) = params
            .iter_mut()
            .find(|q| q.name == param.name && q.location == param.location)
        {
            *existing = param;
        } else {
            params.push(param);
        }
    }

    // Body.
    let body = op
        .request_body
        .as_ref()
        .and_then(|b| match api.request_body(b) {
            Ok(b) => {
                let at = format!("{pointer}/requestBody");
                let (ct, ty) = media(&b.content, &at, types);
                Some(Body {
                    name: b
                        .extensions
                        .get(BODY_NAME_EXT)
                        .and_then(Value::as_str)
                        .unwrap_or("body")
                        .to_string(),
                    content_type: ct.unwrap_or_else(|| "application/json".into()),
                    ty: ty.unwrap_or(Ty::Any),
                    required: b.required,
                    description: b.description.clone(),
                })
            }
            Err(e) => {
                let r = match b {
                    ReferenceOr::Reference { reference } => reference.as_str(),
                    ReferenceOr::Item(_) => "",
                };
                diags.push(ref_diag(file, &format!("{pointer}/requestBody"), r, e));
                None
            }
        });

    // Responses.
    let mut responses = Vec::new();
    let declared = op
        .responses
        .responses
        .iter()
        .map(|(code, r)| (status(code), r))
        .chain(
            op.responses
                .default
                .iter()
                .map(|r| ("default".to_string(), r)),
        );
    for (code, r) in declared {
        let at = format!("{pointer}/responses/{code}");
        match api.response(r) {
            Ok(resp) => {
                let (ct, ty) = media(&resp.content, &at, types);
                responses.push(Response {
                    status: code,
                    description: Some(resp.description.clone()).filter(|d| !d.is_empty()),
                    content_type: ct,
                    ty,
                    headers: resp.headers.keys().cloned().collect(),
                });
            }
            Err(e) => {
                let reference = match r {
                    ReferenceOr::Reference { reference } => reference.as_str(),
                    ReferenceOr::Item(_) => "",
                };
                diags.push(ref_diag(file, &at, reference, e));
            }
        }
    }
    let success = responses
        .iter()
        .filter(|r| r.status.starts_with('2'))
        .min_by(|a, b| a.status.cmp(&b.status));
    let returns = Returns {
        status: success.map_or_else(|| "200".to_string(), |r| r.status.clone()),
        content_type: success.and_then(|r| r.content_type.clone()),
        ty: None,
        correction: Correction::None,
    };
    let declared = success.and_then(|r| r.ty.clone());

    // Scopes.
    let security = op.security.as_ref().or(api.doc.security.as_ref());
    let scopes: BTreeSet<String> = security
        .into_iter()
        .flatten()
        .flat_map(|req| req.values().flatten().cloned())
        .collect();

    let paging = paging(&params, &responses);
    let api_version = ext_str("x-ms-docs-override-version")
        .map(str::to_string)
        .or_else(|| {
            params
                .iter()
                .any(|p| p.name == "api-version")
                .then(|| api.doc.info.version.clone())
        });
    let preview = extensions.get("x-ms-preview").and_then(Value::as_bool) == Some(true)
        || api_version
            .as_deref()
            .is_some_and(|v| v.contains("preview"));
    let loaded = examples::load(
        op.extensions.get("x-ms-examples"),
        &spec.path,
        input.specs_root,
        file,
        &pointer,
        loader,
        input.examples,
        diags,
    );
    let operation = Operation {
        class: class(method, &method_name),
        id,
        aliases,
        source: Source {
            file: file.to_string(),
            operation_id,
            pointer,
        },
        area,
        resource,
        version: spec
            .version
            .clone()
            .unwrap_or_else(|| api.doc.info.version.clone()),
        api_version,
        preview,
        deprecated: op.deprecated,
        server: server.to_string(),
        path,
        path_query,
        method: method.to_uppercase(),
        summary: op.summary.clone(),
        description: op.description.clone().filter(|d| !d.is_empty()),
        tags: op.tags.clone(),
        params,
        body,
        responses,
        returns,
        scopes: scopes.into_iter().collect(),
        paging,
        examples: Vec::new(),
        extensions,
    };
    (operation, loaded, declared)
}

fn p_ref(p: &ReferenceOr<Parameter>) -> &str {
    match p {
        ReferenceOr::Reference { reference } => reference,
        ReferenceOr::Item(_) => "",
    }
}

fn ref_diag(file: &str, at: &str, reference: &str, e: crate::resolve::RefError) -> Diagnostic {
    use crate::resolve::RefError;
    let (kind, what) = match e {
        RefError::Missing => (DiagKind::MissingRef, "names nothing in this document"),
        RefError::Unsupported => (
            DiagKind::BrokenRef,
            "is not a reference this compiler follows",
        ),
        RefError::Cycle => (DiagKind::BrokenRef, "is part of a reference cycle"),
    };
    Diagnostic::new(kind, file, at, format!("`{reference}` {what}; skipped"))
}

fn status(code: &StatusCode) -> String {
    match code {
        StatusCode::Code(c) => c.to_string(),
        StatusCode::Range(r) => format!("{r}XX"),
    }
}

fn param(p: &Parameter, at: &str, types: &mut TypeBuilder<'_>) -> Param {
    let data = p.parameter_data_ref();
    let location = match p {
        Parameter::Path { .. } => ParamIn::Path,
        Parameter::Query { .. } => ParamIn::Query,
        Parameter::Header { .. } => ParamIn::Header,
        Parameter::Cookie { .. } => ParamIn::Cookie,
    };
    let (ty, default, docs) = match &data.format {
        ParameterSchemaOrContent::Schema(s) => {
            let default = match s {
                ReferenceOr::Item(s) => s.schema_data.default.clone(),
                ReferenceOr::Reference { .. } => None,
            };
            let docs = schema_enum_docs(s);
            (types.ty(s, &format!("{at}/schema")), default, docs)
        }
        ParameterSchemaOrContent::Content(c) => {
            (media(c, at, types).1.unwrap_or(Ty::Any), None, vec![])
        }
    };
    Param {
        name: data.name.clone(),
        location,
        ty,
        required: data.required,
        description: data.description.clone().filter(|d| !d.is_empty()),
        default,
        enum_docs: docs,
        collection_format: data
            .extensions
            .get(COLLECTION_EXT)
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// Picks the media type (JSON first) and converts its schema.
fn media(
    content: &indexmap::IndexMap<String, MediaType>,
    at: &str,
    types: &mut TypeBuilder<'_>,
) -> (Option<String>, Option<Ty>) {
    let pick = content
        .iter()
        .find(|(ct, _)| *ct == "application/json")
        .or_else(|| content.iter().find(|(ct, _)| ct.contains("json")))
        .or_else(|| content.iter().next());
    let Some((ct, mt)) = pick else {
        return (None, None);
    };
    let here = format!("{at}/content/{}/schema", crate::diag::escape_token(ct));
    let ty = match &mt.schema {
        Some(s) => Some(types.ty(s, &here)),
        None if is_binary_type(ct) => Some(Ty::Binary),
        None => None,
    };
    (Some(ct.clone()), ty)
}

fn is_binary_type(ct: &str) -> bool {
    ct == "application/octet-stream" || ct == "application/zip" || ct.starts_with("image/")
}

fn paging(params: &[Param], responses: &[Response]) -> Paging {
    let query = |names: &[&str]| {
        params
            .iter()
            .find(|p| {
                p.location == ParamIn::Query && names.iter().any(|n| p.name.eq_ignore_ascii_case(n))
            })
            .map(|p| p.name.clone())
    };
    Paging {
        continuation_header: responses
            .iter()
            .filter(|r| r.status.starts_with('2'))
            .flat_map(|r| &r.headers)
            .find(|h| h.to_ascii_lowercase().contains("continuation"))
            .cloned(),
        continuation_param: params
            .iter()
            .find(|p| {
                p.location == ParamIn::Query && p.name.to_ascii_lowercase().contains("continuation")
            })
            .map(|p| p.name.clone()),
        top: query(&["$top", "top"]),
        skip: query(&["$skip", "skip"]),
    }
}

/// GET/HEAD/OPTIONS read; so does a POST whose name says it only queries (`queryByWiql`,
/// `getItemsBatch`, `search...`). Everything else writes.
fn class(method: &str, name: &str) -> OpClass {
    let reads_by_post = ["query", "get", "list", "search", "read"]
        .iter()
        .any(|p| name.starts_with(p));
    match method {
        "get" | "head" | "options" => OpClass::Read,
        "post" if reads_by_post => OpClass::Read,
        _ => OpClass::Write,
    }
}

/// `Pull Requests` -> `pullRequests`, `Get Pull Requests By Project` ->
/// `getPullRequestsByProject`, `account_get` -> `accountGet`, `URL List` -> `urlList`.
/// The result is a valid JavaScript identifier (`_` prefix before a digit).
pub fn camel(s: &str) -> String {
    let mut out = String::new();
    for word in s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.is_empty() {
            if word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                out.push_str(&word.to_ascii_lowercase());
            } else {
                let mut cs = word.chars();
                if let Some(f) = cs.next() {
                    out.push(f.to_ascii_lowercase());
                    out.extend(cs);
                }
            }
        } else {
            let mut cs = word.chars();
            if let Some(f) = cs.next() {
                out.push(f.to_ascii_uppercase());
                out.extend(cs);
            }
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_names_are_identifiers() {
        assert_eq!(camel("Pull Requests"), "pullRequests");
        assert_eq!(
            camel("Get Pull Requests By Project"),
            "getPullRequestsByProject"
        );
        assert_eq!(
            camel("GetPullRequestsByProject"),
            "getPullRequestsByProject"
        );
        assert_eq!(camel("account_get"), "accountGet");
        assert_eq!(camel("URL List"), "urlList");
        assert_eq!(camel("cargoApi-AzureArtifacts"), "cargoApiAzureArtifacts");
        assert_eq!(camel("1-Click Applications"), "_1ClickApplications");
        assert_eq!(camel("--"), "_");
    }

    #[test]
    fn post_queries_read() {
        assert_eq!(class("post", "queryByWiql"), OpClass::Read);
        assert_eq!(class("post", "createWorkItem"), OpClass::Write);
        assert_eq!(class("get", "anything"), OpClass::Read);
        assert_eq!(class("patch", "getX"), OpClass::Write);
    }
}
