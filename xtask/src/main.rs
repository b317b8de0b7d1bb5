//! `cargo xtask`: synthesize, deploy, review, destroy and test the sign-in stack.
//!
//! `main` only dispatches; each command lives in its own module with a clap
//! `Args` struct and a `run`.
//!
//! Exit codes: 0 success; 1 a "no" that is not an error ([`Verdict`]:
//! `diff --fail` found changes, a `smoke` check failed); 2 an error (clap's
//! usage errors are 2 as well).

mod artifacts;
mod aws;
mod cfn;
mod completions;
mod config;
mod deploy;
mod destroy;
mod diff;
#[cfg(test)]
mod follow_tests;
mod hotswap;
mod intrinsics;
mod local;
mod logs;
mod outputs;
mod package;
mod progress;
mod review;
mod rollback;
mod rollout;
mod smoke;
mod stack_args;
mod synth;
mod target;
mod test;
mod watch;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about, version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// The commands that run stack operations take `--progress` beside their own
// options: it decides the process's output before the command starts.
#[derive(Subcommand)]
enum Command {
    /// Print the CloudFormation template; no build, no network, no credentials.
    Synth(synth::Args),
    /// Build the functions and write their reproducible zips; no network.
    Package(package::Args),
    /// Build, package, upload, review the change set, deploy and print the outputs.
    Deploy {
        #[command(flatten)]
        args: deploy::Args,
        #[command(flatten)]
        progress: progress::Args,
    },
    /// Show what a deploy would change, without changing anything.
    Diff {
        #[command(flatten)]
        args: diff::Args,
        #[command(flatten)]
        progress: progress::Args,
    },
    /// Print every setting of the stack and where it came from; no network, no credentials.
    Config(config::Args),
    /// Rebuild and hotswap the functions on every save of their source; show their new log lines.
    Watch(watch::Args),
    /// The whole system on this machine (moto, a hosted-UI stand-in, the API, the real functions).
    Local {
        #[command(flatten)]
        args: local::Args,
        #[command(flatten)]
        progress: progress::Args,
    },
    /// Print the outputs of the deployed stack (text, JSON or env lines).
    Outputs(outputs::Args),
    /// Read the functions' log groups, rendered for a person or as NDJSON; --follow polls.
    Logs(logs::Args),
    /// Call the deployed API as a client would and report each check.
    Smoke(smoke::Args),
    /// Empty the buckets and delete the stack (and the artifacts stack).
    Destroy {
        #[command(flatten)]
        args: destroy::Args,
        #[command(flatten)]
        progress: progress::Args,
    },
    /// Finish the rollback of a stack stuck in UPDATE_ROLLBACK_FAILED.
    Rollback {
        #[command(flatten)]
        args: rollback::Args,
        #[command(flatten)]
        progress: progress::Args,
    },
    /// Install the pinned test tools, then run fmt, clippy and every test.
    Test(test::Args),
    /// Print a shell completion script (bash, zsh, fish, …) for `xtask`, an alias of `cargo xtask`.
    Completions(completions::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => synth::run(args),
        Command::Package(args) => package::run(args),
        Command::Deploy { args, progress } => {
            progress.install();
            deploy::run(args)
        }
        Command::Diff { args, progress } => {
            progress.install();
            diff::run(args)
        }
        Command::Config(args) => config::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Local { args, progress } => {
            progress.install();
            local::run(args)
        }
        Command::Outputs(args) => outputs::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Smoke(args) => smoke::run(args),
        Command::Destroy { args, progress } => {
            progress.install();
            destroy::run(args)
        }
        Command::Rollback { args, progress } => {
            progress.install();
            rollback::run(args)
        }
        Command::Test(args) => test::run(args),
        Command::Completions(args) => completions::run(args, Cli::command()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<Verdict>() {
            Some(verdict) => {
                eprintln!("{verdict}");
                std::process::ExitCode::from(1)
            }
            None => {
                eprintln!("error: {err:#}");
                std::process::ExitCode::from(2)
            }
        },
    }
}

/// A command's answer "no", which is not an error: `diff --fail` found
/// changes, a `smoke` check failed. `main` exits with 1 for it and with 2
/// for an error, so a script can tell the two apart.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Verdict(pub(crate) String);

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
