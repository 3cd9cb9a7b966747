//! `opcat exec` end to end against the fake Azure DevOps replaying recorded examples: the
//! chained programs of tests/common/programs.rs, then every limit (time with host calls
//! included, CPU loops, memory, stack, calls, calls in flight, output size) and every
//! isolation rule (globals, modules, token, hosts, read-only, on-premises server URL),
//! each tested from inside a program.

mod common;
#[path = "common/fake_ado.rs"]
mod fake_ado;
#[path = "common/programs.rs"]
mod programs;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

use fake_ado::{FakeAdo, Options};
use opcat_compiler::emit;
use opcat_compiler::read::VersionSelect;
use opcat_compiler::render::{self, RenderOptions};
use opcat_runtime::Catalog;
use serde_json::{Value as Json, json};

/// A token planted to be looked for in every output.
const TOKEN: &str = "planted-PAT-5b1e0c7d93aa4f26";

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    routes: Vec<fake_ado::Route>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        // The catalog a user builds: with its embedding index, so search is hybrid.
        let build = common::build(common::azure_specs(), VersionSelect::Latest);
        let (bytes, _) = common::dense_artifact(&build);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("azure-devops.opcat");
        std::fs::write(&path, &bytes).unwrap();
        let catalog = Catalog::from_bytes(&bytes).unwrap();
        let routes = fake_ado::routes(&catalog, &common::azure_specs());
        Fixture {
            _dir: dir,
            path,
            routes,
        }
    })
}

/// A fake of its own for one test (the requests it sees are that test's only), whose path
/// values match any value so that ids flow from one recorded answer into the next call.
fn fake(options: Options) -> FakeAdo {
    FakeAdo::start(
        fixture().routes.clone(),
        TOKEN,
        Options {
            any_path_value: true,
            ..options
        },
    )
}

fn assert_no_token(what: &str, text: &str) {
    fake_ado::assert_no_token(TOKEN, what, text);
}

/// Runs `opcat exec --json` with `code` on stdin against `base` (the fake's URL, or none).
fn exec(code: &str, base: Option<&str>, extra: &[&str]) -> (Output, Json) {
    exec_with(code, base, extra, &fixture().path)
}

fn exec_with(code: &str, base: Option<&str>, extra: &[&str], catalog: &Path) -> (Output, Json) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opcat"));
    cmd.arg("exec")
        .arg("--json")
        .arg("--catalog")
        .arg(catalog)
        .args(["--org", "fabrikam"])
        .args(extra)
        .env_remove("AZURE_DEVOPS_ORG")
        .env_remove("AZURE_DEVOPS_SERVICE")
        .env_remove("AZURE_DEVOPS_SERVER_URL")
        .env_remove("OPCAT_BASE_URL")
        .env("AZURE_DEVOPS_PAT", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(base) = base {
        cmd.env("OPCAT_BASE_URL", base);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_token("stdout", &stdout);
    assert_no_token("stderr", &stderr);
    let answer: Json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("exec --json printed no JSON ({e}):\n{stdout}\n{stderr}"));
    (out, answer)
}

fn call_ids(answer: &Json) -> Vec<String> {
    answer["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn limit_of(answer: &Json) -> Option<&str> {
    answer.pointer("/error/limit").and_then(Json::as_str)
}

#[test]
fn chained_programs_run_end_to_end() {
    let mut failures = Vec::new();
    for chain in programs::CHAINS {
        let fake = fake(Options::default());
        let (out, answer) = exec(chain.code, Some(&fake.base_url), &[]);
        if !out.status.success() {
            failures.push(format!(
                "{}: exit {:?}: {}",
                chain.name,
                out.status.code(),
                answer
            ));
            continue;
        }
        let seen = fake.seen();
        let answered: Vec<programs::Answered> = seen
            .iter()
            .map(|s| programs::Answered {
                op_id: s.op_id.as_deref().unwrap_or("(none)"),
                target: &s.target,
                body: &s.body,
                answered: s.answered.as_ref().unwrap_or(&Json::Null),
            })
            .collect();
        if let Err(e) = programs::check(chain, &answer["result"], &call_ids(&answer), &answered) {
            failures.push(format!("{}: {e}", chain.name));
        }
        // Every call is listed with its method, status and time.
        for c in answer["calls"].as_array().unwrap() {
            assert!(
                c["status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s)),
                "{c}"
            );
            assert!(c["method"].is_string() && c["ms"].is_u64(), "{c}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_cli_prints_the_result_and_documents_exit_codes() {
    let fake = fake(Options::default());
    let out = Command::new(env!("CARGO_BIN_EXE_opcat"))
        .args(["exec", "--catalog"])
        .arg(&fixture().path)
        .args(["--org", "fabrikam"])
        .env("AZURE_DEVOPS_PAT", TOKEN)
        .env("OPCAT_BASE_URL", &fake.base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(
                b"const p = await api.core.projects.list({}); console.log('n', p.count); \
                  return p.value.map(x => x.name);",
            )?;
            c.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let names: Json = serde_json::from_str(&stdout).unwrap();
    assert!(names.as_array().is_some_and(|a| !a.is_empty()), "{names}");
    assert!(
        stderr.contains("call GET core.projects.list -> 200"),
        "{stderr}"
    );
    assert!(
        stderr.contains("n "),
        "console lines go to stderr: {stderr}"
    );
    let help = Command::new(env!("CARGO_BIN_EXE_opcat"))
        .args(["exec", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for code in [
        "0  the program returned",
        "1  the program failed",
        "3  a limit",
    ] {
        assert!(
            help.contains(code),
            "exit code {code:?} undocumented:\n{help}"
        );
    }
}

#[test]
fn errors_carry_the_programs_line_every_problem_and_the_status() {
    let fake = fake(Options::default());
    // A syntax error: line and column, exit 1, nothing sent.
    let (out, answer) = exec("const a = 1;\nconst b = ;", Some(&fake.base_url), &[]);
    assert_eq!(out.status.code(), Some(1), "{answer}");
    assert_eq!(answer["error"]["name"], "SyntaxError", "{answer}");
    assert_eq!(answer["error"]["line"], 2, "{answer}");
    // Argument problems: every one, with the signature, as a catchable Error; nothing sent.
    let code = "try {\n  await api.git.pullRequests.getPullRequests({ repositoryId: 7, bogus: 1 });\n\
                } catch (e) { return { message: e.message, status: e.status ?? null }; }";
    let (out, answer) = exec(code, Some(&fake.base_url), &[]);
    assert!(out.status.success(), "{answer}");
    let message = answer["result"]["message"].as_str().unwrap();
    for part in ["project", "repositoryId", "bogus", "getPullRequests(args"] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    // An HTTP error rejects with `status`; uncaught, it fails the run at the program's line.
    let code = "const r = await api.core.projects.list({});\n\
                await api.wit.workItems.getWorkItem({ project: 'p', id: 1, $expand: 'all' });";
    let broken = FakeAdo::start(vec![], TOKEN, Options::default());
    let (out, answer) = exec(code, Some(&broken.base_url), &[]);
    assert_eq!(out.status.code(), Some(1), "{answer}");
    assert_eq!(answer["error"]["status"], 404, "{answer}");
    assert_eq!(
        answer["error"]["line"], 1,
        "the first call failed first: {answer}"
    );
    // An unknown id names the nearest ids.
    let (_, answer) = exec(
        "return await api.git.repositories.lst({project: 'p'});",
        Some(&fake.base_url),
        &[],
    );
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("git.repositories.list"), "{answer}");
    assert!(
        fake.seen().is_empty(),
        "nothing may be sent: {:?}",
        fake.seen()
    );
}

#[test]
fn continuation_tokens_can_be_followed_from_a_program() {
    // The recorded git.refs.list example carries a continuation token: the fake answers it
    // again, without the token, when the program passes it back.
    let route = fixture()
        .routes
        .iter()
        .find(|r| {
            r.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("x-ms-continuationtoken"))
        })
        .expect("a recorded example with a continuation token");
    let id = route.op_id.clone();
    let fake = FakeAdo::start(vec![route.clone()], TOKEN, Options::default());
    let catalog = Catalog::read(&fixture().path).unwrap();
    let op = catalog.operation(&id).unwrap();
    let args = fake_ado::args_from_example(&op, &route.parameters);
    let code = format!(
        "const args = {args};\nlet pages = 0, token;\n\
         do {{\n  const r = await api.{id}(token ? {{ ...args, continuationToken: token }} : args);\n\
           pages++; token = r.continuationToken;\n}} while (token && pages < 5);\n\
         const all = await api.{id}(args, {{ allPages: true }});\n\
         return {{ pages, token: token ?? null, all: typeof all }};"
    );
    let (out, answer) = exec(&code, Some(&fake.base_url), &[]);
    assert!(out.status.success(), "{answer}");
    assert_eq!(answer["result"]["pages"], 2, "{answer}");
    assert_eq!(answer["result"]["token"], Json::Null, "{answer}");
    assert_eq!(
        call_ids(&answer).len(),
        3,
        "two pages, then allPages: {answer}"
    );
}

#[test]
fn limits_stop_the_run_say_which_and_keep_logs_and_calls() {
    let fake = fake(Options::default());
    let base = Some(fake.base_url.as_str());
    // A CPU loop after a call: stopped by the interrupt handler at the wall-time limit.
    let (out, answer) = exec(
        "await api.core.projects.list({}); console.log('looping'); while (true) {}",
        base,
        &["--timeout-ms", "300"],
    );
    assert_eq!(out.status.code(), Some(3), "{answer}");
    assert_eq!(limit_of(&answer), Some("timeout"), "{answer}");
    assert_eq!(answer["logs"], json!(["looping"]), "{answer}");
    assert_eq!(call_ids(&answer), ["core.projects.list"], "{answer}");
    // Memory.
    let (out, answer) = exec(
        "const a = []; while (true) a.push(new Array(100000).fill('x'));",
        base,
        &["--memory-mb", "16"],
    );
    assert_eq!(out.status.code(), Some(3), "{answer}");
    assert_eq!(limit_of(&answer), Some("memory"), "{answer}");
    // Stack.
    let (out, answer) = exec(
        "function down(n) { return down(n + 1) + 1; } return down(0);",
        base,
        &["--stack-kb", "256"],
    );
    assert_eq!(out.status.code(), Some(3), "{answer}");
    assert_eq!(limit_of(&answer), Some("stack"), "{answer}");
    // Calls per run: the fourth call is refused, the three made are listed.
    let (out, answer) = exec(
        "for (let i = 0; i < 10; i++) await api.core.projects.list({});",
        base,
        &["--max-calls", "3"],
    );
    assert_eq!(out.status.code(), Some(3), "{answer}");
    assert_eq!(limit_of(&answer), Some("calls"), "{answer}");
    assert_eq!(call_ids(&answer).len(), 3, "{answer}");
    // Output size: a long array is cut, with a note, and stays JSON.
    let (out, answer) = exec(
        "return Array.from({ length: 5000 }, (_, i) => ({ id: i, name: 'item ' + i }));",
        base,
        &["--output-tokens", "400"],
    );
    assert!(out.status.success(), "{answer}");
    let items = answer["result"].as_array().unwrap();
    assert!(items.len() < 100, "{} items kept", items.len());
    assert!(
        items.iter().any(|v| v.to_string().contains("left out")),
        "{answer}"
    );
    assert!(!answer["notes"].as_array().unwrap().is_empty(), "{answer}");
}

#[test]
fn wall_time_counts_host_calls_and_calls_in_flight_are_bounded() {
    // A slow server: each answer takes 400 ms.
    let slow = fake(Options {
        delay_ms: 400,
        ..Options::default()
    });
    let (out, answer) = exec(
        "console.log('before'); return await api.core.projects.list({});",
        Some(&slow.base_url),
        &["--timeout-ms", "150"],
    );
    assert_eq!(out.status.code(), Some(3), "{answer}");
    assert_eq!(limit_of(&answer), Some("timeout"), "{answer}");
    assert_eq!(answer["logs"], json!(["before"]), "{answer}");
    // Six calls with Promise.all and at most two in flight: they overlap, two at a time.
    let slow = fake(Options {
        delay_ms: 300,
        ..Options::default()
    });
    let (out, answer) = exec(
        "const r = await Promise.all([1, 2, 3, 4, 5, 6].map(() => api.core.projects.list({})));\n\
         return r.length;",
        Some(&slow.base_url),
        &["--max-in-flight", "2"],
    );
    assert!(out.status.success(), "{answer}");
    assert_eq!(answer["result"], 6);
    assert_eq!(
        slow.max_in_flight.load(Ordering::SeqCst),
        2,
        "Promise.all must run calls concurrently, at most two at once"
    );
}

#[test]
fn a_program_reaches_nothing_but_the_builtins_console_and_api() {
    let fake = fake(Options::default());
    let code = r#"
const names = ["fetch", "require", "process", "std", "os", "setTimeout", "setInterval",
  "XMLHttpRequest", "WebSocket", "Deno", "Bun", "module", "exports", "scriptArgs", "print"];
const present = names.filter((n) => typeof globalThis[n] !== "undefined");
let imported = "no";
try { await import("os"); imported = "os"; } catch (e) {}
try { await import("https://example.com/x.js"); imported = "url"; } catch (e) {}
// Nothing in the sandbox holds the token: every string reachable from the globals.
const seen = new Set();
const strings = [];
const walk = (v, depth) => {
  if (depth > 4 || v === null || seen.has(v)) return;
  if (typeof v === "string") { strings.push(v); return; }
  if (typeof v !== "object" && typeof v !== "function") return;
  seen.add(v);
  for (const k of Object.getOwnPropertyNames(v)) {
    try { walk(v[k], depth + 1); } catch (e) {}
  }
};
walk(globalThis, 0);
const projects = await api.core.projects.list({});
walk(projects, 0);
return { present, imported, strings: strings.join("\n").length, hasPat: strings.some((s) => s.includes("PAT")) };
"#;
    let (out, answer) = exec(code, Some(&fake.base_url), &[]);
    assert!(out.status.success(), "{answer}");
    assert_eq!(answer["result"]["present"], json!([]), "{answer}");
    assert_eq!(answer["result"]["imported"], "no", "{answer}");
    assert_eq!(answer["result"]["hasPat"], false, "{answer}");
    // The token went to the server, and only there.
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Basic {}", fake_ado::credential(TOKEN)).as_str())
    );
}

#[test]
fn arguments_cannot_redirect_requests_to_other_hosts() {
    let fake = fake(Options::default());
    // A path value that looks like a URL, or climbs: encoded into its segment, sent to the
    // declared host (here the fake), never used as a host.
    let code = r#"
const out = [];
for (const project of ["https://evil.example/x", "../../evil", "a/b?c=d#e"]) {
  try { await api.git.repositories.list({ project }); out.push("sent"); }
  catch (e) { out.push(e.status ?? e.message); }
}
return out;
"#;
    let (out, answer) = exec(code, Some(&fake.base_url), &[]);
    assert!(out.status.success(), "{answer}");
    let seen = fake.seen();
    assert_eq!(seen.len(), 3, "{answer}");
    for s in &seen {
        let path = s.target.split('?').next().unwrap();
        assert!(
            path.starts_with("/fabrikam/") && path.ends_with("/_apis/git/repositories"),
            "{}",
            s.target
        );
        assert_eq!(
            path.split('/').count(),
            6,
            "the value stayed one segment: {path}"
        );
        assert!(!path.contains("//") && !path.contains("/../"), "{path}");
    }
}

#[test]
fn read_only_refuses_writes_before_sending() {
    let fake = fake(Options::default());
    let chain = programs::CHAINS
        .iter()
        .find(|c| c.name == "create-work-item-then-comment")
        .unwrap();
    let (out, answer) = exec(chain.code, Some(&fake.base_url), &["--read-only"]);
    assert_eq!(out.status.code(), Some(1), "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("read-only") && message.contains("wit.workItems.create"),
        "{message}"
    );
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());
    // Reads still go.
    let (out, answer) = exec(
        "return (await api.core.projects.list({})).count;",
        Some(&fake.base_url),
        &["--read-only"],
    );
    assert!(out.status.success(), "{answer}");
}

/// A server that answers every request with `{"count": 0, "value": []}` and records the
/// request line and Host header.
fn recording_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            log.lock().unwrap().push(head);
            let body = br#"{"count":0,"value":[]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
            let _ = reader.read(&mut [0; 1]);
        }
    });
    (url, seen)
}

#[test]
fn on_premises_operations_go_to_the_configured_collection_only() {
    // A catalog of one area whose only version is an on-premises one (in a catalog of
    // every version, an id names the newest, cloud, version).
    let specs = tempfile::tempdir().unwrap();
    let area = specs.path().join("core");
    std::fs::create_dir(&area).unwrap();
    let version = "azure-devops-server-7.1";
    std::os::unix::fs::symlink(
        common::azure_specs().join("core").join(version),
        area.join(version),
    )
    .unwrap();
    let build = common::build(specs.path().to_path_buf(), VersionSelect::All);
    let contracts = render::render_catalog(&build.catalog, &RenderOptions::default());
    let bytes = emit::artifact(&build.catalog, &contracts, "azure-devops", "test").unwrap();
    let catalog = Catalog::from_bytes(&bytes).unwrap();
    let on_prem = catalog
        .operations()
        .find(|o| o.on_premises() && o.id().contains("projects.list"))
        .expect("an on-premises projects.list");
    let id = on_prem.id().to_string();
    let path = specs.path().join("core.opcat");
    std::fs::write(&path, &bytes).unwrap();
    let code = format!("return (await api.{id}({{}})).count;");
    // Without a server URL: refused, naming the flag.
    let (out, answer) = exec_with(&code, None, &[], &path);
    assert_eq!(out.status.code(), Some(1), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--server-url"),
        "{answer}"
    );
    // With one: that origin and collection, the token as basic auth.
    let (url, seen) = recording_server();
    let collection = format!("{url}/tfs/DefaultCollection");
    let (out, answer) = exec_with(&code, None, &["--server-url", &collection], &path);
    assert!(out.status.success(), "{answer}");
    assert_eq!(answer["result"], 0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("GET /tfs/DefaultCollection/_apis/projects?"),
        "{}",
        seen[0]
    );
    let host = url.trim_start_matches("http://");
    assert!(
        seen[0]
            .to_ascii_lowercase()
            .contains(&format!("host: {host}")),
        "{}",
        seen[0]
    );
}

/// Steps whose operation search does not yet put in its declared top 3 for the chain's
/// query (sibling and vocabulary misses: issue 13). The test fails when one is found, so
/// the list only shrinks.
const KNOWN_MISSES: &[(&str, &str)] = &[
    // "get several work items by their ids": `workItems.list` is summarised "Returns a
    // list of work items", which shares few words with the query.
    ("wiql-then-work-items", "wit.workItems.list"),
];

#[test]
fn one_search_answer_declares_every_operation_a_chain_calls() {
    // What the model sees before it writes the program: one `search` with one query per
    // step must declare each operation (`api.<id>(args): Promise<R>`) and its result's key
    // fields, within the default search budget.
    let catalog = Catalog::read(&fixture().path).unwrap();
    let mut failures = Vec::new();
    let mut golden = String::new();
    for chain in programs::CHAINS {
        let queries: Vec<String> = chain.search.iter().map(|q| q.to_string()).collect();
        let text = opcat_compiler::agent::tools::search_text(
            &catalog,
            &queries,
            None,
            None,
            opcat_compiler::agent::tools::SEARCH_BUDGET,
        )
        .unwrap();
        for op in chain.ops {
            let declared = text.contains(&format!("  api.{op}("));
            let known = KNOWN_MISSES.contains(&(chain.name, *op));
            if declared == known {
                failures.push(if known {
                    format!(
                        "{}: {op} is declared now: take it off KNOWN_MISSES",
                        chain.name
                    )
                } else {
                    format!("{}: no declaration of {op} in:\n{text}", chain.name)
                });
            }
        }
        if chain.name == "repositories-then-active-pull-requests" {
            golden = text;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    expect_test::expect_file!["golden/search-answer.txt"].assert_eq(&golden);
}
