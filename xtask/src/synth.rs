//! `cargo xtask synth`: print the template for review. No build, no
//! network, no credentials.

use std::path::PathBuf;

use anyhow::Context;

use crate::stack_args::StackArgs;

/// Options of `cargo xtask synth`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    stack: StackArgs,
    /// The template's format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write the template to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the artifacts stack's template instead of the sign-in stack's.
    #[arg(long)]
    artifacts: bool,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum Format {
    Json,
    Yaml,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let settings = args.stack.settings()?;
    let template = if args.artifacts {
        infra::artifacts_stack()
    } else {
        infra::sign_in_stack(&settings)
    };
    template
        .validate()
        .context("the synthesized template is not valid (a bug in infra/src/stack.rs)")?;
    let text = match args.format {
        Format::Json => template.to_json(),
        Format::Yaml => template.to_yaml(),
    };
    match args.out {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write the template to {}", path.display())),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(text.as_bytes())
                .context("cannot write the template to standard output")
        }
    }
}
