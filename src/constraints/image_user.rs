//! `imageUser`: the kubelet's run-time `runAsNonRoot` verification, done at admission. A
//! container whose effective `runAsNonRoot` is true is refused by the kubelet when it would run
//! as root: an explicit `runAsUser: 0`, or no runAsUser and an image whose user is root (or
//! unset), non-numeric (the kubelet cannot verify it) or not a valid uid. Such a pod passes the
//! Pod Security Standards and then never starts (`CreateContainerConfigError`); this rule says so
//! in the admission answer instead.
//!
//! The image's user is looked up through the host (see `crate::image_user`) only for containers
//! that need it; this function judges what was found. A container whose image user could not
//! be read is not judged here: the lookup failure itself rejects or warns (`onError`).

use super::{container_subject, nothing_to_prepare, violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};
use crate::pod::{Container, Pod};
use serde::Deserialize;

/// `imageUser: {onError: reject | accept}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageUserSetting {
    pub on_error: OnImageError,
}

crate::json_text::deserialize_by_shape!(ImageUserSetting { "onError" => on_error });

/// What to do when the host cannot say what user an image runs as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnImageError {
    /// Reject the request, naming the image and the error (fail closed).
    #[default]
    Reject,
    /// Accept it with a warning that the image's user was not checked.
    Accept,
}

pub const ID: &str = "imageUserConstraint";

pub const CONSTRAINT: Constraint = Constraint {
    id: ID,
    configured: |c| c.image_user.is_some(),
    evaluate,
    prepare: nothing_to_prepare,
};

/// The largest uid the kubelet accepts (`validation.IsValidUserID`).
const MAX_UID: i64 = i32::MAX as i64;

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    constraints.image_user.as_ref()?;
    if input.pod.is_windows() {
        return None;
    }
    let details = input
        .containers()
        .filter_map(|c| kubelet_refusal(c).map(|p| format!("{} {p}", container_subject(c.name))))
        .collect();
    violation("runAsNonRoot with a root image user", details)
}

/// Why the kubelet would refuse to start this container, if it would.
fn kubelet_refusal(c: &Container<'_>) -> Option<String> {
    let sc = &c.effective;
    if sc.common.run_as_non_root != Some(true) {
        return None;
    }
    if let Some(uid) = sc.common.run_as_user {
        return (uid == 0).then(|| {
            "sets runAsNonRoot=true and runAsUser=0: the kubelet refuses to start it \
             (\"container's runAsUser breaks non-root policy\")"
                .to_string()
        });
    }
    let image = sc.image_user.as_deref()?;
    let what = image.describe();
    match (image.uid, &image.name) {
        (Some(0), _) => Some(format!(
            "sets runAsNonRoot=true but {what} runs as root: the kubelet refuses to start it \
             (\"container has runAsNonRoot and image will run as root\"); set \
             securityContext.runAsUser to a non-zero uid or use an image with a non-root USER"
        )),
        (Some(uid), _) if !(0..=MAX_UID).contains(&uid) => Some(format!(
            "sets runAsNonRoot=true but {what} is not a valid uid (0-{MAX_UID}): the kubelet \
             refuses to start it; set securityContext.runAsUser"
        )),
        (None, Some(name)) => Some(format!(
            "sets runAsNonRoot=true but {what} names the user \"{name}\", not a uid: the kubelet \
             cannot verify it is non-root and refuses to start it; set securityContext.runAsUser \
             to a non-zero uid"
        )),
        _ => None,
    }
}

/// Whether admission must look up this container's image user for `imageUser` to judge it: the
/// effective runAsNonRoot is true and the manifest sets no runAsUser, on a Linux pod.
pub fn needs_image_user(pod: &Pod<'_>, c: &Container<'_>) -> bool {
    !pod.is_windows()
        && c.effective.common.run_as_non_root == Some(true)
        && c.effective.common.run_as_user.is_none()
}

crate::json_text::from_text_by_serde!(OnImageError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_config::ImageUser;
    use crate::policy::Policy;
    use crate::settings::Settings;
    use serde_json::{json, Value};
    use std::rc::Rc;

    /// The enforced rejection of `pod` at `privileged` with `imageUser`, each container's image
    /// user as `users` says (image name -> USER).
    fn judge(pod: Value, users: &[(&str, &str)]) -> Option<String> {
        let settings =
            Settings::from_value(&json!({"level": "privileged", "imageUser": {}})).unwrap();
        let policy = Policy::new(settings);
        let mut pod = crate::pod::read_test_pod(&pod).unwrap();
        for c in &mut pod.containers {
            if let Some((image, user)) = users.iter().find(|(image, _)| *image == c.image) {
                c.effective.image_user = Some(Rc::new(ImageUser::parse(image, user)));
            }
        }
        policy.evaluate(&pod).rejection
    }

    fn pod(pod_sc: Value, container_sc: Value) -> Value {
        json!({"spec": {"securityContext": pod_sc, "containers": [
            {"name": "app", "image": "example/app", "securityContext": container_sc}
        ]}})
    }

    #[test]
    fn a_root_image_under_run_as_non_root_is_refused() {
        let m = judge(
            pod(json!({"runAsNonRoot": true}), json!({})),
            &[("example/app", "")],
        )
        .expect("rejected");
        assert!(m.contains("container \"app\" sets runAsNonRoot=true but image \"example/app\" (no USER, so root) runs as root"), "{m}");
        assert!(
            m.contains("container has runAsNonRoot and image will run as root"),
            "{m}"
        );
        let m = judge(
            pod(json!({}), json!({"runAsNonRoot": true})),
            &[("example/app", "0:0")],
        )
        .expect("rejected");
        assert!(m.contains("(USER \"0:0\") runs as root"), "{m}");
    }

    #[test]
    fn a_named_user_cannot_be_verified() {
        let m = judge(
            pod(json!({"runAsNonRoot": true}), json!({})),
            &[("example/app", "nginx")],
        )
        .expect("rejected");
        assert!(m.contains("names the user \"nginx\", not a uid"), "{m}");
        let m = judge(
            pod(json!({"runAsNonRoot": true}), json!({})),
            &[("example/app", "4294967296")],
        )
        .expect("rejected");
        assert!(m.contains("is not a valid uid"), "{m}");
    }

    #[test]
    fn a_numeric_non_root_user_or_a_manifest_uid_is_fine() {
        for user in ["1001", "1001:1001", "65532:staff"] {
            assert_eq!(
                judge(
                    pod(json!({"runAsNonRoot": true}), json!({})),
                    &[("example/app", user)]
                ),
                None,
                "{user}"
            );
        }
        // The container's runAsUser overrides the image's user...
        assert_eq!(
            judge(
                pod(json!({"runAsNonRoot": true}), json!({"runAsUser": 1000})),
                &[("example/app", "")]
            ),
            None
        );
        // ...and so does the pod's.
        assert_eq!(
            judge(
                pod(json!({"runAsNonRoot": true, "runAsUser": 1000}), json!({})),
                &[("example/app", "")]
            ),
            None
        );
        // Without runAsNonRoot the kubelet does not object to a root image.
        assert_eq!(
            judge(pod(json!({}), json!({})), &[("example/app", "")]),
            None
        );
        // A container overriding the pod's runAsNonRoot with false is not verified either.
        assert_eq!(
            judge(
                pod(
                    json!({"runAsNonRoot": true}),
                    json!({"runAsNonRoot": false})
                ),
                &[("example/app", "")]
            ),
            None
        );
        // Not looked up (or the lookup failed with onError: accept): nothing to judge.
        assert_eq!(
            judge(pod(json!({"runAsNonRoot": true}), json!({})), &[]),
            None
        );
    }

    #[test]
    fn an_explicit_run_as_user_zero_is_refused_without_a_lookup() {
        let m = judge(
            pod(json!({"runAsNonRoot": true}), json!({"runAsUser": 0})),
            &[],
        )
        .expect("rejected");
        assert!(m.contains("sets runAsNonRoot=true and runAsUser=0"), "{m}");
    }

    #[test]
    fn init_and_ephemeral_containers_are_judged_and_windows_pods_are_not() {
        let spec = json!({"securityContext": {"runAsNonRoot": true},
            "initContainers": [{"name": "init", "image": "root/init"}],
            "containers": [{"name": "app", "image": "ok/app"}],
            "ephemeralContainers": [{"name": "debug", "image": "root/debug"}]});
        let users = [
            ("root/init", ""),
            ("ok/app", "1000"),
            ("root/debug", "root"),
        ];
        let m = judge(json!({"spec": spec}), &users).expect("rejected");
        assert!(
            m.contains("container \"init\"") && m.contains("container \"debug\""),
            "{m}"
        );
        assert!(!m.contains("container \"app\""), "{m}");
        let mut windows = spec.clone();
        windows["os"] = json!({"name": "windows"});
        assert_eq!(judge(json!({"spec": windows}), &users), None);
    }

    #[test]
    fn on_error_is_reject_unless_accept() {
        let s = |v: Value| Settings::from_value(&v).map(|s| s.constraints.image_user);
        assert_eq!(
            s(json!({"imageUser": {}})).unwrap().unwrap().on_error,
            OnImageError::Reject
        );
        assert_eq!(
            s(json!({"imageUser": {"onError": "accept"}}))
                .unwrap()
                .unwrap()
                .on_error,
            OnImageError::Accept
        );
        let err = s(json!({"imageUser": {"onError": "ignore"}})).unwrap_err();
        assert!(err.contains("unknown variant `ignore`"), "{err}");
        let err = s(json!({"imageUser": {"onErrors": "accept"}})).unwrap_err();
        assert!(err.contains("unknown field `onErrors`"), "{err}");
    }
}
