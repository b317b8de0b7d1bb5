//! Amazon S3: `AWS::S3::Bucket`, `AWS::S3::BucketPolicy`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::iam::PolicyDocument;
use crate::{Expr, Handle, Resource};

/// `AWS::S3::Bucket`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bucket {
    pub bucket_encryption: Option<BucketEncryption>,
    pub public_access_block_configuration: Option<PublicAccessBlockConfiguration>,
    pub ownership_controls: Option<OwnershipControls>,
    pub versioning_configuration: Option<VersioningConfiguration>,
    pub lifecycle_configuration: Option<LifecycleConfiguration>,
}

impl Resource for Bucket {
    const TYPE: &'static str = "AWS::S3::Bucket";
}

impl Handle<Bucket> {
    /// `Ref`: the bucket's name.
    pub fn name(&self) -> Expr {
        self.reference()
    }

    /// The bucket's ARN.
    pub fn arn(&self) -> Expr {
        self.attribute("Arn")
    }

    /// The ARN of every object in the bucket (`<arn>/*`).
    pub fn objects_arn(&self) -> Expr {
        Expr::concat([self.arn(), "/*".into()])
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    pub server_side_encryption_configuration: Vec<ServerSideEncryptionRule>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerSideEncryptionRule {
    pub server_side_encryption_by_default: ServerSideEncryptionByDefault,
    pub bucket_key_enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerSideEncryptionByDefault {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockConfiguration {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlockConfiguration {
    /// Every kind of public access blocked, for this bucket only.
    pub const ALL_BLOCKED: Self = Self {
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
    };
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    pub rules: Vec<OwnershipControlsRule>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControlsRule {
    /// `BucketOwnerEnforced` turns ACLs off.
    pub object_ownership: String,
}

impl OwnershipControls {
    /// The bucket owner owns every object, and ACLs are off.
    pub fn bucket_owner_enforced() -> Self {
        Self {
            rules: vec![OwnershipControlsRule {
                object_ownership: "BucketOwnerEnforced".into(),
            }],
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersioningConfiguration {
    /// `Enabled` or `Suspended`.
    pub status: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleConfiguration {
    pub rules: Vec<LifecycleRule>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: String,
    pub expiration_in_days: Option<u32>,
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
}

impl LifecycleRule {
    /// An enabled rule named `id` that does nothing yet.
    pub fn enabled(id: &str) -> Self {
        Self {
            id: id.into(),
            status: "Enabled".into(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    pub noncurrent_days: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    pub days_after_initiation: u32,
}

/// `AWS::S3::BucketPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicy {
    pub bucket: Expr,
    pub policy_document: PolicyDocument,
}

impl Resource for BucketPolicy {
    const TYPE: &'static str = "AWS::S3::BucketPolicy";
}
