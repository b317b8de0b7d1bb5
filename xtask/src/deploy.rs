//! `cargo xtask deploy` (being written).

/// Options of `cargo xtask deploy`.
#[derive(clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask deploy` is not written yet")
}
