//! `cargo xtask smoke`: calls the deployed API as a browser would, reports
//! each check with what was expected and what came back, and on a failure
//! shows the last log lines of the function involved.

use std::time::Duration;

use anyhow::Context;
use env_contract::routes;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use url::Url;

use crate::Verdict;
use crate::aws::AwsArgs;
use crate::cfn;
use crate::config::Layer;
use crate::logs::{self, Function};
use crate::stack_args::StackSelection;

/// Options of `cargo xtask smoke`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    stack: StackSelection,
    /// The API to call instead of the stack's `ApiUrl` output (local mode's
    /// `ApiUrl`, say); the checks still compare against the stack's outputs.
    #[arg(long, value_name = "URL", value_parser = api_url)]
    api_url: Option<Url>,
    /// How many log lines of the function involved to show when a check fails.
    #[arg(long, default_value_t = 20)]
    log_lines: usize,
    #[command(flatten)]
    aws: AwsArgs,
}

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The cookie the sign-in's start sets (state, PKCE verifier, nonce).
const COOKIE: &str = "__Host-signin";

fn api_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| format!("`{text}` is not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{text}` is not an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{text}` has a query or fragment; give the API's base URL (the stack's ApiUrl)"
        ));
    }
    Ok(url)
}

/// What the stack says the answers must hold.
struct Expected {
    client_id: String,
    callback_url: String,
}

/// One check's outcome.
struct Check {
    what: String,
    function: Function,
    expected: &'static str,
    seen: String,
    problems: Vec<String>,
}

impl Check {
    fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    fn report(&self) -> String {
        let mut text = format!(
            "{}  {}\n        expected: {}\n        saw:      {}\n",
            if self.passed() { "pass" } else { "FAIL" },
            self.what,
            self.expected,
            self.seen
        );
        for problem in &self.problems {
            text.push_str(&format!("        wrong:    {problem}\n"));
        }
        text
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.stack.resolve(&[&Layer::aws(&args.aws)])?;
    let stack = config.settings.stack_name.clone();
    crate::aws::block_on(async {
        let (aws, _) = config.connect(&args.aws).await?;
        let described = cfn::describe(&aws.cfn, stack.as_str())
            .await?
            .with_context(|| {
                format!(
                    "stack {stack} does not exist; run `cargo xtask deploy --stack-name {stack}`"
                )
            })?;
        let output = |key: &str| {
            cfn::output(&described, key)
                .map(str::to_owned)
                .with_context(|| format!("stack {stack} has no {key} output; deploy it again"))
        };
        use infra::stack::outputs as o;
        let api = match args.api_url {
            Some(url) => url,
            None => api_url(&output(o::API_URL)?)
                .map_err(anyhow::Error::msg)
                .context("cannot use the stack's ApiUrl output")?,
        };
        let expected = Expected {
            client_id: output(o::CLIENT_ID)?,
            callback_url: output(o::CALLBACK_URL)?,
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent("cargo-xtask-smoke")
            .build()
            .context("cannot build the HTTP client")?;
        eprintln!("calling {api} as a client would");
        let checks = [
            start(&http, &api, &expected).await,
            unauthorized(&http, &api).await,
        ];
        for check in &checks {
            print!("{}", check.report());
        }
        let failed: Vec<&Check> = checks.iter().filter(|c| !c.passed()).collect();
        if failed.is_empty() {
            println!("smoke: all {} checks passed", checks.len());
            return Ok(());
        }
        let mut functions: Vec<Function> = failed.iter().map(|c| c.function).collect();
        functions.dedup();
        for function in functions {
            if let Err(err) = logs::print_recent(&aws.logs, &stack, function, args.log_lines).await
            {
                eprintln!(
                    "cannot show the {} function's log lines: {err:#}",
                    function.name()
                );
            }
        }
        Err(Verdict(format!(
            "smoke: {} of {} checks failed against {api}",
            failed.len(),
            checks.len()
        ))
        .into())
    })?
}

/// `{api}/{path}`, whether or not the API's URL ends with a slash.
fn endpoint(api: &Url, path: &str) -> String {
    format!("{}/{path}", api.as_str().trim_end_matches('/'))
}

/// The path of `url` for a check's name: `GET /dev/auth`.
fn path_of(url: &str) -> String {
    Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.path().to_owned())
}

/// `GET /auth` without a code starts a sign-in.
async fn start(http: &reqwest::Client, api: &Url, expected: &Expected) -> Check {
    let url = endpoint(api, routes::AUTH);
    let mut check = Check {
        what: format!("GET {} without a code starts a sign-in", path_of(&url)),
        function: Function::Auth,
        expected: "302 to the hosted UI's /oauth2/authorize with response_type=code, the stack's \
                   client_id and redirect_uri, an S256 code_challenge, a state and a nonce, \
                   setting a __Host-signin cookie (Secure, HttpOnly, Path=/)",
        seen: String::new(),
        problems: Vec::new(),
    };
    match http.get(&url).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (check.seen, check.problems) = judge_start(status, response.headers(), expected);
        }
        Err(err) => no_answer(&mut check, &err),
    }
    check
}

/// `GET /auth/login` without a token is refused by the authorizer.
async fn unauthorized(http: &reqwest::Client, api: &Url) -> Check {
    let url = endpoint(api, &format!("{}/{}", routes::AUTH, routes::LOGIN));
    let mut check = Check {
        what: format!("GET {} without a token is refused", path_of(&url)),
        function: Function::Login,
        expected: "401",
        seen: String::new(),
        problems: Vec::new(),
    };
    match http.get(&url).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            check.seen = format!("{status} {}", excerpt(&body));
            if status != 401 {
                check.problems.push(format!("status {status}, not 401"));
            }
        }
        Err(err) => no_answer(&mut check, &err),
    }
    check
}

fn no_answer(check: &mut Check, err: &reqwest::Error) {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    check.seen = format!("no answer ({text})");
    check.problems.push("the API did not answer".to_owned());
}

/// What the start of a sign-in answered, described without the values of
/// the cookie, the state, the nonce or the challenge, and what is wrong with it.
fn judge_start(status: u16, headers: &HeaderMap, expected: &Expected) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    if status != 302 {
        problems.push(format!("status {status}, not 302"));
    }
    let mut seen = status.to_string();
    match headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
        None => problems.push("no Location header".to_owned()),
        Some(location) => match Url::parse(location) {
            Err(_) => problems.push("the Location is not an absolute URL".to_owned()),
            Ok(location) => {
                seen.push_str(&format!(
                    " to {}{}",
                    location.origin().ascii_serialization(),
                    location.path()
                ));
                problems.extend(authorize_problems(&location, expected));
                let names: Vec<String> = location
                    .query_pairs()
                    .map(|(k, _)| k.into_owned())
                    .collect();
                seen.push_str(&format!(" with {}", names.join(", ")));
            }
        },
    }
    let cookie = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| {
            c.split('=')
                .next()
                .is_some_and(|name| name.trim() == COOKIE)
        });
    match cookie {
        None => problems.push(format!("no {COOKIE} cookie set")),
        Some(cookie) => {
            let attributes: Vec<&str> = cookie.split(';').skip(1).map(str::trim).collect();
            seen.push_str(&format!("; cookie {COOKIE} ({})", attributes.join("; ")));
            let has = |name: &str| attributes.iter().any(|a| a.eq_ignore_ascii_case(name));
            for needed in ["Secure", "HttpOnly", "Path=/"] {
                if !has(needed) {
                    problems.push(format!("the {COOKIE} cookie lacks {needed}"));
                }
            }
        }
    }
    (seen, problems)
}

fn authorize_problems(location: &Url, expected: &Expected) -> Vec<String> {
    let mut problems = Vec::new();
    if !location.path().ends_with("/oauth2/authorize") {
        problems.push(format!(
            "the Location's path is {}, not /oauth2/authorize",
            location.path()
        ));
    }
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let mut exact = |name: &str, want: &str, what: &str| match param(name) {
        Some(value) if value == want => {}
        Some(value) => {
            let wanted = if what.is_empty() {
                format!("{want:?}")
            } else {
                format!("{what} {want:?}")
            };
            problems.push(format!("{name} is {value:?}, not {wanted}"));
        }
        None => problems.push(format!("no {name}")),
    };
    exact("response_type", "code", "");
    exact("client_id", &expected.client_id, "the stack's ClientId");
    exact(
        "redirect_uri",
        &expected.callback_url,
        "the stack's CallbackUrl",
    );
    exact("code_challenge_method", "S256", "");
    for name in ["code_challenge", "state", "nonce"] {
        if param(name).is_none_or(|v| v.is_empty()) {
            problems.push(format!("no {name}"));
        }
    }
    problems
}

/// The start of an answer's body, on one line, for the report.
fn excerpt(body: &str) -> String {
    let line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if body.chars().count() > 200 {
        format!("{line}…")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use reqwest::header::HeaderValue;

    fn expected() -> Expected {
        Expected {
            client_id: "client-1".into(),
            callback_url: "https://api.example/dev/auth".into(),
        }
    }

    fn headers(location: &str, cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_str(location).unwrap());
        headers.append(SET_COOKIE, HeaderValue::from_static("other=1; Path=/"));
        headers.append(SET_COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    const GOOD: &str = "https://x.auth.eu-west-1.amazoncognito.com/oauth2/authorize?response_type=code\
        &client_id=client-1&redirect_uri=https%3A%2F%2Fapi.example%2Fdev%2Fauth&scope=openid+email\
        &state=STATE&code_challenge=CHALLENGE&code_challenge_method=S256&nonce=NONCE";
    const COOKIE_SET: &str =
        "__Host-signin=SECRET.VERIFIER.NONCE; Secure; HttpOnly; SameSite=Lax; Path=/; Max-Age=600";

    #[test]
    fn a_proper_start_passes_and_its_report_holds_no_secret_value() {
        let (seen, problems) = judge_start(302, &headers(GOOD, COOKIE_SET), &expected());
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(
            seen,
            "302 to https://x.auth.eu-west-1.amazoncognito.com/oauth2/authorize with response_type, \
             client_id, redirect_uri, scope, state, code_challenge, code_challenge_method, nonce; \
             cookie __Host-signin (Secure; HttpOnly; SameSite=Lax; Path=/; Max-Age=600)"
        );
        for secret in ["SECRET", "VERIFIER", "STATE", "CHALLENGE", "NONCE"] {
            assert!(!seen.contains(secret), "{secret} in {seen}");
        }
    }

    #[test]
    fn each_thing_wrong_with_a_start_is_named() {
        let wrong = GOOD
            .replace("client_id=client-1", "client_id=another")
            .replace("S256", "plain")
            .replace("&nonce=NONCE", "");
        let (_, problems) = judge_start(
            302,
            &headers(&wrong, "__Host-signin=x; Path=/"),
            &expected(),
        );
        assert_eq!(
            problems,
            [
                "client_id is \"another\", not the stack's ClientId \"client-1\"",
                "code_challenge_method is \"plain\", not \"S256\"",
                "no nonce",
                "the __Host-signin cookie lacks Secure",
                "the __Host-signin cookie lacks HttpOnly",
            ]
        );
        let (seen, problems) = judge_start(403, &HeaderMap::new(), &expected());
        assert_eq!(seen, "403");
        assert_eq!(
            problems,
            [
                "status 403, not 302",
                "no Location header",
                "no __Host-signin cookie set"
            ]
        );
    }

    #[test]
    fn the_api_url_must_be_a_base_http_url() {
        assert!(api_url("http://127.0.0.1:4000/dev").is_ok());
        assert!(api_url("https://abc.execute-api.eu-west-1.amazonaws.com/dev/").is_ok());
        for bad in [
            "127.0.0.1:4000",
            "ftp://x/dev",
            "https://x/dev?a=1",
            "not a url",
        ] {
            assert!(api_url(bad).is_err(), "{bad}");
        }
        let api = api_url("http://127.0.0.1:4000/dev/").unwrap();
        assert_eq!(endpoint(&api, "auth"), "http://127.0.0.1:4000/dev/auth");
    }
}
