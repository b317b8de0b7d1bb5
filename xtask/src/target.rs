//! What a command acts on: the stack and its settings, resolved from flags,
//! environment and deploy.toml, and checked before anything is built.

use crate::artifacts;
use crate::aws::AwsArgs;
use crate::config::{Layer, Resolved};
use crate::package::Arch;
use crate::stack_args::StackArgs;

/// What to deploy and where: shared by `deploy`, `diff` and `config`.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Target {
    #[command(flatten)]
    pub(crate) stack: StackArgs,
    /// The Cognito hosted-UI domain prefix (global per region). Default:
    /// the deployed stack's, or one derived from the stack, account and region.
    #[arg(long)]
    pub(crate) domain_prefix: Option<String>,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

/// What a stage allows: a production stage is changed only through
/// reviewed change sets, never hotswapped.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StagePolicy {
    pub(crate) production: bool,
    pub(crate) hotswap: bool,
}

impl StagePolicy {
    /// A stage that is not production and may be hotswapped (local mode's).
    pub(crate) const DEVELOPMENT: Self = Self {
        production: false,
        hotswap: true,
    };
}

/// The names, checked before anything is built or any call is made.
pub(crate) struct Checked {
    pub(crate) settings: infra::Settings,
    pub(crate) domain_prefix: Option<infra::DomainPrefix>,
    pub(crate) policy: StagePolicy,
}

impl Checked {
    /// What a deploy of `config` needs; the artifacts stack's name must be
    /// valid too: find out now, not after the build.
    pub(crate) fn new(config: &Resolved) -> anyhow::Result<Self> {
        artifacts::stack_name(&config.settings.stack_name)?;
        Ok(Self {
            settings: config.settings.clone(),
            domain_prefix: config.domain_prefix.clone(),
            policy: StagePolicy {
                production: config.production,
                hotswap: config.hotswap,
            },
        })
    }

    pub(crate) fn stack(&self) -> &infra::StackName {
        &self.settings.stack_name
    }

    /// The processor the functions are built for.
    pub(crate) fn arch(&self) -> Arch {
        self.settings.architecture.into()
    }
}

impl Target {
    /// Every setting, from these flags and the command's `more`, then the
    /// environment, deploy.toml and the defaults; checked.
    pub(crate) fn resolve(&self, more: &Layer) -> anyhow::Result<Resolved> {
        let mine = Layer {
            domain_prefix: self.domain_prefix.clone(),
            ..Layer::aws(&self.aws)
        };
        self.stack.resolve(&[&mine, more])
    }
}
