//! Warm latency of the login function against moto: prints figures, asserts
//! nothing. Run: `cargo bench -p login --bench warm`.
//!
//! Compared, interleaved so noise hits all alike, per warm request:
//! - the handler as shipped: PutItem, PutObject and the greeting concurrently,
//!   the greeting from the in-process cache;
//! - the three AWS calls concurrently with no cache (GetParametersByPath every time);
//! - the same three one after another, no cache.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code, reason = "the benchmark uses a part of the tests' helpers")]
mod common;

use std::time::{Duration, Instant};

const ROUNDS: usize = 200;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    let at = |p: f64| values[((values.len() as f64 - 1.0) * p).round() as usize];
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    format!(
        "mean {mean:6.2}  p50 {:6.2}  p90 {:6.2}  p99 {:6.2}",
        at(0.5),
        at(0.9),
        at(0.99)
    )
}

#[tokio::main]
async fn main() {
    let stack = common::Stack::create("warm").await;
    let app = stack.app();
    let event = common::fixture("login.json");

    // Warm everything up: connections, the greeting cache, moto's tables.
    for _ in 0..10 {
        let (status, _) = common::invoke(&app, event.clone()).await;
        assert_eq!(status, 200);
    }

    let mut handler = Vec::new();
    let mut concurrent = Vec::new();
    let mut sequential = Vec::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        common::invoke(&app, event.clone()).await;
        handler.push(ms(started.elapsed()));

        let name = format!("bench{round}@example.com");
        let timestamp = login::timestamp_now();
        let started = Instant::now();
        tokio::try_join!(
            login::put_item(&app, &name, &timestamp),
            login::put_object(&app, &name, &timestamp),
            login::fetch_greetings(&app),
        )
        .unwrap();
        concurrent.push(ms(started.elapsed()));

        let timestamp = login::timestamp_now();
        let started = Instant::now();
        login::put_item(&app, &name, &timestamp).await.unwrap();
        login::put_object(&app, &name, &timestamp).await.unwrap();
        login::fetch_greetings(&app).await.unwrap();
        sequential.push(ms(started.elapsed()));
    }

    println!("\nwarm login latency against moto, {ROUNDS} requests each (ms):");
    println!(
        "  handler (concurrent, greeting cached)     {}",
        summary(&mut handler)
    );
    println!(
        "  3 calls concurrent, no greeting cache     {}",
        summary(&mut concurrent)
    );
    println!(
        "  3 calls sequential, no greeting cache     {}",
        summary(&mut sequential)
    );
}
