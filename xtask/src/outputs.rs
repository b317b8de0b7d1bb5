//! `cargo xtask outputs`: the outputs of the deployed stack, sign-in URL first.

use anyhow::Context;
use aws_sdk_cloudformation::types::Stack;

use crate::aws::AwsArgs;
use crate::cfn;
use crate::config::Layer;
use crate::stack_args::StackSelection;

/// Options of `cargo xtask outputs`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    stack: StackSelection,
    #[command(flatten)]
    aws: AwsArgs,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.stack.resolve(&[&Layer::aws(&args.aws)])?;
    let stack = &config.settings.stack_name;
    crate::aws::block_on(async {
        let (aws, _) = config.connect(&args.aws).await?;
        let current = cfn::describe(&aws.cfn, stack.as_str())
            .await?
            .with_context(|| {
                format!(
                    "stack {} does not exist; run `cargo xtask deploy`",
                    stack.as_str()
                )
            })?;
        print(&current);
        Ok(())
    })?
}

/// The outputs in a fixed order (what a person needs first, first), then any others.
const ORDER: [&str; 7] = {
    use infra::stack::outputs as o;
    [
        o::SIGN_IN_URL,
        o::API_URL,
        o::CALLBACK_URL,
        o::USER_POOL_ID,
        o::CLIENT_ID,
        o::TABLE_NAME,
        o::BUCKET_NAME,
    ]
};

/// Prints `key = value` lines on stdout, so scripts can read them.
pub(crate) fn print(stack: &Stack) {
    print_pairs(
        stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
    );
}

/// Prints outputs in [`ORDER`], then any others, as `key = value` lines on stdout.
pub(crate) fn print_pairs(mut outputs: Vec<(String, String)>) {
    outputs.sort_by_key(|(key, _)| ORDER.iter().position(|k| k == key).unwrap_or(ORDER.len()));
    for (key, value) in outputs {
        println!("{key} = {value}");
    }
}
