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
    let outputs = opcat_compiler::output::schemas();
    let names: Vec<&str> = outputs.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "search.schema.json",
            "show.schema.json",
            "bench.schema.json",
            "call.schema.json",
            "exec.schema.json"
        ]
    );
    let files = [
        expect_file!["../schemas/search.schema.json"],
        expect_file!["../schemas/show.schema.json"],
        expect_file!["../schemas/bench.schema.json"],
        expect_file!["../schemas/call.schema.json"],
        expect_file!["../schemas/exec.schema.json"],
    ];
    for ((_, schema), file) in outputs.iter().zip(files) {
        file.assert_eq(&(serde_json::to_string_pretty(schema).unwrap() + "\n"));
    }
}
