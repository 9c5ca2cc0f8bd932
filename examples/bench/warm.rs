//! Warm instance: every call on the same instance, the settings compiled once and cached. This
//! is what a host that keeps an instance between requests sees; Kubewarden's policy-server does
//! not (see `fresh.rs`).

use crate::fixtures::*;
use crate::{call, measure, print_row};
use policy_runner::{HostCapabilities, Policy, ReplaySession};
use security_context_policy::context::{AccessReview, ClusterContext, ContextError};
use serde_json::{json, Value};

pub fn run(policy: &Policy, floor: &Policy) {
    let restricted = json!({"level": "restricted", "version": "latest"});
    let payload = |req: &Value, settings: &Value| {
        serde_json::to_vec(&json!({"request": req, "settings": settings})).unwrap()
    };
    let cases = [
        (
            "(a) minimal Pod",
            payload(&minimal_pod(), &restricted),
            5000,
            false,
        ),
        (
            "(b) Deployment, 3+1 containers",
            payload(&deployment(), &restricted),
            5000,
            true,
        ),
        (
            "(b') Deployment, restricted PSP",
            payload(
                &deployment(),
                &json!({"podSecurityPolicy": restricted_psp()}),
            ),
            5000,
            true,
        ),
        (
            "(c) Pod, 500 containers",
            payload(&huge_pod(), &restricted),
            300,
            false,
        ),
        (
            "(c') Pod, 500 hardened containers",
            payload(&huge_hardened_pod(), &restricted),
            100,
            true,
        ),
    ];

    // BENCH_DUMP=dir writes the payloads, for profiling them elsewhere.
    if let Some(dir) = std::env::var_os("BENCH_DUMP") {
        for (i, (_, bytes, _, _)) in cases.iter().enumerate() {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("case{i}.json")),
                bytes,
            )
            .unwrap();
        }
    }
    println!();
    println!("Warm instance (one instance for every call; settings read once and cached):");
    println!(
        "{:<34} {:>11} {:>11} {:>12} {:>8} {:>12}",
        "validate", "median µs", "mean µs", "floor med µs", "ratio", "native µs"
    );
    let mut medians = Vec::new();
    for (name, bytes, n, accepted) in &cases {
        // What is timed must be the real decision.
        let answer: Value =
            serde_json::from_slice(&policy.call("validate", bytes).unwrap()).unwrap();
        assert_eq!(answer["accepted"], *accepted, "{name}: {answer}");
        let ours = measure(*n, || call(policy, "validate", bytes));
        let base = measure(*n, || call(floor, "validate", bytes));
        let native = measure(*n, || {
            security_context_policy::validate(bytes).unwrap();
        });
        print_row(name, &ours, &base, &native);
        medians.push(ours.median);
    }
    // (e) Namespace labels: (b) again, its levels read from the namespace through the host.
    let labelled = payload(
        &deployment(),
        &json!({"namespaceLabels": true, "level": "privileged"}),
    );
    policy.set_host_capabilities(HostCapabilities {
        allow_context_aware: true,
        replay: Some(labelled_namespace_session()),
        ..Default::default()
    });
    let rewind = || {
        if let Some(session) = policy.host_capabilities().replay.as_mut() {
            session.rewind();
        }
    };
    rewind();
    let answer: Value =
        serde_json::from_slice(&policy.call("validate", &labelled).unwrap()).unwrap();
    assert_eq!(answer["accepted"], true, "(e): {answer}");
    assert_eq!(
        policy
            .host_capabilities()
            .replay
            .as_ref()
            .map(|s| s.replayed()),
        Some(1),
        "(e) asks the namespace once"
    );
    let ours = measure(5000, || {
        rewind();
        call(policy, "validate", &labelled)
    });
    println!(
        "{:<34} {:>11.1} {:>11.1} {:>12} {:>8} {:>12}",
        "(e) (b) in a labelled namespace", ours.median, ours.mean, "-", "-", "-"
    );
    println!(
        "{:<34} {:>11.1}   ({:.2}x (b): one get_resource host call and the labels' levels)",
        "    plain (b), for comparison",
        medians[1],
        ours.median / medians[1]
    );
    policy.set_host_capabilities(HostCapabilities::default());

    // (g) imageUser: a Deployment of five containers whose manifest sets no runAsUser, four
    // distinct images looked up through the host (a kwctl session recorded against the test
    // registry, replayed), next to the same request with runAsUser set, which needs no lookup.
    let storefront: Value = serde_json::from_slice(
        &std::fs::read("test_data/deployment_image_users.json")
            .expect("run from the repository root"),
    )
    .unwrap();
    let image_settings = json!({"imageUser": {}});
    let looked_up = payload(&storefront, &image_settings);
    let mut pinned_request = storefront.clone();
    pinned_request["object"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"] =
        json!(65532);
    let pinned = payload(&pinned_request, &image_settings);
    policy.set_host_capabilities(HostCapabilities {
        allow_context_aware: true,
        replay: Some(
            ReplaySession::from_file("test_data/sessions/image_users_storefront.yml")
                .expect("the image session parses"),
        ),
        ..Default::default()
    });
    rewind();
    let answer: Value =
        serde_json::from_slice(&policy.call("validate", &looked_up).unwrap()).unwrap();
    assert_eq!(
        answer["accepted"], false,
        "(g): the root image is refused: {answer}"
    );
    let replayed = || {
        policy
            .host_capabilities()
            .replay
            .as_ref()
            .map(|s| s.replayed())
    };
    assert_eq!(replayed(), Some(4), "(g) asks each distinct image once");
    let with_lookups = measure(5000, || {
        rewind();
        call(policy, "validate", &looked_up)
    });
    rewind();
    let answer: Value = serde_json::from_slice(&policy.call("validate", &pinned).unwrap()).unwrap();
    assert_eq!(answer["accepted"], true, "(g'): {answer}");
    assert_eq!(replayed(), Some(0), "(g') asks nothing");
    let without = measure(5000, || call(policy, "validate", &pinned));
    println!(
        "{:<34} {:>11.1} {:>11.1} {:>12} {:>8} {:>12}",
        "(g) imageUser, 4 image lookups", with_lookups.median, with_lookups.mean, "-", "-", "-"
    );
    println!(
        "{:<34} {:>11.1} {:>11.1}   ({:.2}x: the lookups, answered by the replayed session)",
        "(g') the same, runAsUser set",
        without.median,
        without.mean,
        with_lookups.median / without.median
    );
    policy.set_host_capabilities(HostCapabilities::default());

    let mut every_key = every_constraint_settings();
    every_key["mutate"] = json!(true);
    let settings = serde_json::to_vec(&every_key).unwrap();
    let ours = measure(5000, || call(policy, "validate_settings", &settings));
    let base = measure(5000, || call(floor, "validate_settings", &settings));
    println!(
        "{:<34} {:>11.1} {:>11.1} {:>12.1} {:>7.2}x",
        "(d) validate_settings, every key",
        ours.median,
        ours.mean,
        base.median,
        ours.median / base.median
    );
    let settings = serde_json::to_vec(&json!({"podSecurityPolicy": restricted_psp()})).unwrap();
    let answer: Value =
        serde_json::from_slice(&policy.call("validate_settings", &settings).unwrap()).unwrap();
    assert_eq!(answer["valid"], true, "{answer}");
    let ours = measure(5000, || call(policy, "validate_settings", &settings));
    let base = measure(5000, || call(floor, "validate_settings", &settings));
    println!(
        "{:<34} {:>11.1} {:>11.1} {:>12.1} {:>7.2}x",
        "(f) validate_settings, PSP",
        ours.median,
        ours.mean,
        base.median,
        ours.median / base.median
    );
    let (plain, profiled) = bench_profiles(policy, floor);
    println!();
    println!(
        "(c) / (a): {:.1}x (500 containers against 1)",
        medians[3] / medians[0]
    );
    println!(
        "(i) / (h): {:.1}x (a profile granted after two SubjectAccessReviews, replayed)",
        profiled / plain
    );
    println!("native (no wasm) is the evaluator called directly, request parsing included.");
}

/// The service account the profile bench grants.
const NODE_EXPORTER: &str = "system:serviceaccount:monitoring:node-exporter";

/// Grants every profile to the node exporter's service account, for the native figure.
struct GrantingContext;

impl ClusterContext for GrantingContext {
    fn namespace(&self, name: &str) -> Result<Value, ContextError> {
        Err(ContextError::new(
            format!("namespace {name}"),
            "not in this bench",
        ))
    }
    fn pods_in_namespace(&self, namespace: &str) -> Result<Vec<Value>, ContextError> {
        Err(ContextError::new(
            format!("pods of {namespace}"),
            "not in this bench",
        ))
    }
    fn can_i(&self, review: &AccessReview) -> Result<bool, ContextError> {
        Ok(review.user == NODE_EXPORTER)
    }
    fn image_config(&self, image: &str) -> Result<Value, ContextError> {
        Err(ContextError::new(
            format!("image {image}"),
            "not in this bench",
        ))
    }
}

/// (h) The DaemonSet controller's node-exporter pod, admitted by the base settings (an
/// exemption for its service account: no host call), next to (i) the same pod admitted by a
/// profile: the base rejects, the controller is asked about and refused, the pod's service
/// account is asked about and granted (kwctl session answers, replayed in order), and the
/// profile accepts. Returns the two medians.
fn bench_profiles(policy: &Policy, floor: &Policy) -> (f64, f64) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let request: Value = serde_json::from_slice(
        &std::fs::read(dir.join("pod_node_exporter_by_controller.json")).unwrap(),
    )
    .unwrap();
    let host_checks = json!(["hostNamespaces", "hostPathVolumes", "hostPorts"]);
    let exempted = json!({"level": "baseline", "exemptions": [
        {"checks": host_checks, "serviceAccounts": ["monitoring/node-exporter"]}]});
    let profiled = json!({"level": "baseline", "profiles": [
        {"name": "node-agents", "level": "baseline", "exemptions": [{"checks": host_checks}]}]});
    let session =
        ReplaySession::from_file(dir.join("sessions/profile_granted_to_pod_service_account.yml"))
            .unwrap();
    policy.set_host_capabilities(HostCapabilities {
        allow_context_aware: true,
        replay: Some(session),
        ..Default::default()
    });
    let rewind = || {
        if let Some(replay) = policy.host_capabilities().replay.as_mut() {
            replay.rewind();
        }
    };
    let mut medians = Vec::new();
    for (name, settings) in [
        ("(h) Pod, exempted by the base", &exempted),
        ("(i) Pod, admitted by a profile", &profiled),
    ] {
        let bytes = serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap();
        rewind();
        let answer: Value =
            serde_json::from_slice(&policy.call("validate", &bytes).unwrap()).unwrap();
        assert_eq!(answer["accepted"], true, "{name}: {answer}");
        let ours = measure(3000, || {
            rewind();
            call(policy, "validate", &bytes);
        });
        let base = measure(3000, || call(floor, "validate", &bytes));
        let native = measure(3000, || {
            let outcome =
                security_context_policy::admission::validate_with(&bytes, &GrantingContext);
            assert!(matches!(
                outcome.decision,
                security_context_policy::admission::Decision::Accept { .. }
            ));
        });
        print_row(name, &ours, &base, &native);
        medians.push(ours.median);
    }
    policy.set_host_capabilities(HostCapabilities::default());
    (medians[0], medians[1])
}
