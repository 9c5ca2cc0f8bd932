//! Who asks and where the pod runs: what an exemption's `usernames`, `groups`, `namespaces`,
//! `runtimeClasses` and `serviceAccounts` select on, and whom a profile can be granted to.

use crate::pod::Pod;

/// The service account a pod that names none runs as.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionScope<'a> {
    /// The requesting user (`userInfo.username`); for pods made by controllers, the
    /// controller's service account.
    pub username: &'a str,
    /// The requesting user's groups (`userInfo.groups`).
    pub groups: &'a [String],
    /// The request's namespace.
    pub namespace: &'a str,
    /// The pod's `runtimeClassName`, when set.
    pub runtime_class: Option<&'a str>,
    /// The pod's service account, `default` when it names none.
    pub service_account: &'a str,
    /// Whether `usernames` and `groups` selectors match whatever they name: the question "would
    /// an exemption by user or group have admitted this request, had it had a user?", asked
    /// of a request without one (the audit scanner's, an existing pod's).
    pub any_requester: bool,
}

impl<'a> AdmissionScope<'a> {
    pub fn new(
        username: &'a str,
        groups: &'a [String],
        namespace: &'a str,
        pod: &Pod<'a>,
    ) -> AdmissionScope<'a> {
        AdmissionScope {
            username,
            groups,
            namespace,
            runtime_class: pod.runtime_class_name,
            service_account: pod.service_account_name.unwrap_or(DEFAULT_SERVICE_ACCOUNT),
            any_requester: false,
        }
    }

    /// Whether the request says who makes it: a user name or a group. The API server always
    /// does; Kubewarden's audit scanner, which sends existing resources as CREATE requests
    /// without `userInfo`, does not.
    pub fn has_requester(&self) -> bool {
        !self.username.is_empty() || !self.groups.is_empty()
    }

    /// This scope with every `usernames` and `groups` selector matching (see `any_requester`).
    pub fn with_any_requester(self) -> AdmissionScope<'a> {
        AdmissionScope {
            any_requester: true,
            ..self
        }
    }

    /// The pod's service account as `serviceAccounts` patterns match it: `namespace/name`.
    pub fn service_account_ref(&self) -> String {
        format!("{}/{}", self.namespace, self.service_account)
    }

    /// The user name the API server gives the pod's service account.
    pub fn service_account_user(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }

    /// The groups the API server gives every service account of the namespace, as
    /// PodSecurityPolicy asked about them.
    pub fn service_account_groups(&self) -> Vec<String> {
        vec![
            "system:serviceaccounts".to_string(),
            format!("system:serviceaccounts:{}", self.namespace),
            "system:authenticated".to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Path;
    use serde_json::json;

    fn scope_of(spec: serde_json::Value, check: impl Fn(AdmissionScope<'_>)) {
        let spec = spec.as_object().unwrap().clone();
        let pod = Pod::read(None, &spec, &Path::Root("metadata"), &Path::Root("spec")).unwrap();
        let groups = vec!["dev".to_string()];
        check(AdmissionScope::new("alice", &groups, "team-a", &pod));
    }

    #[test]
    fn service_account_is_the_named_one_then_the_deprecated_one_then_default() {
        scope_of(
            json!({"containers": [], "serviceAccountName": "agent", "serviceAccount": "old"}),
            |s| assert_eq!(s.service_account_ref(), "team-a/agent"),
        );
        scope_of(
            json!({"containers": [], "serviceAccountName": "", "serviceAccount": "old"}),
            |s| assert_eq!(s.service_account_ref(), "team-a/old"),
        );
        scope_of(json!({"containers": []}), |s| {
            assert_eq!(s.service_account_ref(), "team-a/default");
            assert_eq!(
                s.service_account_user(),
                "system:serviceaccount:team-a:default"
            );
            assert_eq!(
                s.service_account_groups(),
                [
                    "system:serviceaccounts",
                    "system:serviceaccounts:team-a",
                    "system:authenticated"
                ]
            );
        });
    }

    #[test]
    fn runtime_class_is_read_and_empty_means_unset() {
        scope_of(
            json!({"containers": [], "runtimeClassName": "gvisor"}),
            |s| assert_eq!(s.runtime_class, Some("gvisor")),
        );
        scope_of(json!({"containers": [], "runtimeClassName": ""}), |s| {
            assert_eq!(s.runtime_class, None)
        });
        scope_of(json!({"containers": []}), |s| {
            assert_eq!(s.runtime_class, None);
            assert_eq!(s.username, "alice");
            assert_eq!(s.groups, ["dev"]);
        });
    }
}
