//! The normalized operation model (IR): what every later stage and `--emit json` see.
//!
//! The IR knows nothing of Swagger or OpenAPI: it is the resolved, corrected description
//! of each operation (inputs, outputs, where it lives) plus one [`TypeSpace`] of named
//! types per spec document. `schemas/catalog.schema.json` is generated from these types
//! (see the `schema_is_current` test), so the JSON Schema cannot drift from the code.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;

/// Version of the JSON shape written by `--emit json`; bump on any incompatible change.
pub const CATALOG_JSON_VERSION: u32 = 1;

/// The whole normalized catalog.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Always [`CATALOG_JSON_VERSION`].
    pub format_version: u32,
    /// One entry per compiled spec document, in path order.
    pub documents: Vec<Document>,
    /// Every operation, ordered by document, then by path, then by method.
    pub operations: Vec<Operation>,
}

/// One compiled spec file with the named types its operations use.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// Spec file path relative to the specs root, `/`-separated.
    pub file: String,
    pub title: String,
    /// The document's own version string (`info.version`).
    pub version: String,
    /// Input dialect: `swagger-2.0`, `openapi-3.0` or `openapi-3.1`.
    pub dialect: String,
    /// Named types reachable from this document's operations.
    pub types: TypeSpace,
}

/// Named types of one document, keyed by name (sorted: output is deterministic).
pub type TypeSpace = BTreeMap<String, TypeDef>;

/// A named type: a spec definition, or an enum named by `x-ms-enum`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeDef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub ty: Ty,
    /// Descriptions of enum values (from `x-ms-enum`), in value order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enum_docs: Vec<EnumDoc>,
    /// True when the type refers back to itself (directly or through others).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recursive: bool,
}

/// A type expression. Named types are referenced, never expanded, so recursion is finite.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Ty {
    /// A named type of the same document's [`TypeSpace`].
    Ref {
        name: String,
    },
    String {
        #[serde(skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
        enumeration: Vec<String>,
    },
    Integer {
        #[serde(skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
        enumeration: Vec<i64>,
    },
    Number {
        #[serde(skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
    Boolean,
    /// A single JSON literal (3.1 `const`, or a one-value enum of another type).
    Literal {
        value: serde_json::Value,
    },
    Array {
        items: Box<Ty>,
    },
    /// `additionalProperties` only: `Record<string, T>`.
    Map {
        values: Box<Ty>,
    },
    Object {
        properties: Vec<Property>,
        /// Extra keys allowed beside `properties`.
        #[serde(skip_serializing_if = "Option::is_none")]
        additional: Option<Box<Ty>>,
    },
    /// Every part applies (allOf).
    AllOf {
        parts: Vec<Ty>,
    },
    /// Exactly one (oneOf) or at least one (anyOf) variant applies.
    OneOf {
        variants: Vec<Ty>,
    },
    AnyOf {
        variants: Vec<Ty>,
    },
    Nullable {
        inner: Box<Ty>,
    },
    /// Raw bytes: a file upload or a binary download.
    Binary,
    Null,
    /// No constraint, or a schema the compiler could not read (a diagnostic says which).
    Any,
}

/// One property of an object type.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Ty,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Description of one enum value (`x-ms-enum.values`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnumDoc {
    pub value: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One HTTP operation, resolved and normalized.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Stable id, a JavaScript member path: `area[.file].resource.method`.
    /// Unique within one version of the catalog.
    pub id: String,
    /// Other names that find this operation: the spec operationId, `x-ms-vss-method`.
    pub aliases: Vec<String>,
    pub source: Source,
    pub area: String,
    /// Resource group (tag or `x-ms-vss-resource`), camelCase.
    pub resource: String,
    /// Version folder (`7.2`, `azure-devops-server-7.1`) or the document version.
    pub version: String,
    /// The api-version value to send, when the API versions by query parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub preview: bool,
    pub deprecated: bool,
    /// Base URL template: scheme, host and base path (`https://vsrm.dev.azure.com`).
    pub server: String,
    /// Path template below `server`, with `{name}` placeholders.
    pub path: String,
    /// Fixed query pairs from an `x-ms-paths` key (`?includeParent={includeParent}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_query: Option<String>,
    /// Upper-case HTTP method.
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    pub responses: Vec<Response>,
    /// What a successful call really returns (after envelope correction).
    pub returns: Returns,
    /// OAuth scopes that allow the call.
    pub scopes: Vec<String>,
    pub paging: Paging,
    pub class: OpClass,
    pub examples: Vec<Example>,
    /// Vendor extensions of the operation (`x-ms-*`, ...), verbatim.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, serde_json::Value>,
}

/// Where an operation was defined.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// Spec file relative to the specs root.
    pub file: String,
    /// Spec `operationId` (synthesized as `METHOD path` when the spec has none).
    pub operation_id: String,
    /// JSON pointer of the operation in the original file.
    pub pointer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Cookie,
    /// A field of a form body (Swagger `formData`).
    FormData,
}

/// One request parameter (the body is [`Body`]).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Param {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParamIn,
    #[serde(rename = "type")]
    pub ty: Ty,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enum_docs: Vec<EnumDoc>,
    /// How an array value is joined (`csv`, `multi`, ...), when the spec says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_format: Option<String>,
}

/// The request body.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    /// Argument name of the body (the Swagger body parameter's name, else `body`).
    pub name: String,
    pub content_type: String,
    #[serde(rename = "type")]
    pub ty: Ty,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One declared response.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// `200`, `4XX` or `default`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Declared schema; `None` when the response has no body.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<Ty>,
    /// Response header names (continuation tokens live here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
}

/// What a successful call returns, after correction.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Returns {
    /// Success status the shape belongs to.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `None` when a success has no body.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<Ty>,
    pub correction: Correction,
}

/// How the compiler changed the declared success shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Correction {
    /// Declared shape kept, no recorded example to compare.
    None,
    /// Declared shape kept and a recorded example agrees with it.
    Confirmed,
    /// A declared array replaced by `{ count, value: T[] }` (the Azure DevOps list envelope);
    /// no recorded example to confirm it.
    Enveloped,
    /// As `Enveloped`, and a recorded example shows the envelope.
    EnvelopedConfirmed,
    /// A recorded example contradicts the declared shape; the declared shape is kept.
    Contradicted,
}

/// Paging hints.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    /// Response header carrying the continuation token (`x-ms-continuationtoken`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_header: Option<String>,
    /// Query parameter that sends the token back (`continuationToken`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_param: Option<String>,
    /// Page-size parameter (`$top`, `top`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<String>,
    /// Offset parameter (`$skip`, `skip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
}

/// Whether a call changes state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum OpClass {
    Read,
    Write,
}

/// A recorded example (`x-ms-examples`), trimmed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Example {
    pub title: String,
    /// Example file relative to the specs root.
    pub file: String,
    /// False when the referenced file does not exist or cannot be read.
    pub found: bool,
    /// Status of the first recorded response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Recorded request parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Arc<serde_json::Value>>,
    /// Recorded response body, trimmed (arrays to 2 items, strings to 200 chars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Arc<serde_json::Value>>,
}

/// The JSON Schema of [`Catalog`] (`schemas/catalog.schema.json` is this, pretty-printed).
pub fn catalog_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Catalog)).unwrap_or_default()
}
