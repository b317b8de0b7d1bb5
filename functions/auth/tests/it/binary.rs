//! The real `auth` binary under a stand-in Runtime API, with the environment
//! the stack gives it: the app client's secret comes from moto's Cognito, the
//! token and revocation endpoints and the protected route from the wiremock
//! stand-in. A sign-in is started by one process and completed by another,
//! as Lambda may do: everything in between lives in the browser's cookie.

#![allow(
    clippy::unwrap_used,
    reason = "the setup helpers below run outside #[test] fns; a failed setup should stop the test loudly"
)]

use crate::common;

use std::sync::OnceLock;
use std::time::Duration;

use common::{CODE, StandIn, json_event, login_answer};
use sha2::Digest;
use testkit::runtime_api::{ErrorReport, RuntimeApi};

fn moto() -> &'static testkit::Moto {
    static MOTO: OnceLock<testkit::Moto> = OnceLock::new();
    MOTO.get_or_init(|| testkit::Moto::start().unwrap())
}

async fn cognito() -> aws_sdk_cognitoidentityprovider::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto().endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cognitoidentityprovider::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_cognitoidentityprovider::Client::new(&sdk)
}

/// A pool and an app client in moto; returns (pool id, client id, secret).
async fn pool_and_client(generate_secret: bool) -> (String, String, Option<String>) {
    let cognito = cognito().await;
    let pool = cognito
        .create_user_pool()
        .pool_name("logins")
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap().to_owned();
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .generate_secret(generate_secret)
        .send()
        .await
        .unwrap();
    let client = client.user_pool_client().unwrap();
    (
        pool_id,
        client.client_id().unwrap().to_owned(),
        client.client_secret().map(str::to_owned),
    )
}

fn stack_env(stand_in: &StandIn, pool_id: &str, client_id: &str) -> Vec<(&'static str, String)> {
    use env_contract::auth::*;
    let mut env = moto().aws_env();
    env.extend([
        (AUTHORIZE_URL, common::AUTHORIZE_URL.to_owned()),
        (TOKEN_URL, stand_in.token_url()),
        (REVOKE_URL, stand_in.revoke_url()),
        (CLIENT_ID, client_id.to_owned()),
        (USER_POOL_ID, pool_id.to_owned()),
        (REDIRECT_URI, common::REDIRECT_URI.to_owned()),
        (LOGIN_URL, stand_in.login_url()),
        (SIGN_IN_URL, common::SIGN_IN_URL.to_owned()),
    ]);
    env
}

#[tokio::test]
async fn fetch_client_secret_reads_the_secret_cognito_generated() {
    let (pool_id, client_id, secret) = pool_and_client(true).await;
    let stand_in = StandIn::start().await;
    let mut config = stand_in.config();
    config.user_pool_id = pool_id;
    config.client_id = client_id;

    let fetched = auth::fetch_client_secret(&cognito().await, &config)
        .await
        .unwrap();

    assert_eq!(Some(fetched.expose()), secret.as_deref());
    assert_eq!(format!("{fetched:?}"), "ClientSecret(<redacted>)");
}

#[tokio::test]
async fn a_client_without_a_secret_fails_the_cold_start_saying_so() {
    let (pool_id, client_id, _) = pool_and_client(false).await;
    let stand_in = StandIn::start().await;
    let mut config = stand_in.config();
    config.user_pool_id = pool_id;
    config.client_id = client_id;

    let err = auth::fetch_client_secret(&cognito().await, &config)
        .await
        .unwrap_err();

    assert!(err.to_string().contains("has no secret"), "{err}");
}

#[tokio::test]
async fn the_binary_signs_a_person_in_end_to_end_without_logging_secrets() {
    let (pool_id, client_id, secret) = pool_and_client(true).await;
    let secret = secret.unwrap();
    let stand_in = StandIn::start().await;
    // The stand-in checks the Basic header against the secret moto generated.
    let basic = {
        // Base64 by hand: the test must not borrow the code under test's encoder.
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let input = format!("{client_id}:{secret}").into_bytes();
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        format!("Basic {out}")
    };
    let env = stack_env(&stand_in, &pool_id, &client_id);

    // The start, in one process.
    let api = RuntimeApi::start().unwrap();
    let id = api.push_event(common::as_json(common::start_event()));
    let run_env = env.clone();
    let start = tokio::task::spawn_blocking(move || {
        api.run(env!("CARGO_BIN_EXE_auth"), run_env, Duration::from_secs(30))
    })
    .await
    .unwrap()
    .unwrap();
    assert!(start.init_error.is_none(), "{start:?}");
    let response = start
        .response(&id)
        .unwrap_or_else(|| panic!("no response: {start:?}"));
    assert_eq!(response["statusCode"], 302, "{response}");
    let location = response["headers"]["location"].as_str().unwrap();
    let query: std::collections::BTreeMap<_, _> = common::query_of(location).into_iter().collect();
    assert_eq!(query["client_id"], client_id);
    let set_cookie = response["headers"]["set-cookie"].as_str().unwrap();
    let (cookie, _) = common::cookie_attributes(set_cookie);

    // Cognito would now show the hosted UI and redirect back; its token
    // endpoint answers a request with the Basic header moto's secret makes
    // and a verifier whose S256 is the challenge the start sent.
    use wiremock::matchers::{header, method, path};
    wiremock::Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(header("authorization", basic.as_str()))
        .and(VerifierFor(query["code_challenge"].clone()))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(common::tokens_for(&query["nonce"])),
        )
        .mount(&stand_in.server)
        .await;
    let id_token = common::id_token(&query["nonce"]);
    stand_in
        .login_answers_for(
            &id_token,
            wiremock::ResponseTemplate::new(200).set_body_json(login_answer()),
        )
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path("/oauth2/revoke"))
        .and(header("authorization", basic.as_str()))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&stand_in.server)
        .await;

    // The callback, in another process.
    let callback = common::with_cookie(
        common::with_query(
            json_event(),
            &[("code", CODE), ("state", query["state"].as_str())],
        ),
        Some(&cookie),
    );
    let api = RuntimeApi::start().unwrap();
    let id = api.push_event(callback);
    let run = tokio::task::spawn_blocking(move || {
        api.run(env!("CARGO_BIN_EXE_auth"), env, Duration::from_secs(30))
    })
    .await
    .unwrap()
    .unwrap();

    assert!(run.init_error.is_none(), "{run:?}");
    let response = run
        .response(&id)
        .unwrap_or_else(|| panic!("no response: {run:?}"));
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, login_answer());
    assert_eq!(
        stand_in.paths().await,
        ["/oauth2/token", "/prod/auth/login", "/oauth2/revoke"]
    );
    let requests = stand_in.server.received_requests().await.unwrap();
    let form: std::collections::BTreeMap<_, _> =
        common::parse_form(std::str::from_utf8(&requests[0].body).unwrap())
            .into_iter()
            .collect();
    assert_eq!(form["client_id"], client_id);
    assert_eq!(form["code"], CODE);
    let logs = format!(
        "{}{}{}{}",
        start.stdout, start.stderr, run.stdout, run.stderr
    );
    assert!(!logs.is_empty());
    let cookie_value = cookie.split_once('=').unwrap().1;
    for secret_text in [
        CODE,
        id_token.as_str(),
        common::REFRESH_TOKEN,
        secret.as_str(),
        query["state"].as_str(),
        query["nonce"].as_str(),
        query["code_challenge"].as_str(),
        form["code_verifier"].as_str(),
        cookie_value,
    ] {
        assert!(
            !logs.contains(secret_text),
            "logs leak {secret_text:?}: {logs}"
        );
    }
}

/// Matches a token request whose `code_verifier` has `challenge` as its
/// S256 (BASE64URL(SHA-256(verifier))).
struct VerifierFor(String);

impl wiremock::Match for VerifierFor {
    fn matches(&self, request: &wiremock::Request) -> bool {
        let Ok(body) = std::str::from_utf8(&request.body) else {
            return false;
        };
        common::parse_form(body)
            .iter()
            .find(|(name, _)| name == "code_verifier")
            .is_some_and(|(_, verifier)| {
                common::base64url(&sha2::Sha256::digest(verifier.as_bytes())) == self.0
            })
    }
}

/// Runs the binary with every variable of the contract set to a valid URL
/// except `name`, which is `value` or, with `None`, left out; with one
/// event queued. Asserts that the cold start failed, reported an
/// `/init/error` naming `name`, exited non-zero and served nothing, and
/// returns the report.
fn failed_cold_start(name: &str, value: Option<&str>) -> ErrorReport {
    let api = RuntimeApi::start().unwrap();
    let id = api.push_event(json_event());
    let env: Vec<_> = env_contract::auth::ALL
        .iter()
        .filter_map(|var| match (*var == name, value) {
            (false, _) => Some((*var, "https://example.com/x".to_owned())),
            (true, value) => value.map(|value| (*var, value.to_owned())),
        })
        .chain(moto().aws_env())
        .collect();

    let run = api
        .run(env!("CARGO_BIN_EXE_auth"), env, Duration::from_secs(30))
        .unwrap();

    let report = run
        .init_error
        .clone()
        .unwrap_or_else(|| panic!("no /init/error: {run:?}"));
    assert!(report.error_message.contains(name), "{report:?}");
    let exit = run.exit.unwrap_or_else(|| panic!("still running: {run:?}"));
    assert!(!exit.success(), "{run:?}");
    assert!(run.outcome(&id).is_none(), "no event is served");
    report
}

#[test]
fn an_http_token_url_fails_the_cold_start_naming_it() {
    let report = failed_cold_start(
        env_contract::auth::TOKEN_URL,
        Some("http://example-login.auth.us-east-1.amazoncognito.com/oauth2/token"),
    );
    assert!(report.error_message.contains("https://"), "{report:?}");
    assert_eq!(report.error_type, "Config.MalformedVariable");
}

#[test]
fn a_cold_start_without_the_token_url_reports_init_error_naming_it() {
    let report = failed_cold_start(env_contract::auth::TOKEN_URL, None);
    assert_eq!(report.error_type, "Config.MissingVariable");
}

#[test]
fn a_login_url_without_a_scheme_fails_the_cold_start_naming_it() {
    let report = failed_cold_start(
        env_contract::auth::LOGIN_URL,
        Some("abc123.execute-api.us-east-1.amazonaws.com/prod/auth/login"),
    );
    assert_eq!(report.error_type, "Config.MalformedVariable");
}

#[test]
fn an_unknown_app_client_fails_the_cold_start() {
    let api = RuntimeApi::start().unwrap();
    let env: Vec<_> = env_contract::auth::ALL
        .iter()
        .map(|name| (*name, "https://example.com/x".to_owned()))
        .map(|(name, value)| match name {
            n if n == env_contract::auth::USER_POOL_ID => (n, "us-east-1_Nope".to_owned()),
            n if n == env_contract::auth::CLIENT_ID => (n, "nope".to_owned()),
            _ => (name, value),
        })
        .chain(moto().aws_env())
        .collect();

    let run = api
        .run(env!("CARGO_BIN_EXE_auth"), env, Duration::from_secs(30))
        .unwrap();

    let report = run.init_error.unwrap_or_else(|| panic!("no /init/error"));
    assert!(
        report.error_message.contains("DescribeUserPoolClient"),
        "{report:?}"
    );
    assert!(!run.exit.unwrap().success());
}
