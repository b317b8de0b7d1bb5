//! Cold-start plumbing shared by the `auth` and `login` functions.
//!
//! Everything here runs once per execution environment, before the first
//! `invocation/next`: reading the configuration, setting up JSON logs, reading
//! the system trust store and building the AWS SDK configuration on top of it.
//! A failure at that stage is reported to the Runtime API's `/init/error`
//! (the `lambda_runtime` crate only does that for SnapStart hooks), so the
//! console shows *which* variable is missing instead of a bare exit code.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

/// A cold-start failure: the function cannot serve any request.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A variable the stack sets is absent or empty.
    #[error(
        "environment variable {name} is not set; the stack sets it, so redeploy or set it by hand"
    )]
    Missing {
        /// The variable's name.
        name: &'static str,
    },
    /// A variable is present but its value cannot be used.
    #[error("environment variable {name} is malformed: {reason}")]
    Malformed {
        /// The variable's name.
        name: &'static str,
        /// What is wrong with it (never the value itself: it may be private).
        reason: String,
    },
    /// Anything else that stops the function before its first event.
    #[error("{0}")]
    Other(String),
}

impl InitError {
    /// The `errorType` reported to `/init/error`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "Config.MissingVariable",
            Self::Malformed { .. } => "Config.MalformedVariable",
            Self::Other(_) => "Runtime.InitError",
        }
    }
}

/// Reads a required, non-empty variable.
pub fn required(name: &'static str) -> Result<String, InitError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(InitError::Missing { name }),
        Err(std::env::VarError::NotUnicode(_)) => Err(InitError::Malformed {
            name,
            reason: "not valid UTF-8".to_owned(),
        }),
    }
}

/// Reads a required variable that must be an absolute `http(s)://` URL.
///
/// Only the scheme and a host are checked: the functions pass the URL on
/// verbatim, and a typo such as a missing scheme is the mistake worth catching.
pub fn required_url(name: &'static str) -> Result<String, InitError> {
    let value = required(name)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| InitError::Malformed {
            name,
            reason: "expected an absolute http(s):// URL".to_owned(),
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(InitError::Malformed {
            name,
            reason: "expected an absolute http(s):// URL with a host and no spaces".to_owned(),
        });
    }
    Ok(value)
}

/// Whether `c` is a Unicode format character (general category `Cf`, as
/// of Unicode 16): invisible characters that change how text around them
/// is shown or joined, such as the bidirectional overrides (U+202A–U+202E,
/// U+2066–U+2069) that make `moc.elpmaxe@nna` read as `ann@example.com`.
/// Written out because no crate in the functions carries Unicode tables.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// A function's `main`: sets up JSON logs, runs `init` once (configuration,
/// clients, secrets), then serves every event with `handle` until Lambda
/// stops the process. A failed `init` is reported to `/init/error` and the
/// process exits with status 1, as does a runtime loop that stops.
pub async fn serve<App>(
    init: impl Future<Output = Result<App, InitError>>,
    handle: impl AsyncFn(
        &App,
        LambdaEvent<Value>,
    ) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error>,
) {
    init_tracing();
    let app = match init.await {
        Ok(app) => app,
        Err(err) => {
            report_init_error(&err);
            std::process::exit(1);
        }
    };
    let (app, handle) = (&app, &handle);
    if let Err(err) = lambda_runtime::run(service_fn(move |event| handle(app, event))).await {
        tracing::error!(error = %err, "the runtime loop stopped");
        std::process::exit(1);
    }
}

/// Sets up `tracing` with one JSON object per line, the format CloudWatch
/// Logs Insights queries without parsing rules. `RUST_LOG` narrows it.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .flatten_event(true) // fields at the top level, where Logs Insights finds them
        .without_time() // CloudWatch stamps every line itself.
        .try_init();
}

/// Reports a cold-start failure to the Runtime API's `/init/error` and logs it.
///
/// Lambda then records the error type and message and retries the cold start;
/// the caller should exit with a non-zero status right after. Best effort: when
/// there is no Runtime API (a person running the binary by hand) the message
/// still reaches stderr.
pub fn report_init_error(error: &InitError) {
    let message = error.to_string();
    tracing::error!(error = %message, error_type = error.error_type(), "cold start failed");
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("cold start failed: {message}");
        return;
    };
    let body =
        serde_json::json!({ "errorType": error.error_type(), "errorMessage": message }).to_string();
    if let Err(err) = post(
        &api,
        "/2018-06-01/runtime/init/error",
        error.error_type(),
        &body,
    ) {
        eprintln!("cannot report the cold-start failure to {api}: {err}");
    }
}

/// One HTTP/1.1 POST over a plain socket: the Runtime API is a loopback HTTP
/// endpoint, and the process is about to exit, so no client is worth building.
fn post(api: &str, path: &str, error_type: &str, body: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(api)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\n\
         Lambda-Runtime-Function-Error-Type: {error_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    // Wait for the answer so the report is in before the process exits.
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    Ok(())
}

/// The system's root certificates, read and parsed once per cold start and
/// shared by every HTTPS client in the process.
///
/// Reading and parsing the trust store is the largest cold-start cost, paid
/// once per client otherwise (the SDK's and reqwest's). Reading the one bundle file
/// (`SSL_CERT_FILE`, else the distribution's usual path) is also cheaper than
/// `rustls-native-certs`, which additionally walks the hashed-symlink folder
/// `/etc/ssl/certs` (hundreds of files holding the same certificates).
#[derive(Clone)]
pub struct TrustRoots {
    /// The roots rustls could parse, for reqwest.
    store: Arc<rustls::RootCertStore>,
    /// The same roots re-encoded as PEM, for the SDK (its public API takes
    /// PEM). Only parsable ones: the SDK panics on a custom root it cannot
    /// parse, where a system bundle may hold one.
    pem: Option<Arc<[u8]>>,
}

impl Default for TrustRoots {
    fn default() -> Self {
        Self {
            store: Arc::new(rustls::RootCertStore::empty()),
            pem: None,
        }
    }
}

/// Where the CA bundle lives: Amazon Linux 2023 (the `provided.al2023`
/// runtime) first, then Debian/Ubuntu, Alpine and SUSE.
const BUNDLES: [&str; 4] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
];

impl TrustRoots {
    /// Reads and parses the bundle. Empty inside means "not found": the
    /// clients then fall back to their own discovery of the platform roots.
    pub fn load() -> Self {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let from_env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
        let Some(bundle) = from_env
            .into_iter()
            .chain(BUNDLES.iter().map(std::path::PathBuf::from))
            .find_map(|path| std::fs::read(path).ok())
        else {
            tracing::warn!("no CA bundle file found; HTTPS clients will look for roots themselves");
            return Self::default();
        };
        let mut store = rustls::RootCertStore::empty();
        let mut pem = Vec::with_capacity(bundle.len());
        // Unparsable entries are skipped, as every TLS client does with a system bundle.
        for der in CertificateDer::pem_slice_iter(&bundle).filter_map(Result::ok) {
            if store.add(der.clone()).is_ok() {
                encode_pem(&der, &mut pem);
            }
        }
        if store.is_empty() {
            tracing::warn!(
                "the CA bundle holds no usable certificate; HTTPS clients will look for roots themselves"
            );
            return Self::default();
        }
        Self {
            store: Arc::new(store),
            pem: Some(Arc::from(pem)),
        }
    }

    /// The usable roots as PEM, if a bundle was found.
    pub fn pem(&self) -> Option<&[u8]> {
        self.pem.as_deref()
    }

    /// How many roots were loaded.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether no root was loaded.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// A rustls client configuration (aws-lc, the SDK's crypto provider, so
    /// the binary carries one TLS stack) that trusts these roots.
    pub fn rustls_config(&self) -> Result<rustls::ClientConfig, InitError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| InitError::Other(format!("cannot set up TLS: {err}")))?
            .with_root_certificates(Arc::clone(&self.store))
            .with_no_client_auth();
        Ok(config)
    }
}

/// Appends `der` as a PEM `CERTIFICATE` block (RFC 7468: standard base64,
/// padded, in lines of 64 characters).
fn encode_pem(der: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
    for line in STANDARD.encode(der).as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END CERTIFICATE-----\n");
}

/// The AWS SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`), using an HTTPS client built on `roots`.
pub async fn aws_config(roots: &TrustRoots) -> aws_config::SdkConfig {
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
    // The SDK parses the PEM it is given; with native roots on it would read the system store again.
    let context = roots.pem().and_then(|pem| {
        let store = TrustStore::empty().with_pem_certificate(pem.to_vec());
        TlsContext::builder().with_trust_store(store).build().ok()
    });
    let http_client = match context {
        Some(context) => builder.tls_context(context).build_https(),
        None => builder.build_https(),
    };
    // Bounded calls: a stuck AWS endpoint must not hold the function until
    // Lambda's own timeout (and API Gateway's 29 s) ends it without a word.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(10))
        .build();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(timeouts)
        .load()
        .await
}

/// API Gateway proxy responses, as both functions answer them.
pub mod respond {
    use aws_lambda_events::apigw::ApiGatewayProxyResponse;
    use aws_lambda_events::encodings::Body;
    use aws_lambda_events::http::{HeaderName, HeaderValue, header};

    /// The pages' policy: they load nothing (no script, style, image or
    /// font), post nowhere, may not be framed (clickjacking) and may not
    /// rebase their relative links. Their only links are plain navigations,
    /// which a CSP does not govern.
    pub const PAGE_CSP: &str =
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// An answer with the headers every answer carries: nobody may cache it
    /// (it is about one person's sign-in), browsers may not guess another
    /// content type than the one given, and no `Referer` leaves with a link
    /// followed from it (the callback's URL holds the code and the state).
    pub fn bare(status: u16) -> ApiGatewayProxyResponse {
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = i64::from(status);
        for (name, value) in [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ] {
            response
                .headers
                .insert(name, HeaderValue::from_static(value));
        }
        response
    }

    /// An answer with `body` and its content type.
    pub fn with_body(
        status: u16,
        content_type: &'static str,
        body: String,
    ) -> ApiGatewayProxyResponse {
        let mut response = bare(status);
        response
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response.body = Some(Body::Text(body));
        response
    }

    /// A JSON answer.
    pub fn json(status: u16, body: &serde_json::Value) -> ApiGatewayProxyResponse {
        with_body(status, "application/json", body.to_string())
    }

    /// An HTML page, under [`PAGE_CSP`].
    pub fn html(status: u16, page: String) -> ApiGatewayProxyResponse {
        let mut response = with_body(status, "text/html; charset=utf-8", page);
        response.headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
        response
    }

    /// Adds a header whose value is built at run time; `false` (and nothing
    /// added) when the value holds bytes a header cannot carry.
    pub fn add_header(
        response: &mut ApiGatewayProxyResponse,
        name: HeaderName,
        value: &str,
    ) -> bool {
        match HeaderValue::from_str(value) {
            Ok(value) => {
                response.headers.append(name, value);
                true
            }
            Err(_) => false,
        }
    }

    /// Escapes text for HTML element content and quoted attribute values.
    pub fn escape_html(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escape_neutralises_markup() {
        assert_eq!(
            respond::escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_answer_forbids_caching_sniffing_and_referrers_and_pages_carry_the_csp() {
        let common = [
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
        ];
        let json = respond::json(200, &serde_json::json!({}));
        let html = respond::html(400, String::new());
        let bare = respond::bare(302);
        for response in [&json, &html, &bare] {
            for (name, value) in common {
                assert_eq!(response.headers[name], value, "{name}");
            }
        }
        assert!(json.headers.get("content-security-policy").is_none());
        let csp = html.headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ] {
            assert!(csp.contains(directive), "{csp} lacks {directive}");
        }
    }

    #[test]
    fn a_header_value_with_a_newline_is_not_added() {
        let mut response = respond::bare(302);
        assert!(!respond::add_header(
            &mut response,
            aws_lambda_events::http::header::LOCATION,
            "https://a.example/\r\nX-Injected: 1"
        ));
        assert!(response.headers.get("location").is_none());
        assert!(respond::add_header(
            &mut response,
            aws_lambda_events::http::header::LOCATION,
            "https://a.example/"
        ));
        assert_eq!(response.headers["location"], "https://a.example/");
    }

    #[test]
    fn format_characters_are_recognised_and_visible_text_is_not() {
        for c in [
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{200B}',
            '\u{200D}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{061C}',
        ] {
            assert!(is_format_char(c), "U+{:04X}", u32::from(c));
        }
        for c in [
            'a',
            'é',
            'λ',
            '@',
            ' ',
            '\u{00A0}',
            '\u{2028}',
            '日',
            '\u{1F600}',
        ] {
            assert!(!is_format_char(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn init_errors_name_the_variable() {
        let missing = InitError::Missing { name: "TABLE_NAME" };
        assert!(missing.to_string().contains("TABLE_NAME"));
        assert_eq!(missing.error_type(), "Config.MissingVariable");
    }

    #[test]
    fn the_re_encoded_pem_round_trips_every_loaded_root() {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let roots = TrustRoots::load();
        let Some(pem) = roots.pem() else {
            return; // no system bundle on this machine
        };
        let ders: Vec<_> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ders.len(), roots.len());
        assert!(roots.len() > 10, "a system bundle has many roots");
        assert!(roots.rustls_config().is_ok());
    }

    #[test]
    fn pem_encoding_matches_the_standard_alphabet_and_padding() {
        let mut out = Vec::new();
        encode_pem(b"Man", &mut out);
        encode_pem(b"Ma", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n\
             -----BEGIN CERTIFICATE-----\nTWE=\n-----END CERTIFICATE-----\n"
        );
    }
}
