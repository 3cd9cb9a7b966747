//! Compiles the real Azure DevOps specs: every file and version, ids, envelopes, goldens.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use expect_test::{ExpectFile, expect_file};
use opcat_compiler::Build;
use opcat_compiler::diag::DiagKind;
use opcat_compiler::ir::{Correction, Operation, Ty, TypeSpace};
use opcat_compiler::read::VersionSelect;
use serde_json::Value;

fn latest() -> &'static Build {
    static B: OnceLock<Build> = OnceLock::new();
    B.get_or_init(|| common::build(common::azure_specs(), VersionSelect::Latest))
}

fn all() -> &'static Build {
    static B: OnceLock<Build> = OnceLock::new();
    B.get_or_init(|| common::build(common::azure_specs(), VersionSelect::All))
}

/// Kinds that mean the compiler failed to read what is there (the corpus has none).
const FAILURES: [DiagKind; 6] = [
    DiagKind::Io,
    DiagKind::Syntax,
    DiagKind::UnknownDialect,
    DiagKind::Shape,
    DiagKind::MissingRef,
    DiagKind::BrokenRef,
];

/// Operations counted straight from the JSON files, independently of the compiler.
fn count_source_operations(version_filter: impl Fn(&str) -> bool) -> (usize, usize) {
    let root = common::azure_specs();
    let (mut ops, mut from_x_ms_paths) = (0, 0);
    for area in std::fs::read_dir(&root).unwrap().flatten() {
        for version in std::fs::read_dir(area.path()).unwrap().flatten() {
            if !version_filter(&version.file_name().to_string_lossy()) {
                continue;
            }
            for f in std::fs::read_dir(version.path()).unwrap().flatten() {
                let p = f.path();
                if p.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let bytes = std::fs::read(&p).unwrap();
                let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
                let doc: Value = serde_json::from_slice(bytes).unwrap();
                for section in ["paths", "x-ms-paths"] {
                    for item in doc[section]
                        .as_object()
                        .into_iter()
                        .flat_map(|m| m.values())
                    {
                        let n = item.as_object().map_or(0, |m| {
                            m.keys()
                                .filter(|k| {
                                    ["get", "put", "post", "delete", "patch", "head", "options"]
                                        .contains(&k.as_str())
                                })
                                .count()
                        });
                        ops += n;
                        if section == "x-ms-paths" {
                            from_x_ms_paths += n;
                        }
                    }
                }
            }
        }
    }
    (ops, from_x_ms_paths)
}

#[test]
fn every_file_of_every_version_compiles() {
    let b = all();
    assert_eq!(b.summary.files, 530);
    assert_eq!(b.summary.files_failed, 0);
    assert_eq!(b.catalog.documents.len(), 530);
    let (source_ops, _) = count_source_operations(|_| true);
    assert_eq!(source_ops, 11_833);
    assert_eq!(b.catalog.operations.len(), source_ops);
    let failures: Vec<String> = b
        .diagnostics
        .iter()
        .filter(|d| FAILURES.contains(&d.kind))
        .map(|d| d.to_string())
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    let versions: BTreeSet<&str> = b
        .catalog
        .operations
        .iter()
        .map(|o| o.version.as_str())
        .collect();
    assert!(versions.contains("tfs-4.1") && versions.contains("azure-devops-server-7.1"));
}

#[test]
fn ids_are_unique_member_paths_per_version() {
    for b in [latest(), all()] {
        let mut seen = HashSet::new();
        for op in &b.catalog.operations {
            assert!(
                seen.insert((&op.version, &op.id)),
                "duplicate {} in {}",
                op.id,
                op.version
            );
            for seg in op.id.split('.') {
                let mut cs = seg.chars();
                let first = cs.next().unwrap_or('0');
                assert!(
                    (first.is_ascii_alphabetic() || first == '_' || first == '$')
                        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$'),
                    "`{}` is not a member path",
                    op.id
                );
            }
        }
        assert!(
            b.diagnostics
                .iter()
                .all(|d| d.kind != DiagKind::DuplicateId)
        );
    }
    // One method name in several files of one folder: the file names the id.
    let pkg: Vec<&str> = latest()
        .catalog
        .operations
        .iter()
        .filter(|o| o.area == "artifactsPackageTypes")
        .map(|o| o.id.as_str())
        .collect();
    for file in ["npm", "nuGet", "maven", "pyPiApi", "universal"] {
        assert!(
            pkg.iter()
                .any(|id| id.starts_with(&format!("artifactsPackageTypes.{file}.")))
        );
    }
}

#[test]
fn latest_takes_each_areas_newest_cloud_version() {
    let b = latest();
    let mut by_area: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for op in &b.catalog.operations {
        by_area.entry(&op.area).or_default().insert(&op.version);
    }
    // 47 area folders; `governance` holds examples but no spec file in any version.
    assert_eq!(by_area.len(), 46);
    assert!(
        b.diagnostics
            .iter()
            .any(|d| d.kind == DiagKind::EmptyFolder && d.file == "governance")
    );
    assert!(by_area.values().all(|v| v.len() == 1));
    assert_eq!(by_area["processDefinitions"], BTreeSet::from(["4.1"]));
    assert_eq!(by_area["tokenAdministration"], BTreeSet::from(["5.2"]));
    assert_eq!(by_area["git"], BTreeSet::from(["7.2"]));
    let in_72 = b
        .catalog
        .operations
        .iter()
        .filter(|o| o.version == "7.2")
        .count();
    let (source_72, x_ms_72) = count_source_operations(|v| v == "7.2");
    assert_eq!(in_72, source_72);
    assert_eq!(in_72, 1145);
    let with_query = b
        .catalog
        .operations
        .iter()
        .filter(|o| o.version == "7.2" && o.source.pointer.starts_with("/x-ms-paths/"))
        .count();
    assert_eq!(with_query, x_ms_72);
    assert!(x_ms_72 > 0);
}

#[test]
fn version_at_most_picks_newest_not_above() {
    let b = common::build(common::azure_specs(), VersionSelect::AtMost("7.1".into()));
    assert!(b.catalog.operations.iter().all(|o| o.version != "7.2"));
    assert!(
        b.catalog
            .operations
            .iter()
            .any(|o| o.area == "git" && o.version == "7.1")
    );
    assert!(
        b.catalog
            .operations
            .iter()
            .any(|o| o.area == "processDefinitions" && o.version == "4.1")
    );
}

/// The shape each operation returns agrees with its recorded example, unless the
/// compiler reported the contradiction.
#[test]
fn returned_shapes_agree_with_recorded_examples() {
    let b = latest();
    let s = &b.summary;
    assert!(s.enveloped >= 300, "{s:?}");
    assert!(s.enveloped_confirmed >= 90, "{s:?}");
    let mut checked = 0;
    for op in &b.catalog.operations {
        let Some(body) = op
            .examples
            .iter()
            .filter(|e| e.status.as_deref() == Some(op.returns.status.as_str()))
            .find_map(|e| e.response.as_ref())
        else {
            continue;
        };
        if op.returns.correction == Correction::Contradicted {
            continue;
        }
        let Some(ty) = &op.returns.ty else { continue };
        let doc = b
            .catalog
            .documents
            .iter()
            .find(|d| d.file == op.source.file)
            .unwrap();
        let ty = unwrap_named(ty, &doc.types);
        let agrees = match (ty, &**body) {
            (Ty::Array { .. }, Value::Array(_)) => true,
            (Ty::Object { .. } | Ty::Map { .. } | Ty::AllOf { .. }, Value::Object(_)) => true,
            (Ty::Array { .. } | Ty::Object { .. } | Ty::Map { .. }, _) => false,
            _ => true,
        };
        assert!(
            agrees,
            "{}: {:?} vs example {}",
            op.id, op.returns.correction, body
        );
        if matches!(op.returns.correction, Correction::EnvelopedConfirmed) {
            assert!(body.get("value").is_some(), "{}", op.id);
        }
        checked += 1;
    }
    assert!(
        checked > 300,
        "only {checked} operations had an example to check"
    );
    let mismatches = b
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagKind::ExampleMismatch)
        .count();
    assert_eq!(mismatches, s.contradicted);
}

/// The specs were written on a case-insensitive file system: 303 example references of the
/// latest versions differ in case from the file they name. Every one is found, read (the
/// envelope check above uses it), named with its real path, and reported as a notice.
#[test]
fn recorded_examples_are_found_whatever_their_case() {
    let b = latest();
    let s = &b.summary;
    assert_eq!(s.examples, 864, "{s:?}");
    assert_eq!(s.examples_found, s.examples, "{s:?}");
    assert!(
        !b.diagnostics
            .iter()
            .any(|d| d.kind == DiagKind::MissingExample),
        "an example is missing"
    );
    let root = common::azure_specs();
    let notices: Vec<_> = b
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagKind::ExampleCase)
        .collect();
    assert_eq!(notices.len(), 303);
    for op in &b.catalog.operations {
        for e in &op.examples {
            assert!(
                root.join(&e.file).is_file(),
                "{}: {} is not a file",
                op.id,
                e.file
            );
        }
    }
    for d in notices {
        let (asked, found) = d
            .message
            .strip_prefix("example `")
            .and_then(|m| m.split_once("` found as `"))
            .and_then(|(a, f)| Some((a, f.split_once('`')?.0)))
            .unwrap_or_else(|| panic!("unexpected notice: {d}"));
        assert!(asked != found && asked.eq_ignore_ascii_case(found), "{d}");
        assert!(
            !root.join(asked).is_file() && root.join(found).is_file(),
            "{d}"
        );
    }
}

/// Follows named types and nullability to the structural type.
fn unwrap_named<'a>(mut ty: &'a Ty, types: &'a TypeSpace) -> &'a Ty {
    for _ in 0..16 {
        match ty {
            Ty::Ref { name } => ty = &types[name].ty,
            Ty::Nullable { inner } => ty = inner,
            _ => break,
        }
    }
    ty
}

#[test]
fn builds_are_deterministic() {
    let again = common::build(common::azure_specs(), VersionSelect::Latest);
    let a = serde_json::to_vec(&latest().catalog).unwrap();
    let b = serde_json::to_vec(&again.catalog).unwrap();
    assert!(a == b, "two builds of the same specs differ");
}

fn op(id: &str) -> &'static Operation {
    latest()
        .catalog
        .operations
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no operation {id}"))
}

/// Pretty JSON of an operation, examples reduced to their files (bodies are large).
fn golden(id: &str, expect: ExpectFile) {
    let mut v = serde_json::to_value(op(id)).unwrap();
    for e in v["examples"].as_array_mut().into_iter().flatten() {
        e.as_object_mut()
            .unwrap()
            .retain(|k, _| ["title", "file", "found", "status"].contains(&k.as_str()));
    }
    expect.assert_eq(&(serde_json::to_string_pretty(&v).unwrap() + "\n"));
}

#[test]
fn golden_pull_requests_by_project() {
    golden(
        "git.pullRequests.getPullRequestsByProject",
        expect_file!["golden/compiler/git.pullRequests.getPullRequestsByProject.json"],
    );
    let o = op("git.pullRequests.getPullRequestsByProject");
    assert_eq!(o.returns.correction, Correction::EnvelopedConfirmed);
    assert_eq!(o.api_version.as_deref(), Some("7.2-preview.2"));
}

#[test]
fn golden_wiql_query() {
    golden(
        "wit.wiql.queryByWiql",
        expect_file!["golden/compiler/wit.wiql.queryByWiql.json"],
    );
}

#[test]
fn golden_work_item_create_with_json_patch() {
    golden(
        "wit.workItems.create",
        expect_file!["golden/compiler/wit.workItems.create.json"],
    );
    let body = op("wit.workItems.create").body.as_ref().unwrap();
    assert_eq!(body.content_type, "application/json-patch+json");
}

#[test]
fn golden_release_on_vsrm() {
    golden(
        "release.releases.getRelease",
        expect_file!["golden/compiler/release.releases.getRelease.json"],
    );
    assert_eq!(
        op("release.releases.getRelease").server,
        "https://vsrm.dev.azure.com"
    );
}

#[test]
fn golden_x_ms_paths_operation() {
    golden(
        "git.repositories.getRepositoryWithParent",
        expect_file!["golden/compiler/git.repositories.getRepositoryWithParent.json"],
    );
    let o = op("git.repositories.getRepositoryWithParent");
    assert_eq!(
        o.path_query.as_deref(),
        Some("includeParent={includeParent}")
    );
}

#[test]
fn golden_recursive_type() {
    let doc = latest()
        .catalog
        .documents
        .iter()
        .find(|d| d.file == "wit/7.2/workItemTracking.json")
        .unwrap();
    let t = &doc.types["WorkItemClassificationNode"];
    assert!(t.recursive);
    expect_file!["golden/compiler/WorkItemClassificationNode.json"]
        .assert_eq(&(serde_json::to_string_pretty(t).unwrap() + "\n"));
}
