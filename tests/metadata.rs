//! metadata.yml, artifacthub-pkg.yml and the example ClusterAdmissionPolicy must agree with each
//! other and with the kinds the policy evaluates.

use serde::Deserialize;
use serde_json::{json, Value};
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

/// `Name <email>, Name <email>`: the author annotation as kwctl reads it (RFC 5322 addresses),
/// split into (name, email). `None` when an entry is not in that form.
fn authors(annotation: &str) -> Option<Vec<(String, String)>> {
    annotation
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, rest) = entry.split_once('<')?;
            let email = rest.strip_suffix('>')?;
            let (local, domain) = email.split_once('@')?;
            let plain = |s: &str| {
                !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || "<>,@".contains(c))
            };
            (plain(local) && plain(domain) && domain.contains('.') && !name.trim().is_empty())
                .then(|| (name.trim().to_string(), email.to_string()))
        })
        .collect::<Option<Vec<_>>>()
        .filter(|list| !list.is_empty())
}

#[test]
fn the_author_annotation_is_in_the_form_kwctl_accepts() {
    let metadata = yaml("metadata.yml");
    let author = metadata["annotations"]["io.kubewarden.policy.author"]
        .as_str()
        .unwrap();
    assert!(
        authors(author).is_some(),
        "{author:?} is not `Name <email>, ...`"
    );
    // The parser itself refuses what kwctl refuses.
    assert!(authors("security-context-policy developers").is_none());
    assert!(authors("Foo foo@example.com, Bar <bar@example.com>").is_none());
    assert!(authors("Bar <#$%>").is_none());
    assert!(authors("").is_none());
    assert_eq!(
        authors("Tux Tuxedo <tux@example.com>, Pidgin <pidgin@example.com>").unwrap(),
        [
            ("Tux Tuxedo".to_string(), "tux@example.com".to_string()),
            ("Pidgin".to_string(), "pidgin@example.com".to_string())
        ]
    );
}

/// A rule with the fields in the order kwctl's (policy-evaluator's) `Rule` serialises them.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct KwctlRule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
}

/// artifacthub-pkg.yml is what `kwctl scaffold artifacthub --metadata-path metadata.yml
/// --questions-path questions-ui.yml` writes, apart from `createdAt`: every field kwctl derives
/// is derived here the same way from metadata.yml and questions-ui.yml and compared.
#[test]
fn artifacthub_package_is_what_kwctl_generates_from_metadata_and_questions() {
    let metadata = yaml("metadata.yml");
    let package = yaml("artifacthub-pkg.yml");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let questions = std::fs::read_to_string(root.join("questions-ui.yml")).unwrap();
    let a = |key: &str| -> String {
        metadata["annotations"][key]
            .as_str()
            .unwrap_or_else(|| panic!("metadata.yml lacks annotation {key}"))
            .to_string()
    };
    let version = a("io.kubewarden.policy.version");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert_eq!(package["version"], json!(version));
    assert_eq!(package["name"], json!(a("io.kubewarden.policy.title")));
    assert_eq!(
        package["displayName"],
        json!(a("io.artifacthub.displayName"))
    );
    assert_eq!(
        package["description"],
        json!(a("io.kubewarden.policy.description"))
    );
    assert_eq!(package["license"], json!(a("io.kubewarden.policy.license")));
    assert_eq!(package["homeURL"], json!(a("io.kubewarden.policy.url")));
    assert_eq!(
        package["containersImages"],
        json!([{"name": "policy", "image": format!("{}:v{version}", a("io.kubewarden.policy.ociUrl"))}])
    );
    let keywords: Vec<String> = a("io.artifacthub.keywords")
        .split(',')
        .map(|k| k.trim().to_string())
        .collect();
    assert!(keywords.iter().all(|k| !k.is_empty()), "empty keyword");
    assert_eq!(package["keywords"], json!(keywords));
    // kwctl links the released policy.wasm only for sources on github.com.
    let source = a("io.kubewarden.policy.source");
    let links = if source.starts_with("https://github.com/") {
        json!([
            {"name": "policy", "url": format!("{source}/releases/download/v{version}/policy.wasm")},
            {"name": "source", "url": source}
        ])
    } else {
        json!([{"name": "source", "url": source}])
    };
    assert_eq!(package["links"], links);
    let maintainers: Vec<Value> = authors(&a("io.kubewarden.policy.author"))
        .unwrap()
        .into_iter()
        .map(|(name, email)| json!({"name": name, "email": email}))
        .collect();
    assert_eq!(package["maintainers"], json!(maintainers));
    assert_eq!(package["provider"], json!({"name": "kubewarden"}));
    assert_eq!(
        package["recommendations"],
        json!([{"url": "https://artifacthub.io/packages/helm/kubewarden/kubewarden-controller"}])
    );
    let created = package["createdAt"].as_str().unwrap();
    assert!(
        created.len() >= 20 && created.as_bytes()[10] == b'T',
        "createdAt is RFC 3339: {created}"
    );

    // The annotations kwctl writes, and no others.
    let rules: Vec<KwctlRule> = serde_json::from_value(metadata["rules"].clone()).unwrap();
    let mut expected = json!({
        "kubewarden/mutation": metadata["mutating"].as_bool().unwrap().to_string(),
        "kubewarden/rules": serde_yaml::to_string(&rules).unwrap(),
        "kubewarden/questions-ui": questions,
        "kubewarden/resources": a("io.artifacthub.resources"),
    });
    if let Some(resources) = metadata["contextAwareResources"]
        .as_array()
        .filter(|r| !r.is_empty())
    {
        // kwctl keeps them in a set ordered by apiVersion, then kind.
        let mut resources = resources.clone();
        resources.sort_by_key(|r| (r["apiVersion"].to_string(), r["kind"].to_string()));
        resources.dedup();
        expected["kubewarden/contextAwareResources"] =
            json!(serde_yaml::to_string(&resources).unwrap());
    }
    if let Some(hidden) = metadata["annotations"]["io.kubewarden.hidden-ui"].as_str() {
        expected["kubewarden/hidden-ui"] = json!(hidden);
    }
    assert_eq!(
        package["annotations"], expected,
        "artifacthub-pkg.yml is out of step with metadata.yml or questions-ui.yml (the \
         kubewarden/questions-ui annotation is questions-ui.yml verbatim): regenerate it with \
         `kwctl scaffold artifacthub --metadata-path metadata.yml --questions-path \
         questions-ui.yml > artifacthub-pkg.yml`"
    );

    // Nothing kwctl would not write (a hand-kept `install` or `readme`, ...).
    let mut keys: Vec<&str> = package
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "annotations",
            "containersImages",
            "createdAt",
            "description",
            "displayName",
            "homeURL",
            "keywords",
            "license",
            "links",
            "maintainers",
            "name",
            "provider",
            "recommendations",
            "version"
        ]
    );
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
    let mut keys = security_context_policy::settings::BASE_KEYS.to_vec();
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
