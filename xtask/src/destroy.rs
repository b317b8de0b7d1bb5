//! `cargo xtask destroy`: delete the sign-in stack and its artifacts stack,
//! only when they are ours and not protected, after emptying the buckets
//! that are theirs to delete; whatever the template retains stays.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::Stack;

use crate::artifacts;
use crate::aws::{Aws, AwsArgs};
use crate::cfn::{self, Operation, OperationError};
use crate::config::Layer;
use crate::progress::Printer;
use crate::stack_args::StackSelection;

/// Options of `cargo xtask destroy`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    stack: StackSelection,
    /// Delete without asking.
    #[arg(long)]
    yes: bool,
    /// Keep the artifacts stack and its bucket (the next deploy reuses them).
    #[arg(long)]
    keep_artifacts: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

/// A stack to delete, with what its template keeps and the buckets to empty.
struct Doomed {
    stack: Stack,
    /// Logical id → type of the resources whose `DeletionPolicy` keeps them.
    kept: BTreeMap<String, String>,
    /// The physical names of its buckets that go with it.
    buckets: Vec<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.stack.resolve(&[&Layer::aws(&args.aws)])?;
    let stack = &config.settings.stack_name;
    let artifacts_stack = artifacts::stack_name(stack)?;
    crate::aws::block_on(async {
        let started = crate::aws::Stopwatch::start();
        let (aws, identity) = config.connect(&args.aws).await?;
        let account = identity.account;
        let owner = stack.as_str();
        // Every refusal comes before any change: ownership, then protection.
        let main = cfn::operation::owned(&aws.cfn, owner, owner).await?;
        let arts = if args.keep_artifacts {
            None
        } else {
            cfn::operation::owned(&aws.cfn, artifacts_stack.as_str(), owner).await?
        };
        let stacks: Vec<Stack> = main.into_iter().chain(arts).collect();
        if stacks.is_empty() {
            eprintln!("stack {owner} does not exist: nothing to destroy");
            return Ok(());
        }
        for s in &stacks {
            if s.enable_termination_protection() == Some(true) {
                let name = s.stack_name().unwrap_or("?");
                bail!(
                    "stack {name} has termination protection on, so nothing was touched: no \
                     bucket emptied, no stack deleted. If it really is to go, turn it off first \
                     (`aws cloudformation update-termination-protection \
                     --no-enable-termination-protection --stack-name {name}`), then destroy again"
                );
            }
        }
        let mut doomed = Vec::new();
        for s in stacks {
            doomed.push(survey(&aws, s).await?);
        }
        let names: Vec<&str> = doomed
            .iter()
            .map(|d| d.stack.stack_name().unwrap_or("?"))
            .collect();
        let kept: Vec<String> = doomed
            .iter()
            .flat_map(|d| d.kept.iter().map(|(id, kind)| format!("{id} ({kind})")))
            .collect();
        let keeps = if kept.is_empty() {
            String::new()
        } else {
            format!(
                "; kept by their DeletionPolicy (with their data): {}",
                kept.join(", ")
            )
        };
        eprintln!("to delete: stack(s) {}{keeps}", names.join(" and "));
        if !args.yes {
            let question = if kept.is_empty() {
                format!(
                    "delete stack(s) {} with every object in their buckets, the users, the logins and the logs?",
                    names.join(" and ")
                )
            } else {
                format!(
                    "delete stack(s) {}, keeping {}?",
                    names.join(" and "),
                    kept.join(", ")
                )
            };
            if !crate::progress::confirm(
                &question,
                "destroy deletes data; run again with --yes (there is no terminal to ask on)",
            )? {
                eprintln!("nothing destroyed");
                return Ok(());
            }
        }
        for d in &doomed {
            delete(&aws, &account, d).await?;
        }
        started.report(&aws);
        Ok(())
    })?
}

/// What deleting `stack` would keep and empty: its buckets from its own
/// resource list (never its outputs), minus those its template retains.
async fn survey(aws: &Aws, stack: Stack) -> anyhow::Result<Doomed> {
    let name = stack.stack_name().unwrap_or("?").to_owned();
    let id = stack.stack_id().unwrap_or(&name).to_owned();
    let template = crate::review::deployed_template(aws, &id).await?;
    let kept: BTreeMap<String, String> = template
        .get("Resources")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, r)| {
            matches!(
                r.get("DeletionPolicy").and_then(serde_json::Value::as_str),
                Some("Retain" | "RetainExceptOnCreate")
            )
        })
        .map(|(id, r)| {
            let kind = r
                .get("Type")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?");
            (id.clone(), kind.to_owned())
        })
        .collect();
    let mut buckets = Vec::new();
    let mut pages = aws
        .cfn
        .list_stack_resources()
        .stack_name(&id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::sdk)
            .with_context(|| format!("cannot list the resources of stack {name}"))?;
        for r in page.stack_resource_summaries() {
            if r.resource_type() == Some("AWS::S3::Bucket")
                && !r
                    .logical_resource_id()
                    .is_some_and(|l| kept.contains_key(l))
                && let Some(physical) = r.physical_resource_id()
            {
                buckets.push(physical.to_owned());
            }
        }
    }
    Ok(Doomed {
        stack,
        kept,
        buckets,
    })
}

/// Waits for an operation in progress, empties the stack's own buckets
/// (only if `account` owns them), deletes the stack and follows it.
async fn delete(aws: &Aws, account: &str, doomed: &Doomed) -> anyhow::Result<()> {
    let name = doomed.stack.stack_name().unwrap_or("?");
    let id = doomed.stack.stack_id().unwrap_or(name);
    let owner = doomed
        .stack
        .tags()
        .iter()
        .find(|t| t.key() == Some(cfn::owner::OWNER_TAG))
        .and_then(|t| t.value())
        .unwrap_or(name);
    let mut printer = Printer::new();
    cfn::operation::wait_until_settled(&aws.cfn, id, owner, &mut printer).await?;
    // CloudFormation cannot delete a bucket that holds objects (DELETE_FAILED),
    // and a versioned bucket keeps every old version and delete marker.
    for bucket in &doomed.buckets {
        let deleted = artifacts::empty_bucket(aws, bucket, account).await?;
        if deleted > 0 {
            eprintln!("emptied s3://{bucket} ({deleted} object versions and delete markers)");
        }
    }
    eprintln!("deleting stack {name}");
    OperationError::warn(
        cfn::operation::run(&aws.cfn, id, Operation::Delete, &mut printer).await,
        &mut printer,
    )?;
    if doomed.kept.is_empty() {
        eprintln!("stack {name} is deleted");
    } else {
        let kept: Vec<&str> = doomed.kept.keys().map(String::as_str).collect();
        eprintln!(
            "stack {name} is deleted; kept, with their data: {}",
            kept.join(", ")
        );
    }
    Ok(())
}
