//! metadata.yml, artifacthub-pkg.yml and the deployment examples must agree with each other, with
//! the kinds the policy evaluates and with the host capabilities the module calls. Where a kwctl
//! (1.36 or later) is available, on PATH or as `../shared/kwctl/kwctl`, artifacthub-pkg.yml is
//! compared with what it generates and `kwctl annotate` must not warn; without one, the same
//! fields are derived here from metadata.yml and questions-ui.yml.

use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// artifacthub-pkg.yml is what kwctl 1.36's `scaffold artifacthub --metadata-path metadata.yml
/// --questions-path questions-ui.yml` writes, apart from `createdAt`: every field kwctl derives
/// is derived here the same way from metadata.yml and questions-ui.yml and compared, so this
/// holds on machines without kwctl too (where there is one, the next test asks it).
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
    let image = format!("{}:v{version}", a("io.kubewarden.policy.ociUrl"));
    assert_eq!(
        package["containersImages"],
        json!([{"name": "policy", "image": image}])
    );
    // kwctl 1.36 adds how to install the policy: pull the image, then scaffold a
    // ClusterAdmissionPolicy from it (whatever the policy).
    let install = [
        "The policy can be obtained using [kwctl](https://docs.kubewarden.io/howtos/install-kwctl):",
        "```console",
        &format!("kwctl pull {image}"),
        "```",
        "Then, generate the policy manifest and tune it to your liking. For example:",
        "```console",
        &format!("kwctl scaffold manifest -t ClusterAdmissionPolicy registry://{image}"),
        "```",
        "",
    ]
    .join("\n");
    assert_eq!(package["install"], json!(install));
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
         kubewarden/questions-ui annotation is questions-ui.yml verbatim): {REGENERATE}"
    );

    // Nothing kwctl would not write (a hand-kept `readme`, ...), and nothing it writes missing.
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
            "install",
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
    assert_valid_settings(&manifest["spec"]["settings"], file);
    // The controller grants a ClusterAdmissionPolicy every host capability, but lets it read
    // only the Kubernetes resources it lists: those its settings read, among those metadata.yml
    // declares.
    let listed = resources(&manifest["spec"]["contextAwareResources"]);
    let (_, reads) = needs(&manifest["spec"]["settings"]);
    assert!(
        reads.is_subset(&listed),
        "{file}: its settings read {reads:?}, its contextAwareResources list {listed:?}"
    );
    let declared = resources(&metadata["contextAwareResources"]);
    assert!(listed.is_subset(&declared), "{file}: {listed:?}");
}

fn assert_valid_settings(settings: &Value, file: &str) {
    let settings = serde_json::to_vec(settings).unwrap();
    let answer = security_context_policy::validate_settings(&settings).unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["valid"], true, "{file}: {answer}");
}

/// The `(apiVersion, kind)` pairs of a `contextAwareResources` list (absent: none).
fn resources(list: &Value) -> BTreeSet<(String, String)> {
    list.as_array()
        .map(|list| {
            list.iter()
                .map(|r| {
                    (
                        r["apiVersion"].as_str().unwrap().to_string(),
                        r["kind"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The strings of a YAML list (absent: none).
fn strings(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .map(|list| {
            list.iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const GET_RESOURCE: &str = "kubernetes/get_resource";
const LIST_RESOURCES_BY_NAMESPACE: &str = "kubernetes/list_resources_by_namespace";
const CAN_I: &str = "kubernetes/can_i";
const OCI_MANIFEST_CONFIG: &str = "oci/v1/oci_manifest_config";

/// What settings need from the host (the table of docs/deploying.md): the host capabilities
/// they call and the Kubernetes resources they read, their profiles' included.
/// `namespaceLabels` reads the request's Namespace (`get_resource`) and the Pods of a Namespace
/// whose enforce label is tightened (`list_resources_by_namespace`); `profiles` asks
/// SubjectAccessReviews (`can_i`, which no `contextAwareResources` entry gates); `imageUser`
/// reads image configurations (`oci/v1/oci_manifest_config`).
fn needs(settings: &Value) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let mut capabilities = BTreeSet::new();
    let mut reads = BTreeSet::new();
    let profiles = settings["profiles"].as_array().cloned().unwrap_or_default();
    if !profiles.is_empty() {
        capabilities.insert(CAN_I.to_string());
    }
    for settings in std::iter::once(settings).chain(&profiles) {
        if settings["namespaceLabels"] == true {
            capabilities.insert(GET_RESOURCE.to_string());
            capabilities.insert(LIST_RESOURCES_BY_NAMESPACE.to_string());
            reads.insert(("v1".to_string(), "Namespace".to_string()));
            reads.insert(("v1".to_string(), "Pod".to_string()));
        }
        if !settings["imageUser"].is_null() {
            capabilities.insert(OCI_MANIFEST_CONFIG.to_string());
        }
    }
    (capabilities, reads)
}

#[test]
fn the_hardened_example_shows_every_setting() {
    let manifest = yaml("deploy/cluster-admission-policy-hardened.yaml");
    let settings = manifest["spec"]["settings"].as_object().unwrap();
    let mut keys: Vec<&str> = security_context_policy::settings::base_keys().collect();
    keys.extend(security_context_policy::constraints::keys());
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

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_documents(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap())
        .collect()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Rust source without its `//` comments and without whitespace, so that a call reads the same
/// however rustfmt wraps it. (None of the scanned strings holds `//` or a space.)
fn compact(source: &str) -> String {
    source
        .lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The string literal `text` starts with, and what follows it.
fn literal(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some((&rest[..end], &rest[end + 1..]))
}

/// The host capabilities the module calls, as `namespace/operation`, found in the source rather
/// than listed: src/host.rs is the only file that reaches the host, through one waPC call in
/// `host_call(namespace, operation, ...)`, and every call of that function names its namespace
/// and operation as literals.
fn host_capabilities_called() -> BTreeSet<String> {
    let src = root().join("src");
    let host = src.join("host.rs");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.contains(&host));
    for file in files.iter().filter(|f| **f != host) {
        let code = compact(&std::fs::read_to_string(file).unwrap());
        for token in ["host_call", "host_capabilities::"] {
            assert!(
                !code.contains(token),
                "{} uses `{token}`: host calls belong in src/host.rs, where this test finds them",
                file.display()
            );
        }
    }

    let code = compact(&std::fs::read_to_string(&host).unwrap());
    const WAPC: &str = "wapc_guest::host_call(";
    assert_eq!(code.matches(WAPC).count(), 1, "src/host.rs calls waPC once");
    assert!(
        code.contains("wapc_guest::host_call(\"kubewarden\",namespace,operation,"),
        "the one waPC call passes on host_call's namespace and operation"
    );
    // The SDK's own helpers would call the host out of sight: only its request types are used.
    for (at, _) in code.match_indices("host_capabilities::") {
        let statement = &code[..at];
        assert!(
            statement.ends_with("usekubewarden_policy_sdk::"),
            "src/host.rs uses the SDK's host_capabilities other than importing request types"
        );
        let imported = &code[at..at + code[at..].find(';').unwrap()];
        for name in imported
            .split(['{', '}', ','])
            .filter_map(|item| item.rsplit("::").next())
            .filter(|name| !name.is_empty())
        {
            assert!(
                name.starts_with(|c: char| c.is_ascii_uppercase()),
                "src/host.rs imports `{name}` from the SDK's host_capabilities: a function \
                 that calls the host where this test cannot see it"
            );
        }
    }

    let mut called = BTreeSet::new();
    for (at, _) in code.match_indices("host_call(") {
        if code[..at].ends_with("wapc_guest::") {
            continue;
        }
        let arguments = &code[at + "host_call(".len()..];
        let (namespace, operation) = literal(arguments)
            .and_then(|(namespace, rest)| {
                let (operation, _) = literal(rest.strip_prefix(',')?)?;
                Some((namespace, operation))
            })
            .unwrap_or_else(|| {
                panic!(
                    "a host_call in src/host.rs whose namespace and operation are not both \
                     literals: host_call({}...",
                    &arguments[..arguments.len().min(60)]
                )
            });
        called.insert(format!("{namespace}/{operation}"));
    }
    assert!(!called.is_empty(), "no host_call found in src/host.rs");
    called
}

#[test]
fn metadata_declares_exactly_the_host_capabilities_the_module_calls() {
    let metadata = yaml("metadata.yml");
    let list = metadata["hostCapabilities"]
        .as_array()
        .expect("metadata.yml declares hostCapabilities");
    let declared = strings(&metadata["hostCapabilities"]);
    assert_eq!(declared.len(), list.len(), "a capability listed twice");
    let called = host_capabilities_called();
    assert_eq!(
        declared, called,
        "metadata.yml's hostCapabilities differ from the host calls in src/host.rs"
    );
    // Every one is needed by some feature, and together they are all the features need (the
    // table of docs/deploying.md), so a deployment that grants a feature's capabilities grants
    // enough.
    let (all, reads) = needs(&json!({
        "namespaceLabels": true,
        "imageUser": {},
        "profiles": [{"name": "any"}],
    }));
    assert_eq!(all, called);
    assert!(reads.is_subset(&resources(&metadata["contextAwareResources"])));
}

/// The fields of a policy's entry in policy-server's `policies.yml`, as the controller writes them
/// into a PolicyServer's ConfigMap (kubewarden/adm-controller, 1.35 and later:
/// internal/controller/policyserver_controller_configmap.go).
const POLICIES_YML_FIELDS: &[&str] = &[
    "module",
    "policyMode",
    "allowedToMutate",
    "contextAwareResources",
    "settings",
    "message",
    "timeoutEvalSeconds",
    "hostCapabilities",
];

#[test]
fn the_policy_server_example_grants_what_its_settings_call() {
    let metadata = yaml("metadata.yml");
    let policies = yaml("deploy/policies.yml");
    let policies = policies.as_object().unwrap();
    assert!(!policies.is_empty());
    for (name, entry) in policies {
        for key in entry.as_object().unwrap().keys() {
            assert!(
                POLICIES_YML_FIELDS.contains(&key.as_str()),
                "{name}: `{key}` is no field of a policies.yml entry"
            );
        }
        assert!(entry["module"]
            .as_str()
            .is_some_and(|m| m.starts_with("registry://")));
        assert!(["protect", "monitor"].contains(&entry["policyMode"].as_str().unwrap()));
        let mutates = entry["settings"]["mutate"] == true;
        assert!(!mutates || entry["allowedToMutate"] == true, "{name}");
        assert_valid_settings(&entry["settings"], "deploy/policies.yml");
        // policy-server grants nothing the entry does not list, so it lists exactly what the
        // settings call, and the resources they read.
        let (calls, reads) = needs(&entry["settings"]);
        assert_eq!(strings(&entry["hostCapabilities"]), calls, "{name}");
        let listed = resources(&entry["contextAwareResources"]);
        assert!(reads.is_subset(&listed), "{name}: reads {reads:?}");
        assert!(listed.is_subset(&resources(&metadata["contextAwareResources"])));
    }
}

#[test]
fn the_namespaced_example_gets_what_its_settings_call_from_its_policy_server() {
    let metadata = yaml("metadata.yml");
    let documents = yaml_documents("deploy/admission-policy.yaml");
    let server = documents
        .iter()
        .find(|d| d["kind"] == "PolicyServer")
        .expect("a PolicyServer");
    let policy = documents
        .iter()
        .find(|d| d["kind"] == "AdmissionPolicy")
        .expect("an AdmissionPolicy");
    assert_eq!(policy["spec"]["policyServer"], server["metadata"]["name"]);
    assert!(policy["metadata"]["namespace"].is_string());
    let settings = &policy["spec"]["settings"];
    assert_valid_settings(settings, "deploy/admission-policy.yaml");
    assert!(settings["mutate"] != true || policy["spec"]["mutating"] == true);
    // A namespaced policy has no contextAwareResources: it cannot read Namespaces or Pods.
    let (calls, reads) = needs(settings);
    assert!(
        reads.is_empty() && policy["spec"].get("contextAwareResources").is_none(),
        "a namespaced policy cannot read Kubernetes resources"
    );
    // The PolicyServer grants its namespaced policies exactly what these settings call.
    assert_eq!(
        strings(&server["spec"]["namespacedPoliciesCapabilities"]),
        calls
    );
    // The workload rules; Namespaces, which only namespaceLabels validates, are left out.
    let rules: Vec<_> = matched(&metadata["rules"])
        .into_iter()
        .filter(|(_, resource, _)| resource != "namespaces")
        .collect();
    assert_eq!(matched(&policy["spec"]["rules"]), rules);
}

/// docs/deploying.md shows the policies.yml entry and the PolicyServer of the examples as they
/// are, so what it shows is what the tests above check.
#[test]
fn the_readme_shows_the_deployment_examples_as_tested() {
    let page = std::fs::read_to_string(root().join("docs/deploying.md")).unwrap();
    let policies = std::fs::read_to_string(root().join("deploy/policies.yml")).unwrap();
    let entry = policies
        .split_once("\nsecurity-context-policy:\n")
        .map(|(_, entry)| format!("security-context-policy:\n{entry}"))
        .unwrap();
    let examples = std::fs::read_to_string(root().join("deploy/admission-policy.yaml")).unwrap();
    let server = examples
        .split("\n---\n")
        .find(|d| d.contains("\nkind: PolicyServer\n"))
        .map(|d| &d[d.find("apiVersion:").unwrap()..])
        .unwrap();
    for (file, shown) in [
        ("deploy/policies.yml", entry.as_str()),
        ("deploy/admission-policy.yaml", server),
    ] {
        assert!(
            page.contains(shown.trim_end()),
            "docs/deploying.md does not show this part of {file} as it is:\n{shown}"
        );
    }
}

/// How to regenerate artifacthub-pkg.yml.
const REGENERATE: &str = "regenerate it with `kwctl scaffold artifacthub --metadata-path \
    metadata.yml --questions-path questions-ui.yml --output artifacthub-pkg.yml` (kwctl 1.36)";

/// A kubeconfig whose server is never reached: kwctl builds a Kubernetes client when it starts,
/// even for commands that never talk to a cluster.
const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
  - name: unreachable
    cluster:
      server: http://127.0.0.1:1
contexts:
  - name: unreachable
    context:
      cluster: unreachable
      user: nobody
current-context: unreachable
users:
  - name: nobody
    user: {}
";

/// A throwaway directory for one test's kwctl runs, holding the kubeconfig kwctl is given.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        // Tests run in parallel, and several ask for a kwctl: one directory per call.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "security-context-policy-metadata-{name}-{}-{call}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kubeconfig"), KUBECONFIG).unwrap();
        Scratch(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// `kwctl --no-color ARGS` in the repository's root, with this directory's kubeconfig.
    fn kwctl(&self, kwctl: &Path, args: &[&str]) -> Output {
        Command::new(kwctl)
            .arg("--no-color")
            .args(args)
            .env("KUBECONFIG", self.path("kubeconfig"))
            .current_dir(root())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", kwctl.display()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything a kwctl run printed.
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A kwctl of version 1.36 or later: the one on PATH, else the copy kept beside the repository
/// (`../shared/kwctl/kwctl`). `None`, with the reason printed, when there is none.
fn kwctl() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("kwctl"))
                .collect()
        })
        .unwrap_or_default();
    candidates.push(root().join("../shared/kwctl/kwctl"));
    let scratch = Scratch::new("kwctl-version");
    let mut too_old = Vec::new();
    for candidate in candidates.into_iter().filter(|c| c.is_file()) {
        let output = scratch.kwctl(&candidate, &["--version"]);
        let version = String::from_utf8_lossy(&output.stdout).to_string();
        // `kwctl 1.36.0-beta.1`
        let numbers: Vec<u64> = version
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .split(['.', '-'])
            .take(2)
            .map_while(|n| n.parse().ok())
            .collect();
        if numbers.len() == 2 && (numbers[0], numbers[1]) >= (1, 36) {
            return Some(candidate);
        }
        too_old.push(format!("{} ({})", candidate.display(), version.trim()));
    }
    eprintln!(
        "skipped: no kwctl 1.36 or later on PATH or at ../shared/kwctl/kwctl{}",
        if too_old.is_empty() {
            String::new()
        } else {
            format!("; found {}", too_old.join(", "))
        }
    );
    None
}

/// artifacthub-pkg.yml is, line for line, what the real kwctl writes today, apart from
/// `createdAt` (the time of the run).
#[test]
fn artifacthub_package_is_what_kwctl_writes() {
    let Some(kwctl) = kwctl() else { return };
    let scratch = Scratch::new("scaffold");
    let generated = scratch.path("artifacthub-pkg.yml");
    let output = scratch.kwctl(
        &kwctl,
        &[
            "scaffold",
            "artifacthub",
            "--metadata-path",
            "metadata.yml",
            "--questions-path",
            "questions-ui.yml",
            "--output",
            generated.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", printed(&output));
    let generated = std::fs::read_to_string(&generated).unwrap();
    let committed = std::fs::read_to_string(root().join("artifacthub-pkg.yml")).unwrap();
    let lines = |text: &str| -> Vec<String> {
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("createdAt: "))
                .count(),
            1
        );
        text.split('\n')
            .filter(|l| !l.starts_with("createdAt: "))
            .map(str::to_string)
            .collect()
    };
    let (generated, committed) = (lines(&generated), lines(&committed));
    if let Some(at) =
        (0..generated.len().max(committed.len())).find(|&i| generated.get(i) != committed.get(i))
    {
        panic!(
            "artifacthub-pkg.yml differs from what {} writes, from line {} on (createdAt \
             aside):\n  kwctl:     {:?}\n  committed: {:?}\n{REGENERATE}",
            kwctl.display(),
            at + 1,
            generated.get(at),
            committed.get(at)
        );
    }
}

/// `kwctl annotate` scans the module for the host capabilities it calls and warns about any that
/// metadata.yml does not declare, or declares but the module does not call: it must not warn.
#[test]
fn kwctl_annotate_finds_the_host_capabilities_metadata_declares() {
    let Some(kwctl) = kwctl() else { return };
    if !root().join("policy.wasm").is_file() {
        eprintln!("skipped: no policy.wasm to annotate (`make policy.wasm` builds it)");
        return;
    }
    let scratch = Scratch::new("annotate");
    let annotated = scratch.path("annotated-policy.wasm");
    let annotate = |metadata: &Path| -> String {
        let output = scratch.kwctl(
            &kwctl,
            &[
                "annotate",
                "--metadata-path",
                metadata.to_str().unwrap(),
                "--usage-path",
                "README.md",
                "--output-path",
                annotated.to_str().unwrap(),
                "policy.wasm",
            ],
        );
        assert!(output.status.success(), "{}", printed(&output));
        printed(&output)
    };
    let log = annotate(&root().join("metadata.yml"));
    assert!(
        !log.to_lowercase().contains("warn"),
        "kwctl annotate warns about metadata.yml and policy.wasm:\n{log}"
    );

    // The check means something: without the declaration, kwctl names every capability the
    // module calls, as this test found them in the source.
    let mut metadata = yaml("metadata.yml");
    metadata.as_object_mut().unwrap().remove("hostCapabilities");
    let undeclared = scratch.path("metadata.yml");
    std::fs::write(&undeclared, serde_yaml::to_string(&metadata).unwrap()).unwrap();
    let log = annotate(&undeclared);
    assert!(log.contains("WARN"), "{log}");
    for capability in host_capabilities_called() {
        assert!(
            log.contains(&format!("\"{capability}\"")),
            "kwctl does not find {capability} in policy.wasm:\n{log}"
        );
    }
}
