//! policy.wasm as Kubewarden loads it: the waPC exports, every test_data example, settings
//! validation, and garbage in without a trap.

mod support;

use serde_json::{json, Value};

#[test]
fn exports_the_kubewarden_protocol() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    assert_eq!(policy.protocol_version().unwrap(), "v1");
}

#[test]
fn every_example_request_gets_its_expected_decision() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let cases = support::load_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            support::check_case(case, &support::wasm_validate_case(&policy, case)).err()
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    println!("test_data: {} passed, 0 failed", cases.len());
}

#[test]
fn settings_are_validated_with_a_message() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let answer = |settings: &str| -> Value {
        serde_json::from_slice(
            &policy
                .call("validate_settings", settings.as_bytes())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(answer("{}")["valid"], true);
    assert_eq!(
        answer(
            r#"{"level":"baseline","version":"v1.29","exemptions":[{"checks":["hostPorts"],"containers":["x"]}]}"#
        )["valid"],
        true
    );
    for (bad, why) in [
        (r#"{"level":"strict"}"#, "unknown level"),
        (r#"{"version":"1.30"}"#, "invalid version"),
        (r#"{"levle":"baseline"}"#, "unknown field `levle`"),
        (
            r#"{"exemptions":[{"checks":["nope"]}]}"#,
            "unknown check \"nope\"",
        ),
        ("[1,2]", "expected a JSON object"),
        ("{", "invalid settings"),
        // Found by fuzzing (fuzz/regressions/settings_bytes): a form feed is not JSON.
        ("\u{c}{}", "invalid settings"),
    ] {
        let a = answer(bad);
        assert_eq!(a["valid"], false, "{bad}");
        assert!(a["message"].as_str().unwrap().contains(why), "{bad}: {a}");
    }
}

#[test]
fn garbage_is_rejected_without_a_trap() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    for payload in [
        &b""[..],
        b"\xff\xfe",
        b"null",
        b"[]",
        br#"{"request": 5}"#,
        br#"{"request": {"kind": {"kind": "Pod"}, "object": {"spec": {"containers": {"a": 1}}}}}"#,
        br#"{"request": {"kind": {"kind": "Deployment", "group": "apps"}, "object": {"spec": {"template": []}}}}"#,
    ] {
        let answer = support::wasm_validate(&policy, payload);
        assert_eq!(answer["accepted"], false, "{}", String::from_utf8_lossy(payload));
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Still alive and right afterwards.
    let ok = support::validation_payload(
        &support::pod_request(
            &json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "i"}]}}),
        ),
        &json!({"level": "baseline"}),
    );
    assert_eq!(support::wasm_validate(&policy, &ok)["accepted"], true);
}

#[test]
fn mutation_through_the_host_keeps_unknown_fields_and_patches_only_defaults() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let object = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "annotations": {"team": "shop"}},
        "spec": {
            "futurePodField": {"nested": [1, 2, 3]},
            "securityContext": {"futurePodSecurityField": "keep"},
            "containers": [{
                "name": "app", "image": "nginx", "futureContainerField": {"a": true},
                "securityContext": {"futureContainerSecurityField": 7, "capabilities": {"drop": ["NET_RAW"], "futureCapsField": "x"}}
            }]
        }
    });
    let request = support::pod_request(&object);
    let settings = json!({"level": "restricted", "mutate": true});
    let answer = support::wasm_validate(&policy, &support::validation_payload(&request, &settings));
    assert_eq!(answer["accepted"], true, "{answer}");
    let mutated = &answer["mutated_object"];
    assert_eq!(
        mutated["spec"]["futurePodField"],
        json!({"nested": [1, 2, 3]})
    );
    assert_eq!(
        mutated["spec"]["securityContext"]["futurePodSecurityField"],
        "keep"
    );
    let c = &mutated["spec"]["containers"][0];
    assert_eq!(c["futureContainerField"], json!({"a": true}));
    assert_eq!(c["securityContext"]["futureContainerSecurityField"], 7);
    assert_eq!(c["securityContext"]["capabilities"]["futureCapsField"], "x");
    assert_eq!(
        c["securityContext"]["capabilities"]["drop"],
        json!(["NET_RAW", "ALL"])
    );
    assert_eq!(mutated["metadata"], object["metadata"]);

    // As kwctl reports it: a JSONPatch that only adds the defaults.
    let response = policy.evaluate(&request, &settings);
    assert!(response.allowed);
    let patch = response.decoded_patch().expect("a patch").unwrap();
    let mut ops: Vec<String> = patch
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            format!(
                "{} {}",
                op["op"].as_str().unwrap(),
                op["path"].as_str().unwrap()
            )
        })
        .collect();
    ops.sort();
    assert_eq!(
        ops,
        [
            "add /spec/containers/0/securityContext/allowPrivilegeEscalation",
            "add /spec/containers/0/securityContext/capabilities/drop/1",
            "add /spec/securityContext/runAsNonRoot",
            "add /spec/securityContext/seccompProfile",
        ]
    );

    // Without `mutate`, the same request is rejected and nothing is patched.
    let response = policy.evaluate(&request, &json!({"level": "restricted"}));
    assert!(!response.allowed);
    assert!(response.patch.is_none());
}
