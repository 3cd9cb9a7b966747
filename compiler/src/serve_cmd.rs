//! `opcat serve`: the MCP server of [`opcat_compiler::agent::mcp`] on stdio, configured from
//! flags and the environment.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use opcat_compiler::agent::http::{Executor, PAT_VAR};
use opcat_compiler::agent::{Agent, mcp, tools};

use crate::agent_args::{ConnectArgs, LimitArgs};
use crate::query_cmd::{DEFAULT_CATALOG, open};

#[derive(Debug, Args)]
#[command(after_long_help = SERVE_HELP)]
pub struct ServeArgs {
    /// Artifact to serve.
    #[arg(long, default_value = DEFAULT_CATALOG, value_name = "FILE")]
    catalog: PathBuf,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(flatten)]
    limits: LimitArgs,
    /// Token budget of one `search` answer (o200k_base tokens).
    #[arg(long, value_name = "TOKENS", default_value_t = tools::SEARCH_BUDGET)]
    search_budget: u32,
}

const SERVE_HELP: &str = "\
Speaks MCP (JSON-RPC) on stdin/stdout; logs go to stderr. Register it with an agent as a
stdio server, e.g. {\"command\": \"opcat\", \"args\": [\"serve\", \"--org\", \"fabrikam\"]}.

Tools:
  search    {query | queries, area?, limit?}  api.<id>(args): Promise<Result> per hit, with
                                              the result fields a next call uses
  execute   {code}                            runs a JavaScript/TypeScript program calling
                                              api.<id>(args); {result, logs, calls, error?}
  contract  {id, expand?}                     the TypeScript contract of one operation
  call      {id, args, all_pages?}            one operation; its JSON result

Environment: AZURE_DEVOPS_PAT (the token calls send; never shown to the model),
AZURE_DEVOPS_ORG, AZURE_DEVOPS_SERVER_URL, AZURE_DEVOPS_SERVICE, OPCAT_BASE_URL (tests:
loopback only).

Exit codes: 0 the client closed the session, 2 the catalog cannot be opened or the
transport failed.";

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let catalog = open(&a.catalog)?;
    let config = a.connect.config();
    if config.token.is_none() {
        eprintln!(
            "opcat serve: {PAT_VAR} is not set; `call` and `execute` will answer with an error"
        );
    }
    let agent = Agent {
        catalog,
        executor: Executor::new(config),
    };
    let options = mcp::Options {
        search_budget: a.search_budget,
        output_budget: a.limits.budget(),
        limits: a.limits.limits(),
    };
    mcp::serve(agent, options)?;
    Ok(ExitCode::SUCCESS)
}
