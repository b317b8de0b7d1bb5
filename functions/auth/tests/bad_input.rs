//! Callback events the auth function must refuse with a clear 4xx before
//! anything leaves the function: never a panic, never a call with junk.

mod common;

use std::time::Duration;

use common::{SIGN_IN_URL, StandIn, event_with_code, fixture, invoke};
use serde_json::{Value, json};

/// Invokes with `payload` and checks the refusal and that the stand-in
/// (token endpoint and protected route) saw no request.
async fn check(payload: Value, status: u16, message_part: &str) {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;
    let app = stand_in.app(Duration::from_secs(5));

    let answer = invoke(&app, payload.clone()).await;

    assert_eq!(
        answer.status, status,
        "payload {payload} gave {}",
        answer.body
    );
    assert!(
        answer.body.contains(message_part),
        "{} lacks {message_part:?}",
        answer.body
    );
    assert_eq!(
        stand_in.calls().await,
        0,
        "nothing may be sent for {payload}"
    );
}

#[tokio::test]
async fn no_query_string_is_400_with_a_sign_in_link() {
    check(fixture("auth_no_query.json"), 400, "no authorization code").await;
    check(event_with_code(None), 400, "Sign in again</a>").await;
}

#[tokio::test]
async fn an_empty_code_is_400() {
    check(event_with_code(Some("")), 400, "empty").await;
}

#[tokio::test]
async fn a_10_kb_code_is_400() {
    check(
        event_with_code(Some(&"a".repeat(10 * 1024))),
        400,
        "too long",
    )
    .await;
}

#[tokio::test]
async fn codes_with_characters_cognito_never_issues_are_400() {
    for code in [
        "abc def",
        "abc&x=1",
        "<script>",
        "code\r\nX-Injected: 1",
        "c\u{f6}de",
        "%00",
    ] {
        check(event_with_code(Some(code)), 400, "unexpected characters").await;
    }
}

#[tokio::test]
async fn other_query_parameters_without_a_code_are_400() {
    let mut event = fixture("auth.json");
    event["queryStringParameters"] = json!({"error": "access_denied"});
    event["multiValueQueryStringParameters"] = json!({"error": ["access_denied"]});
    check(event, 400, "no authorization code").await;
}

#[tokio::test]
async fn missing_headers_still_get_a_json_answer() {
    let mut event = fixture("auth_no_headers.json");
    event["queryStringParameters"] = Value::Null;
    let stand_in = StandIn::start().await;
    let answer = invoke(&stand_in.app(Duration::from_secs(5)), event).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.json()["signInUrl"], SIGN_IN_URL);
}

#[tokio::test]
async fn missing_headers_do_not_stop_a_valid_sign_in() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;
    let answer = invoke(
        &stand_in.app(Duration::from_secs(5)),
        fixture("auth_no_headers.json"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type, "application/json");
}

#[tokio::test]
async fn payloads_that_are_not_api_gateway_events_are_400() {
    for payload in [
        json!(null),
        json!([]),
        json!("GET /auth?code=x"),
        json!({}),
        json!({"code": "x"}),
    ] {
        check(payload, 400, "not an API Gateway proxy event").await;
    }
    let mut odd = fixture("auth.json");
    odd["queryStringParameters"] = json!("code=abc");
    check(odd, 400, "not an API Gateway proxy event").await;
    let mut odd = fixture("auth.json");
    odd["headers"] = json!(["Accept: text/html"]);
    check(odd, 400, "not an API Gateway proxy event").await;
}
