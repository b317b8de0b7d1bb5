//! `cargo xtask diff` (being written).

/// Options of `cargo xtask diff`.
#[derive(clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask diff` is not written yet")
}
