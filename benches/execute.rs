//! Execute benchmark: what running a model's program costs on top of the calls it makes.
//!
//! `cargo bench -p opcat-compiler --bench execute`. Builds the latest Azure DevOps catalog
//! in-process from `../shared/specs` (or `$OPCAT_SHARED_SPECS`), starts a loopback HTTP
//! server that answers every request with a small `{count, value}` body, and measures, in
//! this one process:
//!
//! - `sandbox: trivial program`: a fresh QuickJS runtime, the prelude, `return 1` (a host
//!   that is never called);
//! - `execute: one call`: a program making one `api.core.projects.list({})` call through the
//!   real host (catalog lookup, prepare, token, HTTP to loopback), answer shortened to the
//!   budget, as the MCP `execute` tool does;
//! - `call: one round trip`: the same operation through the `call` tool's path
//!   (`tools::call_text`), the baseline;
//! - memory: the QuickJS heap held at the end of a run, and the resident set while 8 runs
//!   are in flight at once (each waiting on a slow call) against the idle process.
//!
//! It prints p50/p99 over 400 runs of each and the overhead of `execute` over `call`, then
//! runs the criterion groups. Nothing here asserts on time.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use opcat_compiler::agent::http::{Config, Executor, Paging, Secret};
use opcat_compiler::agent::sandbox::{self, Host, HostError, Limits, Reply};
use opcat_compiler::agent::{Agent, tools};
use opcat_compiler::read::{FsLoader, VersionSelect};
use opcat_compiler::render::RenderOptions;
use opcat_compiler::{Options, compile, emit};
use opcat_runtime::Catalog;
use serde_json::{Value as Json, json};

/// Same allocator as the `opcat` binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ONE_CALL: &str = "const p = await api.core.projects.list({});\n\
                        return p.value.map((x) => x.name);";
const RUNS: usize = 400;

fn specs_root() -> PathBuf {
    std::env::var_os("OPCAT_SHARED_SPECS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs"))
        .join("azure-devops/specification")
}

fn catalog() -> Catalog {
    let build = compile(
        &Options {
            specs: specs_root(),
            versions: VersionSelect::Latest,
        },
        &FsLoader::default(),
        &|_| {},
    );
    let contracts =
        opcat_compiler::render::render_catalog(&build.catalog, &RenderOptions::default());
    let bytes = emit::artifact(&build.catalog, &contracts, "azure-devops", "bench")
        .expect("the artifact builds");
    Catalog::from_bytes(&bytes).expect("the artifact opens")
}

/// A keep-alive HTTP/1.1 server on loopback answering every request with the same body,
/// after `delay` (so runs can be held in flight).
fn loopback(delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            std::thread::spawn(move || {
                let body = br#"{"count":2,"value":[{"id":"1","name":"Fabrikam"},{"id":"2","name":"Contoso"}]}"#;
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut stream = stream;
                loop {
                    let mut line = String::new();
                    // Headers up to the blank line; GETs carry no body.
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {}
                        }
                    }
                    std::thread::sleep(delay);
                    // One write, no Nagle: two small writes would wait on the client's
                    // delayed ACK (~40 ms) and measure TCP, not opcat.
                    let mut answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    answer.extend_from_slice(body);
                    if stream.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn agent(catalog: Catalog, base_url: String) -> Arc<Agent> {
    Arc::new(Agent {
        catalog,
        executor: Executor::new(Config {
            organization: Some("fabrikam".into()),
            base_url: Some(base_url),
            token: Some(Secret::new("bench-token")),
            ..Config::default()
        }),
    })
}

/// A host that is never called: the trivial program makes no call.
struct NoHost;

impl Host for NoHost {
    fn resolve(&self, id: &str) -> Result<String, HostError> {
        Err(HostError {
            code: "unknownOperation".into(),
            message: format!("no operation {id}"),
            ..HostError::default()
        })
    }
    fn call(&self, _: &str, _: Json, _: Json, _: Instant) -> Result<Reply, HostError> {
        Err(HostError::default())
    }
}

fn percentiles(name: &str, mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<28} p50 {:>7.3} ms   p99 {:>7.3} ms",
        at(0.5),
        at(0.99)
    );
    at(0.5)
}

fn timed(mut f: impl FnMut()) -> Vec<f64> {
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let fast = agent(catalog(), loopback(Duration::ZERO));
    let limits = Limits::default();
    let budget = tools::OUTPUT_BUDGET;
    let no_host: Arc<dyn Host> = Arc::new(NoHost);

    // Warm-up, and a check that each path does what it measures.
    let trivial = sandbox::run("return 1", &limits, no_host.clone());
    assert_eq!(trivial.result, json!(1), "{:?}", trivial.error);
    let (one, _) = tools::execute(&fast, ONE_CALL, &limits, budget);
    assert_eq!(
        one.result,
        json!(["Fabrikam", "Contoso"]),
        "{:?}",
        one.error
    );
    let args = json!({});
    let call = |a: &Agent| {
        tools::call_text(
            &a.executor,
            &a.catalog,
            "core.projects.list",
            &args,
            Paging::default(),
        )
    };
    assert!(call(&fast).is_ok());

    println!("\n== execute overhead, {RUNS} runs each (loopback server, keep-alive)");
    let p_trivial = percentiles(
        "sandbox: trivial program",
        timed(|| {
            black_box(sandbox::run("return 1", &limits, no_host.clone()));
        }),
    );
    let p_exec = percentiles(
        "execute: one call",
        timed(|| {
            black_box(tools::execute(&fast, ONE_CALL, &limits, budget));
        }),
    );
    let p_call = percentiles(
        "call: one round trip",
        timed(|| {
            black_box(call(&fast).ok());
        }),
    );
    println!(
        "execute - call (p50): {:.3} ms; execute / call: {:.2}x; trivial run / call: {:.2}x",
        p_exec - p_call,
        p_exec / p_call,
        p_trivial / p_call
    );

    // Memory: the QuickJS heap at the end of a run, and the resident set with 8 runs in
    // flight, each waiting on a call the server holds for 300 ms.
    let mut heap: Vec<u64> = (0..50)
        .map(|_| {
            tools::execute(&fast, ONE_CALL, &limits, budget)
                .0
                .memory_bytes
        })
        .collect();
    heap.sort_unstable();
    println!(
        "QuickJS heap at the end of a one-call run: p50 {} KB",
        heap[heap.len() / 2] >> 10
    );
    let slow = agent(catalog(), loopback(Duration::from_millis(300)));
    let idle = rss_kb();
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let slow = slow.clone();
            let limits = limits.clone();
            std::thread::spawn(move || tools::execute(&slow, ONE_CALL, &limits, budget))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let busy = rss_kb();
    for r in runs {
        let (outcome, _) = r.join().expect("a run");
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
    }
    println!(
        "resident set: idle {} MB, 8 runs in flight {} MB: {:.2} MB per concurrent run",
        idle >> 10,
        busy >> 10,
        busy.saturating_sub(idle) as f64 / 1024.0 / 8.0
    );
    println!();

    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(5));
    let mut g = c.benchmark_group("execute");
    g.bench_function("sandbox: trivial program", |b| {
        b.iter(|| sandbox::run("return 1", &limits, no_host.clone()))
    });
    g.bench_function("execute: one call", |b| {
        b.iter(|| tools::execute(&fast, ONE_CALL, &limits, budget))
    });
    g.bench_function("call: one round trip (baseline)", |b| {
        b.iter(|| call(&fast))
    });
    g.finish();
    c.final_summary();
}
