//! Malformed input gives diagnostics naming file and pointer; the rest of the build goes on.

mod common;

use std::io;
use std::path::Path;

use opcat_compiler::diag::{DiagKind, Diagnostic};
use opcat_compiler::read::{FsLoader, Loader, VersionSelect};
use opcat_compiler::{Options, compile};

/// Fails for one file name, as an unreadable file would.
struct Unreadable;
impl Loader for Unreadable {
    fn load(&self, path: &Path) -> io::Result<Vec<u8>> {
        if path.ends_with("locked.json") {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "permission denied",
            ));
        }
        FsLoader::default().load(path)
    }
}

const GOOD: &str = r##"{
  "swagger": "2.0", "host": "dev.azure.com", "basePath": "/",
  "paths": {
    "/{organization}/_apis/things": {"get": {
      "operationId": "Things_List", "tags": ["Things"], "x-ms-vss-method": "ListThings",
      "parameters": [{"in": "path", "name": "organization", "required": true, "type": "string"},
                     {"$ref": "#/parameters/nope"}],
      "responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/Thing"}}}},
      "x-ms-examples": {"gone": {"$ref": "./httpExamples/missing.json"}}
    }},
    "/{organization}/_apis/loops": {"get": {
      "operationId": "Loops_Get", "tags": ["Loops"],
      "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/A"}}}
    }}
  },
  "definitions": {
    "Thing": {"type": "object", "properties": {
      "child": {"$ref": "#/definitions/Thing"},
      "ghost": {"$ref": "#/definitions/Missing"},
      "odd": {"$ref": "other.json#/definitions/X"}
    }},
    "A": {"$ref": "#/definitions/B"},
    "B": {"$ref": "#/definitions/A"}
  }
}"##;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn find<'a>(diags: &'a [Diagnostic], kind: DiagKind, file: &str) -> &'a Diagnostic {
    diags
        .iter()
        .find(|d| d.kind == kind && d.file == file)
        .unwrap_or_else(|| panic!("no {kind:?} diagnostic for {file}: {diags:#?}"))
}

#[test]
fn bad_files_refs_and_folders_are_diagnostics_not_aborts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "things/7.2/good.json", &format!("\u{feff}{GOOD}"));
    write(
        root,
        "things/7.2/broken.json",
        "{\"swagger\": \"2.0\", \"paths\": {",
    );
    write(root, "things/7.2/empty.json", "");
    write(root, "things/7.2/locked.json", GOOD);
    write(root, "things/7.2/other.json", "{\"openapi\": \"4.0\"}");
    write(root, "things/weird-folder/good.json", GOOD);
    write(root, "things/7.1/good.json", GOOD);

    let b = compile(
        &Options {
            specs: root.to_path_buf(),
            versions: VersionSelect::Latest,
        },
        &Unreadable,
        &|_| {},
    );
    let d = &b.diagnostics;
    // The good file compiled in full, beside four bad ones.
    assert_eq!(b.summary.files, 5);
    assert_eq!(b.summary.files_failed, 4);
    assert_eq!(b.catalog.operations.len(), 2);
    let list = b
        .catalog
        .operations
        .iter()
        .find(|o| o.id == "things.good.things.list")
        .unwrap();
    assert_eq!(list.area, "things");

    assert!(
        find(d, DiagKind::Syntax, "things/7.2/broken.json")
            .message
            .contains("line 1")
    );
    assert_eq!(
        find(d, DiagKind::Syntax, "things/7.2/empty.json").message,
        "empty file"
    );
    assert!(
        find(d, DiagKind::Io, "things/7.2/locked.json")
            .message
            .contains("permission denied")
    );
    assert!(
        find(d, DiagKind::UnknownDialect, "things/7.2/other.json")
            .message
            .contains("4.0")
    );
    assert!(
        find(d, DiagKind::UnknownVersion, "things/weird-folder")
            .message
            .contains("weird-folder")
    );

    let good = "things/7.2/good.json";
    let missing: Vec<&Diagnostic> = d
        .iter()
        .filter(|x| x.kind == DiagKind::MissingRef && x.file == good)
        .collect();
    assert!(
        missing
            .iter()
            .any(|x| x.pointer == "/definitions/Thing/properties/ghost"
                && x.message.contains("Missing")),
        "{missing:#?}"
    );
    assert!(missing.iter().any(|x| x.pointer
        == "/paths/~1{organization}~1_apis~1things/get/parameters/1"
        && x.message.contains("#/components/parameters/nope")));
    let broken: Vec<&Diagnostic> = d
        .iter()
        .filter(|x| x.kind == DiagKind::BrokenRef && x.file == good)
        .collect();
    assert!(
        missing
            .iter()
            .any(|x| x.pointer == "/definitions/Thing/properties/odd"
                && x.message.contains("things/7.2/other.json#/definitions/X")),
        "{missing:#?}"
    );
    assert!(
        broken.iter().any(|x| x.message.contains("reference cycle")),
        "{broken:#?}"
    );
    assert!(
        find(d, DiagKind::MissingExample, good)
            .message
            .contains("httpExamples/missing.json")
    );

    // Recursion stays named.
    let doc = &b.catalog.documents[0];
    assert!(doc.types["Thing"].recursive);
}

#[test]
fn a_missing_specs_folder_is_a_diagnostic() {
    let b = compile(
        &Options {
            specs: "/nonexistent/opcat".into(),
            versions: VersionSelect::Latest,
        },
        &FsLoader::default(),
        &|_| {},
    );
    assert_eq!(b.catalog.operations.len(), 0);
    assert_eq!(b.diagnostics[0].kind, DiagKind::Io);
}

/// Serves the same bytes for every path, as the `spec` fuzz target does.
struct Everywhere(&'static str);
impl Loader for Everywhere {
    fn load(&self, _path: &Path) -> io::Result<Vec<u8>> {
        Ok(self.0.as_bytes().to_vec())
    }
}

/// Found by `fuzz/run.sh` (target `spec`, a timeout): non-schema `$ref`s to files that
/// reference further files are inlined, and a chain through ever new paths (`sub/a.json`
/// referencing `sub/a.json` relative to itself), each file referencing two, recursed and
/// copied without end. Now the chain stops at `bundle::MAX_DEPTH` files, and the loading
/// and copying at `bundle::MAX_FILES` files or `bundle::MAX_VISITS` nodes, each reported
/// once as a diagnostic.
#[test]
fn endless_chains_of_file_references_are_cut_and_reported() {
    // The responses object references three copies of itself in new files: 3^depth copies.
    const SPEC: &str = r##"{
      "swagger": "2.0", "host": "dev.azure.com", "basePath": "/",
      "paths": {"/{organization}/_apis/things": {"get": {
        "operationId": "Things_List",
        "parameters": [{"in": "path", "name": "organization", "required": true, "type": "string"}],
        "responses": {
          "200": {"$ref": "sub/a.json#/paths/~1{organization}~1_apis~1things/get/responses"},
          "201": {"$ref": "sub/b.json#/paths/~1{organization}~1_apis~1things/get/responses"},
          "202": {"$ref": "sub/c.json#/paths/~1{organization}~1_apis~1things/get/responses"},
          "default": {"description": "ok", "schema": {"$ref": "sub/d.json#/definitions/T"}}
        }
      }}},
      "definitions": {"T": {"type": "object", "properties": {"next": {"$ref": "sub/e.json#/definitions/T"}}}}
    }"##;
    let spec = area_spec();
    let out = opcat_compiler::compile_file(&spec, Path::new("/specs"), &Everywhere(SPEC));
    let cut = |what: &str| {
        out.diagnostics
            .iter()
            .any(|d| d.kind == DiagKind::BrokenRef && d.message.contains(what))
    };
    assert!(cut("crosses more than"), "{:?}", out.diagnostics);
    assert!(
        cut("already loaded") || cut("copied more than"),
        "{:?}",
        out.diagnostics
    );
    assert!(out.diagnostics.len() < 10, "{:?}", out.diagnostics);
}

/// The spec file `/specs/area/7.2/area.json` that the reference-chain tests compile.
fn area_spec() -> opcat_compiler::read::SpecFile {
    opcat_compiler::read::SpecFile {
        path: "/specs/area/7.2/area.json".into(),
        rel: "area/7.2/area.json".into(),
        area: Some("area".into()),
        version: Some("7.2".into()),
        shares_folder: false,
    }
}

/// `lN.json` references `l(N+1).json` ten times over: 10^12 copies if inlined naively.
struct Laughs;
impl Loader for Laughs {
    fn load(&self, path: &Path) -> io::Result<Vec<u8>> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(n) = name
            .strip_prefix('l')
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            return Ok(br##"{"swagger": "2.0", "host": "dev.azure.com", "basePath": "/",
              "paths": {"/{organization}/_apis/things": {"get": {"operationId": "Things_List",
                "parameters": [{"in": "path", "name": "organization", "required": true, "type": "string"}],
                "responses": {"200": {"$ref": "l0.json#/x"}}}}}}"##
                .to_vec());
        };
        let body = if n == 12 {
            r#"{"x": {"description": "ok"}}"#.to_string()
        } else {
            let refs: Vec<String> = (0..10)
                .map(|i| format!(r##""r{i}": {{"$ref": "l{}.json#/x"}}"##, n + 1))
                .collect();
            format!(
                r#"{{"x": {{"description": "ok", "headers": {{{}}}}}}}"#,
                refs.join(",")
            )
        };
        Ok(body.into_bytes())
    }
}

/// A few files that reference each other many times over ("billion laughs") are inlined up
/// to `bundle::MAX_VISITS` nodes, then reported, instead of exhausting time and memory.
#[test]
fn exponential_inlining_is_cut_and_reported() {
    let spec = area_spec();
    let out = opcat_compiler::compile_file(&spec, Path::new("/specs"), &Laughs);
    assert!(
        out.diagnostics
            .iter()
            .any(|d| d.kind == DiagKind::BrokenRef && d.message.contains("copied more than")),
        "{:?}",
        out.diagnostics
    );
    assert!(out.diagnostics.len() < 10, "{:?}", out.diagnostics);
}

/// Names outside ASCII in inputs, paths and result fields go through the data-flow edges
/// (`links.rs`, which compares name prefixes and suffixes) and the artifact without a
/// panic; the edge it can make is made.
#[test]
fn non_ascii_names_link_without_a_panic() {
    const SPEC: &str = r##"{
  "swagger": "2.0", "host": "dev.azure.com", "basePath": "/",
  "paths": {
    "/{organization}/_apis/çhangesets": {"get": {
      "operationId": "Changesets_List",
      "parameters": [{"in": "path", "name": "organization", "required": true, "type": "string"}],
      "responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/Çhangeset"}}}}
    }},
    "/{organization}/_apis/çhangesets/{id}": {"get": {
      "operationId": "Changesets_Get", "description": "Get one changeset.",
      "parameters": [{"in": "path", "name": "organization", "required": true, "type": "string"},
                     {"in": "path", "name": "id", "required": true, "type": "string", "description": "The id"}],
      "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Çhangeset"}}}
    }},
    "/{organization}/_apis/ñodes/{ñodeId}/ünits/{éId}": {"get": {
      "operationId": "Units_Get",
      "parameters": [{"in": "path", "name": "organization", "required": true, "type": "string"},
                     {"in": "path", "name": "ñodeId", "required": true, "type": "string"},
                     {"in": "path", "name": "éId", "required": true, "type": "string"}],
      "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Çhangeset"}}}
    }}
  },
  "definitions": {
    "Çhangeset": {"type": "object", "properties": {
      "abcdéx": {"type": "string"}, "çhangesetId": {"type": "string"}, "ñodeId": {"type": "string"}, "éid": {"type": "string"},
      "idé": {"type": "string"}, "id": {"type": "string"}
    }}
  }
}"##;
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "odd/7.2/odd.json", SPEC);
    let build = compile(
        &Options {
            specs: root.path().to_path_buf(),
            versions: VersionSelect::Latest,
        },
        &FsLoader::default(),
        &|_| {},
    );
    assert_eq!(
        build.catalog.operations.len(),
        3,
        "{:#?}",
        build.diagnostics
    );
    let contracts = opcat_compiler::render::render_catalog(
        &build.catalog,
        &opcat_compiler::render::RenderOptions::default(),
    );
    let bytes = opcat_compiler::emit::artifact(&build.catalog, &contracts, "odd", "test").unwrap();
    let c = opcat_runtime::Catalog::from_bytes(&bytes).unwrap();
    let get = c
        .operations()
        .find(|o| o.operation_id() == "Changesets_Get")
        .unwrap();
    let edges = |id: &str| -> Vec<(String, String, String)> {
        c.operations()
            .find(|o| o.operation_id() == id)
            .unwrap()
            .inputs()
            .map(|(p, from, f)| {
                (
                    p.to_string(),
                    from.operation_id().to_string(),
                    f.to_string(),
                )
            })
            .collect()
    };
    // Names are compared with ASCII case folding: `Çhangeset` is not `çhangeset`, so the
    // bare id comes from the field named after the resource.
    assert_eq!(
        edges(get.operation_id()),
        [(
            "id".into(),
            "Changesets_List".into(),
            "[].çhangesetId".into()
        )]
    );
    // `abcdéx` has the length of `ñodeId` but a character across the cut: no panic.
    assert_eq!(
        edges("Units_Get"),
        [(
            "ñodeId".into(),
            "Changesets_List".into(),
            "[].ñodeId".into()
        )]
    );
}
