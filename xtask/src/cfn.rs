//! CloudFormation, typed: stack phases, change sets and their summary, and
//! following a stack's events with live progress until it settles, carrying
//! the failed resources (with CloudFormation's reasons) in the error.

use std::collections::HashSet;
use std::fmt;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetStatus, ChangeSetType, Parameter, Replacement,
    ResourceStatus, Stack, StackEvent, StackStatus,
};

use crate::aws::sdk;

/// A template body inline is at most 51,200 bytes; larger needs an S3 URL.
pub(crate) const MAX_INLINE_TEMPLATE: usize = 51_200;

/// What a stack's status means for the next operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// An operation is running; wait for it.
    InProgress,
    /// Settled after a successful operation (or a rolled-back update): it can be updated.
    Ready,
    /// Only a change set exists (a CREATE change set was made but never executed).
    Review,
    /// A failed first create: the stack can only be deleted.
    RollbackComplete,
    /// A failed update whose rollback failed: needs `ContinueUpdateRollback`.
    UpdateRollbackFailed,
    /// A delete failed (for example a non-empty bucket).
    DeleteFailed,
    /// Gone.
    Deleted,
    /// Any other failed state (`CREATE_FAILED`, `ROLLBACK_FAILED`, …).
    Failed,
}

impl Phase {
    pub(crate) fn of(status: &StackStatus) -> Self {
        use StackStatus as S;
        match status {
            S::CreateInProgress
            | S::DeleteInProgress
            | S::ImportInProgress
            | S::ImportRollbackInProgress
            | S::RollbackInProgress
            | S::UpdateCompleteCleanupInProgress
            | S::UpdateInProgress
            | S::UpdateRollbackCompleteCleanupInProgress
            | S::UpdateRollbackInProgress => Self::InProgress,
            S::CreateComplete
            | S::UpdateComplete
            | S::ImportComplete
            | S::UpdateRollbackComplete
            | S::ImportRollbackComplete => Self::Ready,
            S::ReviewInProgress => Self::Review,
            S::RollbackComplete => Self::RollbackComplete,
            S::UpdateRollbackFailed => Self::UpdateRollbackFailed,
            S::DeleteFailed => Self::DeleteFailed,
            S::DeleteComplete => Self::Deleted,
            _ => Self::Failed,
        }
    }
}

/// The stack's status; one CloudFormation never sent counts as unknown.
pub(crate) fn status(stack: &Stack) -> StackStatus {
    stack
        .stack_status()
        .cloned()
        .unwrap_or_else(|| StackStatus::from("UNKNOWN"))
}

/// Whether the stack reached the state the operation aimed for.
fn succeeded(status: &StackStatus) -> bool {
    matches!(
        status,
        StackStatus::CreateComplete
            | StackStatus::UpdateComplete
            | StackStatus::DeleteComplete
            | StackStatus::ImportComplete
    )
}

/// The stack named `name`, or `None` when there is none.
pub(crate) async fn describe(cfn: &Client, name: &str) -> anyhow::Result<Option<Stack>> {
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

/// The value of output `key`, if the stack has it.
pub(crate) fn output<'a>(stack: &'a Stack, key: &str) -> Option<&'a str> {
    stack
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(key))
        .and_then(|o| o.output_value())
}

/// The value the stack was deployed with for parameter `key`.
pub(crate) fn parameter<'a>(stack: &'a Stack, key: &str) -> Option<&'a str> {
    stack
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some(key))
        .and_then(|p| p.parameter_value())
}

/// One resource that failed, as CloudFormation reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FailedResource {
    pub(crate) logical_id: String,
    pub(crate) resource_type: String,
    pub(crate) status: String,
    pub(crate) reason: String,
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
            write!(
                f,
                "\n  {} ({}) {}: {}",
                r.logical_id, r.resource_type, r.status, r.reason
            )?;
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

/// Events newer than `since`, oldest first.
async fn new_events(
    cfn: &Client,
    stack: &str,
    since: Option<&str>,
) -> anyhow::Result<Vec<StackEvent>> {
    let mut fresh = Vec::new();
    let mut token = None;
    'pages: loop {
        let out = cfn
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .map_err(sdk)
            .with_context(|| format!("cannot read the events of stack {stack}"))?;
        for event in out.stack_events.unwrap_or_default() {
            if since.is_some() && event.event_id() == since {
                break 'pages;
            }
            fresh.push(event);
        }
        token = out.next_token;
        if token.is_none() {
            break;
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

fn is_complete(status: &ResourceStatus) -> bool {
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
/// printing each new event as it arrives. `total` is how many resources the
/// operation touches, when known, for a `[done/total]` count.
///
/// Returns the settled stack when it reached its goal (`None` once deleted);
/// otherwise a [`StackFailed`] carrying the first failed resources. Ctrl-C
/// gives [`StoppedWatching`].
pub(crate) async fn follow(
    cfn: &Client,
    stack: &str,
    since: Option<String>,
    total: Option<usize>,
) -> anyhow::Result<Option<Stack>> {
    let started = Instant::now();
    let mut since = since;
    let mut done: HashSet<String> = HashSet::new();
    let mut failed: Vec<FailedResource> = Vec::new();
    let mut delay = Duration::from_millis(200);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        // Status first, then events: every event up to the settled status gets printed.
        let current = describe(cfn, stack).await?;
        let events = match new_events(cfn, stack, since.as_deref()).await {
            Ok(events) => events,
            // A deleted stack may stop answering by name.
            Err(_) if current.is_none() => Vec::new(),
            Err(err) => return Err(err),
        };
        for event in &events {
            print_event(event, started, &mut done, total);
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
        if let Some(last) = events.last() {
            since = last.event_id().map(str::to_owned);
            delay = Duration::from_millis(500);
        }
        let Some(current) = current else {
            return Ok(None);
        };
        let status = status(&current);
        match Phase::of(&status) {
            Phase::InProgress => {}
            Phase::Deleted => return Ok(None),
            _ if succeeded(&status) => return Ok(Some(current)),
            _ => {
                // The resources CloudFormation cancelled because another one
                // failed say nothing useful; list the real causes first.
                failed.sort_by_key(|r| r.reason.contains("cancelled"));
                failed.truncate(5);
                return Err(StackFailed {
                    stack: current.stack_name().unwrap_or(stack).to_owned(),
                    status: status.as_str().to_owned(),
                    reason: current.stack_status_reason().map(str::to_owned),
                    failed,
                }
                .into());
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = &mut ctrl_c => return Err(StoppedWatching { stack: stack.to_owned() }.into()),
        }
        delay = (delay * 3 / 2).min(Duration::from_secs(5));
    }
}

fn print_event(
    event: &StackEvent,
    started: Instant,
    done: &mut HashSet<String>,
    total: Option<usize>,
) {
    let status = event.resource_status().map_or("?", |s| s.as_str());
    let logical = event.logical_resource_id().unwrap_or("?");
    let kind = event.resource_type().unwrap_or("?");
    let is_stack = kind == "AWS::CloudFormation::Stack";
    if !is_stack && event.resource_status().is_some_and(is_complete) {
        done.insert(logical.to_owned());
    }
    let count = match total {
        Some(total) if !is_stack => format!("[{}/{}] ", done.len().min(total), total),
        _ => String::new(),
    };
    let reason = event
        .resource_status_reason()
        .filter(|r| !r.is_empty())
        .map(|r| format!("  {r}"))
        .unwrap_or_default();
    eprintln!(
        "  {:>6.1}s {count}{status:<20} {kind:<36} {logical}{reason}",
        started.elapsed().as_secs_f64()
    );
}

/// One line of a change set's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceChange {
    pub(crate) action: ChangeAction,
    pub(crate) logical_id: String,
    pub(crate) resource_type: String,
    pub(crate) replacement: Option<Replacement>,
    /// What changes (`Properties`, `Tags`) and which properties, for a modify.
    pub(crate) details: Vec<String>,
}

impl ResourceChange {
    /// Why this change deserves a confirmation, if it does.
    pub(crate) fn risk(&self) -> Option<&'static str> {
        if self.action == ChangeAction::Remove {
            Some("removes a resource")
        } else if self.action == ChangeAction::Modify
            && matches!(
                self.replacement,
                Some(Replacement::True | Replacement::Conditional)
            )
        {
            Some("replaces a resource")
        } else if self.resource_type.starts_with("AWS::IAM::") {
            Some("changes IAM")
        } else {
            None
        }
    }

    fn describe_replacement(&self) -> &'static str {
        match (&self.action, &self.replacement) {
            (ChangeAction::Modify, Some(Replacement::True)) => "REPLACED (new physical id)",
            (ChangeAction::Modify, Some(Replacement::Conditional)) => "may be replaced",
            (ChangeAction::Modify, _) => "in place",
            _ => "",
        }
    }
}

/// A change set ready to execute.
#[derive(Debug)]
pub(crate) struct ChangeSet {
    pub(crate) id: String,
    pub(crate) stack_id: String,
    pub(crate) kind: ChangeSetType,
    pub(crate) changes: Vec<ResourceChange>,
}

impl ChangeSet {
    /// The distinct reasons to ask before executing.
    pub(crate) fn risks(&self) -> Vec<&'static str> {
        let mut risks: Vec<&'static str> = self
            .changes
            .iter()
            .filter_map(ResourceChange::risk)
            .collect();
        risks.sort_unstable();
        risks.dedup();
        risks
    }
}

/// Formats the summary of `changes`: one aligned line each.
pub(crate) fn summary(changes: &[ResourceChange]) -> String {
    let id_width = changes
        .iter()
        .map(|c| c.logical_id.len())
        .max()
        .unwrap_or(0);
    let type_width = changes
        .iter()
        .map(|c| c.resource_type.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for change in changes {
        let sign = match change.action {
            ChangeAction::Add => '+',
            ChangeAction::Remove => '-',
            ChangeAction::Modify if change.replacement == Some(Replacement::True) => '!',
            _ => '~',
        };
        let mut line = format!(
            "  {sign} {:<7} {:<id_width$}  {:<type_width$}",
            change.action.as_str(),
            change.logical_id,
            change.resource_type,
        );
        let replacement = change.describe_replacement();
        if !replacement.is_empty() {
            line.push_str("  ");
            line.push_str(replacement);
        }
        if !change.details.is_empty() {
            line.push_str(": ");
            line.push_str(&change.details.join(", "));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// What CreateChangeSet found.
#[derive(Debug)]
pub(crate) enum Planned {
    /// The template and parameters match the deployed stack; the change set is already deleted.
    UpToDate,
    /// Changes to review and maybe execute.
    Changes(ChangeSet),
}

/// Where the template comes from: inline, or an S3 URL when it is too big.
pub(crate) enum TemplateSource {
    Body(String),
    Url(String),
}

/// Creates a change set, waits for CloudFormation to compute it, and reads its changes.
pub(crate) async fn plan(
    cfn: &Client,
    stack: &str,
    kind: ChangeSetType,
    template: &TemplateSource,
    parameters: &[(&str, String)],
) -> anyhow::Result<Planned> {
    let name = format!(
        "xtask-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    );
    let mut request = cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .change_set_type(kind.clone())
        // The stack names its IAM roles after itself, so it needs the named variant.
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .description("made by cargo xtask");
    request = match template {
        TemplateSource::Body(body) => request.template_body(body),
        TemplateSource::Url(url) => request.template_url(url),
    };
    for (key, value) in parameters {
        request = request.parameters(
            Parameter::builder()
                .parameter_key(*key)
                .parameter_value(value)
                .build(),
        );
    }
    let created = match request.send().await {
        Ok(created) => created,
        Err(err) => {
            let err = err.into_service_error();
            // Some implementations refuse an unchanged update outright
            // instead of failing the change set; only the text says so.
            if err.code() == Some("ValidationError")
                && err
                    .message()
                    .is_some_and(|m| m.contains("No updates are to be performed"))
            {
                return Ok(Planned::UpToDate);
            }
            return Err(sdk(err))
                .with_context(|| format!("cannot create a change set for stack {stack}"));
        }
    };
    let id = created
        .id
        .context("cannot create a change set: CloudFormation returned no id")?;
    let stack_id = created.stack_id.unwrap_or_else(|| stack.to_owned());

    let mut delay = Duration::from_millis(100);
    let mut changes = Vec::new();
    loop {
        let mut token = None;
        changes.clear();
        let first = loop {
            let out = cfn
                .describe_change_set()
                .change_set_name(&id)
                .set_next_token(token)
                .send()
                .await
                .map_err(sdk)
                .with_context(|| format!("cannot describe change set {name}"))?;
            for change in out.changes() {
                if let Some(rc) = change.resource_change() {
                    changes.push(ResourceChange {
                        action: rc.action().cloned().unwrap_or(ChangeAction::Dynamic),
                        logical_id: rc.logical_resource_id().unwrap_or("?").to_owned(),
                        resource_type: rc.resource_type().unwrap_or("?").to_owned(),
                        replacement: rc.replacement().cloned(),
                        details: change_details(rc),
                    });
                }
            }
            token = out.next_token.clone();
            if token.is_none() {
                break out;
            }
        };
        match first.status() {
            Some(ChangeSetStatus::CreatePending | ChangeSetStatus::CreateInProgress) | None => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(3));
            }
            Some(ChangeSetStatus::CreateComplete) => {
                return Ok(Planned::Changes(ChangeSet {
                    id,
                    stack_id,
                    kind,
                    changes,
                }));
            }
            Some(status) => {
                let reason = first
                    .status_reason()
                    .unwrap_or("no reason given")
                    .to_owned();
                // CloudFormation reports "no changes" only as this status reason.
                let no_changes = reason.contains("didn't contain changes")
                    || reason.contains("No updates are to be performed");
                delete_change_set(cfn, &id).await?;
                if no_changes {
                    return Ok(Planned::UpToDate);
                }
                bail!(
                    "cannot create a change set for stack {stack}: it is {} ({reason})",
                    status.as_str()
                );
            }
        }
    }
}

/// "Properties: Code, Environment" from a resource change's details.
fn change_details(rc: &aws_sdk_cloudformation::types::ResourceChange) -> Vec<String> {
    let mut names: Vec<String> = rc
        .details()
        .iter()
        .filter_map(|d| d.target())
        .filter_map(|t| {
            t.name()
                .map(str::to_owned)
                .or_else(|| t.attribute().map(|a| a.as_str().to_owned()))
        })
        .collect();
    names.dedup();
    if names.is_empty() {
        rc.scope().iter().map(|s| s.as_str().to_owned()).collect()
    } else {
        names
    }
}

/// Deletes a change set (after a diff, a refusal, or a no-change result).
pub(crate) async fn delete_change_set(cfn: &Client, id: &str) -> anyhow::Result<()> {
    cfn.delete_change_set()
        .change_set_name(id)
        .send()
        .await
        .map_err(sdk)
        .context("cannot delete the change set")?;
    Ok(())
}

/// Drops a change set that will not run; for a CREATE change set also the
/// empty `REVIEW_IN_PROGRESS` stack it made, so nothing is left behind.
pub(crate) async fn discard(cfn: &Client, change_set: &ChangeSet) -> anyhow::Result<()> {
    delete_change_set(cfn, &change_set.id).await?;
    if change_set.kind == ChangeSetType::Create {
        cfn.delete_stack()
            .stack_name(&change_set.stack_id)
            .send()
            .await
            .map_err(sdk)
            .context("cannot delete the stack that only held the change set")?;
    }
    Ok(())
}

/// Asks `question` on the terminal; without one, fails with `no_terminal`.
pub(crate) fn confirm(question: &str, no_terminal: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{no_terminal}");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        action: ChangeAction,
        id: &str,
        ty: &str,
        replacement: Option<Replacement>,
    ) -> ResourceChange {
        ResourceChange {
            action,
            logical_id: id.to_owned(),
            resource_type: ty.to_owned(),
            replacement,
            details: Vec::new(),
        }
    }

    #[test]
    fn risks_are_removal_replacement_and_iam() {
        assert_eq!(
            change(ChangeAction::Add, "T", "AWS::DynamoDB::Table", None).risk(),
            None
        );
        assert_eq!(
            change(
                ChangeAction::Modify,
                "F",
                "AWS::Lambda::Function",
                Some(Replacement::False)
            )
            .risk(),
            None
        );
        assert_eq!(
            change(
                ChangeAction::Modify,
                "C",
                "AWS::Cognito::UserPoolClient",
                Some(Replacement::True)
            )
            .risk(),
            Some("replaces a resource")
        );
        assert_eq!(
            change(ChangeAction::Remove, "B", "AWS::S3::Bucket", None).risk(),
            Some("removes a resource")
        );
        assert_eq!(
            change(ChangeAction::Add, "R", "AWS::IAM::Role", None).risk(),
            Some("changes IAM")
        );
    }

    #[test]
    fn summary_shows_action_id_type_and_replacement() {
        let mut client = change(
            ChangeAction::Modify,
            "Client",
            "AWS::Cognito::UserPoolClient",
            Some(Replacement::True),
        );
        client.details = vec!["GenerateSecret".to_owned()];
        let text = summary(&[
            change(ChangeAction::Add, "Table", "AWS::DynamoDB::Table", None),
            client,
            change(ChangeAction::Remove, "Old", "AWS::SSM::Parameter", None),
        ]);
        pretty_assertions::assert_eq!(
            text,
            "  + Add     Table   AWS::DynamoDB::Table\n\
             \x20 ! Modify  Client  AWS::Cognito::UserPoolClient  REPLACED (new physical id): GenerateSecret\n\
             \x20 - Remove  Old     AWS::SSM::Parameter\n"
        );
    }

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

    #[test]
    fn phases() {
        assert_eq!(
            Phase::of(&StackStatus::RollbackComplete),
            Phase::RollbackComplete
        );
        assert_eq!(
            Phase::of(&StackStatus::UpdateRollbackComplete),
            Phase::Ready
        );
        assert_eq!(
            Phase::of(&StackStatus::UpdateCompleteCleanupInProgress),
            Phase::InProgress
        );
        assert_eq!(Phase::of(&StackStatus::ReviewInProgress), Phase::Review);
    }
}
