//! The login function (`GET /auth/login`, behind the Cognito authorizer):
//! records the sign-in in DynamoDB, S3 and the audit log, and greets the user
//! with a greeting from the stack's own SSM path.
//!
//! `main.rs` builds an [`App`] once per cold start; [`handle`] serves one event.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;
use function_runtime::InitError;
use function_runtime::respond;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::{Value, json};

/// How long greetings read from SSM are reused: the four greetings change
/// only on deploy, and one SSM call per login would double the latency.
pub const GREETINGS_TTL: Duration = Duration::from_secs(300);

/// S3 object keys are at most 1024 bytes of UTF-8 (DynamoDB allows 2048 for a
/// partition key), so the stricter bound decides which names are accepted.
pub const MAX_USERNAME_BYTES: usize = 1024;

/// What the function reads from the environment the stack gives it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The table that keeps every login (`username`, `timestamp`).
    pub table_name: String,
    /// The bucket that keeps one object per user.
    pub bucket_name: String,
    /// The SSM path holding the greetings, e.g. `/stack/greetings/`.
    pub greetings_path: String,
}

impl Config {
    /// Reads every variable; the error names the first one missing or malformed.
    pub fn from_env() -> Result<Self, InitError> {
        use env_contract::login::{BUCKET_NAME, GREETINGS_PATH, TABLE_NAME};
        let table_name = function_runtime::required(TABLE_NAME)?;
        let bucket_name = function_runtime::required(BUCKET_NAME)?;
        let greetings_path = function_runtime::required(GREETINGS_PATH)?;
        if !greetings_path.starts_with('/') {
            return Err(InitError::Malformed {
                name: GREETINGS_PATH,
                reason: "an SSM parameter path starts with `/`".to_owned(),
            });
        }
        Ok(Self {
            table_name,
            bucket_name,
            greetings_path,
        })
    }
}

/// Everything a request needs, built once per cold start.
pub struct App {
    config: Config,
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    ssm: aws_sdk_ssm::Client,
    greetings: Mutex<Option<(Instant, Vec<String>)>>,
}

impl App {
    /// Builds the three SDK clients from one shared configuration.
    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        // Path-style addressing: virtual-host buckets would need DNS for
        // `bucket.localhost` in tests; AWS serves both for our bucket names.
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build();
        Self {
            config,
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ssm: aws_sdk_ssm::Client::new(sdk),
            greetings: Mutex::new(None),
        }
    }

    /// The configuration the app was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The payload is not an API Gateway proxy event.
    #[error("the request is not an API Gateway proxy event")]
    NotAnApiGatewayEvent,
    /// No verified claims: the authorizer did not run, or the token had no name.
    #[error("no verified identity: sign in first")]
    Unauthenticated,
    /// The name is an e-mail address Cognito has not verified belongs to
    /// the person (`email_verified` is not `"true"`).
    #[error(
        "the e-mail address is not verified yet: confirm it with the code Cognito sent, then sign in again"
    )]
    UnverifiedEmail,
    /// A name the table or the bucket cannot take, or one that would not
    /// read as what it is.
    #[error("the user name cannot be stored: {0}")]
    UnusableName(&'static str),
    /// An AWS call failed; the cause is logged, never shown to the caller.
    #[error("{operation} failed: {cause}")]
    Aws {
        /// The SDK operation, e.g. `PutItem`.
        operation: &'static str,
        /// The whole cause chain (`DisplayErrorContext`).
        cause: String,
    },
}

impl LoginError {
    fn aws(operation: &'static str, error: impl std::error::Error) -> Self {
        Self::Aws {
            operation,
            cause: DisplayErrorContext(error).to_string(),
        }
    }

    /// The HTTP status the caller sees.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotAnApiGatewayEvent | Self::UnusableName(_) => 400,
            Self::Unauthenticated => 401,
            Self::UnverifiedEmail => 403,
            Self::Aws { .. } => 500,
        }
    }
}

/// Who signed in, from the verified claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The name logins are recorded under: `email`, else `cognito:username`.
    pub username: String,
    /// The `sub` claim: the user's immutable id in the pool, for the audit
    /// line (an e-mail address can change hands; `sub` never does).
    pub sub: Option<String>,
}

/// The user's identity from the verified claims.
///
/// Behind a REST `COGNITO_USER_POOLS` authorizer the claims are a flat map of
/// strings under `requestContext.authorizer.claims`. They are read from the raw
/// event because `aws_lambda_events`' typed authorizer keeps only the HTTP-API
/// (`jwt`) and Lambda-authorizer shapes and drops `claims`.
///
/// An e-mail name needs `email_verified` to be `"true"`: the table and the
/// bucket are keyed by it, so an unverified address (one typed at sign-up,
/// or changed and not yet confirmed) would record logins under someone
/// else's name. The `cognito:username` fallback is the pool's own id for
/// the user and needs no verification.
pub fn identity(event: &Value) -> Result<Identity, LoginError> {
    let claims = event
        .pointer("/requestContext/authorizer/claims")
        .and_then(Value::as_object)
        .ok_or(LoginError::Unauthenticated)?;
    let claim = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let username = match claim("email") {
        Some(email) if claim("email_verified") == Some("true") => email,
        Some(_) => return Err(LoginError::UnverifiedEmail),
        None => claim("cognito:username").ok_or(LoginError::Unauthenticated)?,
    };
    check_name(username)?;
    Ok(Identity {
        username: username.to_owned(),
        sub: claim("sub").map(str::to_owned),
    })
}

/// Rejects names S3 or DynamoDB would refuse, so the caller gets a 400
/// instead of a 500 from a failed write.
fn check_name(name: &str) -> Result<(), LoginError> {
    if name.len() > MAX_USERNAME_BYTES {
        return Err(LoginError::UnusableName("longer than 1024 bytes"));
    }
    // S3 keys travel in XML 1.0 listings, which cannot carry control characters.
    if name.chars().any(char::is_control) {
        return Err(LoginError::UnusableName("contains control characters"));
    }
    // Invisible characters would make a name look like another one, in the
    // table, the bucket and the audit trail alike.
    if name.chars().any(function_runtime::is_format_char) {
        return Err(LoginError::UnusableName(
            "contains invisible formatting characters (such as bidirectional overrides)",
        ));
    }
    // `.` and `..` as a whole key are refused by S3 (path normalisation).
    if name == "." || name == ".." {
        return Err(LoginError::UnusableName("`.` and `..` are not object keys"));
    }
    Ok(())
}

/// Now, as RFC 3339 in UTC with milliseconds (`2026-11-25T18:20:00.123Z`),
/// taken per request, so each login records when it happened.
pub fn timestamp_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// `PutItem {username, timestamp}`: the table keeps every login (the
/// timestamp is the range key).
pub async fn put_item(app: &App, username: &str, timestamp: &str) -> Result<(), LoginError> {
    app.dynamodb
        .put_item()
        .table_name(&app.config.table_name)
        .item("username", AttributeValue::S(username.to_owned()))
        .item("timestamp", AttributeValue::S(timestamp.to_owned()))
        .send()
        .await
        .map_err(|err| LoginError::aws("PutItem", err))?;
    Ok(())
}

/// `PutObject`: the key is the whole name, so `ann@a.com` and `ann@b.com`
/// are two objects; the body is the date and time.
pub async fn put_object(app: &App, username: &str, timestamp: &str) -> Result<(), LoginError> {
    app.s3
        .put_object()
        .bucket(&app.config.bucket_name)
        .key(username)
        .content_type("text/plain; charset=utf-8")
        .body(ByteStream::from(timestamp.as_bytes().to_vec()))
        .send()
        .await
        .map_err(|err| LoginError::aws("PutObject", err))?;
    Ok(())
}

/// Every greeting directly under the configured path, read from SSM
/// (`GetParametersByPath`, all pages); never anything outside that path.
pub async fn fetch_greetings(app: &App) -> Result<Vec<String>, LoginError> {
    // SSM wants the path without its trailing slash (`/stack/greetings`).
    let path = match app.config.greetings_path.trim_end_matches('/') {
        "" => "/",
        path => path,
    };
    let mut pages = app
        .ssm
        .get_parameters_by_path()
        .path(path)
        .recursive(false)
        .into_paginator()
        .send();
    let mut greetings = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| LoginError::aws("GetParametersByPath", err))?;
        greetings.extend(
            page.parameters()
                .iter()
                .filter_map(|p| p.value())
                .map(str::to_owned),
        );
    }
    Ok(greetings)
}

/// One greeting picked at random, from the cache when it is fresh.
pub async fn greeting(app: &App) -> Result<String, LoginError> {
    // Pick under the lock: a warm request copies one greeting, not the list.
    let cached = app.greetings.lock().ok().and_then(|slot| match &*slot {
        Some((at, greetings)) if at.elapsed() < GREETINGS_TTL => Some(pick(app, greetings)),
        _ => None,
    });
    if let Some(greeting) = cached {
        return Ok(greeting);
    }
    let fresh = fetch_greetings(app).await?;
    let greeting = pick(app, &fresh);
    if let Ok(mut slot) = app.greetings.lock() {
        *slot = Some((Instant::now(), fresh));
    }
    Ok(greeting)
}

fn pick(app: &App, greetings: &[String]) -> String {
    use rand::seq::IndexedRandom;
    match greetings.choose(&mut rand::rng()) {
        Some(greeting) => greeting.clone(),
        None => {
            // An empty path is a deploy problem, not the user's: greet anyway.
            tracing::warn!(path = %app.config.greetings_path, "no greetings under the path");
            "Hello".to_owned()
        }
    }
}

/// Serves one `GET /auth/login`: always an HTTP answer, never a panic or a
/// Lambda error (API Gateway would turn those into a bare 502).
pub async fn handle(
    app: &App,
    event: LambdaEvent<Value>,
) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
    let request_id = event.context.request_id.clone();
    Ok(match serve(app, &event.payload, &request_id).await {
        Ok(body) => respond::json(200, &body),
        Err(err @ LoginError::Aws { .. }) => {
            tracing::error!(request_id = %request_id, error = %err, "login not recorded");
            respond::json(
                500,
                &json!({
                    "message": "the login could not be recorded; try again, or quote the request id",
                    "requestId": request_id,
                }),
            )
        }
        Err(err) => {
            tracing::info!(request_id = %request_id, error = %err, "login refused");
            respond::json(
                err.status(),
                &json!({ "message": err.to_string(), "requestId": request_id }),
            )
        }
    })
}

async fn serve(app: &App, payload: &Value, request_id: &str) -> Result<Value, LoginError> {
    // Deserialize from the borrowed value: no copy of the whole event per request.
    let request = ApiGatewayProxyRequest::deserialize(payload)
        .map_err(|_| LoginError::NotAnApiGatewayEvent)?;
    let Identity { username, sub } = identity(payload)?;
    let timestamp = timestamp_now();
    let (_, _, greeting) = tokio::try_join!(
        put_item(app, &username, &timestamp),
        put_object(app, &username, &timestamp),
        greeting(app),
    )?;
    // The audit trail: one line per login, in CloudWatch Logs.
    tracing::info!(
        event = "login",
        username = %username,
        sub = sub.as_deref().unwrap_or_default(),
        timestamp = %timestamp,
        request_id = %request_id,
        api_request_id = request.request_context.request_id.as_deref().unwrap_or_default(),
        "login recorded"
    );
    Ok(json!({
        "message": format!("{greeting} {username}"),
        "username": username,
        "timestamp": timestamp,
    }))
}
