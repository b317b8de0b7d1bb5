//! The options that choose a stack, shared by every command that builds its
//! template, so `synth`, `diff` and `deploy` agree on what they mean.

use anyhow::Context;
use infra::{Architecture, LogRetention, Mfa, Settings, StackName, StageName, Throttle};

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
    /// Whether every user also signs in with a TOTP code from an
    /// authenticator app (set up at the first sign-in).
    #[arg(long, value_enum, default_value_t = MfaArg::Off)]
    pub(crate) mfa: MfaArg,
    /// Steady requests per second the public `/auth` takes (start and callback).
    #[arg(long, default_value_t = Throttle::AUTH_DEFAULT.rate())]
    pub(crate) auth_rate_limit: f64,
    /// Requests `/auth` takes at once above its rate.
    #[arg(long, default_value_t = Throttle::AUTH_DEFAULT.burst())]
    pub(crate) auth_burst_limit: u32,
    /// Steady requests per second the protected `/auth/login` takes.
    #[arg(long, default_value_t = Throttle::LOGIN_DEFAULT.rate())]
    pub(crate) login_rate_limit: f64,
    /// Requests `/auth/login` takes at once above its rate.
    #[arg(long, default_value_t = Throttle::LOGIN_DEFAULT.burst())]
    pub(crate) login_burst_limit: u32,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MfaArg {
    Off,
    Required,
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
        settings.mfa = match self.mfa {
            MfaArg::Off => Mfa::Off,
            MfaArg::Required => Mfa::Required,
        };
        settings.auth_throttle = Throttle::new(self.auth_rate_limit, self.auth_burst_limit)
            .context("cannot use --auth-rate-limit/--auth-burst-limit")?;
        settings.login_throttle = Throttle::new(self.login_rate_limit, self.login_burst_limit)
            .context("cannot use --login-rate-limit/--login-burst-limit")?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        stack: StackArgs,
    }

    fn settings(args: &[&str]) -> anyhow::Result<Settings> {
        let cli = Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))?;
        cli.stack.settings()
    }

    #[test]
    fn mfa_is_off_unless_required() {
        assert_eq!(settings(&[]).unwrap().mfa, Mfa::Off);
        assert_eq!(settings(&["--mfa", "off"]).unwrap().mfa, Mfa::Off);
        assert_eq!(settings(&["--mfa", "required"]).unwrap().mfa, Mfa::Required);
        assert!(settings(&["--mfa", "optional"]).is_err());
    }

    #[test]
    fn each_route_takes_its_own_limits_and_bad_ones_are_refused_naming_the_flag() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.auth_throttle, Throttle::AUTH_DEFAULT);
        assert_eq!(defaults.login_throttle, Throttle::LOGIN_DEFAULT);
        let custom = settings(&[
            "--auth-rate-limit",
            "2.5",
            "--auth-burst-limit",
            "5",
            "--login-rate-limit",
            "1",
            "--login-burst-limit",
            "2",
        ])
        .unwrap();
        assert_eq!(custom.auth_throttle, Throttle::new(2.5, 5).unwrap());
        assert_eq!(custom.login_throttle, Throttle::new(1.0, 2).unwrap());
        let err = settings(&["--login-burst-limit", "0"]).unwrap_err();
        assert!(
            format!("{err:#}").contains("--login-burst-limit"),
            "{err:#}"
        );
        let err = settings(&["--auth-rate-limit", "0"]).unwrap_err();
        assert!(format!("{err:#}").contains("--auth-rate-limit"), "{err:#}");
    }
}
