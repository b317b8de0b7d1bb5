//! The artifacts stack (one small stack holding the bucket for the zips),
//! uploads keyed by content hash and checked by S3, the check that each
//! key still holds the zip built here, the clean-up of zips no template
//! needs, and emptying buckets of every version.

use std::collections::HashSet;

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::{ChangeSetType, Stack};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, Delete, ObjectIdentifier};

use crate::aws::{Aws, sdk};
use crate::cfn::{self, Existing, Planned, Proposal, TemplateSource, owner};
use crate::package::Package;
use crate::progress::Printer;
use crate::review::{self, Approval};

/// The artifacts stack of a sign-in stack: `<stack>-artifacts`.
pub(crate) fn stack_name(stack: &infra::StackName) -> anyhow::Result<infra::StackName> {
    let name = format!("{}-artifacts", stack.as_str());
    infra::StackName::new(&name).with_context(|| {
        format!("cannot name the artifacts stack {name}; choose a shorter stack name")
    })
}

/// The tag that records which template the artifacts stack was made from,
/// so a later deploy plans a change set for it only when the template
/// changed, at no cost in API calls (DescribeStacks returns the tags).
const TEMPLATE_TAG: &str = "xtask:template-sha256";

fn template_tag(stack: &Stack) -> Option<&str> {
    stack
        .tags()
        .iter()
        .find(|t| t.key() == Some(TEMPLATE_TAG))
        .and_then(|t| t.value())
}

fn bucket_of(stack: &Stack, name: &str) -> anyhow::Result<String> {
    cfn::output(stack, infra::artifacts::outputs::BUCKET_NAME)
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "cannot find output {} of stack {name}",
                infra::artifacts::outputs::BUCKET_NAME
            )
        })
}

/// Finds the artifacts bucket, creating its stack on the first deploy and
/// bringing it to the current template when that changed, through a
/// change set reviewed like the sign-in stack's. Only a stack of ours (its
/// ownership tag names `stack`) is ever changed.
pub(crate) async fn ensure_bucket(
    aws: &Aws,
    stack: &infra::StackName,
    approval: Approval,
) -> anyhow::Result<String> {
    let name = stack_name(stack)?;
    let name = name.as_str();
    let template = infra::artifacts_stack();
    let body = crate::synth::json(&template)?;
    let hash = crate::package::sha256_hex(body.as_bytes());
    let mut printer = Printer::new();
    let existing = cfn::operation::settle(&aws.cfn, name, stack.as_str(), &mut printer).await?;
    let (kind, old) = match &existing {
        Existing::Deployed(current) if template_tag(current) == Some(hash.as_str()) => {
            return bucket_of(current, name);
        }
        Existing::Deployed(_) => {
            eprintln!("updating the artifacts stack {name}: it was made from another template");
            (
                ChangeSetType::Update,
                Some(review::deployed_template(aws, name).await?),
            )
        }
        Existing::New => {
            eprintln!("creating the artifacts stack {name}");
            (ChangeSetType::Create, None)
        }
    };
    let tags = [
        owner::tag(stack.as_str()),
        aws_sdk_cloudformation::types::Tag::builder()
            .key(TEMPLATE_TAG)
            .value(&hash)
            .build(),
    ];
    let source = TemplateSource::Body(body);
    let planned = cfn::change_set::plan(
        &aws.cfn,
        &Proposal {
            stack: name,
            kind,
            template: &source,
            parameters: &[],
            tags: &tags,
        },
    )
    .await?;
    let change_set = match planned {
        Planned::UpToDate => {
            let current = cfn::describe(&aws.cfn, name)
                .await?
                .with_context(|| format!("stack {name} vanished"))?;
            return bucket_of(&current, name);
        }
        Planned::Changes(change_set) => change_set,
    };
    let new = template.to_value().map_err(anyhow::Error::from)?;
    let security = review::security_changes(old.as_ref(), &new);
    if !review::approve(aws, name, &change_set, &security, approval).await? {
        bail!("the artifacts stack {name} was not changed, so there is nowhere to upload to");
    }
    let settled = crate::rollout::execute(aws, &change_set)
        .await?
        .with_context(|| format!("stack {name} vanished while being deployed"))?;
    bucket_of(&settled, name)
}

/// The `x-amz-checksum-sha256` of a zip: its SHA-256 (the key) in base64.
fn checksum(package: &Package) -> anyhow::Result<String> {
    let digest = hex::decode(&package.key)
        .with_context(|| format!("the key of {} is not a SHA-256", package.function))?;
    Ok(aws_smithy_types::base64::encode(digest))
}

/// Makes every key hold exactly the zip built here: uploads a zip whose
/// key is absent (with its SHA-256, which S3 checks before it stores the
/// object), and checks one that is there against the local zip, stopping
/// the deploy on a mismatch. Returns how many were uploaded.
pub(crate) async fn upload_and_verify(
    aws: &Aws,
    bucket: &str,
    account: &str,
    packages: &[Package],
) -> anyhow::Result<usize> {
    let mut uploaded = 0;
    for package in packages {
        let key = &package.key;
        let ours = checksum(package)?;
        let head = aws
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(account)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await;
        match head {
            Ok(head) => {
                // S3 computed (or checked) this checksum from the bytes it
                // holds; without one, compare the bytes themselves.
                let theirs = match head.checksum_sha256() {
                    Some(theirs) => theirs.to_owned(),
                    None => stored_checksum(aws, bucket, account, key).await?,
                };
                if theirs != ours {
                    bail!(
                        "s3://{bucket}/{key} does not hold the {} zip built here (its SHA-256 is \
                         {}, the key and the local zip say {key}): someone or something changed \
                         it. The deploy stops before the change set. Find out who wrote it, then \
                         delete the object; the next deploy uploads the right one",
                        package.function,
                        hex_of(&theirs)
                    );
                }
            }
            Err(err) => {
                // A HEAD answer has no body, so no error code: the status is all there is.
                let status = err
                    .raw_response()
                    .map(|r| format!(" (HTTP {})", r.status().as_u16()))
                    .unwrap_or_default();
                let err = err.into_service_error();
                if !err.is_not_found() {
                    return Err(sdk(err))
                        .with_context(|| format!("cannot look for s3://{bucket}/{key}{status}"));
                }
                aws.s3
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .expected_bucket_owner(account)
                    .content_type("application/zip")
                    .checksum_algorithm(ChecksumAlgorithm::Sha256)
                    .checksum_sha256(&ours)
                    .body(ByteStream::from(package.zip.clone()))
                    .send()
                    .await
                    .map_err(sdk)
                    .with_context(|| {
                        format!("cannot upload {} to s3://{bucket}/{key}", package.function)
                    })?;
                eprintln!(
                    "uploaded {} ({} bytes, SHA-256 checked by S3) as s3://{bucket}/{key}",
                    package.function,
                    package.zip.len(),
                );
                uploaded += 1;
            }
        }
    }
    Ok(uploaded)
}

/// The base64 SHA-256 of the bytes stored under `key`.
async fn stored_checksum(
    aws: &Aws,
    bucket: &str,
    account: &str,
    key: &str,
) -> anyhow::Result<String> {
    use sha2::Digest;
    let object = aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(account)
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot read s3://{bucket}/{key} to check it"))?;
    let bytes = object
        .body
        .collect()
        .await
        .with_context(|| format!("cannot read s3://{bucket}/{key} to check it"))?
        .into_bytes();
    Ok(aws_smithy_types::base64::encode(sha2::Sha256::digest(
        &bytes,
    )))
}

fn hex_of(base64: &str) -> String {
    aws_smithy_types::base64::decode(base64).map_or_else(|_| base64.to_owned(), hex::encode)
}

/// Whether `key` names one of our zips: 64 lowercase hex digits, its SHA-256.
fn is_zip_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// After a successful deploy: deletes the zips that the deployed template
/// does not reference (its parameter values name them), except the
/// `history` most recent, so the next update's rollback always finds the
/// code it returns to. Returns how many were deleted.
pub(crate) async fn collect_garbage(
    aws: &Aws,
    bucket: &str,
    account: &str,
    deployed: &Stack,
    history: usize,
) -> anyhow::Result<usize> {
    let referenced: HashSet<&str> = deployed
        .parameters()
        .iter()
        .filter_map(|p| p.parameter_value())
        .collect();
    let mut unreferenced = Vec::new();
    let mut pages = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .expected_bucket_owner(account)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(sdk)
            .with_context(|| format!("cannot list the objects of s3://{bucket}"))?;
        for object in page.contents() {
            if let Some(key) = object.key()
                && is_zip_key(key)
                && !referenced.contains(key)
            {
                unreferenced.push((object.last_modified().copied(), key.to_owned()));
            }
        }
    }
    // Newest first; the newest few stay for a quick return to them.
    unreferenced.sort_by(|a, b| b.cmp(a));
    let doomed: Vec<String> = unreferenced
        .into_iter()
        .skip(history)
        .map(|(_, k)| k)
        .collect();
    delete_keys(aws, bucket, account, &doomed).await?;
    if !doomed.is_empty() {
        eprintln!(
            "deleted {} zip(s) that no deployed template references from s3://{bucket}",
            doomed.len()
        );
    }
    Ok(doomed.len())
}

async fn delete_keys(
    aws: &Aws,
    bucket: &str,
    account: &str,
    keys: &[String],
) -> anyhow::Result<()> {
    let ids = keys
        .iter()
        .map(|k| ObjectIdentifier::builder().key(k).build())
        .collect::<Result<Vec<_>, _>>()?;
    delete_objects(aws, bucket, account, &ids).await
}

async fn delete_objects(
    aws: &Aws,
    bucket: &str,
    account: &str,
    ids: &[ObjectIdentifier],
) -> anyhow::Result<()> {
    for batch in ids.chunks(1000) {
        let out = aws
            .s3
            .delete_objects()
            .bucket(bucket)
            .expected_bucket_owner(account)
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
            bail!(
                "cannot delete s3://{bucket}/{}: {}",
                first.key().unwrap_or("?"),
                first.message().unwrap_or("no reason given")
            );
        }
    }
    Ok(())
}

/// Deletes every object version and delete marker in `bucket`, 1,000 per
/// request, only if `account` owns it. A bucket that is already gone counts
/// as empty.
pub(crate) async fn empty_bucket(aws: &Aws, bucket: &str, account: &str) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        // Always list from the start: what we deleted is gone, so the next
        // page is the first page again.
        let listing = match aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .expected_bucket_owner(account)
            .send()
            .await
        {
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
        for (key, version) in listing
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                listing
                    .delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
        {
            if let Some(key) = key {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(version.map(str::to_owned))
                        .build()?,
                );
            }
        }
        if ids.is_empty() {
            return Ok(deleted);
        }
        delete_objects(aws, bucket, account, &ids).await?;
        deleted += ids.len();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_sha256_names_are_zips() {
        assert!(super::is_zip_key(&"ab".repeat(32)));
        assert!(!super::is_zip_key("templates/abc.json"));
        assert!(!super::is_zip_key(&"AB".repeat(32)));
    }
}
