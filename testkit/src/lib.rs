//! Test support shared by every crate's tests and by `cargo xtask test`.
//!
//! moto and the Lambda Runtime API stand-in are product code (local mode runs
//! them too) and live in the `local` crate; this crate re-exports them for the
//! tests and adds what only tests need: the pinned linters (cfn-lint,
//! checkov) in the same virtualenv.

use std::path::PathBuf;

pub use local::moto::Moto;
pub use local::runtime_api;
pub use local::venv::{Error, target_dir, workspace_root};

/// The virtualenv that holds the pinned Python tools.
pub fn venv_dir() -> PathBuf {
    local::venv::dir()
}

/// A program installed in the virtualenv (`python`, `cfn-lint`, `checkov`, …).
pub fn venv_bin(name: &str) -> PathBuf {
    local::venv::bin(name)
}

/// Creates the virtualenv with moto and the test tools (cfn-lint, checkov),
/// each pinned, unless they are installed already.
pub fn ensure_venv() -> Result<PathBuf, Error> {
    local::venv::ensure(&[
        local::venv::moto_requirements(),
        workspace_root().join("testkit").join("requirements.txt"),
    ])
}
