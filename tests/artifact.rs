//! The real Azure DevOps artifact: deterministic bytes, lookups, BM25 search basics, and
//! corruption of a real file refused by verification with typed errors.

mod common;

use std::sync::OnceLock;

use opcat_compiler::emit;
use opcat_compiler::read::VersionSelect;
use opcat_compiler::render::{self, RenderOptions};
use opcat_runtime::{Catalog, Error, OpenOptions, SearchOptions};

fn build_bytes() -> Vec<u8> {
    let build = common::build(common::azure_specs(), VersionSelect::Latest);
    let contracts = render::render_catalog(&build.catalog, &RenderOptions::default());
    emit::artifact(&build.catalog, &contracts, "azure-devops", "test").unwrap()
}

fn bytes() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(build_bytes)
}

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| Catalog::from_bytes(bytes()).unwrap())
}

#[test]
fn two_builds_are_byte_identical() {
    assert!(
        build_bytes() == bytes(),
        "two builds of the same specs differ"
    );
}

#[test]
fn every_operation_is_found_by_id_and_has_a_contract() {
    let c = catalog();
    assert_eq!(c.len(), 1193);
    for op in c.operations() {
        let found = c.operation(op.id()).unwrap();
        assert_eq!(found.id(), op.id());
        assert!(op.signature().contains("Promise<"), "{}", op.id());
    }
    let pr = c
        .operation("Pull Requests_Get Pull Requests By Project")
        .unwrap();
    assert_eq!(pr.id(), "git.pullRequests.getPullRequestsByProject");
    assert!(
        pr.signature().contains("value: GitPullRequest[]"),
        "{}",
        pr.signature()
    );
    assert_eq!(pr.file(), "git/7.2/git.json");
    let decl = c.type_decl("GitPullRequest", Some(&pr)).unwrap();
    assert!(decl.contains("pullRequestId"), "{decl}");
    assert!(c.hosts().any(|h| h == "https://vsrm.dev.azure.com"));
}

fn top(query: &str, n: usize) -> Vec<String> {
    let opts = SearchOptions {
        limit: n,
        ..SearchOptions::default()
    };
    common::hit_ids(catalog(), query, &opts)
}

/// Each query's first hit is its operation.
fn assert_first(cases: &[(&str, &str)]) {
    for (query, want) in cases {
        let got = top(query, 5);
        assert_eq!(got[0], *want, "{query:?} -> {got:?}");
    }
}

#[test]
fn search_basics() {
    // An exact id, alias or operationId ranks first.
    assert_eq!(top("wit.workItems.create", 3)[0], "wit.workItems.create");
    assert_eq!(
        top("GetPullRequestsByProject", 3)[0],
        "git.pullRequests.getPullRequestsByProject"
    );
    assert_eq!(top("Wiql_Query By Wiql", 3)[0], "wit.wiql.queryByWiql");
    // Words, stems, camelCase parts and response field names.
    assert_eq!(top("run a WIQL query", 3)[0], "wit.wiql.queryByWiql");
    assert!(
        top("which operation returns pullRequestId", 5)
            .iter()
            .any(|id| id.starts_with("git.pullRequest"))
    );
    assert!(top("get build logs", 3).contains(&"build.builds.getBuildLogs".to_string()));
    assert!(
        top("release definitions", 5)
            .iter()
            .any(|id| id.starts_with("release.definitions"))
    );
    // Filters.
    let c = catalog();
    let git = SearchOptions {
        area: Some("git".into()),
        ..SearchOptions::default()
    };
    let r = c.search("create", &git).unwrap();
    assert!(!r.hits.is_empty() && r.hits.iter().all(|h| h.op.area() == "git"));
    let reads = SearchOptions {
        read_only: true,
        limit: 20,
        ..SearchOptions::default()
    };
    let r = c.search("pull request", &reads).unwrap();
    assert!(r.hits.iter().all(|h| h.op.read_only()));
    let post = SearchOptions {
        method: Some("post".into()),
        ..SearchOptions::default()
    };
    assert!(
        c.search("work item", &post)
            .unwrap()
            .hits
            .iter()
            .all(|h| h.op.method() == "POST")
    );
    // No good match is said, not hidden.
    assert!(
        c.search("banana smoothie recipe", &SearchOptions::default())
            .unwrap()
            .weak
    );
    assert!(
        !c.search("list pull requests", &SearchOptions::default())
            .unwrap()
            .weak
    );
}

#[test]
fn mapped_file_opens_and_the_release_form_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azure-devops.opcat");
    std::fs::write(&path, bytes()).unwrap();
    // SAFETY: a private temp file, not modified while mapped.
    let mapped = unsafe { Catalog::open(&path, OpenOptions::default()) }.unwrap();
    mapped.verify().unwrap();
    assert_eq!(
        mapped
            .search("pull request", &SearchOptions::default())
            .unwrap()
            .hits
            .len(),
        10
    );
    let zst = emit::release_form(bytes()).unwrap();
    let zpath = dir.path().join("azure-devops.opcat.zst");
    std::fs::write(&zpath, &zst).unwrap();
    assert_eq!(Catalog::read(&zpath).unwrap().len(), 1193);
}

/// Every damaged copy is refused by verification with a typed error, never a panic;
/// a trusted (unverified) open of the same bytes followed by `verify` refuses it too.
#[test]
fn corruptions_of_a_real_artifact_are_refused() {
    let good = bytes();
    common::corruption_sweep(good);
    // Trusted open of a corrupted file: only verify stands between it and use.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.opcat");
    let mut bad = good.to_vec();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(&path, &bad).unwrap();
    // SAFETY: private file, not modified while mapped; verified before any lookup.
    let trusted = unsafe { Catalog::open(&path, OpenOptions::default()) }.unwrap();
    assert!(matches!(trusted.verify(), Err(Error::Checksum { .. })));
    let verified = unsafe { Catalog::open(&path, OpenOptions { verify: true }) };
    assert!(matches!(verified, Err(Error::Checksum { .. })));
}

/// Many threads searching one catalog at once get exactly what one thread gets.
#[test]
fn concurrent_searches_match_sequential_ones() {
    let c = catalog();
    let queries = [
        "list pull requests",
        "create work item",
        "run a WIQL query",
        "queue a build",
        "get release",
        "wiki page content",
        "test plan suites",
        "feed packages",
        "service endpoint",
        "user entitlements",
    ];
    let opts = SearchOptions::default();
    let ids = |q: &str| -> Vec<(String, u32)> {
        c.search(q, &opts)
            .unwrap()
            .hits
            .iter()
            .map(|h| (h.op.id().to_string(), h.score.to_bits()))
            .collect()
    };
    let expected: Vec<_> = queries.iter().map(|q| ids(q)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let expected = &expected;
                s.spawn(move || {
                    for round in 0..20 {
                        let i = (t + round) % queries.len();
                        assert_eq!(ids(queries[i]), expected[i], "thread {t}, {}", queries[i]);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

/// The shipped benchmark query sets: distinct queries (at least 150 in each of the two
/// main files), every id they name resolves to an operation of the real catalog, and the
/// primary is among the expected.
#[test]
fn benchmark_query_set_names_real_operations() {
    for (file, least) in [
        ("queries.jsonl", 150),
        ("heldout.jsonl", 150),
        ("tuning-long.jsonl", 30),
        ("tuning-terse.jsonl", 90),
        ("tuning-described.jsonl", 90),
    ] {
        query_file_names_real_operations(file, least);
    }
}

/// The held-out file stays unseen: no query of a tuning file is one of its queries, case
/// and punctuation aside (the terse voice repeats itself: "Rename a repo.").
#[test]
fn tuning_files_hold_no_held_out_query() {
    let words = |q: &str| {
        q.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    let queries = |file: &str| -> Vec<String> {
        bench_file(file)
            .iter()
            .map(|v| v["query"].as_str().unwrap().to_string())
            .collect()
    };
    let held: std::collections::BTreeSet<Vec<String>> =
        queries("heldout.jsonl").iter().map(|q| words(q)).collect();
    for file in [
        "queries.jsonl",
        "tuning-long.jsonl",
        "tuning-terse.jsonl",
        "tuning-described.jsonl",
    ] {
        for q in queries(file) {
            assert!(
                !held.contains(&words(&q)),
                "{file}: `{q}` is a held-out query"
            );
        }
    }
}

/// A query file of `benches/`, one JSON object per line.
fn bench_file(file: &str) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../benches")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn query_file_names_real_operations(file: &str, least: usize) {
    let c = catalog();
    let mut seen = std::collections::BTreeSet::new();
    for (i, v) in bench_file(file).iter().enumerate() {
        let query = v["query"].as_str().unwrap();
        assert!(
            seen.insert(query.to_string()),
            "{file} line {}: duplicate query",
            i + 1
        );
        let primary = v["primary"].as_str().unwrap();
        let expected: Vec<&str> = v["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(expected.contains(&primary), "{file} line {}", i + 1);
        for name in expected {
            assert!(
                c.operation(name).is_some(),
                "{file} line {}: `{name}`",
                i + 1
            );
        }
    }
    assert!(seen.len() >= least, "{file}: {} queries", seen.len());
}

/// `opcat bench` end to end on the real artifact: the table has the measured mode and
/// figures in range; BM25 keeps at least the recall it had when the benchmark was written.
#[test]
fn bench_command_reports_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("azure-devops.opcat");
    std::fs::write(&artifact, bytes()).unwrap();
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/queries.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opcat"))
        .args([
            "bench",
            "--json",
            "--repeat",
            "1",
            "--modes",
            "bm25",
            "--queries",
        ])
        .arg(&queries)
        .arg("--catalog")
        .arg(&artifact)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["modes"][0];
    assert_eq!(m["mode"], "bm25");
    for key in [
        "recallAt1",
        "recallAt5",
        "recallAt10",
        "mrrAt10",
        "expectedRecallAt10",
    ] {
        let x = m[key].as_f64().unwrap_or_else(|| panic!("{key} in {m}"));
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    assert!(m["recallAt5"].as_f64().unwrap() >= 0.75, "{m}");
    assert!(m["p50Ms"].as_f64().unwrap() > 0.0);
}

/// `opcat bench --from-catalog`: the queries the catalog writes itself, one per operation
/// whose summary or name's words no other shares; a file and a kind together are refused.
#[test]
fn bench_writes_queries_from_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("azure-devops.opcat");
    std::fs::write(&artifact, bytes()).unwrap();
    let bench = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_opcat"))
            .args(["bench", "--json", "--repeat", "1", "--modes", "bm25"])
            .args(extra)
            .arg("--catalog")
            .arg(&artifact)
            .output()
            .unwrap()
    };
    for (kind, at_least, first) in [("summaries", 900, 0.95), ("names", 350, 0.7)] {
        let out = bench(&["--from-catalog", kind]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["queries"].as_u64().unwrap() >= at_least, "{kind}: {v}");
        let r1 = v["modes"][0]["recallAt1"].as_f64().unwrap();
        assert!(r1 >= first, "{kind}: {r1}");
    }
    let out = bench(&["--from-catalog", "names", "--queries", "x.jsonl"]);
    assert!(!out.status.success());
}

/// An artifact of one area of the Azure DevOps specs in every version folder (numbered
/// and on-premises), no embeddings.
fn all_versions_of(area: &str) -> Vec<u8> {
    let specs = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(common::azure_specs().join(area), specs.path().join(area)).unwrap();
    let build = common::build(specs.path().to_path_buf(), VersionSelect::All);
    let contracts = opcat_compiler::render::render_catalog(
        &build.catalog,
        &opcat_compiler::render::RenderOptions::default(),
    );
    opcat_compiler::emit::artifact(&build.catalog, &contracts, "azure-devops", "test").unwrap()
}

/// The operations a search finds, with a version filter or without.
fn hits_in<'a>(
    catalog: &'a Catalog,
    query: &str,
    version: Option<&str>,
) -> Vec<opcat_runtime::Operation<'a>> {
    let opts = SearchOptions {
        version: version.map(Into::into),
        ..SearchOptions::default()
    };
    let result = catalog.search(query, &opts).unwrap();
    result.hits.iter().map(|h| h.op).collect()
}

#[test]
fn an_all_versions_catalog_returns_each_id_once_in_its_newest_version() {
    // The git area in every version folder (4.1 ... 7.2 and the on-premises ones).
    let bytes = all_versions_of("git");
    let catalog = Catalog::from_bytes(&bytes).unwrap();
    let versions: std::collections::BTreeSet<&str> =
        catalog.operations().map(|o| o.version()).collect();
    assert!(versions.len() > 5, "{versions:?}");
    // "get pull request by id" is an operationId of the older folders only (5.2 and
    // before): its exact hit is the id's newest version too, and comes once.
    for query in [
        "list pull requests",
        "get a repository",
        "create a push",
        "get pull request by id",
    ] {
        let result = catalog
            .search(
                query,
                &SearchOptions {
                    limit: 10,
                    ..SearchOptions::default()
                },
            )
            .unwrap();
        let ids: Vec<&str> = result.hits.iter().map(|h| h.op.id()).collect();
        let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{query}: {ids:?}");
        // The rankings are read deep enough that versions of one operation do not take the
        // places of others (with 14 versions of git, 3 or 4 ids used to fill a top 10).
        assert_eq!(ids.len(), 10, "{query}: {ids:?}");
        // Each hit is its id's newest cloud version (numeric folders above on-premises ones).
        let rank = |v: &str| -> (bool, Vec<u32>) {
            let cloud = v.starts_with(|c: char| c.is_ascii_digit());
            let nums = v
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            (cloud, nums)
        };
        for h in &result.hits {
            let newest = catalog
                .operations()
                .filter(|o| o.id() == h.op.id())
                .map(|o| o.version())
                .max_by_key(|v| rank(v))
                .unwrap();
            assert_eq!(h.op.version(), newest, "{query}: {}", h.op.id());
        }
        assert!(
            result.hits.iter().any(|h| h.op.version() == "7.2"),
            "{query}: {ids:?}"
        );
        // A version filter still gives that version.
        let old = catalog
            .search(
                query,
                &SearchOptions {
                    version: Some("5.1".into()),
                    ..SearchOptions::default()
                },
            )
            .unwrap();
        assert!(!old.hits.is_empty() && old.hits.iter().all(|h| h.op.version() == "5.1"));
    }
}

/// The on-premises specs (`azure-devops-server-*/feed-onprem.json`) give their operations
/// ids of their own, twins of the cloud's with the same summaries: in a catalog of every
/// version a query is the cloud's, unless a version filter asks for the server's.
#[test]
fn an_on_premises_twin_yields_to_the_cloud_operation() {
    let bytes = all_versions_of("artifacts");
    let catalog = Catalog::from_bytes(&bytes).unwrap();
    let on_prem = |v: &str| v.starts_with("azure-devops-server");
    for query in [
        "Get details about a specific package.",
        "Update the permissions on a feed.",
        "Remove a feed and all its packages.",
    ] {
        // The twin is there: an on-premises operation whose summary is the query.
        assert!(
            catalog
                .operations()
                .any(|o| on_prem(o.version()) && o.summary() == query),
            "{query}: no on-premises twin"
        );
        let first = |version: Option<&str>| {
            let hit = hits_in(&catalog, query, version)[0];
            (hit.id(), hit.version(), hit.summary())
        };
        let (id, version, summary) = first(None);
        assert_eq!((version, summary), ("7.2", query), "{query}: {id}");
        let (id, version, summary) = first(Some("azure-devops-server-7.1"));
        assert_eq!(
            (version, summary),
            ("azure-devops-server-7.1", query),
            "{query}: {id}"
        );
    }
}

/// An operation a later version renamed (same area, method and path, another id) is shown
/// as its newest twin: `distributedTask.pools.getAgentPools` (5.1 to 6.0, tags since
/// changed) is `distributedTask.taskAgent.pools.getAgentPools` from 6.1 on. Where a version
/// has two operations on one path, only the same operationId is a twin.
#[test]
fn an_operation_renamed_by_a_later_version_is_shown_as_its_newest_twin() {
    let bytes = all_versions_of("distributedTask");
    let catalog = Catalog::from_bytes(&bytes).unwrap();
    let in_version = |id: &str, version: &str| {
        catalog
            .operations()
            .find(|o| o.id() == id && o.version() == version)
            .unwrap_or_else(|| panic!("{id} {version}"))
    };
    let current = |id: &str, version: &str| {
        let op = catalog.current(&in_version(id, version)).unwrap();
        (op.id(), op.version())
    };
    let twin = ("distributedTask.taskAgent.pools.getAgentPools", "7.2");
    assert_eq!(current("distributedTask.pools.getAgentPools", "6.0"), twin);
    assert_eq!(current("distributedTask.pools.getAgentPools", "5.1"), twin);
    // The list by ids shares the path: it is the twin of the old list by ids only.
    assert_eq!(
        current("distributedTask.pools.getAgentPoolsByIds", "6.0"),
        ("distributedTask.taskAgent.pools.getAgentPoolsByIds", "7.2")
    );
    // 7.1 holds `agents.get` and `agents.getPoolPermission` on one path; 7.2 only the
    // first: the permission read has no twin.
    assert_eq!(
        current("distributedTask.taskAgent.agents.getPoolPermission", "7.1"),
        ("distributedTask.taskAgent.agents.getPoolPermission", "7.1")
    );
    // "Get Agent Pools" is an operationId of 5.2: its exact hit is the twin, once.
    let search = |query: &str, version: Option<&str>| {
        hits_in(&catalog, query, version)
            .iter()
            .map(|o| (o.id(), o.version()))
            .collect::<Vec<_>>()
    };
    for query in ["get agent pools", "distributedTask.pools.getAgentPools"] {
        let hits = search(query, None);
        assert_eq!(hits[0], twin, "{query}: {hits:?}");
        assert!(
            !hits
                .iter()
                .any(|h| h.0 == "distributedTask.pools.getAgentPools"),
            "{query}: {hits:?}"
        );
    }
    // A version filter still gives that version's own operation.
    let hits = search("get agent pools", Some("6.0"));
    assert_eq!(hits[0], ("distributedTask.pools.getAgentPools", "6.0"));
}

/// One query per vocabulary entry (`opcat_runtime::glossary::TERMS`), in the product's
/// words, with the operations that answer it: each must be in the top 5. Written from
/// general Azure DevOps knowledge, not taken from a benchmark file.
const VOCABULARY: &[(&str, &str, &[&str])] = &[
    (
        "pr",
        "get a PR by its id",
        &["git.pullRequests.getPullRequestById"],
    ),
    (
        "prs",
        // (The repository-scoped list loses to the pull request's sub-resources: a known
        // miss, tests/execute.rs KNOWN_MISSES.)
        "PRs across a project",
        &[
            "git.pullRequests.getPullRequestsByProject",
            "git.pullRequests.getPullRequests",
        ],
    ),
    ("repo", "delete a repo", &["git.repositories.delete"]),
    (
        "repos",
        "all repos in a project",
        &["git.repositories.list"],
    ),
    ("wi", "get a WI", &["wit.workItems.getWorkItem"]),
    (
        "wis",
        "delete several WIs",
        &["wit.workItems.deleteWorkItems"],
    ),
    ("wiql", "run WIQL", &["wit.wiql.queryByWiql"]),
    ("pat", "create a PAT", &["tokens.pats.create"]),
    ("pats", "list my PATs", &["tokens.pats.list"]),
    (
        "ace",
        "set an ACE",
        &["security.accessControlEntries.setAccessControlEntries"],
    ),
    (
        "aces",
        "remove ACEs",
        &["security.accessControlEntries.removeAccessControlEntries"],
    ),
    (
        "acl",
        "read the ACL of a token",
        &["security.accessControlLists.query"],
    ),
    ("acls", "query ACLs", &["security.accessControlLists.query"]),
    (
        "sprint",
        "work items in a sprint",
        &["work.iterations.getIterationWorkItems"],
    ),
    ("sprints", "a team's sprints", &["work.iterations.list"]),
    ("branch", "lock a branch", &["git.refs.updateRef"]),
    ("branches", "branches of a repository", &["git.refs.list"]),
    (
        "area path",
        "create an area path",
        &["wit.classificationNodes.createOrUpdate"],
    ),
    (
        "area paths",
        "list area paths",
        &[
            "wit.classificationNodes.getRootNodes",
            "wit.classificationNodes.getClassificationNodes",
            "wit.classificationNodes.get",
        ],
    ),
    (
        "service connection",
        "create a service connection",
        &["serviceEndpoint.endpoints.create"],
    ),
    (
        "service connections",
        "service connections of a project",
        &["serviceEndpoint.endpoints.getServiceEndpoints"],
    ),
    (
        "release pipeline",
        "get a release pipeline",
        &["release.definitions.get"],
    ),
    (
        "release pipelines",
        "list release pipelines",
        &["release.definitions.list"],
    ),
    (
        "build pipeline",
        "delete a build pipeline",
        &["build.definitions.delete"],
    ),
    (
        "build pipelines",
        "list build pipelines",
        &["build.definitions.list"],
    ),
    (
        "classic pipeline",
        "update a classic pipeline",
        &["build.definitions.update"],
    ),
    (
        "user story",
        "create a user story",
        &["wit.workItems.create"],
    ),
    (
        "user stories",
        "update user stories in bulk",
        &["wit.workItems.update"],
    ),
    ("epic", "create an epic", &["wit.workItems.create"]),
    ("test case", "create a test case", &["wit.workItems.create"]),
    (
        "check in",
        "who made the last check-in",
        &["tfvc.changesets.getChangesets"],
    ),
    (
        "check ins",
        "check-ins that touched a path",
        &["tfvc.changesets.getChangesets"],
    ),
    (
        "access level",
        "what access level does a user have",
        &["memberEntitlementManagement.userEntitlements.get"],
    ),
    (
        "access levels",
        "users and their access levels",
        &[
            "memberEntitlementManagement.userEntitlements.searchUserEntitlements",
            "memberEntitlementManagement.userEntitlements.get",
        ],
    ),
    (
        "bug",
        "create a bug in the project",
        &["wit.workItems.create"],
    ),
    (
        "bugs",
        "delete several bugs",
        &["wit.workItems.delete", "wit.workItems.deleteWorkItems"],
    ),
    (
        "product backlog item",
        "create a product backlog item",
        &["wit.workItems.create"],
    ),
    (
        "kanban",
        "kanban columns of a team",
        &[
            "work.boardcolumns.list",
            "work.columns.list",
            "work.boards.get",
        ],
    ),
    (
        "security group",
        "create a security group",
        &["graph.groups.create"],
    ),
    (
        "security groups",
        "list security groups",
        &["graph.groups.list"],
    ),
    ("org", "projects in the org", &["core.projects.list"]),
    (
        "vm",
        "a VM of an environment",
        &["environments.vmresource.list"],
    ),
    (
        "vms",
        "VMs of an environment",
        &["environments.vmresource.list"],
    ),
    ("sha", "get a commit by its sha", &["git.commits.get"]),
    (
        "pipeline",
        "get a pipeline",
        &["build.definitions.get", "pipelines.pipelines.get"],
    ),
    (
        "pipelines",
        "list pipelines",
        &["build.definitions.list", "pipelines.pipelines.list"],
    ),
    (
        "pipeline run",
        "start a pipeline run",
        &["build.builds.queue", "pipelines.runs.runPipeline"],
    ),
    (
        "pipeline runs",
        "recent pipeline runs",
        &["build.builds.list", "pipelines.runs.list"],
    ),
    (
        "team project",
        "delete a team project",
        &["core.projects.delete"],
    ),
    (
        "team projects",
        "list team projects",
        &["core.projects.list"],
    ),
    (
        "git tag",
        "create a git tag on a commit",
        &["git.annotatedTags.create", "git.refs.updateRefs"],
    ),
    ("git tags", "git tags", &["git.refs.list"]),
    (
        "work item link",
        "add a work item link",
        &["wit.workItems.update"],
    ),
    (
        "work item links",
        "remove work item links",
        &["wit.workItems.update"],
    ),
    (
        "iteration path",
        "create an iteration path",
        &["wit.classificationNodes.createOrUpdate"],
    ),
    (
        "iteration paths",
        "list iteration paths",
        &[
            "wit.classificationNodes.getRootNodes",
            "wit.classificationNodes.getClassificationNodes",
            "wit.classificationNodes.get",
        ],
    ),
    (
        "webhook",
        "create a webhook",
        &["hooks.subscriptions.create"],
    ),
    (
        "webhooks",
        "list the webhooks of the organization",
        &["hooks.subscriptions.list"],
    ),
    (
        "service hook",
        "delete a service hook",
        &["hooks.subscriptions.delete"],
    ),
    (
        "service hooks",
        "all service hooks configured",
        &["hooks.subscriptions.list"],
    ),
    (
        "member of",
        "is a user a member of a group",
        &[
            "graph.memberships.checkMembershipExistence",
            "graph.memberships.get",
            "graph.memberships.list",
        ],
    ),
    (
        "group membership",
        "remove a group membership",
        &["graph.memberships.removeMembership"],
    ),
    (
        "group memberships",
        "group memberships of a subject",
        &["graph.memberships.list"],
    ),
    (
        "email",
        "send an email notification about selected work items",
        &["wit.sendMail.sendMail"],
    ),
    (
        "pipeline environment",
        "get a pipeline environment by id",
        &["environments.environments.get"],
    ),
    (
        "pipeline environments",
        "delete one of the pipeline environments",
        &["environments.environments.delete"],
    ),
    (
        "release stage",
        "redeploy a release stage",
        &["release.releases.updateReleaseEnvironment"],
    ),
    (
        "release stages",
        "status of the release stages of a release",
        &[
            "release.releases.getReleaseEnvironment",
            "release.releases.updateReleaseEnvironment",
        ],
    ),
    (
        "branch policy",
        "add a branch policy to the main branch",
        &["policy.configurations.create"],
    ),
    (
        "branch policies",
        "list the branch policies of a repository",
        &["policy.configurations.list"],
    ),
    (
        "query language",
        "execute a query language statement over work items",
        &["wit.wiql.queryByWiql"],
    ),
    (
        "swimlane",
        "add a swimlane to the team's kanban board",
        &["work.rows.update"],
    ),
    (
        "swimlanes",
        "rename the swimlanes of a board",
        &["work.rows.update"],
    ),
    (
        "default branch",
        "get the default branch of a repository",
        &["git.repositories.getRepository"],
    ),
    (
        "pbi",
        "create a PBI in project Fabrikam",
        &["wit.workItems.create"],
    ),
    (
        "pbis",
        "update several PBIs at once",
        &["wit.workItems.update", "wit.workItems.getWorkItemsBatch"],
    ),
    (
        "build validation",
        "add build validation to the main branch",
        &[
            "policy.configurations.create",
            "policy.configurations.update",
        ],
    ),
    (
        "merge request",
        "complete a merge request",
        &["git.pullRequests.update"],
    ),
    (
        "merge requests",
        "merge requests created by me in this project",
        &[
            "git.pullRequests.getPullRequests",
            "git.pullRequests.getPullRequestsByProject",
        ],
    ),
    (
        "team area",
        "add a team area to the Fabrikam team",
        &["work.teamfieldvalues.update"],
    ),
    (
        "team areas",
        "list the team areas of the Fabrikam team",
        &["work.teamfieldvalues.get"],
    ),
    (
        "default iteration",
        "set the default iteration of a team",
        &["work.teamsettings.update"],
    ),
    (
        "backlog iteration",
        "change a team's backlog iteration",
        &["work.teamsettings.update"],
    ),
    (
        "security permission",
        "grant a security permission to a user",
        &["security.accessControlEntries.setAccessControlEntries"],
    ),
    (
        "security permissions",
        "update security permissions of a group on a namespace token",
        &["security.accessControlEntries.setAccessControlEntries"],
    ),
    (
        "work item relation",
        "add a parent work item relation to a task",
        &["wit.workItems.update"],
    ),
    (
        "work item relations",
        "remove work item relations from a bug",
        &["wit.workItems.update"],
    ),
    (
        "project iteration",
        "create a project iteration named Sprint 12",
        &["wit.classificationNodes.createOrUpdate"],
    ),
    (
        "project iterations",
        "list the project iterations",
        &[
            "wit.classificationNodes.getClassificationNodes",
            "wit.classificationNodes.get",
            "wit.classificationNodes.getRootNodes",
        ],
    ),
    (
        "project area",
        "delete a project area",
        &["wit.classificationNodes.delete"],
    ),
    (
        "project areas",
        "list the project areas",
        &[
            "wit.classificationNodes.getClassificationNodes",
            "wit.classificationNodes.get",
            "wit.classificationNodes.getRootNodes",
        ],
    ),
    (
        "stage",
        "get a stage of a release",
        &["release.releases.getReleaseEnvironment"],
    ),
    (
        "stages",
        "show stages of a release",
        &["release.releases.getReleaseEnvironment"],
    ),
    (
        "yaml pipeline",
        "add a new YAML pipeline for a repository",
        &["pipelines.pipelines.create"],
    ),
    (
        "yaml pipelines",
        "which YAML pipelines exist",
        &["pipelines.pipelines.list"],
    ),
    (
        "from workitems",
        "select id from workitems where state is active",
        &["wit.wiql.queryByWiql"],
    ),
    (
        "from workitemlinks",
        "select id from workitemlinks where type is parent",
        &["wit.wiql.queryByWiql"],
    ),
    (
        "work item state",
        "update a work item state",
        &["wit.workItems.update"],
    ),
    (
        "pass rate",
        "what is the pass rate of test run 42",
        &["test.runs.getTestRunStatistics"],
    ),
    (
        "pass percentage",
        "test run pass percentage",
        &["test.runs.getTestRunStatistics"],
    ),
    (
        "react",
        "react with a heart to a work item comment",
        &["wit.commentsReactions.create"],
    ),
    (
        "code search",
        "run a code search for a function name",
        &["search.codeSearchResults.fetchCodeSearchResults"],
    ),
    (
        "search code",
        "search code for a string",
        &["search.codeSearchResults.fetchCodeSearchResults"],
    ),
    (
        "work item search",
        "work item search for a phrase",
        &["search.workItemSearchResults.fetchWorkItemSearchResults"],
    ),
    (
        "search work items",
        "search work items for the text login error",
        &["search.workItemSearchResults.fetchWorkItemSearchResults"],
    ),
    (
        "wiki search",
        "wiki search for a phrase",
        &["search.wikiSearchResults.fetchWikiSearchResults"],
    ),
    (
        "search wiki",
        "search wiki for onboarding notes",
        &["search.wikiSearchResults.fetchWikiSearchResults"],
    ),
];

#[test]
fn every_vocabulary_entry_finds_its_operation() {
    use opcat_runtime::glossary::TERMS;
    let phrases: std::collections::BTreeSet<&str> = TERMS.iter().map(|(p, _)| *p).collect();
    let tested: std::collections::BTreeSet<&str> = VOCABULARY.iter().map(|(p, _, _)| *p).collect();
    assert_eq!(phrases, tested, "one query per vocabulary entry");
    let mut failures = Vec::new();
    for (phrase, query, want) in VOCABULARY {
        // The phrase's words, as the glossary matches them (punctuation separates words).
        let words: Vec<String> = query
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        assert!(
            format!(" {} ", words.join(" ")).contains(&format!(" {phrase} ")),
            "{query:?} lacks {phrase:?}"
        );
        for id in *want {
            assert!(catalog().operation(id).is_some(), "no operation {id}");
        }
        let got = top(query, 5);
        if !want.iter().any(|w| got.iter().any(|g| g == w)) {
            failures.push(format!(
                "{phrase}: {query:?} -> {got:?}, want one of {want:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A summary matches with its prepositions in place: "add an agent pool" is not `agents.add`,
/// "Adds an agent to a pool." (before, that summary matched it and came first).
#[test]
fn a_compound_noun_is_not_a_summary_with_a_preposition() {
    assert_first(&[("add an agent pool", "distributedTask.taskAgent.pools.add")]);
}

/// A possessive's `s` is not a word: "a team's area paths" holds the glossary's "team area",
/// a team's field values (before, the project's classification nodes came first).
#[test]
fn a_possessive_keeps_the_phrase_whole() {
    assert_first(&[
        ("set a team's area paths", "work.teamfieldvalues.update"),
        ("get a team's area paths", "work.teamfieldvalues.get"),
        (
            "change my team\u{2019}s areas",
            "work.teamfieldvalues.update",
        ),
    ]);
}

/// A change of state (complete, merge, lock, unlock) is an update of the resource: the PATCH of
/// the pull request or the ref comes before the reads that share every word with it. (In
/// this catalog, BM25 alone, "abandon a pull request" still misses the update: the word is
/// nowhere in its text; hybrid finds it first.)
#[test]
fn a_change_of_state_finds_the_update() {
    assert_first(&[
        ("complete a pull request", "git.pullRequests.update"),
        ("merge a pull request", "git.pullRequests.update"),
        ("lock a branch", "git.refs.updateRef"),
        ("unlock a branch", "git.refs.updateRef"),
    ]);
}

/// A fork is a repository created with a parent (`parentRepository` in the body), not the
/// list of a repository's forks.
#[test]
fn a_fork_is_a_repository_created() {
    assert_first(&[("fork a repository", "git.repositories.create")]);
}

/// A release is deployed to a stage by a PATCH of the release's environment (its status
/// set to in progress), not by reading its deployments.
#[test]
fn a_deployment_is_an_update_of_the_release_environment() {
    assert_first(&[(
        "deploy release 12 to production",
        "release.releases.updateReleaseEnvironment",
    )]);
}

/// A question with no verb of its own asks to read: the list comes before the updates and
/// the state changes that share its words.
#[test]
fn a_question_finds_the_read() {
    assert_first(&[
        ("how many builds failed this week", "build.builds.list"),
        (
            "what states can a User Story be in",
            "wit.workItemTypeStates.list",
        ),
    ]);
}

/// "runs" and "queues" after a noun name the resource; they do not ask to run or queue one.
#[test]
fn a_verb_word_after_a_noun_names_the_resource() {
    assert_first(&[
        ("test runs of a project", "test.runs.list"),
        (
            "agent queues in a project",
            "distributedTask.taskAgent.queues.getAgentQueues",
        ),
    ]);
}

/// Linking is an update of a work item's relations; importing creates an import request.
#[test]
fn linking_and_importing_are_actions() {
    for (query, want) in [
        (
            "link a work item to another work item",
            "wit.workItems.update",
        ),
        (
            "import a git repository from another server",
            "git.importRequests.create",
        ),
    ] {
        let got = top(query, 3);
        assert!(got.iter().any(|id| id == want), "{query:?} -> {got:?}");
    }
}

/// In a long description, a resource named late ("...with the files added, edited and
/// deleted") does not take the place of the one its first words name.
#[test]
fn a_long_description_is_about_its_first_words() {
    assert_first(&[
        (
            "Get the differences between two commits or branches of a repository: the files \
             added, edited and deleted.",
            "git.diffs.get",
        ),
        (
            "Get the test results of a test run, with outcome and error message per test. \
             Paged by skip and top.",
            "test.results.list",
        ),
    ]);
}

/// `workitems/${type}` is the work items' path (the parameter inside the segment is no
/// resource of its own), and a product backlog item is a work item.
#[test]
fn a_work_item_of_a_type_is_created_on_its_path() {
    assert_first(&[("create a product backlog item", "wit.workItems.create")]);
}

/// A bare noun phrase naming several things asks for their list.
#[test]
fn a_bare_plural_finds_the_list() {
    assert_first(&[
        ("tags on a build", "build.tags.getBuildTags"),
        ("builds across all projects", "build.builds.list"),
        // The item read (`subscriptions/{subscriptionId}`) yields to the list.
        ("service hook subscriptions", "hooks.subscriptions.list"),
    ]);
}

/// An operation whose summary says the action fits it, whatever its method: a PATCH
/// that "Adds/Removes tags", one that can "Create, update, and delete" properties.
#[test]
fn a_summary_that_says_the_action_fits_it() {
    assert_first(&[
        (
            "remove several tags from a build",
            "build.tags.updateBuildTags",
        ),
        (
            "delete properties of a team project",
            "core.projects.setProjectProperties",
        ),
    ]);
}

/// A PUT replaces: it is never the read a query asks for.
#[test]
fn a_read_is_not_a_put() {
    assert_first(&[(
        "list the role assignments of a resource",
        "securityRoles.roleassignments.list",
    )]);
}

/// A key after a plural object is its parent's: the list, not one item of it.
#[test]
fn a_key_after_a_plural_keys_its_parent() {
    assert_first(&[
        (
            "comments on pull request thread 5",
            "git.pullRequestThreadComments.list",
        ),
        ("labels on PR 12", "git.pullRequestLabels.list"),
        (
            "statuses of pull request 12",
            "git.pullRequestStatuses.list",
        ),
        ("get the logs of build 88", "build.builds.getBuildLogs"),
        // A singular object keeps its key.
        ("get build 123", "build.builds.get"),
    ]);
}

/// Data-flow edges (stage 6b, `links.rs`) of a few operations a task chains, as the
/// search answer shows them: each required input with the read operation whose result
/// carries it. `UPDATE_EXPECT=1` rewrites the golden file.
#[test]
fn required_inputs_link_to_the_operations_that_give_them() {
    let c = catalog();
    let mut out = String::new();
    for id in [
        "git.pullRequestThreadComments.create",
        "git.pullRequests.getPullRequests",
        "git.pullRequestStatuses.create",
        "build.builds.queue",
        "build.builds.get",
        "core.teams.get",
        "wit.workItems.update",
        "release.releases.getRelease",
        "pipelines.runs.runPipeline",
        "wiki.pages.createOrUpdate",
    ] {
        let op = c
            .operation(id)
            .unwrap_or_else(|| panic!("no operation {id}"));
        out.push_str(id);
        out.push('\n');
        for (param, from, field) in op.inputs() {
            // A provider is a read the consumer can call, stored as the newest version of its
            // id: in this catalog of the latest versions, the consumer's own.
            assert_eq!(from.method(), "GET", "{id} {param} <- {}", from.id());
            assert_eq!(from.version(), op.version(), "{id} {param}");
            assert_ne!(from.index(), op.index(), "{id} {param}");
            out.push_str(&format!("  {param} <- {} {field}\n", from.id()));
        }
    }
    let linked = c
        .operations()
        .filter(|o| o.inputs().next().is_some())
        .count();
    assert!(
        linked > c.len() / 2,
        "{linked} of {} operations linked",
        c.len()
    );
    expect_test::expect_file!["golden/links.txt"].assert_eq(&out);
}

/// Several intents in one search: each query answered, every operation once over all.
#[test]
fn several_queries_in_one_search_name_each_operation_once() {
    let c = catalog();
    let queries = [
        "list repositories",
        "get a repository",
        "list pull requests",
    ];
    let opts = SearchOptions {
        limit: 5,
        ..SearchOptions::default()
    };
    let many = c.search_many(&queries, &[], &opts).unwrap();
    assert_eq!(many.len(), queries.len());
    let mut seen = std::collections::BTreeSet::new();
    for (q, r) in queries.iter().zip(&many) {
        assert_eq!(r.hits.len(), 5, "{q}");
        for h in &r.hits {
            assert!(seen.insert(h.op.id()), "{} twice (at {q:?})", h.op.id());
        }
    }
    // The first query is answered as alone; a later one loses only what came before.
    let alone = common::hit_ids(c, queries[0], &opts);
    let first: Vec<&str> = many[0].hits.iter().map(|h| h.op.id()).collect();
    assert_eq!(first, alone);
    let second = common::hit_ids(c, queries[1], &opts);
    assert!(
        second
            .iter()
            .any(|id| many[0].hits.iter().any(|h| h.op.id() == id))
    );
    let kept: Vec<&String> = second
        .iter()
        .filter(|id| !many[0].hits.iter().any(|h| h.op.id() == *id))
        .collect();
    let got: Vec<&str> = many[1].hits.iter().map(|h| h.op.id()).collect();
    for (k, g) in kept.iter().zip(&got) {
        assert_eq!(k.as_str(), *g);
    }
}

/// A query that is word for word an operation's summary finds that operation first (issue
/// 13: "an exact or near-exact summary match wins"), not a sub-resource sharing its words
/// (`Create a pull request.` against `Create a pull request status.`). Over every
/// operation whose summary no other operation shares; before the re-rank compared
/// summaries, 81% came first.
#[test]
fn a_summary_as_the_query_finds_its_operation_first() {
    let c = catalog();
    let mut by_summary: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for op in c.operations() {
        if op.summary().split_whitespace().count() >= 3 {
            by_summary
                .entry(op.summary().to_lowercase())
                .or_default()
                .push(op.id());
        }
    }
    let opts = SearchOptions {
        limit: 1,
        ..SearchOptions::default()
    };
    let (mut total, mut first, mut misses) = (0, 0, Vec::new());
    for ids in by_summary.values().filter(|ids| ids.len() == 1) {
        let op = c.operation(ids[0]).unwrap();
        total += 1;
        let got = common::hit_ids(c, op.summary(), &opts);
        if got.first().map(String::as_str) == Some(op.id()) {
            first += 1;
        } else {
            misses.push(format!("{:?} -> {got:?}", op.summary()));
        }
    }
    assert!(total > 900, "{total}");
    let share = first as f64 / total as f64;
    assert!(
        share >= 0.95,
        "{first} of {total} first:\n{}",
        misses.join("\n")
    );
    let got = common::hit_ids(c, "Create a pull request.", &opts);
    assert_eq!(got, ["git.pullRequests.create"]);
}

/// Each query's first hit in the latest catalog is the operation given.
fn first_hits(cases: &[(&str, &str)]) {
    let opts = SearchOptions {
        limit: 1,
        ..SearchOptions::default()
    };
    for (query, want) in cases {
        let got = common::hit_ids(catalog(), query, &opts);
        assert_eq!(got, [*want], "{query:?}");
    }
}

/// An operation whose name opens with another kind of action yields: installing is not
/// `installedExtensions.update`, importing not restoring from the recycle bin.
#[test]
fn an_operation_named_for_another_action_yields() {
    first_hits(&[
        (
            "install a marketplace extension",
            "extensionManagement.installedExtensions.installExtensionByName",
        ),
        (
            "import a repository from Bitbucket",
            "git.importRequests.create",
        ),
    ]);
}

/// An operation named for its object in the other number yields: one reviewer is not the
/// batch of reviewers, several tags are not one tag.
#[test]
fn an_operation_named_in_the_other_number_yields() {
    first_hits(&[
        (
            "add a reviewer to pull request 12",
            "git.pullRequestReviewers.createPullRequestReviewer",
        ),
        (
            "add reviewers to a pull request",
            "git.pullRequestReviewers.createPullRequestReviewers",
        ),
        ("add tags to build 5", "build.tags.addBuildTags"),
        ("add a tag to build 5", "build.tags.addBuildTag"),
        ("get a build log", "build.builds.getBuildLog"),
        ("get the logs of a build", "build.builds.getBuildLogs"),
    ]);
}

/// An update or a deletion of several things, no key given, is the batch on the collection;
/// of one thing, the item's own operation.
#[test]
fn a_plural_object_updates_the_collection() {
    first_hits(&[
        (
            "update secure files",
            "distributedTask.taskAgent.securefiles.updateSecureFiles",
        ),
        (
            "update a secure file",
            "distributedTask.taskAgent.securefiles.updateSecureFile",
        ),
        (
            "replace dashboards of a team",
            "dashboard.dashboards.replaceDashboards",
        ),
        (
            "replace a dashboard",
            "dashboard.dashboards.replaceDashboard",
        ),
        // "Updates a build." is this query's summary only with plurals set aside.
        ("update builds", "build.builds.updateBuilds"),
        ("update a build", "build.builds.updateBuild"),
        (
            "update user entitlements",
            "memberEntitlementManagement.userEntitlements.updateUserEntitlements",
        ),
        (
            "update a user entitlement",
            "memberEntitlementManagement.userEntitlements.updateUserEntitlement",
        ),
    ]);
}

/// A query that is an operation's name in words finds it, not the resource its words name
/// (`workitems`) nor the item's read.
#[test]
fn a_name_in_words_finds_its_operation() {
    first_hits(&[
        ("destroy work item", "wit.recyclebin.destroyWorkItem"),
        ("restore work item", "wit.recyclebin.restoreWorkItem"),
        (
            "get deleted work items",
            "wit.recyclebin.getDeletedWorkItems",
        ),
        ("get work items batch", "wit.workItems.getWorkItemsBatch"),
        ("delete work items", "wit.workItems.deleteWorkItems"),
    ]);
}

/// Siblings whose summaries differ only in a plural or an article match a query that is
/// one of them alike once plurals and articles are set aside; the one it quotes word for
/// word comes first, each way round.
#[test]
fn a_summary_quoted_word_for_word_beats_its_plural_sibling() {
    first_hits(&[
        (
            "Set role assignment on a resource",
            "securityRoles.roleassignments.setRoleAssignment",
        ),
        (
            "Set role assignments on a resource",
            "securityRoles.roleassignments.setRoleAssignments",
        ),
        (
            "Update the service endpoint",
            "serviceEndpoint.endpoints.updateServiceEndpoint",
        ),
        (
            "Update the service endpoints.",
            "serviceEndpoint.endpoints.updateServiceEndpoints",
        ),
        (
            "Retrieve all comments associated with a specific thread in a pull request.",
            "git.pullRequestThreadComments.list",
        ),
        (
            "Retrieve a comment associated with a specific thread in a pull request.",
            "git.pullRequestThreadComments.get",
        ),
        (
            "Get an iterations chart image.",
            "work.chartimages.getIterationsChartImage",
        ),
        (
            "Get an iteration chart image.",
            "work.chartimages.getIterationChartImage",
        ),
    ]);
}
