//! `opcat serve`: a Model Context Protocol server over stdio (the official `rmcp` SDK) with
//! three tools, `search`, `contract` and `call`, over one catalog and the server's own
//! credentials. The model names operations and arguments; it never sees the token.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use opcat_compiler::exec::{Config, Executor, Paging};
use opcat_compiler::tools;
use opcat_runtime::Catalog;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

use crate::query_cmd::{DEFAULT_CATALOG, open};

#[derive(Debug, Args)]
#[command(after_long_help = SERVE_HELP)]
pub struct ServeArgs {
    /// Artifact to serve.
    #[arg(long, default_value = DEFAULT_CATALOG, value_name = "FILE")]
    catalog: PathBuf,
    /// Azure DevOps organization for `call`. Default: $AZURE_DEVOPS_ORG.
    #[arg(long, value_name = "ORG")]
    org: Option<String>,
    /// Token budget of one `search` answer (o200k_base tokens).
    #[arg(long, value_name = "TOKENS", default_value_t = tools::SEARCH_BUDGET)]
    search_budget: u32,
}

const SERVE_HELP: &str = "\
Speaks MCP (JSON-RPC) on stdin/stdout; logs go to stderr. Register it with an agent as a
stdio server, e.g. {\"command\": \"opcat\", \"args\": [\"serve\", \"--org\", \"fabrikam\"]}.

Tools:
  search    {query, area?, limit?}  compact hits: id, method, summary, one-line signature
  contract  {id, expand?}           the TypeScript contract: arguments and result types
  call      {id, args, all_pages?}  prepares, checks and sends one request; JSON result

Environment: AZURE_DEVOPS_PAT (the token `call` sends; never shown to the model),
AZURE_DEVOPS_ORG, AZURE_DEVOPS_SERVICE, OPCAT_BASE_URL (tests: loopback only).

Exit codes: 0 the client closed the session, 2 the catalog cannot be opened or the
transport failed.";

const INSTRUCTIONS: &str = "\
Azure DevOps REST API, as a catalog of typed operations. Workflow: one `search` with what \
you want to do (hits come with one-line signatures), then `call` the operation with its \
arguments. Use `contract` only when you need the result's field types or an argument's \
shape that the signature does not show. The organization, api-version and credentials are \
the server's: never pass them.";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SearchParams {
    /// What you want to do, in words: "list pull requests of a repository", "create a work item".
    query: String,
    /// Only this area: git, wit, build, core, pipelines, release, work, test, ...
    #[serde(default)]
    area: Option<String>,
    /// Most hits (default 8, at most 25).
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ContractParams {
    /// Operation id from `search`, e.g. git.pullRequests.getPullRequestsByProject.
    id: String,
    /// Named types to declare too (those listed as not declared), e.g. ["IdentityRef"].
    #[serde(default)]
    expand: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct CallParams {
    /// Operation id from `search`.
    id: String,
    /// The operation's arguments as one object, named as in its signature, e.g.
    /// {"project": "Fabrikam", "searchCriteria.status": "active", "$top": 10}. The request
    /// body goes under "body". Never organization or api-version.
    #[serde(default)]
    args: Option<serde_json::Map<String, serde_json::Value>>,
    /// Follow continuation tokens and merge all pages (default false).
    #[serde(default)]
    all_pages: Option<bool>,
}

struct State {
    catalog: Catalog,
    executor: Executor,
    budget: u32,
}

#[derive(Clone)]
struct Server {
    state: Arc<State>,
    #[allow(dead_code)] // read by the `tool_handler` macro
    tool_router: ToolRouter<Server>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("catalog", &self.state.catalog)
            .finish()
    }
}

fn text(ok: bool, s: String) -> CallToolResult {
    let content = vec![ContentBlock::text(s)];
    if ok {
        CallToolResult::success(content)
    } else {
        CallToolResult::error(content)
    }
}

#[tool_router]
impl Server {
    #[tool(
        description = "Find Azure DevOps REST operations by what they do. Returns the best \
        matches, each as `id  METHOD  summary` and a one-line TypeScript signature of its \
        arguments and result, within a token budget. Usually enough to `call` right away.",
        annotations(read_only_hint = true)
    )]
    async fn search(&self, Parameters(p): Parameters<SearchParams>) -> CallToolResult {
        match tools::search_text(
            &self.state.catalog,
            &p.query,
            p.area.as_deref(),
            p.limit,
            self.state.budget,
        ) {
            Ok(s) => text(true, s),
            Err(e) => text(false, format!("search failed: {e}")),
        }
    }

    #[tool(
        description = "The full contract of one operation (id from `search`): its signature \
        with argument docs, and TypeScript declarations of the types it takes and returns. \
        Use it when the one-line signature is not enough.",
        annotations(read_only_hint = true)
    )]
    async fn contract(&self, Parameters(p): Parameters<ContractParams>) -> CallToolResult {
        let expand: Vec<&str> = p.expand.iter().flatten().map(String::as_str).collect();
        match tools::contract_text(&self.state.catalog, &p.id, &expand) {
            Some(s) => text(true, s),
            None => text(
                false,
                format!("no operation named `{}`: use an id from `search`", p.id),
            ),
        }
    }

    #[tool(
        description = "Call one Azure DevOps operation and get its JSON response. `id` from \
        `search`; `args` an object named as in the signature (path, query and header \
        arguments, and `body` for the request body). Arguments are checked first: a \
        mistake returns every problem with the signature, nothing is sent. HTTP errors \
        return the status and the server's message. Credentials and organization are the \
        server's.",
        annotations(read_only_hint = false, open_world_hint = true)
    )]
    async fn call(&self, Parameters(p): Parameters<CallParams>) -> CallToolResult {
        let state = self.state.clone();
        let args = serde_json::Value::Object(p.args.unwrap_or_default());
        let paging = Paging {
            all: p.all_pages.unwrap_or(false),
            ..Paging::default()
        };
        let id = p.id;
        let result = tokio::task::spawn_blocking(move || {
            tools::call_text(&state.executor, &state.catalog, &id, &args, paging)
        })
        .await;
        match result {
            Ok(Ok(s)) => text(true, s),
            Ok(Err(s)) => text(false, s),
            Err(e) => text(false, format!("the call did not finish: {e}")),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions(INSTRUCTIONS);
        info.server_info = Implementation::new("opcat", env!("CARGO_PKG_VERSION"));
        info
    }
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let catalog = open(&a.catalog)?;
    let config = Config::from_env(a.org);
    if config.token.is_none() {
        eprintln!(
            "opcat serve: {} is not set; `call` will answer with an error",
            opcat_compiler::exec::PAT_VAR
        );
    }
    let server = Server {
        state: Arc::new(State {
            catalog,
            executor: Executor::new(config),
            budget: a.search_budget,
        }),
        tool_router: Server::tool_router(),
    };
    // Calls block (one HTTP round trip each) on tokio's blocking pool, as do stdin and
    // stdout. Its default of 512 threads lets a burst of calls grow memory by a few MB
    // per thread; 8 keeps memory flat under load, and further calls wait their turn.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .context("MCP session did not start")?;
        running.waiting().await.context("MCP session failed")?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
