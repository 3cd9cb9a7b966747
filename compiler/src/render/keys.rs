//! The fields of an operation's result that a next call uses (ids, names, states, nested
//! references), as one compact line: `GitPullRequest {pullRequestId: number; title: string;
//! repository: {id: string; name: string; project: {id: string; name: string}}; ...}`.
//! Search answers show it so a model can chain calls without reading the whole contract.

use std::collections::BTreeSet;

use crate::ir::{Document, Property, Ty};

use super::ts::{Names, key};

/// Most fields shown per object.
pub const MAX_FIELDS: usize = 10;
/// Most fields shown per nested reference.
const MAX_NESTED: usize = 3;
/// A nested reference shows fields up to this rank (ids and names).
const NESTED_RANK: u8 = 3;
/// Most members shown of a union (`"active" | "completed" | ...`).
const MAX_UNION: usize = 4;
/// Nesting shown below the result's item type.
const DEPTH: usize = 2;

/// Whether a field name is one a next call would use.
fn rank(name: &str) -> Option<u8> {
    let lower = name.to_ascii_lowercase();
    Some(match name {
        "id" => 0,
        _ if name.ends_with("Id") || name.ends_with("ID") => 1,
        "name" | "key" => 2,
        _ if name.ends_with("Name") => 3,
        "title" | "path" | "descriptor" | "uniqueName" | "rev" | "revision" => 4,
        "status" | "state" | "result" | "fields" => 5,
        _ if lower.ends_with("number") || lower == "version" => 6,
        _ => return None,
    })
}

/// The key-fields line of an operation's success result; empty when the result is not an
/// object (or a list of objects) with such fields.
pub fn result_fields(returns: Option<&Ty>, doc: &Document, names: &Names) -> String {
    let Some(ty) = returns else {
        return String::new();
    };
    let w = Walker { doc, names };
    let (label, item) = w.item(ty);
    let mut seen = BTreeSet::new();
    match w.fields(item, 0, MAX_FIELDS, &mut seen) {
        Some(body) => match label {
            Some(name) => format!("{name} {body}"),
            None => body,
        },
        None => String::new(),
    }
}

struct Walker<'a> {
    doc: &'a Document,
    names: &'a Names,
}

impl<'a> Walker<'a> {
    /// Follows refs and nullability; `None` for an unknown name.
    fn resolve(&self, mut ty: &'a Ty) -> (&'a Ty, Option<&'a str>) {
        let mut name = None;
        for _ in 0..16 {
            match ty {
                Ty::Nullable { inner } => ty = inner,
                Ty::Ref { name: n } => match self.doc.types.get(n) {
                    Some(def) => {
                        name = Some(n.as_str());
                        ty = &def.ty;
                    }
                    None => return (ty, name),
                },
                _ => break,
            }
        }
        (ty, name)
    }

    /// The item a result is about: a list's element (`T[]`, `{count, value: T[]}`), else
    /// the result itself; with its type name.
    fn item(&self, ty: &'a Ty) -> (Option<String>, &'a Ty) {
        let (t, name) = self.resolve(ty);
        match t {
            Ty::Array { items } => {
                let (_, n) = self.resolve(items);
                (n.map(|n| self.names.get(n).into_owned()), items)
            }
            Ty::Object { properties, .. }
                if properties.iter().any(|p| p.name == "value")
                    && properties
                        .iter()
                        .all(|p| p.name == "value" || p.name == "count") =>
            {
                let value = properties.iter().find(|p| p.name == "value");
                match value.map(|p| self.resolve(&p.ty)) {
                    Some((Ty::Array { items }, _)) => {
                        let (_, n) = self.resolve(items);
                        (n.map(|n| self.names.get(n).into_owned()), items)
                    }
                    _ => (name.map(|n| self.names.get(n).into_owned()), ty),
                }
            }
            _ => (name.map(|n| self.names.get(n).into_owned()), ty),
        }
    }

    /// Properties of an object type, allOf parts merged.
    fn properties(&self, ty: &'a Ty, out: &mut Vec<&'a Property>, depth: usize) {
        if depth > 8 {
            return;
        }
        match self.resolve(ty).0 {
            Ty::Object { properties, .. } => {
                for p in properties {
                    if !out.iter().any(|q| q.name == p.name) {
                        out.push(p);
                    }
                }
            }
            Ty::AllOf { parts } => {
                for part in parts {
                    self.properties(part, out, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// `{a: T; b: {...}}` of the key fields of an object type, at most `max`; `None` when it
    /// has none. `seen` stops recursive types.
    fn fields(
        &self,
        ty: &'a Ty,
        depth: usize,
        max: usize,
        seen: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        let (_, name) = self.resolve(ty);
        if let Some(n) = name
            && !seen.insert(n)
        {
            return None;
        }
        let mut props = Vec::new();
        self.properties(ty, &mut props, 0);
        let mut picked: Vec<(u8, String)> = Vec::new();
        for p in &props {
            if p.name.starts_with('_') {
                continue;
            }
            let shown = match rank(&p.name) {
                // A nested reference shows what identifies it: ids and names.
                Some(r) if depth > 0 && r > NESTED_RANK => None,
                Some(r) => Some((r, format!("{}: {}", key(&p.name), self.scalar(&p.ty)))),
                None if depth < DEPTH => self
                    .reference(&p.ty, depth + 1, seen)
                    .map(|nested| (7, format!("{}: {nested}", key(&p.name)))),
                None => None,
            };
            picked.extend(shown);
        }
        if let Some(n) = name {
            seen.remove(n);
        }
        if picked.is_empty() {
            return None;
        }
        // Stable: declared order within a rank.
        picked.sort_by_key(|(r, _)| *r);
        let more = picked.len() > max;
        let mut parts: Vec<String> = picked.into_iter().take(max).map(|(_, s)| s).collect();
        if more {
            parts.push("...".into());
        }
        Some(format!("{{{}}}", parts.join("; ")))
    }

    /// A property that refers to another resource (an object, or a list of them, with key
    /// fields of its own).
    fn reference(&self, ty: &'a Ty, depth: usize, seen: &mut BTreeSet<&'a str>) -> Option<String> {
        match self.resolve(ty).0 {
            Ty::Array { items } => self
                .fields(items, depth, MAX_NESTED, seen)
                .map(|f| format!("{f}[]")),
            Ty::Object { .. } | Ty::AllOf { .. } => self.fields(ty, depth, MAX_NESTED, seen),
            _ => None,
        }
    }

    /// A short type: `string`, `number`, an enum's name, `Record<string, any>`.
    fn scalar(&self, ty: &'a Ty) -> String {
        let (t, name) = self.resolve(ty);
        match (t, name) {
            // A named enum: its name (the contract declares it).
            (Ty::String { .. } | Ty::Integer { .. }, Some(n)) => self.names.get(n).into_owned(),
            _ => self.anonymous(t, name),
        }
    }

    fn anonymous(&self, t: &'a Ty, name: Option<&'a str>) -> String {
        match t {
            Ty::String { .. } => "string".into(),
            Ty::Integer { .. } | Ty::Number { .. } => "number".into(),
            Ty::Boolean => "boolean".into(),
            Ty::Map { .. } => "Record<string, any>".into(),
            Ty::Array { items } => format!("{}[]", self.scalar(items)),
            Ty::Object { .. } | Ty::AllOf { .. } => match name {
                Some(n) => self.names.get(n).into_owned(),
                None => "object".into(),
            },
            Ty::Literal { value } => value.to_string(),
            // A union (an enum of literals, mostly): its first members, then `...`.
            Ty::OneOf { variants } | Ty::AnyOf { variants } => {
                let mut members: Vec<String> = Vec::new();
                for v in variants {
                    let m = self.scalar(v);
                    if !members.contains(&m) {
                        members.push(m);
                    }
                }
                if members.len() > MAX_UNION {
                    members.truncate(MAX_UNION);
                    members.push("...".into());
                }
                members.join(" | ")
            }
            _ => "any".into(),
        }
    }
}
