//! End to end against a fake Azure DevOps on loopback that answers with the recorded
//! `httpExamples`: every recorded operation through the executor, `opcat call` as a
//! process (output, exit codes, paging, errors), and the token never leaving.

mod common;
#[path = "common/fake_ado.rs"]
mod fake_ado;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use fake_ado::{FakeAdo, Options};
use opcat_compiler::agent::http::{Config, Executor, Paging, Secret};
use opcat_compiler::emit;
use opcat_compiler::read::VersionSelect;
use opcat_compiler::render::{self, RenderOptions};
use opcat_runtime::Catalog;
use serde_json::{Value as Json, json};

/// A token planted to be looked for in every output.
const TOKEN: &str = "planted-PAT-7f3a9c2e51d04b8e";

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    catalog: Catalog,
    fake: FakeAdo,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let build = common::build(common::azure_specs(), VersionSelect::Latest);
        let contracts = render::render_catalog(&build.catalog, &RenderOptions::default());
        let bytes = emit::artifact(&build.catalog, &contracts, "azure-devops", "test").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("azure-devops.opcat");
        std::fs::write(&path, &bytes).unwrap();
        let catalog = Catalog::from_bytes(&bytes).unwrap();
        let routes = fake_ado::routes(&catalog, &common::azure_specs());
        let fake = FakeAdo::start(routes, TOKEN, Options::default());
        Fixture {
            _dir: dir,
            path,
            catalog,
            fake,
        }
    })
}

fn config(base_url: &str) -> Config {
    Config {
        organization: Some("fabrikam".into()),
        service: None,
        base_url: Some(base_url.into()),
        token: Some(Secret::new(TOKEN)),
        ..Config::default()
    }
}

fn assert_no_token(what: &str, text: &str) {
    fake_ado::assert_no_token(TOKEN, what, text);
}

/// Every cloud operation with a recorded 2xx example, called through the executor with
/// the example's parameters, gets the recorded body back from the fake server. This runs
/// preparation (validation, encoding, api-version, host) and sending on real data.
#[test]
fn every_recorded_example_round_trips() {
    let f = fixture();
    // A server of its own: the requests it sees are this test's only.
    let fake = FakeAdo::start(f.fake.routes.to_vec(), TOKEN, Options::default());
    let executor = Executor::new(config(&fake.base_url));
    let mut ok = 0;
    let mut failures = Vec::new();
    for route in f.fake.routes.iter() {
        let op = f.catalog.operation(&route.op_id).unwrap();
        let args = fake_ado::args_from_example(&op, &route.parameters);
        match executor.call(&f.catalog, op.id(), &args, Paging::default()) {
            Ok(r) => {
                let expected = fake_ado::expected_body(route);
                if r.body == expected {
                    ok += 1;
                } else {
                    // Another example of the same operation may have answered: routes are
                    // matched by recorded path values, which several examples can share.
                    let same_op = f
                        .fake
                        .routes
                        .iter()
                        .filter(|o| o.op_id == route.op_id)
                        .any(|o| fake_ado::expected_body(o) == r.body);
                    if same_op {
                        ok += 1;
                    } else {
                        failures.push(format!(
                            "{}: {}: other body (answered as {:?}): {}",
                            route.op_id,
                            route.file,
                            fake.seen().last().map(|s| (&s.op_id, &s.target)),
                            r.body.to_string().chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
            Err(e) => failures.push(format!("{}: {}: {e}", route.op_id, route.file)),
        }
    }
    eprintln!("{ok} recorded examples round-tripped");
    // 858 on the pinned specs, the 303 whose file names differ in case from the spec's
    // reference included.
    assert!(ok >= 850, "only {ok} examples round-tripped");
    // Recordings whose parameters contradict the spec: preparation must refuse them.
    let known_bad = [
        (
            "memberEntitlementManagement/7.2/httpExamples/GroupEntitlements/PATCH_memberEntitlementManagement_GroupEntitlement.json",
            "argument `ruleOption`: expected one of \"applyGroupRule\", \"testApplyGroupRule\", found \"1\"",
        ),
        (
            "test/7.2/httpExamples/Iterations/GET_testmanagement_iterationresults.json",
            "argument `runId`: expected integer, found string",
        ),
        (
            "test/7.2/httpExamples/Iterations/GET__test__projectName__runs__runId__results_100000_iterations_1_includeActionResults-true.json",
            "argument `runId`: expected integer, found string",
        ),
        (
            "test/7.2/httpExamples/Iterations/GET__test__projectName__runs__runId__results_100000_iterations_1.json",
            "argument `runId`: expected integer, found string",
        ),
    ];
    let unexpected: Vec<&String> = failures
        .iter()
        .filter(|f| {
            !known_bad
                .iter()
                .any(|(file, problem)| f.contains(file) && f.contains(problem))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} of {} failed:\n{}",
        unexpected.len(),
        f.fake.routes.len(),
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        failures.len(),
        known_bad.len(),
        "a known bad recording no longer fails: {failures:#?}"
    );
    let seen = fake.seen();
    assert!(seen.len() >= ok, "{} requests seen", seen.len());
    assert!(
        seen.iter().all(|s| s.header("authorization")
            == Some(&format!("Basic {}", fake_ado::credential(TOKEN)))),
        "a request went without basic auth"
    );
}

fn opcat(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opcat"));
    cmd.args(args)
        .env_remove("AZURE_DEVOPS_PAT")
        .env_remove("AZURE_DEVOPS_ORG")
        .env_remove("AZURE_DEVOPS_SERVICE")
        .env_remove("OPCAT_BASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_no_token("stdout", &String::from_utf8_lossy(&out.stdout));
    assert_no_token("stderr", &String::from_utf8_lossy(&out.stderr));
    out
}

fn env(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AZURE_DEVOPS_PAT", TOKEN.to_string()),
        ("AZURE_DEVOPS_ORG", "fabrikam".to_string()),
        ("OPCAT_BASE_URL", base.to_string()),
    ]
}

fn run(args: &[&str], base: &str) -> Output {
    let e = env(base);
    let pairs: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    opcat(args, &pairs)
}

fn catalog_arg() -> String {
    fixture().path.display().to_string()
}

fn route_of<'a>(f: &'a Fixture, id: &str) -> &'a fake_ado::Route {
    f.fake
        .routes
        .iter()
        .find(|r| r.op_id == id)
        .unwrap_or_else(|| panic!("no recorded example for {id}"))
}

#[test]
fn opcat_call_prints_the_recorded_response() {
    let f = fixture();
    let id = "git.pullRequests.getPullRequestById";
    let route = route_of(f, id);
    let op = f.catalog.operation(id).unwrap();
    let args = fake_ado::args_from_example(&op, &route.parameters).to_string();
    let cat = catalog_arg();
    let out = run(
        &["call", id, "--args", &args, "--catalog", &cat],
        &f.fake.base_url,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, fake_ado::expected_body(route));
    // --json wraps it with the status.
    let out = run(
        &["call", id, "--args", &args, "--catalog", &cat, "--json"],
        &f.fake.base_url,
    );
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], 200);
    assert_eq!(v["body"], fake_ado::expected_body(route));
    // --org wins over the environment, and goes in the path.
    f.fake.clear();
    let out = run(
        &[
            "call",
            id,
            "--args",
            &args,
            "--catalog",
            &cat,
            "--org",
            "other org",
        ],
        &f.fake.base_url,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        f.fake
            .seen()
            .iter()
            .any(|s| s.target.starts_with("/other%20org/")),
        "{:?}",
        f.fake.seen()
    );
}

#[test]
fn argument_problems_exit_3_with_every_problem_and_the_signature() {
    let f = fixture();
    let cat = catalog_arg();
    f.fake.clear();
    let out = run(
        &[
            "call",
            "git.pullRequests.getPullRequestsByProject",
            "--args",
            r#"{"status": "active", "searchCriteria.status": "open", "$top": "ten"}"#,
            "--catalog",
            &cat,
        ],
        &f.fake.base_url,
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4 problems"), "{err}");
    assert!(
        err.contains("unknown argument `status` (did you mean `searchCriteria.status`?)"),
        "{err}"
    );
    assert!(err.contains("missing required argument `project`"), "{err}");
    assert!(
        err.contains("argument `$top`: expected integer, found string"),
        "{err}"
    );
    assert!(err.contains("found \"open\""), "{err}");
    assert!(err.contains("getPullRequestsByProject(args: {"), "{err}");
    // Nothing was sent.
    assert!(
        f.fake
            .seen()
            .iter()
            .all(|s| !s.target.contains("pullrequests")),
        "a request was sent"
    );
    // The same as JSON.
    let out = run(
        &[
            "call",
            "git.pullRequests.getPullRequestsByProject",
            "--args",
            r#"{"project": 3}"#,
            "--catalog",
            &cat,
            "--json",
        ],
        &f.fake.base_url,
    );
    assert_eq!(out.status.code(), Some(3));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "arguments");
    assert_eq!(
        v["error"]["problems"],
        json!(["argument `project`: expected string, found integer"])
    );
    assert!(
        v["error"]["signature"]
            .as_str()
            .unwrap()
            .contains("getPullRequestsByProject")
    );
    // Unknown operation: exit 1.
    let out = run(&["call", "no.such.op", "--catalog", &cat], &f.fake.base_url);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn server_errors_show_status_and_message() {
    let f = fixture();
    let cat = catalog_arg();
    // A pull request id nothing was recorded for: the fake answers 404 with a message.
    let out = run(
        &[
            "call",
            "git.pullRequests.getPullRequestById",
            "--args",
            r#"{"project": "Fabrikam", "pullRequestId": 987654}"#,
            "--catalog",
            &cat,
        ],
        &f.fake.base_url,
    );
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 404"), "{err}");
    assert!(
        err.contains("fake Azure DevOps: no recorded example for GET /fabrikam/Fabrikam/_apis/git/pullrequests/987654"),
        "{err}"
    );
    // A wrong token: 401 and the server's message, the token still not shown.
    let out = opcat(
        &[
            "call",
            "git.pullRequests.getPullRequestById",
            "--args",
            r#"{"project": "Fabrikam", "pullRequestId": 22}"#,
            "--catalog",
            &cat,
            "--json",
        ],
        &[
            ("AZURE_DEVOPS_PAT", "wrong-token"),
            ("AZURE_DEVOPS_ORG", "fabrikam"),
            ("OPCAT_BASE_URL", &f.fake.base_url),
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], 401);
    assert!(
        v["error"]["serverMessage"]
            .as_str()
            .unwrap()
            .contains("TF400813")
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("wrong-token"));
}

#[test]
fn configuration_errors_exit_2_and_send_nothing() {
    let f = fixture();
    let cat = catalog_arg();
    let args = r#"{"project": "Fabrikam", "pullRequestId": 22}"#;
    let id = "git.pullRequests.getPullRequestById";
    // No token.
    let out = opcat(
        &["call", id, "--args", args, "--catalog", &cat, "--org", "f"],
        &[("OPCAT_BASE_URL", &f.fake.base_url)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AZURE_DEVOPS_PAT"));
    // No organization.
    let out = opcat(
        &["call", id, "--args", args, "--catalog", &cat],
        &[
            ("AZURE_DEVOPS_PAT", TOKEN),
            ("OPCAT_BASE_URL", &f.fake.base_url),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AZURE_DEVOPS_ORG"));
    // A base URL that is not loopback is refused before anything is sent.
    let out = run(
        &["call", id, "--args", args, "--catalog", &cat],
        "http://192.0.2.1:80",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only loopback"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Bad --args JSON.
    let out = run(
        &["call", id, "--args", "[1]", "--catalog", &cat],
        &f.fake.base_url,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dry_run_shows_the_request_without_the_token() {
    let f = fixture();
    let cat = catalog_arg();
    let out = run(
        &[
            "call",
            "git.pullRequests.getPullRequestById",
            "--args",
            r#"{"project": "../../_apis/x", "pullRequestId": 22}"#,
            "--catalog",
            &cat,
            "--dry-run",
            "--json",
        ],
        &f.fake.base_url,
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    let url = v["request"]["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "{}/fabrikam/..%2F..%2F_apis%2Fx/_apis/git/pullrequests/22?api-version={}",
            f.fake.base_url,
            f.catalog
                .operation("git.pullRequests.getPullRequestById")
                .unwrap()
                .api_version()
                .unwrap()
        )
    );
}

#[test]
fn all_pages_follows_continuation_tokens() {
    let f = fixture();
    let cat = catalog_arg();
    let id = "distributedTask.taskAgent.targets.list";
    let route = f
        .fake
        .routes
        .iter()
        .find(|r| {
            r.file
                .ends_with("targets/GET__distributedtask_DeploymentTargets__Page_.json")
        })
        .unwrap();
    assert_eq!(route.op_id, id);
    // A server answering with this recording only (other examples share the path).
    let fake = FakeAdo::start(vec![route.clone()], TOKEN, Options::default());
    assert!(
        route
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-ms-continuationtoken")),
        "the recorded example has a continuation token"
    );
    let op = f.catalog.operation(id).unwrap();
    let args = fake_ado::args_from_example(&op, &route.parameters).to_string();
    let recorded = fake_ado::expected_body(route);
    let n = recorded["value"].as_array().unwrap().len();
    // One page: the token is reported, not followed.
    let out = run(
        &["call", id, "--args", &args, "--catalog", &cat, "--json"],
        &fake.base_url,
    );
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pages"], 1);
    assert_eq!(v["continuationToken"], "demoTarget2");
    assert_eq!(v["body"], recorded);
    // All pages: the second request carries the token; values are merged.
    fake.clear();
    let out = run(
        &[
            "call",
            id,
            "--args",
            &args,
            "--catalog",
            &cat,
            "--all-pages",
            "--json",
        ],
        &fake.base_url,
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pages"], 2);
    assert_eq!(v["continuationToken"], Json::Null);
    assert_eq!(v["body"]["value"].as_array().unwrap().len(), 2 * n);
    assert_eq!(v["body"]["count"], 2 * n);
    let seen = fake.seen();
    let targets: Vec<&str> = seen
        .iter()
        .filter(|s| s.op_id.as_deref() == Some(id))
        .map(|s| s.target.as_str())
        .collect();
    assert_eq!(targets.len(), 2, "{targets:?}");
    assert!(!targets[0].contains("continuationToken"));
    assert!(
        targets[1].contains("continuationToken=demoTarget2"),
        "{targets:?}"
    );
}

#[test]
fn a_hostile_server_cannot_make_the_token_appear() {
    let f = fixture();
    let routes: Vec<_> = f.fake.routes.iter().cloned().collect();
    let echo = FakeAdo::start(
        routes,
        TOKEN,
        Options {
            echo_auth: true,
            ..Options::default()
        },
    );
    let cat = catalog_arg();
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec![
            "call",
            "git.pullRequests.getPullRequestById",
            "--args",
            r#"{"project": "Fabrikam", "pullRequestId": 22}"#,
            "--catalog",
            &cat,
        ];
        args.extend_from_slice(extra);
        // `run` asserts stdout and stderr hold neither the token nor its credential.
        let out = run(&args, &echo.base_url);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\"_echo\": \"Basic ***\""), "{text}");
    }
    // An error body echoing it, too.
    let out = run(
        &[
            "call",
            "git.pullRequests.getPullRequestById",
            "--args",
            r#"{"project": "Fabrikam", "pullRequestId": 5}"#,
            "--catalog",
            &cat,
        ],
        &echo.base_url,
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Basic ***"));
    // Debug formatting of the configuration and of the executor.
    let config = config(&echo.base_url);
    assert_no_token("Config debug", &format!("{config:?}"));
    assert_no_token(
        "Executor debug",
        &format!("{:?}", Executor::new(config.clone())),
    );
}

#[test]
fn prepare_agrees_with_every_contract() {
    // Every argument preparation accepts is named in the operation's signature, and so is
    // the body argument.
    let f = fixture();
    let mut checked = 0;
    for op in f.catalog.operations() {
        let sig = op.signature();
        for p in opcat_runtime::prepare::arguments(&op) {
            let quoted = format!("\"{}\"", p.name);
            assert!(
                sig.contains(&format!("{}?:", p.name))
                    || sig.contains(&format!("{}:", p.name))
                    || sig.contains(&quoted),
                "{}: argument {} not in the signature\n{sig}",
                op.id(),
                p.name
            );
            checked += 1;
        }
        if let Some(b) = opcat_runtime::prepare::body_arg(&op) {
            assert!(sig.contains(&format!("  {b}")), "{}: {b}\n{sig}", op.id());
        }
    }
    assert!(checked > 3000, "{checked}");
}

#[test]
fn agent_tool_answers_fit_their_budget_and_lead_to_a_call() {
    use opcat_compiler::agent::tools;
    use opcat_compiler::render::measure::count_tokens;
    let f = fixture();
    for (query, area, expect) in [
        (
            "get a pull request by its id",
            Some("git"),
            "git.pullRequests.getPullRequestById",
        ),
        (
            "list projects in the organization",
            None,
            "core.projects.list",
        ),
        ("create a work item", Some("wit"), "wit.workItems.create"),
    ] {
        let queries = [query.to_string()];
        for budget in [300, tools::SEARCH_BUDGET] {
            let text = tools::search_text(&f.catalog, &queries, area, Some(10), budget).unwrap();
            assert!(
                count_tokens(&text) <= budget,
                "{query}: {} tokens > {budget}\n{text}",
                count_tokens(&text)
            );
            assert!(text.contains(expect), "{query} (budget {budget}):\n{text}");
        }
        // With the default budget the expected hit carries its declaration as a program
        // calls it, on one line.
        let text =
            tools::search_text(&f.catalog, &queries, area, Some(10), tools::SEARCH_BUDGET).unwrap();
        let line = text
            .lines()
            .skip_while(|l| !l.starts_with(expect))
            .nth(1)
            .unwrap_or_default();
        assert!(
            line.trim_start().starts_with(&format!("api.{expect}(")) && !line.contains("/**"),
            "{query}: {line}"
        );
    }
    let contract =
        tools::contract_text(&f.catalog, "git.pullRequests.getPullRequestById", &[]).unwrap();
    assert!(contract.starts_with(
        "// git.pullRequests.getPullRequestById: GET https://dev.azure.com/{organization}/{project}/_apis/git/pullrequests/{pullRequestId}"
    ), "{contract}");
    assert!(contract.contains("interface GitPullRequest"));
    assert!(tools::contract_text(&f.catalog, "no.such.op", &[]).is_none());
}

/// `opcat show X | head` closes the pipe before the output ends: the process must end
/// quietly (SIGPIPE), not panic in `println!`.
#[test]
fn closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    let cat = catalog_arg();
    for args in [
        vec![
            "show",
            "git.pullRequests.getPullRequestsByProject",
            "--catalog",
            &cat,
        ],
        vec!["search", "pull requests", "--json", "--catalog", &cat],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_opcat"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before the first write.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
    }
}

/// `opcat search q1 q2 --json`: JSON Lines, one `schemas/search.schema.json` object per
/// query, each operation once over all of them (`Catalog::search_many`).
#[test]
fn several_queries_print_json_lines_with_each_operation_once() {
    let cat = catalog_arg();
    let out = Command::new(env!("CARGO_BIN_EXE_opcat"))
        .args([
            "search",
            "list repositories",
            "get a repository",
            "--json",
            "--limit",
            "4",
            "--catalog",
            &cat,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["query"], "list repositories");
    assert_eq!(lines[1]["query"], "get a repository");
    let mut ids = std::collections::BTreeSet::new();
    for l in &lines {
        let hits = l["hits"].as_array().unwrap();
        assert_eq!(hits.len(), 4, "{l}");
        for h in hits {
            assert!(
                ids.insert(h["id"].as_str().unwrap().to_string()),
                "{h} twice"
            );
        }
    }
}
