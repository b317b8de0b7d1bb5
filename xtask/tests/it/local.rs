//! `cargo xtask local` end to end, as a person walks it: the real binary
//! deploys the real stack into moto and serves the hosted-UI stand-in, the
//! API Gateway front and the functions' real `bootstrap` binaries; a
//! scripted browser signs up, confirms, signs in and is greeted, and every
//! status and `Location` on the way is asserted, then what the login wrote.

use crate::common;

use common::{Build, xtask_with};

use common::browser::Browser;
use common::local_mode::{
    EMAIL, LocalMode, PASSWORD, listening, processes_running_from, sdk, sign_up_and_sign_in,
    tokens, url,
};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_up_signs_in_and_is_greeted_and_the_login_is_recorded() {
    let mut local = LocalMode::start("local-flow");
    assert_eq!(
        local.order.first().map(String::as_str),
        Some("SignInUrl"),
        "the sign-in URL comes first"
    );
    let mut browser = Browser::default();
    let greeting = sign_up_and_sign_in(&local, &mut browser, EMAIL).await;
    assert!(
        ["Hello", "Shalom", "Hi", "Marhaba"]
            .iter()
            .any(|g| greeting.contains(g)),
        "{greeting}"
    );
    assert!(
        greeting.to_lowercase().contains(&EMAIL.to_lowercase()),
        "{greeting}"
    );

    // What the login function wrote, read back from moto.
    let sdk = sdk(local.output("AwsEndpointUrl")).await;
    let table = local.output("TableName");
    let items = aws_sdk_dynamodb::Client::new(&sdk)
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let users: Vec<String> = items
        .items()
        .iter()
        .filter_map(|item| item.get("username")?.as_s().ok().cloned())
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users[0].eq_ignore_ascii_case(EMAIL));
    let object = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    )
    .get_object()
    .bucket(local.output("BucketName"))
    .key(&users[0])
    .send()
    .await
    .unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    assert!(std::str::from_utf8(&body).unwrap().ends_with('Z'));

    // The audit line, in the login function's log group as Lambda would put it.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let mut audit = None;
    for _ in 0..50 {
        let groups = logs.describe_log_groups().send().await.unwrap();
        for group in groups.log_groups() {
            let name = group.log_group_name().unwrap_or_default();
            let events = logs
                .filter_log_events()
                .log_group_name(name)
                .send()
                .await
                .unwrap();
            audit = events
                .events()
                .iter()
                .filter_map(|e| serde_json::from_str::<Value>(e.message()?).ok())
                .find(|line| line["username"].as_str() == Some(users[0].as_str()));
            if audit.is_some() {
                assert!(name.ends_with("/login"), "{name}");
                break;
            }
        }
        if audit.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(audit.is_some(), "no audit line in moto's log groups");
    let stderr = local.stderr();
    assert!(
        stderr.contains("[local-flow-LoginFunction-"),
        "function lines on the terminal:\n{stderr}"
    );
    assert!(
        !stderr.contains(PASSWORD),
        "the password never reaches the terminal"
    );

    // Ctrl-C stops everything it started.
    let origins = [
        local.output("HostedUiUrl").to_owned(),
        url(local.output("ApiUrl")).origin().ascii_serialization(),
        local.output("AwsEndpointUrl").to_owned(),
    ];
    assert!(local.interrupt(), "exit 0 after Ctrl-C");
    for origin in &origins {
        assert!(!listening(origin), "{origin} still listens");
    }
    assert_eq!(
        processes_running_from(&local.work_dir),
        Vec::<String>::new()
    );
    assert_eq!(
        common::processes_in_group(local.group),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_api_applies_the_cognito_authorizer_as_api_gateway_does() {
    let local = LocalMode::start("local-authorizer");
    smoke_checks_pass_and_a_failure_shows_the_functions_log_lines(&local);
    let sdk = sdk(local.output("AwsEndpointUrl")).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let pool = local.output("UserPoolId");
    let client = local.output("ClientId");
    let (id_token, access_token) = tokens(&cognito, pool, client, "bo@example.com").await;

    let other_pool = cognito
        .create_user_pool()
        .pool_name("someone-else")
        .send()
        .await
        .unwrap();
    let other_pool = other_pool.user_pool().unwrap().id().unwrap().to_owned();
    let other_client = cognito
        .create_user_pool_client()
        .user_pool_id(&other_pool)
        .client_name("other")
        .send()
        .await
        .unwrap();
    let other_client = other_client
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_owned();
    let (foreign, _) = tokens(&cognito, &other_pool, &other_client, "bo@example.com").await;

    let login = format!(
        "{}/auth/login",
        local.output("ApiUrl").trim_end_matches('/')
    );
    let http = reqwest::Client::new();
    let call = |authorization: Option<String>| {
        let mut request = http.get(&login).header("accept", "application/json");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (status, kind, response.text().await.unwrap())
        }
    };
    let unauthorized = r#"{"message":"Unauthorized"}"#;
    let (status, kind, body) = call(None).await;
    assert_eq!((status, body.as_str()), (401, unauthorized));
    assert_eq!(kind.as_deref(), Some("UnauthorizedException"));

    let (status, _, body) = call(Some(id_token.clone())).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = call(Some(format!("Bearer {id_token}"))).await;
    assert_eq!(status, 200, "{body}");
    let greeted: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(greeted["username"], "bo@example.com");

    let (status, _, body) = call(Some(access_token)).await;
    assert_eq!(
        (status, body.as_str()),
        (401, unauthorized),
        "an access token"
    );
    let (status, _, body) = call(Some(foreign)).await;
    assert_eq!(
        (status, body.as_str()),
        (401, unauthorized),
        "another pool's token"
    );
    let mut tampered = id_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, _, body) = call(Some(tampered)).await;
    assert_eq!(
        (status, body.as_str()),
        (401, unauthorized),
        "a tampered signature"
    );
    let payload = id_token.split('.').nth(1).unwrap();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let (status, _, body) = call(Some(none)).await;
    assert_eq!((status, body.as_str()), (401, unauthorized), "alg none");

    let unknown = http
        .get(format!(
            "{}/nowhere",
            local.output("ApiUrl").trim_end_matches('/')
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 403);
    assert_eq!(
        unknown.text().await.unwrap(),
        r#"{"message":"Missing Authentication Token"}"#
    );
}

#[test]
fn a_port_in_use_is_refused_before_anything_is_built() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["local", "--port", &port])
        .env("CARGO", "/nonexistent/cargo-is-never-run")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("port {port} on 127.0.0.1 is in use")),
        "{stderr}"
    );
    assert!(stderr.contains("--port 0"), "{stderr}");
}

/// `cargo xtask smoke` against local mode's API (reading the stack from
/// local mode's moto): every check passes; against a path where the API has
/// nothing, or a port where nothing listens, each check fails saying what
/// it expected and saw, the exit code is 1, and the auth function's last log
/// lines (the first run's calls) are shown.
fn smoke_checks_pass_and_a_failure_shows_the_functions_log_lines(local: &LocalMode) {
    let env = [
        ("AWS_ENDPOINT_URL", local.output("AwsEndpointUrl")),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let api = local.output("ApiUrl");
    let smoke = |api: &str| {
        xtask_with(
            None,
            &Build::Real,
            &[
                "smoke",
                "--stack-name",
                "local-authorizer",
                "--api-url",
                api,
            ],
            &env,
        )
    };
    let run = smoke(api);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("pass  GET /dev/auth without a code starts a sign-in\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("pass  GET /dev/auth/login without a token is refused\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("smoke: all 2 checks passed"),
        "{}",
        run.stdout
    );

    let wrong = format!("{api}/nowhere");
    let mut shown = false;
    for _ in 0..20 {
        let run = smoke(&wrong);
        assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("FAIL  GET /dev/nowhere/auth without a code starts a sign-in"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("wrong:    status 403, not 302"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("expected: 401\n        saw:      403 {\"message\":\"Missing Authentication Token\"}"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr.contains("smoke: 2 of 2 checks failed"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("log lines of the auth function (/local-authorizer/auth):"),
            "{}",
            run.stderr
        );
        // The first run's lines reach moto's log group in the background.
        if run.stderr.contains("INFO  ") && run.stderr.contains("sign-in started") {
            shown = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(
        shown,
        "the auth function's sign-in line among its last log lines"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let run = smoke(&format!("http://127.0.0.1:{port}/dev"));
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("saw:      no answer ("),
        "{}",
        run.stdout
    );
}
