//! Soak: the real `opcat serve` binary, spoken to in MCP JSON-RPC over its stdin/stdout,
//! answers thousands of sequential and then pipelined (many in flight) `search`,
//! `contract` and `call` requests (calls go to the fake Azure DevOps on loopback), every
//! one correctly, with flat memory: VmRSS is read from /proc before and after and printed.

mod common;
#[path = "common/fake_ado.rs"]
mod fake_ado;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use fake_ado::{FakeAdo, Options};
use opcat_compiler::agent::tools::{self, MAX_CALL_CHARS, SEARCH_BUDGET};
use opcat_compiler::read::VersionSelect;
use opcat_compiler::to_value;
use opcat_runtime::Catalog;
use opcat_runtime::prepare::Target;
use serde_json::{Value as Json, json};

const TOKEN: &str = "planted-SOAK-PAT-91b7e3d05c2a";
const WARM_UP: usize = 200;
const SEQUENTIAL: usize = 3_000;
/// Requests written before any of their answers is read.
const IN_FLIGHT: usize = 64;
/// Pipelined batches (1,024 requests) before the pipelined phase is measured: 64 requests
/// at once make the server start more threads (tokio's blocking pool runs each `call`),
/// each with its own stack and allocator heap, and keep more buffers alive at once. Its
/// RSS climbs for several hundred requests to a plateau (measured: +40 to +60 MB over the
/// sequential figure, then within a few MB), a one-time cost a sequential warm-up never
/// pays; the bound below is checked from the plateau.
const PIPELINED_WARM_UP: usize = 16;
const PIPELINED_BATCHES: usize = 47; // measured: 47 x 64 = 3,008 requests
/// Longest wait for one answer: far above any real one, so a hang fails instead of hanging.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// What an answer must be.
#[derive(Debug, Clone)]
enum Expect {
    /// A successful tool result with exactly this text (what the in-process tool gives).
    Exact(String),
    /// A successful tool result whose text contains this.
    Contains(String),
    /// A successful `call` whose JSON is one of these recorded bodies.
    Body(Vec<Json>),
    /// A tool error (`isError: true`) whose text contains this.
    ToolError(String),
}

/// The request mix: searches (with and without filters, and one matching nothing) and
/// contracts, each expected to be exactly what the in-process tool answers, calls answered by the fake, and the tool errors an agent provokes (bad
/// arguments, unknown ids, a 404 from the server).
struct Mix {
    searches: Vec<(Json, Expect)>,
    contracts: Vec<(Json, Expect)>,
    calls: Vec<(Json, Expect)>,
    errors: Vec<(&'static str, Json, Expect)>,
}

impl Mix {
    fn new(catalog: &Catalog, routes: &[fake_ado::Route]) -> Mix {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/queries.jsonl"),
        )
        .unwrap();
        let areas = [None, Some("git"), Some("wit"), Some("build")];
        let mut searches = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let v: Json = serde_json::from_str(line).unwrap();
            let query = v["query"].as_str().unwrap();
            let limit = 1 + i % 10;
            let area = areas[i % areas.len()];
            let mut args = json!({"query": query, "limit": limit});
            if let Some(a) = area {
                args["area"] = json!(a);
            }
            let want = tools::search_text(
                catalog,
                &[query.to_string()],
                area,
                Some(limit),
                SEARCH_BUDGET,
            )
            .unwrap();
            searches.push((args, Expect::Exact(want)));
        }
        searches.push((
            json!({"query": "zzzz qqqq", "area": "nosuch"}),
            Expect::Contains("No operation matches".into()),
        ));
        searches.push((
            json!({"query": "get a pull request by its id", "area": "git", "limit": 5}),
            Expect::Contains("git.pullRequests.getPullRequestById".into()),
        ));
        let contracts = catalog
            .operations()
            .step_by(7)
            .map(|op| {
                let want = tools::contract_text(catalog, op.id(), &[]).unwrap();
                (json!({"id": op.id()}), Expect::Exact(want))
            })
            .collect();
        // GET examples with a JSON body small enough to come back whole and no paging note.
        let by_op = fake_ado::by_op(routes);
        let target = Target {
            organization: Some("fabrikam".into()),
            ..Target::default()
        };
        let calls: Vec<(Json, Expect)> = routes
            .iter()
            .filter(|r| r.method == "GET" && (200..300).contains(&r.status))
            .filter(|r| {
                !r.headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("x-ms-continuationtoken"))
            })
            .filter(|r| {
                r.body.as_ref().is_some_and(|b| {
                    b.is_object() && serde_json::to_string(b).unwrap().len() < MAX_CALL_CHARS
                })
            })
            .filter_map(|r| {
                let op = catalog.operation(&r.op_id).unwrap();
                let args = fake_ado::args_from_example(&op, &r.parameters);
                // A few recordings contradict their spec (tests/call.rs lists them):
                // preparation refuses them, so they are no calls that must succeed.
                op.prepare(&to_value(&args), &target).ok()?;
                // Several examples may share recorded path values; any of the operation's
                // recorded bodies is a right answer (as in tests/call.rs).
                let bodies = by_op[&r.op_id]
                    .iter()
                    .map(|o| fake_ado::expected_body(o))
                    .collect();
                Some((json!({"id": r.op_id, "args": args}), Expect::Body(bodies)))
            })
            .collect();
        let pr = "git.pullRequests.getPullRequestById";
        let pr_route = routes.iter().find(|r| r.op_id == pr).unwrap();
        let mut missing =
            fake_ado::args_from_example(&catalog.operation(pr).unwrap(), &pr_route.parameters);
        missing["pullRequestId"] = json!(987654);
        let errors = vec![
            (
                "call",
                json!({"id": pr, "args": {"pullRequestId": "x", "organization": "o"}}),
                Expect::ToolError("3 problems with the arguments".into()),
            ),
            (
                "call",
                json!({"id": "no.such.op", "args": {}}),
                Expect::ToolError("no operation named `no.such.op`".into()),
            ),
            (
                "contract",
                json!({"id": "no.such.op"}),
                Expect::ToolError("no operation named `no.such.op`".into()),
            ),
            (
                "call",
                json!({"id": pr, "args": missing}),
                Expect::ToolError("HTTP 404".into()),
            ),
        ];
        Mix {
            searches,
            contracts,
            calls,
            errors,
        }
    }

    /// Request `n` of the mix: 3 in 8 searches, 2 contracts, 2 calls, 1 tool error.
    fn request(&self, n: usize) -> (&'static str, Json, Expect) {
        let k = n / 8;
        let pick = |v: &[(Json, Expect)], salt: usize| v[(k * 3 + salt) % v.len()].clone();
        let (tool, (args, expect)) = match n % 8 {
            0..=2 => ("search", pick(&self.searches, n % 8)),
            3 | 4 => ("contract", pick(&self.contracts, n % 8)),
            5 | 6 => ("call", pick(&self.calls, n % 8)),
            _ => {
                let (tool, args, expect) = &self.errors[k % self.errors.len()];
                (*tool, (args.clone(), expect.clone()))
            }
        };
        (tool, args, expect)
    }
}

/// The server process and the lines it answers with (read on a thread of their own, so a
/// full stdout pipe never blocks the server while the test is still writing).
struct Server {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<Json>,
}

impl Server {
    fn start(catalog: &std::path::Path, base_url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_opcat"))
            .args(["serve", "--catalog"])
            .arg(catalog)
            .args(["--org", "fabrikam"])
            .env_remove("AZURE_DEVOPS_ORG")
            .env_remove("AZURE_DEVOPS_SERVICE")
            .env("AZURE_DEVOPS_PAT", TOKEN)
            .env("OPCAT_BASE_URL", base_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start opcat serve");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, answers) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v: Json = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stdin,
            answers,
        }
    }

    fn send(&mut self, messages: &[Json]) {
        let mut buf = Vec::new();
        for m in messages {
            serde_json::to_writer(&mut buf, m).unwrap();
            buf.push(b'\n');
        }
        self.stdin.write_all(&buf).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next answer with an id (notifications are skipped).
    fn answer(&self) -> Json {
        loop {
            let v = self
                .answers
                .recv_timeout(ANSWER_TIMEOUT)
                .expect("no answer from opcat serve");
            if v.get("id").is_some() {
                return v;
            }
        }
    }

    /// Resident set size and its anonymous part (heap), in kB, and the thread count.
    fn rss_kb(&self) -> (u64, u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status (Linux)");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/<pid>/status"))
        };
        (field("VmRSS:"), field("RssAnon:"), field("Threads:"))
    }
}

fn tool_call(id: usize, tool: &str, args: &Json) -> Json {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": args}})
}

/// Checks one answer; `Err` says what is wrong with it.
fn check(answer: &Json, tool: &str, args: &Json, expect: &Expect) -> Result<(), String> {
    let result = answer
        .get("result")
        .ok_or_else(|| format!("not a result: {answer}"))?;
    let is_error = result["isError"].as_bool().unwrap_or(false);
    let text = result["content"][0]["text"]
        .as_str()
        .ok_or_else(|| format!("no text content: {answer}"))?;
    if text.contains(TOKEN) {
        return Err(format!("{tool} {args}: the answer holds the token"));
    }
    let ok = match expect {
        Expect::Exact(s) => !is_error && text == s,
        Expect::Contains(s) => !is_error && text.contains(s.as_str()),
        Expect::ToolError(s) => is_error && text.contains(s.as_str()),
        Expect::Body(bodies) => {
            !is_error && serde_json::from_str::<Json>(text).is_ok_and(|b| bodies.contains(&b))
        }
    };
    if ok {
        Ok(())
    } else {
        let head: String = text.chars().take(400).collect();
        Err(format!(
            "{tool} {args}: expected {expect:?}, got isError={is_error}: {head}"
        ))
    }
}

#[test]
fn serve_answers_thousands_of_requests_with_flat_memory() {
    let build = common::build(common::azure_specs(), VersionSelect::Latest);
    // With the embedding index: the server searches as it does in use (hybrid).
    let (bytes, _) = common::dense_artifact(&build);
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("azure-devops.opcat");
    std::fs::write(&artifact, &bytes).unwrap();
    let catalog = Catalog::from_bytes(&bytes).unwrap();
    let routes = fake_ado::routes(&catalog, &common::azure_specs());
    let mix = Mix::new(&catalog, &routes);
    assert!(
        mix.searches.len() >= 150 && mix.contracts.len() >= 150 && mix.calls.len() >= 100,
        "mix too small: {} searches, {} contracts, {} calls",
        mix.searches.len(),
        mix.contracts.len(),
        mix.calls.len()
    );
    let fake = FakeAdo::start(routes.clone(), TOKEN, Options::default());
    let mut server = Server::start(&artifact, &fake.base_url);

    server.send(&[
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "opcat-soak", "version": "0"}
        }}),
    ]);
    let init = server.answer();
    assert_eq!(
        init["result"]["serverInfo"]["name"], "opcat",
        "initialize: {init}"
    );
    server.send(&[json!({"jsonrpc": "2.0", "method": "notifications/initialized"})]);

    let mut next = 1;
    let mut failures = Vec::new();
    let mut per_tool: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sequential = |server: &mut Server, count: usize, failures: &mut Vec<String>| {
        for _ in 0..count {
            let (tool, args, expect) = mix.request(next);
            server.send(&[tool_call(next, tool, &args)]);
            let answer = server.answer();
            assert_eq!(answer["id"], next, "answers out of order: {answer}");
            if let Err(e) = check(&answer, tool, &args, &expect) {
                failures.push(e);
            }
            *per_tool.entry(tool).or_default() += 1;
            next += 1;
        }
    };

    let t = Instant::now();
    sequential(&mut server, WARM_UP, &mut failures);
    let before = server.rss_kb();
    sequential(&mut server, SEQUENTIAL, &mut failures);
    let sequential_time = t.elapsed();
    let after_sequential = server.rss_kb();

    // Pipelined: a batch of requests written at once, answers matched by id (the server
    // answers them concurrently, in any order).
    let t = Instant::now();
    let mut pipelined = 0;
    let mut pipelined_before = after_sequential;
    let mut trajectory = Vec::new();
    for b in 0..PIPELINED_WARM_UP + PIPELINED_BATCHES {
        let batch: Vec<(usize, &str, Json, Expect)> = (0..IN_FLIGHT)
            .map(|i| {
                let (tool, args, expect) = mix.request(next + i);
                (next + i, tool, args, expect)
            })
            .collect();
        next += IN_FLIGHT;
        let messages: Vec<Json> = batch
            .iter()
            .map(|(id, tool, args, _)| tool_call(*id, tool, args))
            .collect();
        server.send(&messages);
        let mut answers: HashMap<u64, Json> = HashMap::new();
        for _ in 0..IN_FLIGHT {
            let a = server.answer();
            let id = a["id"].as_u64().expect("numeric id");
            assert!(answers.insert(id, a).is_none(), "two answers to {id}");
        }
        for (id, tool, args, expect) in &batch {
            let answer = answers
                .get(&(*id as u64))
                .unwrap_or_else(|| panic!("no answer to request {id}"));
            if let Err(e) = check(answer, tool, args, expect) {
                failures.push(e);
            }
            *per_tool.entry(tool).or_default() += 1;
            pipelined += 1;
        }
        if b + 1 == PIPELINED_WARM_UP {
            pipelined_before = server.rss_kb();
        }
        if b % 8 == 7 {
            trajectory.push(server.rss_kb().0 / 1024);
        }
    }
    let pipelined_time = t.elapsed();
    let after = server.rss_kb();

    drop(server.stdin);
    let status = server.child.wait().unwrap();
    let mb = |kb: u64| kb as f64 / 1024.0;
    eprintln!(
        "soak: {WARM_UP} warm-up + {SEQUENTIAL} sequential requests in {:.1} s, {pipelined} \
         pipelined ({IN_FLIGHT} in flight) in {:.1} s; by tool: {per_tool:?}; {} requests \
         reached the fake",
        sequential_time.as_secs_f64(),
        pipelined_time.as_secs_f64(),
        fake.seen().len()
    );
    let show = |r: (u64, u64, u64)| {
        format!(
            "{:.1} MB (RssAnon {:.1} MB, {} threads)",
            mb(r.0),
            mb(r.1),
            r.2
        )
    };
    eprintln!(
        "soak: VmRSS after {WARM_UP} warm-up requests {}; after {SEQUENTIAL} sequential {}",
        show(before),
        show(after_sequential)
    );
    eprintln!(
        "soak: VmRSS after {PIPELINED_WARM_UP} pipelined warm-up batches {}; after \
         {PIPELINED_BATCHES} more batches {}; every 8 batches (MB): {trajectory:?}",
        show(pipelined_before),
        show(after)
    );
    assert!(
        failures.is_empty(),
        "{} of {} answers wrong:\n{}",
        failures.len(),
        next - 1,
        failures[..failures.len().min(5)].join("\n")
    );
    assert!(status.success(), "opcat serve exited with {status}");
    // Growth bound per phase, from its warmed-up RSS: 25% plus 10 MB. Generous on purpose:
    // the catalog is memory-mapped, so pages of contracts and index first touched after
    // warm-up count as resident too, and the allocator keeps freed memory for reuse. The
    // sequential phase measured flat (-11 to +2 MB over 3,000 requests): a leak of 8 kB per
    // request (~24 MB) breaks its bound. The pipelined phase also pays for threads tokio
    // adds on demand to its blocking pool (each `call` runs there) with their own stack and
    // allocator heap: 6 MB per thread added during the phase is allowed (measured: +0 to +10
    // threads, +6 to +48 MB, ~5 MB per added thread); a leak of 16 kB per request (~48 MB)
    // still breaks it unless the server also adds threads.
    let bound = |from: (u64, u64, u64), to: (u64, u64, u64)| {
        from.0 + from.0 / 4 + 10 * 1024 + 6 * 1024 * to.2.saturating_sub(from.2)
    };
    for (phase, from, to, n) in [
        ("sequential", before, after_sequential, SEQUENTIAL),
        (
            "pipelined",
            pipelined_before,
            after,
            PIPELINED_BATCHES * IN_FLIGHT,
        ),
    ] {
        assert!(
            to.0 < bound(from, to),
            "{phase}: VmRSS grew from {} kB to {} kB over {n} requests (bound {} kB)",
            from.0,
            to.0,
            bound(from, to)
        );
    }
}
