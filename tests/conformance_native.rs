//! The upstream conformance fixtures through the evaluator compiled natively: the quick loop
//! while developing. `tests/conformance_wasm.rs` runs the same fixtures through policy.wasm.

mod support;

#[test]
fn upstream_fixtures_pass_natively() {
    let Some(dir) = support::conformance_dir() else {
        eprintln!("skipped: conformance fixtures not found (set PSA_CONFORMANCE_DIR)");
        return;
    };
    let (passed, failures) = support::run_conformance(&dir, |payload| {
        let bytes = security_context_policy::validate(payload).expect("validate answers");
        serde_json::from_slice(&bytes).unwrap()
    });
    for f in failures.iter().take(20) {
        eprintln!("{f}");
    }
    println!(
        "native conformance: {} passed, {} failed",
        passed,
        failures.len()
    );
    assert!(failures.is_empty(), "{} fixtures failed", failures.len());
    assert_eq!(passed, 2 * 4537);
}
