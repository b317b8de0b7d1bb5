//! The two steps every command shares: settle a stack (wait for an
//! operation in progress, recover one stuck in `ROLLBACK_COMPLETE`), and
//! run one operation and follow it to the end.

use anyhow::{Context, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::Stack;

use super::change_set::{ChangeSet, token};
use super::follow::{Events, OperationError, describe, follow, newest_event_id};
use super::owner;
use super::status::{Goal, Phase, status};
use crate::aws::sdk;

/// The deployed stack as far as the next change set goes.
pub(crate) enum Existing {
    /// No stack (or one that only holds a change set): the change set creates it.
    New,
    /// A settled stack to update.
    Deployed(Box<Stack>),
}

/// A stack operation the engine runs and follows.
pub(crate) enum Operation<'a> {
    /// Execute a computed change set.
    Execute(&'a ChangeSet),
    /// Delete the stack.
    Delete,
    /// Finish a rollback that failed, skipping these resources.
    ContinueRollback { skip: &'a [String] },
}

/// Runs `operation` on the stack (by name or id) and follows it until it
/// settles, handing its events to `events`.
pub(crate) async fn run(
    cfn: &Client,
    stack: &str,
    operation: Operation<'_>,
    events: &mut dyn Events,
) -> Result<Option<Stack>, OperationError> {
    let since = newest_event_id(cfn, stack).await?;
    let goal = match operation {
        Operation::Execute(_) => Goal::Complete,
        Operation::Delete => Goal::Deleted,
        Operation::ContinueRollback { .. } => Goal::RolledBack,
    };
    let sent = match operation {
        Operation::Execute(change_set) => cfn
            .execute_change_set()
            .change_set_name(&change_set.id)
            .client_request_token(token("execute"))
            .send()
            .await
            .map(drop)
            .map_err(sdk)
            .with_context(|| format!("cannot execute the change set of stack {stack}")),
        Operation::Delete => cfn
            .delete_stack()
            .stack_name(stack)
            .client_request_token(token("delete"))
            .send()
            .await
            .map(drop)
            .map_err(sdk)
            .with_context(|| format!("cannot delete stack {stack}")),
        Operation::ContinueRollback { skip } => cfn
            .continue_update_rollback()
            .stack_name(stack)
            .set_resources_to_skip((!skip.is_empty()).then(|| skip.to_vec()))
            .client_request_token(token("rollback"))
            .send()
            .await
            .map(drop)
            .map_err(sdk)
            .with_context(|| format!("cannot continue the rollback of stack {stack}")),
    };
    sent?;
    follow(cfn, stack, since, goal, events).await
}

/// The stack named `name` if there is one, after checking that it is ours
/// (it belongs to sign-in stack `owner`); changes nothing.
pub(crate) async fn owned(cfn: &Client, name: &str, owner: &str) -> anyhow::Result<Option<Stack>> {
    let Some(current) = describe(cfn, name).await? else {
        return Ok(None);
    };
    owner::check(&current, owner)?;
    Ok(Some(current))
}

/// The stack once no operation is in progress on it (someone else's, or
/// one we stopped watching), checked to be ours first; `None` when there is none.
pub(crate) async fn wait_until_settled(
    cfn: &Client,
    name: &str,
    owner: &str,
    events: &mut dyn Events,
) -> anyhow::Result<Option<Stack>> {
    let Some(current) = owned(cfn, name, owner).await? else {
        return Ok(None);
    };
    let phase = Phase::of(&status(&current));
    if phase != Phase::InProgress {
        return Ok(Some(current));
    }
    events.note(&format!(
        "stack {name} is {}: waiting for that operation to finish",
        status(&current).as_str()
    ));
    let id = current.stack_id().unwrap_or(name);
    let since = newest_event_id(cfn, id).await?;
    // Its outcome is not ours to judge: it is whatever the stack settles in.
    Ok(follow(cfn, id, since, Goal::Settled, events).await?)
}

/// Settles the stack for a deploy: waits for an operation in progress and
/// deletes a stack of ours stuck in `ROLLBACK_COMPLETE` (a failed first
/// create, which can only be deleted). Refuses a stack that is not ours.
pub(crate) async fn settle(
    cfn: &Client,
    name: &str,
    owner: &str,
    events: &mut dyn Events,
) -> anyhow::Result<Existing> {
    loop {
        let Some(current) = wait_until_settled(cfn, name, owner, events).await? else {
            return Ok(Existing::New);
        };
        match ready(&current, name)? {
            Some(existing) => return Ok(existing),
            None => {
                events.note(&format!(
                    "stack {name} is ROLLBACK_COMPLETE (its first create failed) and can only be \
                     deleted: deleting it, then creating it again"
                ));
                let id = current.stack_id().unwrap_or(name);
                OperationError::warn(run(cfn, id, Operation::Delete, events).await, events)?;
            }
        }
    }
}

/// Like [`settle`], for a dry run: waits, but changes nothing (a stack in
/// `ROLLBACK_COMPLETE` is reported, not deleted).
pub(crate) async fn inspect(
    cfn: &Client,
    name: &str,
    owner: &str,
    events: &mut dyn Events,
) -> anyhow::Result<Existing> {
    let Some(current) = wait_until_settled(cfn, name, owner, events).await? else {
        return Ok(Existing::New);
    };
    match ready(&current, name)? {
        Some(existing) => Ok(existing),
        None => bail!(
            "stack {name} is ROLLBACK_COMPLETE (its first create failed); there is nothing to \
             compare with: `cargo xtask deploy` deletes it and creates it again"
        ),
    }
}

/// What a settled stack of ours is for the next change set; `None` for
/// `ROLLBACK_COMPLETE`, which only a delete gets out of.
fn ready(current: &Stack, name: &str) -> anyhow::Result<Option<Existing>> {
    let status = status(current);
    Ok(Some(match Phase::of(&status) {
        Phase::Ready => Existing::Deployed(Box::new(current.clone())),
        Phase::Review | Phase::Deleted => Existing::New,
        Phase::RollbackComplete => return Ok(None),
        Phase::UpdateRollbackFailed => bail!(
            "stack {name} is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback \
             ({}). Finish the rollback with `cargo xtask rollback --stack-name {name}` (add \
             `--skip LOGICAL_ID` for a resource that cannot roll back), then deploy again",
            current.stack_status_reason().unwrap_or("no reason given")
        ),
        Phase::DeleteFailed => bail!(
            "stack {name} is DELETE_FAILED ({}); run `cargo xtask destroy --stack-name {name}` to finish deleting it",
            current.stack_status_reason().unwrap_or("no reason given")
        ),
        Phase::InProgress | Phase::Failed => bail!(
            "stack {name} is {} ({}); look at it in the CloudFormation console",
            status.as_str(),
            current.stack_status_reason().unwrap_or("no reason given")
        ),
    }))
}
