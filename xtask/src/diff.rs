//! `cargo xtask diff`: the change set a deploy would make, summarized, then deleted.

use crate::aws::Aws;
use crate::cfn::{self, Planned};
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
        let stack = checked.stack().as_str();
        // A dry run: no artifacts stack, no upload, no recovery of stuck stacks.
        let (planned, _) = deploy::plan(&aws, &checked, &packages, false).await?;
        match planned {
            Planned::UpToDate => {
                eprintln!("stack {stack} is up to date: a deploy would change nothing");
            }
            Planned::Changes(change_set) => {
                deploy::review(stack, &change_set);
                cfn::discard(&aws.cfn, &change_set).await?;
                eprintln!("nothing was changed; the change set is deleted");
            }
        }
        Ok(())
    })?
}
