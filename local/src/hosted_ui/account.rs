//! The managed-login pages a person uses: sign in, sign up, confirm the
//! account with the e-mailed code, and the local outbox of those e-mails.
//!
//! Every page carries the authorize request in its query string (checked
//! again on every request, as it comes from outside) so that signing up and
//! confirming end at the callback like a plain sign-in.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use super::cognito::{INCORRECT, Refused, SignIn};
use super::pages::{self, Banner, EmailForm, found, unavailable, with_cookie};
use super::params::{Authorize, Params, Refusal};
use super::session::{CSRF_FIELD, CsrfToken};
use super::{CONFIRMATION_LIFETIME, HostedUi, is_fresh};

/// The notice after a confirmation (`notice=confirmed`); the text is ours,
/// never the query's.
const CONFIRMED: &str = "Your account is confirmed. Sign in to continue.";
const EXPIRED_FORM: &str = "This page has expired. Please try again.";
const CODE_MISMATCH: &str = "Invalid verification code provided, please try again.";
const CODE_EXPIRED: &str = "Invalid code provided, please request a code again.";

/// A page whose form is bound to the browser's CSRF cookie (set here if the
/// browser has none yet).
fn form_page(headers: &HeaderMap, render: impl FnOnce(&str) -> Response) -> Response {
    let (csrf, set_cookie) = CsrfToken::for_form(headers);
    let response = render(csrf.as_str());
    match set_cookie {
        Some(cookie) => with_cookie(response, &cookie),
        None => response,
    }
}

impl EmailForm {
    /// The other field: a password as typed, a code without the spaces a
    /// paste brings.
    fn field(self, form: &Params) -> Option<&str> {
        match self {
            Self::SignIn | Self::SignUp => form.get("password"),
            Self::Confirm => form.get("code").map(str::trim),
        }
    }

    /// What the page says when a field is left empty.
    fn missing(self) -> &'static str {
        match self {
            Self::SignIn => "Enter your e-mail address and password.",
            Self::SignUp => "Enter your e-mail address and a password.",
            Self::Confirm => "Enter your e-mail address and the code.",
        }
    }
}

/// A submitted e-mail form after the checks every POST makes first: the
/// authorize request, the CSRF token, both fields there.
struct Filled<'h> {
    kind: EmailForm,
    headers: &'h HeaderMap,
    auth: Authorize,
    email: String,
    /// The password or the code.
    value: String,
}

impl Filled<'_> {
    /// The same page again, with the e-mail address kept and `error` shown.
    fn again(&self, status: StatusCode, error: &str) -> Response {
        let banner = Banner {
            notice: None,
            error: Some(error),
        };
        form_page(self.headers, |csrf| {
            self.kind
                .render(status, &self.auth.query(), csrf, &self.email, &banner)
        })
    }
}

impl HostedUi {
    /// Checks a submitted e-mail form; what fails a check gets its answer:
    /// the error page for the authorize request, the form again otherwise.
    fn filled<'h>(
        &self,
        kind: EmailForm,
        query: Option<&str>,
        headers: &'h HeaderMap,
        body: &Bytes,
    ) -> Result<Filled<'h>, Box<Response>> {
        let params = Params::parse(query.map(str::as_bytes));
        let auth = Authorize::check(&params, &self.client)
            .map_err(|refusal| Box::new(self.refuse(refusal)))?;
        let form = Params::parse(Some(body));
        let mut filled = Filled {
            kind,
            headers,
            auth,
            email: form
                .get("email")
                .map(str::trim)
                .unwrap_or_default()
                .to_owned(),
            value: String::new(),
        };
        if !CsrfToken::matches(headers, form.get(CSRF_FIELD)) {
            return Err(Box::new(filled.again(StatusCode::FORBIDDEN, EXPIRED_FORM)));
        }
        match kind.field(&form).filter(|_| !filled.email.is_empty()) {
            Some(value) => {
                value.clone_into(&mut filled.value);
                Ok(filled)
            }
            None => Err(Box::new(
                filled.again(StatusCode::BAD_REQUEST, kind.missing()),
            )),
        }
    }

    fn authorize_from(&self, query: Option<&str>) -> Result<(Authorize, Params), Refusal> {
        let params = Params::parse(query.map(str::as_bytes));
        Authorize::check(&params, &self.client).map(|auth| (auth, params))
    }

    /// Takes the code for `email` if `code` is it: single use, 24 hours.
    fn take_confirmation(&self, email: &str, code: &str) -> Result<(), &'static str> {
        let key = email.to_lowercase();
        let now = self.now();
        let mut memory = self.memory();
        let Some(waiting) = memory.confirmations.get(&key) else {
            return Err(CODE_EXPIRED);
        };
        if !is_fresh(waiting.sent, now, CONFIRMATION_LIFETIME) {
            memory.confirmations.remove(&key);
            return Err(CODE_EXPIRED);
        }
        if !bool::from(waiting.code.as_bytes().ct_eq(code.as_bytes())) {
            return Err(CODE_MISMATCH);
        }
        memory.confirmations.remove(&key);
        Ok(())
    }

    fn has_live_confirmation(&self, email: &str) -> bool {
        let now = self.now();
        self.memory()
            .confirmations
            .get(&email.to_lowercase())
            .is_some_and(|waiting| is_fresh(waiting.sent, now, CONFIRMATION_LIFETIME))
    }
}

/// `GET /login`.
pub(super) async fn sign_in_form(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (auth, params) = match ui.authorize_from(query.as_deref()) {
        Ok(checked) => checked,
        Err(refusal) => return ui.refuse(refusal),
    };
    let banner = Banner {
        notice: (params.get("notice") == Some("confirmed")).then_some(CONFIRMED),
        error: None,
    };
    let email = params.get("email").unwrap_or_default();
    form_page(&headers, |csrf| {
        EmailForm::SignIn.render(StatusCode::OK, &auth.query(), csrf, email, &banner)
    })
}

/// `POST /login`: the pool checks the password; success ends at the callback.
pub(super) async fn sign_in(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match ui.filled(EmailForm::SignIn, query.as_deref(), &headers, &body) {
        Ok(form) => form,
        Err(page) => return *page,
    };
    let (auth, email) = (&form.auth, form.email.as_str());
    match ui
        .password_sign_in(email, &form.value, auth.nonce.as_deref())
        .await
    {
        SignIn::Tokens(tokens) => ui.complete_sign_in(auth, email, tokens),
        SignIn::Incorrect => form.again(StatusCode::BAD_REQUEST, INCORRECT),
        SignIn::Unconfirmed => {
            // As Cognito's page does for an unconfirmed account (the password
            // was right): on to the confirmation, with a code if none is valid.
            if !ui.has_live_confirmation(email) {
                ui.send_confirmation_code(email);
            }
            found(&format!(
                "/confirm?{}",
                auth.query_with(&[("email", email)])
            ))
        }
        SignIn::Unsupported(message) => form.again(StatusCode::BAD_REQUEST, &message),
        SignIn::Failed(message) => unavailable(&message),
    }
}

/// `GET /signup`.
pub(super) async fn sign_up_form(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (auth, _) = match ui.authorize_from(query.as_deref()) {
        Ok(checked) => checked,
        Err(refusal) => return ui.refuse(refusal),
    };
    form_page(&headers, |csrf| {
        EmailForm::SignUp.render(StatusCode::OK, &auth.query(), csrf, "", &Banner::default())
    })
}

/// `POST /signup`: the pool checks the password policy; then a code goes out.
pub(super) async fn sign_up(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match ui.filled(EmailForm::SignUp, query.as_deref(), &headers, &body) {
        Ok(form) => form,
        Err(page) => return *page,
    };
    let (auth, email) = (&form.auth, form.email.as_str());
    match ui.register(email, &form.value).await {
        Ok(()) => {
            ui.send_confirmation_code(email);
            found(&format!(
                "/confirm?{}",
                auth.query_with(&[("email", email)])
            ))
        }
        Err(Refused(message)) => form.again(StatusCode::BAD_REQUEST, &message),
    }
}

/// `GET /confirm`.
pub(super) async fn confirm_form(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (auth, params) = match ui.authorize_from(query.as_deref()) {
        Ok(checked) => checked,
        Err(refusal) => return ui.refuse(refusal),
    };
    let email = params.get("email").unwrap_or_default();
    form_page(&headers, |csrf| {
        EmailForm::Confirm.render(
            StatusCode::OK,
            &auth.query(),
            csrf,
            email,
            &Banner::default(),
        )
    })
}

/// `POST /confirm`: the stand-in checks its code, then moto confirms the
/// account and the e-mail is marked verified; back to the sign-in form.
pub(super) async fn confirm(
    State(ui): State<Arc<HostedUi>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match ui.filled(EmailForm::Confirm, query.as_deref(), &headers, &body) {
        Ok(form) => form,
        Err(page) => return *page,
    };
    let (auth, email, code) = (&form.auth, form.email.as_str(), form.value.as_str());
    if let Err(message) = ui.take_confirmation(email, code) {
        return form.again(StatusCode::BAD_REQUEST, message);
    }
    match ui.confirm_account(email, code).await {
        Ok(()) => found(&format!(
            "/login?{}",
            auth.query_with(&[("email", email), ("notice", "confirmed")])
        )),
        Err(Refused(message)) => form.again(StatusCode::BAD_REQUEST, &message),
    }
}

/// `GET /_local/mail`: every e-mail sent, as a page or (`Accept:
/// application/json`) as `[{"to","code","sent"}]`.
pub(super) async fn mailbox(State(ui): State<Arc<HostedUi>>, headers: HeaderMap) -> Response {
    let wants_json = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("application/json"));
    let outbox = ui.outbox();
    if wants_json {
        Json(outbox).into_response()
    } else {
        pages::mailbox(&outbox)
    }
}
