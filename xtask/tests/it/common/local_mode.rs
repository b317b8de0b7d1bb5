//! `cargo xtask local` as a person runs it: the real binary in the
//! background, its printed outputs read back, stopped with Ctrl-C (SIGINT).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use serde_json::Value;

use super::browser::Browser;

/// The person who signs up in the flow tests.
pub(crate) const EMAIL: &str = "Ann.Example@example.com";
/// Their password (the pool's policy: 12+ characters, every class).
pub(crate) const PASSWORD: &str = "Correct-Horse-9-Battery";

/// A running `cargo xtask local`.
pub(crate) struct LocalMode {
    child: Option<Child>,
    /// What it printed as `Key = value` on stdout.
    pub(crate) outputs: BTreeMap<String, String>,
    /// The order the keys came in.
    pub(crate) order: Vec<String>,
    stderr: Arc<Mutex<String>>,
    /// Its process group (its process id): what it starts runs in it.
    pub(crate) group: u32,
    /// Where it extracts the functions' binaries (to look for leftovers).
    pub(crate) work_dir: std::path::PathBuf,
}

impl LocalMode {
    /// Starts `cargo xtask local --port 0 --stack-name <stack>` and waits
    /// until it has printed its outputs (the first run builds the functions
    /// in release, which takes minutes).
    pub(crate) fn start(stack: &str) -> Self {
        Self::start_with(stack, &[])
    }

    /// The same with `extra` arguments.
    pub(crate) fn start_with(stack: &str, extra: &[&str]) -> Self {
        use std::os::unix::process::CommandExt as _;
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(["local", "--port", "0", "--stack-name", stack])
            .args(extra)
            // Its own process group, as a shell runs a job: Ctrl-C goes to
            // the group, and what is left of it afterwards is left behind.
            .process_group(0)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .current_dir(testkit::workspace_root());
        super::without_signin_settings(&mut command);
        if let Ok(cargo) = std::env::var("CARGO") {
            command.env("CARGO", cargo);
        }
        let mut child = command.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = err.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let (lines, received) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut outputs = BTreeMap::new();
        let mut order = Vec::new();
        // The first run builds the functions from scratch: many minutes.
        let deadline = Instant::now() + Duration::from_secs(1800);
        while !outputs.contains_key("AwsEndpointUrl") {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = received.recv_timeout(left) else {
                let _ = child.kill();
                panic!(
                    "cargo xtask local printed no outputs; its stderr:\n{}",
                    stderr.lock().unwrap()
                );
            };
            if let Some((key, value)) = line.split_once(" = ") {
                order.push(key.to_owned());
                outputs.insert(key.to_owned(), value.to_owned());
            }
        }
        Self {
            group: child.id(),
            child: Some(child),
            outputs,
            order,
            stderr,
            work_dir: testkit::target_dir().join("local").join(stack),
        }
    }

    /// An output it printed.
    pub(crate) fn output(&self, key: &str) -> &str {
        self.outputs
            .get(key)
            .unwrap_or_else(|| panic!("no {key} among {:?}", self.outputs))
    }

    /// Everything it wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until what it wrote to stderr so far satisfies `done`; fails
    /// naming `what`, with the stderr, after `timeout`. (A line it printed
    /// reaches the test through a reader thread, so an effect seen over
    /// HTTP may come before the line that says it.)
    pub(crate) fn wait_for_stderr(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !done(&self.stderr()) {
            assert!(
                Instant::now() < deadline,
                "cargo xtask local did not get to {what} within {} s; its stderr:\n{}",
                timeout.as_secs(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends Ctrl-C (SIGINT) as a terminal sends it, to the whole process
    /// group, and waits for it to exit; returns whether it exited
    /// successfully.
    pub(crate) fn interrupt(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let sent = Command::new("kill")
            .args(["-INT", "--", &format!("-{}", child.id())])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("cargo xtask local did not stop within 30 s of Ctrl-C");
    }
}

impl Drop for LocalMode {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-INT", "--", &group]).status();
            std::thread::sleep(Duration::from_secs(2));
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
        }
    }
}

/// An SDK configuration for local mode's moto at `endpoint`.
pub(crate) async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

/// Real RS256 tokens from moto for a user of `pool`.
pub(crate) async fn tokens(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    client: &str,
    email: &str,
) -> (String, String) {
    let attribute = |name: &str, value: &str| {
        aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .unwrap()
    };
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(email)
        .user_attributes(attribute("email", email))
        .user_attributes(attribute("email_verified", "true"))
        .send()
        .await
        .unwrap();
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(email)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let auth = cognito
        .initiate_auth()
        .client_id(client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", email)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    let result = auth.authentication_result().unwrap();
    (
        result.id_token().unwrap().to_owned(),
        result.access_token().unwrap().to_owned(),
    )
}

/// Processes still running a binary from `dir` (the functions' bootstraps).
pub(crate) fn processes_running_from(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else {
            continue;
        };
        if exe.starts_with(dir) {
            found.push(format!(
                "{} {}",
                entry.file_name().to_string_lossy(),
                exe.display()
            ));
        }
    }
    found
}

/// Whether something still accepts connections at `origin` (`http://host:port`).
pub(crate) fn listening(origin: &str) -> bool {
    let addr = origin.trim_start_matches("http://");
    std::net::TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(500)).is_ok()
}

pub(crate) fn url(text: &str) -> url::Url {
    url::Url::parse(text).unwrap()
}

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Walks the whole sign-in of a new person, from the printed SignInUrl
/// through sign-up, the mailed code and sign-in to the greeting, asserting
/// every status and `Location`; returns the greeting page's body.
pub(crate) async fn sign_up_and_sign_in(
    local: &LocalMode,
    browser: &mut Browser,
    email: &str,
) -> String {
    let api = url(local.output("ApiUrl"));
    let hosted_ui = url(local.output("HostedUiUrl"));
    let same_origin = |a: &url::Url, b: &url::Url| a.origin() == b.origin();

    // The sign-in starts at the API: state, PKCE and nonce in a __Host- cookie.
    let start = browser.get(url(local.output("SignInUrl"))).await;
    assert_eq!(start.status, 302, "{}", start.body);
    let authorize = start.location();
    assert!(same_origin(&authorize, &hosted_ui), "{authorize}");
    assert_eq!(authorize.path(), "/oauth2/authorize");
    let cookie = start
        .set_cookie("__Host-signin")
        .expect("the sign-in cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert_eq!(
        query(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(query(&authorize, "response_type").as_deref(), Some("code"));
    let state = query(&authorize, "state").expect("state");
    assert!(query(&authorize, "nonce").is_some());

    let to_login = browser.get(authorize).await;
    assert_eq!(to_login.status, 302, "{}", to_login.body);
    assert_eq!(to_login.location().path(), "/login");
    let login = browser.get(to_login.location()).await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("Sign in"), "{}", login.body);

    let signup = browser.get(login.link("/signup")).await;
    assert_eq!(signup.status, 200);
    assert!(signup.body.contains("Sign up"));
    let (action, mut fields) = signup.form();
    fields.push(("email".into(), email.into()));
    fields.push(("password".into(), PASSWORD.into()));
    let signed_up = browser.post(action, &fields).await;
    assert_eq!(signed_up.status, 302, "{}", signed_up.body);
    assert_eq!(signed_up.location().path(), "/confirm");

    let mail = browser.get_json(url(local.output("MailUrl"))).await;
    assert_eq!(mail.status, 200);
    let mail: Vec<Value> = serde_json::from_str(&mail.body).unwrap();
    let code = mail
        .iter()
        .rev()
        .find(|m| {
            m["to"]
                .as_str()
                .is_some_and(|to| to.eq_ignore_ascii_case(email))
        })
        .and_then(|m| m["code"].as_str())
        .expect("a confirmation mail")
        .to_owned();
    local.wait_for_stderr(
        "printing the confirmation code on the terminal too",
        Duration::from_secs(10),
        |stderr| stderr.contains(&code),
    );

    let confirm = browser.get(signed_up.location()).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Confirm your account"));
    let (action, hidden) = confirm.form();
    let mut wrong = hidden.clone();
    wrong.retain(|(k, _)| k != "email" && k != "code");
    wrong.push(("email".into(), email.into()));
    wrong.push(("code".into(), "000000".into()));
    if code != "000000" {
        let refused = browser.post(action.clone(), &wrong).await;
        assert!(
            refused.status == 200 || refused.status == 400,
            "{}",
            refused.status
        );
    }
    let confirm = browser.get(signed_up.location()).await;
    let (action, mut fields) = confirm.form();
    fields.retain(|(k, _)| k != "email" && k != "code");
    fields.push(("email".into(), email.into()));
    fields.push(("code".into(), code));
    let confirmed = browser.post(action, &fields).await;
    assert_eq!(confirmed.status, 302, "{}", confirmed.body);
    assert_eq!(confirmed.location().path(), "/login");

    let login = browser.get(confirmed.location()).await;
    assert_eq!(login.status, 200);
    let (action, mut fields) = login.form();
    fields.push(("email".into(), email.to_lowercase()));
    fields.push(("password".into(), PASSWORD.into()));
    let signed_in = browser.post(action, &fields).await;
    assert_eq!(signed_in.status, 302, "{}", signed_in.body);
    let callback = signed_in.location();
    assert!(same_origin(&callback, &api), "{callback} is the local API");
    assert_eq!(callback.path(), url(local.output("CallbackUrl")).path());
    assert_eq!(query(&callback, "state"), Some(state));
    assert!(query(&callback, "code").is_some());

    let greeted = browser.get(callback).await;
    assert_eq!(greeted.status, 200, "{}", greeted.body);
    assert!(
        greeted
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{:?}",
        greeted.headers
    );
    let cleared = greeted
        .set_cookie("__Host-signin")
        .expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    greeted.body
}
