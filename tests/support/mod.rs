//! Shared by the integration tests: the upstream Pod Security Admission conformance fixtures,
//! and AdmissionRequests built around pods.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::PathBuf;

/// `../shared/conformance/psa` beside the checkout, or `PSA_CONFORMANCE_DIR`.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("PSA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/psa"),
    };
    dir.join("manifest.json").is_file().then_some(dir)
}

pub struct Fixture {
    pub path: String,
    pub level: String,
    pub version: String,
    pub expect_allow: bool,
    pub reason_substring: Option<String>,
    pub pod: Value,
}

pub fn load_fixtures(dir: &std::path::Path) -> Vec<Fixture> {
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    manifest
        .into_iter()
        .map(|record| {
            let path = record["path"].as_str().unwrap().to_string();
            let text = std::fs::read_to_string(dir.join(&path)).unwrap();
            let pod: Value = serde_yaml::from_str(&text).unwrap();
            Fixture {
                level: record["level"].as_str().unwrap().to_string(),
                version: record["version"].as_str().unwrap().to_string(),
                expect_allow: record["expect"] == "allow",
                reason_substring: record["reason_substring"].as_str().map(str::to_string),
                path,
                pod,
            }
        })
        .collect()
}

pub fn request(group: &str, version: &str, kind: &str, object: Value) -> Value {
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
        "operation": "CREATE",
        "name": object["metadata"]["name"].clone(),
        "namespace": "default",
        "userInfo": {"username": "tester"},
        "object": object,
    })
}

pub fn pod_request(pod: &Value) -> Value {
    request("", "v1", "Pod", pod.clone())
}

/// A Deployment `d` whose pod template has this spec.
pub fn deployment_of_spec(spec: Value) -> Value {
    request(
        "apps",
        "v1",
        "Deployment",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
               "spec": {"template": {"metadata": {}, "spec": spec}}}),
    )
}

/// The pod as the template of a Deployment.
pub fn deployment_request(pod: &Value) -> Value {
    let name = pod["metadata"]["name"].clone();
    let mut template = json!({"metadata": {"labels": {"app": name}}, "spec": pod["spec"].clone()});
    if let Some(annotations) = pod["metadata"].get("annotations") {
        template["metadata"]["annotations"] = annotations.clone();
    }
    request(
        "apps",
        "v1",
        "Deployment",
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}
        }),
    )
}

pub fn validation_payload(request: &Value, settings: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap()
}

/// Runs every fixture as a Pod and as a Deployment through `validate` (a Kubewarden `validate`
/// call: payload in, ValidationResponse JSON out) and returns (passed, failures).
pub fn run_conformance(
    dir: &std::path::Path,
    mut validate: impl FnMut(&[u8]) -> Value,
) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut failures = Vec::new();
    for fixture in load_fixtures(dir) {
        let settings = json!({"level": fixture.level, "version": fixture.version});
        for (shape, request) in [
            ("Pod", pod_request(&fixture.pod)),
            ("Deployment", deployment_request(&fixture.pod)),
        ] {
            let response = validate(&validation_payload(&request, &settings));
            let accepted = response["accepted"].as_bool();
            let message = response["message"].as_str().unwrap_or("");
            let ok = match (fixture.expect_allow, accepted) {
                (true, Some(true)) => true,
                (false, Some(false)) => fixture
                    .reason_substring
                    .as_deref()
                    .is_none_or(|r| message.contains(r)),
                _ => false,
            };
            if ok {
                passed += 1;
            } else {
                failures.push(format!(
                    "{} as {shape}: expected {}, got {response}",
                    fixture.path,
                    if fixture.expect_allow {
                        "allow"
                    } else {
                        "deny"
                    }
                ));
            }
        }
    }
    (passed, failures)
}

/// One example of `test_data/cases.json`: a request file, settings and the expected decision.
pub struct Case {
    pub name: String,
    pub request: Value,
    pub settings: Value,
    pub expect_allow: bool,
    pub message: Option<String>,
    /// A substring some warning must contain.
    pub warning: Option<String>,
    /// A substring some audit annotation's value must contain.
    pub audit: Option<String>,
    /// Whether the answer must carry a mutated object.
    pub mutated: bool,
    /// The kwctl replay session that answers the policy's host calls.
    pub session: Option<PathBuf>,
}

pub fn test_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

pub fn load_cases() -> Vec<Case> {
    let dir = test_data_dir();
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    cases
        .into_iter()
        .map(|c| {
            let file = c["request"].as_str().unwrap();
            let request: Value =
                serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
            Case {
                name: c["name"].as_str().unwrap().to_string(),
                request,
                settings: c["settings"].clone(),
                expect_allow: c["expect"] == "allow",
                message: c["message"].as_str().map(str::to_string),
                warning: c["warning"].as_str().map(str::to_string),
                audit: c["audit"].as_str().map(str::to_string),
                mutated: c["mutated"] == true,
                session: c["session"].as_str().map(|s| dir.join(s)),
            }
        })
        .collect()
}

/// Checks a `validate` answer against a case; the reason when it does not match.
pub fn check_case(case: &Case, response: &Value) -> Result<(), String> {
    let accepted = response["accepted"].as_bool();
    if accepted != Some(case.expect_allow) {
        return Err(format!(
            "{}: expected {}, got {response}",
            case.name,
            if case.expect_allow { "allow" } else { "deny" }
        ));
    }
    if let Some(expected) = &case.message {
        let message = response["message"].as_str().unwrap_or("");
        if !message.contains(expected.as_str()) {
            return Err(format!(
                "{}: message {message:?} does not contain {expected:?}",
                case.name
            ));
        }
    }
    let has_mutation = response["mutated_object"].is_object();
    if has_mutation != case.mutated {
        return Err(format!(
            "{}: expected {} mutated object, got {response}",
            case.name,
            if case.mutated { "a" } else { "no" }
        ));
    }
    if let Some(expected) = &case.audit {
        let recorded = response["audit_annotations"]
            .as_object()
            .is_some_and(|annotations| {
                annotations
                    .values()
                    .any(|v| v.as_str().is_some_and(|v| v.contains(expected.as_str())))
            });
        if !recorded {
            return Err(format!(
                "{}: no audit annotation contains {expected:?}: {response}",
                case.name
            ));
        }
    }
    if let Some(expected) = &case.warning {
        let warned = response["warnings"].as_array().is_some_and(|ws| {
            ws.iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains(expected.as_str())))
        });
        if !warned {
            return Err(format!(
                "{}: no warning contains {expected:?}: {response}",
                case.name
            ));
        }
    }
    Ok(())
}

/// The compiled policy: `POLICY_WASM` (which must exist when set, as `make test` sets it), else
/// `policy.wasm` at the repository root when it has been built. `None` means skip.
pub fn policy_wasm() -> Option<PathBuf> {
    match std::env::var_os("POLICY_WASM") {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "POLICY_WASM={} does not exist",
                path.display()
            );
            Some(path)
        }
        None => {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policy.wasm");
            if path.is_file() {
                Some(path)
            } else {
                eprintln!(
                    "skipped: policy.wasm not built (run `make policy.wasm` or set POLICY_WASM)"
                );
                None
            }
        }
    }
}

/// policy.wasm loaded in wasmtime through the waPC host Kubewarden uses: compiled once per test
/// binary, a fresh instance per caller.
pub fn load_policy() -> Option<policy_runner::Policy> {
    static MODULE: std::sync::OnceLock<Option<policy_runner::PolicyModule>> =
        std::sync::OnceLock::new();
    let module = MODULE.get_or_init(|| {
        let path = policy_wasm()?;
        Some(policy_runner::PolicyModule::from_file(&path).expect("policy.wasm compiles"))
    });
    Some(
        module
            .as_ref()?
            .instantiate()
            .expect("policy.wasm instantiates"),
    )
}

/// A `validate` call into the loaded module; the raw ValidationResponse JSON.
pub fn wasm_validate(policy: &policy_runner::Policy, payload: &[u8]) -> Value {
    let answer = policy.call("validate", payload).expect("validate answers");
    serde_json::from_slice(&answer).expect("validate answers JSON")
}

/// Every default the policy would set on a request's object, whatever the decision.
pub fn defaults_for(request: &Value, settings: &Value) -> Option<Value> {
    let settings = security_context_policy::settings::Settings::from_value(settings).unwrap();
    let policy = security_context_policy::policy::Policy::new(settings);
    let request: security_context_policy::admission::AdmissionRequest =
        serde_json::from_value(request.clone()).unwrap();
    security_context_policy::admission::defaults_for(&policy, &request)
}

/// Keeps a test's summary line where `make unit-tests` prints it after the run (cargo captures
/// the output of passing tests), in `target/tmp/summaries/<name>.txt`.
pub fn record_summary(name: &str, line: &str) {
    println!("{line}");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("summaries");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.txt")), format!("{line}\n")).unwrap();
}

/// The sysctls the kubelet allows without `--allowed-unsafe-sysctls`, newest revision, written
/// out independently of the policy's own list.
pub const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

/// A `ClusterContext` answered from a kwctl replay session, natively: each question becomes the
/// host call the waPC implementation makes, with the same JSON payload, and is answered by the
/// runner's replay, so native tests and policy.wasm use the same session files.
pub struct ReplayContext(std::cell::RefCell<policy_runner::HostCapabilities>);

impl ReplayContext {
    pub fn from_file(path: &std::path::Path) -> ReplayContext {
        ReplayContext::new(policy_runner::ReplaySession::from_file(path).unwrap())
    }

    pub fn new(session: policy_runner::ReplaySession) -> ReplayContext {
        ReplayContext(std::cell::RefCell::new(policy_runner::HostCapabilities {
            allow_context_aware: true,
            replay: Some(session),
            ..Default::default()
        }))
    }

    /// How many host calls were made.
    pub fn replayed(&self) -> usize {
        self.0.borrow().replay.as_ref().map_or(0, |r| r.replayed())
    }

    fn call<T: serde::de::DeserializeOwned>(
        &self,
        subject: String,
        namespace: &str,
        operation: &str,
        payload: Value,
    ) -> Result<T, security_context_policy::context::ContextError> {
        use security_context_policy::context::ContextError;
        let answer = self
            .0
            .borrow_mut()
            .answer(namespace, operation, payload.to_string().as_bytes())
            .map_err(|e| ContextError::new(subject.clone(), e))?;
        serde_json::from_slice(&answer).map_err(|e| ContextError::new(subject, e.to_string()))
    }
}

impl security_context_policy::context::ClusterContext for ReplayContext {
    fn namespace(
        &self,
        name: &str,
    ) -> Result<Value, security_context_policy::context::ContextError> {
        self.call(
            format!("namespace \"{name}\""),
            "kubernetes",
            "get_resource",
            json!({"api_version": "v1", "kind": "Namespace", "name": name, "namespace": null,
                   "disable_cache": false, "field_masks": null}),
        )
    }

    fn pods_in_namespace(
        &self,
        namespace: &str,
    ) -> Result<Vec<Value>, security_context_policy::context::ContextError> {
        let list: Value = self.call(
            format!("the pods of namespace \"{namespace}\""),
            "kubernetes",
            "list_resources_by_namespace",
            json!({"api_version": "v1", "kind": "Pod", "namespace": namespace,
                   "label_selector": null, "field_selector": null, "field_masks": null}),
        )?;
        Ok(list["items"].as_array().cloned().unwrap_or_default())
    }

    fn can_i(
        &self,
        review: &security_context_policy::context::AccessReview,
    ) -> Result<bool, security_context_policy::context::ContextError> {
        let status: Value = self.call(
            format!(
                "whether \"{}\" may {} {} \"{}\"",
                review.user, review.verb, review.resource, review.name
            ),
            "kubernetes",
            "can_i",
            json!({"subject_access_review": {
                "groups": if review.groups.is_empty() { Value::Null } else { json!(review.groups) },
                "resource_attributes": {"group": review.group, "name": review.name,
                    "namespace": review.namespace, "resource": review.resource,
                    "subresource": null, "verb": review.verb, "version": null},
                "user": review.user}, "disable_cache": false}),
        )?;
        Ok(status["allowed"] == true && status["denied"] != true)
    }

    fn image_config(
        &self,
        image: &str,
    ) -> Result<Value, security_context_policy::context::ContextError> {
        self.call(
            format!("the configuration of image \"{image}\""),
            "oci",
            "v1/oci_manifest_config",
            json!(image),
        )
    }
}

/// A `ClusterContext` whose answers the test scripts: for host failures that no recorded session
/// holds, because kwctl records only what a real host answers (a list of pods whose API call
/// fails is retried by kwctl's cache until it succeeds, and an answer that is not JSON never
/// reaches the policy from kwctl). A question left unscripted fails, naming itself.
#[derive(Default)]
pub struct ScriptedContext {
    pub namespace: Option<Result<Value, String>>,
    pub pods: Option<Result<Vec<Value>, String>>,
    pub can_i: Option<Result<bool, String>>,
    pub image_config: Option<Result<Value, String>>,
    /// How many questions were asked (public only so that `..Default::default()` works).
    pub calls: std::cell::Cell<usize>,
}

impl ScriptedContext {
    /// How many questions were asked.
    pub fn asked(&self) -> usize {
        self.calls.get()
    }

    fn answer<T: Clone>(
        &self,
        scripted: &Option<Result<T, String>>,
        subject: String,
    ) -> Result<T, security_context_policy::context::ContextError> {
        self.calls.set(self.calls.get() + 1);
        match scripted {
            Some(Ok(value)) => Ok(value.clone()),
            Some(Err(reason)) => Err(security_context_policy::context::ContextError::new(
                subject,
                reason.clone(),
            )),
            None => Err(security_context_policy::context::ContextError::new(
                subject,
                "not scripted",
            )),
        }
    }
}

impl security_context_policy::context::ClusterContext for ScriptedContext {
    fn namespace(
        &self,
        name: &str,
    ) -> Result<Value, security_context_policy::context::ContextError> {
        self.answer(&self.namespace, format!("namespace \"{name}\""))
    }

    fn pods_in_namespace(
        &self,
        namespace: &str,
    ) -> Result<Vec<Value>, security_context_policy::context::ContextError> {
        self.answer(&self.pods, format!("the pods of namespace \"{namespace}\""))
    }

    fn can_i(
        &self,
        review: &security_context_policy::context::AccessReview,
    ) -> Result<bool, security_context_policy::context::ContextError> {
        self.answer(
            &self.can_i,
            format!(
                "whether \"{}\" may {} {} \"{}\"",
                review.user, review.verb, review.resource, review.name
            ),
        )
    }

    fn image_config(
        &self,
        image: &str,
    ) -> Result<Value, security_context_policy::context::ContextError> {
        self.answer(
            &self.image_config,
            format!("the configuration of image \"{image}\""),
        )
    }
}

/// A case through the native evaluator, with its session when it has one.
pub fn native_validate(case: &Case) -> Value {
    let payload = validation_payload(&case.request, &case.settings);
    let outcome = match &case.session {
        Some(session) => security_context_policy::admission::validate_with(
            &payload,
            &ReplayContext::from_file(session),
        ),
        None => security_context_policy::admission::validate_with(
            &payload,
            &security_context_policy::context::NoContext,
        ),
    };
    outcome_json(&outcome)
}

/// An outcome as the ValidationResponse JSON the waPC entry point answers.
pub fn outcome_json(outcome: &security_context_policy::admission::Outcome) -> Value {
    use security_context_policy::admission::Decision;
    let audit = (!outcome.audit_annotations.is_empty()).then(|| json!(outcome.audit_annotations));
    match &outcome.decision {
        Decision::Accept { warnings, mutated } => json!({
            "accepted": true, "mutated_object": mutated, "warnings": warnings,
            "audit_annotations": audit,
        }),
        Decision::Reject { message, warnings } => json!({
            "accepted": false, "message": message, "warnings": warnings,
            "audit_annotations": audit,
        }),
    }
}

/// A `validate` call into the loaded module with the case's session (context-aware access
/// allowed, as `kwctl run --allow-context-aware --replay-host-capabilities-interactions`).
pub fn wasm_validate_case(policy: &policy_runner::Policy, case: &Case) -> Value {
    policy.set_host_capabilities(policy_runner::HostCapabilities {
        allow_context_aware: case.session.is_some(),
        replay: case
            .session
            .as_ref()
            .map(|s| policy_runner::ReplaySession::from_file(s).unwrap()),
        ..Default::default()
    });
    wasm_validate(policy, &validation_payload(&case.request, &case.settings))
}

/// A replay session answering `get_resource` for a Namespace with these labels.
pub fn namespace_session(name: &str, labels: &[(&str, &str)]) -> policy_runner::ReplaySession {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": labels}});
    session(&[(get_namespace_request(name), Ok(namespace.to_string()))])
}

/// kwctl's recorded request for reading a Namespace.
pub fn get_namespace_request(name: &str) -> String {
    format!("!KubernetesGetResource\napi_version: v1\nkind: Namespace\nname: {name}\nnamespace: null\ndisable_cache: false\nfield_masks: null\n")
}

/// kwctl's recorded request for listing the Pods of a namespace.
pub fn list_pods_request(namespace: &str) -> String {
    format!("!KubernetesListResourceNamespace\napi_version: v1\nkind: Pod\nnamespace: {namespace}\nlabel_selector: null\nfield_selector: null\nfield_masks: null\n")
}

/// A session of (request, Ok(payload) | Err(message)) exchanges, written in kwctl's format.
pub fn session(exchanges: &[(String, Result<String, String>)]) -> policy_runner::ReplaySession {
    let mut text = String::new();
    for (request, response) in exchanges {
        let response = match response {
            Ok(payload) => json!({"type": "Success", "payload": payload}),
            Err(message) => json!({"type": "Error", "message": message}),
        };
        let exchange = json!({"type": "Exchange", "request": request, "response": response});
        text.push_str(&serde_yaml::to_string(&vec![exchange]).unwrap());
    }
    policy_runner::ReplaySession::from_yaml(&text).unwrap()
}

/// A request file of test_data/: an AdmissionReview or the bare AdmissionRequest.
pub fn request_file(file: &str) -> Value {
    let review: Value =
        serde_json::from_slice(&std::fs::read(test_data_dir().join(file)).unwrap()).unwrap();
    match review.get("request") {
        Some(request) => request.clone(),
        None => review,
    }
}
