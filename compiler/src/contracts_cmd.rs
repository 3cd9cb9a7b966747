//! `opcat contracts`: print rendered operation contracts, expand named types, and measure
//! them (`--stats`: token counts, ratio to the raw JSON Schema, field and example coverage).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use opcat_compiler::read::{FsLoader, VersionSelect};
use opcat_compiler::render::{
    self, DEFAULT_TOKEN_BUDGET, RenderOptions,
    measure::{self, RAW_DEPTH},
};
use opcat_compiler::{Options, compile};

#[derive(Debug, Args)]
pub struct ContractsArgs {
    /// Spec file or folder (as for `build`). The newest cloud version per area is rendered.
    #[arg(long, value_name = "FILE_OR_DIR")]
    specs: Option<PathBuf>,
    /// Print the contract of one operation id (`git.pullRequests.getPullRequestsByProject`).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// Print the declaration of a named type (from the document of --id, else every
    /// document that has it).
    #[arg(long = "type", value_name = "NAME")]
    type_name: Option<String>,
    /// Named types to expand whatever the budget.
    #[arg(long, value_name = "T,U", value_delimiter = ',')]
    expand: Vec<String>,
    /// Token budget per contract (o200k_base).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TOKEN_BUDGET)]
    budget: usize,
    /// Expand named types up to this many levels from the signature (budget permitting).
    #[arg(long, value_name = "N", default_value_t = render::DEFAULT_EXPAND_DEPTH)]
    depth: usize,
    /// Measure every contract: tokens, ratio to raw JSON Schema, response coverage.
    #[arg(long)]
    stats: bool,
    /// With --stats: named-type inlining depth of the raw JSON Schema baseline.
    #[arg(long, value_name = "N", default_value_t = RAW_DEPTH)]
    raw_depth: usize,
    /// With --stats: list every coverage miss.
    #[arg(long)]
    misses: bool,
    /// With --id: print the raw JSON Schema baseline of the operation instead (what the
    /// --stats ratio compares with), and its token count.
    #[arg(long)]
    raw: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ContractsArgs) -> Result<ExitCode> {
    let specs = super::find_specs(args.specs)?;
    let build = compile(
        &Options {
            specs,
            versions: VersionSelect::Latest,
        },
        &FsLoader::default(),
        &|_| {},
    );
    let catalog = &build.catalog;
    if catalog.operations.is_empty() {
        bail!("no operations compiled");
    }
    let opts = RenderOptions {
        token_budget: args.budget,
        expand: args.expand,
        expand_depth: args.depth,
    };
    let doc_of = |file: &str| catalog.documents.iter().find(|d| d.file == file);

    if let Some(name) = &args.type_name {
        let docs: Vec<_> = match &args.id {
            Some(id) => {
                let op = catalog
                    .operations
                    .iter()
                    .find(|o| &o.id == id)
                    .with_context(|| format!("--id {id}: no such operation"))?;
                doc_of(&op.source.file).into_iter().collect()
            }
            None => catalog.documents.iter().collect(),
        };
        let mut found = false;
        for d in docs {
            if let Some(decl) = render::render_type(name, d) {
                println!("// {}\n{decl}", d.file);
                found = true;
            }
        }
        if !found {
            bail!("--type {name}: no such named type");
        }
        return Ok(ExitCode::SUCCESS);
    }

    if let Some(id) = &args.id {
        let op = catalog
            .operations
            .iter()
            .find(|o| &o.id == id)
            .with_context(|| format!("--id {id}: no such operation"))?;
        let doc = doc_of(&op.source.file)
            .with_context(|| format!("document {} missing", op.source.file))?;
        if args.raw {
            let raw = measure::raw_schema(op, doc, args.raw_depth);
            println!("{raw}");
            eprintln!(
                "// {} tokens (compact JSON, named types inlined {} deep)",
                measure::count_tokens(&raw.to_string()),
                args.raw_depth
            );
            return Ok(ExitCode::SUCCESS);
        }
        let c = render::render(op, doc, &opts);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&c)?);
        } else {
            print!("{}", c.text());
            eprintln!("// {} tokens (budget {})", c.tokens, opts.token_budget);
            for n in &c.notes {
                eprintln!("// note: {n}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let contracts = render::render_catalog(catalog, &opts);
    if !args.stats {
        if args.json {
            println!("{}", serde_json::to_string(&contracts)?);
        } else {
            for c in &contracts {
                println!("// {} ({} tokens)\n{}", c.id, c.tokens, c.text());
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let s = measure::stats(catalog, &contracts, opts.token_budget, args.raw_depth);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "contracts    {} (latest versions), budget {} tokens (o200k_base)",
        s.contracts, s.budget
    );
    println!(
        "tokens       mean {:.1}, p50 {}, p95 {}, max {}; {} over budget",
        s.tokens_mean, s.tokens_p50, s.tokens_p95, s.tokens_max, s.over_budget
    );
    println!(
        "raw schema   mean {:.1}, p95 {} (compact JSON Schema, named types inlined {} deep)",
        s.raw_mean, s.raw_p95, s.raw_depth
    );
    println!(
        "ratio        {:.1}% of raw (mean over mean); per operation: median {:.1}%, p95 {:.1}%",
        100.0 * s.ratio_of_means,
        100.0 * s.ratio_median,
        100.0 * s.ratio_p95
    );
    println!(
        "fields       {}/{} declared response fields at depth 1-2 shown ({:.2}%), {} missing",
        s.fields.present,
        s.fields.keys,
        s.fields.percent(),
        s.fields.misses.len()
    );
    println!(
        "examples     {} operations with a 2xx example; {}/{} keys at depth 1-2 shown ({:.2}%), {} missing",
        s.ops_with_examples,
        s.examples.present,
        s.examples.keys,
        s.examples.percent(),
        s.examples.misses.len()
    );
    for (k, n) in &s.notes {
        println!("note         {n:>5}  {k}");
    }
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in s.fields.misses.iter().chain(&s.examples.misses) {
        *reasons.entry(m.reason.as_str()).or_insert(0) += 1;
    }
    for (r, n) in &reasons {
        println!("miss         {n:>5}  {r}");
    }
    if args.misses {
        for m in s.fields.misses.iter().chain(&s.examples.misses) {
            println!("  {}  {}  {}", m.id, m.path, m.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}
