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

/// Requests are read sparse from the payload (`sparse_object`): every fixture, as a Pod and as
/// a Deployment, with the kind before and after the object, must get the decision (and, with
/// `mutate: true`, the mutated object) that the whole object read as a `Value` gets.
#[test]
fn sparse_reading_decides_as_the_whole_object() {
    use security_context_policy::admission::{self, AdmissionRequest};
    use security_context_policy::policy::Policy;
    use security_context_policy::settings::Settings;
    use serde_json::json;
    let Some(dir) = support::conformance_dir() else {
        eprintln!("skipped: conformance fixtures not found (set PSA_CONFORMANCE_DIR)");
        return;
    };
    let mut compared = 0;
    for fixture in support::load_fixtures(&dir) {
        for mutate in [false, true] {
            let settings =
                json!({"level": fixture.level, "version": fixture.version, "mutate": mutate});
            let policy = Policy::new(Settings::from_value(&settings).unwrap());
            for request in [
                support::pod_request(&fixture.pod),
                support::deployment_request(&fixture.pod),
            ] {
                let whole: AdmissionRequest = serde_json::from_value(request.clone()).unwrap();
                let expected = admission::decide(&policy, &whole);
                let in_order = support::validation_payload(&request, &settings);
                // The object first: read as text, then by kind.
                let object_first = format!(
                    r#"{{"settings": {settings}, "request": {{"object": {}, "kind": {}, "operation": "CREATE", "namespace": "default"}}}}"#,
                    request["object"], request["kind"]
                );
                for payload in [in_order, object_first.into_bytes()] {
                    assert_eq!(
                        admission::validate(&payload),
                        expected,
                        "{} (mutate: {mutate})",
                        fixture.path
                    );
                    compared += 1;
                }
            }
        }
    }
    println!("sparse reading: {compared} decisions equal to the whole object's");
    assert_eq!(compared, 4537 * 2 * 2 * 2);
}

/// Upstream's generated v1.38 fixtures equal its v1.37 ones (kubernetes/kubernetes#141985; the
/// fixtures here stop at v1.37): every v1.37 fixture pinned to v1.38 gets the v1.37 decision.
#[test]
fn v1_38_decides_as_v1_37() {
    use security_context_policy::admission::{validate, Decision};
    use serde_json::json;
    let Some(dir) = support::conformance_dir() else {
        eprintln!("skipped: conformance fixtures not found (set PSA_CONFORMANCE_DIR)");
        return;
    };
    let mut compared = 0;
    for fixture in support::load_fixtures(&dir) {
        if fixture.version != "v1.37" {
            continue;
        }
        let request = support::pod_request(&fixture.pod);
        let decide = |version: &str| {
            let settings = json!({"level": fixture.level, "version": version});
            match validate(&support::validation_payload(&request, &settings)) {
                Decision::Accept { .. } => None,
                Decision::Reject { message, .. } => {
                    Some(message.replacen(&format!(":{version}\""), ":VERSION\"", 1))
                }
            }
        };
        let v1_37 = decide("v1.37");
        assert_eq!(v1_37.is_none(), fixture.expect_allow, "{}", fixture.path);
        assert_eq!(decide("v1.38"), v1_37, "{}", fixture.path);
        compared += 1;
    }
    assert!(compared > 100, "only {compared} v1.37 fixtures");
}
