//! The end-to-end tests of `cargo xtask`, one binary: each starts a moto of
//! its own and runs the real `xtask` binary against it. Tests that build the
//! workspace from its sources and edit them are `tests/loop_e2e.rs`, a binary
//! of their own so that they never run beside a test that builds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

mod browser;
mod common;
mod deploy;
mod faults;
mod guard;
mod hotswap;
mod local;
mod progress;
mod synth_cli;
mod tidy;
