//! Concurrency: many threads searching and preparing requests on ONE shared `Catalog` (the
//! real latest Azure DevOps catalog) at once get exactly what one thread gets — every hit
//! id and score bit, every prepared method, URL, header and body, every error message.

mod common;
#[path = "common/fake_ado.rs"]
mod fake_ado;

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::Instant;

use opcat_compiler::read::VersionSelect;
use opcat_compiler::to_value;
use opcat_runtime::prepare::{Target, Value};
use opcat_runtime::{Catalog, SearchMode, SearchOptions};

const THREADS: usize = 8;
const ITERATIONS: usize = 8;

/// One unit of work a thread runs.
#[derive(Debug)]
enum Case {
    Search {
        query: String,
        opts: SearchOptions,
    },
    Prepare {
        name: String,
        args: Value,
        target: Target,
    },
}

/// The outcome of a case as text: everything the caller can observe of it.
fn run(c: &Catalog, case: &Case) -> String {
    match case {
        Case::Search { query, opts } => match c.search(query, opts) {
            Ok(r) => {
                let hits: Vec<String> = r
                    .hits
                    .iter()
                    .map(|h| format!("{}@{:08x}{}", h.op.id(), h.score.to_bits(), h.exact))
                    .collect();
                format!("hits weak={} [{}]", r.weak, hits.join(" "))
            }
            Err(e) => format!("search error: {e}"),
        },
        Case::Prepare { name, args, target } => match c.prepare(name, args, target) {
            Ok(p) => format!(
                "ok {} {} headers={:?} body={:?} content_type={:?}",
                p.method, p.url, p.headers, p.body, p.content_type
            ),
            Err(e) => format!("error: {e}"),
        },
    }
}

fn fabrikam() -> Target {
    Target {
        organization: Some("fabrikam".into()),
        ..Target::default()
    }
}

fn with(args: &Value, name: &str, v: Value) -> Value {
    let mut map = match args {
        Value::Object(m) => m.clone(),
        _ => BTreeMap::new(),
    };
    map.insert(name.into(), v);
    Value::Object(map)
}

/// Searches over the shipped benchmark queries (and some awkward ones) with varied
/// filters and limits; preparations of every recorded example's arguments (valid) and of
/// every operation with arguments that are wrong in several ways, or a bad target.
fn cases(c: &Catalog) -> Vec<Case> {
    let mut out = Vec::new();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/queries.jsonl"),
    )
    .unwrap();
    let mut queries: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["query"].as_str().unwrap().to_string()
        })
        .collect();
    queries.extend(
        [
            "",
            "   ",
            "wit.workItems.create",
            "GetPullRequestsByProject",
            "Wiql_Query By Wiql",
            "banana smoothie recipe",
            "a:b (c) \"d\" +e -f * ~ ^2 [x TO y] {}",
            "über Ärger – 作業項目 🚀",
            "pull pull pull pull request request request",
        ]
        .map(str::to_string),
    );
    let areas = [
        "git",
        "wit",
        "build",
        "release",
        "core",
        "test",
        "pipelines",
        "nosuch",
    ];
    for (i, q) in queries.iter().enumerate() {
        let variants = [
            SearchOptions::default(),
            SearchOptions {
                limit: 1 + i % 25,
                ..SearchOptions::default()
            },
            SearchOptions {
                area: Some(areas[i % areas.len()].into()),
                limit: 5,
                ..SearchOptions::default()
            },
            SearchOptions {
                method: Some(["get", "POST", "patch", "delete"][i % 4].into()),
                read_only: i % 3 == 0,
                ..SearchOptions::default()
            },
            SearchOptions {
                version: Some(if i % 2 == 0 { "7.2" } else { "7.1" }.into()),
                limit: 50,
                ..SearchOptions::default()
            },
        ];
        // Two variants per query keeps the case list balanced between search and prepare.
        // Every ranking mode: hybrid by default, and each mode on the filtered variant.
        let mut filtered = variants[1 + i % 4].clone();
        filtered.mode = SearchMode::ALL[i % SearchMode::ALL.len()];
        for opts in [variants[0].clone(), filtered] {
            out.push(Case::Search {
                query: q.clone(),
                opts,
            });
        }
    }
    // Valid arguments from every recorded example; every other one aimed at loopback.
    let routes = fake_ado::routes(c, &common::azure_specs());
    for (i, r) in routes.iter().enumerate() {
        let op = c.operation(&r.op_id).unwrap();
        let args = to_value(&fake_ado::args_from_example(&op, &r.parameters));
        let mut target = fabrikam();
        if i % 2 == 1 {
            target.base_url = Some("http://127.0.0.1:8080".into());
        }
        out.push(Case::Prepare {
            name: r.op_id.clone(),
            args,
            target,
        });
    }
    // Every operation, with its example's arguments spoiled in one of several ways.
    let example: BTreeMap<&str, &fake_ado::Route> =
        routes.iter().map(|r| (r.op_id.as_str(), r)).collect();
    for (i, op) in c.operations().enumerate() {
        let good = match example.get(op.id()) {
            Some(r) => to_value(&fake_ado::args_from_example(&op, &r.parameters)),
            None => Value::object(),
        };
        let (args, target) = match i % 6 {
            0 => (Value::Null, fabrikam()),
            1 => (with(&good, "bogusArgument", Value::Int(1)), fabrikam()),
            2 => (
                with(&good, "organization", Value::String("o".into())),
                fabrikam(),
            ),
            3 => (Value::Array(vec![Value::Int(3)]), fabrikam()),
            4 => (good, Target::default()),
            _ => (
                with(&good, "$top", Value::String("ten".into())),
                Target {
                    base_url: Some("https://evil.example".into()),
                    ..fabrikam()
                },
            ),
        };
        // Operations by id, alias or operationId alike.
        let name = match i % 3 {
            0 => op.id().to_string(),
            1 => op.aliases().next().unwrap_or(op.id()).to_string(),
            _ => op.operation_id().to_string(),
        };
        out.push(Case::Prepare { name, args, target });
    }
    out.push(Case::Prepare {
        name: "no.such.operation".into(),
        args: Value::object(),
        target: fabrikam(),
    });
    out
}

/// 8 threads share one catalog; each runs every case, in its own order, `ITERATIONS`
/// times, and compares each outcome with the single-thread one.
#[test]
fn threads_sharing_one_catalog_get_single_thread_results() {
    let build = common::build(common::azure_specs(), VersionSelect::Latest);
    // With the embedding index, so dense and hybrid search are shared too.
    let (bytes, _) = common::dense_artifact(&build);
    let catalog = Catalog::from_bytes(&bytes).unwrap();
    let cases = cases(&catalog);

    // The reference: one thread, before any other thread touches the catalog (the search
    // index opens lazily, so the first search here opens it).
    let t = Instant::now();
    let expected: Vec<String> = cases.iter().map(|k| run(&catalog, k)).collect();
    let single = t.elapsed();

    // The cases must exercise what they claim: hits, no hits, prepared requests, errors.
    let count = |p: &str| expected.iter().filter(|e| e.starts_with(p)).count();
    let searches = cases
        .iter()
        .filter(|k| matches!(k, Case::Search { .. }))
        .count();
    let (prepared, errors) = (count("ok "), count("error: "));
    assert!(searches >= 400, "{searches} searches");
    assert!(count("hits weak=false [") >= 300, "too few good searches");
    assert!(count("hits weak=true []") >= 1, "no search without hits");
    assert!(prepared >= 500, "{prepared} prepared requests");
    assert!(errors >= 1000, "{errors} preparation errors");
    let distinct_errors: std::collections::BTreeSet<&str> = expected
        .iter()
        .filter_map(|e| e.strip_prefix("error: "))
        .map(|e| e.split(['`', ':']).next().unwrap_or(e))
        .collect();
    assert!(distinct_errors.len() >= 5, "{distinct_errors:#?}");

    let barrier = Barrier::new(THREADS);
    let t = Instant::now();
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (catalog, cases, expected, barrier) = (&catalog, &cases, &expected, &barrier);
                s.spawn(move || {
                    let mut compared = 0;
                    let mut mismatches = Vec::new();
                    barrier.wait();
                    for round in 0..ITERATIONS {
                        // Each thread and round walks the cases in another order (a stride
                        // coprime with the count: primes), so threads hit different cases at
                        // once.
                        let n = cases.len();
                        let stride = [1, 7, 13, 31, 61, 127, 251, 509, 1021][(thread + round) % 9];
                        let stride = if n % stride == 0 { 1 } else { stride };
                        for k in 0..n {
                            let i = (thread * 97 + round * 31 + k * stride) % n;
                            let got = run(catalog, &cases[i]);
                            compared += 1;
                            if got != expected[i] {
                                mismatches.push(format!(
                                    "thread {thread}, round {round}, case {i} {:?}:\n  one thread: \
                                     {}\n  this thread: {got}",
                                    cases[i], expected[i]
                                ));
                            }
                        }
                    }
                    (compared, mismatches)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = t.elapsed();
    let compared: usize = results.iter().map(|(c, _)| c).sum();
    let mismatches: Vec<&String> = results.iter().flat_map(|(_, m)| m).collect();
    eprintln!(
        "concurrency: {THREADS} threads x {ITERATIONS} iterations x {} cases ({searches} \
         searches, {prepared} prepared, {errors} preparation errors) = {compared} comparisons \
         in {:.1} s (one thread, once: {:.2} s); {} mismatches",
        cases.len(),
        elapsed.as_secs_f64(),
        single.as_secs_f64(),
        mismatches.len()
    );
    assert_eq!(compared, THREADS * ITERATIONS * cases.len());
    assert!(
        mismatches.is_empty(),
        "{} of {compared} concurrent results differ from one thread's:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(5)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
