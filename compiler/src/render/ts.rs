//! TypeScript text for IR types: identifiers, type expressions, doc comments, declarations.
//!
//! Everything here is pure string building over one [`Document`]; the contract assembly
//! (what to expand, the budget) lives in the parent module.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Document, Property, Ty, TypeDef};

/// Words that cannot name a type in TypeScript, or that the contracts themselves use
/// (`Promise`, `Record`, `Uint8Array`): a spec type with such a name gets a `_` suffix.
const RESERVED: &[&str] = &[
    "abstract",
    "any",
    "Array",
    "as",
    "asserts",
    "async",
    "await",
    "bigint",
    "boolean",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "constructor",
    "continue",
    "debugger",
    "declare",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "get",
    "global",
    "if",
    "implements",
    "import",
    "in",
    "infer",
    "instanceof",
    "interface",
    "is",
    "keyof",
    "let",
    "module",
    "namespace",
    "never",
    "new",
    "null",
    "number",
    "object",
    "of",
    "package",
    "private",
    "Promise",
    "protected",
    "public",
    "readonly",
    "Record",
    "require",
    "return",
    "satisfies",
    "set",
    "static",
    "string",
    "super",
    "switch",
    "symbol",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "Uint8Array",
    "undefined",
    "unique",
    "unknown",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// True for a plain JavaScript identifier (ASCII letters, digits, `_`, `$`; no leading digit).
pub fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A property or member key: the name itself when it is an identifier, else a string literal.
pub fn key(name: &str) -> Cow<'_, str> {
    if is_ident(name) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(string_literal(name))
    }
}

/// A TypeScript string literal (JSON escaping is valid TypeScript).
pub fn string_literal(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Spec type names mapped to valid, unique TypeScript identifiers for one document.
#[derive(Debug, Clone, Default)]
pub struct Names {
    map: BTreeMap<String, String>,
}

impl Names {
    pub fn new(doc: &Document) -> Self {
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut map = BTreeMap::new();
        // Names that are already clean claim themselves first, so they never get a suffix.
        let (clean, dirty): (Vec<&String>, Vec<&String>) =
            doc.types.keys().partition(|n| sanitize(n) == n.as_str());
        for name in clean.into_iter().chain(dirty) {
            let base = sanitize(name);
            let mut candidate = base.clone();
            let mut n = 2;
            while used.contains(&candidate) {
                candidate = format!("{base}_{n}");
                n += 1;
            }
            used.insert(candidate.clone());
            map.insert(name.clone(), candidate);
        }
        Names { map }
    }

    /// The identifier of a spec type name (sanitized on the fly if the name is unknown).
    pub fn get<'a>(&'a self, name: &str) -> Cow<'a, str> {
        match self.map.get(name) {
            Some(n) => Cow::Borrowed(n.as_str()),
            None => Cow::Owned(sanitize(name)),
        }
    }

    /// The spec name whose identifier or spec name is `wanted`.
    pub fn find(&self, wanted: &str) -> Option<&str> {
        self.map
            .iter()
            .find(|(k, v)| *k == wanted || *v == wanted)
            .map(|(k, _)| k.as_str())
    }
}

fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RESERVED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// How much description text to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Desc {
    /// The whole description, on one line.
    Full,
    /// Up to the end of the first sentence.
    First,
}

/// Rendering style: the budget ladder moves from the default towards less text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Style {
    pub desc: Desc,
    /// Show descriptions of properties of named types (`false`: only type-level docs).
    pub prop_docs: bool,
}

impl Style {
    pub const FULL: Style = Style {
        desc: Desc::Full,
        prop_docs: true,
    };
    pub const FIRST: Style = Style {
        desc: Desc::First,
        prop_docs: true,
    };
    pub const LEAN: Style = Style {
        desc: Desc::First,
        prop_docs: false,
    };
}

/// One line of description text: whitespace collapsed, `*/` escaped, cut per `desc`.
pub fn doc_text(s: &str, desc: Desc) -> Option<String> {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = match desc {
        Desc::Full => one_line.as_str(),
        Desc::First => first_sentence(&one_line),
    };
    let text = text.trim().replace("*/", "*\\/");
    (!text.is_empty()).then_some(text)
}

/// The first sentence of one-line text: up to `.`, `!` or `?` followed by a space, skipping
/// common abbreviations (`e.g.`, `i.e.`, `etc.`, `vs.`) and dotted names (`a.b`).
pub fn first_sentence(s: &str) -> &str {
    const ABBREV: [&str; 5] = ["e.g", "i.e", "etc", "vs", "ex"];
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'.' | b'!' | b'?') || bytes.get(i + 1) != Some(&b' ') {
            continue;
        }
        let word_start = s[..i].rfind(' ').map_or(0, |p| p + 1);
        let word = s[word_start..i].to_ascii_lowercase();
        if b == b'.' && ABBREV.contains(&word.trim_start_matches('(')) {
            continue;
        }
        return &s[..=i];
    }
    s
}

/// `/** text */` at `indent`, with a newline, or nothing.
pub fn doc_line(text: Option<&str>, indent: usize) -> String {
    match text {
        Some(t) => format!("{:indent$}/** {t} */\n", ""),
        None => String::new(),
    }
}

/// Binding strength of a rendered type, for parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Union,
    Intersection,
    Primary,
}

/// Format notes worth showing next to `string`/`number` (the rest add nothing for a caller).
fn format_note(format: Option<&str>) -> Option<&str> {
    match format? {
        f @ ("date-time" | "date" | "uuid" | "byte" | "int64" | "TimeSpan" | "decimal") => Some(f),
        _ => None,
    }
}

/// Renders IR types of one document as TypeScript.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub doc: &'a Document,
    pub names: &'a Names,
    pub style: Style,
}

impl<'a> Writer<'a> {
    /// A type expression; objects are laid out on several lines at `indent`.
    pub fn ty(&self, t: &Ty, indent: usize) -> String {
        self.expr(t, indent, true).0
    }

    fn expr(&self, t: &Ty, indent: usize, docs: bool) -> (String, Prec) {
        use Prec::*;
        match t {
            Ty::Ref { name } => (self.names.get(name).into_owned(), Primary),
            Ty::String {
                format,
                enumeration,
            } => {
                if enumeration.is_empty() {
                    (with_note("string", format_note(format.as_deref())), Primary)
                } else {
                    union(enumeration.iter().map(|v| string_literal(v)).collect())
                }
            }
            Ty::Integer {
                format,
                enumeration,
            } => {
                if enumeration.is_empty() {
                    (with_note("number", format_note(format.as_deref())), Primary)
                } else {
                    union(enumeration.iter().map(i64::to_string).collect())
                }
            }
            Ty::Number { format } => (with_note("number", format_note(format.as_deref())), Primary),
            Ty::Boolean => ("boolean".into(), Primary),
            Ty::Literal { value } => (literal(value), Primary),
            Ty::Array { items } => {
                let (s, p) = self.expr(items, indent, docs);
                // A trailing note stays after the brackets: `string[] /* uuid */`.
                let (base, note) = split_note(&s);
                let base = if p < Primary {
                    format!("({base})")
                } else {
                    base.to_string()
                };
                (format!("{base}[]{note}"), Primary)
            }
            Ty::Map { values } => (
                format!("Record<string, {}>", self.expr(values, indent, docs).0),
                Primary,
            ),
            Ty::Object {
                properties,
                additional,
            } => (
                self.object(properties, additional.as_deref(), indent, docs),
                Primary,
            ),
            Ty::AllOf { parts } => {
                let parts: Vec<&Ty> = parts.iter().filter(|p| !is_empty_object(p)).collect();
                match parts.as_slice() {
                    [] => ("Record<string, unknown>".into(), Primary),
                    [one] => self.expr(one, indent, docs),
                    many => {
                        let rendered: Vec<String> = many
                            .iter()
                            .map(|p| {
                                let (s, prec) = self.expr(p, indent, docs);
                                if prec < Intersection {
                                    format!("({s})")
                                } else {
                                    s
                                }
                            })
                            .collect();
                        (rendered.join(" & "), Intersection)
                    }
                }
            }
            Ty::OneOf { variants } | Ty::AnyOf { variants } => {
                if variants.is_empty() {
                    return ("unknown".into(), Primary);
                }
                let mut seen = BTreeSet::new();
                let rendered: Vec<String> = variants
                    .iter()
                    .map(|v| self.expr(v, indent, docs).0)
                    .filter(|s| seen.insert(s.clone()))
                    .collect();
                union(rendered)
            }
            Ty::Nullable { inner } => {
                let (s, _) = self.expr(inner, indent, docs);
                let (base, note) = split_note(&s);
                (format!("{base} | null{note}"), Union)
            }
            Ty::Binary => ("Uint8Array".into(), Primary),
            Ty::Null => ("null".into(), Primary),
            Ty::Any => ("unknown".into(), Primary),
        }
    }

    /// An inline object type. Small objects without docs stay on one line.
    fn object(
        &self,
        props: &[Property],
        additional: Option<&Ty>,
        indent: usize,
        docs: bool,
    ) -> String {
        if props.is_empty() {
            return match additional {
                Some(v) => format!("Record<string, {}>", self.expr(v, indent, docs).0),
                None => "Record<string, unknown>".into(),
            };
        }
        let docs_of = |p: &Property| {
            if docs {
                p.description
                    .as_deref()
                    .and_then(|d| doc_text(d, self.style.desc))
            } else {
                None
            }
        };
        let one_line =
            props.len() <= 4 && additional.is_none() && props.iter().all(|p| docs_of(p).is_none());
        if one_line {
            let fields: Vec<String> = props.iter().map(|p| self.member(p, indent, docs)).collect();
            let line = format!("{{ {} }}", fields.join("; "));
            if !line.contains('\n') && line.len() <= 100 {
                return line;
            }
        }
        let mut out = String::from("{\n");
        out.push_str(&self.members(props, additional, indent + 2, docs));
        out.push_str(&format!("{:indent$}}}", ""));
        out
    }

    /// Property lines of an object body at `indent`, each ending in `;\n`.
    pub fn members(
        &self,
        props: &[Property],
        additional: Option<&Ty>,
        indent: usize,
        docs: bool,
    ) -> String {
        let mut out = String::new();
        for p in props {
            if docs {
                let text = p
                    .description
                    .as_deref()
                    .and_then(|d| doc_text(d, self.style.desc));
                out.push_str(&doc_line(text.as_deref(), indent));
            }
            out.push_str(&format!(
                "{:indent$}{};\n",
                "",
                self.member(p, indent, docs)
            ));
        }
        if additional.is_some() {
            // Declared extra keys may hold any value type; `unknown` keeps every declared
            // property assignable to the index signature.
            out.push_str(&format!("{:indent$}[key: string]: unknown;\n", ""));
        }
        out
    }

    fn member(&self, p: &Property, indent: usize, docs: bool) -> String {
        format!(
            "{}{}{}: {}",
            if p.read_only { "readonly " } else { "" },
            key(&p.name),
            if p.required { "" } else { "?" },
            self.expr(&p.ty, indent, docs).0
        )
    }

    /// The declaration of a named type (`interface` when it is an object, else `type`).
    pub fn declaration(&self, name: &str, def: &TypeDef) -> String {
        let ident = self.names.get(name);
        let docs = self.style.prop_docs;
        let mut out = doc_line(
            def.description
                .as_deref()
                .and_then(|d| doc_text(d, self.style.desc))
                .as_deref(),
            0,
        );
        match &def.ty {
            Ty::Object {
                properties,
                additional,
            } if !properties.is_empty() => {
                out.push_str(&format!("interface {ident} {{\n"));
                out.push_str(&self.members(properties, additional.as_deref(), 2, docs));
                out.push_str("}\n");
            }
            Ty::AllOf { parts } if self.extendable(parts).is_some() => {
                let (bases, own) = self.extendable(parts).unwrap_or_default();
                let bases: Vec<String> = bases
                    .iter()
                    .map(|b| self.names.get(b).into_owned())
                    .collect();
                out.push_str(&format!("interface {ident} extends {}", bases.join(", ")));
                if own.is_empty() {
                    out.push_str(" {}\n");
                } else {
                    out.push_str(" {\n");
                    out.push_str(&self.members(own, None, 2, docs));
                    out.push_str("}\n");
                }
            }
            other => {
                out.push_str(&format!(
                    "type {ident} = {};\n",
                    self.expr(other, 0, docs).0
                ));
            }
        }
        out
    }

    /// `allOf: [Ref.., {own props}]` that can be `interface X extends A, B { own }`: every
    /// reference is an interface, and no own property redeclares an inherited one.
    fn extendable<'t>(&self, parts: &'t [Ty]) -> Option<(Vec<&'t str>, &'t [Property])> {
        let mut bases = Vec::new();
        let mut own: &[Property] = &[];
        let mut objects = 0;
        for p in parts {
            match p {
                Ty::Ref { name } => bases.push(name.as_str()),
                Ty::Object {
                    properties,
                    additional: None,
                } => {
                    objects += 1;
                    own = properties;
                }
                _ => return None,
            }
        }
        if bases.is_empty() || objects > 1 {
            return None;
        }
        let mut inherited = BTreeSet::new();
        for b in &bases {
            if !self.interface_props(b, &mut inherited, 0) {
                return None;
            }
        }
        if own.iter().any(|p| inherited.contains(p.name.as_str())) {
            return None;
        }
        Some((bases, own))
    }

    /// Adds the property names of a type rendered as an interface; false if it is not one.
    fn interface_props<'t>(&'t self, name: &str, out: &mut BTreeSet<&'t str>, depth: u8) -> bool {
        if depth > 16 {
            return false;
        }
        let Some(def) = self.doc.types.get(name) else {
            return false;
        };
        match &def.ty {
            Ty::Object {
                properties,
                additional: None,
            } if !properties.is_empty() => {
                out.extend(properties.iter().map(|p| p.name.as_str()));
                true
            }
            Ty::AllOf { parts } => match self.extendable(parts) {
                Some((bases, own)) => {
                    out.extend(own.iter().map(|p| p.name.as_str()));
                    bases
                        .iter()
                        .all(|b| self.interface_props(b, out, depth + 1))
                }
                None => false,
            },
            _ => false,
        }
    }
}

fn with_note(base: &str, note: Option<&str>) -> String {
    match note {
        Some(n) => format!("{base} /* {n} */"),
        None => base.to_string(),
    }
}

/// Splits `T /* note */` into `T` and ` /* note */` (only a note at the very end).
fn split_note(s: &str) -> (&str, &str) {
    if s.ends_with(" */")
        && let Some(i) = s.rfind(" /* ")
        && !s[i + 4..s.len() - 3].contains("*/")
    {
        return (&s[..i], &s[i..]);
    }
    (s, "")
}

fn union(mut members: Vec<String>) -> (String, Prec) {
    match members.len() {
        0 => ("never".into(), Prec::Primary),
        1 => (members.remove(0), Prec::Primary),
        _ => (members.join(" | "), Prec::Union),
    }
}

fn literal(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) | Value::String(_) => v.to_string(),
        Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => n.to_string(),
        _ => "unknown".into(),
    }
}

/// `{ type: object }` with nothing in it: no constraint inside an `allOf`.
pub fn is_empty_object(t: &Ty) -> bool {
    matches!(t, Ty::Object { properties, additional: None } if properties.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_keys() {
        assert!(is_ident("$top"));
        assert!(!is_ident("searchCriteria.status"));
        assert!(!is_ident("9lives"));
        assert_eq!(key("a-b"), "\"a-b\"");
        assert_eq!(sanitize("Promise"), "Promise_");
        assert_eq!(sanitize("Foo.Bar[Baz]"), "Foo_Bar_Baz_");
        assert_eq!(sanitize("1x"), "_1x");
    }

    #[test]
    fn first_sentences() {
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(first_sentence("Use e.g. this. Then."), "Use e.g. this.");
        assert_eq!(first_sentence("No stop"), "No stop");
        assert_eq!(
            doc_text("a  */ b\n c", Desc::Full).as_deref(),
            Some("a *\\/ b c")
        );
    }

    #[test]
    fn notes_move_behind_brackets() {
        assert_eq!(split_note("string /* uuid */"), ("string", " /* uuid */"));
        assert_eq!(split_note("string"), ("string", ""));
    }
}
