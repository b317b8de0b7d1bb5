//! The auth function (`GET /auth?code=…`, the public callback Cognito
//! redirects to): trades the authorization code for tokens at the user pool
//! domain's token endpoint, presents the ID token to the protected route and
//! shows the person its answer.
//!
//! `main.rs` builds an [`App`] once per cold start; [`handle`] serves one
//! event. Never logged, anywhere: the code, a token, the client secret.

use std::fmt;
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::header::{ACCEPT, AUTHORIZATION};
use aws_smithy_types::error::display::DisplayErrorContext;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::{Value, json};
use support::{InitError, TrustRoots, respond};

/// Time allowed for each outbound HTTP call (token endpoint, protected
/// route). Two calls plus the cold start stay well inside API Gateway's 29 s.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest code accepted. Cognito's codes are 36-character UUIDs; the bound
/// keeps junk (a 10 kB query value) from ever reaching the token endpoint.
pub const MAX_CODE_LEN: usize = 256;

/// What the function reads from the environment the stack gives it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The user pool domain's `/oauth2/token` endpoint.
    pub token_url: String,
    /// The app client id.
    pub client_id: String,
    /// The user pool id (for `DescribeUserPoolClient`).
    pub user_pool_id: String,
    /// The callback URL registered with the app client; the token endpoint
    /// checks it matches the one the code was issued for.
    pub redirect_uri: String,
    /// The protected route (`/auth/login`).
    pub login_url: String,
    /// The hosted-UI sign-in page, linked from every refusal.
    pub sign_in_url: String,
}

impl Config {
    /// Reads every variable; the error names the first one missing or malformed.
    pub fn from_env() -> Result<Self, InitError> {
        use contract::auth::{
            CLIENT_ID, LOGIN_URL, REDIRECT_URI, SIGN_IN_URL, TOKEN_URL, USER_POOL_ID,
        };
        Ok(Self {
            token_url: support::required_url(TOKEN_URL)?,
            client_id: support::required(CLIENT_ID)?,
            user_pool_id: support::required(USER_POOL_ID)?,
            redirect_uri: support::required_url(REDIRECT_URI)?,
            login_url: support::required_url(LOGIN_URL)?,
            sign_in_url: support::required_url(SIGN_IN_URL)?,
        })
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
    /// No `code` in the query string (someone opened `/auth` directly).
    #[error("the sign-in link has no authorization code; sign in to get one")]
    MissingCode,
    /// A `code` no Cognito code looks like.
    #[error("the authorization code is malformed ({0}); sign in again")]
    MalformedCode(&'static str),
    /// `invalid_grant`: the code was already used or is older than five minutes.
    #[error("this sign-in link has expired or was already used; sign in again")]
    CodeRejected,
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
            Self::NotAnApiGatewayEvent | Self::MissingCode | Self::MalformedCode(_) => 400,
            Self::CodeRejected => 401,
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

/// The part of the token endpoint's answer we use. No `Debug`: it holds a token.
#[derive(Deserialize)]
struct Tokens {
    id_token: String,
}

/// Cognito's error answer (`{"error":"invalid_grant"}`).
#[derive(Deserialize)]
struct OAuthError {
    error: String,
}

/// Exchanges the code as Cognito documents it: a form-encoded POST with
/// `grant_type=authorization_code`, `code`, `redirect_uri` and `client_id`,
/// authenticated with HTTP Basic (client id and secret).
async fn exchange_code(app: &App, code: &str) -> Result<String, AuthError> {
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
            Ok(tokens) if !tokens.id_token.is_empty() => Ok(tokens.id_token),
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
    // The OAuth error code is a fixed word from the spec, safe to log.
    let shown_error = if oauth_error.len() <= 64
        && oauth_error
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        oauth_error.as_str()
    } else {
        "unrecognised"
    };
    tracing::warn!(
        stage = "token",
        status = status.as_u16(),
        oauth_error = shown_error,
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

/// Presents the ID token to the protected route (the Cognito authorizer
/// expects the bare token in `Authorization`) and returns its JSON answer.
/// Why a request got no answer, in the words the person is shown.
fn unreached(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else {
        "unreachable"
    }
}

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

/// Serves one `GET /auth`: always an HTTP answer, never a panic or a Lambda
/// error (API Gateway would turn those into a bare 502).
pub async fn handle(
    app: &App,
    event: LambdaEvent<Value>,
) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
    let request = serde_json::from_value::<ApiGatewayProxyRequest>(event.payload).ok();
    let html = request.as_ref().is_some_and(wants_html);
    let answer = match request {
        Some(request) => serve(app, &request).await,
        None => Err(AuthError::NotAnApiGatewayEvent),
    };
    Ok(match answer {
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
    })
}

async fn serve(app: &App, request: &ApiGatewayProxyRequest) -> Result<Value, AuthError> {
    let code = validate_code(request.query_string_parameters.first("code"))?;
    let id_token = exchange_code(app, code).await?;
    call_login(app, &id_token).await
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
