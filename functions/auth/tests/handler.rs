//! The auth handler against a stand-in token endpoint and protected route
//! that follow Cognito's documented contract.

mod common;

use std::time::{Duration, Instant};

use common::{
    CODE, ID_TOKEN, SIGN_IN_URL, StandIn, fixture, invoke, json_event, login_answer, tokens,
};
use serde_json::json;
use wiremock::ResponseTemplate;

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_valid_code_is_exchanged_as_documented_and_the_login_answer_relayed_as_json() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;

    let answer = invoke(&stand_in.app(TIMEOUT), json_event()).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.json(), login_answer());

    // The mocks only answer a request made exactly as documented; check what arrived too.
    let requests = stand_in.server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let token = &requests[0];
    assert_eq!(token.method.as_str(), "POST");
    assert_eq!(token.headers["authorization"], common::BASIC);
    assert_eq!(
        common::parse_form(std::str::from_utf8(&token.body).unwrap()),
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), CODE.to_owned()),
            ("redirect_uri".to_owned(), common::REDIRECT_URI.to_owned()),
            ("client_id".to_owned(), common::CLIENT_ID.to_owned()),
        ]
    );
    assert_eq!(requests[1].headers["authorization"], ID_TOKEN);
}

#[tokio::test]
async fn a_browser_gets_an_html_page_with_the_greeting() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;

    let answer = invoke(&stand_in.app(TIMEOUT), fixture("auth.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.content_type.starts_with("text/html"));
    assert!(
        answer.body.contains("<h1>Shalom ann@example.com</h1>"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn html_from_the_login_answer_is_escaped() {
    let stand_in = StandIn::start().await;
    stand_in
        .token_answers(ResponseTemplate::new(200).set_body_json(tokens()))
        .await;
    stand_in
        .login_answers(ResponseTemplate::new(200).set_body_json(json!({
            "message": "Hi <script>alert(1)</script>@example.com",
            "username": "<script>alert(1)</script>@example.com",
            "timestamp": "2026-11-25T18:20:00.123Z"
        })))
        .await;

    let answer = invoke(&stand_in.app(TIMEOUT), fixture("auth.json")).await;

    assert!(!answer.body.contains("<script>"), "{}", answer.body);
    assert!(answer.body.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn a_used_or_expired_code_is_401_with_a_sign_in_link() {
    let stand_in = StandIn::start().await;
    stand_in
        .token_answers(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .await;

    let app = stand_in.app(TIMEOUT);
    let as_json = invoke(&app, json_event()).await;
    let as_html = invoke(&app, fixture("auth.json")).await;

    assert_eq!(as_json.status, 401);
    assert!(
        as_json.json()["message"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
    assert_eq!(as_json.json()["signInUrl"], SIGN_IN_URL);
    assert_eq!(as_html.status, 401);
    assert!(as_html.body.contains("Sign in again</a>"));
    assert!(
        as_html.body.contains(&SIGN_IN_URL.replace('&', "&amp;")),
        "{}",
        as_html.body
    );
}

#[tokio::test]
async fn other_token_endpoint_refusals_are_502() {
    for (status, body) in [
        (400, json!({"error": "invalid_client"})),
        (401, json!({"error": "invalid_client"})),
        (400, json!({"error": "unauthorized_client"})),
        (500, json!({"message": "internal"})),
        (503, json!(null)),
    ] {
        let stand_in = StandIn::start().await;
        stand_in
            .token_answers(ResponseTemplate::new(status).set_body_json(body.clone()))
            .await;

        let answer = invoke(&stand_in.app(TIMEOUT), json_event()).await;

        assert_eq!(answer.status, 502, "{status} {body} gave {}", answer.body);
        assert_eq!(answer.json()["signInUrl"], SIGN_IN_URL);
    }
}

#[tokio::test]
async fn a_token_endpoint_hanging_past_the_timeout_is_502_in_time() {
    let stand_in = StandIn::start().await;
    stand_in
        .token_answers(
            ResponseTemplate::new(200)
                .set_body_json(tokens())
                .set_delay(Duration::from_secs(10)),
        )
        .await;

    let started = Instant::now();
    let answer = invoke(&stand_in.app(Duration::from_millis(300)), json_event()).await;

    assert_eq!(answer.status, 502);
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("timed out")
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn malformed_token_answers_are_502() {
    for body in [
        ResponseTemplate::new(200).set_body_string("{\"id_token\": "),
        ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"),
        ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": "a", "token_type": "Bearer"})),
        ResponseTemplate::new(200).set_body_json(json!({"id_token": ""})),
        ResponseTemplate::new(200).set_body_json(json!({"id_token": 42})),
    ] {
        let stand_in = StandIn::start().await;
        stand_in.token_answers(body).await;

        let answer = invoke(&stand_in.app(TIMEOUT), json_event()).await;

        assert_eq!(answer.status, 502, "{}", answer.body);
        assert!(
            answer.json()["message"]
                .as_str()
                .unwrap()
                .contains("malformed answer")
        );
        assert_eq!(
            stand_in.calls().await,
            1,
            "the protected route is not called"
        );
    }
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_502() {
    let stand_in = StandIn::start().await;
    let mut config = stand_in.config();
    config.token_url = "http://127.0.0.1:9/oauth2/token".to_owned();
    let http = auth::http_client(&support::TrustRoots::load(), TIMEOUT).unwrap();
    let app = auth::App::new(config, auth::ClientSecret::new(common::SECRET), http);

    let answer = invoke(&app, json_event()).await;

    assert_eq!(answer.status, 502, "{}", answer.body);
}

#[tokio::test]
async fn the_protected_routes_refusals_are_reported_as_such() {
    for status in [401, 403] {
        let stand_in = StandIn::start().await;
        stand_in
            .token_answers(ResponseTemplate::new(200).set_body_json(tokens()))
            .await;
        stand_in
            .login_answers(
                ResponseTemplate::new(status).set_body_json(json!({"message": "Unauthorized"})),
            )
            .await;

        let answer = invoke(&stand_in.app(TIMEOUT), json_event()).await;

        assert_eq!(answer.status, status, "{}", answer.body);
        assert_eq!(answer.json()["signInUrl"], SIGN_IN_URL);
    }
}

#[tokio::test]
async fn the_protected_routes_failures_are_502() {
    for response in [
        ResponseTemplate::new(500).set_body_json(json!({"message": "Internal server error"})),
        ResponseTemplate::new(502).set_body_string("Bad Gateway"),
        ResponseTemplate::new(200).set_body_string("not json"),
        ResponseTemplate::new(200)
            .set_body_json(login_answer())
            .set_delay(Duration::from_secs(10)),
    ] {
        let stand_in = StandIn::start().await;
        stand_in
            .token_answers(ResponseTemplate::new(200).set_body_json(tokens()))
            .await;
        stand_in.login_answers(response).await;

        let answer = invoke(&stand_in.app(Duration::from_millis(300)), json_event()).await;

        assert_eq!(answer.status, 502, "{}", answer.body);
    }
}
