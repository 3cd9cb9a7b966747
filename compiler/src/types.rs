//! Stage 5a, types: `openapiv3` schemas to IR [`Ty`]s, registering every named type first.
//!
//! Like typify's `TypeSpace::add_ref_types`, a `$ref` is registered by name the moment it is
//! seen and converted later from a queue, so forward and circular references just work and
//! recursive types stay named instead of expanding forever. Enums named by `x-ms-enum`
//! become named types too (`PullRequestStatus`), unless the name is taken by a different
//! shape. [`TypeBuilder::finish`] marks recursive types and reports alias cycles.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use crate::diag::{DiagKind, Diagnostic};
use crate::ir::{EnumDoc, Property, Ty, TypeDef, TypeSpace};
use crate::resolve::Api;

/// Builds the [`TypeSpace`] of one document while operations are converted.
#[derive(Debug)]
pub struct TypeBuilder<'a> {
    api: &'a Api,
    file: &'a str,
    types: TypeSpace,
    /// Names registered (converted or queued).
    known: BTreeSet<String>,
    queue: VecDeque<String>,
    pub diags: Vec<Diagnostic>,
}

impl<'a> TypeBuilder<'a> {
    pub fn new(api: &'a Api, file: &'a str) -> Self {
        TypeBuilder {
            api,
            file,
            types: BTreeMap::new(),
            known: BTreeSet::new(),
            queue: VecDeque::new(),
            diags: Vec::new(),
        }
    }

    /// Converts a schema or reference found at `at` (a pointer for diagnostics).
    pub fn ty(&mut self, s: &ReferenceOr<Schema>, at: &str) -> Ty {
        match s {
            ReferenceOr::Reference { reference } => self.reference(reference, at),
            ReferenceOr::Item(s) => self.schema(s, at),
        }
    }

    fn ty_boxed(&mut self, s: &ReferenceOr<Box<Schema>>, at: &str) -> Ty {
        match s {
            ReferenceOr::Reference { reference } => self.reference(reference, at),
            ReferenceOr::Item(s) => self.schema(s, at),
        }
    }

    fn reference(&mut self, reference: &str, at: &str) -> Ty {
        let Some(name) = Api::ref_name(reference, "schemas") else {
            self.diag(
                DiagKind::BrokenRef,
                at,
                format!("expected `#/components/schemas/<name>` (or `#/definitions/<name>`), found `{reference}`"),
            );
            return Ty::Any;
        };
        let name = crate::upgrade::unescape(name);
        if !self.api.has_schema(&name) {
            self.diag(
                DiagKind::MissingRef,
                at,
                format!("`{reference}`: no type `{name}` in this document"),
            );
            return Ty::Any;
        }
        if self.known.insert(name.clone()) {
            self.queue.push_back(name.clone());
        }
        Ty::Ref { name }
    }

    fn diag(&mut self, kind: DiagKind, at: &str, msg: String) {
        self.diags.push(Diagnostic::new(kind, self.file, at, msg));
    }

    /// Converts one inline schema.
    pub fn schema(&mut self, s: &Schema, at: &str) -> Ty {
        let ty = self.kind(s, at);
        if s.schema_data.nullable && !matches!(ty, Ty::Nullable { .. } | Ty::Null | Ty::Any) {
            Ty::Nullable {
                inner: Box::new(ty),
            }
        } else {
            ty
        }
    }

    fn kind(&mut self, s: &Schema, at: &str) -> Ty {
        let ext = &s.schema_data.extensions;
        match &s.schema_kind {
            SchemaKind::Type(Type::String(st)) => {
                let format = match &st.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::Binary) => return Ty::Binary,
                    VariantOrUnknownOrEmpty::Item(f) => Some(string_format(f).to_string()),
                    VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
                    VariantOrUnknownOrEmpty::Empty => None,
                };
                let values: Vec<String> = st.enumeration.iter().flatten().cloned().collect();
                let ty = Ty::String {
                    format,
                    enumeration: values,
                };
                self.named_enum(ty, ext)
            }
            SchemaKind::Type(Type::Integer(it)) => {
                let format = match &it.format {
                    VariantOrUnknownOrEmpty::Item(f) => Some(format!("{f:?}").to_lowercase()),
                    VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
                    VariantOrUnknownOrEmpty::Empty => None,
                };
                let values: Vec<i64> = it.enumeration.iter().flatten().copied().collect();
                let ty = Ty::Integer {
                    format,
                    enumeration: values,
                };
                self.named_enum(ty, ext)
            }
            SchemaKind::Type(Type::Number(nt)) => Ty::Number {
                format: match &nt.format {
                    VariantOrUnknownOrEmpty::Item(f) => Some(format!("{f:?}").to_lowercase()),
                    VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
                    VariantOrUnknownOrEmpty::Empty => None,
                },
            },
            SchemaKind::Type(Type::Boolean(_)) => Ty::Boolean,
            SchemaKind::Type(Type::Array(a)) => Ty::Array {
                items: Box::new(match &a.items {
                    Some(i) => self.ty_boxed(i, &format!("{at}/items")),
                    None => Ty::Any,
                }),
            },
            SchemaKind::Type(Type::Object(o)) => self.object(
                o.properties.iter(),
                &o.required,
                o.additional_properties.as_ref(),
                at,
            ),
            SchemaKind::OneOf { one_of } => Ty::OneOf {
                variants: self.list(one_of, at, "oneOf"),
            },
            SchemaKind::AnyOf { any_of } => Ty::AnyOf {
                variants: self.list(any_of, at, "anyOf"),
            },
            SchemaKind::AllOf { all_of } => all_of_ty(self.list(all_of, at, "allOf")),
            SchemaKind::Not { .. } => Ty::Any,
            SchemaKind::Any(a) => {
                let mut parts = Vec::new();
                let base = if !a.properties.is_empty()
                    || a.additional_properties.is_some()
                    || a.typ.as_deref() == Some("object")
                {
                    Some(self.object(
                        a.properties.iter(),
                        &a.required,
                        a.additional_properties.as_ref(),
                        at,
                    ))
                } else if let Some(items) = &a.items {
                    Some(Ty::Array {
                        items: Box::new(self.ty_boxed(items, &format!("{at}/items"))),
                    })
                } else if !a.enumeration.is_empty() {
                    Some(literal_union(&a.enumeration))
                } else {
                    match a.typ.as_deref() {
                        Some("string") if a.format.as_deref() == Some("binary") => Some(Ty::Binary),
                        Some("string") => Some(Ty::String {
                            format: a.format.clone(),
                            enumeration: vec![],
                        }),
                        Some("integer") => Some(Ty::Integer {
                            format: a.format.clone(),
                            enumeration: vec![],
                        }),
                        Some("number") => Some(Ty::Number {
                            format: a.format.clone(),
                        }),
                        Some("boolean") => Some(Ty::Boolean),
                        Some("null") => Some(Ty::Null),
                        _ => None,
                    }
                };
                if !a.all_of.is_empty() {
                    parts.extend(self.list(&a.all_of, at, "allOf"));
                }
                if let Some(b) = base {
                    parts.push(b);
                }
                let mut ty = match parts.len() {
                    0 => Ty::Any,
                    1 => parts.remove(0),
                    _ => all_of_ty(parts),
                };
                for (key, one) in [("oneOf", &a.one_of), ("anyOf", &a.any_of)] {
                    if !one.is_empty() {
                        let variants = self.list(one, at, key);
                        let alt = if key == "oneOf" {
                            Ty::OneOf { variants }
                        } else {
                            Ty::AnyOf { variants }
                        };
                        ty = if ty == Ty::Any {
                            alt
                        } else {
                            all_of_ty(vec![ty, alt])
                        };
                    }
                }
                ty
            }
        }
    }

    fn list(&mut self, items: &[ReferenceOr<Schema>], at: &str, key: &str) -> Vec<Ty> {
        items
            .iter()
            .enumerate()
            .map(|(i, s)| self.ty(s, &format!("{at}/{key}/{i}")))
            .collect()
    }

    fn object<'s>(
        &mut self,
        props: impl Iterator<Item = (&'s String, &'s ReferenceOr<Box<Schema>>)>,
        required: &[String],
        additional: Option<&AdditionalProperties>,
        at: &str,
    ) -> Ty {
        let properties: Vec<Property> = props
            .map(|(name, s)| {
                let here = format!("{at}/properties/{}", crate::diag::escape_token(name));
                let (read_only, description) = match s {
                    ReferenceOr::Item(s) => {
                        (s.schema_data.read_only, s.schema_data.description.clone())
                    }
                    ReferenceOr::Reference { .. } => (false, None),
                };
                Property {
                    name: name.clone(),
                    ty: self.ty_boxed(s, &here),
                    required: required.contains(name),
                    read_only,
                    description,
                }
            })
            .collect();
        let additional = match additional {
            Some(AdditionalProperties::Any(true)) => Some(Box::new(Ty::Any)),
            Some(AdditionalProperties::Schema(s)) => {
                Some(Box::new(self.ty(s, &format!("{at}/additionalProperties"))))
            }
            _ => None,
        };
        match (properties.is_empty(), additional) {
            (true, Some(values)) => Ty::Map { values },
            (_, additional) => Ty::Object {
                properties,
                additional,
            },
        }
    }

    /// Lifts an enum with an `x-ms-enum` name into a named type when the name is free.
    fn named_enum(&mut self, ty: Ty, ext: &indexmap::IndexMap<String, Value>) -> Ty {
        let has_values = match &ty {
            Ty::String { enumeration, .. } => !enumeration.is_empty(),
            Ty::Integer { enumeration, .. } => !enumeration.is_empty(),
            _ => false,
        };
        let Some(ms) = ext.get("x-ms-enum").filter(|_| has_values) else {
            return ty;
        };
        let docs = enum_docs(ms);
        let Some(name) = ms.get("name").and_then(Value::as_str).map(str::to_string) else {
            return ty;
        };
        if self.api.has_schema(&name) {
            return ty; // the name belongs to a definition
        }
        match self.types.get(&name) {
            Some(existing) if existing.ty != ty => ty, // same name, other values
            Some(_) => Ty::Ref { name },
            None => {
                self.known.insert(name.clone());
                self.types.insert(
                    name.clone(),
                    TypeDef {
                        description: None,
                        ty,
                        enum_docs: docs,
                        recursive: false,
                    },
                );
                Ty::Ref { name }
            }
        }
    }

    /// Converts every queued named type, then marks recursion and reports alias cycles.
    pub fn finish(mut self) -> (TypeSpace, Vec<Diagnostic>) {
        while let Some(name) = self.queue.pop_front() {
            let Some(s) = self.api.schema(&name) else {
                continue;
            };
            let at = format!(
                "{}/{}",
                self.api.schema_home,
                crate::diag::escape_token(&name)
            );
            let description = match s {
                ReferenceOr::Item(s) => s.schema_data.description.clone(),
                ReferenceOr::Reference { .. } => None,
            };
            let enum_docs = schema_enum_docs(s);
            let ty = self.ty(s, &at);
            // A definition that is only a named enum keeps the definition's name.
            let ty = match ty {
                Ty::Ref { name: ref n } if n != &name && !self.is_definition(n) => {
                    self.types.get(n).map(|d| d.ty.clone()).unwrap_or(ty)
                }
                other => other,
            };
            self.types.insert(
                name,
                TypeDef {
                    description,
                    ty,
                    enum_docs,
                    recursive: false,
                },
            );
        }
        self.mark_recursive();
        self.report_alias_cycles();
        self.diags.extend(self.api.take_diagnostics());
        (self.types, self.diags)
    }

    fn is_definition(&self, name: &str) -> bool {
        self.api.has_schema(name)
    }

    fn mark_recursive(&mut self) {
        let edges: BTreeMap<&str, BTreeSet<&str>> = self
            .types
            .iter()
            .map(|(n, d)| {
                let mut refs = BTreeSet::new();
                collect_refs(&d.ty, &mut refs);
                (n.as_str(), refs)
            })
            .collect();
        let recursive: Vec<String> = edges
            .keys()
            .filter(|start| reaches(&edges, start, start))
            .map(|s| s.to_string())
            .collect();
        for n in recursive {
            if let Some(d) = self.types.get_mut(&n) {
                d.recursive = true;
            }
        }
    }

    /// `A = B`, `B = A` with nothing in between cannot be rendered: report it.
    fn report_alias_cycles(&mut self) {
        let names: Vec<String> = self.types.keys().cloned().collect();
        for start in names {
            let mut seen = BTreeSet::new();
            let mut cur = start.clone();
            while let Some(TypeDef {
                ty: Ty::Ref { name },
                ..
            }) = self.types.get(&cur)
            {
                if !seen.insert(cur.clone()) {
                    break;
                }
                if *name == start {
                    let at = format!(
                        "{}/{}",
                        self.api.schema_home,
                        crate::diag::escape_token(&start)
                    );
                    self.diag(
                        DiagKind::BrokenRef,
                        &at,
                        format!("reference cycle: `{start}` is an alias of itself through `{cur}`"),
                    );
                    if let Some(d) = self.types.get_mut(&start) {
                        d.ty = Ty::Any;
                    }
                    break;
                }
                cur = name.clone();
            }
        }
    }
}

fn reaches(edges: &BTreeMap<&str, BTreeSet<&str>>, from: &str, target: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = edges.get(from).into_iter().flatten().copied().collect();
    while let Some(n) = stack.pop() {
        if n == target {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges.get(n).into_iter().flatten().copied());
        }
    }
    false
}

/// Adds every type name `ty` mentions.
pub fn collect_refs<'t>(ty: &'t Ty, out: &mut BTreeSet<&'t str>) {
    match ty {
        Ty::Ref { name } => {
            out.insert(name);
        }
        Ty::Array { items: t } | Ty::Map { values: t } | Ty::Nullable { inner: t } => {
            collect_refs(t, out)
        }
        Ty::Object {
            properties,
            additional,
        } => {
            for p in properties {
                collect_refs(&p.ty, out);
            }
            if let Some(a) = additional {
                collect_refs(a, out);
            }
        }
        Ty::AllOf { parts: v } | Ty::OneOf { variants: v } | Ty::AnyOf { variants: v } => {
            v.iter().for_each(|t| collect_refs(t, out))
        }
        _ => {}
    }
}

fn all_of_ty(mut parts: Vec<Ty>) -> Ty {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        Ty::AllOf { parts }
    }
}

fn literal_union(values: &[Value]) -> Ty {
    let mut lits: Vec<Ty> = values
        .iter()
        .map(|v| match v {
            Value::Null => Ty::Null,
            v => Ty::Literal { value: v.clone() },
        })
        .collect();
    if lits.len() == 1 {
        lits.remove(0)
    } else {
        Ty::AnyOf { variants: lits }
    }
}

fn string_format(f: &StringFormat) -> &'static str {
    match f {
        StringFormat::Date => "date",
        StringFormat::DateTime => "date-time",
        StringFormat::Password => "password",
        StringFormat::Byte => "byte",
        StringFormat::Binary => "binary",
    }
}

/// The `x-ms-enum` value docs of an inline schema (none for a reference).
pub fn schema_enum_docs(s: &ReferenceOr<Schema>) -> Vec<EnumDoc> {
    match s {
        ReferenceOr::Item(s) => s
            .schema_data
            .extensions
            .get("x-ms-enum")
            .map(enum_docs)
            .unwrap_or_default(),
        ReferenceOr::Reference { .. } => Vec::new(),
    }
}

/// `x-ms-enum.values` as [`EnumDoc`]s.
pub fn enum_docs(ms: &Value) -> Vec<EnumDoc> {
    ms.get("values")
        .and_then(Value::as_array)
        .map(|vals| {
            vals.iter()
                .map(|v| EnumDoc {
                    value: v.get("value").cloned().unwrap_or(Value::Null),
                    description: v
                        .get("description")
                        .and_then(Value::as_str)
                        .filter(|d| !d.is_empty())
                        .map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}
