//! `opcat search` and `opcat show`: read the built artifact through `opcat-runtime`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use opcat_compiler::embed::{Embedder, ModelDir};
use opcat_compiler::output::{SearchOutput, ShowOutput};
use opcat_runtime::{Catalog, SearchMode, SearchOptions};

/// Default artifact, as `opcat build` writes it.
pub const DEFAULT_CATALOG: &str = "dist/azure-devops.opcat";

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What you are looking for, in words or by name; several queries (one per intent of a
    /// task) are answered one after the other.
    #[arg(required = true, value_name = "QUERY")]
    queries: Vec<String>,
    /// Print what the MCP `search` tool answers a model for these queries: declarations
    /// (`api.<id>(args): Promise<R>`) and result fields within the tool's token budget.
    /// Only --area and --limit apply, as in the tool.
    #[arg(long)]
    answer: bool,
    /// Most hits to show per query (default 10; with --answer, the tool's default).
    #[arg(long)]
    limit: Option<usize>,
    /// Ranking: bm25 (words), dense (embeddings), hybrid (both, fused by rank).
    #[arg(long, value_name = "bm25|dense|hybrid", default_value_t = SearchMode::default())]
    mode: SearchMode,
    /// Embed the query with the full sentence model instead of the artifact's static table
    /// (needs the model files: scripts/setup-models.sh).
    #[arg(long)]
    full_model: bool,
    /// Only operations of this area (git, wit, build, ...).
    #[arg(long)]
    area: Option<String>,
    /// Only this HTTP method.
    #[arg(long)]
    method: Option<String>,
    /// Only operations that do not change state.
    #[arg(long)]
    read_only: bool,
    /// Rank by text only, without the structural re-rank (to compare).
    #[arg(long)]
    no_rerank: bool,
    /// Only this version folder (7.2).
    #[arg(long)]
    version: Option<String>,
    /// Print JSON (schemas/search.schema.json); with several queries, JSON Lines: one such
    /// object per query, each operation once over all of them.
    #[arg(long)]
    json: bool,
    /// Artifact to read (`.opcat`, or the `.opcat.zst` release form).
    #[arg(long, default_value = DEFAULT_CATALOG, value_name = "FILE")]
    catalog: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Operation id, alias, spec operationId, or `<spec file>#<operationId>`.
    name: String,
    /// Also declare these named types (comma-separated), e.g. GitPullRequest.
    #[arg(long, value_delimiter = ',')]
    expand: Vec<String>,
    /// Print JSON (schemas/show.schema.json).
    #[arg(long)]
    json: bool,
    /// Artifact to read.
    #[arg(long, default_value = DEFAULT_CATALOG, value_name = "FILE")]
    catalog: PathBuf,
}

/// The full sentence model, embedding queries for `--full-model`.
pub struct QueryModel {
    embedder: Embedder,
}

impl QueryModel {
    /// Loads the model files, checking they are the model the catalog's vectors come from.
    pub fn load(catalog: &Catalog) -> Result<QueryModel> {
        let Some(want) = catalog.dense_model() else {
            bail!("{}", opcat_runtime::Error::NoDense);
        };
        let models = ModelDir::locate(None)?;
        let have = models.model_id()?;
        if have != want {
            bail!(
                "the catalog's vectors come from {want}, the model files are {have}: rebuild the catalog"
            );
        }
        let cache = Embedder::default_cache_dir(&models);
        Ok(QueryModel {
            embedder: Embedder::new(models, cache),
        })
    }

    /// Embeds one query (not cached: the time measured is the model's).
    pub fn embed(&mut self, text: &str) -> Result<Vec<f32>> {
        let mut v = self.embedder.embed_uncached(&[text.to_string()])?;
        v.pop().context("the model returned no vector")
    }
}

pub fn open(path: &PathBuf) -> Result<Catalog> {
    Catalog::read(path).with_context(|| {
        format!(
            "cannot open the catalog {} (build it with `opcat build`)",
            path.display()
        )
    })
}

pub fn search(args: SearchArgs) -> Result<ExitCode> {
    let catalog = open(&args.catalog)?;
    let opts = SearchOptions {
        limit: args.limit.unwrap_or(10),
        mode: args.mode,
        area: args.area,
        method: args.method,
        read_only: args.read_only,
        version: args.version,
        rerank: !args.no_rerank,
    };
    if args.answer {
        let text = opcat_compiler::agent::tools::search_text(
            &catalog,
            &args.queries,
            opts.area.as_deref(),
            args.limit,
            opcat_compiler::agent::tools::SEARCH_BUDGET,
        )?;
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut model = if args.full_model {
        Some(QueryModel::load(&catalog)?)
    } else {
        None
    };
    let vectors: Vec<Option<Vec<f32>>> = match model.as_mut() {
        Some(m) => args
            .queries
            .iter()
            .map(|q| m.embed(q).map(Some))
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let vectors: Vec<Option<&[f32]>> = vectors.iter().map(|v| v.as_deref()).collect();
    let queries: Vec<&str> = args.queries.iter().map(String::as_str).collect();
    // Several queries: each operation once, under the first query that finds it.
    let results = catalog.search_many(&queries, &vectors, &opts)?;
    let mut found = false;
    for (query, result) in queries.iter().zip(&results) {
        found |= !result.hits.is_empty();
        if args.json {
            // One query: one pretty object; several: JSON Lines, an object per query.
            let out = SearchOutput::new(query, result);
            if queries.len() == 1 {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("{}", serde_json::to_string(&out)?);
            }
            continue;
        }
        if args.queries.len() > 1 {
            println!("## {query}");
        }
        print_hits(result);
    }
    Ok(if found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_hits(result: &opcat_runtime::SearchResult<'_>) {
    if result.weak {
        println!("(no good match: the best hits below match the query weakly)");
    }
    for h in &result.hits {
        let score = if h.exact {
            "exact".to_string()
        } else if h.score < 1.0 {
            format!("{:.3}", h.score)
        } else {
            format!("{:.1}", h.score)
        };
        println!(
            "{score:>6}  {}  {} {}",
            h.op.id(),
            h.op.method(),
            h.op.path()
        );
        if !h.op.summary().is_empty() {
            println!("        {}", h.op.summary());
        }
        println!("        {}#{}", h.op.file(), h.op.operation_id());
    }
    if result.hits.is_empty() {
        println!("no operation matches");
    }
}

pub fn show(args: ShowArgs) -> Result<ExitCode> {
    let catalog = open(&args.catalog)?;
    let Some(op) = catalog.operation(&args.name) else {
        eprintln!(
            "error: no operation named `{}` (try `opcat search`)",
            args.name
        );
        return Ok(ExitCode::from(1));
    };
    let expand: Vec<&str> = args.expand.iter().map(String::as_str).collect();
    let out = ShowOutput::new(&catalog, &op, &expand);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}  {} {}{}", out.id, out.method, out.server, out.path);
    println!("source: {}#{}", out.source.file, out.source.operation_id);
    if let Some(v) = &out.api_version {
        println!("api-version: {v}");
    }
    println!("{} tokens\n", out.tokens);
    println!("{}", out.contract);
    for n in &out.notes {
        println!("// note: {n}");
    }
    Ok(ExitCode::SUCCESS)
}
