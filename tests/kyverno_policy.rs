//! `kyvernoPolicy` and `kyvernoPolicyExceptions`: a Kyverno podSecurity policy pasted as it is
//! decides as PSA with its exclusions would, and what cannot be translated is refused by name.

mod support;

use security_context_policy::admission::{validate, Decision};
use security_context_policy::settings::Settings;
use serde_json::{json, Value};
use support::validation_payload;

fn cluster_policy(action: &str, pod_security: Value, exclude: Option<Value>) -> Value {
    let mut rule = json!({
        "name": "pod-security",
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "validate": {"podSecurity": pod_security},
    });
    if let Some(exclude) = exclude {
        rule["exclude"] = exclude;
    }
    json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
        "metadata": {"name": "psa"},
        "spec": {"validationFailureAction": action, "background": true, "rules": [rule]}})
}

fn pod(spec: Value) -> Value {
    support::pod_request(&json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"}, "spec": spec}))
}

/// A Pod with a privileged container, requested in `namespace`.
fn privileged_in(namespace: &str) -> Value {
    let mut request = pod(json!({"containers": [{"name": "a", "image": "x",
        "securityContext": {"privileged": true}}]}));
    request["namespace"] = json!(namespace);
    request
}

fn decide(request: &Value, settings: &Value) -> Decision {
    validate(&validation_payload(request, settings))
}

fn rejection(request: &Value, settings: &Value) -> Option<String> {
    match decide(request, settings) {
        Decision::Accept { .. } => None,
        Decision::Reject { message, .. } => Some(message),
    }
}

fn refusal(settings: Value) -> String {
    Settings::from_value(&settings).unwrap_err()
}

fn baseline_with_exclusions(exclude: Value) -> Value {
    json!({"kyvernoPolicy": cluster_policy("Enforce",
        json!({"level": "baseline", "version": "latest", "exclude": exclude}), None)})
}

#[test]
fn without_exclusions_every_conformance_fixture_decides_as_psa() {
    let Some(dir) = support::conformance_dir() else {
        eprintln!("skipped: conformance fixtures not found (set PSA_CONFORMANCE_DIR)");
        return;
    };
    let mut compared = 0;
    for fixture in support::load_fixtures(&dir) {
        let native = json!({"level": fixture.level, "version": fixture.version});
        let kyverno = json!({"kyvernoPolicy": cluster_policy("Enforce",
            json!({"level": fixture.level, "version": fixture.version}), None)});
        let request = support::pod_request(&fixture.pod);
        let expected = decide(&request, &native);
        assert_eq!(
            matches!(expected, Decision::Accept { .. }),
            fixture.expect_allow,
            "{}",
            fixture.path
        );
        assert_eq!(decide(&request, &kyverno), expected, "{}", fixture.path);
        compared += 1;
    }
    assert_eq!(compared, 4537);
}

#[test]
fn a_value_exclusion_covers_that_value_in_those_containers_only() {
    let settings = baseline_with_exclusions(json!([{
        "controlName": "Capabilities",
        "images": ["registry.example.com/vpn*"],
        "restrictedField": "spec.containers[*].securityContext.capabilities.add",
        "values": ["NET_ADMIN"]}]));
    let adding = |image: &str, caps: &[&str], init: bool| {
        let container = json!({"name": "c", "image": image,
            "securityContext": {"capabilities": {"add": caps}}});
        let list = if init { "initContainers" } else { "containers" };
        let mut spec =
            json!({"containers": [{"name": "app", "image": "registry.example.com/app:1"}]});
        if init {
            spec[list] = json!([container]);
        } else {
            spec[list].as_array_mut().unwrap().push(container);
        }
        pod(spec)
    };
    // The value, in a container of the image: admitted.
    assert_eq!(
        rejection(
            &adding("registry.example.com/vpn:2", &["NET_ADMIN"], false),
            &settings
        ),
        None
    );
    // Another value of the field in the same container.
    assert!(rejection(
        &adding(
            "registry.example.com/vpn:2",
            &["NET_ADMIN", "SYS_ADMIN"],
            false
        ),
        &settings
    )
    .unwrap()
    .contains("must not include \"SYS_ADMIN\""));
    // The value in a container of another image.
    assert!(rejection(
        &adding("registry.example.com/web:1", &["NET_ADMIN"], false),
        &settings
    )
    .unwrap()
    .contains("must not include \"NET_ADMIN\""));
    // The value in an init container of the image: the field named spec.containers.
    assert!(rejection(
        &adding("registry.example.com/vpn:2", &["NET_ADMIN"], true),
        &settings
    )
    .unwrap()
    .contains("must not include \"NET_ADMIN\""));
}

#[test]
fn a_control_exclusion_covers_its_checks_for_the_images_or_the_pod() {
    let host_pod = pod(
        json!({"hostNetwork": true, "containers": [{"name": "a", "image": "x",
        "securityContext": {"privileged": true}}]}),
    );
    let settings = baseline_with_exclusions(json!([{"controlName": "Host Namespaces"}]));
    assert_eq!(
        rejection(&host_pod, &settings).unwrap(),
        "violates PodSecurity \"baseline:latest\": privileged (container \"a\" must not set securityContext.privileged=true)"
    );
    let settings = baseline_with_exclusions(json!([
        {"controlName": "Host Namespaces"},
        {"controlName": "Privileged Containers", "images": ["x"],
         "restrictedField": "spec.containers[*].securityContext.privileged", "values": ["true"]}]));
    assert_eq!(rejection(&host_pod, &settings), None);
}

#[test]
fn the_rule_s_exclude_exempts_namespaces_and_subjects() {
    let privileged = pod(json!({"containers": [{"name": "a", "image": "x",
        "securityContext": {"privileged": true}}]}));
    let settings = json!({"kyvernoPolicy": cluster_policy("Enforce", json!({"level": "baseline"}),
        Some(json!({"any": [
            {"resources": {"namespaces": ["kube-system"]}},
            {"subjects": [{"kind": "ServiceAccount", "name": "installer", "namespace": "ops"}]}]})))});
    // In default, by user tester: rejected.
    assert!(rejection(&privileged, &settings).is_some());
    let mut in_kube_system = privileged.clone();
    in_kube_system["namespace"] = json!("kube-system");
    assert_eq!(rejection(&in_kube_system, &settings), None);
    let mut by_installer = privileged.clone();
    by_installer["userInfo"] = json!({"username": "system:serviceaccount:ops:installer"});
    assert_eq!(rejection(&by_installer, &settings), None);
}

#[test]
fn audit_admits_and_reports() {
    let settings = json!({"kyvernoPolicy": cluster_policy("Audit", json!({"level": "restricted", "version": "v1.30"}), None)});
    let privileged = pod(json!({"containers": [{"name": "a", "image": "x",
        "securityContext": {"privileged": true}}]}));
    let outcome = security_context_policy::admission::validate_with(
        &validation_payload(&privileged, &settings),
        &security_context_policy::context::NoContext,
    );
    assert!(matches!(outcome.decision, Decision::Accept { .. }));
    assert!(outcome.audit_annotations["audit-violations"]
        .starts_with("would violate PodSecurity \"restricted:v1.30\": privileged"));
    // failureAction on the rule, as Kyverno 1.13 writes it, says the same.
    let mut policy = cluster_policy("Enforce", json!({"level": "restricted"}), None);
    policy["spec"]
        .as_object_mut()
        .unwrap()
        .remove("validationFailureAction");
    policy["spec"]["rules"][0]["validate"]["failureAction"] = json!("Audit");
    let outcome = security_context_policy::admission::validate_with(
        &validation_payload(&privileged, &json!({"kyvernoPolicy": policy})),
        &security_context_policy::context::NoContext,
    );
    assert!(matches!(outcome.decision, Decision::Accept { .. }));
}

#[test]
fn a_pod_security_block_alone_is_enough() {
    let settings = json!({"kyvernoPolicy": {"level": "baseline", "version": "v1.30",
        "exclude": [{"controlName": "Sysctls", "restrictedField": "spec.securityContext.sysctls[*].name", "values": ["kernel.msgmax"]}]}});
    let sysctls = |names: &[&str]| {
        let sysctls: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "value": "1"}))
            .collect();
        pod(
            json!({"securityContext": {"sysctls": sysctls}, "containers": [{"name": "a", "image": "x"}]}),
        )
    };
    assert_eq!(rejection(&sysctls(&["kernel.msgmax"]), &settings), None);
    assert_eq!(
        rejection(&sysctls(&["kernel.msgmax", "kernel.sem"]), &settings).unwrap(),
        "violates PodSecurity \"baseline:v1.30\": forbidden sysctls (kernel.sem)"
    );
}

#[test]
fn policy_exceptions_for_this_policy_become_exemptions_where_they_match() {
    let exception = |policy: &str| {
        json!({"apiVersion": "kyverno.io/v2", "kind": "PolicyException",
            "metadata": {"name": "agents", "namespace": "kyverno"},
            "spec": {"exceptions": [{"policyName": policy, "ruleNames": ["pod-security"]}],
                "match": {"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["monitoring"]}}]},
                "podSecurity": [{"controlName": "Host Namespaces"}, {"controlName": "Host Ports",
                    "images": ["node-exporter*"], "restrictedField": "spec.containers[*].ports[*].hostPort",
                    "values": ["9100"]}]}})
    };
    let agent = |namespace: &str| {
        let mut request = pod(
            json!({"hostNetwork": true, "containers": [{"name": "exporter",
            "image": "node-exporter:1", "ports": [{"containerPort": 9100, "hostPort": 9100}]}]}),
        );
        request["namespace"] = json!(namespace);
        request
    };
    let settings = |policy: &str| {
        json!({"kyvernoPolicy": cluster_policy("Enforce", json!({"level": "baseline"}), None),
            "kyvernoPolicyExceptions": [exception(policy)]})
    };
    assert_eq!(rejection(&agent("monitoring"), &settings("psa")), None);
    assert!(rejection(&agent("default"), &settings("psa")).is_some());
    // An exception to another policy is not this one's.
    assert!(rejection(&agent("monitoring"), &settings("other")).is_some());
}

#[test]
fn what_cannot_be_translated_is_refused_by_name() {
    let with_rule = |rule: Value| {
        json!({"kyvernoPolicy": {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "p"}, "spec": {"rules": [rule]}}})
    };
    for (settings, expected) in [
        (
            with_rule(json!({"name": "m", "mutate": {"patchStrategicMerge": {}}})),
            "spec.rules[0] (\"m\") is a mutate rule; only validate.podSecurity rules can be translated",
        ),
        (
            with_rule(json!({"name": "v", "validate": {"pattern": {}}})),
            "spec.rules[0] (\"v\") validates without podSecurity",
        ),
        (
            with_rule(json!({"name": "s", "match": {"any": [{"resources": {"kinds": ["Pod"], "selector": {}}}]},
                "validate": {"podSecurity": {"level": "baseline"}}})),
            "spec.rules[0] (\"s\").match[0].resources.selector cannot be translated",
        ),
        (
            with_rule(json!({"name": "k", "match": {"any": [{"resources": {"kinds": ["Service"]}}]},
                "validate": {"podSecurity": {"level": "baseline"}}})),
            "\"Service\" carries no pod",
        ),
        (
            with_rule(json!({"name": "p", "preconditions": {}, "validate": {"podSecurity": {"level": "baseline"}}})),
            "spec.rules[0] (\"p\").preconditions cannot be translated",
        ),
        (
            baseline_with_exclusions(json!([{"controlName": "Host Namespaces", "images": ["x"]}])),
            "\"Host Namespaces\" is a pod-level control: its exclusion cannot name images",
        ),
        (
            baseline_with_exclusions(json!([{"controlName": "Host Network"}])),
            "podSecurity.exclude[0]: unknown controlName \"Host Network\"",
        ),
        (
            baseline_with_exclusions(json!([{"controlName": "SELinux", "images": ["*"],
                "restrictedField": "spec.containers[*].securityContext.seLinuxOptions.user", "values": ["u"]}])),
            "restrictedField \"spec.containers[*].securityContext.seLinuxOptions.user\" cannot be translated",
        ),
        (
            baseline_with_exclusions(json!([{"controlName": "Privileged Containers", "images": ["*"],
                "restrictedField": "spec.containers[*].securityContext.privileged", "values": ["false"]}])),
            "values must be [\"true\"]",
        ),
        (
            baseline_with_exclusions(json!([{"controlName": "Capabilities", "restrictedField":
                "spec.containers[*].securityContext.capabilities.add"}])),
            "restrictedField and values go together",
        ),
        (
            json!({"level": "baseline", "kyvernoPolicy": {"level": "restricted"}}),
            "`level` is set both directly and by kyvernoPolicy",
        ),
        (
            json!({"kyvernoPolicyExceptions": [{"kind": "PolicyException", "spec": {}}]}),
            "kyvernoPolicyExceptions needs kyvernoPolicy",
        ),
        (
            json!({"kyvernoPolicy": {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
                "metadata": {"name": "p"}, "spec": {"rules": [], "generateExisting": true}}}),
            "spec.generateExisting cannot be translated",
        ),
    ] {
        let error = refusal(settings);
        assert!(error.contains(expected), "{error}\n  expected: {expected}");
    }
}

#[test]
fn native_exemptions_and_the_translated_ones_both_count() {
    let settings = json!({"exemptions": [{"checks": ["privileged"]}],
        "kyvernoPolicy": {"level": "baseline", "exclude": [{"controlName": "Host Namespaces"}]}});
    let request = pod(
        json!({"hostPID": true, "containers": [{"name": "a", "image": "x",
        "securityContext": {"privileged": true}}]}),
    );
    assert_eq!(rejection(&request, &settings), None);
}

/// The example of docs/migrating-from-kyverno.md (once the README's).
#[test]
fn the_readme_example_translates_as_the_readme_says() {
    let policy: Value = serde_yaml::from_str(
        r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: psa-baseline}
spec:
  validationFailureAction: Enforce
  background: true
  rules:
    - name: baseline
      match: {any: [{resources: {kinds: [Pod]}}]}
      exclude: {any: [{resources: {namespaces: [kube-system]}}]}
      validate:
        podSecurity:
          level: baseline
          version: v1.30
          exclude:
            - controlName: Capabilities
              images: ["ghcr.io/example/vpn*"]
              restrictedField: spec.containers[*].securityContext.capabilities.add
              values: [NET_ADMIN]
            - controlName: Host Namespaces
"#,
    )
    .unwrap();
    let every_check = security_context_policy::checks::registry::known_ids();
    let translated: serde_json::Map<String, Value> =
        security_context_policy::kyverno_policy::translate(&policy, None)
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(
        Value::Object(translated),
        json!({
            "level": "baseline",
            "version": "v1.30",
            "exemptions": [
                {"checks": every_check, "namespaces": ["kube-system"]},
                {"checks": ["capabilities_baseline", "capabilities_restricted"],
                 "images": ["ghcr.io/example/vpn*"], "containerKinds": ["containers"],
                 "values": {"capabilities.add": ["NET_ADMIN"]}},
                {"checks": ["hostNamespaces"]},
            ],
        })
    );
}

#[test]
fn an_exception_that_matches_kinds_only_applies_to_every_pod() {
    let exception = json!({"kind": "PolicyException", "spec": {
        "exceptions": [{"policyName": "psa", "ruleNames": ["pod-security"]}],
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "podSecurity": [{"controlName": "Privileged Containers"}]}});
    let settings = json!({"kyvernoPolicy": cluster_policy("Enforce", json!({"level": "baseline"}), None),
        "kyvernoPolicyExceptions": [exception]});
    let privileged = pod(json!({"containers": [{"name": "a", "image": "x",
        "securityContext": {"privileged": true}}]}));
    assert_eq!(rejection(&privileged, &settings), None);
    // In the policy's own exclude, a filter on kinds alone would turn the rule off: refused.
    let settings = json!({"kyvernoPolicy": cluster_policy("Enforce", json!({"level": "baseline"}),
        Some(json!({"any": [{"resources": {"kinds": ["Pod"]}}]})))});
    assert!(refusal(settings)
        .contains("a filter that selects no namespace or subject cannot be translated"));
}

#[test]
fn the_rule_s_match_on_namespaces_and_subjects_limits_where_it_applies() {
    let mut policy = cluster_policy("Enforce", json!({"level": "baseline"}), None);
    policy["spec"]["rules"][0]["match"] =
        json!({"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["team-*"]}}]});
    let settings = json!({"kyvernoPolicy": policy});
    assert!(rejection(&privileged_in("team-a"), &settings).is_some());
    assert_eq!(rejection(&privileged_in("default"), &settings), None);
    // Namespaces and a subject in one filter: both must match for the rule to apply.
    let mut policy = cluster_policy("Enforce", json!({"level": "baseline"}), None);
    policy["spec"]["rules"][0]["match"] = json!({"all": [
        {"resources": {"kinds": ["Pod"], "namespaces": ["team-a"]}},
        {"subjects": [{"kind": "Group", "name": "developers"}]}]});
    let settings = json!({"kyvernoPolicy": policy});
    let mut by_developer = privileged_in("team-a");
    by_developer["userInfo"] = json!({"username": "dana", "groups": ["developers"]});
    assert!(rejection(&by_developer, &settings).is_some());
    // tester, not a developer: outside the match.
    assert_eq!(rejection(&privileged_in("team-a"), &settings), None);
    // Several filters of any would need one exemption per negated filter: refused.
    let mut policy = cluster_policy("Enforce", json!({"level": "baseline"}), None);
    policy["spec"]["rules"][0]["match"] = json!({"any": [
        {"resources": {"namespaces": ["a"]}}, {"resources": {"namespaces": ["b"]}}]});
    assert!(refusal(json!({"kyvernoPolicy": policy})).contains("several filters of any"));
}

#[test]
fn an_outside_exemption_needs_a_selector() {
    let error = refusal(json!({"exemptions": [{"checks": ["privileged"], "outside": true}]}));
    assert!(
        error.contains("exemptions[0].outside needs a who or where selector"),
        "{error}"
    );
}

#[test]
fn a_namespaced_policy_judges_its_own_namespace_only() {
    let mut policy = cluster_policy("Enforce", json!({"level": "baseline"}), None);
    policy["kind"] = json!("Policy");
    policy["metadata"]["namespace"] = json!("team-a");
    let settings = json!({"kyvernoPolicy": policy});
    assert!(rejection(&privileged_in("team-a"), &settings).is_some());
    assert_eq!(rejection(&privileged_in("team-b"), &settings), None);
}
