//! `opcat exec`: run one JavaScript/TypeScript program against the catalog in the embedded
//! sandbox, with the token kept host-side; print its result (or, with `--json`, the whole
//! answer: `schemas/exec.schema.json`).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use opcat_compiler::agent::http::Executor;
use opcat_compiler::agent::{Agent, tools};

use crate::agent_args::{ConnectArgs, LimitArgs};
use crate::query_cmd::{DEFAULT_CATALOG, open};

#[derive(Debug, Args)]
#[command(after_long_help = EXEC_HELP)]
pub struct ExecArgs {
    /// The program: a file, or `-` (the default) for stdin.
    #[arg(value_name = "FILE|-", default_value = "-")]
    file: String,
    /// Print the whole answer as one JSON object: {result, logs, calls, error?, notes?}.
    #[arg(long)]
    json: bool,
    /// Artifact to read.
    #[arg(long, default_value = DEFAULT_CATALOG, value_name = "FILE")]
    catalog: PathBuf,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

const EXEC_HELP: &str = "\
The program is the body of an async function (top-level await and return) or an async
arrow function, in JavaScript or TypeScript (types are stripped), optionally in a Markdown
code fence. Operations are called as `await api.<id>(args)` with the ids and argument
names of `opcat search` / `opcat show`; each resolves to the parsed JSON result. A failed
call throws an Error (message: every argument problem with the signature, or the HTTP
status and the server's message; `error.status` for HTTP errors). A result with more pages
carries `continuationToken`; or pass {allPages: true} as a second argument. Nothing else is
reachable: no fetch, modules, timers, environment or files.

  echo 'const p = await api.core.projects.list({}); return p.value.map(x => x.name);' \\
      | opcat exec --org fabrikam

Output: the result as JSON on stdout; console lines and the calls made on stderr. With
--json, one object on stdout: {result, logs, calls, error?, notes?}.

Environment: AZURE_DEVOPS_PAT (the token; never enters the sandbox or the output),
AZURE_DEVOPS_ORG, AZURE_DEVOPS_SERVER_URL, AZURE_DEVOPS_SERVICE, OPCAT_BASE_URL (tests).

Exit codes:
  0  the program returned
  1  the program failed: a syntax error, or an error it did not catch (an operation's
     error included)
  2  usage or configuration error (unreadable program or catalog)
  3  a limit stopped the program (time, memory, stack, calls, program size)";

pub fn run(a: ExecArgs) -> Result<ExitCode> {
    let code = if a.file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the program from stdin")?;
        s
    } else {
        std::fs::read_to_string(&a.file).with_context(|| format!("cannot read {}", a.file))?
    };
    let catalog = open(&a.catalog)?;
    let agent = Arc::new(Agent {
        catalog,
        executor: Executor::new(a.connect.config()),
    });
    let (outcome, answer) = tools::execute(&agent, &code, &a.limits.limits(), a.limits.budget());
    let code = match &outcome.error {
        None => 0,
        Some(e) if e.limit.is_some() => 3,
        Some(_) => 1,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(ExitCode::from(code));
    }
    for line in &answer.logs {
        eprintln!("{line}");
    }
    for c in &answer.calls {
        let status = c.status.map_or("-".to_string(), |s| s.to_string());
        let error = c
            .error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        eprintln!(
            "call {} {} -> {status} in {} ms{error}",
            c.method, c.id, c.ms
        );
    }
    for n in &answer.notes {
        eprintln!("note: {n}");
    }
    if let Some(e) = &answer.error {
        let at = match (e.line, e.column) {
            (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
            (Some(l), None) => format!(" at line {l}"),
            _ => String::new(),
        };
        eprintln!("error: {}{at}: {}", e.name, e.message);
        if let Some(src) = &e.source {
            eprintln!("  | {src}");
        }
        return Ok(ExitCode::from(code));
    }
    println!("{}", serde_json::to_string_pretty(&answer.result)?);
    Ok(ExitCode::SUCCESS)
}
