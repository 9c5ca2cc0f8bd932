//! Reads an admitted workload's JSON into a `Value` without the parts no rule reads.
//!
//! Kubewarden's policy-server gives every request a fresh module instance, so everything the
//! policy allocates is paid for in page faults as well as in parsing. A real object is mostly
//! what no security decision looks at: environment variables, resource requests, scheduling
//! rules, labels, `managedFields`, `kubectl`'s last-applied annotation, status. Those values are
//! skipped while parsing (still checked to be JSON), and everything else is read exactly as
//! `serde_json` would read it, so the pod reader (`pod.rs`) sees the same fields, the same
//! types and the same errors.
//!
//! Only keys listed below are left out, at the place they are listed for: a key this module
//! does not know is kept. The tests set each listed key to a value no reader could accept and
//! check that the pod read from the object does not change, so a rule that starts reading one
//! of them fails there.

use crate::json_text::Key;
use crate::pod::is_checked_annotation;
use crate::workload::WorkloadKind;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Keys of a container that no rule reads (probes, lifecycle handlers, ports and volume mounts
/// are read).
pub const SKIPPED_CONTAINER_KEYS: &[&str] = &[
    "args",
    "command",
    "env",
    "envFrom",
    "imagePullPolicy",
    "resizePolicy",
    "resources",
    "restartPolicy",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeDevices",
    "workingDir",
];

/// Keys of a pod spec that no rule reads.
pub const SKIPPED_POD_SPEC_KEYS: &[&str] = &[
    "activeDeadlineSeconds",
    "affinity",
    "automountServiceAccountToken",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "hostAliases",
    "hostname",
    "imagePullSecrets",
    "nodeName",
    "nodeSelector",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "resourceClaims",
    "resources",
    "restartPolicy",
    "schedulerName",
    "schedulingGates",
    "setHostnameAsFQDN",
    "shareProcessNamespace",
    "subdomain",
    "terminationGracePeriodSeconds",
    "tolerations",
    "topologySpreadConstraints",
];

/// Keys of an object's or a pod template's metadata that no rule reads. Of `annotations`, only
/// the ones some check reads are kept.
pub const SKIPPED_METADATA_KEYS: &[&str] =
    &["finalizers", "labels", "managedFields", "ownerReferences"];

/// Keys of the admitted object itself that no rule reads.
pub const SKIPPED_OBJECT_KEYS: &[&str] = &["status"];

/// Reads the JSON text of an object of `kind`, leaving out what no rule reads.
pub fn read(kind: WorkloadKind, text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Sparse(Shape::Holder { depth: 0, kind }).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Reads an object of `kind` where it sits in a larger document.
pub fn seed<'de>(kind: WorkloadKind) -> impl DeserializeSeed<'de, Value = Value> {
    Sparse(Shape::Holder { depth: 0, kind })
}

/// Where a value sits in the object, as far as skipping goes.
#[derive(Clone, Copy)]
enum Shape {
    /// `depth` keys down the kind's path to its pod template (the object itself at 0).
    Holder {
        depth: usize,
        kind: WorkloadKind,
    },
    Metadata,
    Annotations,
    PodSpec,
    /// A list of containers, init containers or ephemeral containers.
    Containers,
    Container,
    /// Everything is kept.
    Whole,
}

/// What becomes of a key's value.
enum Child {
    Skip,
    Read(Shape),
}

impl Shape {
    fn child(self, key: &str) -> Child {
        let skip_if = |skipped: &[&str], otherwise: Shape| {
            if skipped.contains(&key) {
                Child::Skip
            } else {
                Child::Read(otherwise)
            }
        };
        match self {
            Shape::Holder { depth, kind } => {
                let path = kind.template_path();
                if depth < path.len() && key == path[depth] {
                    return Child::Read(Shape::Holder {
                        depth: depth + 1,
                        kind,
                    });
                }
                if depth == 0 && SKIPPED_OBJECT_KEYS.contains(&key) {
                    return Child::Skip;
                }
                match key {
                    "metadata" => Child::Read(Shape::Metadata),
                    "spec" if depth == path.len() => Child::Read(Shape::PodSpec),
                    _ => Child::Read(Shape::Whole),
                }
            }
            Shape::Metadata => match key {
                "annotations" => Child::Read(Shape::Annotations),
                _ => skip_if(SKIPPED_METADATA_KEYS, Shape::Whole),
            },
            Shape::Annotations => {
                if is_checked_annotation(key) {
                    Child::Read(Shape::Whole)
                } else {
                    Child::Skip
                }
            }
            Shape::PodSpec => match key {
                "containers" | "initContainers" | "ephemeralContainers" => {
                    Child::Read(Shape::Containers)
                }
                _ => skip_if(SKIPPED_POD_SPEC_KEYS, Shape::Whole),
            },
            Shape::Container => skip_if(SKIPPED_CONTAINER_KEYS, Shape::Whole),
            Shape::Containers | Shape::Whole => Child::Read(Shape::Whole),
        }
    }

    fn element(self) -> Shape {
        match self {
            Shape::Containers => Shape::Container,
            _ => Shape::Whole,
        }
    }
}

/// Reads one value in its place: like `serde_json::Value`'s own reading, except that the keys
/// its shape skips are not kept.
struct Sparse(Shape);

impl<'de> DeserializeSeed<'de> for Sparse {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if let Shape::Whole = self.0 {
            return serde::Deserialize::deserialize(deserializer);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Sparse {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let element = self.0.element();
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Sparse(element))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        // Keys are borrowed from the text where they can be, so a skipped one costs nothing.
        while let Some(Key(key)) = map.next_key()? {
            match self.0.child(&key) {
                Child::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
                Child::Read(shape) => {
                    let value = map.next_value_seed(Sparse(shape))?;
                    out.insert(key.into_owned(), value);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::read_pod;
    use serde_json::json;

    /// A pod spec with something in every place the reader looks, and in every skipped one.
    fn busy_spec(skipped_value: &Value) -> Value {
        let mut container = json!({
            "name": "app", "image": "registry.example.com/app:1",
            "ports": [{"containerPort": 80, "hostPort": 8080}],
            "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}},
            "lifecycle": {"preStop": {"tcpSocket": {"host": "10.0.0.2", "port": 81}}},
            "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}],
            "securityContext": {"privileged": true, "runAsUser": 0,
                                "capabilities": {"add": ["NET_ADMIN"]}, "procMount": "Unmasked"}
        });
        for key in SKIPPED_CONTAINER_KEYS {
            container[*key] = skipped_value.clone();
        }
        let mut spec = json!({
            "hostNetwork": true, "hostPID": true, "hostIPC": true, "hostUsers": true,
            "os": {"name": "linux"}, "runtimeClassName": "gvisor", "serviceAccountName": "sa",
            "securityContext": {"fsGroup": 0, "sysctls": [{"name": "kernel.msgmax", "value": "1"}],
                                "seccompProfile": {"type": "Unconfined"}},
            "volumes": [{"name": "data", "hostPath": {"path": "/var/lib"}},
                        {"name": "flex", "flexVolume": {"driver": "example/lvm"}}],
            "initContainers": [container.clone()],
            "containers": [container.clone()],
            "ephemeralContainers": [container]
        });
        for key in SKIPPED_POD_SPEC_KEYS {
            spec[*key] = skipped_value.clone();
        }
        spec
    }

    fn busy_metadata(skipped_value: &Value) -> Value {
        let mut metadata = json!({"name": "web", "namespace": "shop", "annotations": {
            "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
            "kubectl.kubernetes.io/last-applied-configuration": "{\"a\": 1}"
        }});
        for key in SKIPPED_METADATA_KEYS {
            metadata[*key] = skipped_value.clone();
        }
        metadata
    }

    fn busy_object(kind: WorkloadKind, skipped_value: &Value) -> Value {
        let mut holder =
            json!({"metadata": busy_metadata(skipped_value), "spec": busy_spec(skipped_value)});
        for key in kind.template_path().iter().rev() {
            holder = json!({ *key: holder, "metadata": busy_metadata(skipped_value) });
        }
        holder["apiVersion"] = json!("v1");
        holder["kind"] = json!(kind.name());
        for key in SKIPPED_OBJECT_KEYS {
            holder[*key] = skipped_value.clone();
        }
        holder
    }

    const KINDS: [WorkloadKind; 9] = [
        WorkloadKind::Pod,
        WorkloadKind::Deployment,
        WorkloadKind::ReplicaSet,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
        WorkloadKind::ReplicationController,
        WorkloadKind::PodTemplate,
    ];

    #[test]
    fn skipped_keys_are_read_by_no_rule() {
        // Values of every JSON type that a reader of the key would have to reject or report.
        for skipped in [
            json!(7),
            json!("x"),
            json!([1, {"host": "h"}]),
            json!({"host": "h", "type": 3}),
        ] {
            let clean = busy_object(WorkloadKind::Pod, &Value::Null);
            let busy = busy_object(WorkloadKind::Pod, &skipped);
            assert_eq!(
                read_pod(WorkloadKind::Pod, &busy).unwrap(),
                read_pod(WorkloadKind::Pod, &clean).unwrap(),
                "a rule reads a skipped key (set to {skipped})"
            );
        }
    }

    #[test]
    fn the_sparse_object_reads_as_the_whole_one() {
        for kind in KINDS {
            let object = busy_object(kind, &json!({"big": ["value"]}));
            let text = serde_json::to_string(&object).unwrap();
            let sparse = read(kind, &text).unwrap();
            assert_eq!(
                read_pod(kind, &sparse).unwrap(),
                read_pod(kind, &object).unwrap(),
                "{kind:?}"
            );
            let pod = read_pod(kind, &sparse).unwrap().unwrap();
            assert_eq!(pod.containers.len(), 3, "{kind:?}");
            assert_eq!(pod.annotations.len(), 2, "{kind:?}");
            // What is left out is really left out.
            let spec = kind.template_path().iter().fold(&sparse, |v, key| &v[*key]);
            assert!(spec["spec"].get("tolerations").is_none(), "{kind:?}");
            assert!(
                spec["spec"]["containers"][0].get("env").is_none(),
                "{kind:?}"
            );
            assert!(spec["metadata"].get("labels").is_none(), "{kind:?}");
            assert!(sparse.get("status").is_none(), "{kind:?}");
            assert!(spec["metadata"]["annotations"]
                .get("kubectl.kubernetes.io/last-applied-configuration")
                .is_none());
        }
    }

    #[test]
    fn unreadable_fields_are_reported_as_from_the_whole_object() {
        let cases = [
            json!({"spec": {"containers": "web"}}),
            json!({"spec": {"containers": [7]}}),
            json!({"spec": {"containers": [{"name": "a", "securityContext": []}]}}),
            json!({"metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": 1}}, "spec": {}}),
            json!({"metadata": [], "spec": {}}),
            json!({"spec": {"volumes": [{"name": "v", "somethingNew": {}}], "containers": []}}),
            json!("a pod"),
            json!(null),
        ];
        for object in cases {
            let text = serde_json::to_string(&object).unwrap();
            let sparse = read(WorkloadKind::Pod, &text).unwrap();
            assert_eq!(
                read_pod(WorkloadKind::Pod, &sparse),
                read_pod(WorkloadKind::Pod, &object),
                "{object}"
            );
        }
    }

    #[test]
    fn values_are_read_exactly() {
        let text = r#"{"spec": {"containers": [{"name": "caf\u00e9", "securityContext": {"runAsUser": -1, "x": 1.5e3, "y": 18446744073709551615}}]}, "odd\"key": [true, null]}"#;
        let sparse = read(WorkloadKind::Pod, text).unwrap();
        let whole: Value = serde_json::from_str(text).unwrap();
        assert_eq!(sparse, whole);
    }

    #[test]
    fn invalid_json_is_an_error_even_where_skipped() {
        for text in [
            r#"{"status": {"a": }, "spec": {}}"#,
            r#"{"spec": {"tolerations": [1,, 2]}}"#,
            r#"{"spec": {}} trailing"#,
            r#"{"spec": {"containers": [{"env": [}]}}"#,
        ] {
            assert!(read(WorkloadKind::Pod, text).is_err(), "{text}");
        }
    }
}
