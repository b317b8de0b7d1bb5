//! Prints how long the process's first aws-lc random number takes, in
//! microseconds. That is where aws-lc gathers CPU-jitter entropy (about
//! 21 ms, paid on the first TLS handshake of every cold start) unless it was
//! built with `AWS_LC_SYS_NO_JITTER_ENTROPY=1`; only a fresh process shows it.

use std::time::Instant;

fn main() {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let mut bytes = [0_u8; 32];
    let start = Instant::now();
    let first = provider.secure_random.fill(&mut bytes);
    let first_us = start.elapsed().as_micros();
    let start = Instant::now();
    let second = provider.secure_random.fill(&mut bytes);
    let second_us = start.elapsed().as_micros();
    if first.is_err() || second.is_err() {
        eprintln!("aws-lc could not produce random bytes");
        std::process::exit(1);
    }
    println!("{first_us} {second_us}");
}
