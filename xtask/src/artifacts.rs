//! The artifacts stack (one small stack holding the bucket for the zips),
//! uploads keyed by content hash, and emptying buckets of every version.

use anyhow::Context;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::aws::{Aws, sdk};
use crate::cfn::{self, Phase};
use crate::package::Package;

/// The artifacts stack of a sign-in stack: `<stack>-artifacts`.
pub(crate) fn stack_name(stack: &infra::StackName) -> anyhow::Result<infra::StackName> {
    let name = format!("{}-artifacts", stack.as_str());
    infra::StackName::new(&name).with_context(|| {
        format!("cannot name the artifacts stack {name}; choose a shorter stack name")
    })
}

/// Finds the artifacts bucket, creating its stack on the first deploy (and
/// recreating it after a failed first create).
pub(crate) async fn ensure_bucket(aws: &Aws, stack: &infra::StackName) -> anyhow::Result<String> {
    let name = stack_name(stack)?;
    let name = name.as_str();
    let template = crate::synth::json(&infra::artifacts_stack())?;
    let template_hash = crate::package::sha256_hex(template.as_bytes());
    let mut current = cfn::describe(&aws.cfn, name).await?;
    while let Some(stack) = &current {
        let status = cfn::status(stack);
        match Phase::of(&status) {
            Phase::Ready if template_tag(stack) != Some(template_hash.as_str()) => {
                // Made by an older xtask (or by hand): bring it to the current template.
                eprintln!("updating the artifacts stack {name}: its template changed");
                let since = cfn::newest_event_id(&aws.cfn, name).await?;
                match aws
                    .cfn
                    .update_stack()
                    .stack_name(name)
                    .template_body(&template)
                    .tags(tag(&template_hash))
                    .send()
                    .await
                {
                    Ok(_) => {
                        cfn::follow(&aws.cfn, name, since, None).await?;
                    }
                    Err(err) => {
                        let err = err.into_service_error();
                        // Only the text tells "nothing to update" apart.
                        let unchanged =
                            aws_sdk_cloudformation::error::ProvideErrorMetadata::message(&err)
                                .is_some_and(|m| m.contains("No updates are to be performed"));
                        if !unchanged {
                            return Err(sdk(err))
                                .with_context(|| format!("cannot update stack {name}"));
                        }
                    }
                }
                current = cfn::describe(&aws.cfn, name).await?;
            }
            Phase::Ready => {
                return cfn::output(stack, infra::artifacts::outputs::BUCKET_NAME)
                    .map(str::to_owned)
                    .with_context(|| {
                        format!(
                            "cannot find output {} of stack {name}",
                            infra::artifacts::outputs::BUCKET_NAME
                        )
                    });
            }
            Phase::InProgress => {
                eprintln!("waiting for stack {name} ({})", status.as_str());
                let since = cfn::newest_event_id(&aws.cfn, name).await?;
                // Its outcome is not ours; look at the stack again after it settles.
                if let Err(err) = cfn::follow(&aws.cfn, name, since, None).await
                    && err.is::<cfn::StoppedWatching>()
                {
                    return Err(err);
                }
                current = cfn::describe(&aws.cfn, name).await?;
            }
            Phase::RollbackComplete | Phase::Review => {
                eprintln!(
                    "stack {name} is {} after a failed first create; deleting it to create it again",
                    status.as_str()
                );
                let since = cfn::newest_event_id(&aws.cfn, name).await?;
                aws.cfn
                    .delete_stack()
                    .stack_name(name)
                    .send()
                    .await
                    .map_err(sdk)
                    .with_context(|| format!("cannot delete stack {name}"))?;
                cfn::follow(&aws.cfn, stack.stack_id().unwrap_or(name), since, None).await?;
                current = None;
            }
            _ => anyhow::bail!(
                "stack {name} is {}; fix it in the CloudFormation console or run `cargo xtask destroy`",
                status.as_str()
            ),
        }
    }
    eprintln!("creating the artifacts stack {name}");
    aws.cfn
        .create_stack()
        .stack_name(name)
        .template_body(&template)
        .tags(tag(&template_hash))
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot create stack {name}"))?;
    let stack = cfn::follow(&aws.cfn, name, None, None)
        .await?
        .with_context(|| format!("stack {name} vanished while being created"))?;
    cfn::output(&stack, infra::artifacts::outputs::BUCKET_NAME)
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "cannot find output {} of stack {name}",
                infra::artifacts::outputs::BUCKET_NAME
            )
        })
}

/// The tag that records which template the artifacts stack was made from,
/// so a later deploy updates it only when the template changed, at no cost
/// in API calls (DescribeStacks returns the tags).
const TEMPLATE_TAG: &str = "xtask:template-sha256";

fn tag(hash: &str) -> aws_sdk_cloudformation::types::Tag {
    aws_sdk_cloudformation::types::Tag::builder()
        .key(TEMPLATE_TAG)
        .value(hash)
        .build()
}

fn template_tag(stack: &aws_sdk_cloudformation::types::Stack) -> Option<&str> {
    stack
        .tags()
        .iter()
        .find(|t| t.key() == Some(TEMPLATE_TAG))
        .and_then(|t| t.value())
}

/// Uploads each zip unless its key (its SHA-256) is already there.
/// Returns how many were uploaded.
pub(crate) async fn upload(aws: &Aws, bucket: &str, packages: &[Package]) -> anyhow::Result<usize> {
    let mut uploaded = 0;
    for package in packages {
        match aws
            .s3
            .head_object()
            .bucket(bucket)
            .key(&package.key)
            .send()
            .await
        {
            Ok(_) => continue,
            Err(err) => {
                let err = err.into_service_error();
                if !err.is_not_found() {
                    return Err(sdk(err))
                        .with_context(|| format!("cannot look for s3://{bucket}/{}", package.key));
                }
            }
        }
        aws.s3
            .put_object()
            .bucket(bucket)
            .key(&package.key)
            .content_type("application/zip")
            .body(ByteStream::from(package.zip.clone()))
            .send()
            .await
            .map_err(sdk)
            .with_context(|| {
                format!(
                    "cannot upload {} to s3://{bucket}/{}",
                    package.function, package.key
                )
            })?;
        eprintln!(
            "uploaded {} ({} bytes) as s3://{bucket}/{}",
            package.function,
            package.zip.len(),
            package.key
        );
        uploaded += 1;
    }
    Ok(uploaded)
}

/// Deletes every object version and delete marker in `bucket`, 1,000 per
/// request. A bucket that is already gone counts as empty.
pub(crate) async fn empty_bucket(aws: &Aws, bucket: &str) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        // Always list from the start: what we deleted is gone, so the next
        // page is the first page again.
        let listing = match aws.s3.list_object_versions().bucket(bucket).send().await {
            Ok(listing) => listing,
            Err(err) => {
                let err = err.into_service_error();
                if aws_sdk_s3::error::ProvideErrorMetadata::code(&err) == Some("NoSuchBucket") {
                    return Ok(deleted);
                }
                return Err(sdk(err))
                    .with_context(|| format!("cannot list the objects of s3://{bucket}"));
            }
        };
        let mut ids = Vec::new();
        for v in listing.versions() {
            if let Some(key) = v.key() {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(v.version_id().map(str::to_owned))
                        .build()?,
                );
            }
        }
        for m in listing.delete_markers() {
            if let Some(key) = m.key() {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(m.version_id().map(str::to_owned))
                        .build()?,
                );
            }
        }
        if ids.is_empty() {
            return Ok(deleted);
        }
        for batch in ids.chunks(1000) {
            let out = aws
                .s3
                .delete_objects()
                .bucket(bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(batch.to_vec()))
                        .quiet(true)
                        .build()?,
                )
                .send()
                .await
                .map_err(sdk)
                .with_context(|| format!("cannot delete objects from s3://{bucket}"))?;
            if let Some(first) = out.errors().first() {
                anyhow::bail!(
                    "cannot delete s3://{bucket}/{}: {}",
                    first.key().unwrap_or("?"),
                    first.message().unwrap_or("no reason given")
                );
            }
            deleted += batch.len();
        }
    }
}
