//! The integration tests of `login`, one binary: the handler against its
//! stand-ins (`handler`), the input it refuses (`bad_input`), and the real
//! binary under a stand-in Runtime API (`binary`). `common` is their
//! support, also included by the benchmarks.

mod bad_input;
mod binary;
mod common;
mod handler;
