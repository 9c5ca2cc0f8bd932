//! Mutation properties over every upstream conformance fixture, as Pods and as Deployments:
//! mutating is idempotent, and after one mutation a restricted fixture fails only for reasons
//! no default can fix — decided here by an independent, deliberately simple reading of the
//! original pod.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};

fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .collect()
}

/// The restricted reasons a default cannot remove from this pod.
fn unfixable(pod: &Value) -> Vec<&'static str> {
    let spec = &pod["spec"];
    let cs = containers(spec);
    let sc = |c: &&Value| c["securityContext"].clone();
    let windows = spec["os"]["name"] == "windows";
    let mut out = Vec::new();
    let adds = |c: &&Value| -> Vec<String> {
        sc(c)["capabilities"]["add"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .map(|s| s.to_uppercase())
                    .collect()
            })
            .unwrap_or_default()
    };
    if cs.iter().any(|c| {
        sc(c)["allowPrivilegeEscalation"] == true
            || sc(c)["privileged"] == true
            || adds(c)
                .iter()
                .any(|a| a.trim_start_matches("CAP_") == "SYS_ADMIN" || a == "ALL")
    }) || windows
    {
        out.push("allowPrivilegeEscalation != false");
    }
    if cs
        .iter()
        .any(|c| adds(c).iter().any(|a| a != "NET_BIND_SERVICE"))
        || windows
    {
        out.push("unrestricted capabilities");
    }
    let bad_seccomp = |v: &Value| {
        v.is_object() && !matches!(v["type"].as_str(), Some("RuntimeDefault" | "Localhost"))
    };
    // The alpha annotations (judged before v1.19) are never changed either.
    let seccomp_annotations = pod["metadata"]["annotations"].as_object().is_some_and(|a| {
        a.keys()
            .any(|k| k.contains("seccomp.security.alpha.kubernetes.io"))
    });
    if bad_seccomp(&spec["securityContext"]["seccompProfile"])
        || cs.iter().any(|c| bad_seccomp(&sc(c)["seccompProfile"]))
        || windows
        || seccomp_annotations
    {
        out.push("seccompProfile");
    }
    if spec["securityContext"]["runAsNonRoot"] == false
        || cs.iter().any(|c| sc(c)["runAsNonRoot"] == false)
    {
        out.push("runAsNonRoot != true");
    }
    out
}

/// Reasons of a PSA-shaped message.
const RESTRICTED_REASONS: &[&str] = &[
    "allowPrivilegeEscalation != false",
    "unrestricted capabilities",
    "seccompProfile",
    "runAsNonRoot != true",
];

#[test]
fn mutation_is_idempotent_and_leaves_only_unfixable_violations() {
    let Some(dir) = support::conformance_dir() else {
        support::record_summary(
            "mutation_properties",
            "mutation properties: skipped, conformance fixtures not found",
        );
        return;
    };
    let (mut checked, mut fixed, mut still_denied) = (0, 0, 0);
    for fixture in support::load_fixtures(&dir) {
        let settings = json!({"level": fixture.level, "version": fixture.version, "mutate": true});
        for request in [
            support::pod_request(&fixture.pod),
            support::deployment_request(&fixture.pod),
        ] {
            checked += 1;
            // Idempotence, whatever the decision.
            if let Some(once) = support::defaults_for(&request, &settings) {
                let mut again = request.clone();
                again["object"] = once.clone();
                let twice = support::defaults_for(&again, &settings);
                assert_eq!(
                    twice, None,
                    "{}: a second mutation changed {once}",
                    fixture.path
                );
            }
            let decision = validate(&support::validation_payload(&request, &settings));
            if fixture.expect_allow {
                assert!(
                    matches!(decision, Decision::Accept { mutated: None, .. }),
                    "{}: an allowed fixture must pass untouched, got {decision:?}",
                    fixture.path
                );
                continue;
            }
            if fixture.level != "restricted" {
                continue;
            }
            let allowed_to_remain = unfixable(&fixture.pod);
            match decision {
                Decision::Accept { mutated, .. } => {
                    assert!(
                        mutated.is_some(),
                        "{}: accepted without mutation",
                        fixture.path
                    );
                    fixed += 1;
                }
                Decision::Reject { message, .. } => {
                    still_denied += 1;
                    for reason in RESTRICTED_REASONS {
                        if message.contains(&format!("{reason} (")) {
                            assert!(
                                allowed_to_remain.contains(reason),
                                "{}: {reason} remains after mutation although a default fixes it: {message}",
                                fixture.path
                            );
                        }
                    }
                }
            }
        }
    }
    support::record_summary(
        "mutation_properties",
        &format!("mutation properties: {checked} evaluations, {fixed} restricted fail fixtures fixed by one mutation, {still_denied} still denied for unfixable reasons"),
    );
    assert!(fixed > 100, "mutation fixed only {fixed}");
}
