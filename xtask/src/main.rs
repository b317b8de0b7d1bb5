//! `cargo xtask`: synthesize, deploy, review, destroy and test the sign-in stack.
//!
//! `main` only dispatches; each command lives in its own module with a clap
//! `Args` struct and a `run`.

mod artifacts;
mod aws;
mod cfn;
mod deploy;
mod destroy;
mod diff;
#[cfg(test)]
mod follow_tests;
mod hotswap;
mod local;
mod outputs;
mod package;
mod progress;
mod review;
mod rollback;
mod stack_args;
mod synth;
mod test;
mod watch;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about, version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CloudFormation template; no build, no network, no credentials.
    Synth(synth::Args),
    /// Build the functions and write their reproducible zips; no network.
    Package(package::Args),
    /// Build, package, upload, review the change set, deploy and print the outputs.
    Deploy(deploy::Args),
    /// Show what a deploy would change, without changing anything.
    Diff(diff::Args),
    /// Rebuild and hotswap the functions on every save of their source; show their new log lines.
    Watch(watch::Args),
    /// The whole system on this machine (moto, a hosted-UI stand-in, the API, the real functions).
    Local(local::Args),
    /// Print the outputs of the deployed stack.
    Outputs(outputs::Args),
    /// Empty the buckets and delete the stack (and the artifacts stack).
    Destroy(destroy::Args),
    /// Finish the rollback of a stack stuck in UPDATE_ROLLBACK_FAILED.
    Rollback(rollback::Args),
    /// Install the pinned test tools, then run fmt, clippy and every test.
    Test(test::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => synth::run(args),
        Command::Package(args) => package::run(args),
        Command::Deploy(args) => deploy::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Local(args) => local::run(args),
        Command::Outputs(args) => outputs::run(args),
        Command::Destroy(args) => destroy::run(args),
        Command::Rollback(args) => rollback::run(args),
        Command::Test(args) => test::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
