//! `cargo xtask synth` and `cargo xtask config` as a person runs them: the
//! binary, its exit code, its output, with no credentials and no network in
//! its environment.

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
    assert_eq!(run.status.code(), Some(2), "an error exits with 2");
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
    assert_eq!(run.status.code(), Some(2), "an error exits with 2");
    assert!(String::from_utf8_lossy(&run.stderr).contains("31 days"));
}

/// `cargo xtask config ARGS` with only `env` in its environment (no AWS
/// settings, no `SIGNIN_*` of the machine), the file's path shown as `FILE`.
fn config(file: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let dir = testkit::target_dir().join("tmp").join(format!(
        "config-cli-{}-{}",
        std::process::id(),
        args.join("-")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stages.toml");
    std::fs::write(&path, file).unwrap();
    let path = path.to_str().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["config", "--config", path])
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(path, "FILE");
    (run.status.success(), text(&run.stdout), text(&run.stderr))
}

const STAGES: &str = r#"[defaults]
log_retention_days = 60
mfa = "off"

[stages.dev]

[stages.prod]
stack_name = "sign-in-prod"
account = "111111111111"
region = "eu-west-1"
production = true
log_retention_days = 90
"#;

#[test]
fn config_shows_every_setting_and_where_it_came_from() {
    let (ok, stdout, stderr) = config(
        STAGES,
        &["--stage", "prod", "--log-retention-days", "7"],
        &[("SIGNIN_MFA", "required")],
    );
    assert!(ok, "{stderr}");
    pretty_assertions::assert_eq!(
        stdout,
        "\
config file: FILE (stages dev, prod)
setting             value         from
stage               prod          flag
stack_name          sign-in-prod  FILE [stages.prod]
region              eu-west-1     FILE [stages.prod]
account             111111111111  FILE [stages.prod]
domain_prefix       -             default (the deployed stack's, else one made from the stack, account and region)
production          true          FILE [stages.prod]
hotswap             false         default (a production stage)
retain_data         true          default (a production stage)
require_approval    broadening    default
log_retention_days  7             flag
api_access_logs     false         default
arch                x86_64        default
mfa                 required      env SIGNIN_MFA
auth_rate_limit     10            default
auth_burst_limit    20            default
login_rate_limit    5             default
login_burst_limit   10            default
"
    );
    let (ok, stdout, stderr) = config(STAGES, &["--stage", "prod", "--region", "us-east-1"], &[]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("region              us-east-1     flag\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(
            "note: FILE [stages.prod] pins region eu-west-1, so with --region us-east-1 every \
             command that talks to AWS refuses to run\n"
        ),
        "{stdout}"
    );
}

#[test]
fn config_refuses_an_unknown_stage_and_a_bad_file_naming_what_is_wrong() {
    let (ok, stdout, stderr) = config(STAGES, &["--stage", "staging"], &[]);
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("FILE has no stage staging (--stage); its stages are dev, prod"),
        "{stderr}"
    );
    let (ok, _, stderr) = config(
        "[stages.dev]\nlog_retention_days = 7\nretain = true\n",
        &["--stage", "dev"],
        &[],
    );
    assert!(!ok);
    assert!(
        stderr.contains("FILE line 3, column 1: unknown field `retain`"),
        "{stderr}"
    );
}
