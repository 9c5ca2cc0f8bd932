//! The AdmissionRequest the API server sends a validating webhook for `kubectl create` of an
//! object, built from the object alone.

use security_context_policy::workload::WorkloadKind;
use serde_json::{json, Value};

/// Who creates the objects: `--user` and `--group`.
#[derive(Debug, Clone)]
pub struct Requester {
    pub username: String,
    pub groups: Vec<String>,
}

/// The group every authenticated request carries.
const AUTHENTICATED: &str = "system:authenticated";

impl Requester {
    /// The userInfo of the request: the API server adds `system:authenticated` to every
    /// authenticated user's groups.
    fn user_info(&self) -> Value {
        let mut groups = self.groups.clone();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.to_string());
        }
        json!({"username": self.username, "groups": groups})
    }
}

/// A pod-bearing object as the API server sees its creation.
#[derive(Debug, Clone)]
pub struct Creation {
    pub kind: WorkloadKind,
    pub group: String,
    pub version: String,
    /// The REST resource, e.g. `deployments`.
    pub resource: String,
    pub namespace: String,
    pub name: String,
    /// The AdmissionRequest (not the review).
    pub request: Value,
}

/// The object's group and version from its `apiVersion`.
pub fn group_version(object: &Value) -> (&str, &str) {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// The CREATE request for `object` when it carries a pod; `None` for other kinds. Like the API
/// server, the request names the namespace (`metadata.namespace`, else `default_namespace`) and
/// sets it in the object.
pub fn creation(
    object: &Value,
    default_namespace: &str,
    requester: &Requester,
    uid: String,
) -> Option<Creation> {
    let kind = WorkloadKind::of_object(object)?;
    let (group, version) = group_version(object);
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .filter(|ns| !ns.is_empty())
        .unwrap_or(default_namespace)
        .to_string();
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Every workload kind's REST resource is its name in lower case, plural with an `s`.
    let resource = format!("{}s", kind.name().to_ascii_lowercase());
    let mut object = object.clone();
    if object["metadata"].is_object() || object["metadata"].is_null() {
        object["metadata"]["namespace"] = Value::String(namespace.clone());
    }
    let gvk = json!({"group": group, "version": version, "kind": kind.name()});
    let gvr = json!({"group": group, "version": version, "resource": resource});
    let request = json!({
        "uid": uid,
        "kind": gvk,
        "resource": gvr,
        "requestKind": gvk,
        "requestResource": gvr,
        "name": name,
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": requester.user_info(),
        "object": object,
        "oldObject": null,
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
    });
    Some(Creation {
        kind,
        group: group.to_string(),
        version: version.to_string(),
        resource,
        namespace,
        name,
        request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_is_created_in_its_namespace_or_the_default() {
        let requester = Requester {
            username: "alice".into(),
            groups: vec!["dev".into()],
        };
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}, "spec": {}});
        let created = creation(&deployment, "team-a", &requester, "u1".into()).unwrap();
        assert_eq!(created.resource, "deployments");
        assert_eq!(created.request["namespace"], "team-a");
        assert_eq!(created.request["object"]["metadata"]["namespace"], "team-a");
        assert_eq!(created.request["kind"]["group"], "apps");
        assert_eq!(
            created.request["userInfo"]["groups"],
            json!(["dev", "system:authenticated"])
        );
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "shop"}, "spec": {}});
        let created = creation(&pod, "team-a", &requester, "u2".into()).unwrap();
        assert_eq!(
            (created.group.as_str(), created.resource.as_str()),
            ("", "pods")
        );
        assert_eq!(created.namespace, "shop");
        let service = json!({"apiVersion": "v1", "kind": "Service"});
        assert!(creation(&service, "default", &requester, "u3".into()).is_none());
    }
}
