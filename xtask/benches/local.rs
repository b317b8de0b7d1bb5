//! Local-mode figures, printed rather than asserted: from `cargo xtask local`
//! (the release build already cached) to the sign-in URL printed, and the
//! time of one whole sign-in on loopback, from the sign-in URL through
//! sign-up, confirmation and sign-in to the greeting, and of a repeat
//! sign-in that the hosted UI's session cookie lets skip the form.
//!
//! `cargo bench --profile dev -p xtask --bench local` (the dev profile reuses
//! the test build); `BENCH_RUNS=N` sets the number of start-ups (default 3).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops loudly"
)]

#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code, reason = "the benchmark uses a part of the tests' helpers")]
mod common;

use std::time::{Duration, Instant};

use common::browser::Browser;
use common::local_mode::{LocalMode, sign_up_and_sign_in, url};

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    common::QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    // The first start builds the functions if needed; it is not counted.
    let mut local = LocalMode::start("bench-local");
    let mut starts = Vec::new();
    for _ in 0..runs {
        local.interrupt();
        let started = Instant::now();
        local = LocalMode::start("bench-local");
        starts.push(started.elapsed());
    }

    let mut whole = Vec::new();
    let mut repeat = Vec::new();
    for n in 0..5 {
        let mut browser = Browser::default();
        let started = Instant::now();
        sign_up_and_sign_in(&local, &mut browser, &format!("bench{n}@example.com")).await;
        whole.push(started.elapsed());
        for _ in 0..4 {
            let started = Instant::now();
            let start = browser.get(url(local.output("SignInUrl"))).await;
            let to_callback = browser.get(start.location()).await;
            let greeted = browser.get(to_callback.location()).await;
            assert_eq!(greeted.status, 200, "{}", greeted.body);
            repeat.push(started.elapsed());
        }
    }
    local.interrupt();
    println!(
        "local start-up to SignInUrl (build cached, median of {runs}): {:.2} s",
        median(starts).as_secs_f64()
    );
    println!(
        "whole sign-in, sign-up to greeting (median of 5): {}",
        ms(median(whole))
    );
    println!(
        "repeat sign-in with the hosted-UI session, SignInUrl to greeting (median of {}): {}",
        repeat.len(),
        ms(median(repeat))
    );
}
