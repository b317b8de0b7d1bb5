//! `cargo xtask destroy` (being written).

/// Options of `cargo xtask destroy`.
#[derive(clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask destroy` is not written yet")
}
