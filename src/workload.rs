//! The workload kinds that carry a pod, and where their pod sits.

use crate::pod::Pod;
use crate::reader::{object, object_field, Path, ReadError};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ReplicationController,
    PodTemplate,
}

/// Every supported kind: its API group and name. The one place both are spelled.
const KINDS: &[(&str, &str, WorkloadKind)] = &[
    ("", "Pod", WorkloadKind::Pod),
    (
        "",
        "ReplicationController",
        WorkloadKind::ReplicationController,
    ),
    ("", "PodTemplate", WorkloadKind::PodTemplate),
    ("apps", "Deployment", WorkloadKind::Deployment),
    ("apps", "ReplicaSet", WorkloadKind::ReplicaSet),
    ("apps", "StatefulSet", WorkloadKind::StatefulSet),
    ("apps", "DaemonSet", WorkloadKind::DaemonSet),
    ("batch", "Job", WorkloadKind::Job),
    ("batch", "CronJob", WorkloadKind::CronJob),
];

impl WorkloadKind {
    /// Every supported kind.
    pub fn all() -> impl Iterator<Item = WorkloadKind> {
        KINDS.iter().map(|(_, _, kind)| *kind)
    }

    /// The kind for an API group and kind name; other kinds carry no pod this policy reads.
    pub fn from_group_kind(group: &str, kind: &str) -> Option<WorkloadKind> {
        KINDS
            .iter()
            .find(|(g, k, _)| *g == group && *k == kind)
            .map(|(_, _, w)| *w)
    }

    /// The kind's name, as in `kind: Deployment`.
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(_, _, w)| *w == self)
            .map_or("", |(_, k, _)| *k)
    }

    /// The kind named by an object's own `apiVersion` and `kind`.
    pub fn of_object(object: &Value) -> Option<WorkloadKind> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        let group = match api_version.split_once('/') {
            Some((group, _)) => group,
            None => "",
        };
        WorkloadKind::from_group_kind(group, kind)
    }

    /// Field names from the object down to the pod template (metadata + spec); empty for a Pod.
    pub fn template_path(self) -> &'static [&'static str] {
        use WorkloadKind::*;
        match self {
            Pod => &[],
            Deployment | ReplicaSet | StatefulSet | DaemonSet | Job | ReplicationController => {
                &["spec", "template"]
            }
            CronJob => &["spec", "jobTemplate", "spec", "template"],
            PodTemplate => &["template"],
        }
    }

    /// Whether an object of this kind may leave its pod template out.
    fn template_optional(self) -> bool {
        // A PodTemplate's `template` is optional; every controller needs one.
        self == WorkloadKind::PodTemplate
    }
}

/// Prefix of field paths inside the pod template, for messages.
pub fn template_prefix(kind: WorkloadKind) -> String {
    kind.template_path().join(".")
}

/// Reads the pod an object carries. `None` when the kind allows it to carry none.
pub fn read_pod(kind: WorkloadKind, object_value: &Value) -> Result<Option<Pod<'_>>, ReadError> {
    let root = Path::Root("");
    let Some(mut holder) = object(object_value, &root)? else {
        return Err(ReadError::new(&root, "the object is missing"));
    };
    let prefix = template_prefix(kind);
    let mut walked = String::new();
    for key in kind.template_path() {
        let here = Path::Root(&walked);
        match object_field(holder, key, &here)? {
            Some(next) => holder = next,
            None if kind.template_optional() => return Ok(None),
            None => return Err(ReadError::new(&here.field(key), "missing")),
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(key);
    }
    let base = Path::Root(&prefix);
    let Some(spec) = object_field(holder, "spec", &base)? else {
        return Err(ReadError::new(&base.field("spec"), "missing"));
    };
    let metadata_path = base.field("metadata");
    let spec_path = base.field("spec");
    Pod::read(holder.get("metadata"), spec, &metadata_path, &spec_path).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_are_matched_by_group_and_name() {
        assert_eq!(
            WorkloadKind::from_group_kind("apps", "Deployment"),
            Some(WorkloadKind::Deployment)
        );
        assert_eq!(WorkloadKind::from_group_kind("", "Deployment"), None);
        assert_eq!(WorkloadKind::from_group_kind("example.com", "Pod"), None);
        assert_eq!(
            WorkloadKind::of_object(&json!({"apiVersion": "batch/v1", "kind": "CronJob"})),
            Some(WorkloadKind::CronJob)
        );
        assert_eq!(
            WorkloadKind::of_object(&json!({"apiVersion": "v1", "kind": "Pod"})),
            Some(WorkloadKind::Pod)
        );
        assert_eq!(
            WorkloadKind::of_object(&json!({"apiVersion": "v1", "kind": "Service"})),
            None
        );
    }

    #[test]
    fn pods_are_found_in_every_kind() {
        let spec = json!({"containers": [{"name": "c", "image": "i"}]});
        let template = json!({"metadata": {}, "spec": spec});
        let cases = [
            (WorkloadKind::Pod, json!({"spec": spec})),
            (
                WorkloadKind::Deployment,
                json!({"spec": {"template": template}}),
            ),
            (
                WorkloadKind::CronJob,
                json!({"spec": {"jobTemplate": {"spec": {"template": template}}}}),
            ),
            (WorkloadKind::PodTemplate, json!({"template": template})),
        ];
        for (kind, object) in cases {
            let pod = read_pod(kind, &object).unwrap().unwrap();
            assert_eq!(pod.containers[0].name, "c", "{kind:?}");
        }
    }

    #[test]
    fn unreadable_objects_say_where() {
        let err = read_pod(WorkloadKind::Deployment, &json!({"spec": {}})).unwrap_err();
        assert_eq!(err.to_string(), "cannot read spec.template: missing");
        let err = read_pod(
            WorkloadKind::CronJob,
            &json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": 3}}}}}}),
        )
        .unwrap_err();
        assert_eq!(err.path, "spec.jobTemplate.spec.template.spec.containers");
        let err = read_pod(WorkloadKind::Pod, &json!({"metadata": {}})).unwrap_err();
        assert_eq!(err.to_string(), "cannot read spec: missing");
        let err = read_pod(WorkloadKind::Pod, &json!("pod")).unwrap_err();
        assert!(err.to_string().contains("expected an object"), "{err}");
        assert!(
            read_pod(WorkloadKind::PodTemplate, &json!({"metadata": {}}))
                .unwrap()
                .is_none()
        );
    }
}
