//! `runAsUser`: MustRunAs pins every container's effective UID to ranges; MustRunAsNonRoot
//! requires runAsNonRoot=true or a non-zero UID, and never UID 0 (with runAsNonRoot=true the
//! kubelet refuses to start such a container; PodSecurityPolicy rejected it).

use super::id_range::{check_ranges, id_problem, image_note, UserRule, UNSET_ON_BOTH};
use super::{container_subject, violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "runAsUserConstraint",
    configured: |c| c.run_as_user.is_some(),
    evaluate,
    prepare: |c| match &c.run_as_user {
        Some(s) => check_ranges("runAsUser", &s.ranges, s.rule == UserRule::MustRunAs),
        None => Ok(()),
    },
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.run_as_user.as_ref()?;
    let mut details = Vec::new();
    for c in input.containers() {
        // With `imageUser`, a container that sets no runAsUser runs as its image's uid.
        let mut sc = c.effective.common;
        sc.run_as_user = c.effective.run_as_user_or_image();
        let problem = match setting.rule {
            UserRule::RunAsAny => None,
            UserRule::MustRunAs => id_problem(
                "runAsUser",
                sc.run_as_user,
                &setting.ranges,
                true,
                UNSET_ON_BOTH,
            ),
            UserRule::MustRunAsNonRoot if sc.run_as_user == Some(0) => Some(
                "must not set securityContext.runAsUser=0 (running as root is forbidden)"
                    .to_string(),
            ),
            UserRule::MustRunAsNonRoot => {
                let non_root =
                    sc.run_as_non_root == Some(true) || sc.run_as_user.is_some_and(|uid| uid > 0);
                (!non_root).then(|| {
                    let mut p = "must set securityContext.runAsNonRoot=true or a non-zero securityContext.runAsUser".to_string();
                    if let Some(uid) = sc.run_as_user {
                        p.push_str(&format!(", got runAsUser={uid}"));
                    }
                    p
                })
            }
        };
        if let Some(p) = problem {
            let from_image = image_note(
                c.effective.image_deciding(c.effective.common.run_as_user),
                sc.run_as_user,
            );
            details.push(format!("{} {p}{from_image}", container_subject(c.name)));
        }
    }
    violation("runAsUser", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn must_run_as_checks_the_effective_uid() {
        let settings =
            json!({"runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 65535}]}});
        // The pod's value applies to a container that sets none...
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"runAsUser": 1000}, "containers": [{"name": "app"}]})
            ),
            None
        );
        // ...and the container's value overrides it.
        assert_eq!(
            denied(
                &settings,
                json!({"securityContext": {"runAsUser": 1000}, "containers": [{"name": "app", "securityContext": {"runAsUser": 0}}]})
            ),
            r#"runAsUser (container "app" must set securityContext.runAsUser within 1000-65535, got 0)"#
        );
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"runAsUser": 0}, "containers": [{"name": "app", "securityContext": {"runAsUser": 2000}}]})
            ),
            None
        );
        let unset = denied(&settings, json!({"containers": [{"name": "app"}]}));
        assert!(
            unset.contains("set on neither the container nor the pod"),
            "{unset}"
        );
    }

    #[test]
    fn must_run_as_non_root_accepts_either_field() {
        let settings = json!({"runAsUser": {"rule": "MustRunAsNonRoot"}});
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]})
            ),
            None
        );
        assert_eq!(
            constrained(
                &settings,
                json!({"containers": [{"name": "a", "securityContext": {"runAsUser": 5}}]})
            ),
            None
        );
        let d = denied(
            &settings,
            json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a", "securityContext": {"runAsNonRoot": false, "runAsUser": 0}}]}),
        );
        assert!(d.ends_with("running as root is forbidden))"), "{d}");
        assert!(constrained(&settings, json!({"containers": [{"name": "a"}]})).is_some());
    }

    #[test]
    fn must_run_as_non_root_refuses_uid_0_even_with_run_as_non_root() {
        let settings = json!({"runAsUser": {"rule": "MustRunAsNonRoot"}});
        assert_eq!(
            denied(
                &settings,
                json!({"securityContext": {"runAsNonRoot": true}, "initContainers": [{"name": "i", "securityContext": {"runAsUser": 0}}], "containers": [{"name": "a"}]})
            ),
            r#"runAsUser (container "i" must not set securityContext.runAsUser=0 (running as root is forbidden))"#
        );
        // The pod's UID 0 applies to containers that set none.
        assert!(constrained(
            &settings,
            json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 0}, "containers": [{"name": "a"}]})
        )
        .is_some());
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 0}, "containers": [{"name": "a", "securityContext": {"runAsUser": 1000}}]})
            ),
            None
        );
    }

    #[test]
    fn run_as_any_allows_everything() {
        let settings = json!({"runAsUser": {"rule": "RunAsAny"}});
        assert_eq!(
            constrained(
                &settings,
                json!({"containers": [{"name": "a", "securityContext": {"runAsUser": 0}}]})
            ),
            None
        );
    }
}
