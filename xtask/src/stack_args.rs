//! The options that choose a stack, shared by every command that builds its
//! template, so `synth`, `diff` and `deploy` agree on what they mean.

use anyhow::Context;
use infra::{Architecture, LogRetention, Settings, StackName, StageName};

/// Which stack, and how it is set up.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct StackArgs {
    /// The stack's name; every resource name derives from it.
    #[arg(long, env = "SIGNIN_STACK_NAME", default_value = "sign-in")]
    pub(crate) stack_name: String,
    /// The API Gateway stage (the last segment of the API's URL).
    #[arg(long, default_value = "dev")]
    pub(crate) stage: String,
    /// Days the log groups keep events (one of CloudWatch's values).
    #[arg(long, default_value_t = 30)]
    pub(crate) log_retention_days: u32,
    /// Turn on API access logs; needs the account-wide API Gateway
    /// CloudWatch role to be set up already.
    #[arg(long)]
    pub(crate) api_access_logs: bool,
    /// Keep the user pool, the table and the data bucket when the stack is
    /// deleted or an update replaces them (their `DeletionPolicy` and
    /// `UpdateReplacePolicy`); without it they go with the stack, as suits a
    /// throwaway stage.
    #[arg(long)]
    pub(crate) retain_data: bool,
    /// The processor the functions run on.
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    pub(crate) arch: Arch,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arch {
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    Arm64,
}

impl StackArgs {
    /// Validates every name before anything else happens.
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        let stack_name = StackName::new(&self.stack_name).context("cannot use --stack-name")?;
        let mut settings = Settings::new(stack_name);
        settings.stage = StageName::new(&self.stage).context("cannot use --stage")?;
        settings.log_retention = LogRetention::days(self.log_retention_days)
            .context("cannot use --log-retention-days")?;
        settings.api_access_logs = self.api_access_logs;
        if self.retain_data {
            settings.data_policy = infra::DataPolicy::Retain;
        }
        settings.architecture = match self.arch {
            Arch::X86_64 => Architecture::X86_64,
            Arch::Arm64 => Architecture::Arm64,
        };
        Ok(settings)
    }
}
