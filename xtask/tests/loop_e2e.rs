//! The everyday loop end to end: `package` after a `cargo build --release`
//! at the root compiles nothing; a hotswap that Lambda fails to apply shows
//! the function's last log lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use common::{Build, Moto, Run, fake_build, resources, sdk_config, xtask, xtask_with};
use serde_json::{Value, json};

/// The real cargo, with the environment a person's shell has: none of the
/// variables cargo sets for the test process (`CARGO_PKG_*`,
/// `CARGO_MANIFEST_DIR`, the library path, …).
fn cargo_as_in_a_shell(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.args(args).current_dir(testkit::workspace_root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo = name == "CARGO"
            || (name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR")
            || name == "LD_LIBRARY_PATH"
            || name == "OUT_DIR";
        if set_by_cargo {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Size and modification time of every file cargo keeps for the release
/// profile's units (fingerprints, build-script outputs, objects and
/// libraries) and of the two binaries: recompiling or relinking a unit
/// changes some, a unit with other features adds some.
fn release_state() -> BTreeMap<PathBuf, (u64, SystemTime)> {
    fn walk(dir: &Path, into: &mut BTreeMap<PathBuf, (u64, SystemTime)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                walk(&path, into);
            } else {
                into.insert(path, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    let release = testkit::target_dir().join("release");
    let mut state = BTreeMap::new();
    for dir in [".fingerprint", "build", "deps"] {
        walk(&release.join(dir), &mut state);
    }
    for function in ["auth", "login"] {
        let path = release.join(function);
        let meta = std::fs::metadata(&path).unwrap();
        state.insert(path, (meta.len(), meta.modified().unwrap()));
    }
    state
}

#[test]
fn package_after_a_cargo_build_release_at_the_root_recompiles_nothing() {
    let started = Instant::now();
    let build = cargo_as_in_a_shell(&["build", "--release"])
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let before = release_state();
    let built = started.elapsed();

    let out = common::scratch("package-after-build");
    let run = xtask_with(
        None,
        &Build::Real,
        &["package", "--out", out.join("zips").to_str().unwrap()],
        &[],
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    let after = release_state();
    let changed: Vec<String> = before
        .iter()
        .filter(|(path, state)| after.get(*path) != Some(*state))
        .map(|(path, _)| format!("changed or gone: {}", path.display()))
        .chain(
            after
                .keys()
                .filter(|path| !before.contains_key(*path))
                .map(|path| format!("new: {}", path.display())),
        )
        .collect();
    assert!(
        changed.is_empty(),
        "`cargo xtask package` compiled what `cargo build --release` had built ({} files):\n{}",
        changed.len(),
        changed
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    // And back: the person's next build finds every unit fresh, in cargo's own words.
    let again = cargo_as_in_a_shell(&["build", "--release", "--message-format", "json"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let stale: Vec<String> = String::from_utf8_lossy(&again.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] != true)
        .map(|m| m["package_id"].to_string())
        .collect();
    assert!(stale.is_empty(), "rebuilt after package: {stale:?}");
    println!(
        "cargo build --release {:.1} s, then package and a second build in {:.1} s",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
}

/// The hex SHA-256 key each function's zip got, from `package`'s lines
/// (`<function> <sha256> <bytes> <glibc>`).
fn package_keys(run: &Run) -> BTreeMap<String, String> {
    run.stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split(' ');
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

/// `CodeSha256` as Lambda reports it for the zip with that key.
fn code_sha256(key: &str) -> String {
    aws_smithy_types::base64::encode(hex::decode(key).unwrap())
}

/// Lines in a function's log group, as the function would write them.
async fn put_log_lines(logs: &aws_sdk_cloudwatchlogs::Client, group: &str, lines: &[&str]) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let stream = "2026/01/02/[$LATEST]e2e";
    // The stream is there from an earlier call, or made now.
    let _ = logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    let now = jiff::Timestamp::now().as_millisecond();
    let events: Vec<InputLogEvent> = lines
        .iter()
        .map(|line| {
            InputLogEvent::builder()
                .timestamp(now)
                .message(*line)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

/// moto always reports `LastUpdateStatus: Successful`, so Lambda here is a
/// stand-in (wiremock, through `AWS_ENDPOINT_URL_LAMBDA`, the SDK's
/// per-service endpoint) that answers the hotswap's calls as Lambda does
/// for code it cannot apply; everything else is moto's.
#[tokio::test(flavor = "multi_thread")]
async fn a_hotswap_that_lambda_fails_to_apply_shows_the_functions_last_log_lines() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const STACK: &str = "failing";
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let build = fake_build("failing");
    let deployed = xtask(&moto, &build, &["deploy", "--stack-name", STACK, "--yes"]);
    assert!(deployed.ok, "{}", deployed.stderr);
    let created = resources(&aws_sdk_cloudformation::Client::new(&config), STACK).await;
    let (auth, login) = (
        created["AuthFunction"].2.clone(),
        created["LoginFunction"].2.clone(),
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    put_log_lines(
        &logs,
        &format!("/{STACK}/login"),
        &[
            r#"{"level":"INFO","message":"login recorded","request_id":"r-1","username":"ann@example.com"}"#,
            r#"{"level":"ERROR","message":"cannot read the greetings","request_id":"r-2"}"#,
        ],
    )
    .await;

    common::change_function(&build, "login");
    let zips = common::scratch("failing-zips");
    let packaged = xtask_with(
        None,
        &build,
        &[
            "package",
            "--profile",
            "hotswap",
            "--out",
            zips.to_str().unwrap(),
        ],
        &[],
    );
    assert!(packaged.ok, "{}", packaged.stderr);
    let keys = package_keys(&packaged);

    let lambda = MockServer::start().await;
    let function = |name: &str, code: &str| json!({"Configuration": {"FunctionName": name, "CodeSha256": code}});
    // auth's live code is its zip; login runs other code, takes the new zip,
    // and then reports the update failed.
    Mock::given(method("GET"))
        .and(path(format!("/2015-03-31/functions/{auth}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(function(&auth, &code_sha256(&keys["auth"]))),
        )
        .mount(&lambda)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/2015-03-31/functions/{login}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(function(&login, "older")))
        .mount(&lambda)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/2015-03-31/functions/{login}/code")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "FunctionName": login,
            "CodeSha256": code_sha256(&keys["login"]),
            "LastUpdateStatus": "InProgress",
        })))
        .expect(1)
        .mount(&lambda)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/2015-03-31/functions/{login}/configuration")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "FunctionName": login,
            "LastUpdateStatus": "Failed",
            "LastUpdateStatusReason": "Lambda was unable to unzip the deployment package.",
            "LastUpdateStatusReasonCode": "InvalidZipFileException",
        })))
        .mount(&lambda)
        .await;

    let endpoint = lambda.uri();
    let run = {
        let (moto, build) = (&moto, &build);
        tokio::task::block_in_place(|| {
            xtask_with(
                Some(moto),
                build,
                &["deploy", "--stack-name", STACK, "--hotswap-only"],
                &[("AWS_ENDPOINT_URL_LAMBDA", &endpoint)],
            )
        })
    };
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let shown = run
        .stderr
        .find(&format!(
            "the last 2 log lines of the login function (/{STACK}/login):"
        ))
        .unwrap_or_else(|| panic!("no log lines shown:\n{}", run.stderr));
    let lines: Vec<&str> = run.stderr[shown..].lines().skip(1).take(2).collect();
    assert!(
        lines[0].ends_with(" login INFO  r-1 login recorded username=ann@example.com"),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with(" login ERROR r-2 cannot read the greetings"),
        "{lines:?}"
    );
    let error = run.stderr[shown..]
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("the error comes after the log lines:\n{}", run.stderr));
    assert_eq!(
        error,
        format!(
            "error: Lambda could not apply the new code of function {login}: Lambda was unable \
             to unzip the deployment package. (InvalidZipFileException)"
        )
    );
    assert!(
        !run.stderr.contains("the auth function"),
        "only the function that failed: {}",
        run.stderr
    );
}
