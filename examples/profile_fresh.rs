//! `make profile` (scripts/profile-fresh.sh): calls `validate` with one payload on fresh
//! instances (as policy-server does) in a loop, with wasmtime's perf map on, so that
//! `perf record` can say where the time goes, the guest's functions by name when the module
//! keeps its name section.
//!
//!     cargo run --profile runner --example profile_fresh -- MODULE.wasm PAYLOAD.json [SECONDS] [fresh|warm|inst] [OPERATION]
//!
//! PAYLOAD.json is a waPC `validate` payload (`{"request": ..., "settings": ...}`), e.g. one
//! that `BENCH_DUMP=dir make bench` wrote.

use policy_runner::{LoadOptions, PolicyModule};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, payload, rest @ ..] = args.as_slice() else {
        eprintln!(
            "usage: profile_fresh MODULE.wasm PAYLOAD.json [SECONDS] [fresh|warm|inst] [OPERATION]"
        );
        std::process::exit(2);
    };
    let seconds: f64 = rest.first().map_or(5.0, |s| s.parse().expect("SECONDS"));
    // fresh: a new instance per call; warm: one instance; inst: new instances, no call.
    let mode = rest.get(1).map_or("fresh", String::as_str);
    if !matches!(mode, "fresh" | "warm" | "inst") {
        eprintln!("profile_fresh: unknown mode {mode:?}; expected fresh, warm or inst");
        std::process::exit(2);
    }
    let fresh = mode != "warm";
    let call = mode != "inst";
    // The waPC operation: validate, or validate_settings with a settings document as PAYLOAD.
    let operation = rest.get(2).map_or("validate", String::as_str);
    let payload = std::fs::read(payload).expect("the payload is readable");
    let options = LoadOptions {
        timeout: Some(Duration::from_secs(2)), // epoch interruption on, as in policy-server
        perf_map: true,
        ..LoadOptions::default()
    };
    let policy = PolicyModule::from_file_with(module, &options)
        .and_then(|m| m.instantiate())
        .expect("the module loads");
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut calls = 0u64;
    while Instant::now() < end {
        for _ in 0..100 {
            if fresh {
                policy.reinstantiate().expect("a fresh instance");
            }
            if call {
                policy.call(operation, &payload).expect("the guest answers");
            }
        }
        calls += 100;
    }
    eprintln!(
        "{calls} calls in {seconds} s: {:.1} µs each",
        seconds * 1e6 / calls as f64
    );
}
