//! The runner against the floor policy (a real wasm32-wasip1 waPC module).

mod common;

use std::process::Command;

use common::{floor_module, floor_wasm, scratch_dir, POD_REQUEST, POD_UID};
use policy_runner::{
    admission_response, parse_request, read_request_file, AdmissionResponse, Error, Policy,
    PolicyModule, ValidationResponse,
};
use serde_json::{json, Value};

fn floor() -> Policy {
    floor_module()
        .instantiate()
        .expect("instantiate floor policy")
}

fn pod_request() -> Value {
    serde_json::from_str(POD_REQUEST).unwrap()
}

#[test]
fn protocol_version_is_v1() {
    assert_eq!(floor().protocol_version().unwrap(), "v1");
}

#[test]
fn validate_accepts_and_response_carries_the_uid() {
    let policy = floor();
    let answer = policy.validate(POD_REQUEST, "{}").unwrap();
    assert_eq!(
        answer,
        ValidationResponse {
            accepted: true,
            ..Default::default()
        }
    );

    let response = admission_response(&pod_request(), &answer);
    assert_eq!(response.uid, POD_UID);
    assert!(response.allowed);
    assert_eq!(response.patch, None);
    assert_eq!(
        serde_json::to_string(&response).unwrap(),
        format!(r#"{{"uid":"{POD_UID}","allowed":true,"auditAnnotations":null,"warnings":null}}"#)
    );

    let evaluated = policy.evaluate(&pod_request(), &json!({}));
    assert_eq!(evaluated, response);
}

#[test]
fn validate_value_matches_validate() {
    let policy = floor();
    let by_text = policy.validate(POD_REQUEST, r#"{"x":1}"#).unwrap();
    let by_value = policy
        .validate_value(&pod_request(), &json!({"x": 1}))
        .unwrap();
    assert_eq!(by_text, by_value);
}

#[test]
fn validate_settings_is_valid() {
    let policy = floor();
    for settings in ["{}", r#"{"anything": [1, 2]}"#] {
        let verdict = policy.validate_settings(settings).unwrap();
        assert!(verdict.valid, "{settings}: {verdict:?}");
        assert_eq!(verdict.message, None);
    }
}

#[test]
fn malformed_payloads_are_errors_not_panics() {
    let policy = floor();

    let err = policy.call("validate", b"this is not json").unwrap_err();
    assert!(
        matches!(&err, Error::Call { operation, .. } if operation == "validate"),
        "{err:?}"
    );

    // A request that is JSON but not an AdmissionRequest.
    let err = policy.validate(r#"{"uid": 42}"#, "{}").unwrap_err();
    assert!(matches!(err, Error::Call { .. }), "{err:?}");

    let err = policy.validate_settings("[").unwrap_err();
    assert!(matches!(err, Error::Call { .. }), "{err:?}");

    let err = policy.call("no_such_function", b"{}").unwrap_err();
    assert!(matches!(err, Error::Call { .. }), "{err:?}");

    // kwctl turns a failed evaluation into a 500 rejection.
    let response = policy.evaluate(&json!({"uid": "bad", "kind": 7}), &json!({}));
    assert_eq!(response.uid, "bad");
    assert!(!response.allowed);
    let status = response.status.expect("status");
    assert_eq!(status.code, Some(500));
    assert!(status
        .message
        .unwrap()
        .starts_with("internal server error: "));

    // The instance is still usable after all of that.
    assert!(policy.validate(POD_REQUEST, "{}").unwrap().accepted);
}

#[test]
fn bad_modules_are_load_errors() {
    let err = PolicyModule::from_bytes(b"\0asm garbage").unwrap_err();
    assert!(matches!(err, Error::Load(_)), "{err:?}");
    let err = PolicyModule::from_file("/nonexistent/policy.wasm").unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    // A valid module that is not a waPC guest.
    let err = Policy::from_bytes(b"\0asm\x01\0\0\0").unwrap_err();
    assert!(matches!(err, Error::Load(_)), "{err:?}");
}

#[test]
fn json_patch_of_a_hand_made_mutation() {
    let request = pod_request();
    let mut mutated = request["object"].clone();
    mutated["metadata"]["labels"]["team"] = json!("blue");
    mutated["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
    mutated["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    mutated["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");

    let answer = ValidationResponse {
        accepted: true,
        mutated_object: Some(mutated.clone()),
        warnings: Some(vec!["mutated".into()]),
        ..Default::default()
    };
    let response = admission_response(&request, &answer);
    assert!(response.allowed);
    assert_eq!(response.patch_type.as_deref(), Some("JSONPatch"));
    assert_eq!(response.warnings, Some(vec!["mutated".to_owned()]));

    let mut patch = response.decoded_patch().expect("a patch").unwrap();
    let ops = patch.as_array_mut().unwrap();
    ops.sort_by_key(|op| op["path"].as_str().unwrap().to_owned());
    assert_eq!(
        patch,
        json!([
            {"op": "add", "path": "/metadata/labels/team", "value": "blue"},
            {"op": "remove", "path": "/metadata/namespace"},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:1.28"},
            {"op": "replace", "path": "/spec/containers/0/securityContext/runAsNonRoot", "value": false}
        ])
    );

    // Applying the patch to the original object gives the mutated object.
    let ops: json_patch::Patch = serde_json::from_value(patch).unwrap();
    let mut object = request["object"].clone();
    json_patch::patch(&mut object, &ops).unwrap();
    assert_eq!(object, mutated);

    // The JSON shape kwctl prints.
    let value = serde_json::to_value(&response).unwrap();
    assert_eq!(value["patchType"], "JSONPatch");
    assert!(value["patch"].is_string());
    assert!(value.get("status").is_none());
}

#[test]
fn request_reader_accepts_review_and_bare_request() {
    let dir = scratch_dir("requests");
    let bare = dir.join("bare.json");
    let review = dir.join("review.json");
    std::fs::write(&bare, POD_REQUEST).unwrap();
    std::fs::write(
        &review,
        format!(
            r#"{{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {POD_REQUEST}}}"#
        ),
    )
    .unwrap();

    let from_bare = read_request_file(&bare).unwrap();
    let from_review = read_request_file(&review).unwrap();
    assert_eq!(from_bare, pod_request());
    assert_eq!(from_review, pod_request());
    assert_eq!(from_bare["uid"], POD_UID);

    assert!(parse_request(r#"{"kind": "AdmissionReview"}"#).is_err());
    assert!(read_request_file(dir.join("missing.json")).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn one_module_many_threads() {
    let module = floor_module();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let policy = module.instantiate().unwrap();
                for _ in 0..20 {
                    assert!(policy.validate(POD_REQUEST, "{}").unwrap().accepted);
                }
            });
        }
    });
}

fn runner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_policy-runner"))
}

#[test]
fn cli_prints_the_admission_response() {
    let dir = scratch_dir("cli");
    let review = dir.join("review.json");
    std::fs::write(
        &review,
        format!(r#"{{"kind": "AdmissionReview", "request": {POD_REQUEST}}}"#),
    )
    .unwrap();
    let settings = dir.join("settings.yaml");
    std::fs::write(&settings, "someKey: [a, b]\n").unwrap();

    let output = runner()
        .env("POLICY_RUNNER_CACHE_DIR", dir.join("cache"))
        .args(["run", "--request-path"])
        .arg(&review)
        .arg("--settings-path")
        .arg(&settings)
        .arg(floor_wasm())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let response: AdmissionResponse = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response.uid, POD_UID);
    assert!(response.allowed);
    assert_eq!(
        stdout.trim_end(),
        format!(r#"{{"uid":"{POD_UID}","allowed":true,"auditAnnotations":null,"warnings":null}}"#)
    );

    // Settings that are not an object are refused before evaluation.
    let output = runner()
        .args(["run", "--disable-wasmtime-cache", "-r"])
        .arg(&review)
        .args(["--settings-json", "[1]"])
        .arg(format!("file://{}", floor_wasm().display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("settings must be a JSON object"));

    // Unknown flags are usage errors.
    let output = runner()
        .args(["run", "--frobnicate", "-r"])
        .arg(&review)
        .arg(floor_wasm())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--frobnicate"));
    std::fs::remove_dir_all(&dir).ok();
}
