//! The JSON Schemas in `schemas/` are generated from the code; this keeps them current.
//! Run with `UPDATE_EXPECT=1` after changing an output type.

use expect_test::expect_file;

#[test]
fn catalog_schema_is_current() {
    let schema = opcat_compiler::ir::catalog_schema();
    expect_file!["../schemas/catalog.schema.json"]
        .assert_eq(&(serde_json::to_string_pretty(&schema).unwrap() + "\n"));
}

#[test]
fn manifest_and_cli_output_schemas_are_current() {
    let manifest = opcat_compiler::emit::manifest_schema();
    expect_file!["../schemas/manifest.schema.json"]
        .assert_eq(&(serde_json::to_string_pretty(&manifest).unwrap() + "\n"));
    let mut outputs = opcat_compiler::output::schemas().into_iter();
    let (name, search) = outputs.next().unwrap();
    assert_eq!(name, "search.schema.json");
    expect_file!["../schemas/search.schema.json"]
        .assert_eq(&(serde_json::to_string_pretty(&search).unwrap() + "\n"));
    let (name, show) = outputs.next().unwrap();
    assert_eq!(name, "show.schema.json");
    expect_file!["../schemas/show.schema.json"]
        .assert_eq(&(serde_json::to_string_pretty(&show).unwrap() + "\n"));
    let (name, bench) = outputs.next().unwrap();
    assert_eq!(name, "bench.schema.json");
    expect_file!["../schemas/bench.schema.json"]
        .assert_eq(&(serde_json::to_string_pretty(&bench).unwrap() + "\n"));
    assert!(
        outputs.next().is_none(),
        "a new output schema needs a check here"
    );
}
