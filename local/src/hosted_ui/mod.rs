//! A stand-in for Cognito's hosted UI (managed login) and OAuth endpoints.
//!
//! moto has the user pool but no hosted UI, so this serves it by Cognito's
//! documented contract: `/oauth2/authorize`, the sign-in, sign-up and
//! confirmation pages, `/oauth2/token`, `/oauth2/revoke` and `/logout`. It
//! plays the part of Cognito's own pages: it checks passwords through moto's
//! `InitiateAuth` (`USER_PASSWORD_AUTH`), keeps moto's tokens under the
//! authorization code, and owns what moto does not check (confirmation
//! codes, authorization codes, PKCE, sessions, revoked refresh tokens).
//!
//! The app client's URLs stay as deployed (`https://<api>.execute-api…`) and
//! are compared exactly; only the browser's final redirect to a callback or
//! logout URL goes through [`OriginMap::to_local`].

mod account;
mod cognito;
mod oauth;
mod pages;
mod params;
mod session;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;

use crate::Clock;
use crate::origins::OriginMap;

use self::oauth::{Code, Grant, RefreshGrant};
use self::session::{Session, SessionId};

/// What can go wrong while reading the app client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DescribeUserPoolClient failed.
    #[error("cannot describe app client {client_id} of user pool {user_pool_id}: {message}")]
    Describe {
        /// The pool asked.
        user_pool_id: String,
        /// The client asked.
        client_id: String,
        /// The SDK's whole cause chain.
        message: String,
    },
    /// The client has no secret, which the stack always generates.
    #[error(
        "app client {0} has no secret; the stack's client is created with GenerateSecret, deploy it again"
    )]
    NoSecret(String),
}

/// What the stand-in knows of the deployed app client.
#[derive(Debug, Clone)]
pub struct AppClient {
    /// The user pool the client belongs to.
    pub user_pool_id: String,
    /// The client's id.
    pub client_id: String,
    /// The client's secret (HTTP Basic at the token endpoint, SECRET_HASH for moto).
    pub client_secret: String,
    /// CallbackURLs as deployed (`https://<api>.execute-api.us-east-1.amazonaws.com/dev/auth`).
    pub callback_urls: Vec<String>,
    /// LogoutURLs as deployed.
    pub logout_urls: Vec<String>,
    /// AllowedOAuthScopes.
    pub allowed_scopes: Vec<String>,
}

impl AppClient {
    /// DescribeUserPoolClient (moto): reads all of the above.
    pub async fn describe(
        cognito: &Client,
        user_pool_id: &str,
        client_id: &str,
    ) -> Result<Self, Error> {
        let answer = cognito
            .describe_user_pool_client()
            .user_pool_id(user_pool_id)
            .client_id(client_id)
            .send()
            .await
            .map_err(|err| Error::Describe {
                user_pool_id: user_pool_id.to_owned(),
                client_id: client_id.to_owned(),
                message: DisplayErrorContext(err).to_string(),
            })?;
        let Some(client) = answer.user_pool_client() else {
            return Err(Error::Describe {
                user_pool_id: user_pool_id.to_owned(),
                client_id: client_id.to_owned(),
                message: "the answer has no UserPoolClient".to_owned(),
            });
        };
        let client_secret = client
            .client_secret()
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| Error::NoSecret(client_id.to_owned()))?;
        Ok(Self {
            user_pool_id: user_pool_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            callback_urls: client.callback_urls().to_vec(),
            logout_urls: client.logout_urls().to_vec(),
            allowed_scopes: client.allowed_o_auth_scopes().to_vec(),
        })
    }
}

/// An e-mail the stand-in "sent": a confirmation code for a new account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mail {
    /// The address, as the person typed it at sign-up.
    pub to: String,
    /// The six-digit confirmation code.
    pub code: String,
    /// When it was sent, RFC 3339 in UTC.
    pub sent: String,
}

/// How long an authorization code can be redeemed (Cognito: five minutes).
const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// How long the sign-in session skips the form (Cognito: one hour).
const SESSION_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// How long a confirmation code is valid (Cognito: 24 hours).
const CONFIRMATION_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// A confirmation code waiting to be typed.
struct Confirmation {
    code: String,
    sent: SystemTime,
}

/// Everything the stand-in remembers; moto holds the users.
#[derive(Default)]
struct Memory {
    codes: HashMap<Code, Grant>,
    sessions: HashMap<SessionId, Session>,
    /// Refresh tokens this stand-in handed out and nobody revoked. moto has
    /// no RevokeToken, so a revoked token is one that is no longer here.
    refresh_tokens: HashMap<String, RefreshGrant>,
    /// By e-mail address, lowercased (the pool ignores case).
    confirmations: HashMap<String, Confirmation>,
    outbox: Vec<Mail>,
}

/// The hosted-UI stand-in: its state and its routes.
pub struct HostedUi {
    client: AppClient,
    cognito: Client,
    origins: OriginMap,
    clock: Clock,
    on_mail: Box<dyn Fn(&Mail) + Send + Sync>,
    content_security_policy: String,
    memory: Mutex<Memory>,
}

impl HostedUi {
    /// `origins` maps deployed origins (the API's execute-api origin) to local ones; used ONLY for the
    /// final browser redirect to a callback/logout URL (redirect_uri itself is matched exactly as deployed).
    /// `on_mail` is called for every e-mail "sent" (local mode prints it on the terminal).
    pub fn new(
        client: AppClient,
        cognito: Client,
        origins: OriginMap,
        clock: Clock,
        on_mail: Box<dyn Fn(&Mail) + Send + Sync>,
    ) -> Self {
        let content_security_policy = pages::content_security_policy(
            client
                .callback_urls
                .iter()
                .chain(&client.logout_urls)
                .map(|url| origins.to_local(url)),
        );
        Self {
            client,
            cognito,
            origins,
            clock,
            on_mail,
            content_security_policy,
            memory: Mutex::new(Memory::default()),
        }
    }

    /// The routes, all at the root of the server that serves them.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/oauth2/authorize", get(oauth::authorize))
            .route("/oauth2/token", post(oauth::token))
            .route("/oauth2/revoke", post(oauth::revoke))
            .route("/logout", get(oauth::logout))
            .route("/login", get(account::sign_in_form).post(account::sign_in))
            .route("/signup", get(account::sign_up_form).post(account::sign_up))
            .route(
                "/confirm",
                get(account::confirm_form).post(account::confirm),
            )
            .route("/error", get(pages::error))
            .route("/_local/mail", get(account::mailbox))
            .fallback(pages::not_found)
            .layer(axum::middleware::map_response_with_state(
                Arc::clone(&self),
                pages::security_headers,
            ))
            .with_state(self)
    }

    /// Every e-mail sent so far, oldest first.
    pub fn outbox(&self) -> Vec<Mail> {
        self.memory().outbox.clone()
    }

    fn now(&self) -> SystemTime {
        (self.clock)()
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        // Nothing panics while holding the lock, and the maps stay
        // consistent at every step, so a poisoned lock is still usable.
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes a new confirmation code for `email`, replacing any earlier one,
    /// and "delivers" it.
    fn send_confirmation_code(&self, email: &str) {
        let code = format!("{:06}", rand::random_range(0..1_000_000u32));
        let now = self.now();
        let mail = Mail {
            to: email.to_owned(),
            code: code.clone(),
            sent: rfc3339(now),
        };
        {
            let mut memory = self.memory();
            memory
                .confirmations
                .insert(email.to_lowercase(), Confirmation { code, sent: now });
            memory.outbox.push(mail.clone());
        }
        (self.on_mail)(&mail);
    }
}

/// Whether something made at `made` is still valid at `now`. A clock that
/// went back counts as no time passed.
fn is_fresh(made: SystemTime, now: SystemTime, lifetime: Duration) -> bool {
    now.duration_since(made).map_or(true, |age| age < lifetime)
}

fn rfc3339(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
