//! `opcat call`: prepare one operation's request from JSON arguments, send it with the
//! personal access token, print the JSON response.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use opcat_compiler::agent::http::{self, CallError, Executor, Paging};
use opcat_compiler::output::{CallOutput, ErrorOutput, RequestOutput};

use crate::agent_args::ConnectArgs;
use crate::query_cmd::{DEFAULT_CATALOG, open};

#[derive(Debug, Args)]
#[command(after_long_help = CALL_HELP)]
pub struct CallArgs {
    /// Operation id (as `opcat search` shows it), alias or operationId.
    id: String,
    /// Arguments as a JSON object, `@FILE` to read them from a file, `-` for stdin.
    /// Names as in the contract (`opcat show ID`); never `organization` or `api-version`.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    args: String,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Follow continuation tokens and merge the pages.
    #[arg(long)]
    all_pages: bool,
    /// With --all-pages, stop after this many pages.
    #[arg(long, value_name = "N", default_value_t = http::DEFAULT_MAX_PAGES)]
    max_pages: u32,
    /// Print the prepared request instead of sending it (no token needed).
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON object, success or error (schemas/call.schema.json).
    #[arg(long)]
    json: bool,
    /// Artifact to read.
    #[arg(long, default_value = DEFAULT_CATALOG, value_name = "FILE")]
    catalog: PathBuf,
}

const CALL_HELP: &str = "\
Environment:
  AZURE_DEVOPS_PAT      personal access token, sent as HTTP basic auth; never printed
  AZURE_DEVOPS_ORG      organization when --org is not given
  AZURE_DEVOPS_SERVER_URL  Azure DevOps Server collection URL when --server-url is not given
  AZURE_DEVOPS_SERVICE  fills {service} in a host template (default empty: dev.azure.com)
  OPCAT_BASE_URL        tests only: a loopback base URL (http://127.0.0.1:PORT) replacing
                        every host; anything but loopback is refused

Exit codes:
  0  the server answered 2xx (or --dry-run prepared the request)
  1  no operation by that name
  2  usage or configuration error (no token, no organization, host refused, bad catalog,
     a write refused by --read-only)
  3  the arguments do not match the contract (every problem listed, with the signature)
  4  the server answered with an error status (status and the server's message shown)
  5  the request could not be sent or the response not read

Examples:
  opcat call core.projects.list --org fabrikam
  opcat call git.pullRequests.getPullRequestsByProject \\
      --args '{\"project\": \"Fabrikam\", \"searchCriteria.status\": \"active\"}'
  opcat call wit.workItems.get --args @args.json --json";

fn read_args(text: &str) -> Result<serde_json::Value> {
    let text = if text == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read --args from stdin")?
    } else if let Some(file) = text.strip_prefix('@') {
        std::fs::read_to_string(file).with_context(|| format!("cannot read --args {text}"))?
    } else {
        text.to_string()
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).context("--args: expected a JSON object")?;
    if !v.is_object() && !v.is_null() {
        bail!("--args: expected a JSON object, found {}", kind(&v));
    }
    Ok(v)
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

pub fn run(a: CallArgs) -> Result<ExitCode> {
    let args = read_args(&a.args)?;
    let catalog = open(&a.catalog)?;
    let config = a.connect.config();
    let mut out = CallOutput {
        id: a.id.clone(),
        ok: false,
        status: None,
        pages: 0,
        continuation_token: None,
        body: None,
        request: None,
        error: None,
    };
    let result = if a.dry_run {
        let allowed = match catalog.operation(&a.id) {
            Some(op) => config.allow(&op),
            None => Ok(()),
        };
        allowed.and_then(|()| {
            catalog
                .prepare(&a.id, &opcat_compiler::to_value(&args), &config.target())
                .map(|p| {
                    out.request = Some(RequestOutput::new(&p));
                })
                .map_err(CallError::from)
        })
    } else {
        let executor = Executor::new(config);
        let paging = Paging {
            all: a.all_pages,
            max_pages: a.max_pages,
        };
        executor.call(&catalog, &a.id, &args, paging).map(|r| {
            out.status = Some(r.status);
            out.pages = r.pages;
            out.continuation_token = r.continuation;
            out.body = Some(r.body);
        })
    };
    let code = match &result {
        Ok(()) => 0,
        Err(e) => e.exit_code(),
    };
    out.ok = result.is_ok();
    if let Err(e) = &result {
        out.error = Some(ErrorOutput::new(e));
        if let CallError::Status { status, .. } = e {
            out.status = Some(*status);
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::from(code));
    }
    if let Err(e) = &result {
        eprintln!("error: {e}");
        if let CallError::Status {
            body: Some(body), ..
        } = e
        {
            eprintln!("{}", serde_json::to_string_pretty(body)?);
        }
        return Ok(ExitCode::from(code));
    }
    if let Some(r) = &out.request {
        println!("{} {}", r.method, r.url);
        for [k, v] in &r.headers {
            println!("{k}: {v}");
        }
        println!(
            "Authorization: Basic *** (added when sending, from {})",
            http::PAT_VAR
        );
        if let Some(b) = &r.body {
            println!("\n{b}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(out.body.as_ref().unwrap_or(&serde_json::Value::Null))?
    );
    if out.pages > 1 {
        eprintln!("({} pages merged)", out.pages);
    }
    if let Some(t) = &out.continuation_token {
        eprintln!("(more results: continuation token {t}; pass --all-pages to follow)");
    }
    Ok(ExitCode::SUCCESS)
}
