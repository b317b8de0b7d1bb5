//! Events the login function must refuse with a clear 4xx, never a panic or
//! a 500. No AWS is reachable here: refusals happen before any call.

use crate::common;

use common::{event_for, fixture, invoke};
use serde_json::{Value, json};

async fn app() -> login::App {
    // Port 9 (discard) on loopback: any AWS call would fail, so a 4xx proves
    // the request was refused before reaching AWS.
    let sdk = common::sdk_config("http://127.0.0.1:9").await;
    login::App::new(
        login::Config {
            table_name: "t".to_owned(),
            bucket_name: "b".to_owned(),
            greetings_path: "/s/greetings/".to_owned(),
        },
        &sdk,
    )
}

async fn check(payload: Value, status: u16, message_part: &str) {
    let (got, body) = invoke(&app().await, payload.clone()).await;
    assert_eq!(got, status, "payload {payload} gave {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(message_part),
        "{message:?} lacks {message_part:?}"
    );
    assert_eq!(body["requestId"], "req-0001");
}

fn with_claims(claims: Value) -> Value {
    let mut event = fixture("login.json");
    event["requestContext"]["authorizer"]["claims"] = claims;
    event
}

#[tokio::test]
async fn no_authorizer_is_401() {
    check(fixture("login_no_claims.json"), 401, "sign in").await;
}

#[tokio::test]
async fn claims_without_a_name_are_401() {
    check(with_claims(json!({})), 401, "sign in").await;
    check(with_claims(json!({"email": ""})), 401, "sign in").await;
    check(with_claims(json!({"email": "   "})), 401, "sign in").await;
    check(
        with_claims(json!({"sub": "x", "token_use": "id"})),
        401,
        "sign in",
    )
    .await;
}

#[tokio::test]
async fn claims_of_the_wrong_shape_are_401() {
    check(with_claims(json!("email=ann@example.com")), 401, "sign in").await;
    check(with_claims(json!(["ann@example.com"])), 401, "sign in").await;
    check(with_claims(json!({"email": 42})), 401, "sign in").await;
    check(
        with_claims(json!({"email": {"value": "ann@example.com"}})),
        401,
        "sign in",
    )
    .await;
    check(with_claims(Value::Null), 401, "sign in").await;
}

#[tokio::test]
async fn payloads_that_are_not_api_gateway_events_are_400() {
    for payload in [
        json!(null),
        json!([]),
        json!("GET /auth/login"),
        json!(42),
        json!({}),
    ] {
        check(payload, 400, "not an API Gateway proxy event").await;
    }
    let mut no_method = fixture("login.json");
    no_method.as_object_mut().unwrap().remove("httpMethod");
    check(no_method, 400, "not an API Gateway proxy event").await;
}

#[tokio::test]
async fn names_s3_cannot_take_are_400() {
    check(event_for("ann\u{0}@example.com"), 400, "control characters").await;
    check(event_for("ann\n@example.com"), 400, "control characters").await;
    check(event_for(".."), 400, "object keys").await;
    check(
        event_for(&format!("{}@example.com", "é".repeat(600))),
        400,
        "1024 bytes",
    )
    .await;
}

#[tokio::test]
async fn an_unverified_email_is_403_before_any_aws_call() {
    let event = common::with_claim(fixture("login.json"), "email_verified", Some("false"));
    check(event, 403, "not verified").await;
}

#[tokio::test]
async fn a_bidi_override_in_the_name_is_400_before_any_aws_call() {
    check(event_for("\u{202E}moc.elpmaxe@nna"), 400, "invisible").await;
}
