//! `cargo xtask diff`: the change set a deploy would make, summarized, then
//! deleted; as text for a person or Markdown for a pull request, and with
//! `--fail` an exit code for CI.

use crate::Verdict;
use crate::config::Layer;
use crate::package::{self, Profile};
use crate::review;
use crate::rollout;
use crate::target::{Checked, Target};

/// Options of `cargo xtask diff`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
    /// Exit with 1 when a deploy would change anything (0 when up to date;
    /// errors exit with 2).
    #[arg(long)]
    fail: bool,
    /// `text`: the summary and security table on stderr, as `deploy` shows
    /// them; `markdown`: both as Markdown tables on stdout, for a
    /// pull-request comment.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// How `diff` shows the change set.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Markdown,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.target.resolve(&Layer::default())?;
    let checked = Checked::new(&config)?;
    let stack = checked.stack().as_str().to_owned();
    let review = crate::aws::block_on(async {
        // Credentials, region and account first, and the stage's pins: a build takes minutes.
        let (aws, _) = config.connect(&args.target.aws).await?;
        // The code's content hashes are template parameters, so a diff needs the zips.
        let packages = package::build_and_package(checked.arch(), Profile::Release)?;
        rollout::dry_run(&aws, &checked, &packages).await
    })??;
    match (&review, args.format) {
        (None, Format::Text) => {
            eprintln!("stack {stack} is up to date: a deploy would change nothing");
        }
        (Some(review), Format::Text) => {
            review::print(&stack, &review.change_set, &review.security);
        }
        (_, Format::Markdown) => print!("{}", review::markdown(&stack, review.as_ref())),
    }
    if review.is_some() {
        eprintln!("nothing was changed; the change set is deleted");
        if args.fail {
            return Err(Verdict(format!("a deploy would change stack {stack}")).into());
        }
    }
    Ok(())
}
