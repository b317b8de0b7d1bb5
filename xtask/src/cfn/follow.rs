//! Following a stack until it settles: the new events go to the caller as
//! they arrive (the engine prints nothing), the failed resources with
//! CloudFormation's reasons go into the typed error.

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackEvent};

use super::status::{Goal, Phase, status};
use crate::aws::sdk;

/// What the engine hands its caller while it works: stack events as they
/// arrive, notes on what it is doing (waiting, recovering), and the end of
/// each followed operation.
pub(crate) trait Events {
    fn event(&mut self, event: &StackEvent);
    fn note(&mut self, note: &str);
    /// The operation followed since the last `finished` has ended (settled,
    /// failed, or stopped being watched): what was drawn for it can go.
    fn finished(&mut self) {}
}

/// One resource that failed, as CloudFormation reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FailedResource {
    pub(crate) logical_id: String,
    pub(crate) resource_type: String,
    pub(crate) status: String,
    pub(crate) reason: String,
}

impl fmt::Display for FailedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) {}: {}",
            self.logical_id, self.resource_type, self.status, self.reason
        )
    }
}

/// A stack operation that did not reach its goal, with the resources that failed first.
#[derive(Debug, thiserror::Error)]
pub(crate) struct StackFailed {
    pub(crate) stack: String,
    pub(crate) status: String,
    pub(crate) reason: Option<String>,
    pub(crate) failed: Vec<FailedResource>,
}

impl fmt::Display for StackFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stack {} ended in {}", self.stack, self.status)?;
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        if self.failed.is_empty() {
            return Ok(());
        }
        write!(f, "; first failed resources:")?;
        for r in &self.failed {
            write!(f, "\n  {r}")?;
        }
        Ok(())
    }
}

/// The user pressed Ctrl-C while we watched: CloudFormation goes on regardless.
#[derive(Debug, thiserror::Error)]
#[error(
    "stopped watching stack {stack}; CloudFormation goes on with the operation on its own \
     (run the same command again to wait for it, or watch it in the CloudFormation console)"
)]
pub(crate) struct StoppedWatching {
    pub(crate) stack: String,
}

/// How a stack operation can end other than plainly reaching its goal:
/// what every caller of the engine must handle.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OperationError {
    /// A call to CloudFormation failed, after the SDK's retries.
    #[error("{0:#}")]
    Api(anyhow::Error),
    /// The stack settled short of the goal.
    #[error(transparent)]
    Failed(StackFailed),
    /// Ctrl-C while following; CloudFormation goes on.
    #[error(transparent)]
    StoppedWatching(StoppedWatching),
    /// The goal was reached, but some resources failed on the way (an old
    /// resource that could not be deleted in the clean-up, say): a warning.
    #[error("stack {stack} reached its goal, but some resources failed on the way:{}", list(.warnings))]
    SucceededWithWarnings {
        stack: String,
        settled: Option<Box<Stack>>,
        warnings: Vec<FailedResource>,
    },
}

fn list(resources: &[FailedResource]) -> String {
    resources.iter().map(|r| format!("\n  {r}")).collect()
}

impl OperationError {
    /// Turns "succeeded with warnings" into success, handing the warning to
    /// `events`; every other outcome stays an error.
    pub(crate) fn warn(
        result: Result<Option<Stack>, Self>,
        events: &mut dyn Events,
    ) -> Result<Option<Stack>, Self> {
        match result {
            Err(warning @ Self::SucceededWithWarnings { .. }) => {
                events.note(&format!("warning: {warning}"));
                let Self::SucceededWithWarnings { settled, .. } = warning else {
                    unreachable!("matched above")
                };
                Ok(settled.map(|s| *s))
            }
            other => other,
        }
    }
}

impl From<anyhow::Error> for OperationError {
    fn from(err: anyhow::Error) -> Self {
        Self::Api(err)
    }
}

/// The stack named `name` (or with this id), or `None` when there is none.
pub(crate) async fn describe(cfn: &Client, name: &str) -> anyhow::Result<Option<Stack>> {
    use aws_sdk_cloudformation::error::ProvideErrorMetadata;
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks.unwrap_or_default().into_iter().next()),
        Err(err) => {
            let err = err.into_service_error();
            // CloudFormation answers a missing stack with a generic
            // ValidationError; only its message tells the case apart.
            if err.code() == Some("ValidationError")
                && err.message().is_some_and(|m| m.contains("does not exist"))
            {
                Ok(None)
            } else {
                Err(sdk(err)).with_context(|| format!("cannot describe stack {name}"))
            }
        }
    }
}

/// The newest event of a stack, so that following it later shows only what is new.
pub(crate) async fn newest_event_id(cfn: &Client, stack: &str) -> anyhow::Result<Option<String>> {
    let out = cfn
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot read the events of stack {stack}"))?;
    Ok(out
        .stack_events()
        .first()
        .and_then(|e| e.event_id())
        .map(str::to_owned))
}

/// Events newer than `since`, oldest first (pages are newest first).
async fn new_events(
    cfn: &Client,
    stack: &str,
    since: Option<&str>,
) -> anyhow::Result<Vec<StackEvent>> {
    let mut fresh = Vec::new();
    let mut pages = cfn
        .describe_stack_events()
        .stack_name(stack)
        .into_paginator()
        .send();
    'pages: while let Some(page) = pages.next().await {
        let page = page
            .map_err(sdk)
            .with_context(|| format!("cannot read the events of stack {stack}"))?;
        for event in page.stack_events.unwrap_or_default() {
            if since.is_some() && event.event_id() == since {
                break 'pages;
            }
            fresh.push(event);
        }
    }
    fresh.reverse();
    Ok(fresh)
}

fn is_failure(status: &ResourceStatus) -> bool {
    use ResourceStatus as R;
    matches!(
        status,
        R::CreateFailed
            | R::UpdateFailed
            | R::DeleteFailed
            | R::ImportFailed
            | R::RollbackFailed
            | R::UpdateRollbackFailed
    )
}

/// Whether an event says a resource is done (for a `[done/total]` count).
pub(crate) fn is_complete(status: &ResourceStatus) -> bool {
    use ResourceStatus as R;
    matches!(
        status,
        R::CreateComplete
            | R::UpdateComplete
            | R::DeleteComplete
            | R::DeleteSkipped
            | R::ImportComplete
    )
}

/// Follows the stack (by name or id) until no operation is in progress,
/// handing each new event to `events` as it arrives.
///
/// Returns the settled stack when it reached `goal` (`None` once deleted);
/// otherwise [`OperationError::Failed`] with the first failed resources,
/// [`OperationError::SucceededWithWarnings`] when resources failed on the
/// way to the goal, [`OperationError::StoppedWatching`] on Ctrl-C. However
/// it ends, `events` hears that it has.
pub(crate) async fn follow(
    cfn: &Client,
    stack: &str,
    since: Option<String>,
    goal: Goal,
    events: &mut dyn Events,
) -> Result<Option<Stack>, OperationError> {
    let result = watch(cfn, stack, since, goal, events).await;
    events.finished();
    result
}

async fn watch(
    cfn: &Client,
    stack: &str,
    since: Option<String>,
    goal: Goal,
    events: &mut dyn Events,
) -> Result<Option<Stack>, OperationError> {
    let mut since = since;
    let mut failed: Vec<FailedResource> = Vec::new();
    let mut delay = Duration::from_millis(200);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        // Status first, then events: every event up to the settled status is handed on.
        let current = describe(cfn, stack).await?;
        let fresh = match new_events(cfn, stack, since.as_deref()).await {
            Ok(fresh) => fresh,
            // A deleted stack may stop answering by name.
            Err(_) if current.is_none() => Vec::new(),
            Err(err) => return Err(err.into()),
        };
        for event in &fresh {
            events.event(event);
            if let Some(status) = event.resource_status()
                && is_failure(status)
                && event.resource_type() != Some("AWS::CloudFormation::Stack")
            {
                let resource = FailedResource {
                    logical_id: event.logical_resource_id().unwrap_or("?").to_owned(),
                    resource_type: event.resource_type().unwrap_or("?").to_owned(),
                    status: status.as_str().to_owned(),
                    reason: event
                        .resource_status_reason()
                        .unwrap_or("no reason given")
                        .to_owned(),
                };
                // A rollback that retries a resource reports the same failure again.
                if !failed.contains(&resource) {
                    failed.push(resource);
                }
            }
        }
        if let Some(last) = fresh.last() {
            since = last.event_id().map(str::to_owned);
            delay = Duration::from_millis(500);
        }
        let Some(current) = current else {
            return settled(stack, None, goal, failed);
        };
        let status = status(&current);
        match Phase::of(&status) {
            Phase::InProgress => {}
            Phase::Deleted => return settled(stack, None, goal, failed),
            _ if goal.reached(&status) => return settled(stack, Some(current), goal, failed),
            _ => {
                // The resources CloudFormation cancelled because another one
                // failed say nothing useful; list the real causes first.
                failed.sort_by_key(|r| r.reason.contains("cancelled"));
                failed.truncate(5);
                return Err(OperationError::Failed(StackFailed {
                    stack: current.stack_name().unwrap_or(stack).to_owned(),
                    status: status.as_str().to_owned(),
                    reason: current.stack_status_reason().map(str::to_owned),
                    failed,
                }));
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = &mut ctrl_c => {
                return Err(OperationError::StoppedWatching(StoppedWatching { stack: stack.to_owned() }));
            }
        }
        delay = (delay * 3 / 2).min(Duration::from_secs(5));
    }
}

/// The end of a follow that reached its goal (or, for a delete, the stack is gone).
fn settled(
    stack: &str,
    current: Option<Stack>,
    goal: Goal,
    failed: Vec<FailedResource>,
) -> Result<Option<Stack>, OperationError> {
    if current.is_none() && !matches!(goal, Goal::Deleted | Goal::Settled) {
        return Err(OperationError::Api(anyhow::anyhow!(
            "stack {stack} is gone: someone deleted it while we followed it"
        )));
    }
    // Someone else's operation: its failures are not ours to report.
    if failed.is_empty() || goal == Goal::Settled {
        return Ok(current);
    }
    Err(OperationError::SucceededWithWarnings {
        stack: stack.to_owned(),
        settled: current.map(Box::new),
        warnings: failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_resources_and_reasons() {
        let err = StackFailed {
            stack: "sign-in".to_owned(),
            status: "ROLLBACK_COMPLETE".to_owned(),
            reason: Some("The following resource(s) failed to create: [GreetingHi]".to_owned()),
            failed: vec![FailedResource {
                logical_id: "GreetingHi".to_owned(),
                resource_type: "AWS::SSM::Parameter".to_owned(),
                status: "CREATE_FAILED".to_owned(),
                reason: "parameter already exists".to_owned(),
            }],
        };
        pretty_assertions::assert_eq!(
            err.to_string(),
            "stack sign-in ended in ROLLBACK_COMPLETE (The following resource(s) failed to create: \
             [GreetingHi]); first failed resources:\n  GreetingHi (AWS::SSM::Parameter) CREATE_FAILED: \
             parameter already exists"
        );
    }
}
