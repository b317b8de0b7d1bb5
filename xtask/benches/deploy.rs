//! Deploy figures, printed rather than asserted: a full create and a no-op
//! deploy against moto (wall time, our own time with the build excluded,
//! API calls), and whether clean builds give byte-identical zips.
//!
//! `cargo bench -p xtask --bench deploy`; `BENCH_CLEAN_BUILDS=N` sets how
//! many clean release builds to compare (default 2, 0 skips them: each takes
//! minutes).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops loudly"
)]

#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code, reason = "the benchmark uses a part of the tests' helpers")]
mod common;

use std::time::{Duration, Instant};

use common::{Build, Moto, Run, xtask, xtask_with};

/// "done in 0.29 s (build excluded, 0.05 s CPU), 7 AWS API calls" → (0.29, 0.05, 7).
fn figures(run: &Run) -> (f64, f64, usize) {
    let line = run
        .stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("done in "))
        .expect("no summary line");
    let numbers: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1], numbers[2] as usize)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    common::QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
    let build = Build::Real;

    // The release build first, so the deploys below find it done.
    let started = Instant::now();
    let package = xtask_with(None, &build, &["package"], &[]);
    assert!(package.ok, "{}", package.stderr);
    println!(
        "package (release build, incremental): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let shared: Vec<String> = package.stdout.lines().map(str::to_owned).collect();
    for line in &shared {
        println!("  {line}");
    }

    let moto = Moto::start().unwrap();
    let started = Instant::now();
    let create = xtask(&moto, &build, &["deploy", "--yes"]);
    assert!(create.ok, "{}", create.stderr);
    let (ours, cpu, calls) = figures(&create);
    println!(
        "full create against moto: {:.2} s wall for the whole command; {ours:.2} s in our process after the build \
         ({cpu:.2} s CPU), {calls} AWS API calls",
        started.elapsed().as_secs_f64()
    );

    let mut walls = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        let noop = xtask(&moto, &build, &["deploy", "--yes"]);
        walls.push(started.elapsed());
        assert!(noop.stderr.contains("up to date"), "{}", noop.stderr);
        last = Some(figures(&noop));
    }
    let (ours, cpu, calls) = last.unwrap();
    println!(
        "no-op deploy against moto (median of 5): {:.2} s wall for the whole command (cargo's no-op build, \
         packaging, AWS); {ours:.2} s after the build ({cpu:.2} s CPU), {calls} AWS API calls",
        median(walls).as_secs_f64()
    );

    let clean: usize = std::env::var("BENCH_CLEAN_BUILDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    let mut all = vec![shared];
    for n in 0..clean {
        let dir = common::scratch(&format!("clean-build-{n}"));
        let started = Instant::now();
        let run = xtask_with(
            None,
            &build,
            &["package", "--out", dir.join("zips").to_str().unwrap()],
            &[("CARGO_TARGET_DIR", dir.to_str().unwrap())],
        );
        assert!(run.ok, "{}", run.stderr);
        println!(
            "clean release build #{}: {:.0} s",
            n + 1,
            started.elapsed().as_secs_f64()
        );
        for line in run.stdout.lines() {
            println!("  {line}");
        }
        all.push(run.stdout.lines().map(str::to_owned).collect());
        let _ = std::fs::remove_dir_all(&dir);
    }
    if clean > 0 {
        let same = all.windows(2).all(|w| w[0] == w[1]);
        println!(
            "zips across the shared target and {clean} clean build(s): {}",
            if same {
                "byte-identical (same SHA-256)"
            } else {
                "DIFFERENT"
            }
        );
    }
}
