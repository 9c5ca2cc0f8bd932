//! Which rule, container and key make the module reject an object: the module's message says
//! it in words; SARIF and JSON need it as data, with the line of the key that violates.
//!
//! The breakdown runs the evaluator natively on the same settings and request, under the same
//! judging policy (levels, namespace labels, exemptions) the decision used. A rule's violation is
//! the pod's when it fails with no container, and a container's when that container alone makes
//! it fail (or say something else). The key to blame is found by deleting: the deepest keys of
//! what the rules read whose deletion changes the rule's violation for that container. So
//! `privileged: true`, `hostNetwork: true`, a volume's `hostPath:`, a `hostPort:` or an added
//! capability are found for any rule, a new one included, without a table of fields per rule.
//! A violation that no deletion changes is a missing field, placed at the nearest enclosing key
//! that exists: the container's `securityContext`, else its entry; the pod's `securityContext`,
//! else its spec.

use crate::manifest::{Positions, Step};
use crate::offline_cluster::OfflineCluster;
use crate::report::Violation;
use security_context_policy::admission::{compiled_policy, judging_policy, AdmissionRequest};
use security_context_policy::checks::Violation as RuleViolation;
use security_context_policy::image_user::ImageUsers;
use security_context_policy::pod::{Container, Pod};
use security_context_policy::policy::Policy;
use security_context_policy::sparse_object;
use security_context_policy::workload::{read_pod, WorkloadKind};
use serde_json::Value;

/// Keys a container is known by rather than configured with: deleting them says nothing about
/// which setting violates.
const IDENTITY_KEYS: &[&str] = &["name", "image"];

/// The key that names a list item (a volume, a sysctl, a container): messages quote it, so
/// deleting it changes the words but never the setting. Its item is blamed instead.
const ITEM_NAME: &str = "name";

/// The violations of a request the module rejected, each with its key's line. Empty when the
/// evaluator finds none (a rejection for another reason: an unreadable object, a host error).
pub fn violations(
    settings: &str,
    request: &Value,
    kind: WorkloadKind,
    positions: &Positions,
    cluster: &OfflineCluster,
) -> Vec<Violation> {
    let Ok(policy) = compiled_policy(settings) else {
        return Vec::new();
    };
    let Ok(admission) = serde_json::from_value::<AdmissionRequest>(request.clone()) else {
        return Vec::new();
    };
    let Ok(Some(judging)) = judging_policy(&policy, &admission, cluster) else {
        return Vec::new();
    };
    // What no rule reads is left out: fewer keys to try, none of them irrelevant.
    let Ok(object) = serde_json::to_string(&admission.object)
        .map_err(|_| ())
        .and_then(|text| sparse_object::read(kind, &text).map_err(|_| ()))
    else {
        return Vec::new();
    };
    let breakdown = Breakdown {
        policy: &judging,
        kind,
        cluster,
        image_users: std::cell::RefCell::new(ImageUsers::default()),
    };
    let Some(pod) = breakdown.pod(&object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (container, finding) in judging.attributed_findings(&pod) {
        out.extend(breakdown.locate(
            finding.check,
            &object,
            &pod,
            container,
            &finding.violation,
            positions,
        ));
    }
    out
}

struct Breakdown<'p> {
    policy: &'p Policy,
    kind: WorkloadKind,
    cluster: &'p OfflineCluster,
    /// Image users asked once per image, for every variation of the object.
    image_users: std::cell::RefCell<ImageUsers>,
}

impl Breakdown<'_> {
    fn pod<'o>(&self, object: &'o Value) -> Option<Pod<'o>> {
        let mut pod = read_pod(self.kind, object).ok()??;
        self.image_users
            .borrow_mut()
            .attach(self.policy, &mut pod, self.cluster);
        Some(pod)
    }

    /// The rule's violation by the pod alone (`container` `None`) or by one container.
    fn violation(
        &self,
        rule: &str,
        pod: &Pod<'_>,
        container: Option<usize>,
    ) -> Option<RuleViolation> {
        match container {
            None => self.policy.rule_violation(rule, pod, &[]),
            Some(i) => {
                let container: &Container = pod.containers.get(i)?;
                self.policy.rule_violation(rule, pod, &[container])
            }
        }
    }

    /// Where one violation is: the deepest keys whose deletion changes it, else the nearest
    /// enclosing key.
    fn locate(
        &self,
        rule: &str,
        object: &Value,
        pod: &Pod<'_>,
        container: Option<usize>,
        violation: &RuleViolation,
        positions: &Positions,
    ) -> Vec<Violation> {
        let spec_path: Vec<Step> = self
            .kind
            .template_path()
            .iter()
            .chain(&["spec"])
            .map(|k| Step::Key(k.to_string()))
            .collect();
        let container_path = container.and_then(|i| pod.containers.get(i)).map(|c| {
            let mut path = spec_path.clone();
            path.push(Step::Key(c.kind.field().to_string()));
            path.push(Step::Index(c.index));
            path
        });
        let changes = |path: &[Step]| -> bool {
            let mut variant = object.clone();
            if !remove(&mut variant, path) {
                return false;
            }
            let Some(varied) = self.pod(&variant) else {
                return false;
            };
            // Blamed: a key without which the violation goes, or says something else. Not a
            // key without which it only says more (deleting a `drop: [ALL]` next to an added
            // capability): that key complies.
            match self.violation(rule, &varied, container) {
                None => true,
                Some(other) => {
                    other != *violation
                        && !(other.reason == violation.reason
                            && other.detail.contains(violation.detail.as_str()))
                }
            }
        };
        let mut found = Vec::new();
        // The container's own keys first, then what the pod sets for every container.
        if let Some(path) = &container_path {
            search(
                object,
                path,
                &|key| !IDENTITY_KEYS.contains(&key),
                &changes,
                &mut found,
            );
        }
        search(
            object,
            &spec_path,
            &|key| !matches!(key, "containers" | "initContainers" | "ephemeralContainers"),
            &changes,
            &mut found,
        );
        let mut annotations: Vec<Step> = self
            .kind
            .template_path()
            .iter()
            .map(|k| Step::Key(k.to_string()))
            .collect();
        annotations.push(Step::Key("metadata".into()));
        annotations.push(Step::Key("annotations".into()));
        search(object, &annotations, &|_| true, &changes, &mut found);
        if found.is_empty() {
            let anchor = container_path.unwrap_or(spec_path);
            let mut context = anchor.clone();
            context.push(Step::Key("securityContext".into()));
            found.push(if positions.line(&context).is_some() {
                context
            } else {
                anchor
            });
        }
        let message = if violation.detail.is_empty() {
            violation.reason.to_string()
        } else {
            format!("{} ({})", violation.reason, violation.detail)
        };
        let name = container
            .and_then(|i| pod.containers.get(i))
            .map(|c| c.name.to_string());
        let mut located: Vec<Violation> = found
            .into_iter()
            .map(|path| Violation {
                check: rule.to_string(),
                container: name.clone(),
                field: path_text(&path),
                line: positions.nearest_line(&path),
                message: message.clone(),
            })
            .collect();
        located.sort_by(|a, b| (a.line, &a.field).cmp(&(b.line, &b.field)));
        located
    }
}

/// Adds to `found` the deepest keys below `path` (children passing `keep` at the first level)
/// whose deletion `changes` the violation. A key whose deletion changes nothing is not searched
/// further: deleting it deletes everything below it too.
fn search(
    object: &Value,
    path: &[Step],
    keep: &dyn Fn(&str) -> bool,
    changes: &dyn Fn(&[Step]) -> bool,
    found: &mut Vec<Vec<Step>>,
) {
    let Some(node) = get(object, path) else {
        return;
    };
    for child in children(node).into_iter().filter(|step| match step {
        Step::Key(k) => k != ITEM_NAME && keep(k),
        Step::Index(_) => true,
    }) {
        let mut child_path = path.to_vec();
        child_path.push(child);
        if !changes(&child_path) {
            continue;
        }
        let before = found.len();
        search(object, &child_path, &|_| true, changes, found);
        if found.len() == before {
            found.push(child_path);
        }
    }
}

fn children(node: &Value) -> Vec<Step> {
    match node {
        Value::Object(map) => map.keys().map(|k| Step::Key(k.clone())).collect(),
        Value::Array(items) => (0..items.len()).map(Step::Index).collect(),
        _ => Vec::new(),
    }
}

fn get<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(k) => node.get(k.as_str()),
        Step::Index(i) => node.get(*i),
    })
}

/// Deletes the node at `path`; false when there is none.
fn remove(value: &mut Value, path: &[Step]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let mut node = value;
    for step in parent {
        node = match (step, node) {
            (Step::Key(k), Value::Object(map)) => match map.get_mut(k) {
                Some(next) => next,
                None => return false,
            },
            (Step::Index(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(next) => next,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, node) {
        (Step::Key(k), Value::Object(map)) => map.remove(k).is_some(),
        (Step::Index(i), Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// `spec.template.spec.containers[0].securityContext.privileged`; a key with a dot or slash
/// (an annotation) is bracketed: `metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]`.
pub fn path_text(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if k.contains(['.', '/', '[', ']', '"']) => out.push_str(&format!(
                "[{}]",
                serde_json::to_string(k).unwrap_or_default()
            )),
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_kubectl_explain() {
        let path = vec![
            Step::Key("spec".into()),
            Step::Key("containers".into()),
            Step::Index(1),
            Step::Key("securityContext".into()),
        ];
        assert_eq!(path_text(&path), "spec.containers[1].securityContext");
        let annotation = vec![
            Step::Key("metadata".into()),
            Step::Key("annotations".into()),
            Step::Key("seccomp.security.alpha.kubernetes.io/pod".into()),
        ];
        assert_eq!(
            path_text(&annotation),
            r#"metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]"#
        );
    }

    #[test]
    fn removal_reaches_keys_and_items() {
        let mut value = serde_json::json!({"a": {"b": [1, 2, 3]}});
        assert!(remove(
            &mut value,
            &[Step::Key("a".into()), Step::Key("b".into()), Step::Index(1)]
        ));
        assert_eq!(value, serde_json::json!({"a": {"b": [1, 3]}}));
        assert!(!remove(
            &mut value,
            &[Step::Key("x".into()), Step::Key("b".into())]
        ));
        assert!(remove(&mut value, &[Step::Key("a".into())]));
        assert_eq!(value, serde_json::json!({}));
    }
}
