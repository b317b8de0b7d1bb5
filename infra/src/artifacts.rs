//! The artifacts stack: one private bucket that holds the functions' zips,
//! each under the SHA-256 of its bytes.

use crate::s3::{
    AbortIncompleteMultipartUpload, Bucket, LifecycleConfiguration, LifecycleRule,
    OwnershipControls, OwnershipControlsRule,
};
use crate::{Template, shared};

/// The output names.
pub mod outputs {
    pub const BUCKET_NAME: &str = "BucketName";
}

/// Days an uploaded zip is kept. Lambda copies the code when a function is
/// created or updated, so a zip is not needed after the deploy that used it;
/// a later deploy of the same code finds it gone and uploads it again.
pub const ARTIFACT_EXPIRY_DAYS: u32 = 90;

/// Builds the artifacts stack's template.
pub fn artifacts_stack() -> Template {
    let mut t = Template::new("Deployment artifacts of the serverless sign-in stacks");
    let bucket = shared::private_bucket(
        &mut t,
        "ArtifactsBucket",
        Bucket {
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: "BucketOwnerEnforced".into(),
                }],
            }),
            lifecycle_configuration: Some(LifecycleConfiguration {
                rules: vec![LifecycleRule {
                    id: "expire-old-artifacts".into(),
                    status: "Enabled".into(),
                    expiration_in_days: Some(ARTIFACT_EXPIRY_DAYS),
                    noncurrent_version_expiration: None,
                    abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
                        days_after_initiation: 1,
                    }),
                }],
            }),
            ..Bucket::default()
        },
    );
    t.skip_check(
        &bucket,
        "CKV_AWS_21",
        "Keys are the SHA-256 of their content: an object is never overwritten, so versions would hold nothing",
    );
    t.output(
        outputs::BUCKET_NAME,
        "The bucket that holds the function zips",
        bucket.name(),
    );
    t
}
