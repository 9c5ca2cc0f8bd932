//! The browser playground's engine: manifests (multi-document YAML) and settings in, a report of
//! every workload's verdict out; or workloads in, the advice of `security-context-policy advise`
//! out (namespace levels, exemptions, fixes). It calls the policy's own evaluator and the advise
//! library; no check is implemented twice. `www/` is the page around it.

mod diff;
mod manifests;

use security_context_policy::admission::{self, AdmissionRequest, Decision};
use security_context_policy::explain::{explain, PodExplanation};
use security_context_policy::level::NEWEST_KNOWN_MINOR;
use security_context_policy::policy::Policy;
use security_context_policy::settings::Settings;
use security_context_policy::workload::WorkloadKind;
use security_context_policy_advise::{Advice, InputObject, Options, Requester};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;

pub use diff::{line_diff, DiffLine};

/// What the page shows.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Why the settings could not be used; no verdicts then.
    pub settings_error: Option<String>,
    /// Why (part of) the manifests could not be read.
    pub manifests_error: Option<String>,
    /// What the page could not do as the policy would, e.g. look up an image's user.
    pub settings_notes: Vec<String>,
    pub results: Vec<WorkloadResult>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadResult {
    /// 1-based position among the YAML documents.
    pub document: usize,
    pub kind: String,
    pub name: String,
    /// False for kinds that carry no pod: the policy accepts them untouched.
    pub evaluated: bool,
    pub allowed: bool,
    /// `violates PodSecurity "restricted:latest"` or the like.
    pub summary: Option<String>,
    /// One entry per violated check, `reason (detail)`.
    pub violations: Vec<String>,
    pub warnings: Vec<String>,
    /// With `mutate: true`: the manifest as the policy would admit it, and the change.
    pub mutated: Option<String>,
    pub diff: Vec<DiffLine>,
    /// What each container runs with and why, computed by the policy's own `explain`.
    pub explanation: Option<PodExplanation>,
}

/// Entry point for the page: JSON in the shape of `Report`.
#[wasm_bindgen]
pub fn evaluate(manifests: &str, settings: &str) -> String {
    serde_json::to_string(&evaluate_report(manifests, settings))
        .unwrap_or_else(|e| format!(r#"{{"settingsError":"internal error: {e}","results":[]}}"#))
}

pub fn evaluate_report(manifests: &str, settings: &str) -> Report {
    let mut report = Report::default();
    let policy = match read_settings(settings, &mut report.settings_notes) {
        Ok(p) => p,
        Err(e) => {
            report.settings_error = Some(e);
            return report;
        }
    };
    let (documents, error) = manifests::read(manifests);
    report.manifests_error = error;
    for (document, object) in documents {
        report.results.push(judge(&policy, document, object));
    }
    report
}

/// The note shown when the settings turn on `imageUser`.
pub const IMAGE_USER_NOT_CHECKED: &str = "imageUser: the images' USER was not checked: the playground cannot reach registries, so containers that set no runAsUser are judged on their manifest alone (the policy looks each image up through its host)";

fn read_settings(text: &str, notes: &mut Vec<String>) -> Result<Policy, String> {
    let value: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_yaml::from_str(text)
            .map_err(|e| format!("settings are not valid YAML or JSON: {e}"))?
    };
    // A PodSecurityPolicy, or a Kyverno ClusterPolicy or Policy, pasted as it is stands for
    // the settings `podSecurityPolicy: <it>` or `kyvernoPolicy: <it>`.
    let kyverno = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("kyverno.io/"));
    let mut value = match value.get("kind").and_then(Value::as_str) {
        Some("PodSecurityPolicy") => serde_json::json!({ "podSecurityPolicy": value }),
        Some("ClusterPolicy" | "Policy") if kyverno => {
            serde_json::json!({ "kyvernoPolicy": value })
        }
        _ => value,
    };
    let settings = Settings::from_value(&value)?;
    // The page has no registry to ask: rather than guess, or reject every container for a
    // lookup it cannot make, it leaves the image's user out and says so.
    if settings.constraints.image_user.is_some() {
        if let Some(map) = value.as_object_mut() {
            map.remove("imageUser");
        }
        notes.push(IMAGE_USER_NOT_CHECKED.to_string());
        return Ok(Policy::new(Settings::from_value(&value)?));
    }
    Ok(Policy::new(settings))
}

fn judge(policy: &Policy, document: usize, object: Value) -> WorkloadResult {
    let kind = object["kind"].as_str().unwrap_or("").to_string();
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let workload_kind = WorkloadKind::of_object(&object);
    let evaluated = workload_kind.is_some();
    // Unreadable objects get their verdict (the reason) and no explanation.
    let explanation = workload_kind.and_then(|k| explain(policy, k, &object).ok().flatten());
    // No request kind: the evaluator then takes the object's own apiVersion and kind.
    let request = AdmissionRequest {
        uid: format!("playground-{document}"),
        operation: "CREATE".to_string(),
        object,
        ..AdmissionRequest::default()
    };
    let mut result = WorkloadResult {
        document,
        kind,
        name,
        evaluated,
        allowed: true,
        summary: None,
        violations: Vec::new(),
        warnings: Vec::new(),
        mutated: None,
        diff: Vec::new(),
        explanation,
    };
    match admission::decide(policy, &request) {
        Decision::Accept { warnings, mutated } => {
            result.warnings = warnings;
            if let Some(m) = mutated {
                let before = to_yaml(&request.object);
                let after = to_yaml(&m);
                result.diff = line_diff(&before, &after);
                result.mutated = Some(after);
            }
        }
        Decision::Reject { message, warnings } => {
            result.allowed = false;
            result.warnings = warnings;
            let (summary, violations) = split_message(&message);
            result.summary = summary;
            result.violations = violations;
        }
    }
    result
}

/// What the Advise view shows: the advice in the shape of `security-context-policy advise
/// --format json` (`settings`, `namespaces`, `workloads`), with what went wrong beside it.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdviceReport {
    /// Why no advice could be made (an unknown level or version, an unreadable workload).
    pub error: Option<String>,
    /// Why (part of) the manifests could not be read; the advice covers the objects before it.
    pub manifests_error: Option<String>,
    /// How many objects were read, of any kind.
    pub objects: usize,
    #[serde(flatten)]
    pub advice: Option<Advice>,
    /// `settings` as YAML, and as JSON, ready to paste into a policy: `level` and `version`
    /// first, the exemptions last.
    pub settings_yaml: Option<String>,
    pub settings_json: Option<String>,
}

/// Who creates the objects, as the advice sees it (exemptions never name users).
pub const REQUESTER: &str = "security-context-policy-playground";

/// The namespace of objects that name none, as `kubectl apply` in a fresh context.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Entry point for the Advise view: JSON in the shape of `AdviceReport`. `level` is the target,
/// `restricted` or `baseline`; `version` is `latest` or `v1.X`; `constraints` also advises the
/// tightest constraints every workload meets.
#[wasm_bindgen]
pub fn advise(manifests: &str, level: &str, version: &str, constraints: bool) -> String {
    serde_json::to_string(&advise_report(manifests, level, version, constraints)).unwrap_or_else(
        |e| serde_json::json!({ "error": format!("internal error: {e}") }).to_string(),
    )
}

pub fn advise_report(
    manifests: &str,
    level: &str,
    version: &str,
    constraints: bool,
) -> AdviceReport {
    let (objects, manifests_error) = manifests::read_located(manifests);
    let mut report = AdviceReport {
        manifests_error,
        objects: objects.len(),
        ..AdviceReport::default()
    };
    // The document number stands in for the file name: the page has one text.
    let inputs: Vec<InputObject> = objects
        .into_iter()
        .map(|o| InputObject {
            file: format!("document {}", o.document),
            line: o.line,
            value: o.value,
        })
        .collect();
    let options = Options {
        level: level.to_string(),
        version: version.to_string(),
        default_namespace: DEFAULT_NAMESPACE.to_string(),
        requester: Requester {
            username: REQUESTER.to_string(),
            groups: Vec::new(),
        },
        constraints,
    };
    match security_context_policy_advise::advise(&inputs, &options) {
        Ok(advice) => {
            let settings = in_reading_order(&advice.settings);
            report.settings_yaml = Some(serde_yaml::to_string(&settings).unwrap_or_default());
            report.settings_json =
                Some(serde_json::to_string_pretty(&settings).unwrap_or_default());
            report.advice = Some(advice);
        }
        Err(e) => report.error = Some(e),
    }
    report
}

/// Settings with their keys in the order a reader wants them: the level and version, then the
/// other keys (constraints), then the exemptions, which can be long.
fn in_reading_order(settings: &Value) -> serde_yaml::Value {
    let Value::Object(map) = settings else {
        return serde_yaml::to_value(settings).unwrap_or_default();
    };
    let rank = |key: &str| match key {
        "level" => 0,
        "version" => 1,
        "exemptions" => 3,
        _ => 2,
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| rank(k));
    let mut ordered = serde_yaml::Mapping::new();
    for key in keys {
        ordered.insert(
            serde_yaml::Value::String(key.clone()),
            serde_yaml::to_value(&map[key]).unwrap_or_default(),
        );
    }
    serde_yaml::Value::Mapping(ordered)
}

/// The versions the Advise view offers, newest first: `latest`, then every `v1.X` whose
/// standards the policy knows.
#[wasm_bindgen]
pub fn versions() -> String {
    let mut versions = vec!["latest".to_string()];
    versions.extend((0..=NEWEST_KNOWN_MINOR).rev().map(|m| format!("v1.{m}")));
    serde_json::to_string(&versions).unwrap_or_default()
}

fn to_yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap_or_default()
}

/// `violates PodSecurity "x": a (b), c (d, e)` → (`violates PodSecurity "x"`, [`a (b)`, `c (d, e)`]).
/// Messages that are not in that shape (unreadable objects) come back whole.
pub fn split_message(message: &str) -> (Option<String>, Vec<String>) {
    let Some((summary, rest)) = message
        .strip_prefix("violates PodSecurity ")
        .and_then(|m| m.split_once("\": "))
        .map(|(label, rest)| (format!("violates PodSecurity {label}\""), rest))
    else {
        return (None, vec![message.to_string()]);
    };
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = rest.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 && bytes.get(i + 1) == Some(&b' ') => {
                parts.push(rest[start..i].to_string());
                start = i + 2;
            }
            _ => {}
        }
    }
    parts.push(rest[start..].to_string());
    (Some(summary), parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
"#;

    const COMPLIANT: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: ok
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: app
      image: app
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"#;

    #[test]
    fn every_document_gets_a_verdict() {
        let text = format!("{DEPLOYMENT}\n---\n{COMPLIANT}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: s}}\n");
        let report = evaluate_report(&text, "level: restricted");
        assert!(report.settings_error.is_none() && report.manifests_error.is_none());
        assert_eq!(report.results.len(), 3);
        let web = &report.results[0];
        assert_eq!(
            (web.kind.as_str(), web.name.as_str(), web.allowed),
            ("Deployment", "web", false)
        );
        assert_eq!(
            web.summary.as_deref(),
            Some(r#"violates PodSecurity "restricted:latest""#)
        );
        assert_eq!(web.violations.len(), 4, "{:?}", web.violations);
        assert!(web.violations[1].starts_with(r#"unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"])"#));
        assert!(report.results[1].allowed && report.results[1].evaluated);
        assert!(report.results[2].allowed && !report.results[2].evaluated);
    }

    #[test]
    fn mutation_comes_with_the_mutated_manifest_and_a_diff() {
        let report = evaluate_report(DEPLOYMENT, "{level: restricted, mutate: true}");
        let web = &report.results[0];
        assert!(web.allowed);
        assert!(web
            .mutated
            .as_deref()
            .unwrap()
            .contains("allowPrivilegeEscalation: false"));
        assert!(web
            .diff
            .iter()
            .any(|l| l.op == '+' && l.text.contains("runAsNonRoot: true")));
        assert!(
            web.diff.iter().all(|l| l.op != '-'),
            "defaults only add lines"
        );
    }

    #[test]
    fn each_container_comes_with_its_effective_context() {
        let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      securityContext: {runAsUser: 1000, capabilities: {drop: [ALL]}}
      containers:
        - name: app
          image: app
          securityContext: {capabilities: {add: [NET_ADMIN]}}
"#;
        let report = evaluate_report(text, "level: baseline");
        let explanation = report.results[0].explanation.as_ref().unwrap();
        assert_eq!(
            explanation.ignored[0].path,
            "spec.template.spec.securityContext.capabilities"
        );
        let app = &explanation.containers[0];
        let net_admin = app
            .capabilities
            .iter()
            .find(|c| c.name == "NET_ADMIN")
            .unwrap();
        assert_eq!(net_admin.objections[0].check, "capabilities_baseline");
        assert_eq!(app.capabilities.len(), 15);
        let json = serde_json::to_value(&report).unwrap();
        let field = &json["results"][0]["explanation"]["containers"][0]["fields"][0];
        assert_eq!(field["field"], "runAsUser");
        assert_eq!(field["source"], "pod");
        assert!(
            evaluate_report("apiVersion: v1\nkind: Service\n", "").results[0]
                .explanation
                .is_none()
        );
    }

    #[test]
    fn a_pasted_pod_security_policy_is_the_settings() {
        let psp = r#"
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: no-host
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: '*'
spec:
  privileged: false
  volumes: ['*']
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
"#;
        let host = "apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec: {hostNetwork: true, containers: [{name: a, image: a}]}\n";
        let report = evaluate_report(&format!("{COMPLIANT}\n---\n{host}"), psp);
        assert!(
            report.settings_error.is_none(),
            "{:?}",
            report.settings_error
        );
        assert!(report.results[0].allowed);
        assert!(!report.results[1].allowed);
        assert_eq!(
            report.results[1].summary.as_deref(),
            Some(r#"violates PodSecurity "privileged:latest""#)
        );
        assert_eq!(
            report.results[1].violations,
            ["hostNetwork (pod must not set hostNetwork=true)"]
        );
        let report = evaluate_report(
            COMPLIANT,
            "kind: PodSecurityPolicy\nspec: {hostNetwrk: true}\n",
        );
        assert!(report
            .settings_error
            .unwrap()
            .contains("podSecurityPolicy.spec.hostNetwrk: unknown field"));
    }

    #[test]
    fn the_image_user_is_said_to_be_unchecked_not_guessed() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: web\n    image: nginx\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
        let report = evaluate_report(pod, "imageUser: {}");
        assert_eq!(report.settings_notes, [IMAGE_USER_NOT_CHECKED]);
        assert!(report.results[0].allowed, "{:?}", report.results[0]);
        // Without the setting there is nothing to say; bad imageUser settings are still errors.
        assert!(evaluate_report(pod, "{}").settings_notes.is_empty());
        let bad = evaluate_report(pod, "imageUser: {onError: maybe}");
        assert!(bad
            .settings_error
            .unwrap()
            .contains("unknown variant `maybe`"));
    }

    #[test]
    fn value_exemptions_relax_one_value_in_the_selected_container() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: vpn}\nspec:\n  containers:\n  - name: tunnel\n    image: vpn\n    securityContext: {capabilities: {add: [NET_ADMIN]}}\n  - name: web\n    image: web\n    securityContext: {capabilities: {add: [NET_ADMIN]}}\n";
        let exempt = "level: baseline\nexemptions:\n- checks: [capabilities_baseline]\n  containers: [tunnel]\n  values: {capabilities.add: [NET_ADMIN]}\n";
        let report = evaluate_report(pod, exempt);
        assert_eq!(report.settings_error, None);
        assert_eq!(
            report.results[0].violations,
            ["non-default capabilities (container \"web\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"]
        );
        let report = evaluate_report(pod, "level: baseline");
        assert_eq!(
            report.results[0].violations,
            ["non-default capabilities (containers \"tunnel\", \"web\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"]
        );
    }

    #[test]
    fn a_pasted_kyverno_policy_is_the_settings() {
        let policy = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: psa}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: baseline\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate:\n      podSecurity:\n        level: baseline\n        exclude:\n        - controlName: Capabilities\n          images: [vpn]\n          restrictedField: spec.containers[*].securityContext.capabilities.add\n          values: [NET_ADMIN]\n";
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: vpn}\nspec:\n  containers:\n  - name: tunnel\n    image: vpn\n    securityContext: {capabilities: {add: [NET_ADMIN]}}\n  - name: web\n    image: web\n    securityContext: {capabilities: {add: [NET_ADMIN]}}\n";
        let report = evaluate_report(pod, policy);
        assert_eq!(report.settings_error, None);
        assert_eq!(
            report.results[0].violations,
            ["non-default capabilities (container \"web\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"]
        );
        // A rule that cannot be translated is said next to the settings.
        let report = evaluate_report(pod, &policy.replace("podSecurity:", "pattern:"));
        assert!(report
            .settings_error
            .unwrap()
            .contains("validates without podSecurity"));
    }

    #[test]
    fn errors_are_reported_next_to_their_input() {
        let report = evaluate_report(DEPLOYMENT, "level: strict");
        assert!(report.settings_error.unwrap().contains("unknown level"));
        let report = evaluate_report("kind: [unclosed", "");
        assert!(report.manifests_error.unwrap().contains("document 1"));
        let report = evaluate_report(&format!("{COMPLIANT}\n---\n: bad: yaml: [\n"), "");
        assert_eq!(report.results.len(), 1);
        assert!(report.manifests_error.unwrap().contains("document 2"));
        let report = evaluate_report("- just\n- a list\n", "");
        assert!(report
            .manifests_error
            .unwrap()
            .contains("not a Kubernetes object"));
    }

    #[test]
    fn messages_split_into_violations() {
        let (summary, parts) = split_message(
            r#"violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), hostPort (container "a" uses hostPort 80)"#,
        );
        assert_eq!(
            summary.as_deref(),
            Some(r#"violates PodSecurity "baseline:latest""#)
        );
        assert_eq!(
            parts,
            [
                "host namespaces (hostNetwork=true, hostPID=true)",
                r#"hostPort (container "a" uses hostPort 80)"#
            ]
        );
        assert_eq!(split_message("cannot read x").1, ["cannot read x"]);
    }

    /// A privileged DaemonSet, a plain nginx Deployment and a restricted Pod, each in its
    /// namespace.
    const THREE_NAMESPACES: &str = r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: monitoring}
spec:
  template:
    spec:
      serviceAccountName: node-exporter
      hostNetwork: true
      hostPID: true
      containers:
        - name: node-exporter
          image: quay.io/prometheus/node-exporter:v1.8.2
          securityContext: {privileged: true}
      volumes: [{name: root, hostPath: {path: /}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: nginx, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: payments}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: api
      image: api:3
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: payments}
"#;

    #[test]
    fn advice_gives_each_namespace_its_level_and_blockers() {
        let report = advise_report(THREE_NAMESPACES, "restricted", "latest", false);
        assert_eq!(
            (report.error.as_deref(), report.manifests_error.as_deref()),
            (None, None)
        );
        assert_eq!(report.objects, 4);
        let json = serde_json::to_value(&report).unwrap();
        let namespaces = &json["namespaces"];
        assert_eq!(namespaces["monitoring"]["level"], "privileged");
        assert_eq!(namespaces["shop"]["level"], "baseline");
        assert_eq!(namespaces["payments"]["level"], "restricted");
        assert_eq!(
            namespaces["monitoring"]["blockers"],
            serde_json::json!([{"kind": "DaemonSet", "name": "node-exporter",
                "checks": ["hostNamespaces", "hostPathVolumes", "privileged"]}])
        );
        assert_eq!(namespaces["shop"]["nextLevel"], "restricted");
        assert_eq!(namespaces["shop"]["blockers"][0]["name"], "nginx");
        assert_eq!(namespaces["payments"]["blockers"], serde_json::json!([]));
        // Sorted by namespace; each at its first key, the document standing for the file.
        let at: Vec<(&str, &str, u64)> = json["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["name"].as_str().unwrap(),
                    w["file"].as_str().unwrap(),
                    w["line"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            at,
            [
                ("node-exporter", "document 1", 1),
                ("api", "document 3", 24),
                ("nginx", "document 2", 16)
            ]
        );
        let nginx = &json["workloads"][2];
        assert_eq!(nginx["strictestLevel"], "baseline");
        assert!(nginx["fix"].is_array());
        assert!(json["workloads"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("hostNamespaces"));
        // The settings, level first, with the DaemonSet's namespace exempted.
        let yaml = report.settings_yaml.unwrap();
        assert!(
            yaml.starts_with("level: restricted\nversion: latest\nexemptions:\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  namespaces:\n  - monitoring\n"), "{yaml}");
        let from_json: Value = serde_json::from_str(&report.settings_json.unwrap()).unwrap();
        assert_eq!(from_json, json["settings"]);
    }

    #[test]
    fn the_advised_settings_admit_every_workload() {
        for level in ["restricted", "baseline"] {
            let report = advise_report(THREE_NAMESPACES, level, "v1.30", true);
            let settings = report.settings_yaml.unwrap();
            let verdicts = evaluate_report(THREE_NAMESPACES, &settings);
            assert_eq!(verdicts.settings_error, None, "{settings}");
            assert!(
                verdicts.results.iter().all(|r| r.allowed),
                "{settings}\n{:?}",
                verdicts.results
            );
            assert!(settings.contains("version: v1.30"));
        }
    }

    #[test]
    fn a_kubectl_list_reports_each_controller_once() {
        let list = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": "web", "namespace": "shop", "uid": "d-1"},
     "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}},
    {"apiVersion": "apps/v1", "kind": "ReplicaSet",
     "metadata": {"name": "web-5d4f", "namespace": "shop", "uid": "r-1",
       "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true}]},
     "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}},
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-5d4f-x2x", "namespace": "shop", "uid": "p-1",
       "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4f", "uid": "r-1", "controller": true}]},
     "spec": {"containers": [{"name": "web", "image": "web:1"}]}}
  ]
}"#;
        let report = advise_report(list, "restricted", "latest", false);
        assert_eq!(report.objects, 3);
        let advice = report.advice.unwrap();
        let workloads: Vec<(&str, &str, usize)> = advice
            .workloads
            .iter()
            .map(|w| (w.kind.as_str(), w.name.as_str(), w.line))
            .collect();
        assert_eq!(workloads, [("Deployment", "web", 5)]);
        assert_eq!(advice.namespaces["shop"].blockers.len(), 1);
    }

    #[test]
    fn advice_errors_are_reported_not_thrown() {
        let report = advise_report(THREE_NAMESPACES, "privileged", "latest", false);
        assert!(report.advice.is_none());
        assert!(report.error.unwrap().contains("restricted or baseline"));
        let report = advise_report(THREE_NAMESPACES, "restricted", "1.30", false);
        assert!(report.error.unwrap().contains("invalid version"));
        // What could be read is advised; what could not is said.
        let text = format!("{COMPLIANT}\n---\nkind: [unclosed\n");
        let report = advise_report(&text, "restricted", "latest", false);
        assert!(report.manifests_error.unwrap().contains("document 2"));
        let json = serde_json::to_value(report.advice.unwrap()).unwrap();
        assert_eq!(json["namespaces"]["default"]["level"], "restricted");
        let report: Value =
            serde_json::from_str(&advise("", "restricted", "latest", false)).unwrap();
        assert_eq!(report["workloads"], serde_json::json!([]));
        assert_eq!(report["error"], Value::Null);
    }

    #[test]
    fn the_versions_offered_are_those_the_policy_knows() {
        let versions: Vec<String> = serde_json::from_str(&versions()).unwrap();
        assert_eq!(versions[0], "latest");
        assert_eq!(versions[1], format!("v1.{NEWEST_KNOWN_MINOR}"));
        assert_eq!(versions.last().unwrap(), "v1.0");
        for v in &versions {
            assert_eq!(advise_report("", "baseline", v, false).error, None, "{v}");
        }
    }
}
