//! The options that choose a stack: one [`StackSelection`] (stage, stack
//! name, config file) for every command, and [`StackArgs`] (the selection
//! and the stack's settings) for the commands that build its template. Both
//! resolve through [`crate::config`], so a flag means the same everywhere.

use std::path::PathBuf;

use infra::{Architecture, Mfa};

use crate::config::{self, Env, Layer, Resolved};
use crate::review::Approval;

/// Which stack: the same three flags, resolved the same way, for every command.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct StackSelection {
    /// The stage: its `[stages.NAME]` table of the config file applies
    /// (a stage the file does not have is refused), and it is the API
    /// Gateway stage, the last segment of the API's URL. Default:
    /// `SIGNIN_STAGE`, else `dev`.
    #[arg(long, value_name = "NAME")]
    pub(crate) stage: Option<String>,
    /// The stack's name; every resource name derives from it. Default:
    /// `SIGNIN_STACK_NAME`, else the config file's `stack_name`, else `sign-in`.
    #[arg(long, value_name = "NAME")]
    pub(crate) stack_name: Option<String>,
    /// The config file to read instead of `deploy.toml` at the workspace
    /// root. Default: `SIGNIN_CONFIG`. `cargo xtask config` shows what every
    /// setting comes to, and from where.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

impl StackSelection {
    /// Every setting of the chosen stack, `flags` first (they hold the
    /// command's own flags, such as `--region`), then the environment, the
    /// stage, the file's defaults and the built-in ones; checked.
    pub(crate) fn resolve(&self, flags: &[&Layer]) -> anyhow::Result<Resolved> {
        config::resolve(
            self,
            flags,
            &Env::process()?,
            &local::workspace::root().join(config::FILE_NAME),
        )
    }
}

/// Which stack, and how it is set up: `synth`, `diff`, `deploy`, `config`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct StackArgs {
    #[command(flatten)]
    pub(crate) selection: StackSelection,
    #[command(flatten)]
    pub(crate) settings: Layer,
}

impl StackArgs {
    /// [`StackSelection::resolve`] with these settings' flags and the caller's `more`.
    pub(crate) fn resolve(&self, more: &[&Layer]) -> anyhow::Result<Resolved> {
        let mut flags = vec![&self.settings];
        flags.extend_from_slice(more);
        self.selection.resolve(&flags)
    }
}

/// When a deploy asks before executing: `deploy`'s flags, which `config` takes too.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ApprovalArgs {
    /// Execute without asking: the same as `--require-approval never`.
    #[arg(long)]
    yes: bool,
    /// When to ask before executing: `broadening` asks when access widens
    /// (see the security changes) or a resource is replaced or removed.
    #[arg(long, value_enum)]
    require_approval: Option<Approval>,
}

impl ApprovalArgs {
    /// These flags as a layer: `--yes` is `require_approval = never`.
    pub(crate) fn layer(&self) -> Layer {
        Layer {
            require_approval: if self.yes {
                Some(Approval::Never)
            } else {
                self.require_approval
            },
            ..Layer::default()
        }
    }
}

#[derive(
    clap::ValueEnum, serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MfaArg {
    Off,
    Required,
}

#[derive(
    clap::ValueEnum, serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq,
)]
pub(crate) enum Arch {
    #[value(name = "x86_64")]
    #[serde(rename = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    #[serde(rename = "arm64")]
    Arm64,
}

impl From<Arch> for Architecture {
    fn from(arch: Arch) -> Self {
        match arch {
            Arch::X86_64 => Self::X86_64,
            Arch::Arm64 => Self::Arm64,
        }
    }
}

impl From<Architecture> for Arch {
    fn from(arch: Architecture) -> Self {
        match arch {
            Architecture::X86_64 => Self::X86_64,
            Architecture::Arm64 => Self::Arm64,
        }
    }
}

impl From<MfaArg> for Mfa {
    fn from(mfa: MfaArg) -> Self {
        match mfa {
            MfaArg::Off => Self::Off,
            MfaArg::Required => Self::Required,
        }
    }
}

impl From<Mfa> for MfaArg {
    fn from(mfa: Mfa) -> Self {
        match mfa {
            Mfa::Off => Self::Off,
            Mfa::Required => Self::Required,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use infra::{Settings, Throttle};

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        stack: StackArgs,
    }

    /// The settings from these flags alone: no environment, no config file.
    fn settings(args: &[&str]) -> anyhow::Result<Settings> {
        let cli = Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))?;
        let resolved = config::resolve(
            &cli.stack.selection,
            &[&cli.stack.settings],
            &Env::default(),
            std::path::Path::new("/nonexistent/deploy.toml"),
        )?;
        Ok(resolved.settings)
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

    #[test]
    fn a_boolean_flag_alone_turns_on_and_takes_false_to_turn_off() {
        let data = |args: &[&str]| settings(args).unwrap().data_policy;
        assert_eq!(data(&[]), infra::DataPolicy::Delete);
        assert_eq!(data(&["--retain-data"]), infra::DataPolicy::Retain);
        assert_eq!(data(&["--retain-data=false"]), infra::DataPolicy::Delete);
        assert!(settings(&["--retain-data=maybe"]).is_err());
    }

    #[test]
    fn the_stage_flag_names_the_api_stage() {
        assert_eq!(settings(&[]).unwrap().stage.as_str(), "dev");
        assert_eq!(settings(&["--stage", "v2"]).unwrap().stage.as_str(), "v2");
        let err = settings(&["--stage", "no spaces"]).unwrap_err();
        assert!(format!("{err:#}").contains("cannot use --stage"), "{err:#}");
    }
}
