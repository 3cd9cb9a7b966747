//! The sandbox: runs one program in a fresh QuickJS runtime (rquickjs), where
//! `api.<id>(args)` hands each call to a host-side [`Host`], under named limits.
//!
//! The sandbox is a pure function of (program, [`Limits`], host): it owns no credentials,
//! no HTTP client and no catalog. A program sees the JavaScript built-ins, `console` and
//! `api`, nothing else: no `fetch`, `require`, module loader, timers, `std`/`os` modules,
//! environment or file system (QuickJS's standard library is not linked in, and no module
//! loader is installed, so `import()` rejects).
//!
//! One run, on a thread of its own:
//!
//! 1. [`program::prepare`] turns the model's text into a script (fences stripped,
//!    TypeScript types blanked, the body wrapped in an async function).
//! 2. A new runtime and context get the limits (memory, stack, an interrupt handler that
//!    checks the deadline and the stop flag, so `while (true) {}` ends) and the prelude,
//!    which defines `console` and the `api` proxy on two host functions.
//! 3. The event loop runs QuickJS's job queue; when the program waits on calls, it waits
//!    for the next one to finish (never past the deadline). Calls run on worker threads,
//!    at most [`Limits::max_in_flight`] at once, the rest queued in order.
//! 4. The returned value is serialized with `JSON.stringify`; an error keeps its line.
//!
//! A call still running when the run ends finishes on its worker (the host bounds it by
//! the deadline it is given) and its answer is dropped.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use rquickjs::promise::PromiseState;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Exception, Function, Object, Promise, Runtime, Value,
};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value as Json;

use super::program::{self, Program};

/// Wall time of a whole run, host calls included.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Memory the JavaScript heap may use.
pub const MEMORY: usize = 64 << 20;
/// JavaScript stack (deep recursion ends with a stack-overflow error, not a crash).
pub const STACK: usize = 512 << 10;
/// Operation calls one run may make.
pub const MAX_CALLS: u32 = 200;
/// Operation calls in flight at once; `Promise.all` beyond it queues.
pub const MAX_IN_FLIGHT: usize = 8;
/// Bytes of console output kept; later lines are counted, not kept.
pub const MAX_LOG_BYTES: usize = 64 << 10;
/// Native stack of the sandbox thread: room for [`STACK`] of JavaScript and the engine.
const THREAD_STACK: usize = 8 << 20;

/// What one run may use. Each field has a default constant and a flag of `opcat exec`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub timeout: Duration,
    pub memory: usize,
    pub stack: usize,
    pub max_calls: u32,
    pub max_in_flight: usize,
    pub max_log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: TIMEOUT,
            memory: MEMORY,
            stack: STACK,
            max_calls: MAX_CALLS,
            max_in_flight: MAX_IN_FLIGHT,
            max_log_bytes: MAX_LOG_BYTES,
        }
    }
}

/// The limit that stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Limit {
    /// Wall time ([`Limits::timeout`]), host calls included; also stops busy loops.
    Timeout,
    /// The JavaScript heap ([`Limits::memory`]).
    Memory,
    /// The JavaScript stack ([`Limits::stack`]).
    Stack,
    /// Operation calls per run ([`Limits::max_calls`]).
    Calls,
    /// The program text ([`program::MAX_PROGRAM_BYTES`]).
    ProgramSize,
}

impl Limit {
    fn describe(self, limits: &Limits) -> String {
        match self {
            Limit::Timeout => format!(
                "the run took longer than {} ms (host calls included); stopped",
                limits.timeout.as_millis()
            ),
            Limit::Memory => format!(
                "the program ran out of memory (limit {} MB)",
                limits.memory >> 20
            ),
            Limit::Stack => format!(
                "stack overflow (limit {} KB): too deep a recursion",
                limits.stack >> 10
            ),
            Limit::Calls => format!(
                "more than {} operation calls in one run; stopped",
                limits.max_calls
            ),
            Limit::ProgramSize => format!(
                "the program is longer than {} bytes",
                program::MAX_PROGRAM_BYTES
            ),
        }
    }
}

/// A successful host call: the HTTP status and the parsed body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Json,
}

/// A failed host call. `message` becomes the JavaScript `Error`'s message; `status`,
/// `code` and `body` become its properties.
#[derive(Debug, Clone, Default)]
pub struct HostError {
    /// A short machine name: `unknownOperation`, `arguments`, `readOnly`, `status`, ...
    pub code: String,
    pub message: String,
    /// The HTTP status, for errors the server answered.
    pub status: Option<u16>,
    /// The server's error body, when JSON.
    pub body: Option<Json>,
}

/// What the sandbox calls. Implementations hold the catalog, the credentials and the
/// network; the sandbox holds none of them.
pub trait Host: Send + Sync {
    /// On the program's thread, when `api.<id>(...)` is called: the operation's HTTP
    /// method, or an error that is thrown at once (unknown id, refused operation).
    fn resolve(&self, id: &str) -> Result<String, HostError>;
    /// On a worker thread: performs the call and returns by `deadline`. `options` is the
    /// program's second argument (`{allPages: true}`), `{}` when absent.
    fn call(
        &self,
        id: &str,
        args: Json,
        options: Json,
        deadline: Instant,
    ) -> Result<Reply, HostError>;
}

/// One operation call a program made.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CallRecord {
    pub id: String,
    pub method: String,
    /// HTTP status; absent when nothing was answered (refused, failed, still running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Milliseconds from the call to its answer.
    pub ms: u64,
    /// Why the call failed (the error's code), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RunError {
    /// `SyntaxError`, `TypeError`, `Error`, ... or `Limit` when a limit stopped the run.
    pub name: String,
    pub message: String,
    /// Line and column in the program as submitted (1-based), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The text of that line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The limit that stopped the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// For an operation's error that the program did not catch: its HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// What a run gives back: `{result, logs, calls, error?}`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Outcome {
    /// The program's returned value as JSON (`null` when it returned nothing or failed).
    pub result: Json,
    /// `console` lines in order; levels other than `log` are prefixed (`[warn] ...`).
    pub logs: Vec<String>,
    /// Every operation call, in the order made.
    pub calls: Vec<CallRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
    /// Bytes the JavaScript heap held at the end of the run (for benchmarks).
    #[serde(skip)]
    pub memory_bytes: u64,
}

impl Outcome {
    fn failed(error: RunError) -> Outcome {
        Outcome {
            result: Json::Null,
            logs: Vec::new(),
            calls: Vec::new(),
            error: Some(error),
            memory_bytes: 0,
        }
    }
}

fn internal(message: impl Into<String>) -> RunError {
    RunError {
        name: "InternalError".into(),
        message: message.into(),
        line: None,
        column: None,
        source: None,
        limit: None,
        status: None,
    }
}

/// Runs one program to its end or to a limit. Never panics on any program.
pub fn run(code: &str, limits: &Limits, host: Arc<dyn Host>) -> Outcome {
    let program = match program::prepare(code) {
        Ok(p) => p,
        Err(e) => {
            return Outcome::failed(RunError {
                name: e.name.to_string(),
                message: e.message,
                line: e.line,
                column: e.column,
                source: e.source,
                limit: e.too_long.then_some(Limit::ProgramSize),
                status: None,
            });
        }
    };
    let limits = limits.clone();
    let thread = std::thread::Builder::new()
        .name("opcat-sandbox".into())
        .stack_size(THREAD_STACK)
        .spawn(move || run_here(&program, &limits, host));
    match thread {
        Ok(t) => t
            .join()
            .unwrap_or_else(|_| Outcome::failed(internal("the sandbox thread panicked"))),
        Err(e) => Outcome::failed(internal(format!("cannot start the sandbox thread: {e}"))),
    }
}

/// A call waiting for a free worker.
struct Job {
    n: u32,
    id: String,
    args: Json,
    options: Json,
}

/// A worker's answer.
struct Done {
    n: u32,
    result: Result<Reply, HostError>,
}

/// The run's state, shared by the host functions and the event loop. JavaScript values
/// held here are released before the context is freed.
struct State<'js> {
    /// Resolve and reject functions of each unanswered call, by call number.
    pending: BTreeMap<u32, (Function<'js>, Function<'js>)>,
    /// When each call was made.
    started: BTreeMap<u32, Instant>,
    queue: VecDeque<Job>,
    in_flight: usize,
    calls: Vec<CallRecord>,
    logs: Vec<String>,
    log_bytes: usize,
    logs_dropped: usize,
    stopped: Option<Limit>,
    max_in_flight: usize,
}

/// The prelude: `console` and the `api` proxy over the two host functions, which it
/// removes from the global object. `then` is not a member (an `api` node is not a
/// promise); symbols are not members.
const PRELUDE: &str = r#"(() => {
  const hostCall = globalThis.__opcatCall, hostLog = globalThis.__opcatLog;
  delete globalThis.__opcatCall;
  delete globalThis.__opcatLog;
  const text = (v) => {
    if (typeof v === "string") return v;
    if (v instanceof Error) return String(v);
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; }
    catch { return String(v); }
  };
  const level = (name) => (...args) => { hostLog(name, args.map(text).join(" ")); };
  Object.defineProperty(globalThis, "console", {
    value: Object.freeze({ log: level("log"), info: level("info"), warn: level("warn"),
      error: level("error"), debug: level("debug") }),
  });
  const node = (path) => new Proxy(function () {}, {
    get(_, key) {
      if (typeof key !== "string" || key === "then") return undefined;
      return node(path === "" ? key : path + "." + key);
    },
    apply(_, __, args) {
      if (path === "") throw new TypeError("call an operation: api.<id>(args)");
      if (args.length > 2) {
        throw new TypeError(`api.${path}(args, options?) takes an object of arguments and, optionally, {allPages: true}`);
      }
      const a = args[0] === undefined ? {} : args[0];
      const o = args[1] === undefined ? {} : args[1];
      const made = new Error("");
      return hostCall(path, JSON.stringify(a), JSON.stringify(o)).then((r) => {
        if (r.ok) return r.value;
        made.message = r.message;
        made.code = r.code;
        if (r.status !== undefined) made.status = r.status;
        if (r.body !== undefined) made.body = r.body;
        throw made;
      });
    },
  });
  Object.defineProperty(globalThis, "api", { value: node("") });
})();
"#;

/// Script name of the program in stack traces (and of the prelude).
const PROGRAM_FILE: &str = "program";

fn run_here(program: &Program, limits: &Limits, host: Arc<dyn Host>) -> Outcome {
    let start = Instant::now();
    let deadline = start + limits.timeout;
    let Ok(rt) = Runtime::new() else {
        return Outcome::failed(internal("cannot create a JavaScript runtime"));
    };
    rt.set_memory_limit(limits.memory);
    rt.set_max_stack_size(limits.stack);
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    rt.set_interrupt_handler(Some(Box::new(move || {
        flag.load(Ordering::Relaxed) || Instant::now() >= deadline
    })));
    let Ok(context) = Context::full(&rt) else {
        return Outcome::failed(internal("cannot create a JavaScript context"));
    };
    let mut outcome = context.with(|ctx| event_loop(&ctx, program, limits, &host, &stop, deadline));
    outcome.memory_bytes = rt.memory_usage().memory_used_size as u64;
    outcome
}

fn event_loop<'js>(
    ctx: &Ctx<'js>,
    program: &Program,
    limits: &Limits,
    host: &Arc<dyn Host>,
    stop: &Arc<AtomicBool>,
    deadline: Instant,
) -> Outcome {
    let state = Rc::new(RefCell::new(State {
        pending: BTreeMap::new(),
        started: BTreeMap::new(),
        queue: VecDeque::new(),
        in_flight: 0,
        calls: Vec::new(),
        logs: Vec::new(),
        log_bytes: 0,
        logs_dropped: 0,
        stopped: None,
        max_in_flight: limits.max_in_flight.max(1),
    }));
    let (tx, rx) = mpsc::channel::<Done>();
    let outcome = (|| {
        if let Err(e) = install(ctx, &state, limits, host, stop) {
            return Err(internal(format!("cannot set up the sandbox: {e}")));
        }
        let promise = match evaluate(ctx, program) {
            Ok(p) => p,
            Err(e) => {
                let stopped = stopped_by(&state, deadline);
                return Err(match stopped {
                    Some(limit) => limit_error(limit, limits),
                    None => caught(ctx, e, program),
                });
            }
        };
        loop {
            while ctx.execute_pending_job() {}
            dispatch(&state, host, &tx, deadline);
            if let Some(limit) = stopped_by(&state, deadline) {
                return Err(limit_error(limit, limits));
            }
            match promise.state() {
                PromiseState::Pending => {}
                PromiseState::Resolved => return Ok(promise),
                PromiseState::Rejected => {
                    let e = promise.result::<Value>().map(|r| r.map(|_| ()));
                    return Err(match e {
                        Some(Err(e)) => caught(ctx, Some(CaughtError::from_error(ctx, e)), program),
                        _ => internal("the program failed"),
                    });
                }
            }
            let waiting = {
                let s = state.borrow();
                s.in_flight + s.queue.len()
            };
            if waiting == 0 {
                return Err(RunError {
                    name: "Error".into(),
                    message: "the program waits for a promise that nothing will settle \
                              (every operation call has answered)"
                        .into(),
                    ..internal("")
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(done) => settle(ctx, &state, done),
                Err(_) => return Err(limit_error(Limit::Timeout, limits)),
            }
        }
    })();
    // A stopped run must not run more JavaScript (the interrupt handler refuses it).
    let result = match outcome {
        Ok(promise) => match promise.result::<Value>() {
            Some(Ok(value)) => to_json(ctx, value, program).map_err(Some),
            _ => Err(Some(internal("the program's result is not available"))),
        },
        Err(e) => Err(Some(e)),
    };
    let (result, error) = match result {
        Ok(v) => (v, None),
        Err(e) => (Json::Null, e),
    };
    let mut s = state.borrow_mut();
    // Release every JavaScript value the state holds before the context goes.
    s.pending.clear();
    let now = Instant::now();
    let started = std::mem::take(&mut s.started);
    for (n, t) in started {
        if let Some(c) = s.calls.get_mut(n as usize) {
            c.ms = now.duration_since(t).as_millis() as u64;
            c.error.get_or_insert_with(|| "unfinished".into());
        }
    }
    if s.logs_dropped > 0 {
        let n = s.logs_dropped;
        s.logs.push(format!(
            "[opcat] {n} more console line(s) left out (over {} bytes)",
            limits.max_log_bytes
        ));
    }
    Outcome {
        result,
        logs: std::mem::take(&mut s.logs),
        calls: std::mem::take(&mut s.calls),
        error,
        memory_bytes: 0,
    }
}

/// Defines the host functions and runs the prelude.
fn install<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<RefCell<State<'js>>>,
    limits: &Limits,
    host: &Arc<dyn Host>,
    stop: &Arc<AtomicBool>,
) -> rquickjs::Result<()> {
    let globals = ctx.globals();
    let (s, h, max_calls, stop) = (state.clone(), host.clone(), limits.max_calls, stop.clone());
    let call = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>,
              id: String,
              args: String,
              options: String|
              -> rquickjs::Result<Promise<'js>> {
            let n = {
                let st = s.borrow();
                if st.calls.len() as u32 >= max_calls {
                    drop(st);
                    s.borrow_mut().stopped = Some(Limit::Calls);
                    stop.store(true, Ordering::Relaxed);
                    return Err(Exception::throw_message(
                        &ctx,
                        &format!("limit: at most {max_calls} operation calls per run"),
                    ));
                }
                st.calls.len() as u32
            };
            let method = match h.resolve(&id) {
                Ok(m) => m,
                Err(e) => return Err(Exception::throw_message(&ctx, &e.message)),
            };
            let args: Json = serde_json::from_str(&args).unwrap_or(Json::Null);
            let options: Json = serde_json::from_str(&options).unwrap_or(Json::Null);
            let (promise, resolve, reject) = ctx.promise()?;
            let mut st = s.borrow_mut();
            st.calls.push(CallRecord {
                id: id.clone(),
                method,
                status: None,
                ms: 0,
                error: None,
            });
            st.pending.insert(n, (resolve, reject));
            st.started.insert(n, Instant::now());
            st.queue.push_back(Job {
                n,
                id,
                args,
                options,
            });
            Ok(promise)
        },
    )?;
    globals.set("__opcatCall", call)?;
    let (s, max_log) = (state.clone(), limits.max_log_bytes);
    let log = Function::new(ctx.clone(), move |level: String, line: String| {
        let mut st = s.borrow_mut();
        let line = if level == "log" {
            line
        } else {
            format!("[{level}] {line}")
        };
        if st.log_bytes + line.len() > max_log {
            st.logs_dropped += 1;
        } else {
            st.log_bytes += line.len();
            st.logs.push(line);
        }
    })?;
    globals.set("__opcatLog", log)?;
    ctx.eval_with_options::<(), _>(PRELUDE, options("opcat-prelude"))
}

fn options(file: &str) -> rquickjs::context::EvalOptions {
    let mut o = rquickjs::context::EvalOptions::default();
    o.global = true;
    o.strict = false;
    o.filename = Some(file.to_string());
    o
}

/// Evaluates the prepared script: it returns the program's promise.
fn evaluate<'js>(
    ctx: &Ctx<'js>,
    program: &Program,
) -> Result<Promise<'js>, Option<CaughtError<'js>>> {
    let value: Value = ctx
        .eval_with_options(program.script.as_str(), options(PROGRAM_FILE))
        .catch(ctx)
        .map_err(Some)?;
    match value.into_promise() {
        Some(p) => Ok(p),
        None => Err(None),
    }
}

/// Starts queued calls while workers are free.
fn dispatch(
    state: &Rc<RefCell<State<'_>>>,
    host: &Arc<dyn Host>,
    tx: &mpsc::Sender<Done>,
    deadline: Instant,
) {
    let mut st = state.borrow_mut();
    while st.stopped.is_none() && st.in_flight < st.max_in_flight {
        let Some(job) = st.queue.pop_front() else {
            break;
        };
        st.in_flight += 1;
        let (n, host, worker_tx) = (job.n, host.clone(), tx.clone());
        let spawned = std::thread::Builder::new()
            .name("opcat-call".into())
            .spawn(move || {
                let result = host.call(&job.id, job.args, job.options, deadline);
                // The run may be over; its answer is then dropped.
                let _ = worker_tx.send(Done { n: job.n, result });
            });
        if spawned.is_err() {
            let _ = tx.send(Done {
                n,
                result: Err(HostError {
                    code: "internal".into(),
                    message: "cannot start a worker thread for the call".into(),
                    ..HostError::default()
                }),
            });
        }
    }
}

/// Resolves or rejects the promise of a finished call.
fn settle<'js>(ctx: &Ctx<'js>, state: &Rc<RefCell<State<'js>>>, done: Done) {
    let funcs = {
        let mut st = state.borrow_mut();
        st.in_flight = st.in_flight.saturating_sub(1);
        let elapsed = st
            .started
            .remove(&done.n)
            .map(|t| t.elapsed().as_millis() as u64)
            .unwrap_or(0);
        if let Some(c) = st.calls.get_mut(done.n as usize) {
            c.ms = elapsed;
            match &done.result {
                Ok(r) => c.status = Some(r.status),
                Err(e) => {
                    c.status = e.status;
                    c.error = Some(e.code.clone());
                }
            }
        }
        st.pending.remove(&done.n)
    };
    let Some((resolve, _reject)) = funcs else {
        return;
    };
    let answer = (|| -> rquickjs::Result<Object<'js>> {
        let o = Object::new(ctx.clone())?;
        match done.result {
            Ok(reply) => {
                o.set("ok", true)?;
                let text = serde_json::to_string(&reply.body).unwrap_or_else(|_| "null".into());
                o.set("value", ctx.json_parse(text)?)?;
            }
            Err(e) => {
                o.set("ok", false)?;
                o.set("message", e.message)?;
                o.set("code", e.code)?;
                if let Some(s) = e.status {
                    o.set("status", s)?;
                }
                if let Some(b) = e.body {
                    let text = serde_json::to_string(&b).unwrap_or_else(|_| "null".into());
                    o.set("body", ctx.json_parse(text)?)?;
                }
            }
        }
        Ok(o)
    })();
    match answer {
        Ok(o) => {
            let _ = resolve.call::<_, ()>((o,));
        }
        Err(_) => {
            // Out of memory while building the answer: the run's memory limit shows it.
            let _ = ctx.catch();
        }
    }
}

/// The limit that has stopped the run, if one has.
fn stopped_by(state: &Rc<RefCell<State<'_>>>, deadline: Instant) -> Option<Limit> {
    state
        .borrow()
        .stopped
        .or_else(|| (Instant::now() >= deadline).then_some(Limit::Timeout))
}

fn limit_error(limit: Limit, limits: &Limits) -> RunError {
    RunError {
        name: "Limit".into(),
        message: limit.describe(limits),
        limit: Some(limit),
        ..internal("")
    }
}

/// The returned value as JSON (`undefined` is `null`).
fn to_json<'js>(ctx: &Ctx<'js>, value: Value<'js>, program: &Program) -> Result<Json, RunError> {
    if value.is_undefined() {
        return Ok(Json::Null);
    }
    match ctx.json_stringify(value).catch(ctx) {
        Ok(Some(s)) => {
            let s = s.to_string().unwrap_or_default();
            serde_json::from_str(&s)
                .map_err(|e| internal(format!("the returned value is not JSON: {e}")))
        }
        Ok(None) => Ok(Json::Null),
        Err(e) => {
            let mut err = caught(ctx, Some(e), program);
            err.message = format!(
                "the returned value cannot be written as JSON: {}",
                err.message
            );
            Err(err)
        }
    }
}

/// A thrown value as a [`RunError`], with its line in the submitted program.
fn caught<'js>(ctx: &Ctx<'js>, e: Option<CaughtError<'js>>, program: &Program) -> RunError {
    let _ = ctx;
    let Some(e) = e else {
        return internal("the program did not evaluate to a promise");
    };
    match e {
        CaughtError::Exception(ex) => {
            let message = ex.message().unwrap_or_default();
            let name: String = ex
                .as_object()
                .get::<_, Option<String>>("name")
                .ok()
                .flatten()
                .unwrap_or_else(|| "Error".into());
            let status = ex
                .as_object()
                .get::<_, Option<u16>>("status")
                .ok()
                .flatten();
            let limit = if message == "out of memory" {
                Some(Limit::Memory)
            } else if message.contains("stack overflow") || message.contains("call stack size") {
                Some(Limit::Stack)
            } else {
                None
            };
            let (line, column) = ex
                .stack()
                .and_then(|s| program::position_in_stack(&s, PROGRAM_FILE))
                .map(|(l, c)| program.original_position(l, c))
                .unwrap_or((None, None));
            RunError {
                name: if limit.is_some() {
                    "Limit".into()
                } else {
                    name
                },
                message,
                source: line.and_then(|l| program.source_line(l)),
                line,
                column,
                limit,
                status,
            }
        }
        CaughtError::Value(v) => {
            let text = v
                .as_string()
                .and_then(|s| s.to_string().ok())
                .or_else(|| {
                    ctx.json_stringify(v.clone())
                        .ok()
                        .flatten()
                        .and_then(|s| s.to_string().ok())
                })
                .unwrap_or_else(|| format!("{:?}", v.type_of()));
            RunError {
                name: "Error".into(),
                message: format!("the program threw a non-Error value: {text}"),
                ..internal("")
            }
        }
        CaughtError::Error(rquickjs::Error::Allocation) => RunError {
            name: "Limit".into(),
            message: "the program ran out of memory".into(),
            limit: Some(Limit::Memory),
            ..internal("")
        },
        CaughtError::Error(e) => internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use serde_json::json;

    use super::*;

    /// A host with canned answers: `echo` returns its arguments, `slow` sleeps `ms` then
    /// answers, `fail` answers a 404; every call is counted, and the most in flight at once.
    #[derive(Default)]
    struct Fake {
        calls: Mutex<Vec<(String, Json, Json)>>,
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl Host for Fake {
        fn resolve(&self, id: &str) -> Result<String, HostError> {
            match id {
                "echo" | "slow" | "fail" | "page" => Ok("GET".into()),
                _ => Err(HostError {
                    code: "unknownOperation".into(),
                    message: format!("no operation `{id}`; nearest: echo"),
                    ..HostError::default()
                }),
            }
        }
        fn call(
            &self,
            id: &str,
            args: Json,
            options: Json,
            deadline: Instant,
        ) -> Result<Reply, HostError> {
            self.calls
                .lock()
                .unwrap()
                .push((id.to_string(), args.clone(), options.clone()));
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            let answer = match id {
                "slow" => {
                    let ms = args["ms"].as_u64().unwrap_or(50);
                    // A host bounds its call by the deadline, and may overrun it a little:
                    // the run must not wait for it.
                    let until = (Instant::now() + Duration::from_millis(ms))
                        .min(deadline + Duration::from_millis(200));
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                    Ok(Reply {
                        status: 200,
                        body: json!({"slept": ms}),
                    })
                }
                "fail" => Err(HostError {
                    code: "status".into(),
                    message: "HTTP 404 from GET x: not found".into(),
                    status: Some(404),
                    body: Some(json!({"message": "not found"})),
                }),
                _ => Ok(Reply {
                    status: 200,
                    body: json!({"args": args, "options": options}),
                }),
            };
            self.now.fetch_sub(1, Ordering::SeqCst);
            answer
        }
    }

    fn run_with(code: &str, limits: Limits) -> (Outcome, Arc<Fake>) {
        let fake = Arc::new(Fake::default());
        (run(code, &limits, fake.clone()), fake)
    }

    fn ok(code: &str) -> Json {
        let (o, _) = run_with(code, Limits::default());
        assert_eq!(o.error, None, "{code}");
        o.result
    }

    #[test]
    fn programs_return_json_and_chain_calls() {
        assert_eq!(ok("return 1 + 1;"), json!(2));
        assert_eq!(
            ok("async () => { return {a: [1, 'x', null]}; }"),
            json!({"a": [1, "x", null]})
        );
        assert_eq!(ok("const x = 3;"), Json::Null);
        let (o, fake) = run_with(
            "const a = await api.echo({id: 7});\n\
             const b = await api.echo({previous: a.args.id}, {allPages: true});\n\
             return b;",
            Limits::default(),
        );
        assert_eq!(o.error, None);
        assert_eq!(
            o.result,
            json!({"args": {"previous": 7}, "options": {"allPages": true}})
        );
        let seen = fake.calls.lock().unwrap().clone();
        assert_eq!(seen[0], ("echo".into(), json!({"id": 7}), json!({})));
        assert_eq!(o.calls.len(), 2);
        assert_eq!(
            (o.calls[0].id.as_str(), o.calls[0].status),
            ("echo", Some(200))
        );
    }

    #[test]
    fn typescript_and_fences_are_accepted() {
        let code =
            "```ts\ninterface R { n: number }\nconst r: R = { n: 2 } as R;\nreturn r.n * 2;\n```";
        assert_eq!(ok(code), json!(4));
    }

    #[test]
    fn console_lines_are_returned() {
        let (o, _) = run_with(
            "console.log('a', 1, {b: 2}); console.warn('careful'); console.error(new Error('e'));",
            Limits::default(),
        );
        assert_eq!(
            o.logs,
            vec!["a 1 {\"b\":2}", "[warn] careful", "[error] Error: e"]
        );
        let (o, _) = run_with(
            "for (let i = 0; i < 1000; i++) console.log('x'.repeat(100));",
            Limits {
                max_log_bytes: 1000,
                ..Limits::default()
            },
        );
        assert_eq!(o.logs.len(), 11);
        assert!(
            o.logs[10].contains("990 more console line(s) left out"),
            "{:?}",
            o.logs[10]
        );
    }

    #[test]
    fn errors_point_at_the_programs_line() {
        let (o, _) = run_with(
            "const a = 1;\nthrow new TypeError('bad ' + a);",
            Limits::default(),
        );
        let e = o.error.unwrap();
        assert_eq!(
            (e.name.as_str(), e.message.as_str()),
            ("TypeError", "bad 1")
        );
        assert_eq!(e.line, Some(2));
        assert_eq!(
            e.source.as_deref(),
            Some("throw new TypeError('bad ' + a);")
        );
        let (o, _) = run_with("const x: number = ;", Limits::default());
        let e = o.error.unwrap();
        assert_eq!((e.name.as_str(), e.line), ("SyntaxError", Some(1)));
        // An operation's error: catchable, with its status; uncaught, the run's error.
        let r = ok(
            "try { await api.fail({}); } catch (e) { return [e.message, e.status, e.code, e.body]; }",
        );
        assert_eq!(
            r,
            json!(["HTTP 404 from GET x: not found", 404, "status", {"message": "not found"}])
        );
        let (o, _) = run_with("const x = 1;\nawait api.fail({});", Limits::default());
        let e = o.error.unwrap();
        assert_eq!((e.status, e.line), (Some(404), Some(2)));
        assert_eq!(o.calls[0].error.as_deref(), Some("status"));
        // An unknown id throws at once, naming the nearest.
        let r = ok("try { api.nope.nada({}); } catch (e) { return e.message; }");
        assert_eq!(r, json!("no operation `nope.nada`; nearest: echo"));
        // Not JSON: a BigInt result.
        let (o, _) = run_with("return 1n;", Limits::default());
        assert!(
            o.error
                .unwrap()
                .message
                .contains("cannot be written as JSON")
        );
        // Waiting for nothing.
        let (o, _) = run_with("await new Promise(() => {});", Limits::default());
        assert!(o.error.unwrap().message.contains("nothing will settle"));
    }

    #[test]
    fn limits_stop_the_run_and_say_which() {
        let short = Limits {
            timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        let t = Instant::now();
        let (o, _) = run_with("console.log('before'); while (true) {}", short.clone());
        assert_eq!(o.error.as_ref().and_then(|e| e.limit), Some(Limit::Timeout));
        assert_eq!(o.logs, vec!["before"]);
        assert!(t.elapsed() < Duration::from_secs(5));
        // After an await too, and inside a host call (wall time includes it).
        let (o, _) = run_with("await api.echo({}); for (;;) {}", short.clone());
        assert_eq!(o.error.as_ref().and_then(|e| e.limit), Some(Limit::Timeout));
        assert_eq!(o.calls.len(), 1);
        let (o, _) = run_with("await api.slow({ms: 5000});", short.clone());
        assert_eq!(o.error.as_ref().and_then(|e| e.limit), Some(Limit::Timeout));
        assert_eq!(o.calls[0].error.as_deref(), Some("unfinished"));
        // Memory.
        let (o, _) = run_with(
            "const a = []; while (true) a.push('x'.repeat(1 << 16) + a.length);",
            Limits {
                memory: 16 << 20,
                ..Limits::default()
            },
        );
        assert_eq!(
            o.error.as_ref().and_then(|e| e.limit),
            Some(Limit::Memory),
            "{:?}",
            o.error
        );
        // Stack.
        let (o, _) = run_with(
            "const f = (n) => f(n + 1) + 1; return f(0);",
            Limits::default(),
        );
        assert_eq!(
            o.error.as_ref().and_then(|e| e.limit),
            Some(Limit::Stack),
            "{:?}",
            o.error
        );
        // Calls per run.
        let (o, fake) = run_with(
            "for (let i = 0; i < 10; i++) { try { await api.echo({i}); } catch (e) { console.log(e.message); } }",
            Limits {
                max_calls: 3,
                ..Limits::default()
            },
        );
        assert_eq!(
            o.error.as_ref().and_then(|e| e.limit),
            Some(Limit::Calls),
            "{:?}",
            o.error
        );
        assert_eq!((o.calls.len(), fake.calls.lock().unwrap().len()), (3, 3));
    }

    #[test]
    fn promise_all_runs_calls_concurrently_within_the_bound() {
        let code = "return (await Promise.all([...Array(9).keys()].map(i => api.slow({ms: 200})))).length;";
        let t = Instant::now();
        let (o, fake) = run_with(
            code,
            Limits {
                max_in_flight: 3,
                ..Limits::default()
            },
        );
        let took = t.elapsed();
        assert_eq!(o.result, json!(9), "{:?}", o.error);
        assert_eq!(fake.most.load(Ordering::SeqCst), 3);
        // Three waves of 200 ms, not nine.
        assert!(took < Duration::from_millis(1500), "{took:?}");
        assert!(took >= Duration::from_millis(600), "{took:?}");
    }

    #[test]
    fn a_program_sees_only_the_builtins_console_and_api() {
        let r = ok(
            "return [typeof fetch, typeof require, typeof process, typeof setTimeout, \
             typeof setInterval, typeof std, typeof os, typeof Deno, typeof Bun, \
             typeof XMLHttpRequest, typeof WebSocket, typeof __opcatCall, typeof __opcatLog];",
        );
        assert!(
            r.as_array().unwrap().iter().all(|t| t == "undefined"),
            "{r}"
        );
        let r =
            ok("try { await import('os'); return 'imported'; } catch (e) { return String(e); }");
        assert!(r.as_str().unwrap().contains("Error"), "{r}");
        let r = ok(
            "try { await import('https://example.com/x.js'); return 'imported'; } catch (e) { return 'refused'; }",
        );
        assert_eq!(r, json!("refused"));
        // The global object holds the standard built-ins and nothing of the host's but
        // `console` and `api`.
        let names = ok("return Object.getOwnPropertyNames(globalThis).sort();");
        let standard = [
            "AggregateError",
            "Array",
            "ArrayBuffer",
            "Atomics",
            "BigInt",
            "BigInt64Array",
            "BigUint64Array",
            "Boolean",
            "DOMException",
            "DataView",
            "Date",
            "Error",
            "EvalError",
            "FinalizationRegistry",
            "Float16Array",
            "Float32Array",
            "Float64Array",
            "Function",
            "Infinity",
            "Int16Array",
            "Int32Array",
            "Int8Array",
            "InternalError",
            "Iterator",
            "JSON",
            "Map",
            "Math",
            "NaN",
            "Number",
            "Object",
            "Promise",
            "Proxy",
            "RangeError",
            "ReferenceError",
            "Reflect",
            "RegExp",
            "Set",
            "SharedArrayBuffer",
            "String",
            "Symbol",
            "SuppressedError",
            "SyntaxError",
            "TypeError",
            "URIError",
            "Uint16Array",
            "Uint32Array",
            "Uint8Array",
            "Uint8ClampedArray",
            "WeakMap",
            "WeakRef",
            "WeakSet",
            "decodeURI",
            "decodeURIComponent",
            "encodeURI",
            "encodeURIComponent",
            "escape",
            "eval",
            "globalThis",
            "isFinite",
            "isNaN",
            "parseFloat",
            "parseInt",
            "performance",
            "queueMicrotask",
            "undefined",
            "unescape",
            "navigator",
            "DisposableStack",
            "AsyncDisposableStack",
            "atob",
            "btoa",
        ];
        let extra: Vec<&str> = names
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Json::as_str)
            .filter(|n| !standard.contains(n))
            .collect();
        assert_eq!(extra, ["api", "console"], "unexpected globals");
    }

    #[test]
    fn runs_share_nothing() {
        assert_eq!(
            ok("globalThis.leak = 42; Array.prototype.leak = 1; return 1;"),
            json!(1)
        );
        assert_eq!(
            ok("return [typeof leak, typeof [].leak];"),
            json!(["undefined", "undefined"])
        );
        // Concurrent runs, each with a global of its own name and value.
        let handles: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    let code = format!(
                        "globalThis.mine = {i}; await api.slow({{ms: 100}}); \
                         return [mine, typeof other{i}];"
                    );
                    run_with(&code, Limits::default()).0.result
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().unwrap(), json!([i, "undefined"]));
        }
    }
}
