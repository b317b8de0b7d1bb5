//! Helpers the auth tests share: a stand-in for the Cognito token and
//! revocation endpoints and the protected route (wiremock, following
//! Cognito's documented contract), the app wired to it, a sign-in cookie
//! made by hand, and the fixtures under `tests/data/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed setup should stop the test loudly"
)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub(crate) const CLIENT_ID: &str = "1example23456789client";
/// With `+`, `/` and `=` so a wrong Basic encoding would show.
pub(crate) const SECRET: &str = "s3cr3t+/value=";
/// `Basic base64("1example23456789client:s3cr3t+/value=")`, computed outside Rust.
pub(crate) const BASIC: &str = "Basic MWV4YW1wbGUyMzQ1Njc4OWNsaWVudDpzM2NyM3QrL3ZhbHVlPQ==";
pub(crate) const CODE: &str = "9f8e7d6c-5b4a-4321-8fed-cba987654321";
pub(crate) const REDIRECT_URI: &str =
    "https://abc123.execute-api.us-east-1.amazonaws.com/prod/auth";
/// Where a sign-in starts: the API's `/auth` (the same URL as the callback).
pub(crate) const SIGN_IN_URL: &str = REDIRECT_URI;
pub(crate) const AUTHORIZE_URL: &str =
    "https://example-login.auth.us-east-1.amazoncognito.com/oauth2/authorize";
pub(crate) const COOKIE_NAME: &str = "__Host-signin";
/// A sign-in in flight, made by hand in the cookie's documented shape
/// (`state.verifier.nonce`, 43 base64url characters each). The verifier is
/// RFC 7636 Appendix B's.
pub(crate) const STATE: &str = "c3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3Q";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const NONCE: &str = "bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm8";
pub(crate) const REFRESH_TOKEN: &str = "eyJjdHkiOiJKV1QifQ.refresh.token";

/// The `Cookie` header a browser sends after the start.
pub(crate) fn cookie() -> String {
    format!("{COOKIE_NAME}={STATE}.{VERIFIER}.{NONCE}")
}

/// Unpadded base64url (RFC 4648 section 5), the encoding of JWT parts and
/// of the PKCE challenge.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An ID token whose payload carries `claims` (the signature is not checked
/// by the function: the token comes straight from the token endpoint).
pub(crate) fn id_token_with(claims: Value) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        base64url(br#"{"kid":"k1","alg":"RS256"}"#),
        base64url(claims.to_string().as_bytes())
    )
}

/// An ID token for `nonce`.
pub(crate) fn id_token(nonce: &str) -> String {
    id_token_with(json!({ "email": "ann@example.com", "nonce": nonce }))
}

/// Matches a form body with exactly these fields (no more, no fewer, no repeats).
pub(crate) struct FormIs(pub BTreeMap<String, String>);

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let Ok(body) = std::str::from_utf8(&request.body) else {
            return false;
        };
        let pairs = parse_form(body);
        let fields: BTreeMap<_, _> = pairs.iter().cloned().collect();
        fields.len() == pairs.len() && fields == self.0
    }
}

/// The fields Cognito's token endpoint documents for the code grant with PKCE.
pub(crate) fn expected_form(code: &str, verifier: &str) -> FormIs {
    FormIs(BTreeMap::from([
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), code.to_owned()),
        ("redirect_uri".to_owned(), REDIRECT_URI.to_owned()),
        ("client_id".to_owned(), CLIENT_ID.to_owned()),
        ("code_verifier".to_owned(), verifier.to_owned()),
    ]))
}

/// `application/x-www-form-urlencoded` decoding, by hand: tests should not
/// trust the same library that encoded it.
pub(crate) fn parse_form(body: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The token endpoint's success answer, as Cognito documents it, with an ID
/// token for `nonce`.
pub(crate) fn tokens_for(nonce: &str) -> Value {
    json!({
        "access_token": "eyJhY2Nlc3MiOnRydWV9.e30.c2ln",
        "id_token": id_token(nonce),
        "refresh_token": REFRESH_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300
    })
}

/// The success answer for the hand-made sign-in.
pub(crate) fn tokens() -> Value {
    tokens_for(NONCE)
}

/// What the protected route answers.
pub(crate) fn login_answer() -> Value {
    json!({
        "message": "Shalom ann@example.com",
        "username": "ann@example.com",
        "timestamp": "2026-11-25T18:20:00.123Z"
    })
}

/// The stand-in: `POST /oauth2/token`, `POST /oauth2/revoke` and `GET /prod/auth/login`.
pub(crate) struct StandIn {
    pub(crate) server: MockServer,
}

impl StandIn {
    pub(crate) async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    pub(crate) fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.server.uri())
    }

    pub(crate) fn revoke_url(&self) -> String {
        format!("{}/oauth2/revoke", self.server.uri())
    }

    pub(crate) fn login_url(&self) -> String {
        format!("{}/prod/auth/login", self.server.uri())
    }

    /// The token endpoint answers `response` only to a request made exactly
    /// as documented (Basic header, form content type, the five fields with
    /// the hand-made sign-in's verifier).
    pub(crate) async fn token_answers(&self, response: ResponseTemplate) {
        self.token_answers_for(VERIFIER, response).await;
    }

    /// Likewise, for a sign-in with another verifier.
    pub(crate) async fn token_answers_for(&self, verifier: &str, response: ResponseTemplate) {
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .and(header("authorization", BASIC))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(expected_form(CODE, verifier))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// The revocation endpoint answers 200 (as Cognito does, with an empty
    /// body) to a request made as documented for a client with a secret:
    /// Basic header and only `token` in the form.
    pub(crate) async fn revoke_answers(&self, response: ResponseTemplate) {
        Mock::given(method("POST"))
            .and(path("/oauth2/revoke"))
            .and(header("authorization", BASIC))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(FormIs(BTreeMap::from([(
                "token".to_owned(),
                REFRESH_TOKEN.to_owned(),
            )])))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// The protected route answers `response` only when given `id_token`.
    pub(crate) async fn login_answers_for(&self, id_token: &str, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path("/prod/auth/login"))
            .and(header("authorization", id_token))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// The protected route answers `response` to the hand-made sign-in's ID token.
    pub(crate) async fn login_answers(&self, response: ResponseTemplate) {
        self.login_answers_for(&id_token(NONCE), response).await;
    }

    /// Every endpoint succeeds for the hand-made sign-in.
    pub(crate) async fn happy(&self) {
        self.token_answers(ResponseTemplate::new(200).set_body_json(tokens()))
            .await;
        self.login_answers(ResponseTemplate::new(200).set_body_json(login_answer()))
            .await;
        self.revoke_answers(ResponseTemplate::new(200)).await;
    }

    /// How many requests reached the stand-in.
    pub(crate) async fn calls(&self) -> usize {
        self.server
            .received_requests()
            .await
            .map(|r| r.len())
            .unwrap_or(0)
    }

    /// The paths the stand-in was asked for, in order.
    pub(crate) async fn paths(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect()
    }

    pub(crate) fn config(&self) -> auth::Config {
        auth::Config {
            authorize_url: AUTHORIZE_URL.to_owned(),
            token_url: self.token_url(),
            revoke_url: self.revoke_url(),
            client_id: CLIENT_ID.to_owned(),
            user_pool_id: "us-east-1_Example".to_owned(),
            redirect_uri: REDIRECT_URI.to_owned(),
            login_url: self.login_url(),
            sign_in_url: SIGN_IN_URL.to_owned(),
        }
    }

    pub(crate) fn app(&self, timeout: Duration) -> auth::App {
        let http = auth::http_client(&function_runtime::TrustRoots::load(), timeout).unwrap();
        auth::App::new(self.config(), auth::ClientSecret::new(SECRET), http)
    }
}

/// A fixture from `tests/data/`.
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The event with exactly these query parameters (empty: no query string at all).
pub(crate) fn with_query(mut event: Value, query: &[(&str, &str)]) -> Value {
    if query.is_empty() {
        event["queryStringParameters"] = Value::Null;
        event["multiValueQueryStringParameters"] = Value::Null;
    } else {
        let single: serde_json::Map<_, _> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let multi: serde_json::Map<_, _> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!([v])))
            .collect();
        event["queryStringParameters"] = Value::Object(single);
        event["multiValueQueryStringParameters"] = Value::Object(multi);
    }
    event
}

/// The event with this `Cookie` header (`None`: none at all).
pub(crate) fn with_cookie(mut event: Value, cookie: Option<&str>) -> Value {
    match cookie {
        Some(cookie) => {
            event["headers"]["Cookie"] = json!(cookie);
            event["multiValueHeaders"]["Cookie"] = json!([cookie]);
        }
        None => {
            if let Some(headers) = event["headers"].as_object_mut() {
                headers.remove("Cookie");
            }
            if let Some(headers) = event["multiValueHeaders"].as_object_mut() {
                headers.remove("Cookie");
            }
        }
    }
    event
}

/// A browser's callback for the hand-made sign-in: its cookie, its `state`
/// and `code` (`None`: no `code` parameter).
pub(crate) fn callback_with_code(code: Option<&str>) -> Value {
    let mut query = vec![("state", STATE)];
    query.extend(code.map(|code| ("code", code)));
    with_cookie(with_query(fixture("auth.json"), &query), Some(&cookie()))
}

/// A browser's callback for the hand-made sign-in, with [`CODE`].
pub(crate) fn callback() -> Value {
    callback_with_code(Some(CODE))
}

/// The event as a script sends it (`Accept: application/json`).
pub(crate) fn as_json(mut event: Value) -> Value {
    event["headers"]["Accept"] = json!("application/json");
    event["multiValueHeaders"]["Accept"] = json!(["application/json"]);
    event
}

/// The callback as a script sends it.
pub(crate) fn json_event() -> Value {
    as_json(callback())
}

/// The start: `/auth` with no query string.
pub(crate) fn start_event() -> Value {
    with_cookie(with_query(fixture("auth.json"), &[]), None)
}

/// What the handler answered: status, headers, body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) headers: aws_lambda_events::http::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The one value of `name`; fails when there are none or several.
    pub(crate) fn header(&self, name: &str) -> String {
        let values: Vec<_> = self.headers.get_all(name).iter().collect();
        assert_eq!(values.len(), 1, "{name}: {values:?}");
        values[0].to_str().unwrap().to_owned()
    }

    /// The `Set-Cookie` header, which every answer of `/auth` has.
    pub(crate) fn set_cookie(&self) -> String {
        self.header("set-cookie")
    }

    /// Asserts the answer clears the sign-in cookie: same name and
    /// attributes, empty, expired.
    pub(crate) fn clears_the_cookie(&self) {
        assert_eq!(
            cookie_attributes(&self.set_cookie()),
            (
                format!("{COOKIE_NAME}="),
                BTreeMap::from([
                    ("httponly".to_owned(), String::new()),
                    ("max-age".to_owned(), "0".to_owned()),
                    ("path".to_owned(), "/".to_owned()),
                    ("samesite".to_owned(), "Lax".to_owned()),
                    ("secure".to_owned(), String::new()),
                ])
            ),
            "status {}",
            self.status
        );
    }

    /// Asserts the headers every answer carries, and the page policy on HTML.
    pub(crate) fn has_the_security_headers(&self) {
        assert_eq!(self.header("cache-control"), "no-store");
        assert_eq!(self.header("x-content-type-options"), "nosniff");
        assert_eq!(self.header("referrer-policy"), "no-referrer");
        if self.content_type.starts_with("text/html") {
            let csp = self.header("content-security-policy");
            let directives: BTreeMap<_, _> = csp
                .split(';')
                .map(|d| d.trim().split_once(' ').unwrap())
                .collect();
            assert_eq!(
                directives,
                BTreeMap::from([
                    ("default-src", "'none'"),
                    ("base-uri", "'none'"),
                    ("form-action", "'none'"),
                    ("frame-ancestors", "'none'"),
                ]),
                "{csp}"
            );
        } else {
            assert!(self.headers.get("content-security-policy").is_none());
        }
    }
}

/// A `Set-Cookie` value split into `name=value` and its attributes (names
/// lower-cased; flags map to an empty value).
pub(crate) fn cookie_attributes(set_cookie: &str) -> (String, BTreeMap<String, String>) {
    let mut parts = set_cookie.split(';').map(str::trim);
    let pair = parts.next().unwrap().to_owned();
    let attributes = parts
        .map(|part| match part.split_once('=') {
            Some((name, value)) => (name.to_ascii_lowercase(), value.to_owned()),
            None => (part.to_ascii_lowercase(), String::new()),
        })
        .collect();
    (pair, attributes)
}

/// The query parameters of a URL, decoded.
pub(crate) fn query_of(url: &str) -> Vec<(String, String)> {
    parse_form(url.split_once('?').map(|(_, q)| q).unwrap_or_default())
}

pub(crate) async fn invoke(app: &auth::App, payload: Value) -> Answer {
    let event = lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default());
    let response = auth::handle(app, event).await.unwrap();
    let content_type = response
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = match response.body {
        Some(aws_lambda_events::encodings::Body::Text(text)) => text,
        None => String::new(),
        other => panic!("expected a text body, got {other:?}"),
    };
    let answer = Answer {
        status: u16::try_from(response.status_code).unwrap(),
        content_type,
        headers: response.headers,
        body,
    };
    // Every answer, whatever it is, carries them.
    answer.has_the_security_headers();
    answer
}
