//! An MCP session with `opcat serve` driven by the official Python SDK (`mcp`, pinned in
//! `.ci/run`): tools listed, search -> contract -> call against the fake Azure DevOps on
//! loopback, argument and server errors as tool errors, the token never in an answer.
//! Fails (never skips) when python3 or the `mcp` package is missing.

mod common;
#[path = "common/fake_ado.rs"]
mod fake_ado;

use std::path::PathBuf;
use std::process::Command;

use fake_ado::{FakeAdo, Options};
use opcat_compiler::emit;
use opcat_compiler::read::VersionSelect;
use opcat_compiler::render::{self, RenderOptions};
use opcat_runtime::Catalog;

const TOKEN: &str = "planted-MCP-PAT-4c1d8e0f7a2b";
const PIN: &str = "mcp==2.3.0";

fn python_with_mcp() -> String {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, mcp; print(m.version('mcp'))",
        ])
        .output();
    match probe {
        Ok(out) if out.status.success() => {
            eprintln!("python mcp {}", String::from_utf8_lossy(&out.stdout).trim());
            python
        }
        Ok(out) => panic!(
            "the MCP client test needs the official Python SDK: run `{python} -m pip install \
             {PIN}` (.ci/run does). {python} says: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "the MCP client test needs {python} with the `mcp` package ({e}): install python3, \
             then `python3 -m pip install {PIN}` (.ci/run does)"
        ),
    }
}

#[test]
fn python_mcp_client_runs_a_session_end_to_end() {
    let python = python_with_mcp();
    let build = common::build(common::azure_specs(), VersionSelect::Latest);
    let contracts = render::render_catalog(&build.catalog, &RenderOptions::default());
    let bytes = emit::artifact(&build.catalog, &contracts, "azure-devops", "test").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("azure-devops.opcat");
    std::fs::write(&artifact, &bytes).unwrap();
    let catalog = Catalog::from_bytes(&bytes).unwrap();

    let routes = fake_ado::routes(&catalog, &common::azure_specs());
    let id = "git.pullRequests.getPullRequestById";
    let route = routes.iter().find(|r| r.op_id == id).unwrap().clone();
    let fake = FakeAdo::start(vec![route.clone()], TOKEN, Options::default());
    let op = catalog.operation(id).unwrap();
    let expected = serde_json::json!({
        "id": id,
        "args": fake_ado::args_from_example(&op, &route.parameters),
        "body": fake_ado::expected_body(&route),
    });
    let expected_file = dir.path().join("expected.json");
    std::fs::write(&expected_file, expected.to_string()).unwrap();

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/mcp/client.py");
    let out = Command::new(&python)
        .arg(&script)
        .env("OPCAT_BIN", env!("CARGO_BIN_EXE_opcat"))
        .env("OPCAT_CATALOG", &artifact)
        .env("OPCAT_BASE_URL", &fake.base_url)
        .env("AZURE_DEVOPS_PAT", TOKEN)
        .env("EXPECTED_FILE", &expected_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the MCP client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("mcp session ok"), "{stdout}");
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "{stderr}"
    );
    // The server sent exactly the two calls that reach the network (the recorded one and
    // the 404); the call with bad arguments sent nothing.
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].op_id.as_deref(), Some(id));
    assert!(
        seen.iter().all(|s| s
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))),
        "{seen:#?}"
    );
}
