//! Times module compilation, instantiation and waPC calls.
//!
//! cargo run -p policy-runner --example measure -- POLICY.wasm [REQUEST.json] [CALLS]
//!
//! REQUEST.json (AdmissionReview or AdmissionRequest) defaults to a small Pod
//! CREATE; CALLS defaults to 2000. NO_TIMEOUT=1 loads without the call
//! timeout (no epoch interruption), to see what it costs.

use std::time::{Duration, Instant};

use policy_runner::{read_request_file, LoadOptions, PolicyModule};

const DEFAULT_REQUEST: &str = r#"{"uid":"measure","kind":{"group":"","version":"v1","kind":"Pod"},
"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","namespace":"default",
"userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
"spec":{"containers":[{"name":"c","image":"nginx","securityContext":{"runAsNonRoot":true}}]}}}"#;

fn per_call(total: Duration, calls: u32) -> String {
    format!("{:.1} µs", total.as_secs_f64() * 1e6 / f64::from(calls))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let wasm = args
        .next()
        .ok_or("usage: measure POLICY.wasm [REQUEST.json] [CALLS]")?;
    let request = match args.next() {
        Some(path) => read_request_file(path)?,
        None => serde_json::from_str(DEFAULT_REQUEST)?,
    };
    let calls: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
    let request_json = request.to_string();

    let bytes = std::fs::read(&wasm)?;
    let start = Instant::now();
    let mut options = LoadOptions::default();
    if std::env::var_os("NO_TIMEOUT").is_some() {
        options.timeout = None;
    }
    let module = PolicyModule::from_bytes_with(&bytes, &options)?;
    let compile = start.elapsed();

    let start = Instant::now();
    let policy = module.instantiate()?;
    let instantiate = start.elapsed();

    let start = Instant::now();
    let first = policy.validate(&request_json, "{}")?;
    let first_call = start.elapsed();

    let start = Instant::now();
    for _ in 0..calls {
        policy.validate(&request_json, "{}")?;
    }
    let validate = start.elapsed();

    let start = Instant::now();
    for _ in 0..calls {
        policy.validate_settings("{}")?;
    }
    let settings = start.elapsed();

    let start = Instant::now();
    for _ in 0..calls {
        policy.evaluate(&request, &serde_json::json!({}));
    }
    let evaluate = start.elapsed();

    let start = Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        policy.reinstantiate()?;
    }
    let reinstantiate = start.elapsed();

    println!("module            {wasm} ({} bytes)", bytes.len());
    println!("compile           {:.3} s", compile.as_secs_f64());
    println!(
        "instantiate       {:.2} ms",
        instantiate.as_secs_f64() * 1e3
    );
    println!(
        "first validate    {:.2} ms (accepted: {})",
        first_call.as_secs_f64() * 1e3,
        first.accepted
    );
    println!(
        "validate          {} per call over {calls}",
        per_call(validate, calls)
    );
    println!(
        "validate_settings {} per call over {calls}",
        per_call(settings, calls)
    );
    println!(
        "evaluate          {} per call over {calls}",
        per_call(evaluate, calls)
    );
    println!(
        "reinstantiate     {} per call over {rounds}",
        per_call(reinstantiate, rounds)
    );
    Ok(())
}
