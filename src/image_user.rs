//! The image users of a request, asked of the host only for the containers some rule judges by
//! their image's `USER`, each distinct image once, in sorted order: the same request always
//! makes the same host calls, so a recorded session replays. Reading the answer is
//! `image_config.rs`.

use crate::constraints::image_user::{needs_image_user, OnImageError, ID as IMAGE_USER};
use crate::constraints::{GroupRule, UserRule};
use crate::context::ClusterContext;
use crate::image_config::ImageUser;
use crate::pod::{Container, Pod};
use crate::policy::Policy;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The image users of one request, each distinct image asked of the host at most once: the
/// same image in several containers, or in the object before and after mutation, is one lookup.
#[derive(Default)]
pub struct ImageUsers {
    looked_up: BTreeMap<String, Result<Rc<ImageUser>, String>>,
}

/// What looking up image users decided beyond the policy's own verdict.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LookupOutcome {
    /// `onError: reject` and an image whose user could not be read: the rejection.
    pub rejection: Option<String>,
    /// `onError: accept`: which images were not checked, and why.
    pub warnings: Vec<String>,
}

impl ImageUsers {
    /// Records in each container's effective security context the user its image runs as,
    /// for the containers some configured rule needs it for (and only when the `imageUser`
    /// setting is on): the kubelet's runAsNonRoot verification, and the runAsUser and runAsGroup
    /// constraints for a container whose manifest sets no id. Nothing is asked otherwise.
    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn attach(
        &mut self,
        policy: &Policy,
        pod: &mut Pod<'_>,
        context: &dyn ClusterContext,
    ) -> LookupOutcome {
        let mut outcome = LookupOutcome::default();
        let Some(setting) = policy.constraints().image_user else {
            return outcome;
        };
        if pod.is_windows() {
            return outcome;
        }
        // Each image once, in sorted order, whatever order the containers list them in.
        let mut wanted: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, container) in pod.containers.iter().enumerate() {
            if needs_lookup(policy, pod, container) {
                wanted.entry(container.image).or_default().push(i);
            }
        }
        for (image, containers) in wanted {
            let found = self
                .looked_up
                .entry(image.to_string())
                .or_insert_with(|| {
                    context
                        .image_config(image)
                        .map_err(|e| e.to_string())
                        .and_then(|answer| {
                            ImageUser::from_manifest_and_config(image, &answer).map_err(|e| {
                                format!("cannot read the configuration of image \"{image}\": {e}")
                            })
                        })
                        .map(Rc::new)
                })
                .clone();
            for i in containers {
                let container = &mut pod.containers[i];
                match &found {
                    Ok(user) => container.effective.image_user = Some(user.clone()),
                    Err(error) => {
                        let subject = format!(
                            "the user of image \"{image}\" (container \"{}\")",
                            container.name
                        );
                        match setting.on_error {
                            // The request is rejected: asking about more images changes nothing.
                            OnImageError::Reject => {
                                outcome.rejection = Some(format!(
                                    "PodSecurity \"{}\" cannot check {subject}, so it rejects the request (imageUser.onError: reject): {error}",
                                    policy.label()
                                ));
                                return outcome;
                            }
                            OnImageError::Accept => outcome.warnings.push(format!(
                                "{subject} was not checked (imageUser.onError: accept): {error}"
                            )),
                        }
                    }
                }
            }
        }
        outcome
    }
}

/// Whether some enforced rule judges this container by its image's user: the manifest leaves
/// the id unset and the rule applies to the container.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn needs_lookup(policy: &Policy, pod: &Pod<'_>, c: &Container<'_>) -> bool {
    let applies = |rule: &str| policy.enforces(rule) && !policy.exempts(rule, c);
    let constraints = policy.constraints();
    let sc = &c.effective.common;
    (needs_image_user(pod, c) && applies(IMAGE_USER))
        || (sc.run_as_user.is_none()
            && constraints
                .run_as_user
                .as_ref()
                .is_some_and(|s| s.rule != UserRule::RunAsAny)
            && applies("runAsUserConstraint"))
        || (sc.run_as_group.is_none()
            && constraints
                .run_as_group
                .as_ref()
                .is_some_and(|s| s.rule != GroupRule::RunAsAny)
            && applies("runAsGroupConstraint"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Answers image configurations from a table and counts the questions.
    struct Registry {
        users: Vec<(&'static str, Result<&'static str, &'static str>)>,
        asked: std::cell::RefCell<Vec<String>>,
    }

    impl crate::context::ClusterContext for Registry {
        fn namespace(&self, _: &str) -> Result<Value, crate::context::ContextError> {
            unreachable!("not asked by image lookups")
        }
        fn pods_in_namespace(&self, _: &str) -> Result<Vec<Value>, crate::context::ContextError> {
            unreachable!("not asked by image lookups")
        }
        fn can_i(
            &self,
            _: &crate::context::AccessReview,
        ) -> Result<bool, crate::context::ContextError> {
            unreachable!("not asked by image lookups")
        }
        fn image_config(&self, image: &str) -> Result<Value, crate::context::ContextError> {
            self.asked.borrow_mut().push(image.to_string());
            match self.users.iter().find(|(i, _)| *i == image) {
                Some((_, Ok(user))) => Ok(
                    json!({"manifest": {}, "digest": "sha256:0", "config": {"config": {"User": user}}}),
                ),
                Some((_, Err(e))) => Err(crate::context::ContextError::new(
                    format!("the configuration of image \"{image}\""),
                    *e,
                )),
                None => Err(crate::context::ContextError::new(
                    format!("the configuration of image \"{image}\""),
                    "not found",
                )),
            }
        }
    }

    fn registry(users: Vec<(&'static str, Result<&'static str, &'static str>)>) -> Registry {
        Registry {
            users,
            asked: Default::default(),
        }
    }

    fn policy(settings: Value) -> crate::policy::Policy {
        crate::policy::Policy::new(crate::settings::Settings::from_value(&settings).unwrap())
    }

    #[test]
    fn each_image_is_asked_once_and_only_when_needed() {
        let policy = policy(json!({"level": "privileged", "imageUser": {}}));
        let spec = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [
            {"name": "a", "image": "app"},
            {"name": "b", "image": "app"},
            {"name": "pinned", "image": "pinned", "securityContext": {"runAsUser": 1000}},
            {"name": "relaxed", "image": "relaxed", "securityContext": {"runAsNonRoot": false}}
        ]}});
        let mut pod = crate::pod::read_test_pod(&spec).unwrap();
        let host = registry(vec![("app", Ok("1001"))]);
        let mut users = ImageUsers::default();
        assert_eq!(
            users.attach(&policy, &mut pod, &host),
            LookupOutcome::default()
        );
        assert_eq!(*host.asked.borrow(), ["app"]);
        assert_eq!(
            pod.containers[1].effective.run_as_user_or_image(),
            Some(1001)
        );
        assert_eq!(pod.containers[2].effective.image_user, None);
        // A second pass (the mutated object) asks nothing again.
        let mut again = crate::pod::read_test_pod(&spec).unwrap();
        users.attach(&policy, &mut again, &host);
        assert_eq!(host.asked.borrow().len(), 1);
        assert!(again.containers[0].effective.image_user.is_some());
    }

    #[test]
    fn nothing_is_asked_without_the_setting_or_for_windows_or_exempted_containers() {
        let spec = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a", "image": "app"}]}});
        let host = registry(vec![]);
        let mut pod = crate::pod::read_test_pod(&spec).unwrap();
        ImageUsers::default().attach(&policy(json!({"level": "restricted"})), &mut pod, &host);
        let exempted = policy(
            json!({"imageUser": {}, "exemptions": [{"checks": ["imageUserConstraint"], "images": ["app"]}]}),
        );
        ImageUsers::default().attach(&exempted, &mut pod, &host);
        let mut windows = spec.clone();
        windows["spec"]["os"] = json!({"name": "windows"});
        let mut windows = crate::pod::read_test_pod(&windows).unwrap();
        ImageUsers::default().attach(&policy(json!({"imageUser": {}})), &mut windows, &host);
        assert!(host.asked.borrow().is_empty());
    }

    #[test]
    fn id_constraints_ask_for_containers_without_ids() {
        let spec = json!({"spec": {"containers": [{"name": "a", "image": "app"}, {"name": "b", "image": "grouped", "securityContext": {"runAsUser": 5}}]}});
        let host = registry(vec![("app", Ok("0")), ("grouped", Ok("5:7"))]);
        let p = policy(json!({"level": "privileged", "imageUser": {},
            "runAsUser": {"rule": "MustRunAsNonRoot"},
            "runAsGroup": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 10}]}}));
        let mut pod = crate::pod::read_test_pod(&spec).unwrap();
        ImageUsers::default().attach(&p, &mut pod, &host);
        assert_eq!(*host.asked.borrow(), ["app", "grouped"]);
        assert_eq!(pod.containers[1].effective.run_as_group_or_image(), Some(7));
        assert_eq!(pod.containers[1].effective.run_as_user_or_image(), Some(5));
    }

    #[test]
    fn a_failed_lookup_rejects_or_warns_as_configured() {
        let spec = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a", "image": "private/app"}]}});
        let host = registry(vec![("private/app", Err("401 Unauthorized"))]);
        let mut pod = crate::pod::read_test_pod(&spec).unwrap();
        let out = ImageUsers::default().attach(&policy(json!({"imageUser": {}})), &mut pod, &host);
        let m = out.rejection.expect("rejected");
        assert!(
            m.contains("cannot check the user of image \"private/app\" (container \"a\")"),
            "{m}"
        );
        assert!(m.contains("401 Unauthorized"), "{m}");
        let out = ImageUsers::default().attach(
            &policy(json!({"imageUser": {"onError": "accept"}})),
            &mut pod,
            &host,
        );
        assert_eq!(out.rejection, None);
        assert!(
            out.warnings[0].contains("was not checked (imageUser.onError: accept)"),
            "{:?}",
            out.warnings
        );
        // A malformed answer is a failure too.
        let host = registry(vec![("private/app", Ok("x"))]);
        struct Malformed;
        impl crate::context::ClusterContext for Malformed {
            fn namespace(&self, _: &str) -> Result<Value, crate::context::ContextError> {
                unreachable!()
            }
            fn pods_in_namespace(
                &self,
                _: &str,
            ) -> Result<Vec<Value>, crate::context::ContextError> {
                unreachable!()
            }
            fn can_i(
                &self,
                _: &crate::context::AccessReview,
            ) -> Result<bool, crate::context::ContextError> {
                unreachable!()
            }
            fn image_config(&self, _: &str) -> Result<Value, crate::context::ContextError> {
                Ok(json!({"config": []}))
            }
        }
        drop(host);
        let out =
            ImageUsers::default().attach(&policy(json!({"imageUser": {}})), &mut pod, &Malformed);
        assert!(out.rejection.unwrap().contains("is not an object"));
    }

    /// The enforced rejection of a one-container pod whose image runs as `user`.
    fn judged_with_image(settings: Value, container_sc: Value, user: &str) -> Option<String> {
        let policy = policy(settings);
        let spec = json!({"spec": {"containers": [{"name": "app", "image": "img", "securityContext": container_sc}]}});
        let mut pod = crate::pod::read_test_pod(&spec).unwrap();
        let host = registry(vec![(
            "img",
            Ok(Box::leak(user.to_string().into_boxed_str())),
        )]);
        assert_eq!(
            ImageUsers::default().attach(&policy, &mut pod, &host),
            LookupOutcome::default()
        );
        policy.evaluate(&pod).rejection
    }

    #[test]
    fn id_constraints_judge_the_image_ids_and_say_so() {
        let must_run_as = json!({"level": "privileged", "imageUser": {}, "runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 2000}]}});
        let m = judged_with_image(must_run_as.clone(), json!({}), "0").expect("rejected");
        assert!(m.contains("must set securityContext.runAsUser within 1000-2000, got 0 (from image \"img\" (USER \"0\"); the manifest sets none)"), "{m}");
        assert_eq!(
            judged_with_image(must_run_as.clone(), json!({}), "1500:1500"),
            None
        );
        // The manifest's uid wins over the image's.
        assert_eq!(
            judged_with_image(must_run_as.clone(), json!({"runAsUser": 1001}), "0"),
            None
        );
        let m = judged_with_image(must_run_as, json!({}), "app").expect("rejected");
        assert!(
            m.contains("(image \"img\" (USER \"app\") gives no numeric id either)"),
            "{m}"
        );
        // MustRunAsNonRoot: the image's root uid is root, even with runAsNonRoot.
        let non_root = json!({"level": "privileged", "imageUser": {}, "runAsUser": {"rule": "MustRunAsNonRoot"}});
        assert!(judged_with_image(non_root.clone(), json!({}), "").is_some());
        assert_eq!(judged_with_image(non_root, json!({}), "1001"), None);
        // runAsGroup: the image's numeric group.
        let group = json!({"level": "privileged", "imageUser": {}, "runAsGroup": {"rule": "MayRunAs", "ranges": [{"min": 1000, "max": 2000}]}});
        let m = judged_with_image(group.clone(), json!({}), "1500:0").expect("rejected");
        assert!(
            m.contains("got 0 (from image \"img\" (USER \"1500:0\")"),
            "{m}"
        );
        assert_eq!(judged_with_image(group, json!({}), "1500"), None);
    }
}
