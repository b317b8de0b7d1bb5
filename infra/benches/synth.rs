//! Synthesis cost: building the sign-in stack's template, and serializing
//! it to the JSON CloudFormation is sent. `cargo bench -p infra`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use infra::{Settings, StackName};
use std::hint::black_box;

fn synth(c: &mut Criterion) {
    let settings = Settings::new(StackName::new("bench").unwrap());
    c.bench_function("build sign-in stack", |b| {
        b.iter(|| infra::sign_in_stack(black_box(&settings)));
    });
    let template = infra::sign_in_stack(&settings);
    c.bench_function("validate + serialize to JSON", |b| {
        b.iter(|| black_box(&template).to_json().unwrap());
    });
    c.bench_function("build + validate + serialize", |b| {
        b.iter(|| {
            infra::sign_in_stack(black_box(&settings))
                .to_json()
                .unwrap()
        });
    });
}

criterion_group!(benches, synth);
criterion_main!(benches);
