//! Faults between the tool and moto (a seeded proxy: throttling, 503s,
//! connections reset before or after moto did the work, slow answers):
//! deploy, a redeploy and destroy still end in the right state, with one
//! execution per deploy, and the report counts the retries. Faults that
//! outlast the retry budget fail clearly, and the next deploy continues.
//! Every S3 request carries the expected bucket owner. A deploy interrupted
//! (Ctrl-C) while it uploads or creates the change set leaves nothing the
//! next deploy cannot continue from. The figures of each run are printed
//! (`--nocapture` to see them).

use crate::common;

use std::time::Instant;

use common::faults::{Plan, Proxy, Release};
use common::{Build, Moto, Run, fake_build, sdk_config, stack};

/// "done in 0.29 s (build excluded, 0.05 s CPU), 7 AWS API calls (2 retries)" → (7, 2).
fn calls_and_retries(run: &Run) -> (usize, usize) {
    let line = run
        .stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("done in "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", run.stderr));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let n = numbers.len();
    (numbers[n - 2], numbers[n - 1])
}

fn through(proxy: &Proxy, moto: &Moto, build: &Build, args: &[&str]) -> (Run, f64) {
    let started = Instant::now();
    let run = common::xtask_with(
        Some(moto),
        build,
        args,
        &[("AWS_ENDPOINT_URL", proxy.endpoint.as_str())],
    );
    (run, started.elapsed().as_secs_f64())
}

/// Stack-level operations that started: one per deploy or destroy, however
/// many times a call was retried.
async fn operations(cfn: &aws_sdk_cloudformation::Client, name: &str) -> usize {
    let mut count = 0;
    let mut pages = cfn
        .describe_stack_events()
        .stack_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count += page
            .unwrap()
            .stack_events()
            .iter()
            .filter(|e| {
                e.resource_type() == Some("AWS::CloudFormation::Stack")
                    && e.resource_status().is_some_and(|s| {
                        matches!(
                            s.as_str(),
                            "CREATE_IN_PROGRESS" | "UPDATE_IN_PROGRESS" | "DELETE_IN_PROGRESS"
                        )
                    })
            })
            .count();
    }
    count
}

/// deploy, redeploy with new code, destroy: once clean, once under faults;
/// the same end states, one operation each, and the figures side by side.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_redeploy_and_destroy_end_right_under_faults() {
    let mut figures = Vec::new();
    for (label, plan) in [
        ("clean", Plan::default()),
        (
            "faults",
            Plan {
                seed: 9,
                throttle: 8,
                unavailable: 4,
                reset_before: 4,
                reset_after: 4,
                slow: 5,
                blackout_from: None,
            },
        ),
    ] {
        let moto = Moto::start().unwrap();
        let config = sdk_config(&moto).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let proxy = Proxy::start(moto.endpoint(), plan).await;
        let build = fake_build(label);
        let name = "e2e-faults";

        let (run, deploy_s) = through(
            &proxy,
            &moto,
            &build,
            &["deploy", "--stack-name", name, "--yes"],
        );
        assert!(run.ok, "{label}: {}", run.stderr);
        let (deploy_calls, deploy_retries) = calls_and_retries(&run);
        let deployed = stack(&cfn, name).await.unwrap();
        assert_eq!(
            deployed.stack_status().map(|s| s.as_str()),
            Some("CREATE_COMPLETE")
        );
        assert_eq!(operations(&cfn, name).await, 1, "{label}: one create");

        common::change_function(&build, "login");
        let (run, redeploy_s) = through(
            &proxy,
            &moto,
            &build,
            &["deploy", "--stack-name", name, "--yes"],
        );
        assert!(run.ok, "{label}: {}", run.stderr);
        let (redeploy_calls, redeploy_retries) = calls_and_retries(&run);
        let updated = stack(&cfn, name).await.unwrap();
        assert_eq!(
            updated.stack_status().map(|s| s.as_str()),
            Some("UPDATE_COMPLETE")
        );
        assert_eq!(operations(&cfn, name).await, 2, "{label}: one update");
        // The artifacts stack was created once and never updated.
        assert_eq!(operations(&cfn, &format!("{name}-artifacts")).await, 1);

        let (run, destroy_s) = through(
            &proxy,
            &moto,
            &build,
            &["destroy", "--stack-name", name, "--yes"],
        );
        assert!(run.ok, "{label}: {}", run.stderr);
        let (destroy_calls, destroy_retries) = calls_and_retries(&run);
        assert!(stack(&cfn, name).await.is_none());
        assert!(stack(&cfn, &format!("{name}-artifacts")).await.is_none());

        let seen = proxy.seen.lock().unwrap();
        // Every S3 call names the account that must own the bucket.
        assert_eq!(seen.s3_without_owner, Vec::<String>::new(), "{label}");
        let injected: usize = seen.faults.values().sum();
        if label == "faults" {
            assert!(injected > 0, "no fault was injected");
            assert!(
                deploy_retries + redeploy_retries + destroy_retries > 0,
                "the report counted no retries"
            );
        }
        figures.push(format!(
            "{label}: deploy {deploy_calls} calls / {deploy_retries} retries / {deploy_s:.1} s; \
             redeploy {redeploy_calls} / {redeploy_retries} / {redeploy_s:.1} s; \
             destroy {destroy_calls} / {destroy_retries} / {destroy_s:.1} s; \
             proxy saw {} requests, faults {:?}",
            seen.requests, seen.faults
        ));
    }
    for line in &figures {
        println!("FIGURES {line}");
    }
}

/// Every answer a 503 from some request on, beyond the retry budget: a
/// clear error and a non-zero exit; the next deploy continues from where
/// the stack is and ends it right.
#[tokio::test(flavor = "multi_thread")]
async fn faults_beyond_the_retry_budget_fail_clearly_and_the_next_deploy_continues() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let build = fake_build("blackout");
    let name = "e2e-blackout";
    // First in the middle of the first deploy (after the artifacts stack,
    // before the main change set), then early in the one that continues it.
    for from in [12, 6] {
        let proxy = Proxy::start(
            moto.endpoint(),
            Plan {
                blackout_from: Some(from),
                ..Plan::default()
            },
        )
        .await;
        let run = common::xtask_with(
            Some(&moto),
            &build,
            &["deploy", "--stack-name", name, "--yes"],
            &[
                ("AWS_ENDPOINT_URL", proxy.endpoint.as_str()),
                ("AWS_MAX_ATTEMPTS", "2"),
            ],
        );
        assert!(!run.ok, "{}", run.stderr);
        let last = run
            .stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(last.starts_with("error: cannot "), "{last}");
        assert!(
            last.contains("503")
                || last.contains("Service Unavailable")
                || last.contains("service error"),
            "{last}"
        );
        proxy.set(Plan::default());
    }
    let run = common::xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    let deployed = stack(&cfn, name).await.unwrap();
    assert_eq!(
        deployed.stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
}

/// Starts `deploy` through a proxy that holds the first request `matches`
/// picks, sends the process SIGINT (what Ctrl-C sends) while that request is
/// on its way, then lets the request reach moto or drops it.
async fn interrupt(
    moto: &Moto,
    build: &Build,
    name: &str,
    matches: impl Fn(&str, &str) -> bool + Send + 'static,
    release: Release,
) {
    let proxy = Proxy::start(moto.endpoint(), Plan::default()).await;
    proxy.hold(matches);
    let mut child = common::xtask_command(
        Some(moto),
        build,
        &["deploy", "--stack-name", name, "--yes"],
        &[("AWS_ENDPOINT_URL", proxy.endpoint.as_str())],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(60), proxy.held())
        .await
        .expect("the deploy never sent the request to interrupt");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert!(!status.success(), "the deploy ran on after SIGINT");
    proxy.release(release);
}

/// Ctrl-C while the first zip is uploading (the upload never lands), then
/// while the main stack's change set is being created (the request lands, so
/// a stack in REVIEW_IN_PROGRESS holds a change set nobody executes): each
/// next deploy continues (uploads what is missing, checks every key), and
/// the last creates the stack once and ends in CREATE_COMPLETE.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_upload_or_change_set_creation_leaves_a_deploy_that_continues() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let build = fake_build("interrupt");
    let name = "e2e-interrupt";

    interrupt(
        &moto,
        &build,
        name,
        |operation, _| operation.starts_with("PUT /"),
        Release::Drop,
    )
    .await;
    assert!(
        stack(&cfn, name).await.is_none(),
        "no main stack before the uploads are done"
    );

    let stack_name = format!("StackName={name}&");
    interrupt(
        &moto,
        &build,
        name,
        move |operation, body| operation == "CreateChangeSet" && body.contains(&stack_name),
        Release::Forward,
    )
    .await;
    // The held request reaches moto after the process is gone.
    let mut waited = 0;
    let review = loop {
        if let Some(review) = stack(&cfn, name).await {
            break review;
        }
        waited += 1;
        assert!(waited < 100, "the interrupted change set never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        review.stack_status().map(|s| s.as_str()),
        Some("REVIEW_IN_PROGRESS")
    );

    let run = common::xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    let deployed = stack(&cfn, name).await.unwrap();
    assert_eq!(
        deployed.stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(operations(&cfn, name).await, 1, "one create");
    assert_eq!(operations(&cfn, &format!("{name}-artifacts")).await, 1);
}
