//! Change sets: create one and wait for CloudFormation to compute it
//! ("no changes" is a typed outcome, not an error), read its changes, and
//! summarize them one line each.

use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetStatus, ChangeSetType, Parameter, Replacement, Tag,
};

use crate::aws::sdk;

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
    /// Why this change deserves a confirmation, if it does: data can go.
    /// (Who may do what is judged from the templates: see `review`.)
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
        } else {
            None
        }
    }

    /// The summary's first column: `+` add, `-` remove, `!` replace, `~` other.
    pub(crate) fn sign(&self) -> char {
        match self.action {
            ChangeAction::Add => '+',
            ChangeAction::Remove => '-',
            ChangeAction::Modify if self.replacement == Some(Replacement::True) => '!',
            _ => '~',
        }
    }

    /// Whether a modify replaces the resource; empty for anything else.
    pub(crate) fn describe_replacement(&self) -> &'static str {
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
        let mut line = format!(
            "  {} {:<7} {:<id_width$}  {:<type_width$}",
            change.sign(),
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

/// What a change set is asked to do.
pub(crate) struct Proposal<'a> {
    pub(crate) stack: &'a str,
    pub(crate) kind: ChangeSetType,
    pub(crate) template: &'a TemplateSource,
    pub(crate) parameters: &'a [(&'a str, String)],
    /// The stack's tags, ownership first; CloudFormation puts them on every resource too.
    pub(crate) tags: &'a [Tag],
}

/// A name and request token unique to this run: the SDK sends the same
/// token with each retry of a call, so CloudFormation does not take a retry
/// for a second request.
pub(crate) fn token(what: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("xtask-{what}-{millis}-{}", std::process::id())
}

/// Creates a change set, waits for CloudFormation to compute it, and reads its changes.
pub(crate) async fn plan(cfn: &Client, proposal: &Proposal<'_>) -> anyhow::Result<Planned> {
    let stack = proposal.stack;
    let name = token("change-set");
    let mut request = cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .client_token(&name)
        .change_set_type(proposal.kind.clone())
        // The stack names its IAM roles after itself, so it needs the named variant.
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .set_tags(Some(proposal.tags.to_vec()))
        .description("made by cargo xtask");
    request = match proposal.template {
        TemplateSource::Body(body) => request.template_body(body),
        TemplateSource::Url(url) => request.template_url(url),
    };
    for (key, value) in proposal.parameters {
        request = request.parameters(
            Parameter::builder()
                .parameter_key(*key)
                .parameter_value(value)
                .build(),
        );
    }
    let (id, stack_id) = match request.send().await {
        Ok(created) => (
            created
                .id
                .context("cannot create a change set: CloudFormation returned no id")?,
            created.stack_id.unwrap_or_else(|| stack.to_owned()),
        ),
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
            // The name is ours alone: a retry whose first attempt got
            // through finds its own change set, which is the one we want.
            if err.is_already_exists_exception() {
                let out = cfn
                    .describe_change_set()
                    .stack_name(stack)
                    .change_set_name(&name)
                    .send()
                    .await
                    .map_err(sdk)
                    .with_context(|| format!("cannot describe change set {name}"))?;
                (
                    out.change_set_id
                        .context("cannot describe change set: no id")?,
                    out.stack_id.unwrap_or_else(|| stack.to_owned()),
                )
            } else {
                return Err(sdk(err))
                    .with_context(|| format!("cannot create a change set for stack {stack}"));
            }
        }
    };

    let mut delay = Duration::from_millis(100);
    loop {
        let mut changes = Vec::new();
        let mut status = None;
        let mut reason = None;
        let mut pages = cfn
            .describe_change_set()
            .change_set_name(&id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(sdk)
                .with_context(|| format!("cannot describe change set {name}"))?;
            for change in page.changes() {
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
            status = status.or(page.status);
            reason = reason.or(page.status_reason);
        }
        match status {
            Some(ChangeSetStatus::CreatePending | ChangeSetStatus::CreateInProgress) | None => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(3));
            }
            Some(ChangeSetStatus::CreateComplete) => {
                return Ok(Planned::Changes(ChangeSet {
                    id,
                    stack_id,
                    kind: proposal.kind.clone(),
                    changes,
                }));
            }
            Some(status) => {
                let reason = reason.unwrap_or_else(|| "no reason given".to_owned());
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
    match cfn.delete_change_set().change_set_name(id).send().await {
        Ok(_) => Ok(()),
        Err(err) => {
            let err = err.into_service_error();
            // Gone already: a retry whose first attempt got through.
            if err.code() == Some("ChangeSetNotFound") {
                return Ok(());
            }
            Err(sdk(err)).context("cannot delete the change set")
        }
    }
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
    fn risks_are_removal_and_replacement() {
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
            None
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
}
