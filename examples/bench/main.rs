//! `make bench`: what a `validate` call costs, through policy.wasm in wasmtime by the waPC host
//! Kubewarden uses, against a floor measured in the same run — the same host calls into
//! floor-policy.wasm, which only reads the request with kubewarden-policy-sdk and accepts it.
//!
//! Two ways of calling are timed:
//! - **fresh instance** (`fresh.rs`), what Kubewarden's policy-server does for every admission
//!   request: a new instance from the pre-instantiated module, `wapc_init`, then `validate` with
//!   the settings, which the policy reads again since nothing survives from a previous request;
//! - **warm instance** (`warm.rs`): every call on one instance, the settings read once.
//!
//!     cargo run --profile runner --example bench -- policy.wasm floor-policy.wasm
//!
//! Prints figures; asserts nothing about them (targets live in docs/performance.md and the
//! issue tracker), only that what is timed is the real decision.

mod fixtures;
mod fresh;
mod warm;

use policy_runner::{LoadOptions, Policy, PolicyModule};
use std::time::{Duration, Instant};

pub struct Stats {
    pub median: f64,
    pub mean: f64,
}

pub fn measure(iterations: usize, mut call: impl FnMut()) -> Stats {
    for _ in 0..iterations.div_ceil(10) {
        call();
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        call();
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    Stats {
        median: micros(samples[samples.len() / 2]),
        mean: samples.iter().map(|d| micros(*d)).sum::<f64>() / samples.len() as f64,
    }
}

/// One line of the table: ours, the floor's, their ratio, and the native figure.
pub fn print_row(name: &str, ours: &Stats, base: &Stats, native: &Stats) {
    println!(
        "{name:<34} {:>11.1} {:>11.1} {:>12.1} {:>7.2}x {:>12.1}",
        ours.median,
        ours.mean,
        base.median,
        ours.median / base.median,
        native.median
    );
}

pub fn call(policy: &Policy, operation: &str, payload: &[u8]) {
    let answer = policy.call(operation, payload).expect("the guest answers");
    assert!(!answer.is_empty());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (policy_path, floor_path) = match args.as_slice() {
        [p, f] => (p.clone(), f.clone()),
        _ => ("policy.wasm".into(), "target/floor-policy.wasm".into()),
    };
    let policy_bytes = std::fs::read(&policy_path).expect("policy.wasm is readable");
    let floor_bytes = std::fs::read(&floor_path).expect("floor-policy.wasm is readable");
    println!("policy.wasm: {} bytes ({policy_path})", policy_bytes.len());
    println!("floor-policy.wasm: {} bytes", floor_bytes.len());
    println!();
    fresh::cold_start(&policy_bytes, &floor_bytes);
    // As policy-server runs modules: its policy timeout (2 s by default) is wasmtime's epoch
    // interruption, whose deadline checks at every function entry and loop back edge are part
    // of what a request costs (without them the model measured 5-10% less guest time).
    let options = LoadOptions {
        timeout: Some(std::time::Duration::from_secs(2)),
        ..LoadOptions::default()
    };
    let policy = PolicyModule::from_bytes_with(&policy_bytes, &options)
        .and_then(|m| m.instantiate())
        .expect("policy.wasm loads");
    let floor = PolicyModule::from_bytes_with(&floor_bytes, &options)
        .and_then(|m| m.instantiate())
        .expect("floor-policy.wasm loads");
    fresh::run(&policy, &floor);
    // BENCH_ONLY=fresh stops here (quicker, when comparing builds).
    if std::env::var("BENCH_ONLY").as_deref() != Ok("fresh") {
        warm::run(&policy, &floor);
    }
}
