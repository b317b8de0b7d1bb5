//! Pieces both stacks build the same way.

use crate::iam::{Effect, PolicyDocument, Principal, Statement};
use crate::s3::{
    Bucket, BucketEncryption, BucketPolicy, PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault, ServerSideEncryptionRule,
};
use crate::{Handle, Template};

/// Adds `bucket` encrypted with KMS, closed to the public for this bucket
/// only (never the account-wide switch the original flipped), and with a
/// policy that refuses every request not made over TLS.
pub(crate) fn private_bucket(t: &mut Template, id: &str, bucket: Bucket) -> Handle<Bucket> {
    let bucket = t.add(
        id,
        Bucket {
            bucket_encryption: Some(BucketEncryption {
                server_side_encryption_configuration: vec![ServerSideEncryptionRule {
                    server_side_encryption_by_default: ServerSideEncryptionByDefault {
                        sse_algorithm: "aws:kms".into(),
                    },
                    // One data key per bucket instead of per object: far fewer KMS calls.
                    bucket_key_enabled: Some(true),
                }],
            }),
            public_access_block_configuration: Some(PublicAccessBlockConfiguration::ALL_BLOCKED),
            ..bucket
        },
    );
    t.skip_check(
        &bucket,
        "CKV_AWS_18",
        "Server access logs would need a second bucket per stack; CloudTrail data events are the audit tool if one is wanted",
    );
    t.add(
        &format!("{id}Policy"),
        BucketPolicy {
            bucket: bucket.name(),
            policy_document: PolicyDocument::new(vec![Statement {
                sid: Some("DenyInsecureTransport".into()),
                effect: Effect::Deny,
                principal: Some(Principal::Anyone),
                action: vec!["s3:*".into()],
                resource: Some(vec![bucket.arn(), bucket.objects_arn()]),
                condition: Some(serde_json::json!({ "Bool": { "aws:SecureTransport": "false" } })),
            }]),
        },
    );
    bucket
}
