//! The fewest and narrowest exemptions that admit every workload at the target level.
//!
//! Each rule a workload breaks becomes a need: the rule, for that workload's namespace and
//! service account, and for the container that breaks it (pinned by name, image and kind) or
//! for the whole workload when the pod itself breaks it. A need is met by exempting only the
//! values the workload uses where the rule has a value field (an added capability, a host port,
//! a profile type, a sysctl, a host path, a volume type), the fewest that suffice; else by
//! exempting the rule. Needs of one scope merge into one exemption. Then every exemption, and
//! every value, that the workloads do without is dropped, so each one left is needed.

use crate::judge::{Attributed, ContainerRef, Judge};
use crate::owners::Workload;
use security_context_policy::admission::AdmissionRequest;
use security_context_policy::pod::{Container, Pod};
use security_context_policy::workload::read_pod;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The exemptions, and for each workload the indices of those that admit it.
pub struct Plan {
    pub exemptions: Vec<Value>,
    pub exempted_by: Vec<Vec<usize>>,
}

/// Where an exemption applies: a namespace and service account, and one container or the
/// whole workload.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Scope {
    namespace: String,
    service_account: String,
    /// (kind, name, image)
    container: Option<(String, String, String)>,
}

type Values = BTreeMap<String, BTreeSet<String>>;

/// One exemption being built: the scope, whether it exempts values (or whole rules), its rules
/// and values, and the workloads that need it.
#[derive(Debug, Clone)]
struct Draft {
    scope: Scope,
    checks: BTreeSet<&'static str>,
    values: Values,
    workloads: BTreeSet<usize>,
}

impl Draft {
    fn to_value(&self) -> Value {
        let mut e = Map::new();
        e.insert("checks".into(), json!(self.checks));
        if let Some((kind, name, image)) = &self.scope.container {
            e.insert("containers".into(), json!([name]));
            e.insert("images".into(), json!([image]));
            e.insert("nameAndImage".into(), json!(true));
            e.insert("containerKinds".into(), json!([kind]));
        }
        e.insert("namespaces".into(), json!([self.scope.namespace]));
        e.insert(
            "serviceAccounts".into(),
            json!([format!(
                "{}/{}",
                self.scope.namespace, self.scope.service_account
            )]),
        );
        if !self.values.is_empty() {
            e.insert("values".into(), json!(self.values));
        }
        Value::Object(e)
    }
}

/// The values of a container's own fields that value exemptions can name.
fn container_values(container: &Container<'_>) -> Values {
    let mut values = Values::new();
    let mut put = |field: &str, value: String| {
        values.entry(field.to_string()).or_default().insert(value);
    };
    for port in &container.host_ports {
        put("hostPorts", port.to_string());
    }
    if let Some(sc) = &container.security_context {
        if let Some(caps) = &sc.capabilities {
            for cap in &caps.add {
                put("capabilities.add", cap.to_string());
            }
        }
        if let Some(mount) = sc.proc_mount {
            put("procMount", mount.to_string());
        }
        common_values(&sc.common, &mut put);
    }
    values
}

/// The values of what the pod itself sets that value exemptions can name (for the whole
/// workload only).
fn pod_values(pod: &Pod<'_>) -> Values {
    let mut values = Values::new();
    let mut put = |field: &str, value: String| {
        values.entry(field.to_string()).or_default().insert(value);
    };
    if let Some(sc) = &pod.security_context {
        for sysctl in &sc.sysctls {
            put("sysctls", sysctl.name.to_string());
        }
        common_values(&sc.common, &mut put);
    }
    for volume in &pod.volumes {
        if let Some(path) = volume.host_path_path {
            put("hostPath.path", path.to_string());
        }
        if let Some(field) = volume.source_field {
            put("volumeTypes", field.to_string());
        }
    }
    values
}

fn common_values(
    common: &security_context_policy::security_context::SecurityContextCommon<'_>,
    put: &mut impl FnMut(&str, String),
) {
    if let Some(p) = common.seccomp_profile {
        put("seccompProfile.type", p.type_.to_string());
    }
    if let Some(p) = common.app_armor_profile {
        put("appArmorProfile.type", p.type_.to_string());
    }
    if let Some(o) = &common.se_linux_options {
        if !o.type_.is_empty() {
            put("seLinuxOptions.type", o.type_.to_string());
        }
    }
}

/// The settings of the target level with these exemptions.
fn settings_with(judge: &Judge, exemptions: &[Value]) -> String {
    let mut settings = judge.base_value();
    if !exemptions.is_empty() {
        settings["exemptions"] = Value::Array(exemptions.to_vec());
    }
    settings.to_string()
}

/// Whether `finding` is gone from `request` under `settings`.
fn met(
    judge: &Judge,
    settings: &str,
    request: &AdmissionRequest,
    finding: &Attributed,
) -> Result<bool, String> {
    let position = finding.container.as_ref().map(|c| c.position);
    Ok(!judge
        .findings(settings, request)?
        .iter()
        .any(|f| f.check == finding.check && f.container.as_ref().map(|c| c.position) == position))
}

/// The exemptions for `workloads`, which share one namespace and service account (no
/// exemption of another scope applies to them, so each scope is planned alone).
pub fn plan(
    judge: &Judge,
    workloads: &[&Workload],
    targets: &[&[Attributed]],
) -> Result<Plan, String> {
    let mut drafts: Vec<Draft> = Vec::new();
    // Workloads made from one template break the same rules the same way: their values are
    // found once.
    let mut found: BTreeMap<(Scope, &'static str, String, Values), Values> = BTreeMap::new();
    for (i, (workload, findings)) in workloads.iter().zip(targets).enumerate() {
        if findings.is_empty() {
            continue;
        }
        let object = &workload.creation.request["object"];
        let pod = read_pod(workload.creation.kind, object)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "{} {} carries no pod",
                    workload.creation.kind.name(),
                    workload.creation.name
                )
            })?;
        for finding in findings.iter() {
            let (container, available) = match &finding.container {
                Some(ContainerRef {
                    position,
                    kind,
                    name,
                    image,
                }) => (
                    Some((kind.to_string(), name.clone(), image.clone())),
                    container_values(&pod.containers[*position]),
                ),
                None => (None, pod_values(&pod)),
            };
            let scope = Scope {
                namespace: workload.creation.namespace.clone(),
                service_account: workload.service_account.clone(),
                container,
            };
            let key = (
                scope.clone(),
                finding.check,
                finding.violation.detail.clone(),
                available.clone(),
            );
            let values = match found.get(&key) {
                Some(values) => values.clone(),
                None => {
                    let values =
                        needed_values(judge, &workload.admission, finding, &scope, available)?;
                    found.insert(key, values.clone());
                    values
                }
            };
            add(&mut drafts, scope, finding.check, values, i);
        }
    }
    // Each scope's needs, one exemption for values and one for whole rules; in a stable order.
    drafts.sort_by(|a, b| (&a.scope, a.values.is_empty()).cmp(&(&b.scope, b.values.is_empty())));
    prune(judge, workloads, &mut drafts)?;
    let exemptions: Vec<Value> = drafts.iter().map(Draft::to_value).collect();
    let mut exempted_by = vec![Vec::new(); workloads.len()];
    for (e, draft) in drafts.iter().enumerate() {
        for &w in &draft.workloads {
            exempted_by[w].push(e);
        }
    }
    // Every workload must pass: what the drafts missed is an error here, not an advice that
    // fails at the gate.
    let settings = settings_with(judge, &exemptions);
    for w in workloads {
        if !judge.admits(&settings, &w.admission)? {
            return Err(format!(
                "the advised exemptions do not admit {} {}/{}; this is a bug",
                w.creation.kind.name(),
                w.creation.namespace,
                w.creation.name
            ));
        }
    }
    Ok(Plan {
        exemptions,
        exempted_by,
    })
}

/// The fewest of `available` values that meet `finding` in `scope`; empty when values cannot
/// (the rule is then exempted whole).
fn needed_values(
    judge: &Judge,
    request: &AdmissionRequest,
    finding: &Attributed,
    scope: &Scope,
    available: Values,
) -> Result<Values, String> {
    if available.is_empty() {
        return Ok(Values::new());
    }
    let try_values = |values: &Values| -> Result<bool, String> {
        let draft = Draft {
            scope: scope.clone(),
            checks: BTreeSet::from([finding.check]),
            values: values.clone(),
            workloads: BTreeSet::new(),
        };
        // Settings that refuse this (a value field the rule's exemption cannot take) do not meet it.
        let settings = settings_with(judge, &[draft.to_value()]);
        Ok(met(judge, &settings, request, finding).unwrap_or(false))
    };
    if !try_values(&available)? {
        return Ok(Values::new());
    }
    let mut values = available;
    let all: Vec<(String, String)> = values
        .iter()
        .flat_map(|(f, vs)| vs.iter().map(move |v| (f.clone(), v.clone())))
        .collect();
    for (field, value) in all {
        let mut fewer = values.clone();
        if let Some(set) = fewer.get_mut(&field) {
            set.remove(&value);
            if set.is_empty() {
                fewer.remove(&field);
            }
        }
        if !fewer.is_empty() && try_values(&fewer)? {
            values = fewer;
        }
    }
    Ok(values)
}

fn add(
    drafts: &mut Vec<Draft>,
    scope: Scope,
    check: &'static str,
    values: Values,
    workload: usize,
) {
    let by_values = !values.is_empty();
    match drafts
        .iter_mut()
        .find(|d| d.scope == scope && d.values.is_empty() != by_values)
    {
        Some(draft) => {
            draft.checks.insert(check);
            for (field, vs) in values {
                draft.values.entry(field).or_default().extend(vs);
            }
            draft.workloads.insert(workload);
        }
        None => drafts.push(Draft {
            scope,
            checks: BTreeSet::from([check]),
            values,
            workloads: BTreeSet::from([workload]),
        }),
    }
}

/// Drops every exemption, rule and value the workloads that needed it do without.
fn prune(judge: &Judge, workloads: &[&Workload], drafts: &mut Vec<Draft>) -> Result<(), String> {
    let all_pass = |drafts: &[Draft], affected: &BTreeSet<usize>| -> Result<bool, String> {
        let exemptions: Vec<Value> = drafts.iter().map(Draft::to_value).collect();
        let settings = settings_with(judge, &exemptions);
        for &w in affected {
            if !judge.admits(&settings, &workloads[w].admission)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let mut i = 0;
    while i < drafts.len() {
        let affected = drafts[i].workloads.clone();
        let mut without = drafts.clone();
        without.remove(i);
        if all_pass(&without, &affected)? {
            *drafts = without;
            continue;
        }
        // Each rule, then each value, of the ones kept.
        for check in drafts[i].checks.clone() {
            if drafts[i].checks.len() == 1 {
                break;
            }
            let mut fewer = drafts.clone();
            fewer[i].checks.remove(check);
            if all_pass(&fewer, &affected)? {
                *drafts = fewer;
            }
        }
        let values: Vec<(String, String)> = drafts[i]
            .values
            .iter()
            .flat_map(|(f, vs)| vs.iter().map(move |v| (f.clone(), v.clone())))
            .collect();
        for (field, value) in values {
            let mut fewer = drafts.clone();
            let set = fewer[i].values.get_mut(&field).unwrap();
            set.remove(&value);
            if set.is_empty() {
                fewer[i].values.remove(&field);
            }
            if fewer[i].values.is_empty() {
                continue;
            }
            if all_pass(&fewer, &affected)? {
                *drafts = fewer;
            }
        }
        // Workloads that no longer need this exemption are not admitted by it.
        let mut without = drafts.clone();
        without.remove(i);
        let keep: BTreeSet<usize> = drafts[i]
            .workloads
            .iter()
            .copied()
            .filter(|&w| !all_pass(&without, &BTreeSet::from([w])).unwrap_or(false))
            .collect();
        drafts[i].workloads = keep;
        i += 1;
    }
    Ok(())
}
