//! `cargo xtask destroy`: empty the stack's buckets, delete the stack and
//! follow it, then the artifacts stack and its bucket.

use anyhow::Context;

use crate::artifacts;
use crate::aws::{Aws, AwsArgs, sdk};
use crate::cfn::{self, Phase};

/// Options of `cargo xtask destroy`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The CloudFormation stack.
    #[arg(long, env = "SIGNIN_STACK_NAME", default_value = "sign-in")]
    stack_name: String,
    /// Delete without asking.
    #[arg(long)]
    yes: bool,
    /// Keep the artifacts stack and its bucket (the next deploy reuses them).
    #[arg(long)]
    keep_artifacts: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let stack = infra::StackName::new(&args.stack_name).context("invalid --stack-name")?;
    let artifacts_stack = artifacts::stack_name(&stack)?;
    crate::aws::block_on(async {
        let started = crate::aws::Stopwatch::start();
        let aws = Aws::load(&args.aws).await?;
        let main = cfn::describe(&aws.cfn, stack.as_str()).await?;
        let arts = if args.keep_artifacts {
            None
        } else {
            cfn::describe(&aws.cfn, artifacts_stack.as_str()).await?
        };
        if main.is_none() && arts.is_none() {
            eprintln!(
                "stack {} does not exist: nothing to destroy",
                stack.as_str()
            );
            return Ok(());
        }
        let mut what: Vec<&str> = Vec::new();
        if main.is_some() {
            what.push(stack.as_str());
        }
        if arts.is_some() {
            what.push(artifacts_stack.as_str());
        }
        if !args.yes {
            let question = format!(
                "delete stack(s) {} with every object in their buckets, the users, the logins and the logs?",
                what.join(" and ")
            );
            if !cfn::confirm(
                &question,
                "destroy deletes data; run again with --yes (there is no terminal to ask on)",
            )? {
                eprintln!("nothing destroyed");
                return Ok(());
            }
        }
        if let Some(main) = main {
            delete(&aws, &main).await?;
        }
        if let Some(arts) = arts {
            delete(&aws, &arts).await?;
        }
        started.report(&aws);
        Ok(())
    })?
}

/// Empties every bucket of the stack, deletes it and follows it to the end.
async fn delete(aws: &Aws, stack: &aws_sdk_cloudformation::types::Stack) -> anyhow::Result<()> {
    let name = stack.stack_name().unwrap_or("?");
    let id = stack.stack_id().unwrap_or(name);
    let status = cfn::status(stack);
    if Phase::of(&status) == Phase::InProgress {
        eprintln!(
            "stack {name} is {}: waiting for that operation to finish",
            status.as_str()
        );
        let since = cfn::newest_event_id(&aws.cfn, id).await?;
        if let Err(err) = cfn::follow(&aws.cfn, id, since, None).await
            && err.is::<cfn::StoppedWatching>()
        {
            return Err(err);
        }
    }
    // CloudFormation cannot delete a bucket that holds objects (DELETE_FAILED),
    // and a versioned bucket keeps every old version and delete marker.
    for bucket in buckets(aws, id).await? {
        let deleted = artifacts::empty_bucket(aws, &bucket).await?;
        if deleted > 0 {
            eprintln!("emptied s3://{bucket} ({deleted} object versions and delete markers)");
        }
    }
    let since = cfn::newest_event_id(&aws.cfn, id).await?;
    aws.cfn
        .delete_stack()
        .stack_name(id)
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot delete stack {name}"))?;
    eprintln!("deleting stack {name}");
    cfn::follow(&aws.cfn, id, since, None).await?;
    eprintln!("stack {name} is deleted");
    Ok(())
}

/// The physical names of the stack's S3 buckets.
async fn buckets(aws: &Aws, stack: &str) -> anyhow::Result<Vec<String>> {
    let mut buckets = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .cfn
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .map_err(sdk)
            .with_context(|| format!("cannot list the resources of stack {stack}"))?;
        for r in out.stack_resource_summaries() {
            if r.resource_type() == Some("AWS::S3::Bucket")
                && let Some(physical) = r.physical_resource_id()
            {
                buckets.push(physical.to_owned());
            }
        }
        token = out.next_token;
        if token.is_none() {
            return Ok(buckets);
        }
    }
}
