//! The auth handler against a stand-in token endpoint, revocation endpoint
//! and protected route that follow Cognito's documented contract: the start
//! of a sign-in, the callback's checks, and what reaches each endpoint.

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{
    CODE, COOKIE_NAME, NONCE, REFRESH_TOKEN, SIGN_IN_URL, STATE, StandIn, VERIFIER, callback,
    cookie, cookie_attributes, fixture, id_token, id_token_with, invoke, json_event, login_answer,
    query_of, start_event, tokens, tokens_for, with_cookie, with_query,
};
use serde_json::json;
use sha2::Digest;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const TIMEOUT: Duration = Duration::from_secs(5);

/// What a start answered: the authorize URL's parameters and the cookie.
struct Started {
    location: String,
    query: BTreeMap<String, String>,
    set_cookie: String,
}

async fn start(stand_in: &StandIn) -> Started {
    let answer = invoke(&stand_in.app(TIMEOUT), start_event()).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    let location = answer.header("location");
    let pairs = query_of(&location);
    let query: BTreeMap<_, _> = pairs.iter().cloned().collect();
    assert_eq!(
        query.len(),
        pairs.len(),
        "a parameter is repeated: {location}"
    );
    Started {
        location,
        query,
        set_cookie: answer.set_cookie(),
    }
}

fn is_unreserved(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[tokio::test]
async fn the_start_redirects_to_the_authorize_endpoint_with_every_parameter() {
    let stand_in = StandIn::start().await;

    let started = start(&stand_in).await;

    assert!(
        started
            .location
            .starts_with(&format!("{}?", common::AUTHORIZE_URL)),
        "{}",
        started.location
    );
    let q = &started.query;
    let keys: Vec<_> = q.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "client_id",
            "code_challenge",
            "code_challenge_method",
            "nonce",
            "redirect_uri",
            "response_type",
            "scope",
            "state"
        ]
    );
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], common::CLIENT_ID);
    assert_eq!(q["redirect_uri"], common::REDIRECT_URI);
    assert_eq!(q["scope"], "openid email");
    assert_eq!(q["code_challenge_method"], "S256");
    // SHA-256 is 32 bytes: 43 unpadded base64url characters.
    assert_eq!(q["code_challenge"].len(), 43);
    for name in ["state", "nonce"] {
        assert!(q[name].len() >= 43 && is_unreserved(&q[name]), "{name}");
    }
    assert_ne!(q["state"], q["nonce"]);
    assert_eq!(stand_in.calls().await, 0, "a start calls nothing");
}

#[tokio::test]
async fn the_start_sets_a_host_only_secure_http_only_lax_short_lived_cookie() {
    let stand_in = StandIn::start().await;

    let started = start(&stand_in).await;

    let (pair, attributes) = cookie_attributes(&started.set_cookie);
    let (name, value) = pair.split_once('=').unwrap();
    assert_eq!(name, COOKIE_NAME);
    let max_age: u32 = attributes["max-age"].parse().unwrap();
    assert!((60..=900).contains(&max_age), "{max_age} s");
    assert_eq!(
        attributes,
        BTreeMap::from([
            ("httponly".to_owned(), String::new()),
            ("max-age".to_owned(), max_age.to_string()),
            ("path".to_owned(), "/".to_owned()),
            ("samesite".to_owned(), "Lax".to_owned()),
            ("secure".to_owned(), String::new()),
        ]),
        "no Domain (a __Host- cookie has none), nothing else"
    );
    // Opaque and bounded; it carries this sign-in's state and nonce.
    assert!(value.len() <= 200 && is_unreserved(value), "{value}");
    assert!(value.contains(&started.query["state"]));
    assert!(value.contains(&started.query["nonce"]));
    assert!(!value.contains(&started.query["code_challenge"]));

    // Two starts are two sign-ins.
    let again = start(&stand_in).await;
    assert_ne!(again.query["state"], started.query["state"]);
    assert_ne!(again.set_cookie, started.set_cookie);
}

#[tokio::test]
async fn the_challenge_is_the_s256_of_the_verifier_that_reaches_the_token_endpoint() {
    let stand_in = StandIn::start().await;
    let started = start(&stand_in).await;
    let nonce = &started.query["nonce"];
    // Any well-formed request gets tokens for this sign-in's nonce; what
    // arrived is checked below.
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens_for(nonce)))
        .mount(&stand_in.server)
        .await;
    stand_in
        .login_answers_for(
            &id_token(nonce),
            ResponseTemplate::new(200).set_body_json(login_answer()),
        )
        .await;
    stand_in.revoke_answers(ResponseTemplate::new(200)).await;
    let (cookie_pair, _) = cookie_attributes(&started.set_cookie);
    let event = with_cookie(
        with_query(
            fixture("auth.json"),
            &[("code", CODE), ("state", &started.query["state"])],
        ),
        Some(&cookie_pair),
    );

    let answer = invoke(&stand_in.app(TIMEOUT), event).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.clears_the_cookie();
    let requests = stand_in.server.received_requests().await.unwrap();
    let form: BTreeMap<_, _> = common::parse_form(std::str::from_utf8(&requests[0].body).unwrap())
        .into_iter()
        .collect();
    let verifier = &form["code_verifier"];
    // RFC 7636 §4.1: 43 to 128 unreserved characters.
    assert!((43..=128).contains(&verifier.len()) && is_unreserved(verifier));
    assert_eq!(
        common::base64url(&sha2::Sha256::digest(verifier.as_bytes())),
        started.query["code_challenge"]
    );
    assert!(!started.location.contains(verifier.as_str()));
    assert_eq!(form["code"], CODE);
    assert_eq!(form["redirect_uri"], common::REDIRECT_URI);
}

#[tokio::test]
async fn a_valid_callback_is_exchanged_as_documented_and_the_login_answer_relayed_as_json() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;

    let answer = invoke(&stand_in.app(TIMEOUT), json_event()).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.json(), login_answer());
    answer.clears_the_cookie();

    // The mocks only answer a request made exactly as documented; check what arrived too.
    let requests = stand_in.server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    let token = &requests[0];
    assert_eq!(token.method.as_str(), "POST");
    assert_eq!(token.url.path(), "/oauth2/token");
    assert_eq!(token.headers["authorization"], common::BASIC);
    assert_eq!(
        common::parse_form(std::str::from_utf8(&token.body).unwrap()),
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), CODE.to_owned()),
            ("redirect_uri".to_owned(), common::REDIRECT_URI.to_owned()),
            ("client_id".to_owned(), common::CLIENT_ID.to_owned()),
            ("code_verifier".to_owned(), VERIFIER.to_owned()),
        ]
    );
    assert_eq!(
        requests[1].headers["authorization"],
        id_token(NONCE).as_str()
    );
}

#[tokio::test]
async fn the_refresh_token_is_revoked_after_the_protected_route_answered() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;

    let answer = invoke(&stand_in.app(TIMEOUT), json_event()).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        stand_in.paths().await,
        ["/oauth2/token", "/prod/auth/login", "/oauth2/revoke"]
    );
    let requests = stand_in.server.received_requests().await.unwrap();
    let revoke = &requests[2];
    assert_eq!(revoke.method.as_str(), "POST");
    assert_eq!(revoke.headers["authorization"], common::BASIC);
    assert_eq!(
        common::parse_form(std::str::from_utf8(&revoke.body).unwrap()),
        vec![("token".to_owned(), REFRESH_TOKEN.to_owned())]
    );
}

#[tokio::test]
async fn a_failed_revocation_still_shows_the_person_the_answer() {
    for revoke in [
        ResponseTemplate::new(400).set_body_json(json!({"error": "unsupported_token_type"})),
        ResponseTemplate::new(503),
        ResponseTemplate::new(200).set_delay(Duration::from_secs(10)),
    ] {
        let stand_in = StandIn::start().await;
        stand_in
            .token_answers(ResponseTemplate::new(200).set_body_json(tokens()))
            .await;
        stand_in
            .login_answers(ResponseTemplate::new(200).set_body_json(login_answer()))
            .await;
        stand_in.revoke_answers(revoke).await;

        let started = Instant::now();
        let answer = invoke(&stand_in.app(TIMEOUT), json_event()).await;

        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.json(), login_answer());
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn a_callback_without_the_cookie_is_refused_before_any_call() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;
    let app = stand_in.app(TIMEOUT);

    for event in [
        with_cookie(callback(), None),
        with_cookie(callback(), Some("other=1; __Host-signin-x=2")),
        // A cookie that is not one this function makes is no sign-in either.
        with_cookie(callback(), Some(&format!("{COOKIE_NAME}={STATE}"))),
        with_cookie(
            callback(),
            Some(&format!("{COOKIE_NAME}={STATE}.{VERIFIER}")),
        ),
    ] {
        let answer = invoke(&app, common::as_json(event)).await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert!(
            answer.json()["message"]
                .as_str()
                .unwrap()
                .contains("no sign-in in progress"),
            "{}",
            answer.body
        );
        assert_eq!(answer.json()["signInUrl"], SIGN_IN_URL);
        answer.clears_the_cookie();
    }
    assert_eq!(
        stand_in.calls().await,
        0,
        "the token endpoint got a request"
    );
}

#[tokio::test]
async fn the_cookie_is_found_among_others() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;
    let cookies = format!("theme=dark; {}; lang=en", cookie());

    let answer = invoke(
        &stand_in.app(TIMEOUT),
        with_cookie(json_event(), Some(&cookies)),
    )
    .await;

    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_callback_with_another_or_no_state_is_refused_before_any_call() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;
    let app = stand_in.app(TIMEOUT);
    let other_state = format!("{}A", &STATE[..42]);

    for query in [
        vec![("code", CODE), ("state", other_state.as_str())],
        vec![("code", CODE), ("state", &STATE[..42])],
        vec![("code", CODE), ("state", "")],
        vec![("code", CODE)],
        vec![("code", CODE), ("state", NONCE)],
    ] {
        let event = with_cookie(with_query(fixture("auth.json"), &query), Some(&cookie()));
        let answer = invoke(&app, event).await;
        assert_eq!(answer.status, 403, "{query:?}: {}", answer.body);
        assert!(
            answer.body.contains("belongs to another sign-in"),
            "{}",
            answer.body
        );
        assert!(answer.body.contains("Sign in again</a>"));
        answer.clears_the_cookie();
    }
    assert_eq!(
        stand_in.calls().await,
        0,
        "the token endpoint got a request"
    );
}

#[tokio::test]
async fn an_error_from_cognito_is_shown_in_words_with_a_link_to_start_again() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;
    let app = stand_in.app(TIMEOUT);
    let description = "User <b>cancelled</b> \u{202E}the sign-in";

    let event = with_cookie(
        with_query(
            fixture("auth.json"),
            &[
                ("error", "access_denied"),
                ("error_description", description),
                ("state", STATE),
            ],
        ),
        Some(&cookie()),
    );
    let answer = invoke(&app, event).await;

    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.content_type.starts_with("text/html"));
    assert!(
        answer.body.contains("the sign-in was cancelled or refused"),
        "{}",
        answer.body
    );
    // Cognito's words, as escaped text without the bidi override.
    assert!(
        answer
            .body
            .contains("User &lt;b&gt;cancelled&lt;/b&gt; the sign-in"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("<b>"));
    assert!(
        answer
            .body
            .contains(&format!("<a href=\"{SIGN_IN_URL}\">Sign in again</a>")),
        "{}",
        answer.body
    );
    answer.clears_the_cookie();
    assert_eq!(
        stand_in.calls().await,
        0,
        "the token endpoint got a request"
    );
}

#[tokio::test]
async fn an_error_link_made_by_someone_else_does_not_show_their_text() {
    let stand_in = StandIn::start().await;
    let app = stand_in.app(TIMEOUT);
    let text = "Your account is locked, call +1 555 0100";

    for (cookie, state) in [(None, STATE), (Some(cookie()), "forged")] {
        let event = with_cookie(
            with_query(
                fixture("auth.json"),
                &[
                    ("error", "access_denied"),
                    ("error_description", text),
                    ("state", state),
                ],
            ),
            cookie.as_deref(),
        );
        let answer = invoke(&app, event).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert!(answer.body.contains("cancelled or refused"));
        assert!(!answer.body.contains("locked"), "{}", answer.body);
        answer.clears_the_cookie();
    }
    // An error code outside RFC 6749's list is not echoed either.
    let event = with_query(
        fixture("auth.json"),
        &[("error", "<script>alert(1)</script>")],
    );
    let answer = invoke(&app, common::as_json(event)).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(!answer.body.contains("script"), "{}", answer.body);
    assert_eq!(stand_in.calls().await, 0);
}

#[tokio::test]
async fn cognito_being_unavailable_is_502() {
    let stand_in = StandIn::start().await;
    let event = with_query(
        fixture("auth.json"),
        &[("error", "temporarily_unavailable"), ("state", STATE)],
    );
    let answer = invoke(
        &stand_in.app(TIMEOUT),
        with_cookie(common::as_json(event), Some(&cookie())),
    )
    .await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(answer.body.contains("busy"), "{}", answer.body);
}

#[tokio::test]
async fn an_id_token_with_another_or_no_nonce_is_refused_and_its_refresh_token_revoked() {
    for id_token in [
        id_token(STATE),
        id_token(&format!("{}x", &NONCE[..42])),
        id_token_with(json!({ "email": "ann@example.com" })),
        id_token_with(json!({ "email": "ann@example.com", "nonce": 7 })),
        "not-a-jwt".to_owned(),
    ] {
        let stand_in = StandIn::start().await;
        let mut answer_tokens = tokens();
        answer_tokens["id_token"] = json!(id_token);
        stand_in
            .token_answers(ResponseTemplate::new(200).set_body_json(answer_tokens))
            .await;
        stand_in
            .login_answers_for(
                &id_token,
                ResponseTemplate::new(200).set_body_json(login_answer()),
            )
            .await;
        stand_in.revoke_answers(ResponseTemplate::new(200)).await;

        let answer = invoke(&stand_in.app(TIMEOUT), callback()).await;

        assert_eq!(answer.status, 401, "{id_token}: {}", answer.body);
        assert!(
            answer.body.contains("does not belong to the sign-in"),
            "{}",
            answer.body
        );
        answer.clears_the_cookie();
        assert_eq!(
            stand_in.paths().await,
            ["/oauth2/token", "/oauth2/revoke"],
            "the protected route is not called"
        );
    }
}

#[tokio::test]
async fn a_browser_gets_an_html_page_with_the_greeting() {
    let stand_in = StandIn::start().await;
    stand_in.happy().await;

    let answer = invoke(&stand_in.app(TIMEOUT), callback()).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.clears_the_cookie();
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

    let answer = invoke(&stand_in.app(TIMEOUT), callback()).await;

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
    let as_html = invoke(&app, callback()).await;

    assert_eq!(as_json.status, 401);
    as_json.clears_the_cookie();
    as_html.clears_the_cookie();
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
        as_html
            .body
            .contains(&format!("<a href=\"{SIGN_IN_URL}\">")),
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
        answer.clears_the_cookie();
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
    let http = auth::http_client(&function_runtime::TrustRoots::load(), TIMEOUT).unwrap();
    let app = auth::App::new(config, auth::ClientSecret::new(common::SECRET), http);

    let answer = invoke(&app, json_event()).await;

    assert_eq!(answer.status, 502, "{}", answer.body);
    answer.clears_the_cookie();
}

#[test]
fn only_https_or_loopback_http_endpoints_may_receive_the_client_secret() {
    for ok in [
        "https://example-login.auth.us-east-1.amazoncognito.com/oauth2/token",
        "http://localhost:8080/oauth2/token",
        "http://LOCALHOST/oauth2/token",
        "http://127.0.0.1:9000/oauth2/token",
        "http://[::1]:9000/oauth2/token",
    ] {
        assert!(
            auth::check_secret_endpoint(env_contract::auth::TOKEN_URL, ok).is_ok(),
            "{ok}"
        );
    }
    for bad in [
        "http://example-login.auth.us-east-1.amazoncognito.com/oauth2/token",
        "http://127.0.0.2/oauth2/token",
        "http://localhost.example.com/oauth2/token",
        "http://localhost@evil.example/oauth2/token",
        "http://10.0.0.1/oauth2/token",
        "ftp://localhost/oauth2/token",
        "https//missing-colon",
    ] {
        let err = auth::check_secret_endpoint(env_contract::auth::TOKEN_URL, bad).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("TOKEN_URL"), "{bad}: {message}");
        assert!(!message.contains(bad), "the value stays out of the message");
        assert_eq!(err.error_type(), "Config.MalformedVariable");
    }
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
        answer.clears_the_cookie();
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
