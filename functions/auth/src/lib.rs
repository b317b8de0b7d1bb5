//! The auth function, `GET /auth`, public. Without a code it starts a
//! sign-in: a fresh `state`, PKCE verifier and `nonce` in a `__Host-` cookie
//! (see [`sign_in`]), and a redirect to the hosted UI's authorize endpoint.
//! As the callback Cognito redirects to (`?code=…&state=…`) it checks the
//! cookie and the `state` before anything leaves the function, trades the
//! code and the verifier for tokens at the token endpoint, checks the ID
//! token's `nonce`, presents the ID token to the protected route, shows the
//! person its answer, and revokes the refresh token it never uses.
//!
//! `main.rs` builds an [`App`] once per cold start; [`handle`] serves one
//! event. Never logged, anywhere: the code, a token, the client secret, the
//! cookie, the state, the verifier, the nonce.

pub mod sign_in;

use std::fmt;
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::header::{ACCEPT, AUTHORIZATION, LOCATION, SET_COOKIE};
use aws_smithy_types::error::display::DisplayErrorContext;
use function_runtime::{InitError, TrustRoots, respond};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::{Value, json};

pub use sign_in::SignIn;

/// Time allowed for the token endpoint and for the protected route.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Time allowed for revoking the refresh token. The person's answer waits
/// for it, and the three calls (5 + 5 + 2 s) stay inside the function's 15 s.
pub const REVOKE_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest `error_description` from Cognito shown to the person.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// Longest code accepted. Cognito's codes are 36-character UUIDs; the bound
/// keeps junk (a 10 kB query value) from ever reaching the token endpoint.
pub const MAX_CODE_LEN: usize = 256;

/// What the function reads from the environment the stack gives it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The hosted UI's `/oauth2/authorize` endpoint, where a sign-in starts.
    pub authorize_url: String,
    /// The user pool domain's `/oauth2/token` endpoint.
    pub token_url: String,
    /// The user pool domain's `/oauth2/revoke` endpoint.
    pub revoke_url: String,
    /// The app client id.
    pub client_id: String,
    /// The user pool id (for `DescribeUserPoolClient`).
    pub user_pool_id: String,
    /// The callback URL registered with the app client; the token endpoint
    /// checks it matches the one the code was issued for.
    pub redirect_uri: String,
    /// The protected route (`/auth/login`).
    pub login_url: String,
    /// Where a sign-in starts (this function's own `/auth`), linked from
    /// every refusal.
    pub sign_in_url: String,
}

impl Config {
    /// Reads every variable; the error names the first one missing or malformed.
    pub fn from_env() -> Result<Self, InitError> {
        use env_contract::auth::{
            AUTHORIZE_URL, CLIENT_ID, LOGIN_URL, REDIRECT_URI, REVOKE_URL, SIGN_IN_URL, TOKEN_URL,
            USER_POOL_ID,
        };
        let authorize_url = function_runtime::required_url(AUTHORIZE_URL)?;
        let authorize_url = url::Url::parse(&authorize_url)
            .map_err(|err| InitError::Malformed {
                name: AUTHORIZE_URL,
                reason: format!("not a URL ({err})"),
            })?
            // Serialized by `url`: ASCII only, so it always fits a `Location` header.
            .to_string();
        let token_url = function_runtime::required_url(TOKEN_URL)?;
        check_secret_endpoint(TOKEN_URL, &token_url)?;
        let revoke_url = function_runtime::required_url(REVOKE_URL)?;
        check_secret_endpoint(REVOKE_URL, &revoke_url)?;
        Ok(Self {
            authorize_url,
            token_url,
            revoke_url,
            client_id: function_runtime::required(CLIENT_ID)?,
            user_pool_id: function_runtime::required(USER_POOL_ID)?,
            redirect_uri: function_runtime::required_url(REDIRECT_URI)?,
            login_url: function_runtime::required_url(LOGIN_URL)?,
            sign_in_url: function_runtime::required_url(SIGN_IN_URL)?,
        })
    }
}

/// Refuses an endpoint the client secret would travel to in the clear:
/// `https://` only, plain `http://` only to this machine (`localhost`,
/// `127.0.0.1`, `[::1]`), where local mode runs its stand-ins.
pub fn check_secret_endpoint(name: &'static str, value: &str) -> Result<(), InitError> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use url::Host;
    let malformed = |reason: &str| InitError::Malformed {
        name,
        reason: reason.to_owned(),
    };
    let url = url::Url::parse(value).map_err(|_| malformed("not a URL"))?;
    let loopback = match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(malformed(
            "it carries the client secret, so it must be https:// (plain http:// only to localhost, 127.0.0.1 or [::1])",
        )),
    }
}

/// The app client's secret. Its `Debug` is redacted so it cannot reach a
/// log line by accident.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret (tests; production reads it from Cognito).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the Basic header; never for a log line.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// Reads the app client's secret with `DescribeUserPoolClient`, once per
/// cold start: the secret is never in the template, the environment or logs.
pub async fn fetch_client_secret(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    config: &Config,
) -> Result<ClientSecret, InitError> {
    let described = cognito
        .describe_user_pool_client()
        .user_pool_id(&config.user_pool_id)
        .client_id(&config.client_id)
        .send()
        .await
        .map_err(|err| {
            InitError::Other(format!(
                "cannot read app client {} of user pool {} (DescribeUserPoolClient): {}",
                config.client_id,
                config.user_pool_id,
                DisplayErrorContext(err)
            ))
        })?;
    described
        .user_pool_client()
        .and_then(|client| client.client_secret())
        .filter(|secret| !secret.is_empty())
        .map(ClientSecret::new)
        .ok_or_else(|| {
            InitError::Other(format!(
                "app client {} has no secret; the code grant here needs one (GenerateSecret: true)",
                config.client_id
            ))
        })
}

/// The one HTTP client of the process: trusts the roots read once at cold
/// start, times out every call, and follows no redirects (a redirect from
/// the token endpoint is an error, not somewhere to resend a code).
pub fn http_client(roots: &TrustRoots, timeout: Duration) -> Result<reqwest::Client, InitError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("auth-function/", env!("CARGO_PKG_VERSION")));
    if roots.pem().is_some() {
        builder = builder.tls_backend_preconfigured(roots.rustls_config()?);
    }
    builder
        .build()
        .map_err(|err| InitError::Other(format!("cannot build the HTTP client: {err}")))
}

/// Everything a request needs, built once per cold start.
pub struct App {
    config: Config,
    secret: ClientSecret,
    http: reqwest::Client,
}

impl App {
    /// Puts the pieces together.
    pub fn new(config: Config, secret: ClientSecret, http: reqwest::Client) -> Self {
        Self {
            config,
            secret,
            http,
        }
    }
}

/// Why the person did not get the protected route's answer.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The payload is not an API Gateway proxy event.
    #[error("the request is not an API Gateway proxy event")]
    NotAnApiGatewayEvent,
    /// Cognito ended the sign-in with an `error` (the person cancelled,
    /// or Cognito refused the request).
    #[error("{words}{}; sign in again", cognito_says(.description))]
    SignInEnded {
        /// The OAuth error code, if it is one RFC 6749 §4.1.2.1 defines.
        code: Option<&'static str>,
        /// What it means, in words.
        words: &'static str,
        /// Cognito's `error_description`, only when the `state` proves the
        /// answer is to this browser's own sign-in (anyone can make a link
        /// with any text in it).
        description: Option<String>,
    },
    /// No sign-in cookie: this browser did not start the sign-in, or it
    /// expired (login CSRF, RFC 9700 §2.1, or just a slow person).
    #[error(
        "this browser has no sign-in in progress (it expired, or it was started somewhere else); sign in again"
    )]
    NotStarted,
    /// The `state` is missing or is another sign-in's.
    #[error(
        "this answer belongs to another sign-in than the one this browser started; sign in again"
    )]
    StateMismatch,
    /// No `code` in a callback that has a `state`.
    #[error("the sign-in answer has no authorization code; sign in again")]
    MissingCode,
    /// A `code` no Cognito code looks like.
    #[error("the authorization code is malformed ({0}); sign in again")]
    MalformedCode(&'static str),
    /// `invalid_grant`: the code was already used, is older than five
    /// minutes, or was issued for another verifier (code injection).
    #[error("this sign-in link has expired or was already used; sign in again")]
    CodeRejected,
    /// The ID token's `nonce` is missing or is another sign-in's.
    #[error(
        "the sign-in answer does not belong to the sign-in this browser started; sign in again"
    )]
    NonceMismatch,
    /// Any other token-endpoint failure, timeout or malformed answer.
    #[error("the sign-in service did not answer properly ({0}); try again in a moment")]
    TokenEndpoint(String),
    /// The protected route refused the ID token (401 or 403).
    #[error("the protected page refused the sign-in (HTTP {0}); sign in again")]
    LoginRefused(u16),
    /// The protected route failed, timed out or answered something unreadable.
    #[error("the protected page did not answer properly ({0}); try again in a moment")]
    LoginFailed(String),
}

impl AuthError {
    /// The HTTP status the person sees: refusals as such, upstream trouble
    /// as 502 (a bad gateway, not our own 500).
    pub fn status(&self) -> u16 {
        match self {
            Self::NotAnApiGatewayEvent
            | Self::NotStarted
            | Self::MissingCode
            | Self::MalformedCode(_) => 400,
            Self::SignInEnded { code, .. } => match code {
                Some("access_denied") => 403,
                Some("server_error" | "temporarily_unavailable") => 502,
                _ => 400,
            },
            Self::StateMismatch => 403,
            Self::CodeRejected | Self::NonceMismatch => 401,
            Self::LoginRefused(status) => *status,
            Self::TokenEndpoint(_) | Self::LoginFailed(_) => 502,
        }
    }
}

/// Checks the code before it goes anywhere: present, bounded, and made of
/// URL-safe characters (Cognito issues UUIDs).
pub fn validate_code(code: Option<&str>) -> Result<&str, AuthError> {
    let code = code.ok_or(AuthError::MissingCode)?;
    if code.is_empty() {
        return Err(AuthError::MalformedCode("empty"));
    }
    if code.len() > MAX_CODE_LEN {
        return Err(AuthError::MalformedCode("too long"));
    }
    let url_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
    if !code.chars().all(url_safe) {
        return Err(AuthError::MalformedCode("unexpected characters"));
    }
    Ok(code)
}

/// The error codes RFC 6749 §4.1.2.1 defines for the authorization response.
const OAUTH_ERRORS: [&str; 7] = [
    "access_denied",
    "server_error",
    "temporarily_unavailable",
    "invalid_request",
    "unauthorized_client",
    "unsupported_response_type",
    "invalid_scope",
];

/// Cognito's `?error=` on the callback, as [`AuthError::SignInEnded`]. The
/// description is kept only when `own` (the `state` matched the cookie),
/// cut to a bounded length and stripped of control and format characters.
fn sign_in_ended(error: &str, description: Option<&str>, own: bool) -> AuthError {
    let code = OAUTH_ERRORS.into_iter().find(|known| *known == error);
    let words = match code {
        Some("access_denied") => "the sign-in was cancelled or refused",
        Some("server_error") => "the sign-in service had a problem",
        Some("temporarily_unavailable") => "the sign-in service is busy",
        Some(_) => "the sign-in service refused the request",
        None => "the sign-in service ended the sign-in",
    };
    let description = description
        .filter(|_| own)
        .map(|text| {
            text.chars()
                .filter(|c| !c.is_control() && !function_runtime::is_format_char(*c))
                .take(MAX_DESCRIPTION_CHARS)
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .filter(|text| !text.is_empty());
    AuthError::SignInEnded {
        code,
        words,
        description,
    }
}

/// ` (Cognito says: …)` when there is a description to show.
fn cognito_says(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|text| format!(" (Cognito says: {text})"))
        .unwrap_or_default()
}

/// The part of the token endpoint's answer we use. No `Debug`: it holds tokens.
#[derive(Deserialize)]
struct Tokens {
    id_token: String,
    /// Issued with every code grant; never used, so revoked at once.
    refresh_token: Option<String>,
}

/// Cognito's error answer (`{"error":"invalid_grant"}`).
#[derive(Deserialize)]
struct OAuthError {
    error: String,
}

/// An OAuth error code fit for a log line: a fixed word from the spec, or
/// `unrecognised` for anything else.
fn loggable(oauth_error: &str) -> &str {
    if oauth_error.len() <= 64
        && oauth_error
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        oauth_error
    } else {
        "unrecognised"
    }
}

/// Exchanges the code as Cognito documents it: a form-encoded POST with
/// `grant_type=authorization_code`, `code`, `redirect_uri`, `client_id` and
/// the PKCE `code_verifier`, authenticated with HTTP Basic (client id and
/// secret).
async fn exchange_code(app: &App, code: &str, sign_in: &SignIn) -> Result<Tokens, AuthError> {
    let config = &app.config;
    let sent = app
        .http
        .post(&config.token_url)
        .basic_auth(&config.client_id, Some(app.secret.expose()))
        .header(ACCEPT, "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", config.redirect_uri.as_str()),
            ("client_id", config.client_id.as_str()),
            ("code_verifier", sign_in.verifier()),
        ])
        .send()
        .await;
    let response = sent.map_err(|err| {
        // `err` names the URL and the cause, never the form body.
        tracing::warn!(stage = "token", error = %err, "token endpoint call failed");
        AuthError::TokenEndpoint(unreached(&err).to_owned())
    })?;
    let status = response.status();
    let body = response.bytes().await.map_err(|err| {
        tracing::warn!(stage = "token", status = status.as_u16(), error = %err, "token answer cut short");
        AuthError::TokenEndpoint("answer cut short".to_owned())
    })?;
    if status.is_success() {
        return match serde_json::from_slice::<Tokens>(&body) {
            Ok(tokens) if !tokens.id_token.is_empty() => Ok(tokens),
            // The body holds tokens: log only that it was unusable.
            _ => {
                tracing::warn!(
                    stage = "token",
                    status = status.as_u16(),
                    "token answer without a usable id_token"
                );
                Err(AuthError::TokenEndpoint("malformed answer".to_owned()))
            }
        };
    }
    let oauth_error = serde_json::from_slice::<OAuthError>(&body)
        .map(|e| e.error)
        .unwrap_or_default();
    tracing::warn!(
        stage = "token",
        status = status.as_u16(),
        oauth_error = loggable(&oauth_error),
        "token endpoint refused the code"
    );
    if status.as_u16() == 400 && oauth_error == "invalid_grant" {
        Err(AuthError::CodeRejected)
    } else {
        Err(AuthError::TokenEndpoint(format!(
            "HTTP {}",
            status.as_u16()
        )))
    }
}

/// Checks that the ID token answers this browser's own authorize request:
/// its `nonce` is the cookie's (OpenID Connect Core §3.1.3.7, step 11).
fn check_nonce(id_token: &str, sign_in: &SignIn) -> Result<(), AuthError> {
    match sign_in::id_token_nonce(id_token) {
        Some(nonce) if sign_in.nonce_matches(&nonce) => Ok(()),
        found => {
            tracing::warn!(
                stage = "nonce",
                present = found.is_some(),
                "the ID token's nonce is not this sign-in's"
            );
            Err(AuthError::NonceMismatch)
        }
    }
}

/// Revokes the refresh token at `/oauth2/revoke` (form `token`, HTTP Basic
/// with the client id and secret, as Cognito documents for a client with a
/// secret). Nothing here ever uses it, and a live refresh token is a
/// credential that mints new tokens; revoking it also ends the access and
/// ID tokens issued with it, which is why this runs only after the
/// protected route answered. Best effort: a failure is logged, and the
/// token's validity (the shortest Cognito allows) ends it anyway.
async fn revoke(app: &App, refresh_token: &str) {
    let sent = app
        .http
        .post(&app.config.revoke_url)
        .timeout(REVOKE_TIMEOUT)
        .basic_auth(&app.config.client_id, Some(app.secret.expose()))
        .header(ACCEPT, "application/json")
        .form(&[("token", refresh_token)])
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => {
            let status = response.status().as_u16();
            let oauth_error = response
                .json::<OAuthError>()
                .await
                .map(|e| e.error)
                .unwrap_or_default();
            tracing::warn!(
                stage = "revoke",
                status,
                oauth_error = loggable(&oauth_error),
                "the refresh token was not revoked"
            );
        }
        Err(err) => {
            tracing::warn!(stage = "revoke", error = %err, "the refresh token was not revoked");
        }
    }
}

/// Why a request got no answer, in the words the person is shown.
fn unreached(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else {
        "unreachable"
    }
}

/// Presents the ID token to the protected route (the Cognito authorizer
/// expects the bare token in `Authorization`) and returns its JSON answer.
async fn call_login(app: &App, id_token: &str) -> Result<Value, AuthError> {
    let sent = app
        .http
        .get(&app.config.login_url)
        .header(AUTHORIZATION, id_token)
        .header(ACCEPT, "application/json")
        .send()
        .await;
    let response = sent.map_err(|err| {
        tracing::warn!(stage = "login", error = %err, "protected route call failed");
        AuthError::LoginFailed(unreached(&err).to_owned())
    })?;
    let status = response.status().as_u16();
    if matches!(status, 401 | 403) {
        tracing::warn!(stage = "login", status, "protected route refused the token");
        return Err(AuthError::LoginRefused(status));
    }
    if !response.status().is_success() {
        tracing::warn!(stage = "login", status, "protected route failed");
        return Err(AuthError::LoginFailed(format!("HTTP {status}")));
    }
    response.json::<Value>().await.map_err(|_| {
        tracing::warn!(
            stage = "login",
            status,
            "protected route answered something other than JSON"
        );
        AuthError::LoginFailed("malformed answer".to_owned())
    })
}

/// Whether the browser asked for a page: `text/html` in any `Accept` header.
/// Everything else (curl, scripts, `*/*`) gets JSON.
pub fn wants_html(request: &ApiGatewayProxyRequest) -> bool {
    request
        .headers
        .get_all(ACCEPT)
        .iter()
        .chain(request.multi_value_headers.get_all(ACCEPT).iter())
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.to_ascii_lowercase().contains("text/html"))
}

/// Whether the request is a new sign-in rather than Cognito's answer:
/// none of `code`, `state` and `error` in the query.
fn starts_a_sign_in(request: &ApiGatewayProxyRequest) -> bool {
    let query = &request.query_string_parameters;
    ["code", "state", "error"]
        .iter()
        .all(|name| query.first(name).is_none())
}

/// Serves one `GET /auth`: always an HTTP answer, never a panic or a Lambda
/// error (API Gateway would turn those into a bare 502).
pub async fn handle(
    app: &App,
    event: LambdaEvent<Value>,
) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
    let request = serde_json::from_value::<ApiGatewayProxyRequest>(event.payload).ok();
    if request.as_ref().is_some_and(starts_a_sign_in) {
        tracing::info!(request_id = %event.context.request_id, "sign-in started");
        return Ok(start(&app.config));
    }
    let html = request.as_ref().is_some_and(wants_html);
    let answer = match request {
        Some(request) => serve(app, &request).await,
        None => Err(AuthError::NotAnApiGatewayEvent),
    };
    let mut response = match answer {
        Ok(login) => {
            tracing::info!(request_id = %event.context.request_id, "signed in");
            if html {
                respond::html(200, success_page(&login))
            } else {
                respond::json(200, &login)
            }
        }
        Err(err) => {
            tracing::info!(request_id = %event.context.request_id, status = err.status(), error = %err, "sign-in not completed");
            refusal(&app.config, &err, html)
        }
    };
    // Whatever the outcome, this sign-in is over: its cookie must not be
    // tried again (a code, a state and a nonce are each good for one use).
    respond::add_header(&mut response, SET_COOKIE, &sign_in::clear_cookie());
    Ok(response)
}

/// Starts a sign-in: a fresh [`SignIn`] in the cookie, and a 302 to the
/// hosted UI's authorize endpoint with its `state`, S256 challenge and
/// `nonce`.
fn start(config: &Config) -> ApiGatewayProxyResponse {
    let sign_in = SignIn::fresh();
    let location = sign_in.authorize_url(
        &config.authorize_url,
        &config.client_id,
        &config.redirect_uri,
    );
    let mut response = respond::bare(302);
    // Both values are ASCII by construction (a `url`-serialized endpoint,
    // form-encoded parameters, base64url values), so neither is refused.
    let added = respond::add_header(&mut response, LOCATION, &location)
        && respond::add_header(&mut response, SET_COOKIE, &sign_in.set_cookie());
    if added {
        response
    } else {
        tracing::error!("the authorize URL cannot be sent as a Location header");
        respond::json(
            500,
            &json!({ "message": "the sign-in cannot start: the authorize URL is misconfigured" }),
        )
    }
}

/// The callback: every check that needs no call first, then the token
/// exchange, the nonce, the protected route, and the revocation.
async fn serve(app: &App, request: &ApiGatewayProxyRequest) -> Result<Value, AuthError> {
    let query = &request.query_string_parameters;
    let sign_in = SignIn::from_request(request);
    let own_state = || {
        sign_in
            .as_ref()
            .zip(query.first("state"))
            .is_some_and(|(sign_in, state)| sign_in.state_matches(state))
    };
    if let Some(error) = query.first("error") {
        return Err(sign_in_ended(
            error,
            query.first("error_description"),
            own_state(),
        ));
    }
    let Some(sign_in) = sign_in.as_ref() else {
        return Err(AuthError::NotStarted);
    };
    if !own_state() {
        return Err(AuthError::StateMismatch);
    }
    let code = validate_code(query.first("code"))?;
    let tokens = exchange_code(app, code, sign_in).await?;
    let answer = match check_nonce(&tokens.id_token, sign_in) {
        Ok(()) => call_login(app, &tokens.id_token).await,
        Err(err) => Err(err),
    };
    if let Some(refresh_token) = tokens.refresh_token.as_deref() {
        revoke(app, refresh_token).await;
    }
    answer
}

fn success_page(login: &Value) -> String {
    let text = |name: &str| {
        respond::escape_html(login.get(name).and_then(Value::as_str).unwrap_or_default())
    };
    page(
        "Signed in",
        &format!(
            "<h1>{}</h1>\n<p>Signed in as {} at {}.</p>",
            text("message"),
            text("username"),
            text("timestamp")
        ),
    )
}

fn refusal(config: &Config, err: &AuthError, html: bool) -> ApiGatewayProxyResponse {
    let message = err.to_string();
    if html {
        let link = respond::escape_html(&config.sign_in_url);
        respond::html(
            err.status(),
            page(
                "Sign-in not completed",
                &format!(
                    "<h1>Sign-in not completed</h1>\n<p>{}</p>\n<p><a href=\"{link}\">Sign in again</a></p>",
                    respond::escape_html(&message)
                ),
            ),
        )
    } else {
        respond::json(
            err.status(),
            &json!({ "message": message, "signInUrl": config.sign_in_url }),
        )
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n{body}\n</body>\n</html>\n"
    )
}
