//! Flags shared by the agent commands (`call`, `exec`, `serve`): where requests go and
//! what is allowed (organization, server URL, read-only), and the sandbox's limits.

use std::time::Duration;

use clap::Args;
use opcat_compiler::agent::http::Config;
use opcat_compiler::agent::sandbox::{self, Limits};
use opcat_compiler::agent::tools;

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Azure DevOps organization. Default: $AZURE_DEVOPS_ORG.
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// Azure DevOps Server (on premises) collection URL, e.g.
    /// https://tfs.example.com/DefaultCollection: on-premises operations go there, and
    /// only there. Default: $AZURE_DEVOPS_SERVER_URL.
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,
    /// Refuse every operation that writes (anything but reads), before anything is sent.
    #[arg(long)]
    pub read_only: bool,
}

impl ConnectArgs {
    /// The executor's configuration: these flags over the environment.
    pub fn config(&self) -> Config {
        let mut config = Config::from_env(self.org.clone());
        if let Some(url) = &self.server_url {
            config.server_url = Some(url.clone());
        }
        config.read_only = self.read_only;
        config
    }
}

#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Wall time of one program run, host calls included (milliseconds).
    #[arg(long, value_name = "MS", default_value_t = sandbox::TIMEOUT.as_millis() as u64)]
    pub timeout_ms: u64,
    /// Memory of one run's JavaScript heap (MB).
    #[arg(long, value_name = "MB", default_value_t = (sandbox::MEMORY >> 20) as u64)]
    pub memory_mb: u64,
    /// JavaScript stack of one run (KB).
    #[arg(long, value_name = "KB", default_value_t = (sandbox::STACK >> 10) as u64)]
    pub stack_kb: u64,
    /// Operation calls one run may make.
    #[arg(long, value_name = "N", default_value_t = sandbox::MAX_CALLS)]
    pub max_calls: u32,
    /// Operation calls in flight at once within a run.
    #[arg(long, value_name = "N", default_value_t = sandbox::MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
    /// Token budget of a run's answer (o200k_base); past it the answer is shortened
    /// structurally. 0: no budget.
    #[arg(long, value_name = "TOKENS", default_value_t = tools::OUTPUT_BUDGET)]
    pub output_tokens: u32,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            timeout: Duration::from_millis(self.timeout_ms.max(1)),
            memory: (self.memory_mb.max(1) as usize) << 20,
            stack: (self.stack_kb.max(16) as usize) << 10,
            max_calls: self.max_calls,
            max_in_flight: self.max_in_flight.max(1),
            ..Limits::default()
        }
    }

    /// The answer's budget; `u32::MAX` for none.
    pub fn budget(&self) -> u32 {
        if self.output_tokens == 0 {
            u32::MAX
        } else {
            self.output_tokens
        }
    }
}
