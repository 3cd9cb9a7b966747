//! Stage 3b, bundle: pull relative-file `$ref`s into the one document being compiled.
//!
//! Specs split over many files (DigitalOcean: 2,900 YAML files) reference each other with
//! relative paths (`resources/droplets/models/droplet.yml`, `../../shared/x.yml#/y`).
//! A reference in a schema position becomes a named component schema (named after the
//! pointer's last token or the file stem, made unique), so shared and recursive types stay
//! named; any other reference (an operation, a response, a parameter) is inlined, with
//! reference cycles reported. Files are loaded through the [`Loader`] and parsed once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{Value, json};

use crate::diag::{DiagKind, Diagnostic};
use crate::parse;
use crate::read::{Loader, join_relative, rel_path};

/// Files a chain of references may cross (a file referencing a file referencing...). Real
/// specs stay within a few; a deeper chain is reported, which also bounds the recursion.
pub const MAX_DEPTH: usize = 16;

/// Nodes the inlining of non-schema references may visit per document. Inlining copies, so
/// a file that references another many times over, nested, grows exponentially ("billion
/// laughs"); past this budget references are reported instead of inlined.
pub const MAX_VISITS: usize = 2_000_000;

/// Files one document may load through references (DigitalOcean's specs: 2,900 files).
pub const MAX_FILES: usize = 10_000;

/// Resolves every relative-file reference of `doc` (the file at `path`).
pub fn bundle(
    doc: &mut Value,
    path: &Path,
    specs_root: &Path,
    loader: &dyn Loader,
    diags: &mut Vec<Diagnostic>,
) {
    if !has_external_ref(doc) {
        return;
    }
    let mut used: HashSet<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    used.insert(String::new());
    let mut b = Bundler {
        loader,
        root: path.to_path_buf(),
        specs_root,
        cache: HashMap::new(),
        names: HashMap::new(),
        used,
        lifted: BTreeMap::new(),
        stack: Vec::new(),
        depth: 0,
        visits: 0,
        over_budget: false,
        too_deep: false,
        too_many_files: false,
        diags,
    };
    let root = path.to_path_buf();
    b.walk_generic(doc, &root, "");
    let lifted = std::mem::take(&mut b.lifted);
    if lifted.is_empty() {
        return;
    }
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    let comps = obj.entry("components").or_insert_with(|| json!({}));
    if let Some(comps) = comps.as_object_mut() {
        let schemas = comps.entry("schemas").or_insert_with(|| json!({}));
        if let Some(schemas) = schemas.as_object_mut() {
            schemas.extend(lifted);
        }
    }
}

/// Whether any `$ref` outside extensions points at another file (cheap pre-check).
fn has_external_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, c)| {
            if k == "$ref" {
                c.as_str().is_some_and(|r| !r.starts_with('#'))
            } else {
                !k.starts_with("x-") && has_external_ref(c)
            }
        }),
        Value::Array(a) => a.iter().any(has_external_ref),
        _ => false,
    }
}

/// A reference target: file and pointer fragment.
type Key = (PathBuf, String);

struct Bundler<'a> {
    loader: &'a dyn Loader,
    root: PathBuf,
    specs_root: &'a Path,
    cache: HashMap<PathBuf, Option<Rc<Value>>>,
    names: HashMap<Key, String>,
    used: HashSet<String>,
    lifted: BTreeMap<String, Value>,
    stack: Vec<Key>,
    /// Files deep in the current chain of references ([`MAX_DEPTH`]).
    depth: usize,
    /// Nodes visited by `walk_generic` ([`MAX_VISITS`]).
    visits: usize,
    /// The budget was exceeded (reported once).
    over_budget: bool,
    /// A chain was cut at [`MAX_DEPTH`] (reported once).
    too_deep: bool,
    /// [`MAX_FILES`] were loaded (reported once).
    too_many_files: bool,
    diags: &'a mut Vec<Diagnostic>,
}

impl Bundler<'_> {
    /// The target of `reference` seen in file `base`, or `None` for a root-local ref.
    fn target(&self, reference: &str, base: &Path) -> Option<Key> {
        let (file, frag) = reference.split_once('#').unwrap_or((reference, ""));
        let frag = percent_decode(frag);
        let file = if file.is_empty() {
            base.to_path_buf()
        } else {
            join_relative(base, &percent_decode(file))
        };
        if file == self.root {
            None
        } else {
            Some((file, frag))
        }
    }

    fn load(&mut self, key: &Key, at: &str, base: &Path) -> Option<Value> {
        let (file, frag) = key;
        if !self.cache.contains_key(file) {
            if self.cache.len() >= MAX_FILES {
                if !std::mem::replace(&mut self.too_many_files, true) {
                    let msg = format!(
                        "reference to `{}` not followed: this document already loaded \
                         {MAX_FILES} files (reported once per document)",
                        rel_path(self.specs_root, file)
                    );
                    self.diag(DiagKind::BrokenRef, base, at, msg);
                }
                return None;
            }
            let parsed = match self.loader.load(file) {
                Ok(bytes) => match parse::parse(&bytes) {
                    Ok(v) => Some(Rc::new(v)),
                    Err(e) => {
                        self.diag(DiagKind::Syntax, file, "", e);
                        None
                    }
                },
                Err(e) => {
                    let msg = format!(
                        "reference to `{}` cannot be loaded: {e}",
                        rel_path(self.specs_root, file)
                    );
                    self.diag(DiagKind::MissingRef, base, at, msg);
                    None
                }
            };
            self.cache.insert(file.clone(), parsed);
        }
        let doc = self.cache.get(file)?.clone()?;
        match doc.pointer(frag) {
            Some(v) => Some(v.clone()),
            None => {
                let msg = format!(
                    "`{}#{frag}` does not exist",
                    rel_path(self.specs_root, file)
                );
                self.diag(DiagKind::MissingRef, base, at, msg);
                None
            }
        }
    }

    fn diag(&mut self, kind: DiagKind, file: &Path, at: &str, msg: String) {
        let file = rel_path(self.specs_root, file);
        self.diags.push(Diagnostic::new(kind, file, at, msg));
    }

    /// Gives the schema at `key` a component name, converting it once.
    fn lift(&mut self, key: Key, at: &str, base: &Path) -> Option<String> {
        if let Some(n) = self.names.get(&key) {
            return Some(n.clone());
        }
        if !self.deeper(&key, at, base) {
            return None;
        }
        let mut target = self.load(&key, at, base)?;
        let name = self.fresh_name(&key);
        self.names.insert(key.clone(), name.clone());
        self.depth += 1;
        self.walk_schema(&mut target, &key.0, &key.1);
        self.depth -= 1;
        self.lifted.insert(name.clone(), target);
        Some(name)
    }

    /// Whether one more file fits in the chain of references; reports it when not.
    fn deeper(&mut self, (file, frag): &Key, at: &str, base: &Path) -> bool {
        if self.depth < MAX_DEPTH {
            return true;
        }
        if std::mem::replace(&mut self.too_deep, true) {
            return false;
        }
        let msg = format!(
            "reference to `{}#{frag}` not followed: the chain of references crosses more than \
             {MAX_DEPTH} files (reported once per document)",
            rel_path(self.specs_root, file)
        );
        self.diag(DiagKind::BrokenRef, base, at, msg);
        false
    }

    fn fresh_name(&mut self, (file, frag): &Key) -> String {
        let base = frag
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(crate::upgrade::unescape)
            .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "Schema".into());
        let mut name = base.clone();
        let mut n = 2;
        while !self.used.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }

    fn walk_schema(&mut self, v: &mut Value, base: &Path, at: &str) {
        let Value::Object(m) = v else { return };
        if let Some(r) = m.get("$ref").and_then(Value::as_str).map(str::to_string) {
            match self.target(&r, base) {
                None => {
                    if let Some(frag) = r.split_once('#').map(|(_, f)| f) {
                        m.insert("$ref".into(), json!(format!("#{frag}")));
                    }
                }
                Some(key) => match self.lift(key, at, base) {
                    Some(name) => {
                        m.insert("$ref".into(), json!(format!("#/components/schemas/{name}")));
                    }
                    None => {
                        m.remove("$ref");
                    }
                },
            }
            return;
        }
        for (k, child) in m.iter_mut() {
            let here = format!("{at}/{}", crate::diag::escape_token(k));
            match k.as_str() {
                "properties" | "patternProperties" => {
                    // `properties: {$ref: 'attributes.yml#/x'}` names a map of properties.
                    let r = child
                        .get("$ref")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    if let Some(key) = r.and_then(|r| self.target(&r, base)) {
                        *child = json!({});
                        if let Some(mut props) = self.load(&key, &here, base) {
                            if let Value::Object(ps) = &mut props {
                                for (pk, c) in ps.iter_mut() {
                                    let p = format!("{}/{}", key.1, crate::diag::escape_token(pk));
                                    self.walk_schema(c, &key.0, &p);
                                }
                            }
                            *child = props;
                        }
                        continue;
                    }
                    if let Value::Object(props) = child {
                        for (pk, c) in props.iter_mut() {
                            let p = format!("{here}/{}", crate::diag::escape_token(pk));
                            self.walk_schema(c, base, &p);
                        }
                    }
                }
                "items" | "additionalProperties" | "not" => self.walk_schema(child, base, &here),
                "allOf" | "anyOf" | "oneOf" => {
                    if let Value::Array(a) = child {
                        for (i, c) in a.iter_mut().enumerate() {
                            self.walk_schema(c, base, &format!("{here}/{i}"));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn walk_generic(&mut self, v: &mut Value, base: &Path, at: &str) {
        self.visits += 1;
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str).map(str::to_string) {
                    let Some(key) = self.target(&r, base) else {
                        return;
                    };
                    if self.stack.contains(&key) {
                        let msg = format!("reference cycle through `{r}`");
                        self.diag(DiagKind::BrokenRef, base, at, msg);
                        *v = json!({});
                        return;
                    }
                    if self.visits > MAX_VISITS {
                        if std::mem::replace(&mut self.over_budget, true) {
                            *v = json!({});
                            return;
                        }
                        let msg = format!(
                            "reference `{r}` not inlined: inlining references has copied more \
                             than {MAX_VISITS} nodes into this document (further references are dropped)"
                        );
                        self.diag(DiagKind::BrokenRef, base, at, msg);
                        *v = json!({});
                        return;
                    }
                    if !self.deeper(&key, at, base) {
                        *v = json!({});
                        return;
                    }
                    let Some(mut target) = self.load(&key, at, base) else {
                        *v = json!({});
                        return;
                    };
                    self.stack.push(key.clone());
                    self.depth += 1;
                    self.walk_generic(&mut target, &key.0, &key.1);
                    self.depth -= 1;
                    self.stack.pop();
                    *v = target;
                    return;
                }
                for (k, child) in m.iter_mut() {
                    let here = format!("{at}/{}", crate::diag::escape_token(k));
                    match k.as_str() {
                        "schema" => self.walk_schema(child, base, &here),
                        "schemas" => {
                            if let Value::Object(s) = child {
                                for (name, c) in s.iter_mut() {
                                    let p = format!("{here}/{}", crate::diag::escape_token(name));
                                    self.walk_named_schema(name, c, base, &p);
                                }
                            }
                        }
                        "example" | "examples" => {}
                        _ if k.starts_with("x-") => {}
                        _ => self.walk_generic(child, base, &here),
                    }
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter_mut().enumerate() {
                    self.walk_generic(c, base, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }

    /// A `components.schemas` entry that is itself a file ref takes the file's content under
    /// the component's own name (no alias hop).
    fn walk_named_schema(&mut self, name: &str, v: &mut Value, base: &Path, at: &str) {
        let r = v.get("$ref").and_then(Value::as_str).map(str::to_string);
        if let Some(key) = r.and_then(|r| self.target(&r, base))
            && !self.names.contains_key(&key)
        {
            self.names.insert(key.clone(), name.to_string());
            if let Some(mut target) = self.load(&key, at, base) {
                self.walk_schema(&mut target, &key.0, &key.1);
                *v = target;
            }
            return;
        }
        self.walk_schema(v, base, at);
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    struct MapLoader(Vec<(&'static str, &'static str)>);
    impl Loader for MapLoader {
        fn load(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.0
                .iter()
                .find(|(p, _)| Path::new(p) == path)
                .map(|(_, s)| s.as_bytes().to_vec())
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
        }
    }

    #[test]
    fn lifts_schemas_inlines_operations_and_reports_missing_files() {
        let loader = MapLoader(vec![
            (
                "/s/ops/get.yml",
                "responses:\n  '200':\n    description: ok\n    content:\n      application/json:\n        schema:\n          $ref: '../models/node.yml'\n",
            ),
            (
                "/s/models/node.yml",
                "type: object\nproperties:\n  next:\n    $ref: 'node.yml'\n  gone:\n    $ref: 'missing.yml'\n",
            ),
        ]);
        let mut doc =
            json!({"openapi": "3.0.0", "paths": {"/n": {"get": {"$ref": "ops/get.yml"}}}});
        let mut diags = Vec::new();
        bundle(
            &mut doc,
            Path::new("/s/root.yml"),
            Path::new("/s"),
            &loader,
            &mut diags,
        );
        let schema =
            &doc["paths"]["/n"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(schema["$ref"], "#/components/schemas/node");
        let node = &doc["components"]["schemas"]["node"];
        assert_eq!(
            node["properties"]["next"]["$ref"],
            "#/components/schemas/node"
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].kind, DiagKind::MissingRef);
        assert_eq!(diags[0].file, "models/node.yml");
    }
}
