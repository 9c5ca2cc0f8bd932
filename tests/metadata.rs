//! metadata.yml, artifacthub-pkg.yml and the example ClusterAdmissionPolicy must agree with each
//! other and with the kinds the policy evaluates.

use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

fn yaml(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every (group, resource, operation) a rule list matches.
fn matched(rules: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for rule in rules.as_array().unwrap() {
        for g in rule["apiGroups"].as_array().unwrap() {
            for r in rule["resources"].as_array().unwrap() {
                for o in rule["operations"].as_array().unwrap() {
                    out.push((
                        g.as_str().unwrap().to_string(),
                        r.as_str().unwrap().to_string(),
                        o.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn metadata_covers_every_supported_kind_on_create_and_update() {
    let metadata = yaml("metadata.yml");
    let rules = matched(&metadata["rules"]);
    for (group, resource) in [
        ("", "pods"),
        ("", "pods/ephemeralcontainers"),
        ("", "replicationcontrollers"),
        ("", "podtemplates"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
    ] {
        for op in ["CREATE", "UPDATE"] {
            assert!(
                rules.contains(&(group.to_string(), resource.to_string(), op.to_string())),
                "{group}/{resource} {op}"
            );
        }
    }
    assert_eq!(metadata["executionMode"], "kubewarden-wapc");
    // The policy can mutate (with `mutate: true`); with `mutate: false` it never does.
    assert_eq!(metadata["mutating"], true);
    // Read through host capabilities, only when a decision needs them.
    let resources: Vec<(String, String)> = metadata["contextAwareResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["apiVersion"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for resource in [("v1", "Namespace"), ("v1", "Pod")] {
        assert!(
            resources.contains(&(resource.0.to_string(), resource.1.to_string())),
            "{resource:?} missing from contextAwareResources"
        );
    }
    for op in ["CREATE", "UPDATE"] {
        assert!(rules.contains(&("".to_string(), "namespaces".to_string(), op.to_string())));
    }
    assert_eq!(metadata["backgroundAudit"], true);
}

#[test]
fn artifacthub_package_agrees_with_metadata() {
    let metadata = yaml("metadata.yml");
    let package = yaml("artifacthub-pkg.yml");
    let annotations = &metadata["annotations"];
    assert_eq!(
        package["version"],
        annotations["io.kubewarden.policy.version"]
    );
    assert_eq!(
        package["version"].as_str().unwrap(),
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        package["license"],
        annotations["io.kubewarden.policy.license"]
    );
    assert_eq!(
        package["description"],
        annotations["io.kubewarden.policy.description"]
    );
    assert_eq!(
        package["displayName"],
        annotations["io.artifacthub.displayName"]
    );
    let pkg_annotations = &package["annotations"];
    assert_eq!(
        pkg_annotations["kubewarden/mutation"].as_str().unwrap(),
        metadata["mutating"].as_bool().unwrap().to_string()
    );
    assert_eq!(
        pkg_annotations["kubewarden/resources"],
        annotations["io.artifacthub.resources"]
    );
    let pkg_resources: Value = serde_yaml::from_str(
        pkg_annotations["kubewarden/contextAwareResources"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pkg_resources, metadata["contextAwareResources"]);
    let pkg_rules: Value =
        serde_yaml::from_str(pkg_annotations["kubewarden/rules"].as_str().unwrap()).unwrap();
    assert_eq!(matched(&pkg_rules), matched(&metadata["rules"]));
}

#[test]
fn example_policy_manifests_use_the_same_rules_and_valid_settings() {
    for file in [
        "deploy/cluster-admission-policy.yaml",
        "deploy/cluster-admission-policy-hardened.yaml",
        "deploy/cluster-admission-policy-profiles.yaml",
    ] {
        check_manifest(file);
    }
}

fn check_manifest(file: &str) {
    let metadata = yaml("metadata.yml");
    let manifest = yaml(file);
    assert_eq!(manifest["kind"], "ClusterAdmissionPolicy");
    assert_eq!(
        matched(&manifest["spec"]["rules"]),
        matched(&metadata["rules"])
    );
    // A policy whose settings mutate must be deployed as mutating.
    let mutates = manifest["spec"]["settings"]["mutate"] == true;
    assert!(!mutates || manifest["spec"]["mutating"] == true, "{file}");
    let settings = serde_json::to_vec(&manifest["spec"]["settings"]).unwrap();
    let answer = security_context_policy::validate_settings(&settings).unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["valid"], true, "{answer}");
}

#[test]
fn the_hardened_example_shows_every_setting() {
    let manifest = yaml("deploy/cluster-admission-policy-hardened.yaml");
    let settings = manifest["spec"]["settings"].as_object().unwrap();
    let mut keys = vec![
        "level",
        "version",
        "warn",
        "exemptions",
        "mutate",
        "audit",
        "namespaceLabels",
    ];
    keys.extend(security_context_policy::constraints::KEYS);
    for key in keys {
        assert!(settings.contains_key(key), "{key} missing from the example");
    }
}

#[test]
fn the_rbac_example_grants_the_example_profiles_as_the_policy_asks() {
    use security_context_policy::profiles;
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/profiles-rbac.yaml"),
    )
    .unwrap();
    let documents: Vec<Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap())
        .collect();
    let manifest = yaml("deploy/cluster-admission-policy-profiles.yaml");
    let names: Vec<&str> = manifest["spec"]["settings"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut granted = Vec::new();
    for role in documents.iter().filter(|d| d["kind"] == "ClusterRole") {
        for rule in role["rules"].as_array().unwrap() {
            if rule["apiGroups"][0] != profiles::API_GROUP {
                continue;
            }
            assert_eq!(rule["resources"], serde_json::json!([profiles::RESOURCE]));
            assert_eq!(rule["verbs"], serde_json::json!([profiles::VERB]));
            for name in rule["resourceNames"].as_array().unwrap() {
                let name = name.as_str().unwrap();
                assert!(names.contains(&name), "{name} is no profile of the example");
                granted.push(name.to_string());
            }
        }
    }
    assert!(!granted.is_empty());
    let binding = documents
        .iter()
        .find(|d| d["kind"] == "RoleBinding")
        .expect("a RoleBinding");
    assert_eq!(binding["subjects"][0]["kind"], "ServiceAccount");
}
