//! `constraints::tightest` judged by the policy's own evaluator: the advised constraints admit
//! every input workload, and each element of them is needed (removing it, or turning an
//! allowance off, rejects some workload), on the real install manifests and on hand-written
//! workloads that use every constrained field.

use security_context_policy::admission::validate;
use security_context_policy::decision::Decision;
use security_context_policy::settings::Settings;
use security_context_policy::workload::WorkloadKind;
use security_context_policy_advise::constraints::tightest;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

// --- Judging through the evaluator ---

/// The settings the advice is meant for: no level beyond the constraints.
fn settings(constraints: &Map<String, Value>) -> Value {
    let mut settings = constraints.clone();
    settings.insert("level".into(), json!("privileged"));
    Value::Object(settings)
}

/// The decision on creating `object` under `constraints`, as the policy module would make it.
fn decide(constraints: &Map<String, Value>, object: &Value) -> Decision {
    let api_version = object["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap();
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let request = json!({
        "uid": "u",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_ascii_lowercase())},
        "name": object["metadata"]["name"].as_str().unwrap_or("unnamed"),
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": "u", "groups": ["system:authenticated"]},
        "object": object,
    });
    let payload = json!({"request": request, "settings": settings(constraints)});
    validate(&serde_json::to_vec(&payload).unwrap())
}

fn name(object: &Value) -> String {
    format!(
        "{} {}",
        object["kind"].as_str().unwrap_or("?"),
        object["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// The advised constraints are valid settings and admit every object.
fn assert_admits_all(constraints: &Map<String, Value>, objects: &[&Value]) {
    if let Err(e) = Settings::from_value(&settings(constraints)) {
        panic!("invalid advice {constraints:#?}: {e}");
    }
    for object in objects {
        if let Decision::Reject { message, .. } = decide(constraints, object) {
            panic!(
                "the advice rejects {}: {message}\nadvice: {}",
                name(object),
                Value::Object(constraints.clone())
            );
        }
    }
}

/// `variant` is valid settings and rejects at least one of `objects`.
fn assert_rejects_some(variant: &Map<String, Value>, objects: &[&Value], what: &str) {
    if let Err(e) = Settings::from_value(&settings(variant)) {
        panic!("{what}: invalid settings: {e}");
    }
    let rejected = objects
        .iter()
        .any(|o| matches!(decide(variant, o), Decision::Reject { .. }));
    assert!(
        rejected,
        "{what}: every object is still admitted, so the element is not needed\nvariant: {}",
        Value::Object(variant.clone())
    );
}

// --- Each element needed ---

/// A value no workload here uses, for lists whose emptiness would mean "anything" (or is
/// refused): replacing the last element with it still takes that element away.
const UNUSED_ID: i64 = 4_000_000_000;

/// Every array in `value`, as JSON pointers.
fn arrays(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                arrays(item, format!("{pointer}/{i}"), out);
            }
            out.push(pointer);
        }
        Value::Object(map) => {
            for (k, v) in map {
                arrays(v, format!("{pointer}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// A profile type that `list` does not allow and that does not admit unset profiles.
fn unused_profile_type(list: &[Value]) -> Value {
    ["Unconfined", "Localhost"]
        .iter()
        .find(|t| !list.contains(&json!(t)))
        .map(|t| json!(t))
        .expect("a profile list allowing both Unconfined and Localhost has another element")
}

/// The constraints with one element removed from one allow-list, for every element of every
/// allow-list; where the list left empty would mean something else (`[]` allowing any host
/// path or driver, `[Default]` proc mounts, refused empty ranges or profile types), the element
/// is replaced by one no workload uses instead.
fn removals(constraints: &Map<String, Value>) -> Vec<(String, Map<String, Value>)> {
    let whole = Value::Object(constraints.clone());
    let mut pointers = Vec::new();
    arrays(&whole, String::new(), &mut pointers);
    let mut out = Vec::new();
    for pointer in pointers {
        // A requirement, not an allowance: removing one loosens (see `tightenings`).
        if pointer == "/capabilities/requiredDrop" {
            continue;
        }
        let len = whole.pointer(&pointer).unwrap().as_array().unwrap().len();
        for i in 0..len {
            let mut variant = whole.clone();
            let list = variant
                .pointer_mut(&pointer)
                .unwrap()
                .as_array_mut()
                .unwrap();
            let removed = list.remove(i);
            if list.is_empty() {
                let key = pointer.rsplit('/').next().unwrap();
                match key {
                    "ranges" => list.push(json!({"min": UNUSED_ID, "max": UNUSED_ID})),
                    "allowedHostPaths" => list
                        .push(json!({"pathPrefix": "/unused/by/any/workload", "readOnly": false})),
                    "allowedFlexVolumes" => list.push(json!({"driver": "unused.example.com/none"})),
                    "allowedCSIDrivers" => list.push(json!({"name": "unused.csi.example.com"})),
                    "allowedProcMountTypes" => list.push(if removed == "Default" {
                        json!("Unmasked")
                    } else {
                        json!("Default")
                    }),
                    _ => {}
                }
            }
            if pointer.ends_with("/allowedTypes") {
                let parent = pointer.trim_end_matches("/allowedTypes");
                let profile = variant.pointer_mut(parent).unwrap();
                // The name patterns are refused once Localhost is not allowed.
                if removed == "Localhost" {
                    profile
                        .as_object_mut()
                        .unwrap()
                        .remove("allowedLocalhostProfiles");
                }
                let types = profile["allowedTypes"].as_array().unwrap().clone();
                if types.is_empty() && profile["allowUnset"] != true {
                    let mut others = vec![removed.clone()];
                    others.extend(types);
                    profile["allowedTypes"] = json!([unused_profile_type(&others)]);
                }
            }
            out.push((
                format!("{pointer} without {removed}"),
                variant.as_object().unwrap().clone(),
            ));
        }
    }
    out
}

/// The constraints with one allowance turned off or one requirement added, for every one that
/// the advice could have made tighter: each must reject some workload, or the advice was not
/// the tightest.
fn tightenings(constraints: &Map<String, Value>) -> Vec<(String, Map<String, Value>)> {
    let mut out = Vec::new();
    let mut with = |what: String, edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut variant = constraints.clone();
        edit(&mut variant);
        out.push((what, variant));
    };
    for key in [
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "privileged",
        "allowPrivilegeEscalation",
    ] {
        assert!(constraints[key].is_boolean(), "{key} is always advised");
        if constraints[key] == true {
            with(format!("{key}: false"), &|c| {
                c.insert(key.into(), json!(false));
            });
        }
    }
    for (i, entry) in constraints
        .get("allowedHostPaths")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if entry["readOnly"] == false {
            with(format!("allowedHostPaths[{i}] read-only"), &|c| {
                c["allowedHostPaths"][i]["readOnly"] = json!(true);
            });
        }
    }
    for key in ["seccomp", "appArmor"] {
        if let Some(profile) = constraints.get(key) {
            if profile["allowUnset"] == true {
                with(format!("{key}.allowUnset: false"), &|c| {
                    let profile = c[key].as_object_mut().unwrap();
                    profile.remove("allowUnset");
                    // An empty list is refused without allowUnset: allow only what is unused.
                    if profile["allowedTypes"].as_array().unwrap().is_empty() {
                        profile.insert("allowedTypes".into(), json!(["Unconfined"]));
                    }
                });
            }
        }
    }
    if !constraints.contains_key("readOnlyRootFilesystem") {
        with("readOnlyRootFilesystem: true".into(), &|c| {
            c.insert("readOnlyRootFilesystem".into(), json!(true));
        });
    }
    let every_id = json!([{"min": 0, "max": UNUSED_ID}]);
    match constraints.get("runAsUser").map(|r| r["rule"].clone()) {
        None => with("runAsUser: MustRunAsNonRoot".into(), &|c| {
            c.insert("runAsUser".into(), json!({"rule": "MustRunAsNonRoot"}));
        }),
        // Not every container sets a UID, or MustRunAs would have been advised.
        Some(rule) if rule == "MustRunAsNonRoot" => {
            with("runAsUser: MustRunAs any UID".into(), &|c| {
                c.insert(
                    "runAsUser".into(),
                    json!({"rule": "MustRunAs", "ranges": every_id}),
                );
            })
        }
        Some(_) => {}
    }
    for key in ["runAsGroup", "fsGroup", "supplementalGroups"] {
        match constraints.get(key) {
            None => with(format!("{key}: MustRunAs any ID"), &|c| {
                c.insert(key.into(), json!({"rule": "MustRunAs", "ranges": every_id}));
            }),
            Some(rule) if rule["rule"] == "MayRunAs" => with(format!("{key}: MustRunAs"), &|c| {
                c[key]["rule"] = json!("MustRunAs");
            }),
            Some(_) => {}
        }
    }
    if let Some(caps) = constraints.get("capabilities") {
        let drops_all = caps["requiredDrop"] == json!(["ALL"]);
        let adds_all = caps["allowedAdd"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("ALL")));
        if !drops_all && !adds_all {
            with("capabilities.requiredDrop: [ALL]".into(), &|c| {
                c["capabilities"]["requiredDrop"] = json!(["ALL"]);
            });
        }
    }
    out
}

/// The whole judgement of one input set: the advice admits it all, and every element of the
/// advice is needed by some object.
fn check_advice(objects: &[&Value], label: &str) -> Map<String, Value> {
    let advice = tightest(objects).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_admits_all(&advice, objects);
    for (what, variant) in removals(&advice).into_iter().chain(tightenings(&advice)) {
        assert_rejects_some(&variant, objects, &format!("{label}: {what}"));
    }
    advice
}

// --- Inputs ---

fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test_data/manifests")
}

/// Every YAML file under the directory, by path.
fn manifest_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            manifest_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    out.sort();
}

/// The pod-bearing objects of a multi-document YAML file.
fn workloads(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap())
        .filter(|v| WorkloadKind::of_object(v).is_some())
        .collect()
}

fn all_manifests() -> Vec<(PathBuf, Vec<Value>)> {
    let mut files = Vec::new();
    manifest_files(&manifests_dir(), &mut files);
    files
        .into_iter()
        .map(|f| (f.clone(), workloads(&f)))
        .collect()
}

fn deployment(name: &str, pod_metadata: Value, spec: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": pod_metadata, "spec": spec}}
    })
}

/// Hand-written workloads of several kinds that between them use every constrained field.
fn zoo() -> Vec<Value> {
    let vpn = deployment(
        "vpn",
        json!({"annotations": {"container.apparmor.security.beta.kubernetes.io/tunnel": "localhost/k8s-vpn"}}),
        json!({
            "runtimeClassName": "gvisor",
            "securityContext": {
                "runAsNonRoot": true, "runAsUser": 1000, "fsGroup": 3000,
                "supplementalGroups": [4000, 4001],
                "seccompProfile": {"type": "RuntimeDefault"},
                "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
                "seLinuxOptions": {"level": "s0:c123,c456"}
            },
            "volumes": [
                {"name": "logs", "hostPath": {"path": "/var/log/"}},
                {"name": "config", "configMap": {"name": "vpn"}},
                {"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io"}}
            ],
            "containers": [{
                "name": "tunnel", "image": "vpn:1",
                "ports": [{"containerPort": 1194, "hostPort": 1194}, {"containerPort": 1195, "hostPort": 1195}],
                "securityContext": {
                    "capabilities": {"add": ["net_admin", "CAP_NET_RAW"], "drop": ["ALL"]},
                    "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/vpn.json"},
                    "allowPrivilegeEscalation": false
                },
                "volumeMounts": [{"name": "logs", "mountPath": "/logs", "readOnly": true},
                                 {"name": "config", "mountPath": "/etc/vpn"},
                                 {"name": "secrets", "mountPath": "/secrets"}]
            }]
        }),
    );
    let agent = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {"metadata": {}, "spec": {
            "hostNetwork": true, "hostPID": true,
            "securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "system_u", "role": "system_r"}},
            "volumes": [
                {"name": "state", "hostPath": {"path": "/var/lib/agent"}},
                {"name": "cache", "hostPath": {"path": "/var/lib/agent/cache"}},
                {"name": "pods", "hostPath": {"path": "/var/log/pods"}},
                {"name": "lvm", "flexVolume": {"driver": "example.com/lvm"}},
                {"name": "data", "cephfs": {"monitors": ["m:6789"]}}
            ],
            "initContainers": [{
                "name": "setup", "image": "agent:1",
                "securityContext": {"runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"], "drop": ["NET_RAW", "MKNOD"]}},
                "volumeMounts": [{"name": "state", "mountPath": "/state"}]
            }],
            "containers": [{
                "name": "agent", "image": "agent:1",
                "ports": [{"containerPort": 9100, "hostPort": 9100}],
                "securityContext": {
                    "privileged": true, "procMount": "Unmasked",
                    "capabilities": {"drop": ["NET_RAW"]},
                    "seccompProfile": {"type": "Unconfined"},
                    "appArmorProfile": {"type": "Unconfined"}
                },
                "volumeMounts": [{"name": "cache", "mountPath": "/cache", "readOnly": true},
                                 {"name": "pods", "mountPath": "/pods"},
                                 {"name": "lvm", "mountPath": "/lvm"},
                                 {"name": "data", "mountPath": "/data"}]
            }]
        }}}
    });
    let report = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "team-a"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": 2000, "runAsGroup": 2000, "fsGroup": 3001},
            "containers": [{"name": "report", "image": "report:1",
                            "securityContext": {"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
                                                "appArmorProfile": {"type": "RuntimeDefault"}}}]
        }}}}}
    });
    let debug = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "debug", "namespace": "team-a"},
        "spec": {
            "volumes": [{"name": "scratch"}],
            "containers": [{"name": "app", "image": "app:1", "securityContext": {"runAsUser": 1001, "runAsGroup": 1001}}],
            "ephemeralContainers": [{"name": "dbg", "image": "busybox", "securityContext": {"runAsUser": 1002}}]
        }
    });
    vec![vpn, agent, report, debug]
}

// --- Tests ---

#[test]
fn the_advice_admits_every_real_manifest_and_each_element_is_needed() {
    let manifests = all_manifests();
    let all: Vec<&Value> = manifests.iter().flat_map(|(_, objects)| objects).collect();
    assert!(all.len() >= 10, "pod-bearing objects found: {}", all.len());
    let advice = check_advice(&all, "all manifests");
    // What these files run: flannel's and MetalLB's host network, flannel's host paths.
    assert_eq!(advice["hostNetwork"], true);
    assert_eq!(advice["privileged"], false);
    assert!(advice["volumes"]
        .as_array()
        .unwrap()
        .contains(&json!("hostPath")));
    let mut alone = 0;
    for (file, objects) in &manifests {
        if objects.is_empty() {
            continue;
        }
        let objects: Vec<&Value> = objects.iter().collect();
        check_advice(&objects, &file.display().to_string());
        alone += 1;
    }
    assert!(alone >= 8, "files with workloads: {alone}");
}

#[test]
fn the_advice_admits_hand_written_workloads_and_each_element_is_needed() {
    let zoo = zoo();
    let objects: Vec<&Value> = zoo.iter().collect();
    let advice = check_advice(&objects, "zoo");
    let expected = json!({
        "allowPrivilegeEscalation": true,
        "allowedCSIDrivers": [{"name": "secrets-store.csi.k8s.io"}],
        "allowedFlexVolumes": [{"driver": "example.com/lvm"}],
        // /var/lib/agent/cache is covered by the writable /var/lib/agent; /var/log/pods is
        // written to under the read-only /var/log.
        "allowedHostPaths": [
            {"pathPrefix": "/var/lib/agent", "readOnly": false},
            {"pathPrefix": "/var/log", "readOnly": true},
            {"pathPrefix": "/var/log/pods", "readOnly": false}
        ],
        "allowedProcMountTypes": ["Default", "Unmasked"],
        "appArmor": {"allowedTypes": ["Localhost", "RuntimeDefault", "Unconfined"],
                     "allowedLocalhostProfiles": ["k8s-vpn"]},
        "capabilities": {"allowedAdd": ["NET_ADMIN", "NET_RAW", "SYS_ADMIN"]},
        "fsGroup": {"rule": "MayRunAs", "ranges": [{"min": 3000, "max": 3001}]},
        "hostIPC": false,
        "hostNetwork": true,
        "hostPID": true,
        "hostPorts": [{"min": 1194, "max": 1195}, {"min": 9100, "max": 9100}],
        "privileged": true,
        "runAsGroup": {"rule": "MayRunAs", "ranges": [{"min": 1001, "max": 1001}, {"min": 2000, "max": 2000}]},
        "runtimeClass": {"allowedRuntimeClassNames": ["gvisor"]},
        "seLinux": {"allowedLevels": ["s0:c123,c456"], "allowedRoles": ["system_r"],
                    "allowedTypes": ["spc_t"], "allowedUsers": ["system_u"]},
        "seccomp": {"allowedTypes": ["Localhost", "Unconfined"], "allowUnset": true,
                    "allowedLocalhostProfiles": ["profiles/vpn.json"]},
        "supplementalGroups": {"rule": "MayRunAs", "ranges": [{"min": 4000, "max": 4001}]},
        "sysctls": {"allowed": ["net.ipv4.ip_unprivileged_port_start"]},
        "volumes": ["cephFS", "configMap", "csi", "emptyDir", "flexVolume", "hostPath"]
    });
    assert_eq!(Value::Object(advice), expected);
}

#[test]
fn the_advice_is_as_tight_as_the_workloads() {
    let adder = deployment(
        "adder",
        json!({}),
        json!({
            "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}],
            "containers": [{"name": "a", "image": "a",
                "securityContext": {"runAsUser": 1000, "capabilities": {"add": ["NET_ADMIN"]}},
                "volumeMounts": [{"name": "logs", "mountPath": "/l", "readOnly": true}]}]
        }),
    );
    let other = deployment(
        "other",
        json!({}),
        json!({
            "securityContext": {"runAsUser": 2000},
            "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}],
            "initContainers": [{"name": "i", "image": "i",
                "volumeMounts": [{"name": "logs", "mountPath": "/l", "readOnly": true}]}],
            "containers": [{"name": "b", "image": "b",
                "volumeMounts": [{"name": "logs", "mountPath": "/l", "readOnly": true}]}]
        }),
    );
    let advice = check_advice(&[&adder, &other], "two deployments");
    assert_eq!(advice["capabilities"], json!({"allowedAdd": ["NET_ADMIN"]}));
    assert_eq!(
        advice["runAsUser"],
        json!({"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 1000}, {"min": 2000, "max": 2000}]})
    );
    assert_eq!(
        advice["allowedHostPaths"],
        json!([{"pathPrefix": "/var/log", "readOnly": true}])
    );
    assert_eq!(advice["volumes"], json!(["hostPath"]));
    assert_eq!(advice["hostPorts"], json!([]));
    assert_eq!(advice["hostNetwork"], false);
    assert_eq!(advice["seLinux"]["allowedTypes"], json!([]));
    assert_eq!(advice["sysctls"], json!({"allowed": []}));
    assert_eq!(
        advice["runtimeClass"],
        json!({"allowedRuntimeClassNames": []})
    );
    // No seccomp profile anywhere: only unset is allowed.
    assert_eq!(
        advice["seccomp"],
        json!({"allowedTypes": [], "allowUnset": true})
    );
    assert!(!advice.contains_key("runAsGroup"));
    assert!(!advice.contains_key("readOnlyRootFilesystem"));

    // A third workload without a UID: non-root when it says so, else no UID rule at all
    // (kube-psp-advisor's RunAsAny adds nothing).
    let non_root = deployment(
        "non-root",
        json!({}),
        json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "image": "c"}]}),
    );
    let advice = check_advice(&[&adder, &other, &non_root], "with a non-root one");
    assert_eq!(advice["runAsUser"], json!({"rule": "MustRunAsNonRoot"}));
    let anyone = deployment(
        "anyone",
        json!({}),
        json!({"containers": [{"name": "c", "image": "c"}]}),
    );
    let advice = check_advice(&[&adder, &other, &anyone], "with an unset one");
    assert!(!advice.contains_key("runAsUser"), "{advice:?}");
    // runAsNonRoot does not make UID 0 non-root (the kubelet refuses to start it).
    let root = deployment(
        "root",
        json!({}),
        json!({"securityContext": {"runAsNonRoot": true},
               "containers": [{"name": "c", "image": "c"},
                              {"name": "r", "image": "r", "securityContext": {"runAsUser": 0}}]}),
    );
    let advice = check_advice(&[&non_root, &root], "with UID 0");
    assert!(!advice.contains_key("runAsUser"), "{advice:?}");
    // Written to once: the host path is no longer read-only.
    let writer = deployment(
        "writer",
        json!({}),
        json!({
            "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}],
            "containers": [{"name": "w", "image": "w", "securityContext": {"runAsUser": 3000},
                "volumeMounts": [{"name": "logs", "mountPath": "/l"}]}]
        }),
    );
    let advice = check_advice(&[&adder, &other, &writer], "with a writer");
    assert_eq!(
        advice["allowedHostPaths"],
        json!([{"pathPrefix": "/var/log", "readOnly": false}])
    );
}

#[test]
fn drops_every_container_makes_are_required() {
    let pod = |name: &str, drop: Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"containers": [{"name": "c", "image": "c",
                        "securityContext": {"capabilities": {"drop": drop}}}]}})
    };
    let all = pod("all", json!(["all"]));
    let some = pod("some", json!(["NET_RAW", "cap_mknod"]));
    let fewer = pod("fewer", json!(["MKNOD"]));
    let advice = check_advice(&[&all], "drops ALL");
    assert_eq!(
        advice["capabilities"],
        json!({"allowedAdd": [], "requiredDrop": ["ALL"]})
    );
    let advice = check_advice(&[&all, &some], "drops ALL or two");
    assert_eq!(
        advice["capabilities"]["requiredDrop"],
        json!(["MKNOD", "NET_RAW"])
    );
    let advice = check_advice(&[&all, &some, &fewer], "drops one in common");
    assert_eq!(advice["capabilities"]["requiredDrop"], json!(["MKNOD"]));
}

#[test]
fn the_advice_does_not_depend_on_the_order_of_the_input() {
    let manifests = all_manifests();
    let zoo = zoo();
    let mut objects: Vec<&Value> = manifests.iter().flat_map(|(_, o)| o).collect();
    objects.extend(&zoo);
    let forward = tightest(&objects).unwrap();
    objects.reverse();
    assert_eq!(tightest(&objects).unwrap(), forward);
    objects.rotate_left(7);
    assert_eq!(tightest(&objects).unwrap(), forward);
    // One host path spelt two ways, which the constraint compares alike: one entry, whichever
    // spelling comes first.
    let spelt = |name: &str, path: &str| {
        deployment(
            name,
            json!({}),
            json!({"volumes": [{"name": "d", "hostPath": {"path": path}}],
                   "containers": [{"name": "c", "image": "c"}]}),
        )
    };
    let (a, b) = (spelt("a", "/srv/data"), spelt("b", "srv/./data/"));
    let advice = check_advice(&[&a, &b], "two spellings");
    assert_eq!(advice, tightest(&[&b, &a]).unwrap());
    assert_eq!(
        advice["allowedHostPaths"],
        json!([{"pathPrefix": "/srv/data", "readOnly": true}])
    );
}

#[test]
fn a_volume_type_without_a_psp_name_needs_the_wildcard() {
    let new = deployment(
        "new",
        json!({}),
        json!({"volumes": [{"name": "n", "somethingNew": {}}, {"name": "c", "configMap": {"name": "x"}}],
               "containers": [{"name": "c", "image": "c"}]}),
    );
    let advice = check_advice(&[&new], "unknown volume type");
    assert_eq!(advice["volumes"], json!(["*"]));
}

#[test]
fn objects_without_a_readable_pod_are_errors() {
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}});
    let err = tightest(&[&service]).unwrap_err();
    assert!(err.contains("Service \"web\""), "{err}");
    let broken = deployment("broken", json!({}), json!({"containers": "no"}));
    let err = tightest(&[&broken]).unwrap_err();
    assert!(err.contains("spec.template.spec.containers"), "{err}");
}

#[test]
fn values_no_setting_can_list_leave_their_constraint_out() {
    // The API server refuses these; the advice stays valid settings that admit them anyway.
    let odd = deployment(
        "odd",
        json!({"annotations": {"container.apparmor.security.beta.kubernetes.io/c": "bogus"}}),
        json!({
            "runtimeClassName": "*",
            "securityContext": {"runAsUser": -1, "fsGroup": -5,
                                "sysctls": [{"name": "", "value": "1"}],
                                "seccompProfile": {"type": "runtime/default"}},
            "volumes": [{"name": "f", "flexVolume": {"options": {}}}],
            "containers": [{"name": "c", "image": "c",
                "ports": [{"containerPort": 1, "hostPort": 70000}],
                "securityContext": {"procMount": "unmasked", "capabilities": {"add": [""]}}}]
        }),
    );
    let advice = check_advice(&[&odd], "values the API server refuses");
    for key in [
        "hostPorts",
        "runAsUser",
        "fsGroup",
        "sysctls",
        "seccomp",
        "appArmor",
        "allowedProcMountTypes",
        "allowedFlexVolumes",
        "capabilities",
    ] {
        assert!(!advice.contains_key(key), "{key}: {advice:?}");
    }
    assert_eq!(
        advice["runtimeClass"],
        json!({"allowedRuntimeClassNames": ["*"]})
    );
}
