//! Events the auth function must refuse with a clear 4xx before anything
//! leaves the function (never a panic, never a call with junk), and the odd
//! requests that start a sign-in instead.

use crate::common;

use std::time::Duration;

use common::{
    SIGN_IN_URL, StandIn, callback_with_code, cookie, fixture, invoke, with_cookie, with_query,
};
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
    answer.clears_the_cookie();
}

/// Invokes with `payload` and checks it started a sign-in without a call.
async fn check_starts(payload: Value) {
    let stand_in = StandIn::start().await;
    let answer = invoke(&stand_in.app(Duration::from_secs(5)), payload.clone()).await;
    assert_eq!(answer.status, 302, "payload {payload} gave {}", answer.body);
    assert!(answer.header("location").starts_with(common::AUTHORIZE_URL));
    assert!(answer.set_cookie().contains("Max-Age=600"));
    assert_eq!(stand_in.calls().await, 0);
}

#[tokio::test]
async fn no_query_string_starts_a_sign_in() {
    check_starts(fixture("auth_no_query.json")).await;
    // An old sign-in's cookie does not matter: a start replaces it.
    check_starts(with_cookie(fixture("auth_no_query.json"), Some(&cookie()))).await;
}

#[tokio::test]
async fn unrelated_query_parameters_alone_start_a_sign_in() {
    check_starts(with_query(
        fixture("auth.json"),
        &[("utm_source", "mail"), ("lang", "<en>")],
    ))
    .await;
}

#[tokio::test]
async fn a_state_without_a_code_is_400_with_a_sign_in_link() {
    check(callback_with_code(None), 400, "no authorization code").await;
    check(callback_with_code(None), 400, "Sign in again</a>").await;
}

#[tokio::test]
async fn an_empty_code_is_400() {
    check(callback_with_code(Some("")), 400, "empty").await;
}

#[tokio::test]
async fn a_10_kb_code_is_400() {
    check(
        callback_with_code(Some(&"a".repeat(10 * 1024))),
        400,
        "too long",
    )
    .await;
}

#[tokio::test]
async fn a_10_kb_state_or_cookie_is_refused() {
    let long = "a".repeat(10 * 1024);
    let event = with_cookie(
        with_query(
            fixture("auth.json"),
            &[("code", common::CODE), ("state", &long)],
        ),
        Some(&cookie()),
    );
    check(event, 403, "another sign-in").await;
    let event = with_cookie(
        callback_with_code(Some(common::CODE)),
        Some(&format!("{}={long}", common::COOKIE_NAME)),
    );
    check(event, 400, "no sign-in in progress").await;
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
        check(callback_with_code(Some(code)), 400, "unexpected characters").await;
    }
}

#[tokio::test]
async fn missing_headers_still_get_a_json_answer() {
    // A code and no headers at all: no cookie, so no sign-in to complete.
    let stand_in = StandIn::start().await;
    let answer = invoke(
        &stand_in.app(Duration::from_secs(5)),
        fixture("auth_no_headers.json"),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.json()["signInUrl"], SIGN_IN_URL);
    answer.clears_the_cookie();
}

#[tokio::test]
async fn no_header_but_the_cookie_does_not_stop_a_valid_sign_in() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;
    let event = with_query(
        with_cookie(fixture("auth_no_headers.json"), Some(&cookie())),
        &[("code", common::CODE), ("state", common::STATE)],
    );
    let answer = invoke(&stand_in.app(Duration::from_secs(5)), event).await;
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
