//! The integration tests of `infra`, one binary: the synthesized templates
//! by snapshot and by meaning (`synth`), and judged by the official schemas,
//! cfn-lint and checkov (`lint`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

mod lint;
mod synth;
