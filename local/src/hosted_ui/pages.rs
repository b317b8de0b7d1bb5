//! The HTML pages, the headers every answer carries, and small response
//! helpers. Everything put into a page goes through [`escape`].

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use aws_lc_rs::digest;
use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{HostedUi, Mail};

/// The one stylesheet, inline and allowed by its hash (no `'unsafe-inline'`).
const STYLE: &str = "\
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d1d1f;margin:0}\
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}\
main.wide{max-width:48rem}\
h1{font-size:1.5rem;margin:0 0 1rem}\
label{display:block;margin:0 0 1rem;font-size:.9rem}\
input{display:block;box-sizing:border-box;width:100%;margin-top:.25rem;padding:.5rem;font-size:1rem;border:1px solid #999;border-radius:4px}\
button{width:100%;padding:.6rem;font-size:1rem;border:0;border-radius:4px;background:#0b5cad;color:#fff;cursor:pointer}\
.error{background:#fde8e8;color:#8a1c1c;padding:.5rem;border-radius:4px}\
.notice{background:#e6f4ea;color:#1e5631;padding:.5rem;border-radius:4px}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}\
code{font-size:1.1rem}";

static STYLE_SOURCE: LazyLock<String> = LazyLock::new(|| {
    let hash = digest::digest(&digest::SHA256, STYLE.as_bytes());
    format!("'sha256-{}'", STANDARD.encode(hash.as_ref()))
});

/// The pages' policy. `form-action` lists the local callback and logout
/// origins besides `'self'`: browsers apply it to the redirect that follows a
/// form post, and a sign-in ends in one to the callback.
pub(super) fn content_security_policy(targets: impl Iterator<Item = String>) -> String {
    let mut form_action = vec!["'self'".to_owned()];
    for target in targets {
        if let Ok(url) = url::Url::parse(&target) {
            let origin = url.origin().ascii_serialization();
            if url.origin().is_tuple() && !form_action.contains(&origin) {
                form_action.push(origin);
            }
        }
    }
    format!(
        "default-src 'none'; style-src {}; form-action {}; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_SOURCE,
        form_action.join(" ")
    )
}

/// Adds the security headers to every answer (pages, redirects, JSON).
pub(super) async fn security_headers(
    State(ui): State<Arc<HostedUi>>,
    mut response: Response,
) -> Response {
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&ui.content_security_policy) {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `text` safe inside HTML text and double-quoted attributes.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A whole page; `body` is HTML already escaped.
fn page(status: StatusCode, title: &str, class: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main class=\"{class}\">{body}</main></body></html>\n",
        title = escape(title),
    );
    (status, Html(html)).into_response()
}

/// A 302 to `location`.
pub(super) fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
        Err(_) => error_page(),
    }
}

/// `response` with a `Set-Cookie` added.
pub(super) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(cookie) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// Cognito's own error page (400), shown where it must not redirect.
pub(super) fn error_page() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Error",
        "",
        "<h1>Something went wrong</h1><p class=\"error\">An error was encountered with the requested page.</p>",
    )
}

/// `GET /error` (`?error=redirect_mismatch&client_id=…`, for the reader of the URL).
pub(super) async fn error() -> Response {
    error_page()
}

/// Any other path.
pub(super) async fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "",
        "<h1>Not found</h1><p>The local hosted UI has no such page.</p>",
    )
}

/// The user pool failed in a way the person cannot fix (502).
pub(super) fn unavailable(message: &str) -> Response {
    page(
        StatusCode::BAD_GATEWAY,
        "Error",
        "",
        &format!(
            "<h1>Something went wrong</h1><p class=\"error\">{}</p>",
            escape(message)
        ),
    )
}

/// What a form page shows above its fields.
#[derive(Default)]
pub(super) struct Banner<'a> {
    pub(super) notice: Option<&'a str>,
    pub(super) error: Option<&'a str>,
}

impl Banner<'_> {
    fn html(&self) -> String {
        let mut html = String::new();
        if let Some(notice) = self.notice {
            let _ = write!(
                html,
                "<p class=\"notice\" role=\"status\">{}</p>",
                escape(notice)
            );
        }
        if let Some(error) = self.error {
            let _ = write!(
                html,
                "<p class=\"error\" role=\"alert\">{}</p>",
                escape(error)
            );
        }
        html
    }
}

/// A form's `_csrf` field.
fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        super::session::CSRF_FIELD,
        escape(csrf)
    )
}

/// The pages with a form that takes an e-mail address and one more field
/// (a password, the confirmation code).
#[derive(Debug, Clone, Copy)]
pub(super) enum EmailForm {
    SignIn,
    SignUp,
    Confirm,
}

impl EmailForm {
    /// The page; `query` carries the authorize request.
    pub(super) fn render(
        self,
        status: StatusCode,
        query: &str,
        csrf: &str,
        email: &str,
        banner: &Banner<'_>,
    ) -> Response {
        let (title, path, autocomplete, prompt, other, other_path) = match self {
            Self::SignIn => (
                "Sign in",
                "/login",
                "current-password",
                "Need an account?",
                "Sign up",
                "/signup",
            ),
            Self::SignUp => (
                "Sign up",
                "/signup",
                "new-password",
                "Already have an account?",
                "Sign in",
                "/login",
            ),
            Self::Confirm => return confirm(status, query, csrf, email, banner),
        };
        let body = format!(
            "<h1>{title}</h1>{banner}{form}\
             <label>Password<input type=\"password\" name=\"password\" autocomplete=\"{autocomplete}\" required></label>\
             <button type=\"submit\">{title}</button></form>\
             <p>{prompt} <a href=\"{link}\">{other}</a></p>",
            banner = banner.html(),
            form = email_form_start(&format!("{path}?{query}"), csrf, email, " autofocus"),
            link = escape(&format!("{other_path}?{query}")),
        );
        page(status, title, "", &body)
    }
}

fn confirm(
    status: StatusCode,
    query: &str,
    csrf: &str,
    email: &str,
    banner: &Banner<'_>,
) -> Response {
    let body = format!(
        "<h1>Confirm your account</h1>{banner}\
         <p>We have sent a code by e-mail. Enter it below to confirm your account. \
         (Locally, the e-mail is printed on the terminal and listed at <a href=\"/_local/mail\">/_local/mail</a>.)</p>\
{form}\
         <label>Verification code<input type=\"text\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required autofocus></label>\
         <button type=\"submit\">Confirm account</button></form>",
        banner = banner.html(),
        form = email_form_start(&format!("/confirm?{query}"), csrf, email, ""),
    );
    page(status, "Confirm your account", "", &body)
}

/// A form posting to `action`, its CSRF field and the e-mail address field
/// (`autofocus` is `" autofocus"` where the e-mail comes first, else empty).
fn email_form_start(action: &str, csrf: &str, email: &str, autofocus: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">{csrf}\
         <label>E-mail address<input type=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"username\" required{autofocus}></label>",
        action = escape(action),
        csrf = csrf_field(csrf),
        email = escape(email),
    )
}

/// The local outbox.
pub(super) fn mailbox(mails: &[Mail]) -> Response {
    let mut rows = String::new();
    for mail in mails.iter().rev() {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&mail.sent),
            escape(&mail.to),
            escape(&mail.code)
        );
    }
    let body = if mails.is_empty() {
        "<h1>Mail</h1><p>No e-mail sent yet.</p>".to_owned()
    } else {
        format!(
            "<h1>Mail</h1><p>Every e-mail the local user pool sent, newest first.</p>\
             <table><thead><tr><th>Sent</th><th>To</th><th>Code</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    page(StatusCode::OK, "Mail", "wide", &body)
}
