//! `cargo xtask config`: the effective value of every setting of a stack
//! and where it came from (a flag, a `SIGNIN_*` variable, the config
//! file's stage or defaults, the built-in default). No network, no
//! credentials.
//!
//! The module also resolves every command's settings (`resolve.rs`) from
//! the flags, the environment and the config file (`file.rs`).

mod file;
mod resolve;

use std::fmt::Write as _;

pub(crate) use file::FILE_NAME;
pub(crate) use resolve::{Env, Layer, Resolved, resolve};

use crate::stack_args::ApprovalArgs;
use crate::target::Target;

/// Options of `cargo xtask config`: those of `deploy`, to see what a
/// deploy given them would use.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    approval: ApprovalArgs,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.target.resolve(&args.approval.layer())?;
    print!("{}", settings_table(&config));
    Ok(())
}

/// The config file, then one line per setting: key, value (`-`: unset), source.
fn settings_table(config: &Resolved) -> String {
    let mut out = String::new();
    match &config.file {
        Some(loaded) => {
            let stages: Vec<&str> = loaded.file.stages.keys().map(String::as_str).collect();
            let stages = if stages.is_empty() {
                "no stages".to_owned()
            } else {
                format!("stages {}", stages.join(", "))
            };
            let _ = writeln!(out, "config file: {} ({stages})", loaded.label);
        }
        None => {
            let _ = writeln!(
                out,
                "config file: none (no {FILE_NAME} at the workspace root, no --config)"
            );
        }
    }
    let rows: Vec<(&str, &str, &str)> = config
        .entries
        .iter()
        .map(|e| (e.key, e.value.as_deref().unwrap_or("-"), e.from.as_str()))
        .collect();
    let key_width = rows
        .iter()
        .map(|r| r.0.len())
        .fold("setting".len(), usize::max);
    let value_width = rows
        .iter()
        .map(|r| r.1.chars().count())
        .fold("value".len(), usize::max);
    let _ = writeln!(
        out,
        "{:key_width$}  {:value_width$}  from",
        "setting", "value"
    );
    for (key, value, from) in rows {
        let _ = writeln!(out, "{key:key_width$}  {value:value_width$}  {from}");
    }
    if let Some(pin) = config.pins.conflict(config.region.as_deref()) {
        let _ = writeln!(
            out,
            "note: {} pins region {}, so with --region {} every command that talks to AWS refuses to run",
            pin.source.describe(pin.key),
            pin.value,
            config.region.as_deref().unwrap_or("?")
        );
    }
    out
}
