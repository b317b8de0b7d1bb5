//! `cargo xtask rollback`: finish the rollback of a stack stuck in
//! `UPDATE_ROLLBACK_FAILED` (`ContinueUpdateRollback`, optionally skipping
//! resources that cannot roll back) and follow it.

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::Stack;

use crate::aws::{Aws, AwsArgs};
use crate::cfn::{self, Operation, OperationError, Phase};
use crate::config::Layer;
use crate::progress::Printer;
use crate::stack_args::StackSelection;

/// Options of `cargo xtask rollback`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    stack: StackSelection,
    /// A resource (logical id) that cannot roll back, to leave as it is and
    /// mark rolled back; repeat for several. The stack then no longer
    /// matches those resources: check them after.
    #[arg(long = "skip", value_name = "LOGICAL_ID")]
    skip: Vec<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.stack.resolve(&[&Layer::aws(&args.aws)])?;
    let stack = &config.settings.stack_name;
    check_skips(&args.skip)?;
    crate::aws::block_on(async {
        let started = crate::aws::Stopwatch::start();
        let (aws, _) = config.connect(&args.aws).await?;
        let settled =
            continue_rollback(&aws, stack.as_str(), &args.skip, &mut Printer::new()).await?;
        eprintln!(
            "stack {} is {}; `cargo xtask deploy` can update it again",
            stack.as_str(),
            settled.stack_status().map_or("?", |s| s.as_str())
        );
        started.report(&aws);
        Ok(())
    })?
}

/// Logical ids are alphanumeric: anything else is refused before any call.
fn check_skips(skip: &[String]) -> anyhow::Result<()> {
    for id in skip {
        let well_formed =
            !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            bail!(
                "cannot use --skip {id:?}: a logical id is 1 to 255 letters and digits, as in the stack's template"
            );
        }
    }
    Ok(())
}

/// Continues the failed rollback of `stack` (ours, in `UPDATE_ROLLBACK_FAILED`),
/// skipping `skip`, and follows it to `UPDATE_ROLLBACK_COMPLETE`.
pub(crate) async fn continue_rollback(
    aws: &Aws,
    stack: &str,
    skip: &[String],
    events: &mut dyn cfn::Events,
) -> anyhow::Result<Stack> {
    let current = cfn::operation::wait_until_settled(&aws.cfn, stack, stack, events)
        .await?
        .with_context(|| format!("stack {stack} does not exist: nothing to roll back"))?;
    let status = cfn::status(&current);
    if Phase::of(&status) != Phase::UpdateRollbackFailed {
        bail!(
            "stack {stack} is {}, not UPDATE_ROLLBACK_FAILED: there is no rollback to continue",
            status.as_str()
        );
    }
    let id = current.stack_id().unwrap_or(stack);
    if skip.is_empty() {
        events.note(&format!("continuing the rollback of stack {stack}"));
    } else {
        events.note(&format!(
            "continuing the rollback of stack {stack}, skipping {}",
            skip.join(", ")
        ));
    }
    let result =
        cfn::operation::run(&aws.cfn, id, Operation::ContinueRollback { skip }, events).await;
    match OperationError::warn(result, events) {
        Ok(settled) => settled.with_context(|| format!("stack {stack} is gone after its rollback")),
        Err(OperationError::Failed(failed)) => {
            let ids: Vec<&str> = failed
                .failed
                .iter()
                .map(|r| r.logical_id.as_str())
                .collect();
            let hint = if ids.is_empty() {
                String::new()
            } else {
                format!(
                    "; if those resources cannot roll back (fix them first if you can), run \
                     `cargo xtask rollback --stack-name {stack} {}`",
                    ids.iter()
                        .map(|i| format!("--skip {i}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            };
            Err(anyhow::Error::new(failed)
                .context(format!("the rollback of stack {stack} failed again{hint}")))
        }
        Err(err) => Err(err.into()),
    }
}
