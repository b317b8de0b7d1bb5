//! The OAuth 2.0 endpoints: `/oauth2/authorize`, `/oauth2/token`,
//! `/oauth2/revoke` and `/logout`, and the authorization codes they share
//! with the sign-in page.

use std::sync::Arc;
use std::time::SystemTime;

use aws_lc_rs::digest;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use subtle::ConstantTimeEq as _;

use super::cognito::{RefreshFailure, Tokens};
use super::pages::{error_page, found, unavailable, with_cookie};
use super::params::{Authorize, OAuthError, Params, Refusal, Repeated};
use super::session::{Session, SessionId};
use super::{CODE_LIFETIME, HostedUi, SESSION_LIFETIME, is_fresh};

/// An authorization code: a random UUID, as Cognito's are.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct Code(String);

impl Code {
    fn new() -> Self {
        let mut bytes: [u8; 16] = rand::random();
        // RFC 9562 version 4 (random) and variant bits.
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex = hex::encode(bytes);
        Self(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }
}

/// What a code stands for: the sign-in's tokens, bound to the request that asked.
pub(super) struct Grant {
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    scopes: Vec<String>,
    tokens: Tokens,
    issued: SystemTime,
}

/// A live refresh token: whose it is and what its ID tokens carry.
#[derive(Clone)]
pub(super) struct RefreshGrant {
    pub(super) client_id: String,
    /// As typed at sign-in: moto checks REFRESH_TOKEN_AUTH's SECRET_HASH against it.
    pub(super) username: String,
    pub(super) nonce: Option<String>,
    pub(super) scopes: Vec<String>,
}

impl HostedUi {
    /// The answer to a refused authorize request.
    pub(super) fn refuse(&self, refusal: Refusal) -> Response {
        match refusal {
            Refusal::ErrorPage => {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query
                    .append_pair("error", "redirect_mismatch")
                    .append_pair("client_id", &self.client.client_id);
                found(&format!("/error?{}", query.finish()))
            }
            Refusal::ToClient {
                redirect_uri,
                error,
                state,
            } => found(&self.origins.to_local(&Refusal::callback_with_error(
                &redirect_uri,
                error,
                state.as_deref(),
            ))),
        }
    }

    /// Ends a password sign-in: remembers the refresh token, starts the
    /// session and sends the browser to the callback with a code.
    pub(super) fn complete_sign_in(
        &self,
        auth: &Authorize,
        username: &str,
        tokens: Tokens,
    ) -> Response {
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return unavailable("the user pool issued no refresh token");
        };
        let session = SessionId::new();
        {
            let mut memory = self.memory();
            memory.refresh_tokens.insert(
                refresh_token.clone(),
                RefreshGrant {
                    client_id: auth.client_id.clone(),
                    username: username.to_owned(),
                    nonce: auth.nonce.clone(),
                    scopes: auth.scopes.clone(),
                },
            );
            let now = self.now();
            memory
                .sessions
                .retain(|_, s| is_fresh(s.started, now, SESSION_LIFETIME));
            memory.sessions.insert(
                session.clone(),
                Session {
                    client_id: auth.client_id.clone(),
                    refresh_token,
                    started: now,
                },
            );
        }
        with_cookie(self.redirect_with_code(auth, tokens), &session.set_cookie())
    }

    /// Stores a code for `tokens` and answers with the redirect to the callback.
    fn redirect_with_code(&self, auth: &Authorize, tokens: Tokens) -> Response {
        let code = Code::new();
        let location = self.origins.to_local(&auth.callback_with_code(&code.0));
        let now = self.now();
        let mut memory = self.memory();
        memory
            .codes
            .retain(|_, grant| is_fresh(grant.issued, now, CODE_LIFETIME));
        memory.codes.insert(
            code,
            Grant {
                client_id: auth.client_id.clone(),
                redirect_uri: auth.redirect_uri.clone(),
                code_challenge: auth.code_challenge.clone(),
                scopes: auth.scopes.clone(),
                tokens,
                issued: now,
            },
        );
        drop(memory);
        found(&location)
    }

    /// With a live session, fresh tokens without the form (as Cognito's
    /// session cookie does); `None` sends the person to the form.
    async fn resume_session(&self, headers: &HeaderMap, auth: &Authorize) -> Option<Response> {
        let id = SessionId::from_headers(headers)?;
        let (refresh_token, username) = {
            let mut memory = self.memory();
            let session = memory.sessions.get(&id)?;
            let refresh_token = session.refresh_token.clone();
            let live = session.client_id == auth.client_id
                && is_fresh(session.started, self.now(), SESSION_LIFETIME);
            match memory.refresh_tokens.get(&refresh_token) {
                Some(grant) if live => (refresh_token, grant.username.clone()),
                _ => {
                    memory.sessions.remove(&id);
                    return None;
                }
            }
        };
        match self
            .refresh(&refresh_token, &username, auth.nonce.as_deref())
            .await
        {
            Ok(tokens) => Some(self.redirect_with_code(
                auth,
                Tokens {
                    refresh_token: Some(refresh_token),
                    ..tokens
                },
            )),
            Err(RefreshFailure::Refused) => {
                self.memory().sessions.remove(&id);
                None
            }
            Err(RefreshFailure::Failed(message)) => Some(unavailable(&message)),
        }
    }

    /// The form of a request the client makes itself (token, revoke):
    /// form-encoded and authenticated, before anything else is looked at.
    fn client_form(&self, headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
        if !is_form(headers) {
            return Err(OAuthError::InvalidRequest);
        }
        let form = Params::parse(Some(body));
        self.authenticate(headers, &form)?;
        Ok(form)
    }

    /// Checks HTTP Basic against the client's id and secret (the secret in
    /// constant time); a `client_id` in the form must agree.
    fn authenticate(&self, headers: &HeaderMap, form: &Params) -> Result<(), OAuthError> {
        let credentials = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .ok_or(OAuthError::InvalidClient)?;
        let (id, secret) = credentials
            .split_once(':')
            .ok_or(OAuthError::InvalidClient)?;
        let secret_matches: bool = secret
            .as_bytes()
            .ct_eq(self.client.client_secret.as_bytes())
            .into();
        let form_id = form
            .one("client_id")
            .map_err(|Repeated| OAuthError::InvalidRequest)?;
        if id != self.client.client_id || !secret_matches || form_id.is_some_and(|f| f != id) {
            return Err(OAuthError::InvalidClient);
        }
        Ok(())
    }

    fn redeem_code(&self, form: &Params) -> Result<TokenAnswer, OAuthError> {
        let one = |name| {
            form.one(name)
                .map_err(|Repeated| OAuthError::InvalidRequest)
        };
        let (Some(code), Some(redirect_uri)) = (one("code")?, one("redirect_uri")?) else {
            return Err(OAuthError::InvalidRequest);
        };
        let verifier = one("code_verifier")?;
        // Removed on the first attempt, whatever its outcome: single use.
        let grant = self
            .memory()
            .codes
            .remove(&Code(code.to_owned()))
            .ok_or(OAuthError::InvalidGrant)?;
        if !is_fresh(grant.issued, self.now(), CODE_LIFETIME)
            || grant.client_id != self.client.client_id
        {
            return Err(OAuthError::InvalidGrant);
        }
        // Cognito answers a redirect URI other than the authorize request's
        // with unauthorized_client (RFC 6749 §5.2 would say invalid_grant).
        if grant.redirect_uri != redirect_uri {
            return Err(OAuthError::UnauthorizedClient);
        }
        if let Some(challenge) = &grant.code_challenge {
            let verifier = verifier.ok_or(OAuthError::InvalidGrant)?;
            let computed =
                URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return Err(OAuthError::InvalidGrant);
            }
        }
        Ok(TokenAnswer::new(grant.tokens, &grant.scopes))
    }

    async fn refresh_grant(&self, form: &Params) -> Result<TokenAnswer, OAuthError> {
        let refresh_token = form
            .one("refresh_token")
            .map_err(|Repeated| OAuthError::InvalidRequest)?
            .ok_or(OAuthError::InvalidRequest)?;
        let grant = self
            .memory()
            .refresh_tokens
            .get(refresh_token)
            .cloned()
            .filter(|grant| grant.client_id == self.client.client_id)
            .ok_or(OAuthError::InvalidGrant)?;
        match self
            .refresh(refresh_token, &grant.username, grant.nonce.as_deref())
            .await
        {
            Ok(tokens) => Ok(TokenAnswer::new(
                Tokens {
                    refresh_token: None,
                    ..tokens
                },
                &grant.scopes,
            )),
            Err(RefreshFailure::Refused) => Err(OAuthError::InvalidGrant),
            Err(RefreshFailure::Failed(_)) => Err(OAuthError::ServerError),
        }
    }
}

/// The token endpoint's answer.
#[derive(Serialize)]
struct TokenAnswer {
    /// Only with the `openid` scope, as Cognito does.
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    access_token: String,
    /// Only for the authorization code grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    expires_in: i32,
    token_type: &'static str,
}

impl TokenAnswer {
    fn new(tokens: Tokens, scopes: &[String]) -> Self {
        Self {
            id_token: scopes
                .iter()
                .any(|scope| scope == "openid")
                .then_some(tokens.id_token),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
            token_type: "Bearer",
        }
    }
}

/// A JSON answer that no cache keeps.
fn json(status: StatusCode, body: impl Serialize) -> Response {
    (
        status,
        [(PRAGMA, HeaderValue::from_static("no-cache"))],
        Json(body),
    )
        .into_response()
}

fn oauth_error(error: OAuthError) -> Response {
    let status = match error {
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    json(status, serde_json::json!({ "error": error.as_str() }))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `GET /oauth2/authorize`.
pub(super) async fn authorize(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(query.as_deref().map(str::as_bytes));
    let auth = match Authorize::check(&params, &ui.client) {
        Ok(auth) => auth,
        Err(refusal) => return ui.refuse(refusal),
    };
    if let Some(response) = ui.resume_session(&headers, &auth).await {
        return response;
    }
    found(&format!("/login?{}", auth.query()))
}

/// `POST /oauth2/token`: the authorization code and refresh token grants.
pub(super) async fn token(
    State(ui): State<Arc<HostedUi>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match ui.client_form(&headers, &body) {
        Ok(form) => form,
        Err(error) => return oauth_error(error),
    };
    let answer = match form.one("grant_type") {
        Err(Repeated) | Ok(None) => Err(OAuthError::InvalidRequest),
        Ok(Some("authorization_code")) => ui.redeem_code(&form),
        Ok(Some("refresh_token")) => ui.refresh_grant(&form).await,
        // The client is not allowed the client credentials grant.
        Ok(Some("client_credentials")) => Err(OAuthError::UnauthorizedClient),
        Ok(Some(_)) => Err(OAuthError::UnsupportedGrantType),
    };
    match answer {
        Ok(answer) => json(StatusCode::OK, answer),
        Err(error) => oauth_error(error),
    }
}

/// `POST /oauth2/revoke`: a refresh token (and the session built on it)
/// stops working. An unknown token is already "revoked" (RFC 7009 §2.2).
pub(super) async fn revoke(
    State(ui): State<Arc<HostedUi>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match ui.client_form(&headers, &body) {
        Ok(form) => form,
        Err(error) => return oauth_error(error),
    };
    let token = match form.one("token") {
        Ok(Some(token)) => token,
        Err(Repeated) | Ok(None) => return oauth_error(OAuthError::InvalidRequest),
    };
    // Cognito revokes refresh tokens only; access and ID tokens are JWTs.
    if token.split('.').count() == 3 {
        return oauth_error(OAuthError::UnsupportedTokenType);
    }
    let mut memory = ui.memory();
    match memory.refresh_tokens.get(token) {
        Some(grant) if grant.client_id != ui.client.client_id => {
            return oauth_error(OAuthError::UnauthorizedClient);
        }
        Some(_) => {
            memory.refresh_tokens.remove(token);
            memory
                .sessions
                .retain(|_, session| session.refresh_token != token);
        }
        None => {}
    }
    drop(memory);
    (
        StatusCode::OK,
        [(PRAGMA, HeaderValue::from_static("no-cache"))],
    )
        .into_response()
}

/// `GET /logout`: ends the session, then either to a registered logout URL
/// (`logout_uri`) or back to the sign-in form (`redirect_uri` and
/// `response_type`, like an authorize request).
pub(super) async fn logout(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(query.as_deref().map(str::as_bytes));
    if params.one("client_id").ok().flatten() != Some(ui.client.client_id.as_str()) {
        return error_page();
    }
    let destination = match params.one("logout_uri") {
        Err(Repeated) => return error_page(),
        Ok(Some(logout_uri)) => {
            if !ui.client.logout_urls.iter().any(|url| url == logout_uri) {
                return error_page();
            }
            ui.origins.to_local(logout_uri)
        }
        Ok(None) => match Authorize::check(&params, &ui.client) {
            Ok(auth) => format!("/login?{}", auth.query()),
            Err(Refusal::ErrorPage) => return error_page(),
            Err(refusal) => return ui.refuse(refusal),
        },
    };
    if let Some(id) = SessionId::from_headers(&headers) {
        ui.memory().sessions.remove(&id);
    }
    with_cookie(found(&destination), &SessionId::clear_cookie())
}
