//! Cold-start benchmark: prints figures, asserts nothing.
//!
//! For each release binary (the bare `lambda_runtime` baseline, `auth`,
//! `login`), in the same run and interleaved so machine noise hits all
//! alike: the time from exec to its first `invocation/next` (the end of the
//! cold start as Lambda sees it), the first invocation's latency, and the
//! resident memory once it is idle again. Then binary and zip sizes, and the
//! first aws-lc random number in a fresh process built with and without
//! `AWS_LC_SYS_NO_JITTER_ENTROPY=1`, and the cost of reading the trust store.
//!
//! Run: `cargo bench -p coldstart`. It builds the release binaries itself
//! with that variable set, as every cargo command in the workspace does
//! (`.cargo/config.toml`), and once more without it in a separate target
//! folder for the comparison.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

#[path = "../../../functions/login/tests/it/common/mod.rs"]
#[allow(
    dead_code,
    reason = "the benchmark uses a part of the login tests' helpers"
)]
mod login_common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::runtime_api::{Outcome, RuntimeApi};

const ROUNDS: usize = 25;
const PROBE_RUNS: usize = 25;

/// A sign-in in flight, in the auth function's cookie format
/// (`state.verifier.nonce`), and an ID token carrying its nonce.
const SIGN_IN_STATE: &str = "c3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3Q";
const SIGN_IN_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const SIGN_IN_NONCE: &str = "bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm8";
/// `{"nonce":"<SIGN_IN_NONCE>"}` as the payload.
const SIGN_IN_ID_TOKEN: &str = "eyJraWQiOiJrMSJ9.eyJub25jZSI6ImJtOXVZMlV0Ym05dVkyVXRibTl1WTJVdGJtOXVZMlV0Ym05dVkyVXRibTgifQ.c2ln";
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn build_release(target_dir: &Path, packages: &[&str], no_jitter: bool) {
    let mut command = Command::new(cargo());
    command
        .current_dir(testkit::workspace_root())
        .args(["build", "--release", "--quiet"])
        .arg("--target-dir")
        .arg(target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    // `.cargo/config.toml` sets it to 1 for every command; the comparison
    // build turns it off explicitly (aws-lc-sys reads "0" as false).
    command.env(
        "AWS_LC_SYS_NO_JITTER_ENTROPY",
        if no_jitter { "1" } else { "0" },
    );
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "release build failed");
}

/// A binary to measure: its label, path, environment and event.
type Subject = (&'static str, PathBuf, Vec<(&'static str, String)>, Value);

struct Sample {
    cold: Duration,
    first_invoke: Duration,
    rss_kb: u64,
    status: i64,
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

fn measure(binary: &Path, env: &[(&str, String)], event: &Value) -> Sample {
    let api = RuntimeApi::start().unwrap();
    let id = api.push_event(event.clone());
    let name = binary.file_name().unwrap().to_string_lossy().into_owned();
    let mut command = Command::new(binary);
    command
        .envs(api.lambda_env(&name))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let first_next = api
        .wait_next_request(1, Duration::from_secs(20))
        .expect("the function asks for an event");
    let outcome = api
        .wait_outcome(&id, Duration::from_secs(20))
        .expect("the function answers");
    let answered = Instant::now();
    // Idle again (asking for the next event): the memory a warm environment holds.
    api.wait_next_request(2, Duration::from_secs(20));
    let rss_kb = rss_kb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let status = match outcome {
        Outcome::Response(value) => value["statusCode"].as_i64().unwrap_or(0),
        Outcome::Error(_) => -1,
    };
    Sample {
        cold: first_next - started,
        first_invoke: answered - first_next,
        rss_kb,
        status,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    format!(
        "min {:7.2}  median {:7.2}  p90 {:7.2}",
        values[0],
        percentile(values, 0.5),
        percentile(values, 0.9)
    )
}

fn zip_size(binary: &Path) -> u64 {
    // As packaging does: one entry named `bootstrap`, deflated, executable.
    let bytes = std::fs::read(binary).unwrap();
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(&bytes).unwrap();
    zip.finish().unwrap();
    buffer.into_inner().len() as u64
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let target = testkit::target_dir();
    let release = target.join("release");
    eprintln!("building release binaries (AWS_LC_SYS_NO_JITTER_ENTROPY=1)…");
    build_release(&target, &["auth", "login", "coldstart"], true);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let moto = login_common::moto();

    // login: the stack's table, bucket and greetings in moto.
    let stack = runtime.block_on(login_common::Stack::create("coldstart"));
    let mut login_env = moto.aws_env();
    login_env.push((
        env_contract::login::TABLE_NAME,
        stack.config.table_name.clone(),
    ));
    login_env.push((
        env_contract::login::BUCKET_NAME,
        stack.config.bucket_name.clone(),
    ));
    login_env.push((
        env_contract::login::GREETINGS_PATH,
        stack.config.greetings_path.clone(),
    ));
    let login_event: Value = serde_json::from_str(include_str!(
        "../../../functions/login/tests/data/login.json"
    ))
    .unwrap();

    // auth: a pool and a client with a secret in moto, the token endpoint and
    // the protected route stood in locally.
    let (pool_id, client_id, describe_ms) = runtime.block_on(async {
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&stack.sdk);
        let pool = cognito
            .create_user_pool()
            .pool_name("bench")
            .send()
            .await
            .unwrap();
        let pool_id = pool.user_pool().unwrap().id().unwrap().to_owned();
        let client = cognito
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("web")
            .generate_secret(true)
            .send()
            .await
            .unwrap();
        let client_id = client
            .user_pool_client()
            .unwrap()
            .client_id()
            .unwrap()
            .to_owned();
        // What one DescribeUserPoolClient costs against moto (warm client),
        // included in auth's cold start below and not in the others'.
        let mut times = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            cognito
                .describe_user_pool_client()
                .user_pool_id(&pool_id)
                .client_id(&client_id)
                .send()
                .await
                .unwrap();
            times.push(ms(started.elapsed()));
        }
        times.sort_by(f64::total_cmp);
        (pool_id, client_id, percentile(&times, 0.5))
    });
    let stand_in = runtime.block_on(async {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id_token": SIGN_IN_ID_TOKEN, "access_token": "a",
                "refresh_token": "r", "token_type": "Bearer", "expires_in": 300
            })))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/oauth2/revoke"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/prod/auth/login"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "message": "Hi ann@example.com", "username": "ann@example.com",
                "timestamp": "2026-11-25T18:20:00.123Z"
            })))
            .mount(&server)
            .await;
        server
    });
    let mut auth_env = moto.aws_env();
    {
        use env_contract::auth::*;
        auth_env.extend([
            (
                AUTHORIZE_URL,
                "https://example.auth.us-east-1.amazoncognito.com/oauth2/authorize".to_owned(),
            ),
            (TOKEN_URL, format!("{}/oauth2/token", stand_in.uri())),
            (REVOKE_URL, format!("{}/oauth2/revoke", stand_in.uri())),
            (CLIENT_ID, client_id.clone()),
            (USER_POOL_ID, pool_id.clone()),
            (
                REDIRECT_URI,
                "https://abc123.execute-api.us-east-1.amazonaws.com/prod/auth".to_owned(),
            ),
            (LOGIN_URL, format!("{}/prod/auth/login", stand_in.uri())),
            (
                SIGN_IN_URL,
                "https://abc123.execute-api.us-east-1.amazonaws.com/prod/auth".to_owned(),
            ),
        ]);
    }
    // A whole callback: the sign-in cookie, its state, and a code.
    let mut auth_event: Value =
        serde_json::from_str(include_str!("../../../functions/auth/tests/data/auth.json")).unwrap();
    auth_event["queryStringParameters"]["state"] = json!(SIGN_IN_STATE);
    auth_event["headers"]["Cookie"] = json!(format!(
        "__Host-signin={SIGN_IN_STATE}.{SIGN_IN_VERIFIER}.{SIGN_IN_NONCE}"
    ));

    let subjects: [Subject; 3] = [
        (
            "baseline (bare lambda_runtime)",
            release.join("coldstart"),
            Vec::new(),
            json!({"ping": 1}),
        ),
        ("auth", release.join("auth"), auth_env, auth_event),
        ("login", release.join("login"), login_env, login_event),
    ];

    // One warm-up round (page cache), then interleaved rounds.
    for (_, binary, env, event) in &subjects {
        measure(binary, env, event);
    }
    let mut samples: Vec<Vec<Sample>> = subjects.iter().map(|_| Vec::new()).collect();
    for _ in 0..ROUNDS {
        for (i, (_, binary, env, event)) in subjects.iter().enumerate() {
            samples[i].push(measure(binary, env, event));
        }
    }

    println!("\ncold start, {ROUNDS} fresh processes each (ms; exec -> first invocation/next):");
    for ((name, ..), samples) in subjects.iter().zip(&samples) {
        let mut cold: Vec<f64> = samples.iter().map(|s| ms(s.cold)).collect();
        println!("  {name:32} {}", summary(&mut cold));
    }
    println!(
        "  (auth's includes one DescribeUserPoolClient to moto: median {describe_ms:.2} ms when warm)"
    );
    println!("\nfirst invocation (ms; event delivered -> response posted):");
    for ((name, ..), samples) in subjects.iter().zip(&samples) {
        let mut first: Vec<f64> = samples.iter().map(|s| ms(s.first_invoke)).collect();
        let statuses: std::collections::BTreeSet<i64> = samples.iter().map(|s| s.status).collect();
        println!(
            "  {name:32} {}  statusCode {statuses:?}",
            summary(&mut first)
        );
    }
    println!("\nresident memory after one invocation (MB, VmRSS):");
    for ((name, ..), samples) in subjects.iter().zip(&samples) {
        let mut rss: Vec<f64> = samples.iter().map(|s| s.rss_kb as f64 / 1024.0).collect();
        println!("  {name:32} {}", summary(&mut rss));
    }
    println!("\nsizes (release profile; zip = one deflated `bootstrap` entry):");
    for (name, binary, ..) in &subjects {
        let size = std::fs::metadata(binary).unwrap().len();
        println!(
            "  {name:32} binary {:6.2} MB   zip {:6.2} MB",
            mb(size),
            mb(zip_size(binary))
        );
    }

    // The jitter-entropy probe, built both ways. The variant with jitter
    // entropy gets its own target dir so the shared one is not rebuilt.
    eprintln!("building the entropy probe with and without jitter entropy…");
    let with_jitter_dir = target.join("jitter-entropy");
    build_release(&with_jitter_dir, &["coldstart"], false);
    let probes = [
        (
            "AWS_LC_SYS_NO_JITTER_ENTROPY=1",
            release.join("entropy_probe"),
        ),
        (
            "default (jitter entropy)",
            with_jitter_dir.join("release").join("entropy_probe"),
        ),
    ];
    println!("\nfirst aws-lc random number in a fresh process ({PROBE_RUNS} runs each; ms):");
    let mut firsts: Vec<Vec<f64>> = vec![Vec::new(), Vec::new()];
    for _ in 0..PROBE_RUNS {
        for (i, (_, probe)) in probes.iter().enumerate() {
            let out = Command::new(probe).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let first_us: f64 = text.split_whitespace().next().unwrap().parse().unwrap();
            firsts[i].push(first_us / 1000.0);
        }
    }
    for ((name, _), values) in probes.iter().zip(&mut firsts) {
        println!("  {name:32} {}", summary(values));
    }

    // Reading the trust store: once per client by default, once in all here.
    let trust_probe = release.join("trust_probe");
    let mut loads: Vec<Vec<f64>> = vec![Vec::new(), Vec::new()];
    let mut counts = [0_usize; 2];
    for _ in 0..PROBE_RUNS {
        for (i, mode) in ["native", "ours"].iter().enumerate() {
            let out = Command::new(&trust_probe).arg(mode).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let mut words = text.split_whitespace();
            let micros: f64 = words.next().unwrap().parse().unwrap();
            counts[i] = words.next().unwrap().parse().unwrap();
            loads[i].push(micros / 1000.0);
        }
    }
    println!("\nloading the system trust store in a fresh process ({PROBE_RUNS} runs each; ms):");
    println!(
        "  {:32} {}  ({} roots; paid by reqwest's client and again by the SDK's)",
        "rustls-native-certs, per client",
        summary(&mut loads[0]),
        counts[0]
    );
    println!(
        "  {:32} {}  ({} roots; once, plus the SDK's PEM parse)",
        "function_runtime::TrustRoots (ours)",
        summary(&mut loads[1]),
        counts[1]
    );
}
