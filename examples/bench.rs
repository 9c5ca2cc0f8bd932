//! `make bench`: what a `validate` call costs, through policy.wasm in wasmtime by the waPC host
//! Kubewarden uses, against a floor measured in the same run — the same host call into
//! floor-policy.wasm, which only reads the request with kubewarden-policy-sdk and accepts it.
//!
//!     cargo run --profile runner --example bench -- policy.wasm floor-policy.wasm
//!
//! Prints figures; asserts nothing (targets live in the README and the issue tracker).

use policy_runner::{HostCapabilities, LoadOptions, Policy, PolicyModule, ReplaySession};
use security_context_policy::context::{AccessReview, ClusterContext, ContextError};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn request(group: &str, kind: &str, object: Value) -> Value {
    json!({
        "uid": "9b0c5d0e-1f5a-4b5e-8f0e-3c1d2e4f5a6b",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": format!("{}s", kind.to_lowercase())},
        "requestKind": {"group": group, "version": "v1", "kind": kind},
        "requestResource": {"group": group, "version": "v1", "resource": format!("{}s", kind.to_lowercase())},
        "name": object["metadata"]["name"].clone(),
        "namespace": "shop",
        "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                     "uid": "2f1e0d9c-8b7a-4c6d-9e5f-1a2b3c4d5e6f",
                     "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]},
        "object": object,
        "oldObject": null,
        "dryRun": false,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
    })
}

fn hardened_container(name: &str, image: &str) -> Value {
    json!({
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "config", "mountPath": "/etc/app", "readOnly": true}],
        "securityContext": {
            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
            "runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}
        }
    })
}

/// (b) A Deployment with 3 containers and 1 init container, each with a realistic security
/// context.
fn deployment() -> Value {
    request(
        "apps",
        "Deployment",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop-web", "namespace": "shop", "labels": {"app": "shop-web", "tier": "frontend"},
                         "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "shop-web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "shop-web", "tier": "frontend"}},
                    "spec": {
                        "serviceAccountName": "shop-web",
                        "securityContext": {"runAsNonRoot": true, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                        "initContainers": [hardened_container("migrate", "registry.example.com/shop/migrate:2.4.1")],
                        "containers": [
                            hardened_container("web", "registry.example.com/shop/web:2.4.1"),
                            hardened_container("metrics", "registry.example.com/shop/metrics:1.3.0"),
                            hardened_container("proxy", "registry.example.com/shop/proxy:0.9.2")
                        ],
                        "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "config", "configMap": {"name": "shop-web"}}]
                    }
                }
            }
        }),
    )
}

/// (a) A minimal Pod.
fn minimal_pod() -> Value {
    request(
        "",
        "Pod",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
    )
}

/// (c) A Pod with 500 containers: (a)'s container 500 times, so that (c) / (a) shows how the
/// cost grows with the number of containers (every one of them is reported).
fn huge_pod() -> Value {
    let containers: Vec<Value> = (0..500)
        .map(|i| json!({"name": format!("c{i}"), "image": "nginx"}))
        .collect();
    request(
        "",
        "Pod",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
        "spec": {"containers": containers}}),
    )
}

/// (c') For scale: 500 of (b)'s hardened containers, which pass.
fn huge_hardened_pod() -> Value {
    let containers: Vec<Value> = (0..500)
        .map(|i| hardened_container(&format!("c{i}"), "registry.example.com/shop/worker:1.0"))
        .collect();
    request(
        "",
        "Pod",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
        "spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}, "containers": containers}}),
    )
}

/// (d) A full settings document: every setting.
fn full_settings() -> Value {
    json!({
        "level": "restricted", "version": "v1.33",
        "warn": {"level": "restricted", "version": "latest"},
        "mutate": true,
        "runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 10000, "max": 65535}]},
        "runAsGroup": {"rule": "MayRunAs", "ranges": [{"min": 10000, "max": 65535}]},
        "supplementalGroups": {"rule": "MayRunAs", "ranges": [{"min": 10000, "max": 65535}]},
        "fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 10000, "max": 65535}]},
        "readOnlyRootFilesystem": true,
        "capabilities": {"allowedAdd": ["NET_BIND_SERVICE"], "requiredDrop": ["ALL"]},
        "seccomp": {"allowedTypes": ["RuntimeDefault", "Localhost"], "allowedLocalhostProfiles": ["profiles/*.json"]},
        "appArmor": {"allowedTypes": ["RuntimeDefault"]},
        "seLinux": {"allowedTypes": ["container_t"], "allowedLevels": ["s0:c123,c456"]},
        "sysctls": {"allowed": ["net.*"], "forbidden": ["net.ipv4.ip_forward"]},
        "exemptions": [{"checks": ["readOnlyRootFilesystemConstraint"], "images": ["docker.io/library/nginx:*"]}]
    })
}

/// (b'), (f) The Kubernetes documentation's "restricted" PodSecurityPolicy as a whole object,
/// with MayRunAs group rules so that (b)'s Deployment, which sets no fsGroup, passes unmutated.
fn restricted_psp() -> Value {
    json!({
        "apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
        "metadata": {"name": "restricted", "annotations": {
            "seccomp.security.alpha.kubernetes.io/allowedProfileNames": "docker/default,runtime/default",
            "apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default",
            "seccomp.security.alpha.kubernetes.io/defaultProfileName": "runtime/default",
            "apparmor.security.beta.kubernetes.io/defaultProfileName": "runtime/default"}},
        "spec": {
            "privileged": false, "allowPrivilegeEscalation": false,
            "requiredDropCapabilities": ["ALL"],
            "volumes": ["configMap", "emptyDir", "projected", "secret", "downwardAPI", "csi", "persistentVolumeClaim", "ephemeral"],
            "hostNetwork": false, "hostIPC": false, "hostPID": false,
            "runAsUser": {"rule": "MustRunAsNonRoot"}, "seLinux": {"rule": "RunAsAny"},
            "supplementalGroups": {"rule": "MayRunAs", "ranges": [{"min": 1, "max": 65535}]},
            "fsGroup": {"rule": "MayRunAs", "ranges": [{"min": 1, "max": 65535}]},
            "readOnlyRootFilesystem": false
        }
    })
}

/// (e) The namespace of (b), with Pod Security labels, as the host answers `get_resource` (a
/// kwctl replay session, rewound before every call).
fn labelled_namespace_session() -> ReplaySession {
    let namespace = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "uid": "6a0c2e1f-0d4b-4e8a-9c1d-2b3a4c5d6e7f", "resourceVersion": "1207",
                     "labels": {"kubernetes.io/metadata.name": "shop",
                                "pod-security.kubernetes.io/enforce": "restricted",
                                "pod-security.kubernetes.io/enforce-version": "v1.33",
                                "pod-security.kubernetes.io/warn": "restricted",
                                "pod-security.kubernetes.io/audit": "restricted"}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
    });
    let session = format!(
        "- type: Exchange\n  request: \"!KubernetesGetResource\\napi_version: v1\\nkind: Namespace\\nname: shop\\nnamespace: null\\ndisable_cache: false\\n\"\n  response:\n    type: Success\n    payload: '{namespace}'\n"
    );
    ReplaySession::from_yaml(&session).expect("the bench session parses")
}

struct Stats {
    median: f64,
    mean: f64,
}

fn measure(iterations: usize, mut call: impl FnMut()) -> Stats {
    for _ in 0..iterations.div_ceil(10) {
        call();
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        call();
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    Stats {
        median: micros(samples[samples.len() / 2]),
        mean: samples.iter().map(|d| micros(*d)).sum::<f64>() / samples.len() as f64,
    }
}

/// One line of the table: ours, the floor's, their ratio, and the native figure.
fn print_row(name: &str, ours: &Stats, base: &Stats, native: &Stats) {
    println!(
        "{name:<34} {:>11.1} {:>11.1} {:>12.1} {:>7.2}x {:>12.1}",
        ours.median,
        ours.mean,
        base.median,
        ours.median / base.median,
        native.median
    );
}

fn call(policy: &Policy, operation: &str, payload: &[u8]) {
    let answer = policy.call(operation, payload).expect("the guest answers");
    assert!(!answer.is_empty());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (policy_path, floor_path) = match args.as_slice() {
        [p, f] => (p.clone(), f.clone()),
        _ => ("policy.wasm".into(), "target/floor-policy.wasm".into()),
    };
    let options = LoadOptions {
        timeout: None,
        ..LoadOptions::default()
    };
    let policy = PolicyModule::from_file_with(&policy_path, &options)
        .and_then(|m| m.instantiate())
        .expect("policy.wasm loads");
    let floor = PolicyModule::from_file_with(&floor_path, &options)
        .and_then(|m| m.instantiate())
        .expect("floor-policy.wasm loads");

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
    println!(
        "policy.wasm: {} bytes ({})",
        std::fs::metadata(&policy_path).unwrap().len(),
        policy_path
    );
    println!(
        "floor-policy.wasm: {} bytes",
        std::fs::metadata(&floor_path).unwrap().len()
    );
    println!();
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
        let ours = measure(*n, || call(&policy, "validate", bytes));
        let base = measure(*n, || call(&floor, "validate", bytes));
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
        call(&policy, "validate", &labelled)
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
    // distinct images looked up through the host (a replayed kwctl session with real image
    // configurations), next to the same request with runAsUser set, which needs no lookup.
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
        call(&policy, "validate", &looked_up)
    });
    rewind();
    let answer: Value = serde_json::from_slice(&policy.call("validate", &pinned).unwrap()).unwrap();
    assert_eq!(answer["accepted"], true, "(g'): {answer}");
    assert_eq!(replayed(), Some(0), "(g') asks nothing");
    let without = measure(5000, || call(&policy, "validate", &pinned));
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

    let settings = serde_json::to_vec(&full_settings()).unwrap();
    let ours = measure(5000, || call(&policy, "validate_settings", &settings));
    let base = measure(5000, || call(&floor, "validate_settings", &settings));
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
    let ours = measure(5000, || call(&policy, "validate_settings", &settings));
    let base = measure(5000, || call(&floor, "validate_settings", &settings));
    println!(
        "{:<34} {:>11.1} {:>11.1} {:>12.1} {:>7.2}x",
        "(f) validate_settings, PSP",
        ours.median,
        ours.mean,
        base.median,
        ours.median / base.median
    );
    let (plain, profiled) = bench_profiles(&policy, &floor);
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
