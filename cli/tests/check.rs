//! `security-context-policy check`, run as a user runs it: the built binary on real install
//! manifests, its verdicts compared with the module's own, its formats read back.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;

use support::{create_request, documents, json_of, manifests, module, root, stderr, stdout};

fn run(args: &[&str]) -> Output {
    support::tool(args, None)
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    support::tool(args, Some(stdin))
}

/// `text` written to `file` in the scratch directory `dir` (emptied first).
fn scratch_file(dir: &str, file: &str, text: &str) -> PathBuf {
    let path = scratch(dir).join(file);
    std::fs::write(&path, text).unwrap();
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target/tmp/cli-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn verdicts_and_messages_are_the_modules_on_real_install_manifests() {
    let policy = module().instantiate().unwrap();
    for settings in [json!({}), json!({"level": "baseline"})] {
        let settings_file = scratch(&format!("settings-{}", settings["level"]));
        let settings_path = settings_file.join("settings.json");
        std::fs::write(&settings_path, settings.to_string()).unwrap();
        let mut compared = 0;
        for file in support::REAL_MANIFESTS {
            let path = manifests().join(file);
            let output = run(&[
                "check",
                "--format",
                "json",
                "--settings",
                settings_path.to_str().unwrap(),
                path.to_str().unwrap(),
            ]);
            let report = json_of(&output);
            let results = report["results"].as_array().unwrap();
            let expected: Vec<Value> = documents(&path)
                .iter()
                .filter_map(|d| create_request(d, "default"))
                .collect();
            assert_eq!(
                results.len(),
                expected.len(),
                "{file}: one result per workload"
            );
            let mut any_rejected = false;
            for (result, request) in results.iter().zip(&expected) {
                let answer = policy
                    .validate(&request.to_string(), &settings.to_string())
                    .unwrap();
                assert_eq!(result["kind"], request["kind"]["kind"], "{file}");
                assert_eq!(result["name"], request["name"], "{file}");
                assert_eq!(result["allowed"], json!(answer.accepted), "{file} {result}");
                assert_eq!(result["message"], json!(answer.message), "{file}");
                assert_eq!(
                    result["warnings"],
                    json!(answer.warnings.unwrap_or_default()),
                    "{file}"
                );
                any_rejected |= !answer.accepted;
                compared += 1;
            }
            let code = output.status.code();
            assert_eq!(code, Some(if any_rejected { 1 } else { 0 }), "{file}");
        }
        assert_eq!(compared, 17, "the workloads of test_data/manifests' files");
    }
}

/// The line of the first line of `file` that contains `needle` after line `after`.
fn line_of(file: &Path, needle: &str, after: usize) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in {}", file.display()))
}

const VIOLATIONS: &str = r#"# A workload that breaks baseline in every way that has a key to point at.
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
  namespace: monitoring
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata:
      labels: {app: agent}
    spec:
      hostNetwork: true
      hostPID: false
      containers:
        - name: agent
          image: example/agent:1
          ports:
            - containerPort: 9100
              hostPort: 9100
          securityContext:
            privileged: true
            capabilities:
              add:
                - NET_ADMIN
                - CHOWN
        - name: sidecar
          image: example/sidecar:1
      volumes:
        - name: config
          configMap: {name: agent}
        - name: root
          hostPath:
            path: /
---
apiVersion: v1
kind: Service
metadata: {name: agent, namespace: monitoring}
spec: {ports: [{port: 80}]}
"#;

/// The SARIF 2.1.0 schema, as serde-sarif ships it (its types are generated from it).
fn sarif_schema() -> Value {
    let metadata = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(root())
        .output()
        .unwrap();
    let metadata: Value = serde_json::from_slice(&metadata.stdout).unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif in the dependency graph");
    let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
    let schema = manifest.parent().unwrap().join("src/schema.json");
    // The published schema's pattern for `run.language` has a stray `]`, which ECMA regexes
    // read as a literal and the validator's engine refuses; the tool writes no language.
    let text = std::fs::read_to_string(schema).unwrap().replace(
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn sarif_is_valid_and_points_at_the_violating_keys() {
    let file = scratch_file("sarif", "agent.yaml", VIOLATIONS);
    let dir = file.parent().unwrap().to_path_buf();
    let settings = dir.join("settings.yaml");
    std::fs::write(&settings, "level: baseline\n").unwrap();
    let output = run(&[
        "check",
        "--format",
        "sarif",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let sarif = json_of(&output);
    let validator = jsonschema::validator_for(&sarif_schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "not SARIF 2.1.0: {errors:?}");
    assert!(
        !validator.is_valid(&json!({"version": "2.1.0"})),
        "the schema rejects what is not SARIF (a run list is required)"
    );
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["rules"].as_array().map_or_else(
        || run["tool"]["driver"]["rules"].as_array().unwrap().clone(),
        Clone::clone,
    );
    let results = run["results"].as_array().unwrap();
    let at = |rule: &str| -> Vec<i64> {
        let mut lines: Vec<i64> = results
            .iter()
            .filter(|r| r["ruleId"] == rule)
            .map(|r| {
                let index = r["ruleIndex"].as_u64().unwrap() as usize;
                assert_eq!(rules[index]["id"], rule, "ruleIndex points at its rule");
                assert_eq!(
                    r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                    file.to_str().unwrap()
                );
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        lines.sort();
        lines
    };
    let line = |needle: &str| line_of(&file, needle, 0) as i64;
    assert_eq!(at("privileged"), [line("privileged: true")]);
    assert_eq!(at("hostNamespaces"), [line("hostNetwork: true")]);
    assert_eq!(at("hostPorts"), [line("hostPort: 9100")]);
    assert_eq!(at("hostPathVolumes"), [line("hostPath:")]);
    // CHOWN is one of the runtime's defaults: only NET_ADMIN is blamed.
    assert_eq!(at("capabilities_baseline"), [line("- NET_ADMIN")]);
    assert_eq!(results.len(), 5, "{results:#?}");
    // Every rule has help from the docs' tables.
    let privileged = rules.iter().find(|r| r["id"] == "privileged").unwrap();
    assert!(privileged["help"]["text"]
        .as_str()
        .unwrap()
        .contains("privileged: true"));
    // The same input gives the same fingerprints.
    let again = json_of(&run_again(&file, &settings));
    let fingerprints = |s: &Value| -> Vec<Value> {
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(fingerprints(&sarif), fingerprints(&again));
    assert!(fingerprints(&sarif)
        .iter()
        .all(|f| f.as_object().is_some_and(|f| !f.is_empty())));
}

fn run_again(file: &Path, settings: &Path) -> Output {
    run(&[
        "check",
        "-j",
        "1",
        "--format",
        "sarif",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ])
}

#[test]
fn missing_fields_point_at_the_nearest_enclosing_key() {
    let file = manifests().join("guestbook-all-in-one.yaml");
    let output = run(&["check", "--format", "json", file.to_str().unwrap()]);
    let report = json_of(&output);
    let first = &report["results"][0];
    assert_eq!(first["name"], "redis-master");
    let start = first["line"].as_u64().unwrap() as usize;
    // The container sets no securityContext: its entry is where the fields are missing.
    let entry = line_of(&file, "- name: master", start) as u64;
    let violations = first["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 4, "{violations:#?}");
    for v in violations {
        assert_eq!(v["line"], entry, "{v}");
        assert_eq!(v["container"], "master");
        assert_eq!(v["field"], "spec.template.spec.containers[0]");
    }
}

#[test]
fn a_list_as_kubectl_prints_it_is_judged_item_by_item() {
    let list = json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"},
             "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "x"}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "x"},
             "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}}
        ],
        "metadata": {"resourceVersion": ""}
    });
    let text = serde_json::to_string_pretty(&list).unwrap();
    let file = scratch_file("list", "list.json", &text);
    let report = json_of(&run(&[
        "check",
        "--format",
        "json",
        "--settings",
        root()
            .join("test_data/psp_restricted_settings.yml")
            .to_str()
            .unwrap(),
        file.to_str().unwrap(),
    ]));
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(report["summary"]["objects"], 3);
    assert_eq!(report["summary"]["other"], 1);
    assert_eq!(results[0]["kind"], "Pod");
    assert_eq!(results[0]["item"], 0);
    assert_eq!(results[1]["item"], 2);
    assert_eq!(
        results[0]["line"].as_u64().unwrap() as usize,
        line_of(&file, "\"apiVersion\": \"v1\",", 3),
        "an item starts at its first key"
    );
    assert_eq!(results[0]["allowed"], false);
    let privileged = results[0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["field"] == "spec.containers[0].securityContext.privileged")
        .expect("the privileged key is blamed");
    assert_eq!(
        privileged["line"].as_u64().unwrap() as usize,
        line_of(&file, "\"privileged\": true", 0)
    );
}

#[test]
fn standard_input_takes_helm_template_output() {
    let text = std::fs::read_to_string(manifests().join("helm-template-output.yaml")).unwrap();
    let output = run_with_stdin(&["check", "-n", "web", "--format", "json", "-"], &text);
    let report = json_of(&output);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["file"], "<stdin>");
        assert_eq!(
            r["namespace"], "web",
            "--namespace for objects that name none"
        );
    }
    assert_eq!(report["summary"]["other"], 2);
    // No path at all reads standard input too.
    let bare = run_with_stdin(&["check"], &text);
    assert!(stdout(&bare).contains("<stdin>:"), "{}", stdout(&bare));
    assert_eq!(bare.status.code(), Some(1));
}

#[test]
fn directories_are_searched_for_manifests() {
    let dir = manifests().join("kube-state-metrics-standard");
    let report = json_of(&run(&["check", "--format", "json", dir.to_str().unwrap()]));
    assert_eq!(report["summary"]["files"], 5);
    assert_eq!(report["summary"]["objects"], 5);
    assert_eq!(report["results"].as_array().unwrap().len(), 1);
    assert!(report["results"][0]["file"]
        .as_str()
        .unwrap()
        .ends_with("kube-state-metrics-standard/deployment.yaml"));
    // The whole directory: SOURCES.md is not a manifest, every YAML file is read.
    let all = json_of(&run(&[
        "check",
        "--format",
        "json",
        manifests().to_str().unwrap(),
    ]));
    assert_eq!(all["summary"]["podBearing"], 17);
    assert_eq!(all["summary"]["objects"], 93);
    assert!(all.get("errors").is_none(), "{all}");
}

#[test]
fn a_broken_document_is_named_and_the_others_still_judged() {
    let file = scratch_file("broken", "three.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  containers: [{name: c, image: i}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: broken\nspec: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: third}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: i}]\n");
    let output = run(&[
        "check",
        "--format",
        "json",
        "--settings",
        "/dev/null",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unreadable document is an input error"
    );
    let report = json_of(&output);
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first", "third"]);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["document"], 2);
    let line = errors[0]["line"].as_u64().unwrap();
    assert!(
        (8..=10).contains(&line),
        "the error is in the second document: {line}"
    );
    let text = run(&["check", file.to_str().unwrap()]);
    assert!(
        stdout(&text).contains(&format!("ERROR {}:{line} (document 2)", file.display())),
        "{}",
        stdout(&text)
    );
}

#[test]
fn bad_settings_and_missing_files_exit_2() {
    let settings = scratch_file("bad-settings", "settings.yaml", "level: strict\n");
    let file = manifests().join("guestbook-all-in-one.yaml");
    let output = run(&[
        "check",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let policy = module().instantiate().unwrap();
    let refusal = policy.validate_settings(r#"{"level":"strict"}"#).unwrap();
    assert!(!refusal.valid);
    assert!(
        stderr(&output).contains(&refusal.message.unwrap()),
        "validate_settings' own message: {}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());

    let missing = run(&["check", "no/such/file.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stdout(&missing).contains("no/such/file.yaml"));

    let usage = run(&["check", "--format", "xml"]);
    assert_eq!(usage.status.code(), Some(2), "clap's usage errors");
    assert!(
        stderr(&usage).contains("possible values"),
        "{}",
        stderr(&usage)
    );
}

#[test]
fn exit_codes_follow_the_verdicts_and_warnings() {
    let compliant = scratch_file("exit-codes", "compliant.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n    - name: c\n      image: i\n      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n");
    let dir = compliant.parent().unwrap().to_path_buf();
    assert_eq!(
        run(&["check", compliant.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let settings = dir.join("warn.yaml");
    std::fs::write(&settings, "level: baseline\nwarn: {level: restricted}\n").unwrap();
    let file = manifests().join("guestbook-all-in-one.yaml");
    let warned = run(&[
        "check",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(warned.status.code(), Some(0), "warnings alone pass");
    assert!(stdout(&warned).contains("warning: would violate PodSecurity"));
    let strict = run(&[
        "check",
        "--fail-on-warn",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(
        run(&["check", file.to_str().unwrap()]).status.code(),
        Some(1)
    );
}

#[test]
fn junit_has_a_case_per_workload_and_a_failure_per_rejection() {
    let file = manifests().join("ingress-nginx-cloud-deploy.yaml");
    let settings = root().join("test_data/psp_restricted_settings.yml");
    let output = run(&[
        "check",
        "--format",
        "junit",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let xml = stdout(&output);
    let report = quick_junit::Report::deserialize_from_str(&xml)
        .unwrap_or_else(|e| panic!("not JUnit XML ({e}): {xml}"));
    assert_eq!(report.tests, 3);
    assert_eq!(report.test_suites.len(), 1);
    let json = json_of(&run(&[
        "check",
        "--format",
        "json",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ]));
    assert_eq!(
        report.failures as u64,
        json["summary"]["rejected"].as_u64().unwrap()
    );
    for (case, result) in report.test_suites[0]
        .test_cases
        .iter()
        .zip(json["results"].as_array().unwrap())
    {
        let failed = !matches!(case.status, quick_junit::TestCaseStatus::Success { .. });
        assert_eq!(failed, result["allowed"] == false);
        if let quick_junit::TestCaseStatus::NonSuccess { message, .. } = &case.status {
            assert_eq!(
                message.as_ref().map(|m| m.as_str()),
                result["message"].as_str()
            );
        }
    }
}

const POLICY: &str = r#"apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata:
  name: workloads-baseline
spec:
  module: registry://ghcr.io/example/security-context-policy:v0.1.0
  mode: protect
  mutating: false
  rules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      resources: ["deployments", "daemonsets"]
      operations: ["CREATE", "UPDATE"]
  namespaceSelector:
    matchExpressions:
      - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-flannel]}
  settings:
    level: baseline
"#;

#[test]
fn a_cluster_admission_policy_chooses_what_it_judges() {
    let policy = scratch_file("policy", "policy.yaml", POLICY);
    let dir = policy.parent().unwrap().to_path_buf();
    let files = [
        manifests().join("flannel-kube-flannel.yml"),
        manifests().join("metallb-native.yaml"),
        manifests().join("ingress-nginx-cloud-deploy.yaml"),
    ];
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--policy",
        policy.to_str().unwrap(),
    ];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let report = json_of(&run(&args));
    let verdicts: Vec<(String, String)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["kind"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                ),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |name: &str, verdict: &str| {
        assert!(
            verdicts.contains(&(name.to_string(), verdict.to_string())),
            "{name} {verdict}: {verdicts:?}"
        );
    };
    // kube-flannel is left out by the namespace selector, with the labels of the input's
    // Namespace; Jobs are not in the rules; metallb's speaker breaks baseline.
    expect("DaemonSet/kube-flannel-ds", "notSelected");
    expect("Job/ingress-nginx-admission-create", "notSelected");
    expect("DaemonSet/speaker", "rejected");
    expect("Deployment/controller", "admitted");
    expect("Deployment/ingress-nginx-controller", "admitted");
    // Without the Namespace in the input, the selector cannot be decided.
    let alone = dir.join("daemonset.yaml");
    let flannel = std::fs::read_to_string(&files[0]).unwrap();
    let daemonset = flannel
        .split("\n---\n")
        .find(|d| d.contains("kind: DaemonSet"))
        .unwrap();
    std::fs::write(&alone, daemonset).unwrap();
    let output = run(&[
        "check",
        "--format",
        "json",
        "--policy",
        policy.to_str().unwrap(),
        alone.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(report["results"][0]["verdict"], "undecided");
    assert_eq!(report["results"][0]["allowed"], Value::Null);
    assert!(report["results"][0]["needsCluster"][0]
        .as_str()
        .unwrap()
        .contains("namespace \"kube-flannel\""));
    // The monitor mode admits what it would reject, saying so.
    let monitor = dir.join("monitor.yaml");
    std::fs::write(&monitor, POLICY.replace("mode: protect", "mode: monitor")).unwrap();
    let output = run(&[
        "check",
        "--format",
        "json",
        "--policy",
        monitor.to_str().unwrap(),
        files[1].to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let speaker = json_of(&output)["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "speaker")
        .cloned()
        .unwrap();
    assert_eq!(speaker["allowed"], true);
    assert!(speaker["warnings"][0]
        .as_str()
        .unwrap()
        .contains("monitor mode"));
    // --policy and --settings exclude each other; a policy file without a policy is refused.
    let both = run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--settings",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(both.status.code(), Some(2));
    let none = run(&[
        "check",
        "--policy",
        files[0].to_str().unwrap(),
        files[0].to_str().unwrap(),
    ]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("no ClusterAdmissionPolicy"));
}

#[test]
fn namespace_labels_come_from_the_input_or_the_verdict_needs_the_cluster() {
    let settings = scratch_file(
        "namespace-labels",
        "settings.yaml",
        "namespaceLabels: true\nlevel: privileged\n",
    );
    let file = manifests().join("kustomize-build-output.yaml");
    // Namespace shop enforces baseline and warns restricted.
    let output = run(&[
        "check",
        "--format",
        "json",
        "--settings",
        settings.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let report = json_of(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    let cronjob = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "CronJob")
        .unwrap();
    assert_eq!(cronjob["allowed"], true);
    assert!(cronjob["warnings"][0]
        .as_str()
        .unwrap()
        .contains("would violate PodSecurity \"restricted:latest\""));
    // A workload whose Namespace is not in the input.
    let guestbook = manifests().join("guestbook-all-in-one.yaml");
    let output = run(&[
        "check",
        "--format",
        "json",
        "-n",
        "team-a",
        "--settings",
        settings.to_str().unwrap(),
        guestbook.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    for r in report["results"].as_array().unwrap() {
        assert_eq!(r["verdict"], "undecided");
        assert!(r["needsCluster"][0]
            .as_str()
            .unwrap()
            .contains("namespace \"team-a\""));
    }
    assert_eq!(report["summary"]["undecided"], 3);
}

#[test]
fn output_does_not_depend_on_threads() {
    let dir = manifests();
    let one = run(&[
        "check",
        "-j",
        "1",
        "--format",
        "sarif",
        dir.to_str().unwrap(),
    ]);
    let two = run(&[
        "check",
        "-j",
        "2",
        "--format",
        "sarif",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&one), stdout(&two));
    assert!(!stdout(&one).is_empty());
}

#[test]
fn help_and_version_say_what_the_tool_is() {
    let help = run(&["check", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = stdout(&help);
    for flag in [
        "--settings",
        "--policy",
        "--namespace",
        "--format",
        "--fail-on-warn",
        "--session",
        "Exit status",
    ] {
        assert!(text.contains(flag), "{flag} in --help");
    }
    let version = run(&["--version"]);
    assert!(stdout(&version).starts_with("security-context-policy "));
}

/// The README's example is what the tool prints for it.
#[test]
fn the_readme_example_is_what_check_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = readme
        .split("```console\n")
        .find(|b| b.starts_with("$ security-context-policy check "))
        .expect("the README shows a check run");
    let mut lines = block.lines();
    let command = lines.next().unwrap().trim_start_matches("$ ");
    let shown: Vec<&str> = lines.take_while(|l| !l.starts_with('$')).collect();
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let output = run(&args);
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), shown);
}

/// A case of test_data/cases.json: its request's object as a manifest, its settings, its
/// session, and what the module answers through that session.
fn case(name: &str) -> (PathBuf, PathBuf, PathBuf, Value) {
    let cases: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("test_data/cases.json")).unwrap(),
    )
    .unwrap();
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone();
    let request = policy_runner::read_request_file(
        root()
            .join("test_data")
            .join(case["request"].as_str().unwrap()),
    )
    .unwrap();
    let dir = scratch(name);
    let manifest = dir.join("object.yaml");
    std::fs::write(
        &manifest,
        serde_yaml::to_string(&request["object"]).unwrap(),
    )
    .unwrap();
    let settings = dir.join("settings.json");
    std::fs::write(&settings, case["settings"].to_string()).unwrap();
    let session = root()
        .join("test_data")
        .join(case["session"].as_str().unwrap());
    (manifest, settings, session, case)
}

#[test]
fn a_kwctl_session_answers_for_the_cluster() {
    for name in ["deployment_image_users", "pod_namespace_label_baseline"] {
        let (manifest, settings, session, case) = case(name);
        let args = [
            "check",
            "--format",
            "json",
            "--settings",
            settings.to_str().unwrap(),
        ];
        let with = |extra: &[&str]| {
            let mut all = args.to_vec();
            all.extend(extra);
            all.push(manifest.to_str().unwrap());
            run(&all)
        };
        let answered = with(&["--session", session.to_str().unwrap()]);
        let report = json_of(&answered);
        let result = &report["results"][0];
        assert_eq!(result["verdict"], "rejected", "{name}: {result}");
        // cases.json gives the part of the message that matters.
        let message = result["message"].as_str().unwrap();
        assert!(
            message.contains(case["message"].as_str().unwrap()),
            "{name}: {message}"
        );
        assert_eq!(answered.status.code(), Some(1));
        // Without the session, the same object needs the cluster, and says for what.
        let unanswered = with(&[]);
        let report = json_of(&unanswered);
        let result = &report["results"][0];
        assert_eq!(result["verdict"], "undecided", "{name}: {result}");
        let needs = result["needsCluster"][0].as_str().unwrap();
        assert!(
            needs.contains("image \"") || needs.contains("namespace \"default\""),
            "{name}: {needs}"
        );
        assert_eq!(unanswered.status.code(), Some(1));
    }
}

/// The real kwctl, on PATH or beside the repository; `None` (the test then says it skipped)
/// unless REQUIRE_REAL_KWCTL is set, as in CI, where a missing kwctl fails.
fn real_kwctl() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("kwctl"))
            .find(|c| c.is_file())
    });
    let found = on_path.or_else(|| {
        let beside = root().join("../shared/kwctl/kwctl");
        beside.is_file().then_some(beside)
    });
    if found.is_none() {
        assert!(
            std::env::var_os("REQUIRE_REAL_KWCTL").is_none(),
            "REQUIRE_REAL_KWCTL is set and there is no kwctl"
        );
        eprintln!("skipped: no kwctl on PATH or at ../shared/kwctl/kwctl");
    }
    found
}

const UNREACHABLE_KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n  - name: unreachable\n    cluster: {server: \"http://127.0.0.1:9\"}\ncontexts:\n  - name: unreachable\n    context: {cluster: unreachable, user: nobody}\ncurrent-context: unreachable\nusers:\n  - name: nobody\n    user: {}\n";

/// What the documented path gives per object (`kwctl scaffold admission-request` then `kwctl
/// run`), and what `check` gives for the same objects in one run, are the same verdicts and
/// messages.
#[test]
fn verdicts_equal_kwctl_scaffold_and_run_per_object() {
    let Some(kwctl) = real_kwctl() else {
        return;
    };
    let dir = scratch("kwctl");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, UNREACHABLE_KUBECONFIG).unwrap();
    let kwctl_run = |args: &[&str]| -> Output {
        Command::new(root().join("scripts/kwctl-offline.sh"))
            .args(args)
            .env("KWCTL_BIN", &kwctl)
            .env("KUBECONFIG", &kubeconfig)
            .current_dir(root())
            .output()
            .unwrap()
    };
    let wasm = std::env::var("POLICY_WASM").unwrap_or_else(|_| "policy.wasm".to_string());
    let mut compared = 0;
    for file in [
        "helm-template-output.yaml",
        "flannel-kube-flannel.yml",
        "metallb-native.yaml",
    ] {
        let path = manifests().join(file);
        for settings in [json!({}), json!({"level": "baseline"})] {
            let settings_path = dir.join("settings.json");
            std::fs::write(&settings_path, settings.to_string()).unwrap();
            let report = json_of(&run(&[
                "check",
                "--format",
                "json",
                "--settings",
                settings_path.to_str().unwrap(),
                path.to_str().unwrap(),
            ]));
            let workloads: Vec<Value> = documents(&path)
                .into_iter()
                .filter(|d| create_request(d, "default").is_some())
                .collect();
            let results = report["results"].as_array().unwrap();
            assert_eq!(results.len(), workloads.len());
            for (object, result) in workloads.iter().zip(results) {
                let object_path = dir.join("object.yaml");
                std::fs::write(&object_path, serde_yaml::to_string(object).unwrap()).unwrap();
                let scaffold = kwctl_run(&[
                    "scaffold",
                    "admission-request",
                    "--operation",
                    "CREATE",
                    "--object",
                    object_path.to_str().unwrap(),
                ]);
                assert!(scaffold.status.success(), "{}", stderr(&scaffold));
                let request_path = dir.join("request.json");
                std::fs::write(&request_path, &scaffold.stdout).unwrap();
                let judged = kwctl_run(&[
                    "run",
                    "--request-path",
                    request_path.to_str().unwrap(),
                    "--settings-json",
                    &settings.to_string(),
                    &wasm,
                ]);
                assert!(judged.status.success(), "{}", stderr(&judged));
                let response: Value = serde_json::from_slice(&judged.stdout).unwrap();
                assert_eq!(result["allowed"], response["allowed"], "{file}: {result}");
                assert_eq!(
                    result["message"], response["status"]["message"],
                    "{file}: the same words"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(
        compared, 10,
        "helm's 2, flannel's 1 and metallb's 2 workloads, twice"
    );
}
