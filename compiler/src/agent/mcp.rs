//! The MCP server (`opcat serve`): the official `rmcp` SDK over stdio, with the tools
//! `search` and `execute` as the main path (one search, then one program that chains the
//! calls), and `contract` and `call` for single steps. The model names operations and
//! writes programs; it never sees the token.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

use super::Agent;
use super::http::Paging;
use super::sandbox::Limits;
use super::tools;

/// How the server answers.
#[derive(Debug, Clone)]
pub struct Options {
    /// Token budget of one `search` answer.
    pub search_budget: u32,
    /// Token budget of one `execute` answer.
    pub output_budget: u32,
    /// Limits of every program run.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            search_budget: tools::SEARCH_BUDGET,
            output_budget: tools::OUTPUT_BUDGET,
            limits: Limits::default(),
        }
    }
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the MCP session did not start: {0}")]
    Start(String),
    #[error("the MCP session failed: {0}")]
    Session(String),
}

/// The server's instructions: the intended flow, in a few lines.
pub const INSTRUCTIONS: &str = "\
Azure DevOps REST API as typed operations you call from code. Workflow: one `search` with \
everything the task needs (several intents at once in `queries`); its answer gives each \
operation as `api.<id>(args): Promise<Result>` with the result fields a next call uses, and \
under `// inputs:` the operation whose result gives each required id (`repositoryId <- \
git.repositories.list value[].id`): call that first when the task does not name the value. Then \
one `execute` with a JavaScript or TypeScript program that calls them in sequence, feeding \
each answer into the next call, and returns what the user asked for. `contract` shows an \
operation's full types when the search answer is not enough; `call` runs one operation. \
The organization, api-version and credentials are the server's: never pass them.";

const EXECUTE_DESCRIPTION: &str = "\
Run one JavaScript/TypeScript program that calls Azure DevOps operations and returns a \
result. The code is the body of an async function (top-level `await` and `return`), or \
`async () => { ... }`. Call operations as `await api.<id>(args)` with ids and argument names \
from `search`, e.g. `const prs = await api.git.pullRequests.getPullRequestsByProject({project: \
\"Fabrikam\", \"searchCriteria.status\": \"active\"})`; each resolves to the parsed JSON \
result ({count, value} for lists). `Promise.all` runs calls concurrently. A failed call \
throws an Error whose message lists every argument problem with the signature, or the HTTP \
status (error.status) and the server's message. Paging: a result with more pages carries \
`continuationToken`, to pass back as the operation's continuation argument; or pass \
`{allPages: true}` as a second argument to merge the pages. `console.log` lines are returned. \
No fetch, modules, timers or search inside the program. Answer: {result, logs, calls, error?}, \
shortened past a token budget: return only the fields needed.";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SearchParams {
    /// What you want to do, in words: "list pull requests of a repository".
    #[serde(default)]
    query: Option<String>,
    /// Several intents at once (one per operation the task needs), answered together:
    /// ["list repositories", "active pull requests of a repository", "add a PR comment"].
    #[serde(default)]
    queries: Option<Vec<String>>,
    /// Only this area: git, wit, build, core, pipelines, release, work, test, ...
    #[serde(default)]
    area: Option<String>,
    /// Most hits per query (default 6, at most 25).
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ExecuteParams {
    /// The program: the body of an async function, calling `await api.<id>(args)` and
    /// returning the answer.
    code: String,
}

struct State {
    agent: Arc<Agent>,
    options: Options,
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
            .field("catalog", &self.state.agent.catalog)
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
        description = "Find Azure DevOps REST operations by what they do. Give `query`, or \
        `queries` with one intent per operation a task needs (answered together, each \
        operation once). Each hit: `api.<id>(args): Promise<Result>` with its arguments, \
        the fields of the result that a next call uses (ids, names, references), and which \
        operation gives each required id: what an `execute` program needs to chain calls.",
        annotations(read_only_hint = true)
    )]
    async fn search(&self, Parameters(p): Parameters<SearchParams>) -> CallToolResult {
        let mut queries: Vec<String> = p.queries.unwrap_or_default();
        if let Some(q) = p.query {
            queries.insert(0, q);
        }
        queries.retain(|q| !q.trim().is_empty());
        if queries.is_empty() {
            return text(
                false,
                "give `query` (or `queries`): what you want to do".into(),
            );
        }
        match tools::search_text(
            &self.state.agent.catalog,
            &queries,
            p.area.as_deref(),
            p.limit,
            self.state.options.search_budget,
        ) {
            Ok(s) => text(true, s),
            Err(e) => text(false, format!("search failed: {e}")),
        }
    }

    #[tool(
        description = EXECUTE_DESCRIPTION,
        annotations(read_only_hint = false, open_world_hint = true)
    )]
    async fn execute(&self, Parameters(p): Parameters<ExecuteParams>) -> CallToolResult {
        let state = self.state.clone();
        let result = tokio::task::spawn_blocking(move || {
            let (outcome, json) = tools::execute(
                &state.agent,
                &p.code,
                &state.options.limits,
                state.options.output_budget,
            );
            (
                outcome.error.is_none(),
                serde_json::to_string(&json).unwrap_or_default(),
            )
        })
        .await;
        match result {
            Ok((ok, s)) => text(ok, s),
            Err(e) => text(false, format!("the program did not finish: {e}")),
        }
    }

    #[tool(
        description = "The full contract of one operation (id from `search`): its signature \
        with argument docs, and TypeScript declarations of the types it takes and returns. \
        Use it when the search answer is not enough.",
        annotations(read_only_hint = true)
    )]
    async fn contract(&self, Parameters(p): Parameters<ContractParams>) -> CallToolResult {
        let expand: Vec<&str> = p.expand.iter().flatten().map(String::as_str).collect();
        match tools::contract_text(&self.state.agent.catalog, &p.id, &expand) {
            Some(s) => text(true, s),
            None => text(
                false,
                format!("no operation named `{}`: use an id from `search`", p.id),
            ),
        }
    }

    #[tool(
        description = "Call one Azure DevOps operation and get its JSON response (for a \
        single step; chain several in one `execute`). `id` from `search`; `args` an object \
        named as in the signature (path, query and header arguments, and `body` for the \
        request body). Arguments are checked first: a mistake returns every problem with \
        the signature, nothing is sent. HTTP errors return the status and the server's \
        message. Credentials and organization are the server's.",
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
            let agent = &state.agent;
            tools::call_text(&agent.executor, &agent.catalog, &id, &args, paging)
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

/// Serves `agent` over stdin/stdout until the client closes the session.
pub fn serve(agent: Agent, options: Options) -> Result<(), ServeError> {
    let server = Server {
        state: Arc::new(State {
            agent: Arc::new(agent),
            options,
        }),
        tool_router: Server::tool_router(),
    };
    // Calls and programs block (HTTP round trips, the sandbox) on tokio's blocking pool, as
    // do stdin and stdout. Its default of 512 threads lets a burst grow memory by a few MB
    // per thread; 8 keeps memory flat under load, and further requests wait their turn.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| ServeError::Start(e.to_string()))?;
        running
            .waiting()
            .await
            .map_err(|e| ServeError::Session(e.to_string()))?;
        Ok(())
    })
}
