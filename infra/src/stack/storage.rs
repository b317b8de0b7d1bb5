//! What the login function records, and the greetings it answers with.

use crate::dynamodb::{PointInTimeRecoverySpecification, SseSpecification, Table};
use crate::s3::{
    AbortIncompleteMultipartUpload, Bucket, LifecycleConfiguration, LifecycleRule,
    NoncurrentVersionExpiration, VersioningConfiguration,
};
use crate::{Expr, Handle, Settings, Template, patterns, ssm};

use super::GREETINGS;

/// What the login function records, every login in the table and the
/// latest per user in the bucket, and the greetings it answers with.
pub(super) struct Storage {
    pub(super) table: Handle<Table>,
    pub(super) bucket: Handle<Bucket>,
    /// `/<stack>/greetings`, the parameter path of the greetings.
    pub(super) greetings: Expr,
}

pub(super) fn storage(t: &mut Template, settings: &Settings) -> Storage {
    let recovery = PointInTimeRecoverySpecification {
        point_in_time_recovery_enabled: true,
    };
    let table = Table {
        point_in_time_recovery_specification: Some(recovery),
        sse_specification: Some(SseSpecification { sse_enabled: true }),
        deletion_protection_enabled: Some(false),
        ..Table::with_string_keys("PAY_PER_REQUEST", "username", "timestamp")
    };
    let table = t.add("LoginTable", table);
    t.data_policy(&table, settings.data_policy);
    t.skip_check(
        &table,
        "CKV_AWS_119",
        "Encrypted with the AWS managed KMS key; a customer managed key adds cost and a key policy to run for no gain here",
    );
    let expire_old_versions = LifecycleRule {
        noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
            noncurrent_days: 90,
        }),
        abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
            days_after_initiation: 1,
        }),
        ..LifecycleRule::enabled("expire-old-versions")
    };
    let rules = vec![expire_old_versions];
    let bucket = Bucket {
        versioning_configuration: Some(VersioningConfiguration {
            status: "Enabled".into(),
        }),
        lifecycle_configuration: Some(LifecycleConfiguration { rules }),
        ..Bucket::default()
    };
    let bucket = patterns::private_bucket(t, "LoginBucket", bucket);
    t.data_policy(&bucket, settings.data_policy);
    let greetings = Expr::concat(["/".into(), Expr::STACK_NAME, "/greetings".into()]);
    for greeting in GREETINGS {
        let name = format!("/{}", greeting.to_lowercase());
        let parameter = ssm::Parameter {
            name: Expr::concat([greetings.clone(), name.into()]),
            kind: "String".into(),
            value: greeting.into(),
            description: Some("A greeting the login function may answer with".into()),
        };
        t.add(&format!("Greeting{greeting}"), parameter);
    }
    Storage {
        table,
        bucket,
        greetings,
    }
}
