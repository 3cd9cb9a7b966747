//! An MCP session with `opcat serve` driven by the official Python SDK (`mcp`, pinned in
//! tests/mcp/requirements.txt): tools listed, search -> contract -> call against the fake
//! Azure DevOps on loopback, argument and server errors as tool errors, then every chained program of
//! tests/common/programs.rs through `execute`, each checked against what the fake saw; the
//! token never in an answer. Fails (never skips) when python3 or the `mcp` package is
//! missing.

mod common;
#[path = "common/fake_ado.rs"]
mod fake_ado;
#[path = "common/programs.rs"]
mod programs;

use std::path::PathBuf;
use std::process::Command;

use fake_ado::{FakeAdo, Options};
use opcat_compiler::emit;
use opcat_compiler::read::VersionSelect;
use opcat_compiler::render::{self, RenderOptions};
use opcat_runtime::Catalog;

const TOKEN: &str = "planted-MCP-PAT-4c1d8e0f7a2b";
const PIN: &str = "2.3.0";

/// `$PYTHON`, else the project's `.cache/venv/bin/python`, which `scripts/setup-tests.sh`
/// fills with tests/mcp/requirements.txt (the README's test command runs it).
fn python_with_mcp() -> String {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../.cache/venv/bin/python")
            .display()
            .to_string()
    });
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, mcp; print(m.version('mcp'))",
        ])
        .output();
    match probe {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(
                version, PIN,
                "{python} has mcp {version}, the test pins {PIN}"
            );
            python
        }
        Ok(out) => panic!(
            "{python} has no `mcp` package: run scripts/setup-tests.sh. It says: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "the MCP client test needs {python} ({e}): run scripts/setup-tests.sh, which \
             makes a virtual environment with the pinned SDK (tests/mcp/requirements.txt)"
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

    // The chained programs run against a fake of their own, whose path values match any
    // value so that ids flow from one recorded answer into the next call.
    let exec_fake = FakeAdo::start(
        routes.clone(),
        TOKEN,
        Options {
            any_path_value: true,
            ..Options::default()
        },
    );
    let chains: Vec<serde_json::Value> = programs::CHAINS
        .iter()
        .map(|c| serde_json::json!({"name": c.name, "code": c.code}))
        .collect();
    let chains_file = dir.path().join("chains.json");
    std::fs::write(&chains_file, serde_json::Value::from(chains).to_string()).unwrap();
    let answers_file = dir.path().join("answers.json");

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/mcp/client.py");
    let out = Command::new(&python)
        .arg(&script)
        .env("OPCAT_BIN", env!("CARGO_BIN_EXE_opcat"))
        .env("OPCAT_CATALOG", &artifact)
        .env("OPCAT_BASE_URL", &fake.base_url)
        .env("AZURE_DEVOPS_PAT", TOKEN)
        .env("EXPECTED_FILE", &expected_file)
        .env("EXEC_BASE_URL", &exec_fake.base_url)
        .env("CHAINS_FILE", &chains_file)
        .env("ANSWERS_FILE", &answers_file)
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

    // Each program's calls are consecutive in what the second fake saw (the programs ran
    // one after another): split it by each answer's call count and check each chain.
    let answers: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&answers_file).unwrap()).unwrap();
    assert_eq!(answers.len(), programs::CHAINS.len());
    let seen = exec_fake.seen();
    let mut at = 0;
    let mut failures = Vec::new();
    for (chain, answer) in programs::CHAINS.iter().zip(&answers) {
        let answer = &answer["answer"];
        let calls: Vec<String> = answer["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        let end = (at + calls.len()).min(seen.len());
        let answered: Vec<programs::Answered> = seen[at..end]
            .iter()
            .map(|s| programs::Answered {
                op_id: s.op_id.as_deref().unwrap_or("(none)"),
                target: &s.target,
                body: &s.body,
                answered: s.answered.as_ref().unwrap_or(&serde_json::Value::Null),
            })
            .collect();
        at = end;
        if let Err(e) = programs::check(chain, &answer["result"], &calls, &answered) {
            failures.push(format!("{}: {e}", chain.name));
        }
    }
    // The failing program's one call comes last.
    assert_eq!(seen.len(), at + 1, "{seen:#?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
