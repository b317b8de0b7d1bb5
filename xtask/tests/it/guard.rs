//! End to end against moto: what the tool must never touch (stacks that are
//! not ours, protected stacks, retained data), the artifacts a rollback
//! needs, tampered artifacts, and the security review.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use common::{Moto, event_count, fake_build, resources, sdk_config, stack, xtask};

fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

/// Everything a change would show in: status, tags, description, update
/// time, events, and the objects of its buckets.
async fn snapshot(
    cfn: &aws_sdk_cloudformation::Client,
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> String {
    let s = stack(cfn, name).await.expect("the stack is there");
    let mut text = format!(
        "{:?} {:?} {:?} {:?} events={}",
        s.stack_status(),
        s.tags(),
        s.description(),
        s.last_updated_time(),
        event_count(cfn, name).await
    );
    for (_, (kind, status, physical)) in resources(cfn, name).await {
        text.push_str(&format!("\n{kind} {status} {physical}"));
        if kind == "AWS::S3::Bucket" {
            text.push_str(&format!(" {:?}", keys(s3, &physical).await));
        }
    }
    text
}

const FOREIGN: &str =
    r#"{"Description": "Payments data", "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}"#;

async fn foreign_stack(cfn: &aws_sdk_cloudformation::Client, s3: &aws_sdk_s3::Client, name: &str) {
    cfn.create_stack()
        .stack_name(name)
        .template_body(FOREIGN)
        .tags(
            aws_sdk_cloudformation::types::Tag::builder()
                .key("team")
                .value("payments")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let bucket = resources(cfn, name).await["Bucket"].2.clone();
    s3.put_object()
        .bucket(&bucket)
        .key("invoice-1")
        .body(ByteStream::from_static(b"precious"))
        .send()
        .await
        .unwrap();
}

fn assert_refused(run: &common::Run, stack: &str) {
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("stack {stack} exists and is not ours")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Nothing was changed"), "{}", run.stderr);
    assert!(run.stderr.contains("--stack-name"), "{}", run.stderr);
}

/// A main stack and an artifacts stack made by someone else: deploy, diff
/// and destroy stop before any change, naming the stack and what it says
/// about itself, and both are left exactly as they were.
#[tokio::test(flavor = "multi_thread")]
async fn stacks_that_are_not_ours_are_left_exactly_as_they_were() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let s3 = s3(&config);
    let build = fake_build("foreign");

    // Someone else's stack under the name we are asked to deploy.
    foreign_stack(&cfn, &s3, "e2e-foreign").await;
    let before = snapshot(&cfn, &s3, "e2e-foreign").await;
    for args in [
        &["deploy", "--stack-name", "e2e-foreign", "--yes"][..],
        &["diff", "--stack-name", "e2e-foreign"],
        &["destroy", "--stack-name", "e2e-foreign", "--yes"],
    ] {
        let run = xtask(&moto, &build, args);
        assert_refused(&run, "e2e-foreign");
        assert!(run.stderr.contains("team=payments"), "{}", run.stderr);
        assert!(run.stderr.contains("\"Payments data\""), "{}", run.stderr);
        assert_eq!(snapshot(&cfn, &s3, "e2e-foreign").await, before, "{args:?}");
        assert!(stack(&cfn, "e2e-foreign-artifacts").await.is_none());
    }

    // Someone else's stack under our artifacts stack's name, still in review
    // (it has no tags to say it is ours): the deploy refuses and makes nothing.
    cfn.create_change_set()
        .stack_name("e2e-mine-artifacts")
        .change_set_name("theirs")
        .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
        .template_body(FOREIGN)
        .send()
        .await
        .unwrap();
    let before = stack(&cfn, "e2e-mine-artifacts").await.unwrap();
    let events = event_count(&cfn, "e2e-mine-artifacts").await;
    let run = xtask(
        &moto,
        &build,
        &["deploy", "--stack-name", "e2e-mine", "--yes"],
    );
    assert_refused(&run, "e2e-mine-artifacts");
    assert!(run.stderr.contains("it has no tags"), "{}", run.stderr);
    assert!(
        stack(&cfn, "e2e-mine").await.is_none(),
        "a main stack was made"
    );
    let after = stack(&cfn, "e2e-mine-artifacts").await.unwrap();
    assert_eq!(after.stack_status(), before.stack_status());
    assert_eq!(event_count(&cfn, "e2e-mine-artifacts").await, events);

    // Someone else's stack under the artifacts name of a stack we destroy:
    // its bucket is not emptied, the stack not deleted.
    foreign_stack(&cfn, &s3, "e2e-late-artifacts").await;
    let before = snapshot(&cfn, &s3, "e2e-late-artifacts").await;
    let run = xtask(
        &moto,
        &build,
        &["destroy", "--stack-name", "e2e-late", "--yes"],
    );
    assert_refused(&run, "e2e-late-artifacts");
    assert_eq!(snapshot(&cfn, &s3, "e2e-late-artifacts").await, before);
}

/// destroy: termination protection refuses everything up front; with
/// --retain-data the pool, the table and the data bucket (with its
/// objects) stay, and destroy says so.
#[tokio::test(flavor = "multi_thread")]
async fn destroy_respects_termination_protection_and_retained_data() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let s3 = s3(&config);
    let build = fake_build("keep");
    let name = "e2e-keep";

    let run = xtask(
        &moto,
        &build,
        &["deploy", "--stack-name", name, "--retain-data", "--yes"],
    );
    assert!(run.ok, "{}", run.stderr);
    let made = resources(&cfn, name).await;
    let (bucket, table, pool) = (
        made["LoginBucket"].2.clone(),
        made["LoginTable"].2.clone(),
        made["UserPool"].2.clone(),
    );
    s3.put_object()
        .bucket(&bucket)
        .key("ann@example.com")
        .body(ByteStream::from_static(b"2025-01-01T00:00:00Z"))
        .send()
        .await
        .unwrap();

    cfn.update_termination_protection()
        .stack_name(name)
        .enable_termination_protection(true)
        .send()
        .await
        .unwrap();
    let main_before = snapshot(&cfn, &s3, name).await;
    let artifacts_before = snapshot(&cfn, &s3, &format!("{name}-artifacts")).await;
    let run = xtask(&moto, &build, &["destroy", "--stack-name", name, "--yes"]);
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("termination protection on, so nothing was touched"),
        "{}",
        run.stderr
    );
    assert_eq!(snapshot(&cfn, &s3, name).await, main_before);
    assert_eq!(
        snapshot(&cfn, &s3, &format!("{name}-artifacts")).await,
        artifacts_before
    );

    cfn.update_termination_protection()
        .stack_name(name)
        .enable_termination_protection(false)
        .send()
        .await
        .unwrap();
    let run = xtask(&moto, &build, &["destroy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "kept by their DeletionPolicy (with their data): LoginBucket (AWS::S3::Bucket), \
             LoginTable (AWS::DynamoDB::Table), UserPool (AWS::Cognito::UserPool)"
        ),
        "{}",
        run.stderr
    );
    assert!(stack(&cfn, name).await.is_none());
    assert!(stack(&cfn, &format!("{name}-artifacts")).await.is_none());
    // The data is still there, untouched.
    assert_eq!(keys(&s3, &bucket).await, ["ann@example.com"]);
    aws_sdk_dynamodb::Client::new(&config)
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    aws_sdk_cognitoidentityprovider::Client::new(&config)
        .describe_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .unwrap();
}

/// The zips: a clean-up after a successful deploy removes what no deployed
/// template references (history 0 here), and keeps the zip the deployed
/// template names, so the next failed update rolls back onto it.
#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_back_update_finds_its_previous_zip_after_the_clean_up() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let s3 = s3(&config);
    let build = fake_build("gc");
    let name = "e2e-gc";
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            "--stack-name",
            name,
            "--yes",
            "--artifact-history",
            "0",
        ];
        args.extend_from_slice(extra);
        xtask(&moto, &build, &args)
    };
    let login_key = |s: &aws_sdk_cloudformation::types::Stack| {
        s.parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(infra::stack::params::LOGIN_CODE_KEY))
            .and_then(|p| p.parameter_value())
            .unwrap()
            .to_owned()
    };

    let run = deploy(&[]);
    assert!(run.ok, "{}", run.stderr);
    let bucket = resources(&cfn, &format!("{name}-artifacts")).await["ArtifactsBucket"]
        .2
        .clone();
    let first = login_key(&stack(&cfn, name).await.unwrap());

    // A new version of both functions: the first zip is referenced by
    // nothing deployed any more, and goes.
    common::change_function(&build, "auth");
    common::change_function(&build, "login");
    let run = deploy(&[]);
    assert!(run.ok, "{}", run.stderr);
    let previous = login_key(&stack(&cfn, name).await.unwrap());
    assert_ne!(previous, first);
    assert_eq!(
        keys(&s3, &bucket).await,
        std::slice::from_ref(&previous),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("deleted 1 zip(s)"), "{}", run.stderr);

    // An update that changes the login code and fails (the pool is gone
    // behind CloudFormation's back): it rolls back onto the previous zip,
    // which the clean-up kept, and nothing is collected after a failure.
    common::change_function(&build, "login");
    let pool = resources(&cfn, name).await["UserPool"].2.clone();
    aws_sdk_cognitoidentityprovider::Client::new(&config)
        .delete_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .unwrap();
    let run = deploy(&["--stage", "v2"]);
    assert!(!run.ok, "{}", run.stderr);
    let after = stack(&cfn, name).await.unwrap();
    assert_eq!(
        after.stack_status().map(|s| s.as_str()),
        Some("UPDATE_ROLLBACK_COMPLETE"),
        "{}",
        run.stderr
    );
    assert_eq!(login_key(&after), previous);
    let left = keys(&s3, &bucket).await;
    assert!(left.contains(&previous), "{left:?}");
    assert_eq!(left.len(), 2, "the failed deploy's zip stays too: {left:?}");
}

/// An object under a zip's key that is not the zip built here stops the
/// deploy before any change set, and is left for a person to look at.
#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_artifact_is_refused_before_the_change_set() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let s3 = s3(&config);
    let build = fake_build("tamper");
    let name = "e2e-tamper";

    let run = xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    let deployed = stack(&cfn, name).await.unwrap();
    let key = deployed
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some(infra::stack::params::LOGIN_CODE_KEY))
        .and_then(|p| p.parameter_value())
        .unwrap()
        .to_owned();
    let bucket = resources(&cfn, &format!("{name}-artifacts")).await["ArtifactsBucket"]
        .2
        .clone();
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .body(ByteStream::from_static(b"not the zip"))
        .send()
        .await
        .unwrap();
    let events = event_count(&cfn, name).await;

    let run = xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("s3://{bucket}/{key} does not hold the")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("stops before the change set"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("computing the change set"),
        "{}",
        run.stderr
    );
    assert_eq!(event_count(&cfn, name).await, events);
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"not the zip"
    );
}

/// The review: a change that widens access (a new stage: a new callback
/// URL, a Lambda permission for another source) is shown in the security
/// table and asked about; a code-only change is not; the policy decides.
#[tokio::test(flavor = "multi_thread")]
async fn security_changes_are_flagged_and_asked_about() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let build = fake_build("security");
    let name = "e2e-security";
    let change_sets = || async {
        cfn.list_change_sets()
            .stack_name(name)
            .send()
            .await
            .unwrap()
            .summaries()
            .len()
    };

    let run = xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);

    let events = event_count(&cfn, name).await;
    let run = xtask(
        &moto,
        &build,
        &["deploy", "--stack-name", name, "--stage", "v2"],
    );
    assert!(!run.ok, "{}", run.stderr);
    let row = |resource: &str, what: &str, detail: &str| {
        run.stderr.lines().any(|l| {
            l.trim_start().starts_with(&format!("* {resource} "))
                && l.contains(what)
                && l.contains(detail)
        })
    };
    assert!(run.stderr.contains("security changes ("), "{}", run.stderr);
    assert!(
        row(
            "UserPoolClient",
            "callback URL added",
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v2/auth"
        ),
        "{}",
        run.stderr
    );
    assert!(
        row("UserPoolClient", "logout URL added", "/v2/auth"),
        "{}",
        run.stderr
    );
    assert!(
        row(
            "AuthInvokePermission",
            "Lambda permission changed",
            "apigateway.amazonaws.com may lambda:InvokeFunction ${AuthFunction.Arn} from"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("this change set widens access (the security changes marked *)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--require-approval never"),
        "{}",
        run.stderr
    );
    assert_eq!(event_count(&cfn, name).await, events, "nothing ran");
    assert_eq!(change_sets().await, 0, "the refused change set is deleted");

    // Code only: nothing widens, so the default policy does not ask.
    common::change_function(&build, "login");
    let run = xtask(&moto, &build, &["deploy", "--stack-name", name]);
    assert!(run.ok, "{}", run.stderr);
    assert!(!run.stderr.contains("security changes"), "{}", run.stderr);

    // any-change asks about that too.
    common::change_function(&build, "login");
    let run = xtask(
        &moto,
        &build,
        &[
            "deploy",
            "--stack-name",
            name,
            "--require-approval",
            "any-change",
        ],
    );
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains("this change set changes the stack"),
        "{}",
        run.stderr
    );

    // never goes ahead with the widening change.
    let run = xtask(
        &moto,
        &build,
        &[
            "deploy",
            "--stack-name",
            name,
            "--stage",
            "v2",
            "--require-approval",
            "never",
        ],
    );
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("callback URL added"), "{}", run.stderr);
}
