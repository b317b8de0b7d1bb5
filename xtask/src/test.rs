//! `cargo xtask test`: the one command that checks everything, here and in
//! CI. It installs what cargo cannot (the pinned Python tools), then runs
//! fmt, clippy, every Rust test and the moto launcher's own tests.

use std::process::Command;

use anyhow::{Context, bail};

/// Options of `cargo xtask test`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Extra arguments for `cargo test` (for example a test name filter).
    #[arg(trailing_var_arg = true)]
    cargo_test_args: Vec<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let root = local::workspace::root();
    step("install the pinned test tools (moto, cfn-lint, checkov)");
    let venv = local::venv::ensure_test_tools().context(
        "cannot set up the test tools; check that python3 with venv and pip can reach PyPI",
    )?;

    step("cargo fmt --check");
    run_cargo(&["fmt", "--all", "--", "--check"])
        .context("code is not formatted: run `cargo fmt`")?;

    step("cargo clippy");
    run_cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
    .context("clippy found problems (see above)")?;

    step("cargo test");
    let mut test = vec!["test", "--workspace"];
    test.extend(args.cargo_test_args.iter().map(String::as_str));
    run_cargo(&test).context("tests failed (see above)")?;

    step("moto launcher tests (python -m unittest)");
    // The launcher's tests run on the real template; `xtask synth --stack-name
    // moto-test` writes the same one (their error says to run it when it is missing).
    let template = local::workspace::target_dir().join("moto-sign-in.json");
    let settings = infra::Settings::new(infra::StackName::new("moto-test")?);
    std::fs::write(
        &template,
        crate::synth::json(&infra::sign_in_stack(&settings))?,
    )
    .with_context(|| format!("cannot write {}", template.display()))?;
    let status = Command::new(venv.join("bin").join("python"))
        .args([
            "-m",
            "unittest",
            "discover",
            "-s",
            "local/moto",
            "-p",
            "test_*.py",
        ])
        .env("TESTKIT_MOTO_TEMPLATE", &template)
        .current_dir(&root)
        .status()
        .context("cannot run python from the test virtualenv")?;
    if !status.success() {
        bail!("the moto launcher's tests failed ({status})");
    }
    Ok(())
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

/// Runs the cargo that runs us (`$CARGO`), from the workspace root.
fn run_cargo(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(crate::package::cargo())
        .args(args)
        .current_dir(local::workspace::root())
        .status()
        .with_context(|| format!("cannot run cargo {}", args.join(" ")))?;
    if status.success() {
        Ok(())
    } else {
        bail!("`cargo {}` failed ({status})", args.join(" "))
    }
}
