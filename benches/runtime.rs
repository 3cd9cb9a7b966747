//! Runtime benchmark: artifact open, open+verify, contracts and BM25 search, against a JSON load.
//!
//! `cargo bench -p opcat-compiler --bench runtime`. Builds the Azure DevOps artifact and
//! its `--emit json` form in-process from `../shared/specs` (or `$OPCAT_SHARED_SPECS`),
//! writes both to a temporary folder, prints per-query search percentiles and the
//! JSON-load/open ratios measured in this process, then runs the criterion groups. Both
//! files are in the page cache when measured: these are warm-start figures. Nothing here
//! asserts on time.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use opcat_compiler::read::{FsLoader, VersionSelect};
use opcat_compiler::render::RenderOptions;
use opcat_compiler::{Options, compile};
use opcat_runtime::{Catalog, OpenOptions, SearchOptions};

/// Same allocator as the `opcat` binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Realistic search queries over the Azure DevOps surface, as an agent would phrase them.
const QUERIES: &[&str] = &[
    "list pull requests in a project",
    "create a pull request",
    "add a comment to a pull request thread",
    "pull request reviewers vote",
    "get work item by id",
    "update work item fields",
    "run a WIQL query",
    "work item comments",
    "list builds for a definition",
    "queue a new build",
    "get build logs",
    "list pipelines",
    "run a pipeline",
    "get pipeline run",
    "create a release",
    "list release definitions",
    "get wiki page content",
    "create or update a wiki page",
    "list test plans",
    "add test cases to a test suite",
    "test run results",
    "list packages in a feed",
    "create an artifacts feed",
    "get nuget package version",
    "list users in the organization graph",
    "group memberships of a user",
    "create a service endpoint",
    "list git repositories",
    "list projects in the organization",
    "list branches and refs of a repository",
];

/// Operation ids whose contracts are looked up (checked to exist before timing).
const CONTRACT_IDS: &[&str] = &[
    "git.pullRequests.getPullRequestsByProject",
    "git.pullRequests.create",
    "git.repositories.list",
    "wit.workItems.getWorkItem",
    "wit.workItems.update",
    "wit.wiql.queryByWiql",
    "build.builds.list",
    "build.builds.queue",
    "pipelines.pipelines.list",
    "pipelines.runs.runPipeline",
    "release.releases.create",
    "wiki.wikis.list",
    "testPlan.testPlans.list",
    "artifacts.feed.feedManagement.getFeedPermissions",
    "graph.users.list",
    "serviceEndpoint.endpoints.create",
    "core.projects.list",
];

/// The two files under test, in a temporary folder that lives as long as this.
struct Fixture {
    _dir: tempfile::TempDir,
    artifact: PathBuf,
    json: PathBuf,
    artifact_bytes: usize,
    json_bytes: usize,
    operations: usize,
}

fn azure_specs() -> PathBuf {
    std::env::var_os("OPCAT_SHARED_SPECS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs"))
        .join("azure-devops/specification")
}

fn fixture() -> Fixture {
    let specs = azure_specs();
    assert!(specs.is_dir(), "no specs at {}", specs.display());
    let t = Instant::now();
    let build = compile(
        &Options {
            specs,
            versions: VersionSelect::Latest,
        },
        &FsLoader::default(),
        &|_| {},
    );
    let contracts =
        opcat_compiler::render::render_catalog(&build.catalog, &RenderOptions::default());
    let artifact =
        opcat_compiler::emit::artifact(&build.catalog, &contracts, "azure-devops", "bench")
            .unwrap_or_else(|e| panic!("emit::artifact failed: {e}"));
    let json = serde_json::to_vec(&build.catalog).expect("the IR serializes to JSON");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let artifact_path = dir.path().join("azure-devops.opcat");
    let json_path = dir.path().join("azure-devops.catalog.json");
    std::fs::write(&artifact_path, &artifact).expect("write the artifact");
    std::fs::write(&json_path, &json).expect("write the JSON catalog");
    println!(
        "fixture: {} operations, artifact {:.2} MB, JSON {:.2} MB, built in {:.1} s",
        build.catalog.operations.len(),
        artifact.len() as f64 / 1e6,
        json.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    Fixture {
        _dir: dir,
        artifact: artifact_path,
        json: json_path,
        artifact_bytes: artifact.len(),
        json_bytes: json.len(),
        operations: build.catalog.operations.len(),
    }
}

fn open(path: &Path, verify: bool) -> Catalog {
    // SAFETY: the file was written by this process into its own temporary folder and is
    // not modified while mapped.
    unsafe { Catalog::open(path, OpenOptions { verify }) }
        .unwrap_or_else(|e| panic!("Catalog::open(verify: {verify}) failed: {e}"))
}

fn json_load(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).expect("read the JSON catalog");
    serde_json::from_slice(&bytes).expect("the JSON catalog parses")
}

/// Median of `rounds` timings of `f`.
fn median_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// The `q`-quantile (0..=1) of sorted timings, nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Checks that the runtime answers the fixed lists, then times the query list with
/// `Instant` and prints p50/p99 and the JSON-load/open ratios. `full` is false under
/// `cargo test --benches`, where one round suffices.
fn report(fx: &Fixture, full: bool) {
    let rounds = if full { 200 } else { 1 };
    let catalog = open(&fx.artifact, true);
    assert_eq!(catalog.len(), fx.operations, "artifact operation count");
    for id in CONTRACT_IDS {
        assert!(
            catalog.contract(id, &[]).is_some(),
            "contract({id}) is None"
        );
    }

    let first = {
        let t = Instant::now();
        let c = open(&fx.artifact, false);
        let n = c
            .search(QUERIES[0], &SearchOptions::default())
            .unwrap_or_else(|e| panic!("first search failed: {e}"))
            .hits
            .len();
        black_box(n);
        t.elapsed()
    };

    println!(
        "\nsearch: {} queries x {rounds} rounds, limit 10",
        QUERIES.len()
    );
    println!(
        "{:>9} {:>9}  {:<5} {:<42} query",
        "p50 us", "p99 us", "weak", "top hit"
    );
    let opts = SearchOptions::default();
    let mut all = Vec::with_capacity(QUERIES.len() * rounds);
    let mut per_query: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); QUERIES.len()];
    for _ in 0..rounds {
        for (q, times) in QUERIES.iter().zip(&mut per_query) {
            let t = Instant::now();
            let found = catalog
                .search(q, &opts)
                .unwrap_or_else(|e| panic!("search({q:?}) failed: {e}"));
            black_box(&found);
            let d = t.elapsed();
            times.push(d);
            all.push(d);
        }
    }
    for (q, times) in QUERIES.iter().zip(&mut per_query) {
        times.sort();
        let found = catalog.search(q, &opts).expect("search");
        let top = found.hits.first().map_or("-", |h| h.op.id());
        println!(
            "{:>9.1} {:>9.1}  {:<5} {:<42} {q}",
            us(quantile(times, 0.5)),
            us(quantile(times, 0.99)),
            found.weak,
            top
        );
    }
    all.sort();
    println!(
        "search, all queries: p50 {:.1} us, p99 {:.1} us, max {:.1} us ({} samples)",
        us(quantile(&all, 0.5)),
        us(quantile(&all, 0.99)),
        us(*all.last().expect("samples")),
        all.len()
    );
    println!(
        "first search (trusted open + index open + first query): {:.1} us",
        us(first)
    );

    let open_rounds = if full { 2000 } else { 1 };
    let open_t = median_of(open_rounds, || open(&fx.artifact, false));
    let verify_t = median_of(if full { 200 } else { 1 }, || open(&fx.artifact, true));
    let json_t = median_of(if full { 30 } else { 1 }, || json_load(&fx.json));
    let contract_t = median_of(if full { 200 } else { 1 }, || {
        CONTRACT_IDS
            .iter()
            .map(|id| catalog.contract(id, &[]).map_or(0, |c| c.len()))
            .sum::<usize>()
    });
    println!(
        "\nmedians: open {:.2} us, open+verify {:.1} us, JSON load {:.1} ms \
         (artifact {:.2} MB, JSON {:.2} MB)",
        us(open_t),
        us(verify_t),
        json_t.as_secs_f64() * 1e3,
        fx.artifact_bytes as f64 / 1e6,
        fx.json_bytes as f64 / 1e6
    );
    println!(
        "contract lookup: {:.2} us per id ({} ids)",
        us(contract_t) / CONTRACT_IDS.len() as f64,
        CONTRACT_IDS.len()
    );
    println!(
        "ratios: JSON load / open = {:.0}x, JSON load / open+verify = {:.1}x\n",
        json_t.as_secs_f64() / open_t.as_secs_f64(),
        json_t.as_secs_f64() / verify_t.as_secs_f64()
    );
}

fn benches(c: &mut Criterion, fx: &Fixture) {
    let mut g = c.benchmark_group("open");
    g.bench_function("mmap_trusted", |b| b.iter(|| open(&fx.artifact, false)));
    g.finish();

    let mut g = c.benchmark_group("open_verify");
    g.bench_function("mmap_verify", |b| b.iter(|| open(&fx.artifact, true)));
    g.finish();

    let mut g = c.benchmark_group("json_load");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("serde_json_value", |b| b.iter(|| json_load(&fx.json)));
    g.finish();

    let catalog = open(&fx.artifact, true);
    let mut g = c.benchmark_group("contract");
    g.throughput(Throughput::Elements(CONTRACT_IDS.len() as u64));
    g.bench_function("id_list", |b| {
        b.iter(|| {
            CONTRACT_IDS
                .iter()
                .map(|id| catalog.contract(black_box(id), &[]).map_or(0, |c| c.len()))
                .sum::<usize>()
        })
    });
    g.finish();

    // Warm the lazily opened index so `search` measures queries only.
    let opts = SearchOptions::default();
    catalog.search(QUERIES[0], &opts).expect("warm-up search");
    let mut g = c.benchmark_group("search");
    g.throughput(Throughput::Elements(QUERIES.len() as u64));
    g.bench_function("query_list", |b| {
        b.iter(|| {
            QUERIES
                .iter()
                .map(|q| {
                    catalog
                        .search(black_box(q), &opts)
                        .map_or(0, |r| r.hits.len())
                })
                .sum::<usize>()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("first_search");
    g.bench_function("open_then_search", |b| {
        b.iter(|| {
            let c = open(&fx.artifact, false);
            c.search(QUERIES[0], &opts).map_or(0, |r| r.hits.len())
        })
    });
    g.finish();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not (one quick round).
    let full = std::env::args().any(|a| a == "--bench");
    let fx = fixture();
    report(&fx, full);
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &fx);
    c.final_summary();
}
