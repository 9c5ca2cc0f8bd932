//! The requests and settings the benchmark times, shared by the warm and fresh-instance runs.

use policy_runner::ReplaySession;
use serde_json::{json, Value};

pub fn request(group: &str, kind: &str, object: Value) -> Value {
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

pub fn hardened_container(name: &str, image: &str) -> Value {
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
pub fn deployment() -> Value {
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
pub fn minimal_pod() -> Value {
    request(
        "",
        "Pod",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
    )
}

/// (c) A Pod with 500 containers: (a)'s container 500 times, so that (c) / (a) shows how the
/// cost grows with the number of containers (every one of them is reported).
pub fn huge_pod() -> Value {
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
pub fn huge_hardened_pod() -> Value {
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

/// (b'), (f) The Kubernetes documentation's "restricted" PodSecurityPolicy as a whole object,
/// with MayRunAs group rules so that (b)'s Deployment, which sets no fsGroup, passes unmutated.
pub fn restricted_psp() -> Value {
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
pub fn labelled_namespace_session() -> ReplaySession {
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

/// A small Deployment, one container with a restricted security context: its object is about
/// 868 bytes of JSON, the size of the Deployment the issue tracker measured with kwctl.
pub fn small_deployment() -> Value {
    request(
        "apps",
        "Deployment",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "hello", "namespace": "shop", "labels": {"app": "hello"},
                         "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "hello"}},
                "template": {
                    "metadata": {"labels": {"app": "hello"}},
                    "spec": {
                        "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001,
                                            "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [{
                            "name": "hello", "image": "registry.example.com/shop/hello:1.0.0",
                            "imagePullPolicy": "IfNotPresent",
                            "ports": [{"containerPort": 8080}],
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                                "capabilities": {"drop": ["ALL"]}}
                        }],
                        "volumes": [{"name": "tmp", "emptyDir": {}}]
                    }
                }
            }
        }),
    )
}

/// Every constraint configured (every key of the settings but the level's own), with values
/// that (b)'s Deployment and `small_deployment` meet, so that the whole accepted path runs.
/// With `mutate: true` added, it is also (d)'s settings document with every key.
pub fn every_constraint_settings() -> Value {
    let ids = json!([{"min": 10000, "max": 65535}]);
    json!({
        "level": "restricted", "version": "latest",
        "warn": {"level": "restricted", "version": "latest"},
        "runAsUser": {"rule": "MustRunAs", "ranges": ids},
        "runAsGroup": {"rule": "MustRunAs", "ranges": ids},
        "supplementalGroups": {"rule": "MayRunAs", "ranges": ids},
        "fsGroup": {"rule": "MustRunAs", "ranges": ids},
        "readOnlyRootFilesystem": true,
        "capabilities": {"allowedAdd": ["NET_BIND_SERVICE"], "requiredDrop": ["ALL"]},
        "seccomp": {"allowedTypes": ["RuntimeDefault", "Localhost"], "allowedLocalhostProfiles": ["profiles/*.json"]},
        "appArmor": {"allowedTypes": ["RuntimeDefault"]},
        "seLinux": {"allowedTypes": ["container_t"], "allowedLevels": ["s0:c123,c456"]},
        "sysctls": {"allowed": ["net.*"], "forbidden": ["net.ipv4.ip_forward"]},
        "hostNetwork": false, "hostPID": false, "hostIPC": false,
        "hostPorts": [{"min": 9100, "max": 9200}],
        "allowedHostPaths": [{"pathPrefix": "/var/log", "readOnly": true}],
        "volumes": ["configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim", "csi", "flexVolume"],
        "allowedFlexVolumes": [{"driver": "example.com/lvm"}],
        "allowedCSIDrivers": [{"name": "csi.example.com"}],
        "allowedProcMountTypes": ["Default"],
        "runtimeClass": {"allowedRuntimeClassNames": ["runc", "gvisor"]},
        "privileged": false, "allowPrivilegeEscalation": false,
        "imageUser": {},
        "exemptions": [{"checks": ["readOnlyRootFilesystemConstraint"], "images": ["docker.io/library/nginx:*"]}]
    })
}

/// Several profiles and the namespace's labels: (b)'s Deployment is admitted by the base
/// settings in a namespace labelled restricted, so no profile is consulted.
pub fn profiles_and_labels_settings() -> Value {
    let host = json!(["hostNamespaces", "hostPathVolumes", "hostPorts"]);
    json!({
        "level": "baseline", "namespaceLabels": true,
        "profiles": [
            {"name": "node-agents", "level": "baseline", "exemptions": [{"checks": host}]},
            {"name": "log-collectors", "level": "baseline",
             "allowedHostPaths": [{"pathPrefix": "/var/log", "readOnly": true}],
             "exemptions": [{"checks": ["hostPathVolumes"]}]},
            {"name": "build-agents", "level": "privileged",
             "runAsUser": {"rule": "MustRunAsNonRoot"}, "capabilities": {"allowedAdd": ["SYS_ADMIN"]}},
            {"name": "legacy", "podSecurityPolicy": restricted_psp()}
        ]
    })
}

/// The DaemonSet controller's node-exporter Pod (test_data), which uses the host's namespaces,
/// paths and ports.
pub fn node_exporter_pod() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data/pod_node_exporter_by_controller.json");
    serde_json::from_slice(&std::fs::read(path).expect("test_data is there")).unwrap()
}

/// Baseline, with the node exporter's service account exempted from the host checks: an
/// exemption that selects requests, so it is matched against each one.
pub fn service_account_exemption_settings() -> Value {
    json!({"level": "baseline", "exemptions": [
        {"checks": ["hostNamespaces", "hostPathVolumes", "hostPorts"],
         "serviceAccounts": ["monitoring/node-exporter"]}]})
}
