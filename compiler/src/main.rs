//! The `opcat` command line: glue between the compiler library and the terminal.

mod agent_args;
mod bench_cmd;
mod call_cmd;
mod contracts_cmd;
mod exec_cmd;
mod query_cmd;
mod serve_cmd;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// The build allocates millions of small JSON nodes; mimalloc roughly halves that cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use opcat_compiler::read::{FsLoader, VersionSelect, numeric_version};
use opcat_compiler::{Build, Options, STAGES, compile};

/// Compile REST API contracts into one searchable operation catalog for code-mode agents.
#[derive(Debug, Parser)]
#[command(name = "opcat", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = "\
Typical use:
  opcat build                                   compile ../shared/specs into dist/azure-devops.opcat
  opcat search \"list pull requests\"            find operations (--json for machines)
  opcat show git.pullRequests.getPullRequestsByProject     read its contract
  opcat call core.projects.list --org fabrikam  call it (token in AZURE_DEVOPS_PAT)
  opcat exec prog.js --org fabrikam             run a program calling api.<id>(args)
  opcat serve --org fabrikam                    search + execute for an agent, over MCP

Environment: AZURE_DEVOPS_PAT (token, never printed), AZURE_DEVOPS_ORG, AZURE_DEVOPS_SERVER_URL,
AZURE_DEVOPS_SERVICE, OPCAT_SPECS (build input), OPCAT_BASE_URL (tests: loopback only).

Exit codes: 0 success; 1 nothing found or built, or the program failed (exec); 2 usage or
configuration error; 3 arguments do not match the contract (call), or a limit stopped the
program (exec); 4 the server answered an error (call); 5 network failure (call). `opcat <command> --help` has the details; docs/executors.md too.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile specs into a catalog (default: the Azure DevOps specs found nearby).
    Build(BuildArgs),
    /// Render operation contracts (TypeScript), or measure them with --stats.
    Contracts(contracts_cmd::ContractsArgs),
    /// Search the catalog artifact for operations.
    Search(query_cmd::SearchArgs),
    /// Measure search quality and latency on a JSONL query set (offline benchmark).
    Bench(bench_cmd::BenchArgs),
    /// Show one operation's contract by id, alias or operationId.
    Show(query_cmd::ShowArgs),
    /// Call one operation: check the arguments, send with $AZURE_DEVOPS_PAT, print JSON.
    Call(call_cmd::CallArgs),
    /// Run a JavaScript/TypeScript program that calls operations (`api.<id>(args)`) in the
    /// embedded sandbox; the token stays outside it.
    Exec(exec_cmd::ExecArgs),
    /// Serve search, execute, contract and call to an agent over stdio (Model Context
    /// Protocol).
    Serve(serve_cmd::ServeArgs),
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// Spec file or folder. Default: $OPCAT_SPECS, then specs/azure-devops/specification,
    /// then ../shared/specs/azure-devops/specification.
    #[arg(long, value_name = "FILE_OR_DIR")]
    specs: Option<PathBuf>,
    /// Which version folders to compile: `latest` (newest cloud version per area) or `all`
    /// (every folder, on-premises included).
    #[arg(
        long,
        value_name = "latest|all",
        default_value = "latest",
        conflicts_with = "version"
    )]
    versions: String,
    /// Per area, the newest cloud version not above this one (e.g. 7.1).
    #[arg(long, value_name = "X.Y")]
    version: Option<String>,
    /// Also write the normalized catalog as JSON (`<out>/<name>.catalog.json`).
    #[arg(long, value_name = "json")]
    emit: Option<String>,
    /// Output folder.
    #[arg(long, default_value = "dist", value_name = "DIR")]
    out: PathBuf,
    /// Catalog name used in output file names. Default: `azure-devops` for the Azure
    /// DevOps layout, else the spec file or folder name.
    #[arg(long)]
    name: Option<String>,
    /// Print every diagnostic (default: the first 10).
    #[arg(long)]
    diagnostics: bool,
    /// Build without the embedding index (BM25 search only; no model needed).
    #[arg(long)]
    no_embed: bool,
    /// Model files (default: $OPCAT_MODELS, then .cache/models; scripts/setup-models.sh
    /// puts them there).
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        die_quietly_on_closed_pipe();
    }
    let result = match cli.command {
        Command::Build(args) => build(args),
        Command::Contracts(args) => contracts_cmd::run(args),
        Command::Search(args) => query_cmd::search(args),
        Command::Bench(args) => bench_cmd::run(args),
        Command::Show(args) => query_cmd::show(args),
        Command::Call(args) => call_cmd::run(args),
        Command::Exec(args) => exec_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `opcat show X | head` closes stdout early. Rust ignores SIGPIPE, so the next `println!`
/// would panic; the default action ends the process quietly, as other Unix tools do. Not
/// for `serve`: its transport reports a closed pipe as the end of the session.
fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn find_specs(arg: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = arg {
        if !p.exists() {
            bail!("--specs {}: no such file or folder", p.display());
        }
        return Ok(p);
    }
    if let Some(p) = std::env::var_os("OPCAT_SPECS") {
        let p = PathBuf::from(p);
        if !p.exists() {
            bail!("OPCAT_SPECS={}: no such file or folder", p.display());
        }
        return Ok(p);
    }
    let candidates = [
        "specs/azure-devops/specification",
        "../shared/specs/azure-devops/specification",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .with_context(|| {
            format!(
                "no specs found: pass --specs, set OPCAT_SPECS, or run `specs/fetch.sh` \
                 (looked in {})",
                candidates.join(", ")
            )
        })
}

fn catalog_name(specs: &Path, name: Option<String>) -> String {
    if let Some(n) = name {
        return n;
    }
    let s = specs.to_string_lossy();
    if s.contains("azure-devops") {
        return "azure-devops".into();
    }
    let p = if specs.file_name().is_some_and(|n| n == "specification") {
        specs.parent().unwrap_or(specs)
    } else {
        specs
    };
    p.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "catalog".into())
}

fn build(args: BuildArgs) -> Result<ExitCode> {
    let specs = find_specs(args.specs)?;
    let versions = match (args.version, args.versions.as_str()) {
        (Some(v), _) => {
            if numeric_version(&v).is_none() {
                bail!("--version {v}: expected a version like 7.1");
            }
            VersionSelect::AtMost(v)
        }
        (None, "latest") => VersionSelect::Latest,
        (None, "all") => VersionSelect::All,
        (None, other) => bail!("--versions {other}: expected `latest` or `all`"),
    };
    let emit_json = match args.emit.as_deref() {
        None => false,
        Some("json") => true,
        Some(other) => bail!("--emit {other}: expected `json`"),
    };
    let name = catalog_name(&specs, args.name);
    let tty = std::io::stderr().is_terminal();
    let bar = if tty {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} compiling {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let opts = Options {
        specs: specs.clone(),
        versions,
    };
    if tty {
        // The bar's length costs a second walk of the folders; only a terminal shows it.
        bar.set_length(count_hint(&opts));
    }
    // The tokenizer the render stage counts with loads beside the compile stage, whose
    // threads wait on the largest spec files at the end.
    let warm = std::thread::spawn(opcat_compiler::render::measure::warm_up);
    let build = compile(&opts, &FsLoader::default(), &|file| {
        bar.inc(1);
        bar.set_message(file.to_string());
    });
    bar.finish_and_clear();
    let _ = warm.join();

    print_summary(&specs, &build, args.diagnostics);
    if build.catalog.operations.is_empty() {
        eprintln!("error: no operations compiled");
        return Ok(ExitCode::from(1));
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    if emit_json {
        let path = args.out.join(format!("{name}.catalog.json"));
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut w, &build.catalog)?;
        w.flush()?;
        println!("wrote {}", path.display());
    }
    // The model files are found first, so that a missing one fails before any work.
    let models = if args.no_embed {
        None
    } else {
        Some(opcat_compiler::embed::ModelDir::locate(
            args.models.as_deref(),
        )?)
    };
    write_artifact(&args.out, &name, &specs, &opts, build, models, tty)?;
    Ok(ExitCode::SUCCESS)
}

/// Embeds the operations and distills the query table (see `distill.rs`).
fn dense_index(
    build: &Build,
    models: opcat_compiler::embed::ModelDir,
    progress: bool,
) -> Result<opcat_runtime::format::DenseData> {
    use opcat_compiler::embed::Embedder;
    let t = std::time::Instant::now();
    let cache = Embedder::default_cache_dir(&models);
    let mut embedder = Embedder::new(models, cache);
    let (data, r) = opcat_compiler::distill::dense_index(&build.catalog, &mut embedder, progress)?;
    println!(
        "embeddings   {} operations, {} table tokens, {} of {} components ({:.1}% of the energy; \
         {} tokens fitted on {} phrases, error {:.5} -> {:.5}); \
         {} texts, {} cached; model {:.1} s, fit {:.1} s, total {:.1} s",
        r.operations,
        r.tokens,
        data.dim,
        data.model_dim,
        r.energy * 100.0,
        r.fit.fitted_tokens,
        r.fit.texts,
        r.fit.error_before,
        r.fit.error_after,
        r.texts,
        r.cached,
        r.model_seconds,
        r.fit_seconds,
        t.elapsed().as_secs_f64(),
    );
    Ok(data)
}

/// Renders contracts, makes the embedding index when `models` are given (beside rendering)
/// and writes `<name>.opcat`, `<name>.opcat.zst` and `manifest.json`.
fn write_artifact(
    out: &Path,
    name: &str,
    specs: &Path,
    opts: &Options,
    build: Build,
    models: Option<opcat_compiler::embed::ModelDir>,
    progress: bool,
) -> Result<()> {
    use opcat_compiler::emit::{self, FileEntry, Manifest};
    let t = std::time::Instant::now();
    let source = spec_source(specs);
    let mut embedded = None;
    let mut dense_failed = None;
    let mut dense_ms = 0.0;
    let dense = || {
        let models = models?;
        let t = std::time::Instant::now();
        let made = dense_index(&build, models, progress);
        dense_ms = t.elapsed().as_secs_f64() * 1e3;
        match made {
            Ok(d) => {
                embedded = Some(d.model.clone());
                Some(d)
            }
            Err(e) => {
                dense_failed = Some(e);
                None
            }
        }
    };
    let mut render_ms = 0.0;
    let render = || {
        let t = std::time::Instant::now();
        let contracts = opcat_compiler::render::render_catalog(
            &build.catalog,
            &opcat_compiler::render::RenderOptions::default(),
        );
        render_ms = t.elapsed().as_secs_f64() * 1e3;
        contracts
    };
    let bytes = emit::rendering(&build.catalog, render, dense, name, &source)
        .context("cannot build the artifact")?;
    if let Some(e) = dense_failed {
        return Err(e);
    }
    // Render and the embedding index run beside the BM25 index, so emit's own time is what
    // they leave.
    let emit_ms = t.elapsed().as_secs_f64() * 1e3 - render_ms.max(dense_ms);
    let artifact = format!("{name}.opcat");
    let release = format!("{name}.opcat.zst");
    let write = |file: &str, data: &[u8]| -> Result<()> {
        let path = out.join(file);
        std::fs::write(&path, data).with_context(|| format!("cannot write {}", path.display()))
    };
    let counts = [
        ("operations", build.catalog.operations.len()),
        ("documents", build.catalog.documents.len()),
        ("namedTypes", build.summary.named_types),
        ("diagnostics", build.diagnostics.len()),
    ];
    // zstd is one thread; the other core writes the artifact, hashes it and frees the
    // compiled catalog meanwhile.
    let t = std::time::Instant::now();
    let (zst, written) = rayon::join(
        || emit::release_form(&bytes).context("zstd"),
        || {
            drop(build);
            write(&artifact, &bytes).map(|()| FileEntry::of(&bytes))
        },
    );
    let (zst, artifact_entry) = (zst?, written?);
    let zstd_ms = t.elapsed().as_secs_f64() * 1e3;
    write(&release, &zst)?;
    let versions = match &opts.versions {
        VersionSelect::Latest => "latest".to_string(),
        VersionSelect::All => "all".to_string(),
        VersionSelect::AtMost(v) => format!("at-most-{v}"),
    };
    let manifest = Manifest {
        manifest_version: emit::MANIFEST_VERSION,
        format_version: opcat_runtime::FORMAT_VERSION,
        name: name.to_string(),
        source,
        build: [
            ("versions".to_string(), versions),
            (
                "embeddings".to_string(),
                embedded.unwrap_or_else(|| "none".to_string()),
            ),
        ]
        .into_iter()
        .collect(),
        counts: counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        files: [
            (artifact.clone(), artifact_entry),
            (release.clone(), FileEntry::of(&zst)),
        ]
        .into_iter()
        .collect(),
    };
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    write("manifest.json", text.as_bytes())?;
    println!(
        "artifact     {} ({:.1} MB), {} ({:.1} MB), manifest.json; render {render_ms:.0} ms, \
         emit {emit_ms:.0} ms, zstd {zstd_ms:.0} ms",
        out.join(&artifact).display(),
        bytes.len() as f64 / 1e6,
        release,
        zst.len() as f64 / 1e6,
    );
    Ok(())
}

/// The upstream commit of the specs when it can be found (`SOURCE.md` beside the
/// `specification` folder, or a git checkout there), else the folder name.
fn spec_source(specs: &Path) -> String {
    let dir = if specs.is_file() {
        specs.parent()
    } else {
        Some(specs)
    };
    let parent = dir.and_then(|d| d.parent());
    let commit = parent.and_then(|p| {
        let text = std::fs::read_to_string(p.join("SOURCE.md"))
            .or_else(|_| std::fs::read_to_string(p.join(".git/HEAD")))
            .ok()?;
        text.split(|c: char| !c.is_ascii_hexdigit())
            .find(|w| w.len() == 40)
            .map(str::to_string)
    });
    let what = specs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match commit {
        Some(c) if text_mentions_vsts(parent) => format!("MicrosoftDocs/vsts-rest-api-specs@{c}"),
        Some(c) => format!("{what}@{c}"),
        None => what,
    }
}

fn text_mentions_vsts(dir: Option<&Path>) -> bool {
    dir.and_then(|d| std::fs::read_to_string(d.join("SOURCE.md")).ok())
        .is_some_and(|t| t.contains("vsts-rest-api-specs"))
}

/// Number of spec files, for the progress bar (discovery is cheap).
fn count_hint(opts: &Options) -> u64 {
    opcat_compiler::read::discover(&opts.specs, &opts.versions)
        .files
        .len() as u64
}

fn print_summary(specs: &Path, build: &Build, all_diags: bool) {
    let s = &build.summary;
    println!("specs        {}", specs.display());
    println!(
        "files        {} ({} failed)   documents {}",
        s.files,
        s.files_failed,
        build.catalog.documents.len()
    );
    println!("operations   {}", s.operations);
    println!("named types  {}", s.named_types);
    println!(
        "responses    {} enveloped as {{count, value}} ({} confirmed by a recorded example), \
         {} confirmed as declared, {} contradicted by an example",
        s.enveloped, s.enveloped_confirmed, s.confirmed, s.contradicted
    );
    println!(
        "examples     {} attached, {} found, {} missing",
        s.examples,
        s.examples_found,
        s.examples - s.examples_found
    );
    let diag_line: Vec<String> = s
        .diagnostics
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "diagnostics  {} ({})",
        build.diagnostics.len(),
        if diag_line.is_empty() {
            "none".to_string()
        } else {
            diag_line.join(", ")
        }
    );
    let stages: Vec<String> = STAGES
        .iter()
        .map(|st| format!("{st} {:.0}", s.stage_ms.get(*st).copied().unwrap_or(0.0)))
        .collect();
    println!(
        "time         {:.0} ms wall; per stage, ms summed over threads: {}",
        s.wall_ms,
        stages.join(", ")
    );
    let limit = if all_diags { usize::MAX } else { 10 };
    // Problems first; an example found under another letter case is only a notice.
    let notice = |d: &&opcat_compiler::diag::Diagnostic| {
        d.kind == opcat_compiler::diag::DiagKind::ExampleCase
    };
    let ordered = build
        .diagnostics
        .iter()
        .filter(|d| !notice(d))
        .chain(build.diagnostics.iter().filter(notice));
    for d in ordered.take(limit) {
        eprintln!("  {d}");
    }
    if build.diagnostics.len() > limit {
        eprintln!(
            "  ... {} more (use --diagnostics to list all)",
            build.diagnostics.len() - limit
        );
    }
}
