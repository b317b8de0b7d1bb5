//! The hosted-UI stand-in walked like a browser and an OAuth client would,
//! against moto: one moto for the file, a fresh pool, client and server per test.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    ExplicitAuthFlowsType, OAuthFlowType, PasswordPolicyType, PreventUserExistenceErrorTypes,
    UserPoolPolicyType, UsernameAttributeType, UsernameConfigurationType, VerifiedAttributeType,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::{AppClient, HostedUi, Mail};
use crate::moto::Moto;
use crate::origins::OriginMap;

const API_ORIGIN: &str = "https://abc123defg.execute-api.us-east-1.amazonaws.com";
const CALLBACK: &str = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/auth";
const LOCAL_API: &str = "http://127.0.0.1:4000";
const LOCAL_CALLBACK: &str = "http://127.0.0.1:4000/dev/auth";
const PASSWORD: &str = "Correct-horse-9-battery";
const STATE: &str = "st-4f2a";

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start().expect("moto starts"))
}

/// One pool and client in moto, like the stack's, and the stand-in serving them.
struct Harness {
    base: String,
    cognito: Client,
    client: AppClient,
    ui: Arc<HostedUi>,
    http: reqwest::Client,
    /// Seconds the injected clock runs ahead of the real one.
    ahead: Arc<AtomicU64>,
    delivered: Arc<Mutex<Vec<Mail>>>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Harness {
    async fn start() -> Self {
        let cognito = Client::new(&moto().sdk_config().await);
        let pool = cognito
            .create_user_pool()
            .pool_name("hosted-ui-test-users")
            .username_attributes(UsernameAttributeType::Email)
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .username_configuration(
                UsernameConfigurationType::builder()
                    .case_sensitive(false)
                    .build()
                    .unwrap(),
            )
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(12)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(true)
                            .require_uppercase(true)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let pool_id = pool.user_pool().unwrap().id().unwrap().to_owned();
        let created = cognito
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("hosted-ui-test-web")
            .generate_secret(true)
            .allowed_o_auth_flows(OAuthFlowType::Code)
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_scopes("openid")
            .allowed_o_auth_scopes("email")
            .callback_urls(CALLBACK)
            .logout_urls(CALLBACK)
            .supported_identity_providers("COGNITO")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
            .enable_token_revocation(true)
            .send()
            .await
            .unwrap();
        let client_id = created
            .user_pool_client()
            .unwrap()
            .client_id()
            .unwrap()
            .to_owned();
        let client = AppClient::describe(&cognito, &pool_id, &client_id)
            .await
            .unwrap();
        assert_eq!(client.callback_urls, [CALLBACK]);
        assert_eq!(client.logout_urls, [CALLBACK]);
        assert_eq!(client.allowed_scopes, ["openid", "email"]);
        assert!(!client.client_secret.is_empty());

        let mut origins = OriginMap::default();
        origins.add(API_ORIGIN, LOCAL_API);
        let ahead = Arc::new(AtomicU64::new(0));
        let clock = {
            let ahead = Arc::clone(&ahead);
            Arc::new(move || SystemTime::now() + Duration::from_secs(ahead.load(Ordering::SeqCst)))
        };
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let on_mail = {
            let delivered = Arc::clone(&delivered);
            Box::new(move |mail: &Mail| delivered.lock().unwrap().push(mail.clone()))
        };
        let ui = Arc::new(HostedUi::new(
            client.clone(),
            cognito.clone(),
            origins,
            clock,
            on_mail,
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = Arc::clone(&ui).router();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base,
            cognito,
            client,
            ui,
            http,
            ahead,
            delivered,
            stop,
            server,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap();
    }

    fn advance(&self, by: Duration) {
        self.ahead.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            http: self.http.clone(),
            jar: HashMap::new(),
        }
    }

    /// The query of an authorize request with PKCE, state and nonce.
    fn authorize_query(&self, pkce: &Pkce, nonce: &str) -> String {
        query(&[
            ("response_type", "code"),
            ("client_id", &self.client.client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email"),
            ("state", STATE),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
            ("nonce", nonce),
        ])
    }

    /// A confirmed user, made through the API (for tests about other things).
    async fn user(&self, email: &str) {
        self.cognito
            .sign_up()
            .client_id(&self.client.client_id)
            .username(email)
            .password(PASSWORD)
            .secret_hash(secret_hash(&self.client, email))
            .send()
            .await
            .unwrap();
        self.cognito
            .admin_confirm_sign_up()
            .user_pool_id(&self.client.user_pool_id)
            .username(email)
            .send()
            .await
            .unwrap();
    }

    /// Authorize, then sign in on the form; the callback URL the browser is sent to.
    async fn sign_in(
        &self,
        browser: &mut Browser,
        pkce: &Pkce,
        nonce: &str,
        email: &str,
    ) -> String {
        let login = browser
            .get(&format!(
                "/oauth2/authorize?{}",
                self.authorize_query(pkce, nonce)
            ))
            .await;
        assert_eq!(login.status, StatusCode::FOUND);
        let form = browser.get(&login.location()).await;
        assert_eq!(form.status, StatusCode::OK);
        let done = browser
            .submit(&form, &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
        done.location()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
        self.token_as(&self.client.client_id, &self.client.client_secret, form)
            .await
    }

    async fn token_as(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        let answer = self
            .http
            .post(format!("{}/oauth2/token", self.base))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let headers = answer.headers().clone();
        (status, headers, answer.json().await.unwrap())
    }

    async fn redeem(&self, code: &str, verifier: &str) -> (StatusCode, Value) {
        let (status, _, body) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("client_id", &self.client.client_id),
                ("code_verifier", verifier),
            ])
            .await;
        (status, body)
    }

    async fn revoke_as(&self, secret: &str, token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/oauth2/revoke", self.base))
            .basic_auth(&self.client.client_id, Some(secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
    }

    async fn mail_json(&self) -> Vec<Value> {
        self.http
            .get(format!("{}/_local/mail", self.base))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn secret_hash(client: &AppClient, username: &str) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, client.client_secret.as_bytes());
    STANDARD.encode(hmac::sign(
        &key,
        format!("{username}{}", client.client_id).as_bytes(),
    ))
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    fn new() -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

/// A browser without redirects: keeps cookies, remembers each answer.
struct Browser {
    base: String,
    http: reqwest::Client,
    jar: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .expect("a Location")
            .to_str()
            .unwrap()
            .to_owned()
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .find(|value| value.starts_with(&format!("{name}=")))
    }

    /// The (only) form's action, unescaped.
    fn form_action(&self) -> String {
        attribute_after(&self.body, "<form", "action").replace("&amp;", "&")
    }

    fn csrf(&self) -> String {
        attribute_after(&self.body, "name=\"_csrf\"", "value")
    }

    fn h1(&self) -> String {
        let start = self.body.find("<h1>").expect("an h1") + 4;
        let end = self.body[start..].find("</h1>").unwrap() + start;
        self.body[start..end].to_owned()
    }
}

fn attribute_after(body: &str, marker: &str, attribute: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {body}"));
    let rest = &body[at..];
    let start = rest.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2;
    let end = rest[start..].find('"').unwrap() + start;
    rest[start..end].to_owned()
}

impl Browser {
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, request: reqwest::RequestBuilder) -> Page {
        let answer = request
            .header("Cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        for set_cookie in answer.headers().get_all(SET_COOKIE) {
            let set_cookie = set_cookie.to_str().unwrap();
            let (pair, attributes) = set_cookie.split_once(';').unwrap_or((set_cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: answer.status(),
            headers: answer.headers().clone(),
            body: answer.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(self.url(path));
        self.finish(request).await
    }

    /// Posts `page`'s form with its CSRF token and `fields`.
    async fn submit(&mut self, page: &Page, fields: &[(&str, &str)]) -> Page {
        let csrf = page.csrf();
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let request = self.http.post(self.url(&page.form_action())).form(&form);
        self.finish(request).await
    }
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The `code` of a callback URL, after checking it is the local callback with the state.
fn code_of(callback: &str) -> String {
    let url = url::Url::parse(callback).unwrap();
    assert_eq!(url.origin().ascii_serialization(), LOCAL_API, "{callback}");
    assert_eq!(url.path(), "/dev/auth");
    let pairs: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs.get("state").map(String::as_str), Some(STATE));
    assert_eq!(pairs.len(), 2, "only code and state: {callback}");
    let code = pairs["code"].clone();
    assert_eq!(code.len(), 36, "a UUID: {code}");
    code
}

#[tokio::test]
async fn signs_up_confirms_and_signs_in_to_the_local_callback() {
    let h = Harness::start().await;
    let mut browser = h.browser();
    let pkce = Pkce::new();

    let authorize = browser
        .get(&format!(
            "/oauth2/authorize?{}",
            h.authorize_query(&pkce, "nonce-1")
        ))
        .await;
    assert_eq!(authorize.status, StatusCode::FOUND);
    let login_path = authorize.location();
    assert!(login_path.starts_with("/login?"), "{login_path}");
    let login = browser.get(&login_path).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.h1(), "Sign in");
    assert!(login.body.contains("name=\"email\"") && login.body.contains("name=\"password\""));
    assert!(login.body.contains("<button type=\"submit\">"));
    let csrf_cookie = login.set_cookie("hosted-ui-csrf").unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"));
    assert_eq!(browser.jar["hosted-ui-csrf"], login.csrf());

    let signup_link =
        attribute_after(&login.body, "Need an account?", "href").replace("&amp;", "&");
    let signup = browser.get(&signup_link).await;
    assert_eq!(signup.status, StatusCode::OK);
    assert_eq!(signup.h1(), "Sign up");

    // moto checks the pool's password policy; its message is shown.
    let weak = browser
        .submit(
            &signup,
            &[("email", "ann@example.com"), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("password policy"), "{}", weak.body);
    assert!(h.outbox_is_empty());

    let signed_up = browser
        .submit(
            &weak,
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::FOUND, "{}", signed_up.body);
    let confirm_path = signed_up.location();
    assert!(confirm_path.starts_with("/confirm?"), "{confirm_path}");
    assert!(confirm_path.contains("email=ann%40example.com"));
    assert!(confirm_path.contains(&format!("code_challenge={}", pkce.challenge)));

    let mails = h.mail_json().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["to"], "ann@example.com");
    let code = mails[0]["code"].as_str().unwrap().to_owned();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    let sent = mails[0]["sent"].as_str().unwrap();
    assert!(
        sent.ends_with('Z') && sent.parse::<jiff::Timestamp>().is_ok(),
        "{sent}"
    );
    assert_eq!(*h.delivered.lock().unwrap(), h.ui.outbox());
    assert_eq!(h.ui.outbox()[0].code, code);
    let mailbox = browser.get("/_local/mail").await;
    assert!(
        mailbox.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(mailbox.body.contains(&code) && mailbox.body.contains("ann@example.com"));

    let confirm = browser.get(&confirm_path).await;
    assert_eq!(confirm.h1(), "Confirm your account");
    assert!(confirm.body.contains("value=\"ann@example.com\""));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = browser
        .submit(&confirm, &[("email", "ann@example.com"), ("code", wrong)])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("Invalid verification code provided, please try again.")
    );
    let confirmed = browser
        .submit(&refused, &[("email", "ann@example.com"), ("code", &code)])
        .await;
    assert_eq!(confirmed.status, StatusCode::FOUND, "{}", confirmed.body);
    let back = confirmed.location();
    assert!(
        back.starts_with("/login?") && back.contains("notice=confirmed"),
        "{back}"
    );
    // Single use.
    let again = browser
        .submit(&refused, &[("email", "ann@example.com"), ("code", &code)])
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    let login = browser.get(&back).await;
    assert!(login.body.contains("Your account is confirmed."));
    assert!(login.body.contains("value=\"ann@example.com\""));
    let signed_in = browser
        .submit(
            &login,
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::FOUND, "{}", signed_in.body);
    let code = code_of(&signed_in.location());
    let session = signed_in.set_cookie("hosted-ui-session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"] {
        assert!(session.contains(attribute), "{session}");
    }
    assert!(!session.starts_with("__Host-signin"));

    let (status, headers, body) = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &h.client.client_id),
            ("code_verifier", &pkce.verifier),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].is_string() && body["refresh_token"].is_string());
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "nonce-1");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["email"], "ann@example.com");
    assert_eq!(id["aud"], h.client.client_id.as_str());
    assert_eq!(id["token_use"], "id");
    assert_eq!(
        id["iss"],
        format!(
            "https://cognito-idp.us-east-1.amazonaws.com/{}",
            h.client.user_pool_id
        )
    );

    let (status, reused) = h.redeem(&code, &pkce.verifier).await;
    assert_eq!(
        (status, reused),
        (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "invalid_grant"})
        )
    );

    // The refresh grant keeps the sign-in's nonce and issues no new refresh token.
    let (status, _, refreshed) = h
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert!(refreshed.get("refresh_token").is_none());
    assert_eq!(
        claims(refreshed["id_token"].as_str().unwrap())["nonce"],
        "nonce-1"
    );
    h.stop().await;
}

impl Harness {
    fn outbox_is_empty(&self) -> bool {
        self.delivered.lock().unwrap().is_empty() && self.ui.outbox().is_empty()
    }
}

#[tokio::test]
async fn token_endpoint_refuses_what_cognito_refuses() {
    let h = Harness::start().await;
    h.user("bob@example.com").await;
    // A fresh browser per sign-in: one with a session would skip the form.
    let pkce = Pkce::new();
    let error = |name: &str| serde_json::json!({ "error": name });

    let code = code_of(
        &h.sign_in(&mut h.browser(), &pkce, "n", "bob@example.com")
            .await,
    );
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    // A wrong secret, or none, is refused before the code is looked at.
    let (status, _, body) = h
        .token_as(&h.client.client_id, "not-the-secret", &redeem)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, error("invalid_client"))
    );
    let answer = h
        .http
        .post(format!("{}/oauth2/token", h.base))
        .form(&redeem)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        error("invalid_client")
    );
    let (status, _, body) = h.token(&[("code", &code)]).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, error("invalid_request"))
    );
    let (status, _, body) = h
        .token(&[("grant_type", "password"), ("code", &code)])
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, error("unsupported_grant_type"))
    );
    let (status, _, body) = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, error("invalid_request"))
    );
    let (status, _, body) = h.token(&redeem).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A wrong verifier, a missing one, another redirect URI: refused, and the code is spent.
    for (verifier, redirect_uri, expected) in [
        (
            Some("a-verifier-that-does-not-hash-to-the-challenge-at-all"),
            CALLBACK,
            "invalid_grant",
        ),
        (None, CALLBACK, "invalid_grant"),
        (
            Some(pkce.verifier.as_str()),
            "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/auth/",
            "unauthorized_client",
        ),
    ] {
        let code = code_of(
            &h.sign_in(&mut h.browser(), &pkce, "n", "bob@example.com")
                .await,
        );
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        let (status, _, body) = h.token(&form).await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, error(expected)),
            "{form:?}"
        );
        assert_eq!(
            h.redeem(&code, &pkce.verifier).await.1,
            error("invalid_grant")
        );
    }

    // Five minutes later, a code is worthless.
    let code = code_of(
        &h.sign_in(&mut h.browser(), &pkce, "n", "bob@example.com")
            .await,
    );
    h.advance(Duration::from_secs(5 * 60 + 1));
    assert_eq!(
        h.redeem(&code, &pkce.verifier).await,
        (StatusCode::BAD_REQUEST, error("invalid_grant"))
    );
    assert_eq!(
        h.redeem("4f0c8a9e-0000-4000-8000-000000000000", &pkce.verifier)
            .await,
        (StatusCode::BAD_REQUEST, error("invalid_grant"))
    );
    h.stop().await;
}

#[tokio::test]
async fn authorize_checks_the_request_and_never_redirects_to_an_unknown_uri() {
    let h = Harness::start().await;
    let mut browser = h.browser();
    let pkce = Pkce::new();
    let client_id = h.client.client_id.clone();
    let error_page = format!("/error?error=redirect_mismatch&client_id={client_id}");
    let with = |changes: &[(&str, Option<&str>)]| {
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(h.authorize_query(&pkce, "n").as_bytes())
                .into_owned()
                .collect();
        for (name, value) in changes {
            pairs.retain(|(key, _)| key != name);
            if let Some(value) = value {
                pairs.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        format!("/oauth2/authorize?{}", query(&pairs))
    };

    for changes in [
        vec![("redirect_uri", Some("https://evil.example/dev/auth"))],
        vec![(
            "redirect_uri",
            Some("https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/auth/"),
        )],
        vec![("redirect_uri", None)],
        vec![("client_id", Some("unknown-client"))],
    ] {
        let answer = browser.get(&with(&changes)).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{changes:?}");
        assert_eq!(answer.location(), error_page, "{changes:?}");
    }
    let page = browser.get(&error_page).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("An error was encountered with the requested page.")
    );
    // The sign-in page refuses the same way.
    let login = browser
        .get(
            &with(&[("redirect_uri", Some("https://evil.example/"))])
                .replace("/oauth2/authorize", "/login"),
        )
        .await;
    assert_eq!(login.location(), error_page);

    for (changes, expected) in [
        (vec![("scope", Some("openid phone"))], "invalid_scope"),
        (
            vec![("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (vec![("code_challenge_method", None)], "invalid_request"),
        (
            vec![("code_challenge", Some("too-short"))],
            "invalid_request",
        ),
        (
            vec![("response_type", Some("token"))],
            "unauthorized_client",
        ),
        (
            vec![("response_type", Some("id_token"))],
            "unsupported_response_type",
        ),
    ] {
        let answer = browser.get(&with(&changes)).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{changes:?}");
        assert_eq!(
            answer.location(),
            format!("{LOCAL_CALLBACK}?error={expected}&state={STATE}"),
            "{changes:?}"
        );
    }
    // Without PKCE, scope or nonce the request is still valid (Cognito's are optional).
    let minimal = browser
        .get(&with(&[
            ("code_challenge", None),
            ("code_challenge_method", None),
            ("scope", None),
            ("nonce", None),
        ]))
        .await;
    assert!(
        minimal.location().starts_with("/login?"),
        "{}",
        minimal.location()
    );
    h.stop().await;
}

#[tokio::test]
async fn a_session_skips_the_form_until_logout() {
    let h = Harness::start().await;
    h.user("cy@example.com").await;
    let mut browser = h.browser();
    let pkce = Pkce::new();
    code_of(
        &h.sign_in(&mut browser, &pkce, "first", "cy@example.com")
            .await,
    );

    let second = Pkce::new();
    let again = browser
        .get(&format!(
            "/oauth2/authorize?{}",
            h.authorize_query(&second, "second")
        ))
        .await;
    assert_eq!(again.status, StatusCode::FOUND);
    let code = code_of(&again.location());
    let (status, body) = h.redeem(&code, &second.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(body["id_token"].as_str().unwrap())["nonce"],
        "second"
    );

    // Only registered logout URLs: anything else is the error page, no redirect.
    let client_id = h.client.client_id.clone();
    for logout_uri in [
        "https://evil.example/",
        "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/auth/",
    ] {
        let refused = browser
            .get(&format!(
                "/logout?{}",
                query(&[("client_id", &client_id), ("logout_uri", logout_uri)])
            ))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{logout_uri}");
        assert!(refused.headers.get(LOCATION).is_none());
    }
    let refused = browser
        .get(&format!(
            "/logout?{}",
            query(&[("client_id", "other"), ("logout_uri", CALLBACK)])
        ))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(browser.jar.contains_key("hosted-ui-session"));

    let out = browser
        .get(&format!(
            "/logout?{}",
            query(&[("client_id", &client_id), ("logout_uri", CALLBACK)])
        ))
        .await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.location(), LOCAL_CALLBACK);
    assert!(
        out.set_cookie("hosted-ui-session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(!browser.jar.contains_key("hosted-ui-session"));

    let form = browser
        .get(&format!(
            "/oauth2/authorize?{}",
            h.authorize_query(&second, "third")
        ))
        .await;
    assert!(
        form.location().starts_with("/login?"),
        "{}",
        form.location()
    );

    // The other logout form goes back to the sign-in page.
    let back = browser
        .get(&format!(
            "/logout?{}",
            query(&[
                ("client_id", &client_id),
                ("redirect_uri", CALLBACK),
                ("response_type", "code")
            ])
        ))
        .await;
    assert_eq!(back.status, StatusCode::FOUND);
    assert!(
        back.location().starts_with("/login?"),
        "{}",
        back.location()
    );
    h.stop().await;
}

#[tokio::test]
async fn a_revoked_refresh_token_no_longer_works() {
    let h = Harness::start().await;
    h.user("di@example.com").await;
    let mut browser = h.browser();
    let pkce = Pkce::new();
    let code = code_of(&h.sign_in(&mut browser, &pkce, "n", "di@example.com").await);
    let (_, tokens) = h.redeem(&code, &pkce.verifier).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    assert_eq!(h.token(&refresh).await.0, StatusCode::OK);

    let refused = h.revoke_as("not-the-secret", refresh_token).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        serde_json::json!({"error": "invalid_client"})
    );
    assert_eq!(h.token(&refresh).await.0, StatusCode::OK);

    let revoked = h.revoke_as(&h.client.client_secret, refresh_token).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(revoked.text().await.unwrap(), "");
    let (status, _, body) = h.token(&refresh).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "invalid_grant"})
        )
    );
    // The session was built on it: the form is back.
    let form = browser
        .get(&format!(
            "/oauth2/authorize?{}",
            h.authorize_query(&pkce, "n")
        ))
        .await;
    assert!(
        form.location().starts_with("/login?"),
        "{}",
        form.location()
    );
    h.stop().await;
}

#[tokio::test]
async fn unknown_user_and_wrong_password_read_the_same() {
    let h = Harness::start().await;
    h.user("ed@example.com").await;
    let mut browser = h.browser();
    let pkce = Pkce::new();
    let authorize = browser
        .get(&format!(
            "/oauth2/authorize?{}",
            h.authorize_query(&pkce, "n")
        ))
        .await;
    let form = browser.get(&authorize.location()).await;
    let message = |page: &Page| text_of(&page.body, "class=\"error\"");
    let unknown = browser
        .submit(
            &form,
            &[("email", "nobody@example.com"), ("password", PASSWORD)],
        )
        .await;
    let wrong = browser
        .submit(
            &form,
            &[
                ("email", "ed@example.com"),
                ("password", "Wrong-password-1"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&unknown), "Incorrect username or password.");
    assert_eq!(message(&wrong), message(&unknown));
    assert!(unknown.set_cookie("hosted-ui-session").is_none());

    // Without the CSRF token, nothing is tried.
    let forged = h
        .http
        .post(format!("{}{}", h.base, form.form_action()))
        .form(&[("email", "ed@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let mut stranger = h.browser();
    stranger.jar.insert("hosted-ui-csrf".into(), "A".repeat(43));
    let forged = stranger
        .submit(
            &form,
            &[("email", "ed@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    h.stop().await;
}

/// The text of the element opened by the tag holding `marker`.
fn text_of(body: &str, marker: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {body}"));
    let start = body[at..].find('>').unwrap() + at + 1;
    let end = body[start..].find('<').unwrap() + start;
    body[start..end].to_owned()
}

#[tokio::test]
async fn the_email_is_case_insensitive_and_confirmation_codes_expire() {
    let h = Harness::start().await;
    let mut browser = h.browser();
    let pkce = Pkce::new();
    let authorize = browser
        .get(&format!(
            "/oauth2/authorize?{}",
            h.authorize_query(&pkce, "n")
        ))
        .await;
    let login = browser.get(&authorize.location()).await;
    let signup = browser
        .get(&attribute_after(&login.body, "Need an account?", "href").replace("&amp;", "&"))
        .await;
    let done = browser
        .submit(
            &signup,
            &[("email", "Fay.Case@Example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    let confirm_path = done.location();
    let twice = browser
        .submit(
            &signup,
            &[("email", "fay.case@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert!(
        twice
            .body
            .contains("An account with the given email already exists.")
    );

    // A day later the code is refused; signing in (right password) sends a new one.
    let first = h.mail_json().await[0]["code"].as_str().unwrap().to_owned();
    h.advance(Duration::from_secs(24 * 60 * 60 + 1));
    let confirm = browser.get(&confirm_path).await;
    let expired = browser
        .submit(
            &confirm,
            &[("email", "Fay.Case@Example.com"), ("code", &first)],
        )
        .await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(
        expired
            .body
            .contains("Invalid code provided, please request a code again.")
    );
    let unconfirmed = browser
        .submit(
            &login,
            &[("email", "fay.case@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::FOUND);
    assert!(
        unconfirmed.location().starts_with("/confirm?"),
        "{}",
        unconfirmed.location()
    );
    let mails = h.mail_json().await;
    assert_eq!(mails.len(), 2);
    let second = mails[1]["code"].as_str().unwrap().to_owned();
    let confirm = browser.get(&unconfirmed.location()).await;
    let confirmed = browser
        .submit(
            &confirm,
            &[("email", "FAY.CASE@example.com"), ("code", &second)],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::FOUND, "{}", confirmed.body);

    let callback = browser
        .submit(
            &login,
            &[("email", "fay.case@EXAMPLE.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(callback.status, StatusCode::FOUND, "{}", callback.body);
    let (status, tokens) = h
        .redeem(&code_of(&callback.location()), &pkce.verifier)
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    // Cognito's claim is the stored address, whatever the case typed.
    assert_eq!(id["email"], "Fay.Case@Example.com");
    assert_eq!(id["email_verified"], true);
    h.stop().await;
}

#[tokio::test]
async fn every_page_carries_the_security_headers_and_escapes_what_it_echoes() {
    let h = Harness::start().await;
    let mut browser = h.browser();
    let pkce = Pkce::new();
    let query = h.authorize_query(&pkce, "n");
    let hostile = format!("{query}&email=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    let mut pages = Vec::new();
    for path in [
        format!("/oauth2/authorize?{query}"),
        format!("/login?{hostile}"),
        format!("/signup?{query}"),
        format!("/confirm?{hostile}"),
        "/error?error=redirect_mismatch".to_owned(),
        "/_local/mail".to_owned(),
        "/nowhere".to_owned(),
        format!(
            "/logout?client_id={}&logout_uri=https://evil.example/",
            h.client.client_id
        ),
    ] {
        pages.push((path.clone(), browser.get(&path).await));
    }
    let (_, token, _) = h.token(&[("grant_type", "authorization_code")]).await;
    for (path, page) in &pages {
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            &format!("form-action 'self' {LOCAL_API}"),
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(page.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(page.headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        if let Some(style) = page.body.split("<style>").nth(1) {
            let style = style.split("</style>").next().unwrap();
            let hash = format!(
                "'sha256-{}'",
                STANDARD.encode(Sha256::digest(style.as_bytes()))
            );
            assert!(csp.contains(&format!("style-src {hash}")), "{path}: {csp}");
        }
        assert!(!page.body.contains("<script"), "{path}");
    }
    assert!(
        pages[1]
            .1
            .body
            .contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"")
    );
    assert_eq!(pages[6].1.status, StatusCode::NOT_FOUND);
    assert_eq!(token["cache-control"], "no-store");
    assert_eq!(token["x-content-type-options"], "nosniff");
    h.stop().await;
}
