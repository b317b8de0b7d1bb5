//! A change-set deploy of the sign-in stack, shared by `deploy`, `diff`,
//! `local` and hotswap's fallback: the template with its code parameters, the
//! dry run `diff` reviews, and the run that executes and follows it.

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::{ChangeSetType, Stack, StackStatus};

use crate::artifacts;
use crate::aws::{Aws, sdk};
use crate::cfn::{
    self, ChangeSet, Existing, Operation, OperationError, Planned, Proposal, TemplateSource,
};
use crate::hotswap;
use crate::package::{self, Package};
use crate::progress::Printer;
use crate::review::{self, Approval};
use crate::target::Checked;

/// Unreferenced zips kept after a deploy, for a quick redeploy of recent code.
pub(crate) const DEFAULT_ARTIFACT_HISTORY: usize = 3;

/// How a deploy decides and what it keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) approval: Approval,
    pub(crate) artifact_history: usize,
}

/// Picks the domain prefix: the one asked for, else the deployed one, else
/// the stable default. Refuses a change, which CloudFormation cannot apply.
pub(crate) async fn domain_prefix(
    aws: &Aws,
    checked: &Checked,
    existing: &Existing,
) -> anyhow::Result<String> {
    let deployed = match existing {
        Existing::Deployed(stack) => cfn::parameter(stack, infra::stack::params::DOMAIN_PREFIX),
        Existing::New => None,
    };
    match (&checked.domain_prefix, deployed) {
        (Some(wanted), Some(deployed)) if wanted.as_str() != deployed => bail!(
            "the domain prefix would change from {deployed:?} to {:?}. CloudFormation replaces the \
             user pool domain by creating the new one before deleting the old, and Cognito refuses \
             that with \"User pool already has a domain configured\", so the update would fail and \
             roll back. Deploy with --domain-prefix {deployed}, or run `cargo xtask destroy` and \
             deploy again with the new prefix (that deletes the users)",
            wanted.as_str()
        ),
        (Some(wanted), _) => Ok(wanted.as_str().to_owned()),
        (None, Some(deployed)) => Ok(deployed.to_owned()),
        (None, None) => {
            let account = aws.account().await?;
            Ok(
                infra::DomainPrefix::default_for(checked.stack(), &account, &aws.region)
                    .as_str()
                    .to_owned(),
            )
        }
    }
}

/// Which template parameters say where a function's zip is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeParameters {
    /// The package (crate and binary name).
    pub(crate) function: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) key: &'static str,
}

/// Each function's code parameters, in the order the template declares them.
pub(crate) const CODE_PARAMETERS: [CodeParameters; 2] = {
    use infra::stack::params as p;
    [
        CodeParameters {
            function: "auth",
            bucket: p::AUTH_CODE_BUCKET,
            key: p::AUTH_CODE_KEY,
        },
        CodeParameters {
            function: "login",
            bucket: p::LOGIN_CODE_BUCKET,
            key: p::LOGIN_CODE_KEY,
        },
    ]
};

/// The sign-in stack's template (validated, as JSON) and its parameters for these zips.
pub(crate) fn template(
    checked: &Checked,
    bucket: &str,
    packages: &[Package],
    prefix: String,
) -> anyhow::Result<(String, Vec<(&'static str, String)>)> {
    let body = crate::synth::json(&infra::sign_in_stack(&checked.settings))?;
    let mut parameters = vec![(infra::stack::params::DOMAIN_PREFIX, prefix)];
    for code in CODE_PARAMETERS {
        let package = packages
            .iter()
            .find(|p| p.function == code.function)
            .with_context(|| format!("cannot find the package of {}", code.function))?;
        parameters.push((code.bucket, bucket.to_owned()));
        parameters.push((code.key, package.key.clone()));
    }
    Ok((body, parameters))
}

/// Where CloudFormation reads a template too big to send inline.
fn template_key(body: &str) -> String {
    format!("templates/{}.json", package::sha256_hex(body.as_bytes()))
}

fn template_url(aws: &Aws, bucket: &str, key: &str) -> String {
    format!("https://{bucket}.s3.{}.amazonaws.com/{key}", aws.region)
}

/// The template as CloudFormation gets it: inline, or uploaded to the
/// artifacts bucket (with its checksum) when it is too big.
async fn upload_template(
    aws: &Aws,
    bucket: &str,
    account: &str,
    body: String,
) -> anyhow::Result<TemplateSource> {
    if body.len() <= cfn::MAX_INLINE_TEMPLATE {
        return Ok(TemplateSource::Body(body));
    }
    use sha2::Digest;
    let key = template_key(&body);
    let checksum = aws_smithy_types::base64::encode(sha2::Sha256::digest(body.as_bytes()));
    aws.s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .expected_bucket_owner(account)
        .content_type("application/json")
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .checksum_sha256(checksum)
        .body(body.into_bytes().into())
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot upload the template to s3://{bucket}/{key}"))?;
    Ok(TemplateSource::Url(template_url(aws, bucket, &key)))
}

/// The tags of the sign-in stack: the ownership tag, naming itself.
fn tags(checked: &Checked) -> [aws_sdk_cloudformation::types::Tag; 1] {
    [cfn::owner::tag(checked.stack().as_str())]
}

/// Refuses, before anything changes, when the sign-in stack or its
/// artifacts stack exists and is not ours.
pub(crate) async fn check_ownership(aws: &Aws, checked: &Checked) -> anyhow::Result<()> {
    let stack = checked.stack().as_str();
    cfn::operation::owned(&aws.cfn, stack, stack).await?;
    let artifacts = artifacts::stack_name(checked.stack())?;
    cfn::operation::owned(&aws.cfn, artifacts.as_str(), stack).await?;
    Ok(())
}

/// Creates the change set a deploy of this template would make (CREATE for
/// a new stack, UPDATE otherwise) and returns it with the deployed template
/// the security review compares against.
async fn propose(
    aws: &Aws,
    checked: &Checked,
    existing: &Existing,
    source: &TemplateSource,
    parameters: &[(&'static str, String)],
) -> anyhow::Result<(Planned, Option<serde_json::Value>)> {
    let stack = checked.stack().as_str();
    let (kind, old) = match existing {
        Existing::New => (ChangeSetType::Create, None),
        Existing::Deployed(_) => (
            ChangeSetType::Update,
            Some(review::deployed_template(aws, stack).await?),
        ),
    };
    eprintln!("computing the change set for stack {stack}");
    let planned = cfn::change_set::plan(
        &aws.cfn,
        &Proposal {
            stack,
            kind,
            template: source,
            parameters,
            tags: &tags(checked),
        },
    )
    .await?;
    Ok((planned, old))
}

/// The artifacts bucket, if its stack has been created (read, never created).
pub(crate) async fn existing_bucket(
    aws: &Aws,
    artifacts: &infra::StackName,
) -> anyhow::Result<Option<String>> {
    Ok(cfn::describe(&aws.cfn, artifacts.as_str())
        .await?
        .and_then(|s| cfn::output(&s, infra::artifacts::outputs::BUCKET_NAME).map(str::to_owned)))
}

/// `diff`: the change set a deploy would make, reviewed, then deleted;
/// `None` when the stack is up to date. No artifacts stack, no upload, no
/// recovery of stuck stacks.
pub(crate) async fn dry_run(
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
) -> anyhow::Result<Option<review::Review>> {
    let stack = checked.stack().as_str();
    check_ownership(aws, checked).await?;
    let mut printer = Printer::new();
    let existing = cfn::operation::inspect(&aws.cfn, stack, stack, &mut printer).await?;
    let prefix = domain_prefix(aws, checked, &existing).await?;
    let artifacts = artifacts::stack_name(checked.stack())?;
    let bucket = existing_bucket(aws, &artifacts)
        .await?
        .unwrap_or_else(|| "artifacts-bucket-not-created-yet".to_owned());
    let (body, parameters) = template(checked, &bucket, packages, prefix)?;
    let source = if body.len() <= cfn::MAX_INLINE_TEMPLATE {
        TemplateSource::Body(body)
    } else {
        TemplateSource::Url(template_url(aws, &bucket, &template_key(&body)))
    };
    let (planned, old) = propose(aws, checked, &existing, &source, &parameters).await?;
    match planned {
        Planned::UpToDate => Ok(None),
        Planned::Changes(change_set) => {
            let new = infra::sign_in_stack(&checked.settings).to_value()?;
            let security = review::security_changes(old.as_ref(), &new);
            cfn::change_set::discard(&aws.cfn, &change_set).await?;
            Ok(Some(review::Review {
                change_set,
                security,
            }))
        }
    }
}

/// Plans, reviews, asks when the change set calls for it (unless `yes`),
/// executes and follows, with the default approval policy and artifact
/// history. Returns the settled stack, or `None` when the person declined.
pub(crate) async fn apply(
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
    yes: bool,
) -> anyhow::Result<Option<Stack>> {
    let options = Options {
        approval: if yes {
            Approval::Never
        } else {
            Approval::default()
        },
        artifact_history: DEFAULT_ARTIFACT_HISTORY,
    };
    apply_with(aws, checked, packages, options).await
}

/// The deploy: refuses stacks that are not ours, settles the stack, makes
/// sure of the artifacts bucket and of every zip in it, creates the change
/// set, reviews it under `options.approval`, executes and follows it, and
/// after a success removes the zips no deployed template needs.
pub(crate) async fn apply_with(
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
    options: Options,
) -> anyhow::Result<Option<Stack>> {
    let stack = checked.stack().as_str();
    check_ownership(aws, checked).await?;
    let account = aws.account().await?;
    let mut printer = Printer::new();
    let existing = cfn::operation::settle(&aws.cfn, stack, stack, &mut printer).await?;
    let prefix = domain_prefix(aws, checked, &existing).await?;
    let bucket = artifacts::ensure_bucket(aws, checked.stack(), options.approval).await?;
    artifacts::upload_and_verify(aws, &bucket, &account, packages).await?;
    let (body, parameters) = template(checked, &bucket, packages, prefix)?;
    let source = upload_template(aws, &bucket, &account, body).await?;
    let (planned, old) = propose(aws, checked, &existing, &source, &parameters).await?;
    let change_set = match planned {
        Planned::UpToDate => {
            eprintln!("stack {stack} is up to date: nothing to deploy");
            let Existing::Deployed(current) = existing else {
                bail!("stack {stack} has no changes and does not exist");
            };
            hotswap::reconcile(aws, checked, &current, packages).await?;
            artifacts::collect_garbage(aws, &bucket, &account, &current, options.artifact_history)
                .await?;
            return Ok(Some(*current));
        }
        Planned::Changes(change_set) => change_set,
    };
    let new = infra::sign_in_stack(&checked.settings).to_value()?;
    let security = review::security_changes(old.as_ref(), &new);
    if !review::approve(aws, stack, &change_set, &security, options.approval).await? {
        return Ok(None);
    }
    eprintln!("deploying stack {stack}");
    let settled = match execute(aws, &change_set).await {
        Ok(settled) => settled,
        Err(OperationError::Failed(failed)) if change_set.kind == ChangeSetType::Create => {
            eprintln!(
                "the first create failed; the next deploy deletes the rolled-back stack and creates it again"
            );
            return Err(OperationError::Failed(failed).into());
        }
        Err(err) => return Err(err.into()),
    };
    let settled = settled.with_context(|| format!("stack {stack} is gone after deploying"))?;
    let status = cfn::status(&settled);
    eprintln!("stack {stack} is {}", status.as_str());
    if matches!(
        status,
        StackStatus::CreateComplete | StackStatus::UpdateComplete
    ) {
        hotswap::reconcile(aws, checked, &settled, packages).await?;
        artifacts::collect_garbage(aws, &bucket, &account, &settled, options.artifact_history)
            .await?;
    }
    Ok(Some(settled))
}

/// Executes a reviewed change set and follows it until the stack settles;
/// a success with warnings is a success, its warnings printed.
pub(crate) async fn execute(
    aws: &Aws,
    change_set: &ChangeSet,
) -> Result<Option<Stack>, OperationError> {
    let mut printer = Printer::counting(change_set.changes.len());
    let result = cfn::operation::run(
        &aws.cfn,
        &change_set.stack_id,
        Operation::Execute(change_set),
        &mut printer,
    )
    .await;
    OperationError::warn(result, &mut printer)
}
