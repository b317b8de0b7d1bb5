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
    let settings = args.stack.resolve(&[])?.settings;
    let template = if args.artifacts {
        infra::artifacts_stack()
    } else {
        infra::sign_in_stack(&settings)
    };
    let text = match args.format {
        Format::Json => json(&template)?,
        Format::Yaml => template.to_yaml().map_err(invalid)?,
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

/// The template as CloudFormation is sent it. Every command reaches JSON
/// through here (or [`infra::Template::to_yaml`]), and both validate first:
/// an invalid template stops the command before anything is sent.
pub(crate) fn json(template: &infra::Template) -> anyhow::Result<String> {
    template.to_json().map_err(invalid)
}

fn invalid(problem: infra::TemplateError) -> anyhow::Error {
    anyhow::anyhow!(
        "the template is not valid, so nothing was sent or written: {problem} \
         (a bug in the stack's code under infra/src/)"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_invalid_template_stops_the_command_naming_the_problem() {
        let mut template = infra::artifacts_stack();
        template.output(
            "BucketName",
            "a second output of the same id",
            infra::Expr::REGION,
        );
        let err = super::json(&template).unwrap_err().to_string();
        assert!(
            err.contains("logical id `BucketName` is used twice"),
            "{err}"
        );
        assert!(err.contains("nothing was sent"), "{err}");
    }
}
