//! Time to live after a one-line change in a function, printed rather than
//! asserted, against moto: `deploy --hotswap` (the `hotswap` profile's
//! build, packaging, `UpdateFunctionCode` and the wait for it) beside a
//! normal deploy (the tuned release profile's build, packaging, upload,
//! change set, execution), each step timed.
//!
//! `cargo bench --profile dev -p xtask --bench hotswap` (the dev profile
//! reuses the test build); `BENCH_RUNS=N` sets the edits per kind of deploy
//! (default 2). It changes a log message in `functions/login/src/lib.rs`
//! and puts the file back as it was when it ends, even on a panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops loudly"
)]

#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code, reason = "the benchmark uses a part of the tests' helpers")]
mod common;
#[path = "../tests/loop_e2e/source_edit.rs"]
mod source_edit;

use std::time::{Duration, Instant};

use common::{Build, Moto, Run, xtask};
use source_edit::Edit;

/// The numbers of the first line starting with `prefix`.
fn numbers(run: &Run, prefix: &str) -> Vec<f64> {
    let line = run
        .stderr
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?}:\n{}", run.stderr));
    line.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// What one deploy took, in seconds.
struct Figures {
    wall: f64,
    build: f64,
    package: f64,
    /// Our process after the build: the AWS part ("done in").
    aws: f64,
    /// The login function's update and the wait for it (hotswap only).
    update: Option<f64>,
}

fn figures(run: &Run, wall: Duration) -> Figures {
    let built = numbers(run, "built in ");
    let update = run
        .stderr
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with("login (") && l.contains("updated in "))
        .and_then(|l| l.rsplit("updated in ").next())
        .and_then(|rest| rest.trim_end_matches(" ms").parse::<f64>().ok())
        .map(|ms| ms / 1000.0);
    Figures {
        wall: wall.as_secs_f64(),
        build: built[0],
        package: built[1],
        aws: numbers(run, "done in ")[0],
        update,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(label: &str, runs: &[Figures]) {
    let m = |f: fn(&Figures) -> f64| median(runs.iter().map(f).collect());
    let update = runs.iter().filter_map(|r| r.update).collect::<Vec<_>>();
    let update = if update.is_empty() {
        String::new()
    } else {
        format!(
            ", of which UpdateFunctionCode + wait {:.2} s",
            median(update)
        )
    };
    println!(
        "{label} (median of {}): {:.1} s to live = build {:.1} s + package {:.2} s + AWS {:.2} s{update} \
         (+ {:.2} s process start-up and credentials)",
        runs.len(),
        m(|r| r.wall),
        m(|r| r.build),
        m(|r| r.package),
        m(|r| r.aws),
        m(|r| r.wall - r.build - r.package - r.aws),
    );
}

fn main() {
    common::QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let build = Build::Real;
    let moto = Moto::start().unwrap();
    let stack = ["deploy", "--stack-name", "bench-hotswap"];
    let with = |extra: &[&'static str]| {
        let mut args = stack.to_vec();
        args.extend_from_slice(extra);
        args
    };

    // Both profiles built and the stack deployed first; not counted.
    let create = xtask(&moto, &build, &with(&["--yes"]));
    assert!(create.ok, "{}", create.stderr);
    let warm = xtask(&moto, &build, &with(&["--hotswap"]));
    assert!(warm.ok, "{}", warm.stderr);

    let edit = Edit::new();
    let mut hot = Vec::new();
    let mut normal = Vec::new();
    for n in 0..runs {
        edit.apply(format!("hotswap {n}"));
        let started = Instant::now();
        let run = xtask(&moto, &build, &with(&["--hotswap-only"]));
        assert!(run.ok, "{}", run.stderr);
        hot.push(figures(&run, started.elapsed()));

        edit.apply(format!("release {n}"));
        let started = Instant::now();
        let run = xtask(&moto, &build, &with(&["--yes"]));
        assert!(run.ok, "{}", run.stderr);
        assert_eq!(run.modified(), ["LoginFunction"], "{}", run.stderr);
        normal.push(figures(&run, started.elapsed()));
    }
    drop(edit);
    println!("after a one-line change in functions/login/src, against moto:");
    report("deploy --hotswap (hotswap profile)", &hot);
    report("deploy (release profile, change set)", &normal);
}
