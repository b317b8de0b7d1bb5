//! `cargo xtask synth` as a person runs it: the binary, its exit code, its
//! output, with no credentials and no network in its environment.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

use std::process::{Command, Output};

fn synth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("synth")
        .args(args)
        // Nothing to find: synth must not look for credentials or a region.
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap()
}

#[test]
fn prints_the_template_as_json_and_yaml_that_say_the_same() {
    let json = synth(&["--stack-name", "cli-test"]);
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let from_json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(from_json["AWSTemplateFormatVersion"], "2010-09-09");
    assert!(
        from_json["Description"]
            .as_str()
            .unwrap()
            .contains("cli-test")
    );

    let yaml = synth(&["--stack-name", "cli-test", "--format", "yaml"]);
    assert!(yaml.status.success());
    let from_yaml: serde_json::Value = serde_norway::from_slice(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, from_json);
}

#[test]
fn writes_the_file_it_is_given() {
    let out = testkit::target_dir().join("synth-cli-test.json");
    let _ = std::fs::remove_file(&out);
    let run = synth(&["--out", out.to_str().unwrap(), "--stage", "prod"]);
    assert!(run.status.success());
    assert!(run.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("/prod/auth"));
}

#[test]
fn refuses_a_bad_stack_name_before_anything_else_saying_the_rule() {
    let run = synth(&[
        "--stack-name",
        "1-bad_name",
        "--out",
        "/nonexistent/dir/t.json",
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("cannot use --stack-name: stack name `1-bad_name` is not valid: it must start with a letter"),
        "{stderr}"
    );
}

#[test]
fn refuses_a_retention_cloudwatch_does_not_offer() {
    let run = synth(&["--log-retention-days", "31"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("31 days"));
}
