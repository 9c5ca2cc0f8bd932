//! Hostile and malformed input through policy.wasm in wasmtime: very large requests, very many
//! containers and very deep JSON are answered (rejected where appropriate) without a trap and
//! within a bounded linear memory; the same request gives byte-identical answers whatever the
//! order of its keys.
//!
//! `LIMITS_MEASURE=1 cargo test --test robustness_wasm -- --nocapture` also searches each
//! case's smallest memory cap that still answers, i.e. its peak linear memory.

mod support;

use policy_runner::{LoadOptions, Policy, PolicyModule};
use serde_json::{json, Value};
use std::time::Instant;

const MIB: usize = 1 << 20;

fn module_with_cap(cap: usize) -> Option<PolicyModule> {
    let path = support::policy_wasm()?;
    let options = LoadOptions {
        max_memory: Some(cap),
        ..LoadOptions::default()
    };
    Some(PolicyModule::from_file_with(&path, &options).expect("policy.wasm compiles"))
}

/// Calls `operation` on a fresh instance capped at `cap` bytes: the answer, or the error.
fn call_capped(module: &PolicyModule, operation: &str, payload: &[u8]) -> Result<Value, String> {
    let policy: Policy = module.instantiate().map_err(|e| e.to_string())?;
    let answer = policy.call(operation, payload).map_err(|e| e.to_string())?;
    serde_json::from_slice(&answer).map_err(|e| e.to_string())
}

/// Runs a case under `cap`, asserting an answer; with LIMITS_MEASURE set, also reports the
/// smallest cap (in MiB) under which it still answers.
fn answered_within(name: &str, operation: &str, payload: &[u8], cap: usize) -> Option<Value> {
    let module = module_with_cap(cap)?;
    let start = Instant::now();
    let answer = call_capped(&module, operation, payload)
        .unwrap_or_else(|e| panic!("{name}: no answer within {} MiB: {e}", cap / MIB));
    let elapsed = start.elapsed();
    if std::env::var_os("LIMITS_MEASURE").is_some() {
        let (mut low, mut high) = (1usize, cap / MIB);
        while low < high {
            let mid = (low + high) / 2;
            let m = module_with_cap(mid * MIB).unwrap();
            if call_capped(&m, operation, payload).is_ok() {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        println!(
            "{name}: {} bytes in, answered in {:.0} ms, peak linear memory <= {high} MiB",
            payload.len(),
            elapsed.as_secs_f64() * 1e3
        );
    }
    Some(answer)
}

fn pod_payload(spec: Value, settings: Value) -> Vec<u8> {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec});
    support::validation_payload(&support::pod_request(&pod), &settings)
}

#[test]
fn a_ten_megabyte_request_is_answered() {
    let env: Vec<Value> = (0..1000)
        .map(|i| json!({"name": format!("VARIABLE_{i:05}"), "value": "x".repeat(80)}))
        .collect();
    let containers: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("c{i}"), "image": "nginx", "env": env}))
        .collect();
    let payload = pod_payload(
        json!({"containers": containers}),
        json!({"level": "baseline"}),
    );
    assert!(payload.len() >= 10_000_000, "{} bytes", payload.len());
    let Some(answer) = answered_within("10 MB request", "validate", &payload, 512 * MIB) else {
        return;
    };
    assert_eq!(answer["accepted"], true, "{answer}");
}

#[test]
fn ten_thousand_containers_are_all_reported() {
    let containers: Vec<Value> = (0..10_000)
        .map(|i| json!({"name": format!("c{i}"), "image": "nginx", "securityContext": {"privileged": i % 2 == 0}}))
        .collect();
    let payload = pod_payload(
        json!({"containers": containers}),
        json!({"level": "baseline"}),
    );
    let Some(answer) = answered_within("10,000 containers", "validate", &payload, 256 * MIB) else {
        return;
    };
    assert_eq!(answer["accepted"], false);
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains(r#""c0", "c2""#) && message.contains(r#""c9998""#),
        "{}",
        &message[..200]
    );
    assert!(!message.contains(r#""c9999""#));
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn json_nested_ten_thousand_deep_is_rejected_cleanly() {
    let Some(_) = support::policy_wasm() else {
        return;
    };
    // Deep inside an unknown field of the object.
    let request = serde_json::to_string(&support::pod_request(&json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "nginx"}], "x": "PLACEHOLDER"}
    })))
    .unwrap()
    .replace("\"PLACEHOLDER\"", &nested(10_000));
    let payload = format!(r#"{{"request": {request}, "settings": {{}}}}"#);
    let answer = answered_within(
        "JSON 10,000 deep (request)",
        "validate",
        payload.as_bytes(),
        64 * MIB,
    )
    .unwrap();
    assert_eq!(answer["accepted"], false);
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("cannot read the admission request: ")
            && message.contains("recursion limit exceeded"),
        "{answer}"
    );
    // And in the settings: where a typed field meets the nesting, it is the wrong type; where
    // a value is read as any JSON (a PodSecurityPolicy), the depth is the error.
    for (settings, expected) in [
        (
            format!(r#"{{"exemptions": {}}}"#, nested(10_000)),
            "invalid settings: invalid type: sequence",
        ),
        (
            format!(r#"{{"podSecurityPolicy": {{"spec": {}}}}}"#, nested(10_000)),
            "invalid settings: podSecurityPolicy: recursion limit exceeded",
        ),
    ] {
        let answer = answered_within(
            "JSON 10,000 deep (settings)",
            "validate_settings",
            settings.as_bytes(),
            64 * MIB,
        )
        .unwrap();
        assert_eq!(answer["valid"], false);
        assert!(
            answer["message"].as_str().unwrap().starts_with(expected),
            "{answer}"
        );
    }
}

/// Writes `value` as JSON with every object's keys in an order drawn from `seed`.
fn shuffled_json(value: &Value, seed: &mut u64, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            for i in (1..entries.len()).rev() {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                entries.swap(i, (*seed >> 33) as usize % (i + 1));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                shuffled_json(v, seed, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                shuffled_json(v, seed, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[test]
fn answers_are_byte_identical_whatever_the_key_order() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let mut checked = 0;
    for case in support::load_cases() {
        let payload = json!({"request": case.request, "settings": case.settings});
        let reference = policy
            .call("validate", &serde_json::to_vec(&payload).unwrap())
            .unwrap();
        for seed in 1..=5u64 {
            let mut state = seed;
            let mut text = String::new();
            shuffled_json(&payload, &mut state, &mut text);
            let answer = policy.call("validate", text.as_bytes()).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&answer),
                String::from_utf8_lossy(&reference),
                "{} with key order {seed}",
                case.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 100);
}
