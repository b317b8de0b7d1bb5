//! The real `login` binary under a stand-in Runtime API, with the
//! environment the stack gives it and AWS pointed at moto.

use crate::common;

use std::time::Duration;

use common::{Stack, fixture, moto};
use testkit::runtime_api::RuntimeApi;

fn stack_env(stack: &Stack) -> Vec<(&'static str, String)> {
    let mut env = moto().aws_env();
    env.push((
        env_contract::login::TABLE_NAME,
        stack.config.table_name.clone(),
    ));
    env.push((
        env_contract::login::BUCKET_NAME,
        stack.config.bucket_name.clone(),
    ));
    env.push((
        env_contract::login::GREETINGS_PATH,
        stack.config.greetings_path.clone(),
    ));
    env
}

#[tokio::test]
async fn the_binary_serves_a_login_end_to_end() {
    let stack = Stack::create("binary").await;
    let api = RuntimeApi::start().unwrap();
    let id = api.push_event(fixture("login.json"));

    let env = stack_env(&stack);
    let run = tokio::task::spawn_blocking(move || {
        api.run(env!("CARGO_BIN_EXE_login"), env, Duration::from_secs(30))
    })
    .await
    .unwrap()
    .unwrap();

    assert!(!run.timed_out, "{run:?}");
    assert!(run.init_error.is_none(), "{run:?}");
    let response = run
        .response(&id)
        .unwrap_or_else(|| panic!("no response: {run:?}"));
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["username"], "ann@example.com");

    let audit: Vec<_> = run
        .log_lines()
        .into_iter()
        .filter(|line| line["event"] == "login")
        .collect();
    assert_eq!(audit.len(), 1, "one audit line per login: {}", run.stdout);
    assert_eq!(audit[0]["username"], "ann@example.com");
    assert_eq!(audit[0]["sub"], "8f1c2d3e-0000-4000-8000-000000000001");
    assert_eq!(audit[0]["timestamp"], body["timestamp"]);
    assert_eq!(audit[0]["request_id"], id.as_str());

    let items = stack.items().await;
    assert_eq!(
        items,
        vec![(
            "ann@example.com".to_owned(),
            body["timestamp"].as_str().unwrap().to_owned()
        )]
    );
}

#[test]
fn a_cold_start_without_configuration_reports_init_error_naming_the_variable() {
    let api = RuntimeApi::start().unwrap();
    let id = api.push_event(fixture("login.json"));
    let mut env = moto().aws_env();
    env.push((env_contract::login::BUCKET_NAME, "b".to_owned()));
    env.push((
        env_contract::login::GREETINGS_PATH,
        "/s/greetings/".to_owned(),
    ));

    let run = api
        .run(env!("CARGO_BIN_EXE_login"), env, Duration::from_secs(30))
        .unwrap();

    let report = run
        .init_error
        .as_ref()
        .unwrap_or_else(|| panic!("no /init/error: {run:?}"));
    assert!(
        report
            .error_message
            .contains(env_contract::login::TABLE_NAME),
        "{report:?}"
    );
    assert_eq!(
        report.header_type.as_deref(),
        Some("Config.MissingVariable")
    );
    let exit = run.exit.unwrap_or_else(|| panic!("still running: {run:?}"));
    assert!(!exit.success());
    assert!(
        run.outcome(&id).is_none(),
        "no event is served after a failed cold start"
    );
}

#[test]
fn a_malformed_greetings_path_fails_the_cold_start() {
    let api = RuntimeApi::start().unwrap();
    let mut env = moto().aws_env();
    env.push((env_contract::login::TABLE_NAME, "t".to_owned()));
    env.push((env_contract::login::BUCKET_NAME, "b".to_owned()));
    env.push((env_contract::login::GREETINGS_PATH, "greetings".to_owned()));

    let run = api
        .run(env!("CARGO_BIN_EXE_login"), env, Duration::from_secs(30))
        .unwrap();

    let report = run.init_error.unwrap();
    assert!(
        report
            .error_message
            .contains(env_contract::login::GREETINGS_PATH),
        "{report:?}"
    );
    assert!(!run.exit.unwrap().success());
}
