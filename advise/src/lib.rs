//! Toward least privilege from the workloads a cluster runs today: for each namespace the
//! strictest Pod Security level its workloads already pass, the settings at a target level with
//! the fewest and narrowest exemptions that admit every workload, the fix for each workload that
//! the policy's own mutation can make pass, and (optionally) the tightest PodSecurityPolicy-style
//! constraints every workload meets.
//!
//! Pure library code on the evaluator that decides admission (checks, constraints, exemptions,
//! value masking, the mutation plan), so that advice and verdicts cannot disagree. The
//! command-line tool and the playground use it natively; policy.wasm never links it.

pub mod constraints;
mod exemptions;
mod fix;
mod judge;
mod owners;
pub mod request;

pub use request::{creation, Creation, Requester};

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// An object of the input, and where it is.
#[derive(Debug, Clone)]
pub struct InputObject {
    /// The file as given (or `<stdin>`).
    pub file: String,
    /// 1-based line of the object's first key.
    pub line: usize,
    pub value: Value,
}

/// What to advise for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The target level: `restricted` or `baseline`.
    pub level: String,
    /// The target version: `latest` or `v1.X`.
    pub version: String,
    /// The namespace of objects that name none.
    pub default_namespace: String,
    /// Who creates the objects.
    pub requester: Requester,
    /// Also advise the tightest constraints every workload meets.
    pub constraints: bool,
}

/// The advice, in a stable order whatever the order of the input.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Advice {
    /// Settings at the target level that admit every input workload.
    pub settings: Value,
    /// Per namespace: the strictest level its workloads pass with no exemption.
    pub namespaces: BTreeMap<String, NamespaceAdvice>,
    pub workloads: Vec<WorkloadAdvice>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceAdvice {
    /// `restricted`, `baseline` or `privileged`: what `pod-security.kubernetes.io/enforce`
    /// could be today.
    pub level: String,
    /// The level above it, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_level: Option<String>,
    /// The workloads that fail the next level, with the checks they fail there.
    pub blockers: Vec<Blocker>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocker {
    pub kind: String,
    pub name: String,
    pub checks: Vec<String>,
}

/// A rule a workload breaks at the target level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub check: String,
    /// The container; `None` for what the pod itself sets.
    pub container: Option<String>,
    /// The rule's words, as in the policy's message.
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadAdvice {
    pub file: String,
    pub line: usize,
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The strictest level it passes with no exemption.
    pub strictest_level: String,
    /// What it breaks at the target level.
    pub violations: Vec<Finding>,
    /// The indices of the advised exemptions that admit it.
    pub exempted_by: Vec<usize>,
    /// An RFC 6902 patch against the input object with which it passes the target level
    /// without an exemption: the defaults the policy's mutation sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Value>,
    /// Why an exemption is needed where no fix exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The advice for `objects` (any kinds; those that carry no pod are left out, and pods,
/// ReplicaSets and Jobs whose controller is in the input stand for it, not for themselves).
pub fn advise(objects: &[InputObject], options: &Options) -> Result<Advice, String> {
    let level = match options.level.as_str() {
        "restricted" | "baseline" => options.level.clone(),
        other => {
            return Err(format!(
                "the target level must be restricted or baseline, not \"{other}\""
            ))
        }
    };
    let judge = judge::Judge::new(&level, &options.version)?;
    let mut workloads = owners::top_workloads(objects, options)?;
    // A stable order whatever the input's: by namespace, kind and name, then where they are.
    workloads.sort_by(|a, b| {
        (
            &a.creation.namespace,
            a.creation.kind.name(),
            &a.creation.name,
            &a.file,
            a.line,
        )
            .cmp(&(
                &b.creation.namespace,
                b.creation.kind.name(),
                &b.creation.name,
                &b.file,
                b.line,
            ))
    });
    let levels: Vec<String> = workloads
        .iter()
        .map(|w| judge.strictest(&w.creation.request))
        .collect::<Result<_, _>>()?;
    let targets: Vec<Vec<judge::Attributed>> = workloads
        .iter()
        .map(|w| judge.findings(judge.base_settings(), &w.creation.request))
        .collect::<Result<_, _>>()?;
    let plan = exemptions::plan(&judge, &workloads, &targets)?;
    let mut settings = judge.base_value();
    if !plan.exemptions.is_empty() {
        settings["exemptions"] = Value::Array(plan.exemptions.clone());
    }
    if options.constraints {
        let objects: Vec<&Value> = workloads
            .iter()
            .map(|w| &w.creation.request["object"])
            .collect();
        for (key, value) in constraints::tightest(&objects)? {
            settings[key] = value;
        }
    }
    let mut namespaces: BTreeMap<String, NamespaceAdvice> = BTreeMap::new();
    for (w, strictest) in workloads.iter().zip(&levels) {
        let entry = namespaces
            .entry(w.creation.namespace.clone())
            .or_insert_with(|| NamespaceAdvice {
                level: "restricted".into(),
                next_level: None,
                blockers: Vec::new(),
            });
        if judge::rank(strictest) < judge::rank(&entry.level) {
            entry.level = strictest.clone();
        }
    }
    // The blockers of each namespace: its workloads that fail the level above its own.
    for (ns, advice) in namespaces.iter_mut() {
        advice.next_level = judge::above(&advice.level).map(str::to_string);
        let Some(next) = advice.next_level.clone() else {
            continue;
        };
        for w in workloads.iter().filter(|w| &w.creation.namespace == ns) {
            let findings = judge.findings(&judge.settings_at(&next), &w.creation.request)?;
            if findings.is_empty() {
                continue;
            }
            let mut checks: Vec<String> = findings.iter().map(|f| f.check.to_string()).collect();
            checks.dedup();
            advice.blockers.push(Blocker {
                kind: w.creation.kind.name().to_string(),
                name: w.creation.name.clone(),
                checks,
            });
        }
    }
    let mut out = Vec::new();
    for (i, w) in workloads.iter().enumerate() {
        let violations: Vec<Finding> = targets[i].iter().map(judge::Attributed::finding).collect();
        let (fix, reason) = if violations.is_empty() {
            (None, None)
        } else {
            fix::fix(&judge, &w.creation.request)?
        };
        out.push(WorkloadAdvice {
            file: w.file.clone(),
            line: w.line,
            api_version: w.creation.request["object"]["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind: w.creation.kind.name().to_string(),
            namespace: w.creation.namespace.clone(),
            name: w.creation.name.clone(),
            strictest_level: levels[i].clone(),
            violations,
            exempted_by: plan.exempted_by[i].clone(),
            fix,
            reason,
        });
    }
    Ok(Advice {
        settings,
        namespaces,
        workloads: out,
    })
}
