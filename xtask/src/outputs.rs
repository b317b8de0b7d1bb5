//! `cargo xtask outputs` (being written).

/// Options of `cargo xtask outputs`.
#[derive(clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask outputs` is not written yet")
}
