//! `cargo xtask synth` (being written).

/// Options of `cargo xtask synth`.
#[derive(clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask synth` is not written yet")
}
