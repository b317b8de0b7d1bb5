//! `cargo xtask completions SHELL`: the shell completion script, on stdout.
//!
//! Shells complete a command by its first word, and `cargo`'s completion
//! knows nothing of xtask's subcommands and flags, so the script is for the
//! word `xtask`: an alias `xtask` for `cargo xtask` (or an installed
//! `xtask` binary) completes with it. The README shows the set-up per shell.

use clap_complete::Shell;

/// The word the completion is registered for.
pub(crate) const BIN_NAME: &str = "xtask";

/// Options of `cargo xtask completions`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: Shell,
}

/// Writes the completion script for `command` (the whole CLI) to stdout.
pub(crate) fn run(args: Args, mut command: clap::Command) -> anyhow::Result<()> {
    clap_complete::generate(args.shell, &mut command, BIN_NAME, &mut std::io::stdout());
    Ok(())
}
