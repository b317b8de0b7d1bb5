//! `cargo xtask`: synthesize, deploy, review, destroy and test the sign-in stack.
//!
//! `main` only dispatches; each command lives in its own module with a clap
//! `Args` struct and a `run`.

mod artifacts;
mod aws;
mod cfn;
mod completions;
mod deploy;
mod destroy;
mod diff;
#[cfg(test)]
mod follow_tests;
mod local;
mod outputs;
mod package;
mod progress;
mod review;
mod rollback;
mod stack_args;
mod synth;
mod test;

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
    /// The whole system on this machine (moto, a hosted-UI stand-in, the API, the real functions).
    Local {
        #[command(flatten)]
        args: local::Args,
        #[command(flatten)]
        progress: progress::Args,
    },
    /// Print the outputs of the deployed stack.
    Outputs(outputs::Args),
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
        Command::Local { args, progress } => {
            progress.install();
            local::run(args)
        }
        Command::Outputs(args) => outputs::run(args),
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
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
