//! The JSON Schemas in `schemas/` are generated from the code; this keeps them current.
//! Run with `UPDATE_EXPECT=1` after changing an output type.

use expect_test::expect_file;

#[test]
fn catalog_schema_is_current() {
    let schema = opcat_compiler::ir::catalog_schema();
    expect_file!["../schemas/catalog.schema.json"]
        .assert_eq(&(serde_json::to_string_pretty(&schema).unwrap() + "\n"));
}
