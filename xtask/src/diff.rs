//! `cargo xtask diff`: the change set a deploy would make, summarized, then deleted.

use crate::config::Layer;
use crate::deploy::{self, Checked, Target};

/// Options of `cargo xtask diff`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.target.resolve(&Layer::default())?;
    let checked = Checked::new(&config)?;
    crate::aws::block_on(async {
        // Credentials, region and account first, and the stage's pins: a build takes minutes.
        let (aws, _) = config.connect(&args.target.aws).await?;
        // The code's content hashes are template parameters, so a diff needs the zips.
        let packages = deploy::build(checked.arch())?;
        deploy::dry_run(&aws, &checked, &packages).await
    })?
}
