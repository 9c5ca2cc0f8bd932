//! Fresh instance: what Kubewarden's policy-server does for every admission request. It keeps
//! one pre-instantiated module (wasmtime's `InstancePre`, through wasmtime-provider) and, per
//! request, rehydrates a new instance from it, runs `wapc_init` and calls `validate` with the
//! settings, so nothing the policy computed for an earlier request (its compiled settings
//! included) is there. `Policy::reinstantiate` is that rehydration, by the same provider.
//!
//! Each row times, per request: the instantiation (rehydrate + `wapc_init`), the `validate` call
//! on the new instance, and their sum, for the policy and the floor; then, to show where the
//! policy's time goes, what reading the settings alone costs on a fresh instance
//! (`validate_settings`, less the floor's) and what the same `validate` costs on a warm instance
//! whose settings are already compiled.

use crate::fixtures::*;
use crate::measure;
use policy_runner::{HostCapabilities, LoadOptions, Policy, PolicyModule, ReplaySession};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Medians, in µs, of one request on fresh instances.
struct FreshStats {
    instantiate: f64,
    call: f64,
    total: f64,
}

fn median(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

/// `operation(payload)` on `n` fresh instances; `before` runs untimed before each (rewinding a
/// replay session).
fn on_fresh_instances(
    policy: &Policy,
    operation: &str,
    payload: &[u8],
    n: usize,
    before: &dyn Fn(),
) -> FreshStats {
    let mut instantiate = Vec::with_capacity(n);
    let mut call = Vec::with_capacity(n);
    let mut total = Vec::with_capacity(n);
    for i in 0..n + n.div_ceil(10) {
        before();
        let start = Instant::now();
        policy.reinstantiate().expect("a fresh instance");
        let ready = Instant::now();
        let answer = policy.call(operation, payload).expect("the guest answers");
        let done = Instant::now();
        assert!(!answer.is_empty());
        // The first tenth warms caches and is not counted.
        if i >= n.div_ceil(10) {
            instantiate.push(ready - start);
            call.push(done - ready);
            total.push(done - start);
        }
    }
    FreshStats {
        instantiate: median(&mut instantiate),
        call: median(&mut call),
        total: median(&mut total),
    }
}

struct Case {
    name: &'static str,
    request: Value,
    settings: Value,
    accepted: bool,
    /// Host answers for the request, replayed from the start for every instance.
    session: Option<fn() -> ReplaySession>,
    iterations: usize,
}

fn cases() -> Vec<Case> {
    let level_only = json!({"level": "restricted"});
    let case = |name, request: Value, settings: &Value, accepted, iterations| Case {
        name,
        request,
        settings: settings.clone(),
        accepted,
        session: None,
        iterations,
    };
    vec![
        case(
            "(i)   Deployment 3+1, level only",
            deployment(),
            &level_only,
            true,
            3000,
        ),
        case(
            "(ii)  Deployment 3+1, every constraint",
            deployment(),
            &every_constraint_settings(),
            true,
            3000,
        ),
        case(
            "(iii) Deployment 3+1, restricted PSP",
            deployment(),
            &json!({"podSecurityPolicy": restricted_psp()}),
            true,
            3000,
        ),
        Case {
            session: Some(labelled_namespace_session),
            ..case(
                "(iv)  Deployment 3+1, profiles+labels",
                deployment(),
                &profiles_and_labels_settings(),
                true,
                3000,
            )
        },
        case(
            "(v)   small Deployment, level only",
            small_deployment(),
            &level_only,
            true,
            3000,
        ),
        case(
            "(vi)  small Deployment, every constr.",
            small_deployment(),
            &every_constraint_settings(),
            true,
            3000,
        ),
        case(
            "(vii) minimal Pod, level only",
            minimal_pod(),
            &level_only,
            false,
            3000,
        ),
        case(
            "(viii) Pod, 500 containers, level only",
            huge_pod(),
            &level_only,
            false,
            200,
        ),
        case(
            "(ix)  Pod exempted by service account",
            node_exporter_pod(),
            &service_account_exemption_settings(),
            true,
            3000,
        ),
    ]
}

pub fn run(policy: &Policy, floor: &Policy) {
    println!("Fresh instance per request (what Kubewarden's policy-server does):");
    println!(
        "{:<40} {:>8} {:>9} {:>9} {:>11} {:>9} {:>7} {:>9} {:>9}",
        "",
        "inst µs",
        "validate",
        "total µs",
        "floor inst",
        "floor µs",
        "ratio",
        "settings",
        "warm µs"
    );
    let mut totals = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        let payload =
            serde_json::to_vec(&json!({"request": case.request, "settings": case.settings}))
                .unwrap();
        // BENCH_DUMP=dir writes the payloads, for `make profile`.
        if let Some(dir) = std::env::var_os("BENCH_DUMP") {
            let path = std::path::Path::new(&dir).join(format!("fresh{}.json", i + 1));
            std::fs::write(path, &payload).unwrap();
        }
        let settings = serde_json::to_vec(&case.settings).unwrap();
        let replay = |policy: &Policy| {
            policy.set_host_capabilities(HostCapabilities {
                allow_context_aware: case.session.is_some(),
                replay: case.session.map(|session| session()),
                ..Default::default()
            })
        };
        replay(policy);
        let rewind = || {
            if let Some(session) = policy.host_capabilities().replay.as_mut() {
                session.rewind();
            }
        };
        // What is timed must be the real decision.
        rewind();
        policy.reinstantiate().unwrap();
        let answer: Value =
            serde_json::from_slice(&policy.call("validate", &payload).unwrap()).unwrap();
        assert_eq!(answer["accepted"], case.accepted, "{}: {answer}", case.name);
        let n = case.iterations;
        let ours = on_fresh_instances(policy, "validate", &payload, n, &rewind);
        let base = on_fresh_instances(floor, "validate", &payload, n, &|| {});
        let ours_settings = on_fresh_instances(policy, "validate_settings", &settings, n, &|| {});
        let base_settings = on_fresh_instances(floor, "validate_settings", &settings, n, &|| {});
        let warm = measure(n, || {
            rewind();
            crate::call(policy, "validate", &payload)
        });
        println!(
            "{:<40} {:>8.1} {:>9.1} {:>9.1} {:>11.1} {:>9.1} {:>6.2}x {:>9.1} {:>9.1}",
            case.name,
            ours.instantiate,
            ours.call,
            ours.total,
            base.instantiate,
            base.total,
            ours.total / base.total,
            ours_settings.call - base_settings.call,
            warm.median
        );
        totals.push(ours.total);
        policy.set_host_capabilities(HostCapabilities::default());
    }
    println!(
        "(viii) / (vii): {:.1}x (500 containers against 1, fresh instances)",
        totals[7] / totals[6]
    );
    let object_bytes = |request: Value| serde_json::to_vec(&request["object"]).unwrap().len();
    println!(
        "objects: Deployment 3+1 {} bytes of JSON, small Deployment {} bytes",
        object_bytes(deployment()),
        object_bytes(small_deployment())
    );
    println!("inst: rehydrate + wapc_init; validate: the call on the new instance; ratio: total against the floor's total;");
    println!("settings: validate_settings with the row's settings on a fresh instance, less the floor's; warm: validate on a warm instance.");
}

/// Cold start, what policy-server pays when it loads or reloads the policy: compiling the module
/// (no cache), instantiating it and the first `validate`, for the policy and the floor.
pub fn cold_start(policy_bytes: &[u8], floor_bytes: &[u8]) {
    let payload =
        serde_json::to_vec(&json!({"request": deployment(), "settings": {"level": "restricted"}}))
            .unwrap();
    let options = LoadOptions {
        timeout: None,
        ..LoadOptions::default()
    };
    let once = |bytes: &[u8]| {
        let start = Instant::now();
        let compiled = PolicyModule::from_bytes_with(bytes, &options).expect("the module loads");
        let compile = start.elapsed();
        let instance = compiled.instantiate().expect("an instance");
        instance
            .call("validate", &payload)
            .expect("the guest answers");
        (compile, start.elapsed())
    };
    let mut ours = (Vec::new(), Vec::new());
    let mut base = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let (compile, total) = once(policy_bytes);
        ours.0.push(compile);
        ours.1.push(total);
        let (compile, total) = once(floor_bytes);
        base.0.push(compile);
        base.1.push(total);
    }
    let ms = |samples: &mut Vec<Duration>| median(samples) / 1000.0;
    let (ours_compile, ours_total) = (ms(&mut ours.0), ms(&mut ours.1));
    let (base_compile, base_total) = (ms(&mut base.0), ms(&mut base.1));
    println!(
        "Cold start (compile without cache + instantiate + first validate), median of 7:\n  policy {ours_total:.1} ms (compile {ours_compile:.1} ms), floor {base_total:.1} ms (compile {base_compile:.1} ms): {:.2}x",
        ours_total / base_total
    );
    println!();
}
