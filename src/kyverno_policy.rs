//! `kyvernoPolicy` in the settings: a Kyverno `ClusterPolicy` or `Policy` (`kyverno.io/v1`)
//! whose rule validates `podSecurity`, the whole object or just the `podSecurity` block, and
//! `kyvernoPolicyExceptions`, Kyverno `PolicyException`s (`kyverno.io/v2`) with `podSecurity`
//! entries. Translated once, when settings load, into the native settings that decide the
//! same: the level and version, exemptions (by check, by image, by container kind, by value),
//! who and where selectors, and `audit` for a rule that only audits.
//!
//! What has no native equivalent is refused by name, never dropped: other rule types, matches
//! on labels, names or roles, preconditions, restricted fields whose values cannot be
//! exempted one by one.

use crate::checks::registry;
use crate::workload::WorkloadKind;
use serde_json::{Map, Value};

/// Kyverno's control names (its `pkg/pss/utils`), and the Pod Security Admission checks each
/// one covers.
pub const CONTROLS: &[(&str, &[&str])] = &[
    (
        "Capabilities",
        &["capabilities_baseline", "capabilities_restricted"],
    ),
    (
        "Seccomp",
        &["seccompProfile_baseline", "seccompProfile_restricted"],
    ),
    ("Privileged Containers", &["privileged"]),
    ("Host Ports", &["hostPorts"]),
    ("/proc Mount Type", &["procMount", "procMount_restricted"]),
    ("HostProcess", &["windowsHostProcess"]),
    ("SELinux", &["seLinuxOptions"]),
    ("Host Namespaces", &["hostNamespaces"]),
    ("HostPath Volumes", &["hostPathVolumes"]),
    ("Sysctls", &["sysctls"]),
    ("AppArmor", &["appArmorProfile"]),
    ("Privilege Escalation", &["allowPrivilegeEscalation"]),
    ("Running as Non-root", &["runAsNonRoot"]),
    ("Running as Non-root user", &["runAsUser"]),
    ("Volume Types", &["restrictedVolumes"]),
    (
        "Host Probes / Lifecycle Hooks",
        &["hostProbesAndHostLifecycle"],
    ),
];

/// Controls over what only the pod sets (Kyverno's `PSS_pod_level_control`, less AppArmor,
/// which containers set too since the field replaced the annotation).
const POD_LEVEL_CONTROLS: &[&str] = &[
    "Host Namespaces",
    "HostPath Volumes",
    "Sysctls",
    "Volume Types",
];

/// `restrictedField` paths below a container, and the native value field each one is.
const CONTAINER_FIELDS: &[(&str, &str)] = &[
    ("securityContext.capabilities.add", "capabilities.add"),
    ("ports[*].hostPort", "hostPorts"),
    ("securityContext.procMount", "procMount"),
    ("securityContext.seccompProfile.type", "seccompProfile.type"),
    (
        "securityContext.appArmorProfile.type",
        "appArmorProfile.type",
    ),
    ("securityContext.seLinuxOptions.type", "seLinuxOptions.type"),
];

/// `restrictedField` paths of the pod itself, and their native value fields.
const POD_FIELDS: &[(&str, &str)] = &[
    (
        "spec.securityContext.seccompProfile.type",
        "seccompProfile.type",
    ),
    (
        "spec.securityContext.appArmorProfile.type",
        "appArmorProfile.type",
    ),
    (
        "spec.securityContext.seLinuxOptions.type",
        "seLinuxOptions.type",
    ),
    ("spec.securityContext.sysctls[*].name", "sysctls"),
    ("spec.volumes[*].hostPath.path", "hostPath.path"),
];

/// Boolean container fields whose only violating value is `true`: exempting `"true"` in some
/// containers is exempting the check there.
const CONTAINER_FLAGS: &[(&str, &str)] = &[
    ("securityContext.privileged", "privileged"),
    (
        "securityContext.windowsOptions.hostProcess",
        "windowsHostProcess",
    ),
];

/// The container lists a restricted field can start with, and the `containerKinds` each is.
const CONTAINER_LISTS: &[(&str, &str)] = &[
    ("spec.containers[*].", "containers"),
    ("spec.initContainers[*].", "initContainers"),
    ("spec.ephemeralContainers[*].", "ephemeralContainers"),
];

/// Fields of a ClusterPolicy's spec that change nothing this policy decides.
const HARMLESS_SPEC_FIELDS: &[&str] = &[
    "background",
    "failurePolicy",
    "webhookTimeoutSeconds",
    "admission",
    "schemaValidation",
    "emitWarning",
    "useServerSideApply",
    "applyRules",
];

/// The native settings keys a Kyverno policy translates to (`level`, `version`, `audit`,
/// `exemptions`), with their values.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn translate(
    policy: &Value,
    exceptions: Option<&Value>,
) -> Result<Vec<(String, Value)>, String> {
    let object = policy.as_object().ok_or(
        "kyvernoPolicy: expected a Kyverno ClusterPolicy, Policy or podSecurity block (an object)",
    )?;
    let PodSecurityRule {
        pod_security,
        audit,
        mut exemptions,
        name,
    } = if object.contains_key("level") {
        PodSecurityRule {
            pod_security: object,
            audit: false,
            exemptions: Vec::new(),
            name: None,
        }
    } else {
        whole_policy(object)?
    };
    let level = pod_security
        .get("level")
        .and_then(Value::as_str)
        .ok_or("kyvernoPolicy: podSecurity.level must be privileged, baseline or restricted")?;
    let version = match pod_security.get("version") {
        None | Some(Value::Null) => "latest",
        Some(Value::String(v)) => v,
        Some(_) => return Err("kyvernoPolicy: podSecurity.version must be a string".into()),
    };
    for key in pod_security.keys() {
        if !["level", "version", "exclude"].contains(&key.as_str()) {
            return Err(format!(
                "kyvernoPolicy: podSecurity.{key} cannot be translated"
            ));
        }
    }
    for (i, entry) in list(pod_security.get("exclude"), "podSecurity.exclude")?
        .iter()
        .enumerate()
    {
        exemptions.push(
            pod_security_exclusion(entry, &Map::new())
                .map_err(|e| format!("kyvernoPolicy: podSecurity.exclude[{i}]: {e}"))?,
        );
    }
    if let Some(exceptions) = exceptions {
        exemptions.extend(policy_exceptions(exceptions, name.as_deref())?);
    }
    let mut keys = Vec::new();
    if audit {
        // Admit, and report what the level finds: PSA's audit mode.
        keys.push(("level".to_string(), Value::from("privileged")));
        keys.push((
            "audit".to_string(),
            json_object([
                ("level", Value::from(level)),
                ("version", Value::from(version)),
            ]),
        ));
    } else {
        keys.push(("level".to_string(), Value::from(level)));
        keys.push(("version".to_string(), Value::from(version)));
    }
    if !exemptions.is_empty() {
        keys.push(("exemptions".to_string(), Value::Array(exemptions)));
    }
    Ok(keys)
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn list<'v>(value: Option<&'v Value>, what: &str) -> Result<&'v [Value], String> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("kyvernoPolicy: {what} must be a list")),
    }
}

/// What a whole ClusterPolicy or Policy says: its one `podSecurity` rule's block, whether it
/// only audits, the exemptions its `exclude` makes, and the policy's name.
struct PodSecurityRule<'v> {
    pod_security: &'v Map<String, Value>,
    audit: bool,
    exemptions: Vec<Value>,
    name: Option<String>,
}

/// A whole ClusterPolicy or Policy.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn whole_policy(object: &Map<String, Value>) -> Result<PodSecurityRule<'_>, String> {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !["ClusterPolicy", "Policy"].contains(&kind) || !api_version.starts_with("kyverno.io/") {
        return Err(format!(
            "kyvernoPolicy: expected a kyverno.io ClusterPolicy or Policy, or a podSecurity block, got kind \"{kind}\" of \"{api_version}\""
        ));
    }
    let name = object
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let spec = object
        .get("spec")
        .and_then(Value::as_object)
        .ok_or("kyvernoPolicy: spec must be an object")?;
    let mut audit = false;
    for (key, value) in spec {
        match key.as_str() {
            "rules" => {}
            "validationFailureAction" => audit = is_audit(value, "spec.validationFailureAction")?,
            other if HARMLESS_SPEC_FIELDS.contains(&other) => {}
            other => return Err(format!("kyvernoPolicy: spec.{other} cannot be translated")),
        }
    }
    let rules = list(spec.get("rules"), "spec.rules")?;
    let mut found = None;
    for (i, rule) in rules.iter().enumerate() {
        let rule = rule
            .as_object()
            .ok_or(format!("kyvernoPolicy: spec.rules[{i}] must be an object"))?;
        let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
        let at = format!("spec.rules[{i}] (\"{rule_name}\")");
        let Some(validate) = rule.get("validate").and_then(Value::as_object) else {
            let kind = ["mutate", "generate", "verifyImages"]
                .into_iter()
                .find(|k| rule.contains_key(*k))
                .unwrap_or("without validate");
            return Err(format!(
                "kyvernoPolicy: {at} is a {kind} rule; only validate.podSecurity rules can be translated"
            ));
        };
        let Some(pod_security) = validate.get("podSecurity").and_then(Value::as_object) else {
            return Err(format!(
                "kyvernoPolicy: {at} validates without podSecurity; only validate.podSecurity rules can be translated"
            ));
        };
        if found.is_some() {
            return Err(format!(
                "kyvernoPolicy: {at} is a second podSecurity rule; translate one rule per policy"
            ));
        }
        for (key, value) in validate {
            match key.as_str() {
                "podSecurity" | "message" | "allowExistingViolations" => {}
                "failureAction" => {
                    audit = is_audit(value, &format!("{at}.validate.failureAction"))?
                }
                other => {
                    return Err(format!(
                        "kyvernoPolicy: {at}.validate.{other} cannot be translated"
                    ))
                }
            }
        }
        for key in rule.keys() {
            if ![
                "name",
                "match",
                "exclude",
                "validate",
                "skipBackgroundRequests",
            ]
            .contains(&key.as_str())
            {
                return Err(format!("kyvernoPolicy: {at}.{key} cannot be translated"));
            }
        }
        let mut exemptions = Vec::new();
        if let Some(matched) = rule.get("match") {
            exemptions.extend(
                match_exemption(matched).map_err(|e| format!("kyvernoPolicy: {at}.match{e}"))?,
            );
        }
        if let Some(exclude) = rule.get("exclude") {
            exemptions.extend(
                rule_exclusions(exclude).map_err(|e| format!("kyvernoPolicy: {at}.exclude{e}"))?,
            );
        }
        found = Some((pod_security, exemptions));
    }
    let (pod_security, mut exemptions) =
        found.ok_or("kyvernoPolicy: no rule validates podSecurity")?;
    // A namespaced Policy judges its own namespace only.
    let namespace = object
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    if let (true, Some(namespace)) = (kind == "Policy", namespace) {
        exemptions.insert(
            0,
            json_object([
                ("checks", strings(registry::known_ids())),
                ("namespaces", strings([namespace])),
                ("outside", Value::Bool(true)),
            ]),
        );
    }
    Ok(PodSecurityRule {
        pod_security,
        audit,
        exemptions,
        name,
    })
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn is_audit(value: &Value, at: &str) -> Result<bool, String> {
    match value.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("audit") => Ok(true),
        Some("enforce") => Ok(false),
        _ => Err(format!("kyvernoPolicy: {at} must be Audit or Enforce")),
    }
}

/// One Kyverno resource filter (`resources`, `subjects`, ...).
type Filter<'v> = &'v Map<String, Value>;

/// The filters of a `match` or `exclude`, and whether all must match (`all`) or any (`any`).
struct Filters<'v> {
    items: Vec<Filter<'v>>,
    all: bool,
}

/// The filters of a `match` or `exclude`: `any` and `all` lists, or one legacy filter.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn filters(block: &Value) -> Result<Filters<'_>, String> {
    let block = block.as_object().ok_or(": must be an object")?;
    if block.contains_key("any") || block.contains_key("all") {
        if let Some(other) = block.keys().find(|k| !["any", "all"].contains(&k.as_str())) {
            return Err(format!(".{other} cannot be translated"));
        }
        if block.contains_key("any") && block.contains_key("all") {
            return Err(": any and all together cannot be translated".into());
        }
        let (key, all) = if block.contains_key("all") {
            ("all", true)
        } else {
            ("any", false)
        };
        let items = block[key]
            .as_array()
            .ok_or(format!(".{key} must be a list"))?
            .iter()
            .map(|f| {
                f.as_object()
                    .ok_or(format!(".{key}: every filter must be an object"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Filters { items, all })
    } else {
        Ok(Filters {
            items: vec![block],
            all: true,
        })
    }
}

/// A rule's `match`: pod-bearing kinds (which the deployment's rules choose anyway), and who
/// and where it applies, as an exemption of every check for the requests outside of it.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn match_exemption(matched: &Value) -> Result<Option<Value>, String> {
    let Filters { items, all } = filters(matched)?;
    let mut selected = Vec::new();
    for (i, filter) in items.iter().enumerate() {
        let mut filter = (*filter).clone();
        if let Some(resources) = filter.get_mut("resources").and_then(Value::as_object_mut) {
            for kind in resources
                .get("kinds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let kind = kind.as_str().unwrap_or_default();
                let bare = kind.rsplit('/').next().unwrap_or(kind);
                // Kyverno's autogen turns a Pod rule into rules for the controllers.
                if !WorkloadKind::all().any(|k| k.name() == bare) {
                    let kinds: Vec<&str> = WorkloadKind::all().map(WorkloadKind::name).collect();
                    return Err(format!(
                        "[{i}].resources.kinds: \"{kind}\" carries no pod; podSecurity judges {}",
                        kinds.join(", ")
                    ));
                }
            }
            resources.remove("operations");
        }
        let selectors = who_and_where(&filter).map_err(|e| format!("[{i}]{e}"))?;
        if !selectors.is_empty() {
            selected.push(selectors);
        }
    }
    let selectors = match (selected.len(), all) {
        (0, _) => return Ok(None),
        (1, _) => selected.pop().unwrap_or_default(),
        (_, true) => all_of(selected)?,
        (_, false) => {
            return Err(": several filters of any that select namespaces or subjects cannot be translated into one exemption; use one filter".into())
        }
    };
    let mut exemption = selectors;
    exemption.insert("checks".into(), strings(registry::known_ids()));
    exemption.insert("outside".into(), Value::Bool(true));
    Ok(Some(Value::Object(exemption)))
}

/// A rule's `exclude`: each filter an exemption of every check for what it selects.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn rule_exclusions(exclude: &Value) -> Result<Vec<Value>, String> {
    let Filters { items, all } = filters(exclude)?;
    let mut selectors = Vec::new();
    for (i, filter) in items.iter().enumerate() {
        let selected = who_and_where(filter).map_err(|e| format!("[{i}]{e}"))?;
        // Excluding every pod is turning the rule off, not an exemption.
        if selected.is_empty() {
            return Err(format!(
                "[{i}]: a filter that selects no namespace or subject cannot be translated"
            ));
        }
        selectors.push(selected);
    }
    let every_check: Vec<&str> = registry::known_ids();
    let exemption = |selectors: Map<String, Value>| {
        let mut exemption = selectors;
        exemption.insert("checks".into(), strings(every_check.iter().copied()));
        Value::Object(exemption)
    };
    if all {
        Ok(vec![exemption(all_of(selectors)?)])
    } else {
        Ok(selectors.into_iter().map(exemption).collect())
    }
}

/// The native who and where selectors of one Kyverno filter: `resources.namespaces` and
/// `subjects` (users, groups, service accounts as the user name the API server gives them).
#[cfg_attr(scp_optimize_size, optimize(size))]
fn who_and_where(filter: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut selectors = Map::new();
    let mut usernames = Vec::new();
    let mut groups = Vec::new();
    for (key, value) in filter {
        match key.as_str() {
            "resources" => {
                let resources = value.as_object().ok_or(".resources must be an object")?;
                for (field, value) in resources {
                    match field.as_str() {
                        "namespaces" => {
                            selectors.insert("namespaces".into(), value.clone());
                        }
                        "kinds" => {}
                        other => {
                            return Err(format!(
                                ".resources.{other} cannot be translated: exemptions select by namespace, user, group and service account"
                            ))
                        }
                    }
                }
            }
            "subjects" => {
                for (j, subject) in value.as_array().into_iter().flatten().enumerate() {
                    let kind = subject["kind"].as_str().unwrap_or_default();
                    let name = subject["name"].as_str().unwrap_or_default();
                    match kind {
                        "User" => usernames.push(Value::from(name)),
                        "Group" => groups.push(Value::from(name)),
                        "ServiceAccount" => {
                            let namespace = subject["namespace"].as_str().unwrap_or_default();
                            usernames.push(Value::from(format!("system:serviceaccount:{namespace}:{name}")))
                        }
                        other => {
                            return Err(format!(".subjects[{j}]: unknown kind \"{other}\""))
                        }
                    }
                }
            }
            other => {
                return Err(format!(
                    ".{other} cannot be translated: exemptions select by namespace, user, group and service account"
                ))
            }
        }
    }
    if !usernames.is_empty() && !groups.is_empty() {
        // Native selectors must all match; Kyverno's subjects match any one.
        return Err(".subjects mixes users and groups, which cannot be translated into one exemption; split them into two filters of any".into());
    }
    if !usernames.is_empty() {
        selectors.insert("usernames".into(), Value::Array(usernames));
    }
    if !groups.is_empty() {
        selectors.insert("groups".into(), Value::Array(groups));
    }
    Ok(selectors)
}

/// One `podSecurity.exclude` entry as a native exemption, narrowed by `selectors`.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn pod_security_exclusion(entry: &Value, selectors: &Map<String, Value>) -> Result<Value, String> {
    let entry = entry.as_object().ok_or("must be an object")?;
    for key in entry.keys() {
        if !["controlName", "images", "restrictedField", "values"].contains(&key.as_str()) {
            return Err(format!("{key} cannot be translated"));
        }
    }
    let control = entry
        .get("controlName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let checks = CONTROLS
        .iter()
        .find(|(name, _)| *name == control)
        .map(|(_, checks)| *checks)
        .ok_or_else(|| {
            let known: Vec<String> = CONTROLS.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            format!(
                "unknown controlName \"{control}\"; Kyverno's controls are {}",
                known.join(", ")
            )
        })?;
    let mut exemption = selectors.clone();
    exemption.insert("checks".into(), strings(checks.iter().copied()));
    if let Some(images) = entry.get("images").filter(|i| !i.is_null()) {
        // What only the pod sets belongs to no image: an exclusion by image would exempt nothing.
        if POD_LEVEL_CONTROLS.contains(&control) {
            return Err(format!(
                "\"{control}\" is a pod-level control: its exclusion cannot name images"
            ));
        }
        exemption.insert("images".into(), images.clone());
    }
    let field = entry.get("restrictedField").and_then(Value::as_str);
    let values = entry.get("values").filter(|v| !v.is_null());
    match (field, values) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err("restrictedField and values go together".into())
        }
        (Some(field), Some(values)) => {
            let values: Vec<String> = values
                .as_array()
                .ok_or("values must be a list")?
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            restricted_field(&mut exemption, checks, field, values)?;
        }
    }
    Ok(Value::Object(exemption))
}

/// A `restrictedField` with its `values`, as native `containerKinds` and `values` (or, for a
/// flag whose only violating value is `true`, the check in those containers).
#[cfg_attr(scp_optimize_size, optimize(size))]
fn restricted_field(
    exemption: &mut Map<String, Value>,
    checks: &[&str],
    field: &str,
    values: Vec<String>,
) -> Result<(), String> {
    let supported = || {
        let mut paths: Vec<String> = CONTAINER_FIELDS
            .iter()
            .chain(CONTAINER_FLAGS)
            .map(|(p, _)| format!("spec.containers[*].{p}"))
            .collect();
        paths.extend(POD_FIELDS.iter().map(|(p, _)| p.to_string()));
        format!("restrictedField \"{field}\" cannot be translated; supported (also under initContainers and ephemeralContainers): {}", paths.join(", "))
    };
    if let Some((list, kind)) = CONTAINER_LISTS.iter().find(|(l, _)| field.starts_with(l)) {
        let rest = &field[list.len()..];
        exemption.insert("containerKinds".into(), strings([*kind]));
        if let Some((_, native)) = CONTAINER_FIELDS.iter().find(|(p, _)| *p == rest) {
            exemption.insert(
                "values".into(),
                json_object([(*native, strings(values.iter().map(String::as_str)))]),
            );
            return Ok(());
        }
        if let Some((_, check)) = CONTAINER_FLAGS.iter().find(|(p, _)| *p == rest) {
            if values != ["true"] {
                return Err(format!(
                    "{field}: only the value \"true\" violates it; values must be [\"true\"]"
                ));
            }
            if !checks.contains(check) {
                return Err(format!("{field} is not a field of this control"));
            }
            exemption.insert("checks".into(), strings([*check]));
            return Ok(());
        }
        return Err(supported());
    }
    if let Some((_, native)) = POD_FIELDS.iter().find(|(p, _)| *p == field) {
        if exemption.contains_key("images") {
            return Err(format!(
                "{field} is the pod's own field: an exclusion of its values cannot name images"
            ));
        }
        exemption.insert(
            "values".into(),
            json_object([(*native, strings(values.iter().map(String::as_str)))]),
        );
        return Ok(());
    }
    Err(supported())
}

/// Kyverno PolicyExceptions (a list, or one) with `podSecurity` entries for this policy: each
/// entry an exemption, narrowed by the exception's `match`.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn policy_exceptions(exceptions: &Value, policy_name: Option<&str>) -> Result<Vec<Value>, String> {
    let items: Vec<&Value> = match exceptions {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut exemptions = Vec::new();
    for (i, exception) in items.into_iter().enumerate() {
        let at = format!("kyvernoPolicyExceptions[{i}]");
        let kind = exception["kind"].as_str().unwrap_or_default();
        if kind != "PolicyException" {
            return Err(format!(
                "{at}: expected a Kyverno PolicyException, got kind \"{kind}\""
            ));
        }
        let spec = exception["spec"]
            .as_object()
            .ok_or(format!("{at}: spec must be an object"))?;
        for key in spec.keys() {
            if !["exceptions", "match", "podSecurity", "background"].contains(&key.as_str()) {
                return Err(format!("{at}: spec.{key} cannot be translated"));
            }
        }
        // An exception names the policies it applies to; one for another policy is not this one's.
        let names_this = spec
            .get("exceptions")
            .and_then(Value::as_array)
            .is_none_or(|list| {
                list.iter().any(|e| {
                    let name = e["policyName"].as_str().unwrap_or_default();
                    policy_name.is_none_or(|p| name == p || name.ends_with(&format!("/{p}")))
                })
            });
        if !names_this {
            continue;
        }
        let selectors = match spec.get("match") {
            Some(matched) => {
                exception_selectors(matched).map_err(|e| format!("{at}: spec.match{e}"))?
            }
            None => Map::new(),
        };
        let entries = list(spec.get("podSecurity"), &format!("{at}.spec.podSecurity"))?;
        if entries.is_empty() {
            return Err(format!(
                "{at}: no podSecurity entries; only podSecurity exceptions can be translated"
            ));
        }
        for (j, entry) in entries.iter().enumerate() {
            exemptions.push(
                pod_security_exclusion(entry, &selectors)
                    .map_err(|e| format!("{at}: spec.podSecurity[{j}]: {e}"))?,
            );
        }
    }
    Ok(exemptions)
}

/// What a PolicyException's `match` selects, as one set of native selectors: a filter on kinds
/// alone selects every pod.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn exception_selectors(matched: &Value) -> Result<Map<String, Value>, String> {
    let Filters { items, all } = filters(matched)?;
    if !all && items.len() > 1 {
        return Err(
            ": several filters of any cannot be translated; use one exception per filter".into(),
        );
    }
    let selected = items
        .iter()
        .enumerate()
        .map(|(i, filter)| who_and_where(filter).map_err(|e| format!("[{i}]{e}")))
        .collect::<Result<Vec<_>, _>>()?;
    all_of(selected)
}

/// Filters that must all match, as one set of native selectors (which must all match too).
/// Two filters selecting by the same key would need both lists to match one value, which a
/// native selector cannot say.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn all_of(selected: Vec<Map<String, Value>>) -> Result<Map<String, Value>, String> {
    let mut merged = Map::new();
    for (key, value) in selected.into_iter().flatten() {
        if merged.insert(key.clone(), value).is_some() {
            return Err(format!(
                ": two filters of all both select by {key}, which cannot be translated"
            ));
        }
    }
    Ok(merged)
}

/// A JSON list of strings. Built by hand rather than with `json!`, whose `to_value` for each
/// item type brings a serializer into the module.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn strings<'s>(items: impl IntoIterator<Item = &'s str>) -> Value {
    Value::Array(items.into_iter().map(Value::from).collect())
}

/// A JSON object of these fields.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn json_object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}
