//! The 4537 upstream Pod Security Admission fixtures through policy.wasm in wasmtime, each as a
//! Pod and as the pod template of a Deployment, at its level and version.

mod support;

#[test]
fn upstream_fixtures_pass_through_policy_wasm() {
    let Some(dir) = support::conformance_dir() else {
        support::record_summary("conformance", "conformance: skipped, fixtures not found beside the checkout (../shared/conformance/psa) and PSA_CONFORMANCE_DIR unset");
        return;
    };
    let Some(policy) = support::load_policy() else {
        return;
    };
    let (passed, failures) =
        support::run_conformance(&dir, |payload| support::wasm_validate(&policy, payload));
    for f in failures.iter().take(20) {
        eprintln!("{f}");
    }
    support::record_summary(
        "conformance",
        &format!("conformance: {} passed, {} failed", passed, failures.len()),
    );
    assert!(
        failures.is_empty(),
        "{} fixture evaluations failed",
        failures.len()
    );
    assert_eq!(
        passed,
        2 * 4537,
        "every fixture, as a Pod and as a Deployment"
    );
}
