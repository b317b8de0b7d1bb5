//! The sign-in session (one hour, so a repeat authorize skips the form) and
//! the CSRF token that binds each form to the browser that loaded it.
//!
//! The API front serves on the same host, and cookies do not separate by
//! port, so these names stay clear of the auth function's `__Host-signin…`.

use std::time::SystemTime;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

use super::SESSION_LIFETIME;

/// The session cookie's name.
pub(super) const SESSION_COOKIE: &str = "hosted-ui-session";
/// The CSRF cookie's name; its value is also the form's `_csrf` field.
pub(super) const CSRF_COOKIE: &str = "hosted-ui-csrf";
/// The form field that repeats the CSRF cookie.
pub(super) const CSRF_FIELD: &str = "_csrf";

/// A session cookie's value: 32 random bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct SessionId(String);

impl SessionId {
    pub(super) fn new() -> Self {
        Self(random_token())
    }

    /// The session named by the request's cookie, if it has one.
    pub(super) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        cookie(headers, SESSION_COOKIE).map(Self)
    }

    /// `Set-Cookie` for this session: HttpOnly, SameSite=Lax, one hour.
    pub(super) fn set_cookie(&self) -> String {
        format!(
            "{SESSION_COOKIE}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax",
            self.0,
            SESSION_LIFETIME.as_secs()
        )
    }

    /// `Set-Cookie` that removes the session cookie.
    pub(super) fn clear_cookie() -> String {
        format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }
}

/// Who signed in, and how to get them fresh tokens without the password.
pub(super) struct Session {
    pub(super) client_id: String,
    /// The refresh token of the sign-in (REFRESH_TOKEN_AUTH with it gives
    /// new ID and access tokens).
    pub(super) refresh_token: String,
    pub(super) started: SystemTime,
}

/// The CSRF token a form carries, equal to the browser's CSRF cookie.
pub(super) struct CsrfToken(String);

impl CsrfToken {
    /// The browser's token, or a new one if it has none.
    pub(super) fn for_form(headers: &HeaderMap) -> (Self, Option<String>) {
        match cookie(headers, CSRF_COOKIE).filter(|token| is_token(token)) {
            Some(token) => (Self(token), None),
            None => {
                let token = random_token();
                let set_cookie = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax");
                (Self(token), Some(set_cookie))
            }
        }
    }

    /// Whether a submitted form's token matches the browser's cookie.
    pub(super) fn matches(headers: &HeaderMap, submitted: Option<&str>) -> bool {
        match (cookie(headers, CSRF_COOKIE), submitted) {
            (Some(cookie), Some(submitted)) if is_token(&cookie) => {
                bool::from(cookie.as_bytes().ct_eq(submitted.as_bytes()))
            }
            _ => false,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

/// 32 random bytes, base64url.
pub(super) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn is_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The value of cookie `name` in the request, if sent.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}
