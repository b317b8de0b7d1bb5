//! `cargo xtask deploy --hotswap` end to end against moto, on one deployed
//! stack: a changed function is updated directly and nothing else is
//! touched; a revert goes back the same way; a change besides code goes to
//! a change set (and `--hotswap-only` refuses it, naming the property); the
//! next normal deploy brings the stack's code keys, and the live code, in
//! line with the zips. Before all that, with no stack, `--hotswap-only` refuses.
//!
//! "Changing the code" uses the fake build of the other deploy tests: a
//! stand-in `cargo` (through `CARGO`, cargo's own way to name the cargo to
//! run) whose target folder holds ready-made binaries, which the test edits.
//! The product has no test switch; the build it runs is simply another one.

use crate::common;

use common::{Build, Moto, Run, event_count, fake_build, resources, sdk_config, stack, xtask};

const STACK: &str = "hot";

/// The key (hex SHA-256 of the zip) the run printed for `function`'s package.
fn key(run: &Run, function: &str) -> String {
    let prefix = format!("  {function} ");
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&prefix) && l.contains(", sha256 "))
        .unwrap_or_else(|| panic!("no package line for {function}:\n{}", run.stderr));
    line.split(", sha256 ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_owned()
}

/// `CodeSha256` as Lambda reports it for the zip with that key.
fn code_sha256(key: &str) -> String {
    aws_smithy_types::base64::encode(hex::decode(key).unwrap())
}

struct Stack {
    cfn: aws_sdk_cloudformation::Client,
    lambda: aws_sdk_lambda::Client,
    auth: String,
    login: String,
}

impl Stack {
    async fn live(&self, function: &str) -> String {
        common::live_code(&self.lambda, function).await
    }

    /// Everything a stack operation would change: its last update and its events.
    async fn operations(&self) -> (Option<aws_smithy_types::DateTime>, usize) {
        let current = stack(&self.cfn, STACK).await.unwrap();
        (
            current.last_updated_time().copied(),
            event_count(&self.cfn, STACK).await,
        )
    }

    async fn parameter(&self, key: &str) -> String {
        let current = stack(&self.cfn, STACK).await.unwrap();
        current
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(key))
            .and_then(|p| p.parameter_value())
            .unwrap()
            .to_owned()
    }
}

fn deploy(moto: &Moto, build: &Build, extra: &[&str]) -> Run {
    let mut args = vec!["deploy", "--stack-name", STACK];
    args.extend_from_slice(extra);
    xtask(moto, build, &args)
}

#[tokio::test(flavor = "multi_thread")]
async fn hotswap_changes_only_code_and_leaves_the_rest_to_change_sets() {
    use infra::stack::params::LOGIN_CODE_KEY;
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let build = fake_build("hotswap");

    // Nothing to hotswap into yet.
    let run = deploy(&moto, &build, &["--hotswap-only"]);
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("stack {STACK} is not deployed yet")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);

    let first = deploy(&moto, &build, &["--yes"]);
    assert!(first.ok, "deploy failed:\n{}", first.stderr);
    let created = resources(&aws_sdk_cloudformation::Client::new(&config), STACK).await;
    let stack = Stack {
        cfn: aws_sdk_cloudformation::Client::new(&config),
        lambda: aws_sdk_lambda::Client::new(&config),
        auth: created["AuthFunction"].2.clone(),
        login: created["LoginFunction"].2.clone(),
    };
    let original_login = code_sha256(&key(&first, "login"));
    let original_auth = stack.live(&stack.auth).await;
    assert_eq!(stack.live(&stack.login).await, original_login);
    let deployed_key = stack.parameter(LOGIN_CODE_KEY).await;
    let operations = stack.operations().await;
    let original_binary = common::binary(&build, "login");

    // A changed function: only its code changes, and no stack operation happens.
    common::change_function(&build, "login");
    let run = deploy(&moto, &build, &["--hotswap"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        common::cargo_calls(&build).contains("build --profile hotswap"),
        "{}",
        common::cargo_calls(&build)
    );
    assert!(
        run.stderr
            .contains(&format!("login ({}): updated in ", stack.login)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("auth ({}): unchanged", stack.auth)),
        "{}",
        run.stderr
    );
    let changed_login = code_sha256(&key(&run, "login"));
    assert_ne!(changed_login, original_login);
    assert_eq!(stack.live(&stack.login).await, changed_login);
    assert_eq!(stack.live(&stack.auth).await, original_auth);
    assert_eq!(
        stack.operations().await,
        operations,
        "the stack was touched"
    );
    assert_eq!(
        stack.parameter(LOGIN_CODE_KEY).await,
        deployed_key,
        "the template still names the old zip"
    );

    // A revert is decided by the live code, not the template: it goes back.
    common::set_binary(&build, "login", &original_binary);
    let run = deploy(&moto, &build, &["--hotswap"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("updated in "), "{}", run.stderr);
    assert_eq!(stack.live(&stack.login).await, original_login);
    assert_eq!(stack.operations().await, operations);

    // More than code: --hotswap-only names it and changes nothing.
    common::change_function(&build, "login");
    let run = deploy(
        &moto,
        &build,
        &["--hotswap-only", "--log-retention-days", "7"],
    );
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("resource LoginLogGroup (AWS::Logs::LogGroup), property RetentionInDays"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(stack.live(&stack.login).await, original_login);
    assert_eq!(stack.operations().await, operations);

    // --hotswap takes it to a change set, with the code.
    let run = deploy(
        &moto,
        &build,
        &["--hotswap", "--log-retention-days", "7", "--yes"],
    );
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("deploying through a change set instead"),
        "{}",
        run.stderr
    );
    assert_ne!(stack.operations().await, operations, "no change set ran");
    let swapped_key = key(&run, "login");
    assert_eq!(stack.parameter(LOGIN_CODE_KEY).await, swapped_key);
    assert_eq!(stack.live(&stack.login).await, code_sha256(&swapped_key));

    // Hotswap again, then a normal deploy: the stack names the zip that is live.
    common::change_function(&build, "login");
    let run = deploy(&moto, &build, &["--hotswap", "--log-retention-days", "7"]);
    assert!(run.ok, "{}", run.stderr);
    let hot_key = key(&run, "login");
    assert_ne!(stack.parameter(LOGIN_CODE_KEY).await, hot_key);
    let run = deploy(&moto, &build, &["--log-retention-days", "7", "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.modified(), ["LoginFunction"], "{}", run.stderr);
    assert_eq!(stack.parameter(LOGIN_CODE_KEY).await, hot_key);
    assert_eq!(stack.live(&stack.login).await, code_sha256(&hot_key));

    // A hotswap whose change is reverted before the next normal deploy: the
    // template shows no change, and the deploy still puts back the code it names.
    let named = common::binary(&build, "login");
    common::change_function(&build, "login");
    let run = deploy(&moto, &build, &["--hotswap", "--log-retention-days", "7"]);
    assert!(run.ok, "{}", run.stderr);
    assert_ne!(stack.live(&stack.login).await, code_sha256(&hot_key));
    common::set_binary(&build, "login", &named);
    let run = deploy(&moto, &build, &["--log-retention-days", "7", "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("is up to date"), "{}", run.stderr);
    assert!(
        run.stderr.contains("runs other code than its stack names"),
        "{}",
        run.stderr
    );
    assert_eq!(stack.live(&stack.login).await, code_sha256(&hot_key));
    assert_eq!(stack.live(&stack.auth).await, original_auth);
}

/// The `hotswap` profile's real binaries pass the glibc check that every
/// zip goes through (the release profile's pass it in the deploy tests).
#[test]
fn the_hotswap_profile_builds_binaries_provided_al2023_can_load() {
    let out = common::scratch("hotswap-package");
    let run = common::xtask_with(
        None,
        &Build::Real,
        &[
            "package",
            "--profile",
            "hotswap",
            "--out",
            out.join("zips").to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    for line in lines {
        // "<function> <sha256> <bytes> GLIBC_2.x"
        let glibc = line.rsplit(' ').next().unwrap();
        let minor: u32 = glibc
            .strip_prefix("GLIBC_2.")
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        assert!(minor <= 34, "{line}");
    }
}
