//! Test support shared by every crate's tests and by `cargo xtask test`.
//!
//! moto and the Lambda Runtime API stand-in are product code (local mode runs
//! them too) and live in the `local` crate; this crate re-exports them for the
//! tests and adds what only tests need: the pinned linters (cfn-lint,
//! checkov) in the same virtualenv.

pub use local::moto::Moto;
pub use local::runtime_api;
pub use local::venv::{Error, bin as venv_bin, dir as venv_dir, ensure_test_tools as ensure_venv};
pub use local::workspace::{root as workspace_root, target_dir};
