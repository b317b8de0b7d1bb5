//! Helpers the auth tests share: a stand-in for the Cognito token endpoint
//! and the protected route (wiremock, following Cognito's documented
//! contract), the app wired to it, and the fixtures under `tests/data/`.

#![allow(dead_code, unreachable_pub)] // each test file uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed setup should stop the test loudly

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub const CLIENT_ID: &str = "1example23456789client";
/// With `+`, `/` and `=` so a wrong Basic encoding would show.
pub const SECRET: &str = "s3cr3t+/value=";
/// `Basic base64("1example23456789client:s3cr3t+/value=")`, computed outside Rust.
pub const BASIC: &str = "Basic MWV4YW1wbGUyMzQ1Njc4OWNsaWVudDpzM2NyM3QrL3ZhbHVlPQ==";
pub const CODE: &str = "9f8e7d6c-5b4a-4321-8fed-cba987654321";
pub const ID_TOKEN: &str = "eyJraWQiOiJrMSJ9.eyJlbWFpbCI6ImFubkBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl";
pub const REDIRECT_URI: &str = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/auth";
pub const SIGN_IN_URL: &str = "https://example-login.auth.us-east-1.amazoncognito.com/login?client_id=1example23456789client&response_type=code&scope=openid+email&redirect_uri=https%3A%2F%2Fabc123.execute-api.us-east-1.amazonaws.com%2Fprod%2Fauth";

/// Matches a form body with exactly these fields (no more, no fewer, no repeats).
pub struct FormIs(pub BTreeMap<String, String>);

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

/// The four fields Cognito's token endpoint documents for the code grant.
pub fn expected_form(code: &str) -> FormIs {
    FormIs(BTreeMap::from([
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), code.to_owned()),
        ("redirect_uri".to_owned(), REDIRECT_URI.to_owned()),
        ("client_id".to_owned(), CLIENT_ID.to_owned()),
    ]))
}

/// `application/x-www-form-urlencoded` decoding, by hand: tests should not
/// trust the same library that encoded it.
pub fn parse_form(body: &str) -> Vec<(String, String)> {
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

/// The token endpoint's success answer, as Cognito documents it.
pub fn tokens() -> Value {
    json!({
        "access_token": "eyJhY2Nlc3MiOnRydWV9.e30.c2ln",
        "id_token": ID_TOKEN,
        "refresh_token": "eyJjdHkiOiJKV1QifQ.refresh.token",
        "token_type": "Bearer",
        "expires_in": 3600
    })
}

/// What the protected route answers.
pub fn login_answer() -> Value {
    json!({
        "message": "Shalom ann@example.com",
        "username": "ann@example.com",
        "timestamp": "2026-11-25T18:20:00.123Z"
    })
}

/// The stand-in: `POST /oauth2/token` and `GET /prod/auth/login`.
pub struct StandIn {
    pub server: MockServer,
}

impl StandIn {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.server.uri())
    }

    pub fn login_url(&self) -> String {
        format!("{}/prod/auth/login", self.server.uri())
    }

    /// The token endpoint answers `response` only to a request made exactly
    /// as documented (Basic header, form content type, the four fields).
    pub async fn token_answers(&self, response: ResponseTemplate) {
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .and(header("authorization", BASIC))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(expected_form(CODE))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// The protected route answers `response` only when given the ID token.
    pub async fn login_answers(&self, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path("/prod/auth/login"))
            .and(header("authorization", ID_TOKEN))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// Both endpoints succeed.
    pub async fn happy(&self) {
        self.token_answers(ResponseTemplate::new(200).set_body_json(tokens()))
            .await;
        self.login_answers(ResponseTemplate::new(200).set_body_json(login_answer()))
            .await;
    }

    /// How many requests reached the stand-in.
    pub async fn calls(&self) -> usize {
        self.server
            .received_requests()
            .await
            .map(|r| r.len())
            .unwrap_or(0)
    }

    pub fn config(&self) -> auth::Config {
        auth::Config {
            token_url: self.token_url(),
            client_id: CLIENT_ID.to_owned(),
            user_pool_id: "us-east-1_Example".to_owned(),
            redirect_uri: REDIRECT_URI.to_owned(),
            login_url: self.login_url(),
            sign_in_url: SIGN_IN_URL.to_owned(),
        }
    }

    pub fn app(&self, timeout: Duration) -> auth::App {
        let http = auth::http_client(&support::TrustRoots::load(), timeout).unwrap();
        auth::App::new(self.config(), auth::ClientSecret::new(SECRET), http)
    }
}

/// A fixture from `tests/data/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The callback event with another `code` (`None`: no query string at all).
pub fn event_with_code(code: Option<&str>) -> Value {
    let mut event = fixture("auth.json");
    match code {
        Some(code) => {
            event["queryStringParameters"] = json!({ "code": code });
            event["multiValueQueryStringParameters"] = json!({ "code": [code] });
        }
        None => {
            event["queryStringParameters"] = Value::Null;
            event["multiValueQueryStringParameters"] = Value::Null;
        }
    }
    event
}

/// The callback event as a script sends it (`Accept: application/json`).
pub fn json_event() -> Value {
    let mut event = fixture("auth.json");
    event["headers"]["Accept"] = json!("application/json");
    event["multiValueHeaders"]["Accept"] = json!(["application/json"]);
    event
}

/// What the handler answered: status, content type, body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn invoke(app: &auth::App, payload: Value) -> Answer {
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
        other => panic!("expected a text body, got {other:?}"),
    };
    Answer {
        status: u16::try_from(response.status_code).unwrap(),
        content_type,
        body,
    }
}
