//! `cargo xtask diff`: the change set a deploy would make, summarized, then deleted.

use crate::aws::Aws;
use crate::deploy::{self, Target};

/// Options of `cargo xtask diff`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let checked = args.target.check()?;
    crate::aws::block_on(async {
        // Credentials, region and account first: a build takes minutes.
        let aws = Aws::load(&args.target.aws).await?;
        aws.identify().await?;
        // The code's content hashes are template parameters, so a diff needs the zips.
        let packages = deploy::build(args.target.stack.arch)?;
        deploy::dry_run(&aws, &checked, &packages).await
    })?
}
