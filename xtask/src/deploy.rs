//! `cargo xtask deploy`: build, package, upload by content hash, review the
//! change set, execute it, follow it, print the outputs; or, with
//! `--hotswap`, update only the functions' code (and environment variables)
//! when nothing else changed.

use anyhow::bail;
use aws_sdk_cloudformation::types::Stack;

use crate::aws::{Aws, Stopwatch};
use crate::cfn;
use crate::hotswap::{self, Attempt};
use crate::outputs::OutputsFile;
use crate::package::{self, Package, Profile};
use crate::rollout::{self, DEFAULT_ARTIFACT_HISTORY, Options};
use crate::stack_args::ApprovalArgs;
use crate::target::{Checked, Target};

/// Options of `cargo xtask deploy`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    approval: ApprovalArgs,
    /// How many zips that no deployed template references to keep (newest
    /// first) after a successful deploy; the referenced ones always stay.
    #[arg(long, default_value_t = DEFAULT_ARTIFACT_HISTORY)]
    artifact_history: usize,
    /// Also write the outputs as JSON (`outputs --format json`'s object) to
    /// this file after every successful deploy, an up-to-date one included.
    #[arg(long, value_name = "FILE")]
    outputs_file: Option<std::path::PathBuf>,
    /// When only the functions' code (or their environment variables, where
    /// every value can be worked out from the deployed stack) changed,
    /// update them directly (`UpdateFunctionCode`,
    /// `UpdateFunctionConfiguration`: seconds) instead of through a change
    /// set; when anything else changed, say what and deploy through a change
    /// set. Builds with the `hotswap` profile. Refused for a production stage.
    #[arg(long, conflicts_with = "hotswap_only")]
    hotswap: bool,
    /// Like `--hotswap`, but when anything besides code and environment
    /// changed, say what and stop (exit non-zero) without changing anything.
    #[arg(long)]
    hotswap_only: bool,
}

/// How a deploy gets the code live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Through a change set, reviewed: the only way for anything but code
    /// and environment variables.
    ChangeSet,
    /// Directly into the functions when only code changed; otherwise
    /// through a change set (`fallback`) or not at all.
    Hotswap { fallback: bool },
}

impl Args {
    fn mode(&self) -> Mode {
        if self.hotswap_only {
            Mode::Hotswap { fallback: false }
        } else if self.hotswap {
            Mode::Hotswap { fallback: true }
        } else {
            Mode::ChangeSet
        }
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.target.resolve(&args.approval.layer())?;
    let checked = Checked::new(&config)?;
    let mode = args.mode();
    if let Mode::Hotswap { .. } = mode {
        hotswap::check_allowed(&checked)?;
    }
    let outputs_file = args
        .outputs_file
        .as_deref()
        .map(OutputsFile::new)
        .transpose()?;
    let options = Options {
        approval: config.approval,
        artifact_history: args.artifact_history,
    };
    crate::aws::block_on(async {
        // Credentials, region and account first, and the stage's pins: a build takes minutes.
        let (aws, _) = config.connect(&args.target.aws).await?;
        let outputs_file = outputs_file.as_ref();
        match mode {
            Mode::ChangeSet => {
                let packages = package::build_and_package(checked.arch(), Profile::Release)?;
                let started = Stopwatch::start();
                deploy_and_print(&aws, &checked, &packages, options, outputs_file).await?;
                started.report(&aws);
            }
            Mode::Hotswap { fallback } => {
                let packages = package::build_and_package(checked.arch(), Profile::Hotswap)?;
                let started = Stopwatch::start();
                match hotswap::attempt(&aws, &checked, &packages).await? {
                    Attempt::Swapped(swaps) => {
                        hotswap::print(&swaps);
                        if hotswap::any_updated(&swaps) {
                            eprintln!(
                                "the stack's template still names the functions' previous zips \
                                 and variables; the next `cargo xtask deploy` (without \
                                 --hotswap) brings it in line"
                            );
                        }
                        let stack = checked.stack().as_str();
                        if let Some(current) = cfn::describe(&aws.cfn, stack).await? {
                            print_outputs(&aws, &current, outputs_file)?;
                        }
                    }
                    Attempt::Blocked(blocker) if fallback => {
                        eprintln!(
                            "{blocker}: deploying through a change set instead (with the \
                             hotswap build; a deploy without --hotswap builds the tuned release)"
                        );
                        deploy_and_print(&aws, &checked, &packages, options, outputs_file).await?;
                    }
                    Attempt::Blocked(blocker) => bail!(
                        "{blocker}: --hotswap-only updates function code and environment \
                         only, so nothing was changed. Deploy with --hotswap (which falls back \
                         to a change set) or without it"
                    ),
                }
                started.report(&aws);
            }
        }
        Ok(())
    })?
}

/// The change-set deploy, then the outputs.
async fn deploy_and_print(
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
    options: Options,
    outputs_file: Option<&OutputsFile>,
) -> anyhow::Result<()> {
    if let Some(settled) = rollout::apply_with(aws, checked, packages, options).await? {
        print_outputs(aws, &settled, outputs_file)?;
    }
    Ok(())
}

/// The outputs on stdout, and into the outputs file when one is asked for.
fn print_outputs(aws: &Aws, stack: &Stack, file: Option<&OutputsFile>) -> anyhow::Result<()> {
    crate::outputs::print(stack);
    if let Some(file) = file {
        file.write(&crate::outputs::Outputs::of(stack, &aws.region))?;
    }
    Ok(())
}
