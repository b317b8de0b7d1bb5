//! The everyday loop end to end: `package` after a `cargo build --release`
//! at the root compiles nothing; a hotswap that Lambda fails to apply shows
//! the function's last log lines; a change of only a function's environment
//! is hotswapped, decided by the live variables, and reconciled by the next
//! deploy; `cargo xtask watch` against moto rebuilds and hotswaps on a save
//! of a function's source, coalesces the saves made during a round into one
//! more round, shows new log lines and stops cleanly on Ctrl-C; and
//! `cargo xtask local --watch` serves a saved function's new code on the
//! running system and stops, with all it started, on Ctrl-C.
//!
//! The two watch tests edit `functions/login/src/lib.rs` (a log message)
//! and put it back when they end, panics included; a run killed before that
//! is repaired by the next one. The tests here that build the functions
//! from the workspace's sources hold [`SOURCES`], so none of them builds
//! while another has the source edited.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

#[path = "it/common/mod.rs"]
#[allow(
    dead_code,
    reason = "these tests use a part of the `it` binary's helpers"
)]
mod common;
#[path = "loop_e2e/source_edit.rs"]
mod source_edit;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use common::local_mode::{self, LocalMode};
use common::{Build, Moto, Run, fake_build, resources, sdk_config, xtask, xtask_with};
use serde_json::{Value, json};
use source_edit::Edit;

/// Starts `cargo xtask local --watch` and waits until it watches for saves
/// (the first run builds the functions with the hotswap profile, which takes
/// minutes).
fn start_watching(stack: &str) -> LocalMode {
    let local = LocalMode::start_with(stack, &["--watch"]);
    local.wait_for_stderr("watching for saves", Duration::from_secs(60), |stderr| {
        stderr.contains("\nwatching functions/ and lib/ for saves")
    });
    local
}

/// Held by each test that builds the functions from the workspace's
/// sources: the watch test edits one of them meanwhile. (tokio's: it is
/// held across awaits, and a test that fails holding it has put the
/// sources back, so there is no poisoning to mind.)
static SOURCES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    let _sources = SOURCES.blocking_lock();
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

    // The variables are the ones moto's functions have, which the template
    // resolves to: only code is to change.
    let moto_lambda = aws_sdk_lambda::Client::new(&config);
    let function = |name: &str, code: &str, variables: BTreeMap<String, String>| {
        json!({"Configuration": {
            "FunctionName": name,
            "CodeSha256": code,
            "Environment": {"Variables": variables},
        }})
    };
    let lambda = MockServer::start().await;
    // auth's live code is its zip; login runs other code, takes the new zip,
    // and then reports the update failed.
    Mock::given(method("GET"))
        .and(path(format!("/2015-03-31/functions/{auth}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(function(
            &auth,
            &code_sha256(&keys["auth"]),
            live_environment(&moto_lambda, &auth).await,
        )))
        .mount(&lambda)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/2015-03-31/functions/{login}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(function(
            &login,
            "older",
            live_environment(&moto_lambda, &login).await,
        )))
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

/// A function's live environment variables.
async fn live_environment(lambda: &aws_sdk_lambda::Client, name: &str) -> BTreeMap<String, String> {
    lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .configuration()
        .unwrap()
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Sets a function's variables behind the stack's back (someone in the
/// console, a hotswap from another checkout).
async fn set_environment(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    variables: &BTreeMap<String, String>,
) {
    lambda
        .update_function_configuration()
        .function_name(name)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(variables.clone().into_iter().collect()))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Updates the stack through a change set of its own, with its deployed
/// template as `edit` changes it and every parameter and tag as they are:
/// as a deploy from a checkout whose stack code differs would.
async fn update_stack_template(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    name: &str,
    edit: impl FnOnce(&mut Value),
) {
    use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter};
    let body = cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .template_body
        .unwrap();
    let mut template: Value = serde_json::from_str(&body).unwrap();
    edit(&mut template);
    let current = common::stack(cfn, stack).await.unwrap();
    let parameters = current
        .parameters()
        .iter()
        .map(|p| {
            Parameter::builder()
                .parameter_key(p.parameter_key().unwrap())
                .use_previous_value(true)
                .build()
        })
        .collect();
    cfn.create_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .change_set_type(ChangeSetType::Update)
        .template_body(template.to_string())
        .set_parameters(Some(parameters))
        .set_tags(Some(current.tags().to_vec()))
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .unwrap();
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
        .unwrap();
    let status = common::stack(cfn, stack)
        .await
        .unwrap()
        .stack_status()
        .unwrap()
        .as_str()
        .to_owned();
    assert_eq!(status, "UPDATE_COMPLETE");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_of_only_a_functions_environment_is_hotswapped_and_the_next_deploy_reconciles() {
    const STACK: &str = "envswap";
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let build = fake_build("envswap");
    let deploy = |extra: &[&str]| {
        let mut args = vec!["deploy", "--stack-name", STACK];
        args.extend_from_slice(extra);
        xtask(&moto, &build, &args)
    };
    let first = deploy(&["--yes"]);
    assert!(first.ok, "{}", first.stderr);
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let created = resources(&cfn, STACK).await;
    let (auth, login) = (
        created["AuthFunction"].2.clone(),
        created["LoginFunction"].2.clone(),
    );
    // What CloudFormation made of the template's variables: what a hotswap
    // must arrive at by itself.
    let login_environment = live_environment(&lambda, &login).await;
    let auth_environment = live_environment(&lambda, &auth).await;
    assert_eq!(
        login_environment["GREETINGS_PATH"],
        format!("/{STACK}/greetings/")
    );
    let operations = || async {
        let current = common::stack(&cfn, STACK).await.unwrap();
        (
            current.last_updated_time().copied(),
            common::event_count(&cfn, STACK).await,
        )
    };

    // The deployed stack's login function has a variable our template does
    // not: only its Environment differs, and a hotswap takes the variables
    // back to the template's, no stack operation.
    let with_extra = |template: &mut Value| {
        template["Resources"]["LoginFunction"]["Properties"]["Environment"]["Variables"]["EXTRA"] =
            json!("from another checkout");
    };
    update_stack_template(&cfn, STACK, "extra-variable", with_extra).await;
    assert_eq!(
        live_environment(&lambda, &login).await["EXTRA"],
        "from another checkout"
    );
    let before = operations().await;
    let run = deploy(&["--hotswap-only"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "hotswapping the functions of stack {STACK}: nothing but their code and environment \
             changed"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("login ({login}): updated in ")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(" ms (environment)\n"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("auth ({auth}): unchanged")),
        "the auth function's variables resolve to what CloudFormation set: {}",
        run.stderr
    );
    assert_eq!(live_environment(&lambda, &login).await, login_environment);
    assert_eq!(live_environment(&lambda, &auth).await, auth_environment);
    assert_eq!(operations().await, before, "the stack was touched");

    // The next deploy brings the stack's template in line.
    let run = deploy(&["--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.modified(), ["LoginFunction"], "{}", run.stderr);
    assert_eq!(live_environment(&lambda, &login).await, login_environment);

    // Variables changed behind the stack's back: the live ones decide, so a
    // hotswap puts the template's back although the template shows no
    // change, and so does a deploy with nothing to change.
    let mut by_hand = login_environment.clone();
    by_hand.insert("BY_HAND".to_owned(), "1".to_owned());
    set_environment(&lambda, &login, &by_hand).await;
    let run = deploy(&["--hotswap-only"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains(" ms (environment)\n"), "{}", run.stderr);
    assert_eq!(live_environment(&lambda, &login).await, login_environment);
    set_environment(&lambda, &login, &by_hand).await;
    let run = deploy(&["--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("is up to date"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "function {login} (LoginFunction) runs other environment variables than its stack \
             names: updating them"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(live_environment(&lambda, &login).await, login_environment);

    // An environment change beside another change is not hotswapped: both are named.
    update_stack_template(&cfn, STACK, "extra-again", with_extra).await;
    let before = operations().await;
    let run = deploy(&["--hotswap-only", "--log-retention-days", "7"]);
    assert!(!run.ok, "{}", run.stderr);
    for named in [
        "resource LoginFunction (AWS::Lambda::Function), property Environment",
        "resource LoginLogGroup (AWS::Logs::LogGroup), property RetentionInDays",
        "nothing was changed",
    ] {
        assert!(run.stderr.contains(named), "{named}: {}", run.stderr);
    }
    assert_eq!(
        live_environment(&lambda, &login).await["EXTRA"],
        "from another checkout"
    );
    assert_eq!(operations().await, before);
}

/// A running `cargo xtask watch`, its stderr collected line by line.
struct Watch {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    fn start(moto: &Moto, stack: &str) -> Self {
        use std::os::unix::process::CommandExt as _;
        let mut command = common::xtask_command(
            Some(moto),
            &Build::Real,
            &["watch", "--stack-name", stack],
            &[],
        );
        // Its own process group, as a shell runs a job: Ctrl-C goes to the
        // group, and what is left of it afterwards is a process left behind.
        command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command.spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child: Some(child),
            lines,
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.lines().join("\n")
    }

    /// Waits until the lines printed so far satisfy `done`.
    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + timeout;
        while !done(&self.lines()) {
            assert!(
                Instant::now() < deadline,
                "watch did not get to {what} within {} s; its stderr:\n{}",
                timeout.as_secs(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn group(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Ctrl-C, as a terminal sends it: SIGINT to the whole process group.
    /// Returns how it exited.
    fn interrupt(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let sent = Command::new("kill")
            .args(["-INT", "--", &format!("-{}", child.id())])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("watch did not stop within 30 s of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }
}

/// Where a round starts: what watch says made it.
fn is_round_start(line: &str) -> bool {
    line == "bringing the live functions up to the source"
        || line.ends_with(" saved")
        || line.contains(" files saved: ")
}

fn is_round_end(line: &str) -> bool {
    line.starts_with("live ") && line.ends_with(" s after the save")
        || line.starts_with("cannot hotswap: ")
        || line.starts_with("error: ")
}

fn rounds_ended(lines: &[String]) -> usize {
    lines.iter().filter(|l| is_round_end(l)).count()
}

/// The login zip's key of the last round that built one.
fn last_login_key(lines: &[String]) -> String {
    let line = lines
        .iter()
        .rev()
        .map(|l| l.trim_start())
        .find(|l| l.starts_with("login ") && l.contains(", sha256 "))
        .unwrap();
    line.split(", sha256 ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_hotswaps_a_saved_function_once_per_burst_of_saves_and_stops_on_ctrl_c() {
    const STACK: &str = "watched";
    // The hotswap build from scratch takes many minutes; an incremental one, seconds.
    const FIRST_ROUND: Duration = Duration::from_secs(1800);
    const ROUND: Duration = Duration::from_secs(300);
    let started = Instant::now();
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    // Deployed with stand-in binaries: watch's first round brings the live
    // code up to the real source, as it does for anything older.
    let deployed = xtask(
        &moto,
        &fake_build("watched"),
        &["deploy", "--stack-name", STACK, "--yes"],
    );
    assert!(deployed.ok, "{}", deployed.stderr);
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let created = resources(&cfn, STACK).await;
    let (auth, login) = (
        created["AuthFunction"].2.clone(),
        created["LoginFunction"].2.clone(),
    );
    put_log_lines(
        &logs,
        &format!("/{STACK}/login"),
        &[r#"{"level":"INFO","message":"before the watch","request_id":"r-0"}"#],
    )
    .await;

    let _sources = SOURCES.lock().await;
    let edit = Edit::new();
    let mut watch = Watch::start(&moto, STACK);
    tokio::task::block_in_place(|| {
        watch.wait_for("the end of its first round", FIRST_ROUND, |l| {
            rounds_ended(l) == 1
        });
    });
    let first = watch.lines();
    assert!(
        first.contains(&"bringing the live functions up to the source".to_owned()),
        "{}",
        watch.stderr()
    );
    for name in [&auth, &login] {
        assert!(
            first
                .iter()
                .any(|l| l.contains(&format!("({name}): updated in "))),
            "{}",
            watch.stderr()
        );
    }
    let after_first = common::live_code(&lambda, &login).await;
    assert_eq!(after_first, code_sha256(&last_login_key(&first)));
    let auth_code = common::live_code(&lambda, &auth).await;
    let current = common::stack(&cfn, STACK).await.unwrap();
    let operations = (
        current.last_updated_time().copied(),
        common::event_count(&cfn, STACK).await,
    );
    let first_round_at = started.elapsed();

    // One save starts a round; three more while it runs make one more round, not three.
    let saved = Instant::now();
    edit.apply(1);
    tokio::task::block_in_place(|| {
        watch.wait_for("a round for the save", ROUND, |l| {
            l.iter().filter(|l| is_round_start(l)).count() == 2
        });
        for n in 2..=4 {
            edit.apply(n);
            std::thread::sleep(Duration::from_millis(50));
        }
        watch.wait_for("the end of the follow-up round", ROUND, |l| {
            rounds_ended(l) == 3
        });
        // Time for a spurious round to start, had the saves made one.
        std::thread::sleep(Duration::from_secs(3));
    });
    let two_rounds = saved.elapsed();
    let lines = watch.lines();
    let starts: Vec<&String> = lines.iter().filter(|l| is_round_start(l)).collect();
    assert_eq!(
        starts,
        [
            "bringing the live functions up to the source",
            "functions/login/src/lib.rs saved",
            "functions/login/src/lib.rs saved",
        ],
        "{}",
        watch.stderr()
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.as_str() == "1 file(s) saved during the last round: one more round")
            .count(),
        1,
        "{}",
        watch.stderr()
    );
    assert_eq!(rounds_ended(&lines), 3, "{}", watch.stderr());
    assert!(
        lines.iter().all(|l| !l.starts_with("error: ")),
        "{}",
        watch.stderr()
    );

    // The live code is the last round's zip, only the login function's changed,
    // and no stack operation ran.
    let now_live = common::live_code(&lambda, &login).await;
    assert_ne!(now_live, after_first);
    assert_eq!(now_live, code_sha256(&last_login_key(&lines)));
    assert_eq!(common::live_code(&lambda, &auth).await, auth_code);
    let current = common::stack(&cfn, STACK).await.unwrap();
    assert_eq!(
        (
            current.last_updated_time().copied(),
            common::event_count(&cfn, STACK).await
        ),
        operations,
        "the stack was touched"
    );

    // New log lines show as `logs` renders them; the ones from before the watch do not.
    put_log_lines(
        &logs,
        &format!("/{STACK}/login"),
        &[r#"{"level":"WARN","message":"seen by the watch","request_id":"r-9"}"#],
    )
    .await;
    tokio::task::block_in_place(|| {
        watch.wait_for("the new log line", Duration::from_secs(30), |l| {
            l.iter()
                .any(|l| l.ends_with(" login WARN  r-9 seen by the watch"))
        });
    });
    assert!(
        !watch.stderr().contains("before the watch"),
        "{}",
        watch.stderr()
    );

    let group = watch.group();
    let status = tokio::task::block_in_place(|| watch.interrupt());
    assert!(status.success(), "{status}: {}", watch.stderr());
    assert_eq!(
        watch.lines().last().map(String::as_str),
        Some("stopped watching"),
        "{}",
        watch.stderr()
    );
    assert_eq!(common::processes_in_group(group), Vec::<String>::new());
    drop(edit);
    println!("--- watch's stderr\n{}\n---", watch.stderr());
    println!(
        "watch: first round {:.1} s after the start, save to the end of the follow-up round {:.1} s, \
         whole test {:.1} s",
        first_round_at.as_secs_f64(),
        two_rounds.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// How many of the login function's lines that local mode printed on its
/// terminal contain `text`.
fn login_lines_with(stderr: &str, stack: &str, text: &str) -> usize {
    let prefix = format!("[{stack}-LoginFunction-");
    stderr
        .lines()
        .filter(|l| l.starts_with(&prefix) && l.contains(text))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn local_watch_serves_a_saved_functions_new_code_on_the_running_system_and_stops_on_ctrl_c() {
    const STACK: &str = "local-watch";
    // The hotswap build of one changed crate takes seconds; the first one, minutes.
    const ROUND: Duration = Duration::from_secs(300);
    const UNEDITED: &str = r#""message":"no greetings under the path""#;
    const EDITED: &str = r#""message":"no greetings under the path (edited: local watch)""#;
    const RECORDED: &str = r#""message":"login recorded""#;
    let started = Instant::now();
    let _sources = SOURCES.lock().await;
    let edit = Edit::new();
    let mut local = tokio::task::block_in_place(|| start_watching(STACK));
    let running_at = started.elapsed();
    let sdk = local_mode::sdk(local.output("AwsEndpointUrl")).await;

    // Without greetings under its path the login function logs the line the
    // edit changes, on every login, and greets with "Hello".
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let greetings: Vec<String> = ssm
        .get_parameters_by_path()
        .path(format!("/{STACK}/greetings"))
        .send()
        .await
        .unwrap()
        .parameters()
        .iter()
        .filter_map(|p| p.name().map(str::to_owned))
        .collect();
    assert_eq!(greetings.len(), 4, "{greetings:?}");
    ssm.delete_parameters()
        .set_names(Some(greetings))
        .send()
        .await
        .unwrap();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let (id_token, _) = local_mode::tokens(
        &cognito,
        local.output("UserPoolId"),
        local.output("ClientId"),
        "cy@example.com",
    )
    .await;
    let login = format!(
        "{}/auth/login",
        local.output("ApiUrl").trim_end_matches('/')
    );
    let http = reqwest::Client::new();
    let log_in = || {
        let request = http.get(&login).header("authorization", &id_token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["message"], "Hello cy@example.com", "{body}");
        }
    };
    log_in().await;
    tokio::task::block_in_place(|| {
        local.wait_for_stderr("the login's lines", Duration::from_secs(10), |stderr| {
            login_lines_with(stderr, STACK, UNEDITED) == 1
                && login_lines_with(stderr, STACK, RECORDED) == 1
        });
    });

    let saved = Instant::now();
    edit.apply("local watch");
    tokio::task::block_in_place(|| {
        local.wait_for_stderr("the end of the round for the save", ROUND, |stderr| {
            let lines: Vec<String> = stderr.lines().map(str::to_owned).collect();
            rounds_ended(&lines) == 1
        });
    });
    let live_after = saved.elapsed();
    let stderr = local.stderr();
    let round: Vec<&str> = stderr
        .lines()
        .skip_while(|l| *l != "functions/login/src/lib.rs saved")
        .collect();
    assert!(
        round.iter().any(|l| l.starts_with("  login (")
            && l.contains("-LoginFunction-")
            && l.contains("): updated in ")),
        "{stderr}"
    );
    assert!(
        round.iter().any(|l| l.starts_with("  auth (")
            && l.ends_with("): unchanged (its live code is this zip)")),
        "{stderr}"
    );
    let restarted: Vec<&&str> = round
        .iter()
        .filter(|l| l.ends_with(": restarted on its new bootstrap"))
        .collect();
    assert_eq!(restarted.len(), 1, "only the login function: {stderr}");
    assert!(
        restarted[0].starts_with(&format!("  {STACK}-LoginFunction-")),
        "{stderr}"
    );
    let live = round
        .iter()
        .find(|l| l.starts_with("live ") && l.ends_with(" s after the save"))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_string();
    assert_eq!(
        login_lines_with(&stderr, STACK, EDITED),
        0,
        "no login has run on the new code yet: {stderr}"
    );

    // The next login runs the new code: its line on the terminal and in the
    // function's log group in moto.
    log_in().await;
    tokio::task::block_in_place(|| {
        local.wait_for_stderr("the new code's lines", Duration::from_secs(10), |stderr| {
            login_lines_with(stderr, STACK, EDITED) == 1
                && login_lines_with(stderr, STACK, RECORDED) == 2
        });
    });
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let in_group = |text: &'static str| {
        let logs = logs.clone();
        async move {
            logs.filter_log_events()
                .log_group_name(format!("/{STACK}/login"))
                .send()
                .await
                .unwrap()
                .events()
                .iter()
                .filter_map(|e| e.message())
                .any(|m| m.contains(text))
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !in_group(EDITED).await {
        assert!(
            Instant::now() < deadline,
            "the new code's line is not in the log group /{STACK}/login"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        in_group(UNEDITED).await,
        "the old code's line stays in the group"
    );

    let origins = [
        local.output("HostedUiUrl").to_owned(),
        local_mode::url(local.output("ApiUrl"))
            .origin()
            .ascii_serialization(),
        local.output("AwsEndpointUrl").to_owned(),
    ];
    let group = local.group;
    let before_ctrl_c = local.stderr().len();
    assert!(
        tokio::task::block_in_place(|| local.interrupt()),
        "exit 0 after Ctrl-C: {}",
        local.stderr()
    );
    // Its last lines reach the test after its exit, through the reader thread.
    tokio::task::block_in_place(|| {
        local.wait_for_stderr("its last line", Duration::from_secs(10), |stderr| {
            stderr.ends_with("\nstopping\n")
        });
    });
    assert_eq!(
        &local.stderr()[before_ctrl_c..],
        "stopping\n",
        "nothing in its group but local mode itself answers the Ctrl-C"
    );
    for origin in &origins {
        assert!(!local_mode::listening(origin), "{origin} still listens");
    }
    assert_eq!(common::processes_in_group(group), Vec::<String>::new());
    drop(edit);
    println!("--- local mode's stderr\n{}\n---", local.stderr());
    println!(
        "local --watch: running {:.1} s after the start, the save live {:.1} s later (it says \
         {live:?}), whole test {:.1} s",
        running_at.as_secs_f64(),
        live_after.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
