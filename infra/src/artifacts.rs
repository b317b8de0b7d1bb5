//! The artifacts stack: one private bucket that holds the functions' zips,
//! each under the SHA-256 of its bytes.
//!
//! No zip expires: a failed update rolls a function back to the zip the
//! previous template names, so that zip must outlive any clock (a rollback
//! that finds it gone is stuck in `UPDATE_ROLLBACK_FAILED`). `xtask`
//! deletes zips by reference instead, after a successful deploy.

use crate::s3::{AbortIncompleteMultipartUpload, Bucket, LifecycleConfiguration, LifecycleRule};
use crate::{Template, patterns};

/// The output names.
pub mod outputs {
    pub const BUCKET_NAME: &str = "BucketName";
}

/// Builds the artifacts stack's template.
pub fn artifacts_stack() -> Template {
    let mut t = Template::new("Deployment artifacts of the serverless sign-in stacks");
    let abort_incomplete_uploads = LifecycleRule {
        abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
            days_after_initiation: 1,
        }),
        ..LifecycleRule::enabled("abort-incomplete-uploads")
    };
    let bucket = patterns::private_bucket(
        &mut t,
        "ArtifactsBucket",
        Bucket {
            lifecycle_configuration: Some(LifecycleConfiguration {
                rules: vec![abort_incomplete_uploads],
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
