//! `cargo xtask test` (being written).

/// Options of `cargo xtask test`.
#[derive(clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask test` is not written yet")
}
