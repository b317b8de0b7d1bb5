//! `cargo xtask deploy`: build, package, upload by content hash, review the
//! change set, execute it, follow it, print the outputs.

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::{ChangeSetType, Stack};

use crate::artifacts;
use crate::aws::{Aws, AwsArgs, Stopwatch, sdk};
use crate::cfn::{self, ChangeSet, Phase, Planned, TemplateSource};
use crate::package::{self, Arch, Package};
use crate::stack_args::StackArgs;

/// What to deploy and where: shared by `deploy` and `diff`.
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

/// Options of `cargo xtask deploy`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
    /// Execute without asking, even when resources are replaced or removed or IAM changes.
    #[arg(long)]
    yes: bool,
}

/// The names, checked before anything is built or any call is made.
pub(crate) struct Checked {
    pub(crate) settings: infra::Settings,
    pub(crate) domain_prefix: Option<infra::DomainPrefix>,
}

impl Checked {
    pub(crate) fn stack(&self) -> &infra::StackName {
        &self.settings.stack_name
    }
}

impl Target {
    pub(crate) fn check(&self) -> anyhow::Result<Checked> {
        let settings = self.stack.settings()?;
        // The artifacts stack's name must be valid too; find out now, not after the build.
        artifacts::stack_name(&settings.stack_name)?;
        let domain_prefix = self
            .domain_prefix
            .as_deref()
            .map(infra::DomainPrefix::new)
            .transpose()
            .context("cannot use --domain-prefix")?;
        Ok(Checked {
            settings,
            domain_prefix,
        })
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let checked = args.target.check()?;
    crate::aws::block_on(async {
        // Credentials, region and account first: a build takes minutes.
        let aws = Aws::load(&args.target.aws).await?;
        aws.identify().await?;
        let packages = build(args.target.stack.arch)?;
        deploy(&args, &aws, &checked, &packages).await
    })?
}

/// Builds and packages, saying what came out.
pub(crate) fn build(arch: Arch) -> anyhow::Result<Vec<Package>> {
    eprintln!("building the functions (release, {arch:?})");
    let packages = package::build_and_package(arch)?;
    for p in &packages {
        eprintln!(
            "  {} {} bytes, sha256 {}, needs {} (provided.al2023 has 2.34)",
            p.function,
            p.zip.len(),
            p.key,
            p.glibc_text()
        );
    }
    Ok(packages)
}

/// The deployed stack as far as the next change set goes.
pub(crate) enum Existing {
    /// No stack (or one that only held a change set): the change set creates it.
    New,
    /// A settled stack to update.
    Deployed(Box<Stack>),
}

/// Looks at the stack and clears what would block a deploy: waits for an
/// operation in progress, deletes a stack stuck in `ROLLBACK_COMPLETE`.
pub(crate) async fn settle(aws: &Aws, stack: &str, recover: bool) -> anyhow::Result<Existing> {
    loop {
        let Some(current) = cfn::describe(&aws.cfn, stack).await? else {
            return Ok(Existing::New);
        };
        let status = cfn::status(&current);
        match Phase::of(&status) {
            Phase::Ready => return Ok(Existing::Deployed(Box::new(current))),
            Phase::Review => return Ok(Existing::New),
            Phase::Deleted => return Ok(Existing::New),
            Phase::InProgress => {
                eprintln!(
                    "stack {stack} is {}: waiting for that operation to finish",
                    status.as_str()
                );
                let since = cfn::newest_event_id(&aws.cfn, stack).await?;
                // Its outcome is not ours to report; look at the stack again after.
                match cfn::follow(&aws.cfn, current.stack_id().unwrap_or(stack), since, None).await
                {
                    Ok(_) => {}
                    Err(err) if err.is::<cfn::StoppedWatching>() => return Err(err),
                    Err(err) => eprintln!("that operation did not succeed: {err:#}"),
                }
            }
            Phase::RollbackComplete if recover => {
                eprintln!(
                    "stack {stack} is ROLLBACK_COMPLETE (its first create failed) and can only be deleted: \
                     deleting it, then creating it again"
                );
                let since = cfn::newest_event_id(&aws.cfn, stack).await?;
                aws.cfn
                    .delete_stack()
                    .stack_name(stack)
                    .send()
                    .await
                    .map_err(sdk)
                    .with_context(|| format!("cannot delete stack {stack}"))?;
                cfn::follow(&aws.cfn, current.stack_id().unwrap_or(stack), since, None).await?;
            }
            Phase::RollbackComplete => bail!(
                "stack {stack} is ROLLBACK_COMPLETE (its first create failed); there is nothing to \
                 compare with: `cargo xtask deploy` deletes it and creates it again"
            ),
            Phase::UpdateRollbackFailed => bail!(
                "stack {stack} is UPDATE_ROLLBACK_FAILED; finish the rollback first with \
                 `aws cloudformation continue-update-rollback --stack-name {stack}` (skipping the \
                 resources that cannot roll back), then deploy again"
            ),
            Phase::DeleteFailed => bail!(
                "stack {stack} is DELETE_FAILED ({}); run `cargo xtask destroy --stack-name {stack}` to finish deleting it",
                current.stack_status_reason().unwrap_or("no reason given")
            ),
            Phase::Failed => bail!(
                "stack {stack} is {} ({}); look at it in the CloudFormation console",
                status.as_str(),
                current.stack_status_reason().unwrap_or("no reason given")
            ),
        }
    }
}

/// Picks the domain prefix: the one asked for, else the deployed one, else
/// the stable default. Refuses a change, which CloudFormation cannot apply.
async fn domain_prefix(
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

/// The template and parameters for the sign-in stack with these zips.
async fn template(
    aws: &Aws,
    checked: &Checked,
    bucket: &str,
    packages: &[Package],
    prefix: String,
    upload_big: bool,
) -> anyhow::Result<(TemplateSource, Vec<(&'static str, String)>)> {
    let body = crate::synth::json(&infra::sign_in_stack(&checked.settings))?;
    let key_of = |function: &str| {
        packages
            .iter()
            .find(|p| p.function == function)
            .map(|p| p.key.clone())
            .with_context(|| format!("cannot find the package of {function}"))
    };
    use infra::stack::params as p;
    let parameters = vec![
        (p::DOMAIN_PREFIX, prefix),
        (p::AUTH_CODE_BUCKET, bucket.to_owned()),
        (p::AUTH_CODE_KEY, key_of("auth")?),
        (p::LOGIN_CODE_BUCKET, bucket.to_owned()),
        (p::LOGIN_CODE_KEY, key_of("login")?),
    ];
    if body.len() <= cfn::MAX_INLINE_TEMPLATE {
        return Ok((TemplateSource::Body(body), parameters));
    }
    // Too big to send inline: CloudFormation reads it from the artifacts bucket.
    let key = format!("templates/{}.json", package::sha256_hex(body.as_bytes()));
    if upload_big {
        aws.s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("application/json")
            .body(body.into_bytes().into())
            .send()
            .await
            .map_err(sdk)
            .with_context(|| format!("cannot upload the template to s3://{bucket}/{key}"))?;
    }
    let url = format!("https://{bucket}.s3.{}.amazonaws.com/{key}", aws.region);
    Ok((TemplateSource::Url(url), parameters))
}

/// Everything up to a computed change set. `apply` = deploy (create the
/// artifacts stack, upload); otherwise a dry run for `diff`.
pub(crate) async fn plan(
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
    apply: bool,
) -> anyhow::Result<(Planned, Existing)> {
    let stack = checked.stack().as_str();
    let existing = settle(aws, stack, apply).await?;
    let prefix = domain_prefix(aws, checked, &existing).await?;
    let bucket = if apply {
        let bucket = artifacts::ensure_bucket(aws, checked.stack()).await?;
        artifacts::upload(aws, &bucket, packages).await?;
        bucket
    } else {
        let name = artifacts::stack_name(checked.stack())?;
        match cfn::describe(&aws.cfn, name.as_str()).await? {
            Some(s) => cfn::output(&s, infra::artifacts::outputs::BUCKET_NAME)
                .unwrap_or("artifacts-bucket-not-created-yet")
                .to_owned(),
            None => "artifacts-bucket-not-created-yet".to_owned(),
        }
    };
    let (template, parameters) = template(aws, checked, &bucket, packages, prefix, apply).await?;
    let kind = match existing {
        Existing::New => ChangeSetType::Create,
        Existing::Deployed(_) => ChangeSetType::Update,
    };
    eprintln!("computing the change set for stack {stack}");
    let planned = cfn::plan(&aws.cfn, stack, kind, &template, &parameters).await?;
    Ok((planned, existing))
}

/// Prints the review of a change set.
pub(crate) fn review(stack: &str, change_set: &ChangeSet) {
    let verb = if change_set.kind == ChangeSetType::Create {
        "create"
    } else {
        "update"
    };
    eprintln!(
        "change set for stack {stack} ({verb}, {} resource changes):",
        change_set.changes.len()
    );
    eprint!("{}", cfn::summary(&change_set.changes));
    for risk in change_set.risks() {
        eprintln!("  note: this change set {risk}");
    }
}

async fn deploy(
    args: &Args,
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
) -> anyhow::Result<()> {
    let started = Stopwatch::start();
    if let Some(settled) = apply(aws, checked, packages, args.yes).await? {
        crate::outputs::print(&settled);
    }
    started.report(aws);
    Ok(())
}

/// Plans, reviews, asks when the change set calls for it (unless `yes`),
/// executes and follows. Returns the settled stack, or `None` when the
/// person declined.
pub(crate) async fn apply(
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
    yes: bool,
) -> anyhow::Result<Option<Stack>> {
    let stack = checked.stack().as_str();
    let (planned, existing) = plan(aws, checked, packages, true).await?;
    let change_set = match planned {
        Planned::UpToDate => {
            eprintln!("stack {stack} is up to date: nothing to deploy");
            return match existing {
                Existing::Deployed(current) => Ok(Some(*current)),
                Existing::New => bail!("stack {stack} has no changes and does not exist"),
            };
        }
        Planned::Changes(change_set) => change_set,
    };
    review(stack, &change_set);
    let risks = change_set.risks();
    if !yes && !risks.is_empty() {
        let no_terminal = format!(
            "this change set {}; review it above and run again with --yes to apply it \
             (there is no terminal to ask on)",
            risks.join(", ")
        );
        let go = match cfn::confirm("execute this change set?", &no_terminal) {
            Ok(go) => go,
            Err(err) => {
                cfn::discard(&aws.cfn, &change_set).await?;
                return Err(err);
            }
        };
        if !go {
            cfn::discard(&aws.cfn, &change_set).await?;
            eprintln!("not deployed; the change set is deleted");
            return Ok(None);
        }
    }
    let since = match existing {
        Existing::Deployed(_) => cfn::newest_event_id(&aws.cfn, &change_set.stack_id).await?,
        Existing::New => None,
    };
    aws.cfn
        .execute_change_set()
        .change_set_name(&change_set.id)
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot execute the change set of stack {stack}"))?;
    eprintln!("deploying stack {stack}");
    let result = cfn::follow(
        &aws.cfn,
        &change_set.stack_id,
        since,
        Some(change_set.changes.len()),
    )
    .await;
    let settled = match result {
        Ok(settled) => settled,
        Err(err) => {
            if change_set.kind == ChangeSetType::Create && err.is::<cfn::StackFailed>() {
                eprintln!(
                    "the first create failed; the next deploy deletes the rolled-back stack and creates it again"
                );
            }
            return Err(err);
        }
    };
    let settled = settled.with_context(|| format!("stack {stack} is gone after deploying"))?;
    eprintln!(
        "stack {stack} is {}",
        settled.stack_status().map_or("?", |s| s.as_str())
    );
    Ok(Some(settled))
}
