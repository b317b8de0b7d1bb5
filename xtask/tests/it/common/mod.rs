//! Shared helpers of the end-to-end tests: run the real `cargo xtask` binary
//! against a moto server of the test's own, and read back what it made.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failure panics the test"
)]

pub(crate) mod faults;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) mod browser;
pub(crate) mod local_mode;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{Credentials, Region};
pub(crate) use testkit::Moto;

/// What one `cargo xtask …` run printed.
pub(crate) struct Run {
    pub(crate) ok: bool,
    /// The exit code (0 success, 1 a "no" such as `diff --fail` finding changes, 2 an error).
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from(output: &Output) -> Self {
        let run = Self {
            ok: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        // Shown when a test fails (the harness captures it otherwise); the
        // benchmark prints only its figures.
        if !QUIET.load(Ordering::Relaxed) {
            println!("--- stdout\n{}--- stderr\n{}---", run.stdout, run.stderr);
        }
        run
    }

    /// Lines of the change set summary that modify (`~`/`!`) a resource.
    pub(crate) fn modified(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let rest = l
                    .strip_prefix("~ Modify")
                    .or_else(|| l.strip_prefix("! Modify"))?;
                rest.split_whitespace().next().map(str::to_owned)
            })
            .collect()
    }
}

/// How the xtask under test builds the functions.
#[derive(Clone)]
pub(crate) enum Build {
    /// The real `cargo build --release -p auth -p login`.
    Real,
    /// A stand-in `cargo` whose `metadata` points at a folder of
    /// ready-made binaries: fast, and lets a test change "the code".
    Fake(Arc<Scratch>),
}

/// Set by the benchmark: do not echo each run's output.
pub(crate) static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A scratch folder that is removed when dropped, unless the test is
/// panicking: a failed test leaves it behind to look at.
#[derive(Debug)]
pub(crate) struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

/// A fresh folder under the target directory, gone again when the returned
/// guard drops (after a passing test).
pub(crate) fn scratch(name: &str) -> Scratch {
    let dir = testkit::target_dir().join("tmp").join(format!(
        "xtask-e2e-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("release")).unwrap();
    Scratch(dir)
}

/// A stand-in cargo with both "binaries": copies of this test executable,
/// which is a real glibc-linked ELF the packaging checks accept. The
/// `hotswap` profile's folder is the release one, so both builds give the
/// same binaries, as two real builds of one source would give the same code.
pub(crate) fn fake_build(name: &str) -> Build {
    let dir = scratch(name);
    let me = std::env::current_exe().unwrap();
    for function in ["auth", "login"] {
        std::fs::copy(&me, dir.join("release").join(function)).unwrap();
    }
    std::os::unix::fs::symlink(dir.join("release"), dir.join("hotswap")).unwrap();
    let script = dir.join("cargo");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}/cargo-calls\ncase \"$1\" in\n  metadata) echo '{{\"target_directory\":\"{}\"}}' ;;\n  *) exit 0 ;;\nesac\n",
            dir.display(),
            dir.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    Build::Fake(Arc::new(dir))
}

/// The commands the stand-in cargo of a fake build was run with, one a line.
pub(crate) fn cargo_calls(build: &Build) -> String {
    let Build::Fake(dir) = build else {
        panic!("only a fake build records its calls")
    };
    std::fs::read_to_string(dir.join("cargo-calls")).unwrap_or_default()
}

/// "Changes the code" of a fake-built function: a different binary, so a different zip and key.
pub(crate) fn change_function(build: &Build, function: &str) {
    let Build::Fake(dir) = build else {
        panic!("only a fake build can be changed")
    };
    let path = dir.join("release").join(function);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"changed");
    std::fs::write(&path, bytes).unwrap();
}

/// The "binary" a fake build has for `function` now.
pub(crate) fn binary(build: &Build, function: &str) -> Vec<u8> {
    let Build::Fake(dir) = build else {
        panic!("only a fake build has binaries at hand")
    };
    std::fs::read(dir.join("release").join(function)).unwrap()
}

/// Puts `bytes` back as a fake-built function's binary (a revert).
pub(crate) fn set_binary(build: &Build, function: &str, bytes: &[u8]) {
    let Build::Fake(dir) = build else {
        panic!("only a fake build can be changed")
    };
    std::fs::write(dir.join("release").join(function), bytes).unwrap();
}

/// Makes a fake-built function ask for a glibc newer than Lambda's: renames
/// its `GLIBC_2.34` version requirement to `GLIBC_2.99` (same length, so the
/// ELF stays well-formed).
pub(crate) fn need_newer_glibc(build: &Build, function: &str) {
    let Build::Fake(dir) = build else {
        panic!("only a fake build can be changed")
    };
    let path = dir.join("release").join(function);
    let mut bytes = std::fs::read(&path).unwrap();
    let from = b"GLIBC_2.34\0";
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the test binary needs GLIBC_2.34");
    bytes[at..at + from.len()].copy_from_slice(b"GLIBC_2.99\0");
    std::fs::write(&path, bytes).unwrap();
}

/// Removes every `SIGNIN_*` variable (stage, stack name, any setting) the
/// machine running the tests may have set: each test says what it means.
pub(crate) fn without_signin_settings(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SIGNIN_") {
            command.env_remove(name);
        }
    }
}

/// Runs `cargo xtask <args>` (the real binary) against `moto`, with no terminal.
pub(crate) fn xtask(moto: &Moto, build: &Build, args: &[&str]) -> Run {
    xtask_with(Some(moto), build, args, &[])
}

/// Like [`xtask`], with extra environment and maybe no AWS at all.
pub(crate) fn xtask_with(
    moto: Option<&Moto>,
    build: &Build,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    Run::from(&xtask_command(moto, build, args, env).output().unwrap())
}

/// The `cargo xtask <args>` command [`xtask_with`] runs, for a test that
/// spawns it and interrupts it.
pub(crate) fn xtask_command(
    moto: Option<&Moto>,
    build: &Build,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .current_dir(testkit::workspace_root());
    without_signin_settings(&mut command);
    if let Some(moto) = moto {
        command.envs(moto.aws_env());
    }
    match build {
        Build::Real => {
            if let Ok(cargo) = std::env::var("CARGO") {
                command.env("CARGO", cargo);
            }
        }
        Build::Fake(dir) => {
            command.env("CARGO", dir.join("cargo"));
        }
    }
    command.envs(env.iter().copied());
    command
}

/// Runs `cargo xtask <args>` with a region but no AWS credentials anywhere:
/// no keys in the environment, no profile, no config files, no instance metadata.
pub(crate) fn xtask_without_credentials(build: &Build, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    for var in [
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
    ] {
        command.env_remove(var);
    }
    without_signin_settings(&mut command);
    let Build::Fake(dir) = build else {
        panic!("use a fake build: the point is that it is never run")
    };
    command
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("no-such-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-such-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CARGO", dir.join("cargo"))
        .stdin(Stdio::null())
        .current_dir(testkit::workspace_root());
    Run::from(&command.output().unwrap())
}

/// SDK configuration for reading back what moto holds.
pub(crate) async fn sdk_config(moto: &Moto) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// Logical id → (type, status, physical id) of a stack's resources.
pub(crate) async fn resources(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> std::collections::BTreeMap<String, (String, String, String)> {
    let out = cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    out.stack_resource_summaries()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_owned(),
                (
                    r.resource_type().unwrap_or_default().to_owned(),
                    r.resource_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    r.physical_resource_id().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect()
}

/// The stack, or `None` once it is gone.
pub(crate) async fn stack(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
) -> Option<aws_sdk_cloudformation::types::Stack> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => out.stacks.unwrap_or_default().into_iter().next(),
        Err(_) => None,
    }
}

/// Every event of a stack (to tell whether an operation happened).
pub(crate) async fn event_count(cfn: &aws_sdk_cloudformation::Client, name: &str) -> usize {
    let mut count = 0;
    let mut token = None;
    loop {
        let out = cfn
            .describe_stack_events()
            .stack_name(name)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        count += out.stack_events().len();
        token = out.next_token;
        if token.is_none() {
            return count;
        }
    }
}

/// The logical ids the template declares.
pub(crate) fn template_resources(stack_name: &str) -> Vec<String> {
    let settings = infra::Settings::new(infra::StackName::new(stack_name).unwrap());
    let template: serde_json::Value =
        serde_json::from_str(&infra::sign_in_stack(&settings).to_json().unwrap()).unwrap();
    template["Resources"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Every log group's name, sorted (one moto per test: all of them are ours).
pub(crate) async fn log_group_names(logs: &aws_sdk_cloudwatchlogs::Client) -> Vec<String> {
    let mut names: Vec<String> = logs
        .describe_log_groups()
        .send()
        .await
        .unwrap()
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The processes of a process group still running.
pub(crate) fn processes_in_group(group: u32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; the command may hold spaces and parentheses.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let pgrp = rest.split(' ').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pgrp == Some(group) {
            found.push(head.to_owned());
        }
    }
    found
}

/// The `CodeSha256` a function runs now, as Lambda reports it.
pub(crate) async fn live_code(lambda: &aws_sdk_lambda::Client, function: &str) -> String {
    lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .configuration()
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_owned()
}
