//! What a person sees while a stack operation runs, end to end: the real
//! `cargo xtask` on a pseudo-terminal (util-linux `script`, part of every
//! Debian) draws the live block and takes it away again; in CI, without a
//! terminal, or with `--progress events` it prints event lines; `NO_COLOR`
//! draws no colour. And the shell completion scripts.

use crate::common;

use std::process::{Command, Stdio};

use common::{Build, Moto, change_function, fake_build, sdk_config, stack, xtask_with};
use indicatif::{InMemoryTerm, TermLike};
use regex_lite::Regex;

/// The terminal's size, set on the pseudo-terminal and used to replay what was drawn.
const COLUMNS: u16 = 120;

/// What one run on a pseudo-terminal wrote to it (stdout and stderr, as a
/// terminal shows them both).
struct Drawn {
    ok: bool,
    raw: String,
}

impl Drawn {
    /// The screen once the command ended, as a terminal of [`COLUMNS`] shows it.
    fn screen(&self) -> String {
        let term = InMemoryTerm::new(2000, COLUMNS);
        term.write_str(&self.raw).unwrap();
        term.contents()
    }
}

/// Runs `cargo xtask <args>` (the real binary) against `moto` on a fresh
/// pseudo-terminal, with `TERM` set and neither `CI` nor `NO_COLOR` unless in `env`.
fn on_terminal(moto: &Moto, build: &Build, args: &[&str], env: &[(&str, &str)]) -> Drawn {
    let quote = |word: &str| format!("'{}'", word.replace('\'', r"'\''"));
    let xtask: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_xtask"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let Build::Fake(dir) = build else {
        panic!("the terminal runs use a fake build")
    };
    let output = Command::new("script")
        .args(["--quiet", "--return", "--command"])
        .arg(format!(
            "stty cols {COLUMNS} rows 40 && exec {}",
            xtask.join(" ")
        ))
        .arg("/dev/null")
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm-256color")
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env_remove("AWS_PROFILE")
        .env_remove("SIGNIN_STACK_NAME")
        .envs(moto.aws_env())
        .env("CARGO", dir.join("cargo"))
        .envs(env.iter().copied())
        .current_dir(testkit::workspace_root())
        .stdin(Stdio::null())
        .output()
        .expect("cannot run `script` (util-linux)");
    let drawn = Drawn {
        ok: output.status.success(),
        raw: String::from_utf8_lossy(&output.stdout).into_owned(),
    };
    println!(
        "--- terminal\n{}\n--- raw\n{:?}\n---",
        drawn.screen(),
        drawn.raw
    );
    drawn
}

/// A cursor moved up: something was redrawn in place.
fn moves_the_cursor(raw: &str) -> bool {
    Regex::new(r"\x1b\[[0-9]*A").unwrap().is_match(raw)
}

/// A colour or other graphic rendition.
fn has_colour(raw: &str) -> bool {
    Regex::new(r"\x1b\[[0-9;]*m").unwrap().is_match(raw)
}

/// The live block's first line: the bar with `done/total`.
fn bar() -> Regex {
    Regex::new(r"\[[=> ]{30}\] [0-9]+/[0-9]+ [0-9]+\.[0-9]s").unwrap()
}

/// An event line: time, `[done/total]` (not for the stack's own), status, type, logical id.
fn event_line() -> Regex {
    Regex::new(r"^ +[0-9]+\.[0-9]s (\[[0-9]+/[0-9]+\] )?[A-Z_]+ +AWS::[A-Za-z0-9:]+ +[A-Za-z0-9-]+")
        .unwrap()
}

/// One moto, one stack: a first deploy and an update on a terminal (live,
/// then live without colour), a destroy in CI on a terminal (event lines),
/// and the artifacts stack's destroy with no terminal at all.
#[tokio::test(flavor = "multi_thread")]
async fn the_live_block_is_drawn_on_a_terminal_and_event_lines_elsewhere() {
    let moto = Moto::start().unwrap();
    let cfn = aws_sdk_cloudformation::Client::new(&sdk_config(&moto).await);
    let build = fake_build("progress");
    let name = "e2e-progress";

    // On a terminal: the block is drawn (the bar, the cursor moved back to
    // redraw it), in colour, and gone at the end; each resource done stays
    // as a line above it, and so does everything else that was printed.
    let first = on_terminal(
        &moto,
        &build,
        &["deploy", "--stack-name", name, "--yes"],
        &[],
    );
    assert!(first.ok);
    assert!(bar().is_match(&first.raw), "no bar drawn");
    assert!(moves_the_cursor(&first.raw), "nothing redrawn in place");
    assert!(first.raw.contains("\x1b[32mCREATE_COMPLETE"), "no colour");
    let screen = first.screen();
    assert!(!bar().is_match(&screen), "the block stayed:\n{screen}");
    let resource_lines = |screen: &str, status: &str| {
        screen
            .lines()
            .filter(|l| event_line().is_match(l) && l.contains(status))
            .filter(|l| !l.contains("AWS::CloudFormation::Stack"))
            .count()
    };
    let resources = common::template_resources(name).len();
    let artifacts = infra::artifacts_stack().to_value().unwrap()["Resources"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(
        resource_lines(&screen, "CREATE_COMPLETE"),
        resources + artifacts,
        "{screen}"
    );
    assert_eq!(
        resource_lines(&screen, "CREATE_IN_PROGRESS"),
        0,
        "resources in flight are rows of the block, not lines:\n{screen}"
    );
    for printed in [
        "creating the artifacts stack e2e-progress-artifacts",
        "deploying stack e2e-progress",
        "stack e2e-progress is CREATE_COMPLETE",
        "SignInUrl = ",
    ] {
        assert!(
            screen.contains(printed),
            "{printed:?} was overdrawn:\n{screen}"
        );
    }

    // NO_COLOR: the block still, without a colour.
    change_function(&build, "auth");
    let update = on_terminal(
        &moto,
        &build,
        &["deploy", "--stack-name", name, "--yes"],
        &[("NO_COLOR", "1")],
    );
    assert!(update.ok);
    assert!(bar().is_match(&update.raw), "no bar drawn");
    assert!(moves_the_cursor(&update.raw), "nothing redrawn in place");
    assert!(!has_colour(&update.raw), "colour despite NO_COLOR");
    assert!(
        update
            .screen()
            .contains("UPDATE_COMPLETE      AWS::Lambda::Function")
    );

    // CI on a terminal: event lines, one per event, nothing redrawn; colour stays.
    let ci = on_terminal(
        &moto,
        &build,
        &["destroy", "--stack-name", name, "--yes", "--keep-artifacts"],
        &[("CI", "true")],
    );
    assert!(ci.ok);
    assert!(!moves_the_cursor(&ci.raw), "redrawn in CI");
    assert!(!bar().is_match(&ci.raw));
    assert!(ci.raw.contains("\x1b[35mDELETE_IN_PROGRESS"), "no colour");
    let screen = ci.screen();
    assert_eq!(
        resource_lines(&screen, "DELETE_IN_PROGRESS"),
        resources,
        "{screen}"
    );
    assert!(stack(&cfn, name).await.is_none());

    // No terminal: exactly the event lines, not an escape anywhere, even
    // when the block is asked for (it says why it cannot draw one).
    let piped = xtask_with(
        Some(&moto),
        &build,
        &[
            "destroy",
            "--stack-name",
            name,
            "--yes",
            "--progress",
            "live",
        ],
        &[("NO_COLOR", ""), ("TERM", "xterm-256color")],
    );
    assert!(piped.ok, "{}", piped.stderr);
    assert!(!piped.stderr.contains('\x1b'), "{:?}", piped.stderr);
    assert!(
        piped
            .stderr
            .starts_with("note: --progress live needs stderr on a terminal")
    );
    let lines: Vec<&str> = piped
        .stderr
        .lines()
        .filter(|l| l.contains(" AWS::"))
        .collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("DELETE_COMPLETE"))
            .count(),
        artifacts + 1,
        "{}",
        piped.stderr
    );
    for line in lines {
        assert!(event_line().is_match(line), "{line:?}");
    }
    assert!(stack(&cfn, &format!("{name}-artifacts")).await.is_none());
}

#[test]
fn completion_scripts_name_every_command_and_the_progress_flag() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in [
            "synth",
            "package",
            "deploy",
            "diff",
            "local",
            "outputs",
            "destroy",
            "rollback",
            "test",
            "completions",
            "progress",
            "require-approval",
            "broadening",
        ] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// Bash, which every machine here has, really completes with the script:
/// the subcommands, then a command's flags and the values of `--progress`.
#[test]
fn bash_completes_subcommands_flags_and_values() {
    let script = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let complete = |words: &str| {
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c"])
            .arg(format!(
                "source /dev/stdin; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
                 _xtask xtask \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\""
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        out.stdin.as_ref().unwrap().write_all(&script).unwrap();
        let out = out.wait_with_output().unwrap();
        assert!(out.status.success(), "{words}");
        let mut words: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        words.sort();
        words
    };
    assert_eq!(complete("xtask de"), ["deploy", "destroy"]);
    assert!(complete("xtask destroy --").contains(&"--progress".to_owned()));
    assert_eq!(
        complete("xtask deploy --progress ''"),
        ["auto", "events", "live"]
    );
}
