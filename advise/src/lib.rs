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

/// What is found of one workload on its own, before exemptions are planned.
struct Judged {
    strictest: String,
    /// The rules it breaks at the target level.
    target: Vec<judge::Attributed>,
    /// The checks it breaks at each level (`baseline`, `restricted`), for the blockers.
    checks_at: BTreeMap<&'static str, Vec<String>>,
    fix: Option<Value>,
    reason: Option<String>,
}

fn judge_one(judge: &judge::Judge, workload: &owners::Workload) -> Result<Judged, String> {
    let request = &workload.admission;
    let mut checks_at = BTreeMap::new();
    let mut target = Vec::new();
    for level in ["restricted", "baseline"] {
        let findings = if level == judge.level() {
            let findings = judge.findings(judge.base_settings(), request)?;
            target = findings.clone();
            findings
        } else {
            judge.findings(&judge.settings_at(level), request)?
        };
        let mut checks: Vec<String> = Vec::new();
        for f in findings {
            if !checks.iter().any(|c| c == f.check) {
                checks.push(f.check.to_string());
            }
        }
        checks_at.insert(level, checks);
    }
    let strictest = judge.strictest(request)?;
    let (fix, reason) = if target.is_empty() {
        (None, None)
    } else {
        fix::fix(judge, &workload.creation.request)?
    };
    Ok(Judged {
        strictest,
        target,
        checks_at,
        fix,
        reason,
    })
}

/// `f` over `items` on every core, a judge per thread, in the items' order.
fn parallel<T: Sync, R: Send>(
    level: &str,
    version: &str,
    items: &[T],
    f: &(dyn Fn(&judge::Judge, &T) -> Result<R, String> + Sync),
) -> Result<Vec<R>, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, items.len().max(1));
    // In place when there is one core, and always in the browser, where no thread can start
    // (the playground's wasm has no available parallelism).
    if threads == 1 {
        let judge = judge::Judge::new(level, version)?;
        return items.iter().map(|item| f(&judge, item)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<R, String>>>> =
        std::sync::Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let judge = match judge::Judge::new(level, version) {
                    Ok(judge) => judge,
                    Err(e) => {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i < items.len() {
                            results.lock().unwrap()[i] = Some(Err(e));
                        }
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(&judge, item);
                    results.lock().unwrap()[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("a worker stopped".to_string())))
        .collect()
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
    let version = options.version.clone();
    let judge = judge::Judge::new(&level, &version)?;
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
    let judged: Vec<Judged> = parallel(&level, &version, &workloads, &|judge, w| {
        judge_one(judge, w)
            .map_err(|e| format!("{}: {e}", owners::located(&w.file, w.line, &w.creation)))
    })?;

    // Exemptions, planned per namespace and service account: no exemption of one such scope
    // applies to a workload of another.
    let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, w) in workloads.iter().enumerate() {
        if !judged[i].target.is_empty() {
            groups
                .entry((&w.creation.namespace, &w.service_account))
                .or_default()
                .push(i);
        }
    }
    let groups: Vec<Vec<usize>> = groups.into_values().collect();
    let plans = parallel(&level, &version, &groups, &|judge, members| {
        let ws: Vec<&owners::Workload> = members.iter().map(|&i| &workloads[i]).collect();
        let ts: Vec<&[judge::Attributed]> = members
            .iter()
            .map(|&i| judged[i].target.as_slice())
            .collect();
        exemptions::plan(judge, &ws, &ts)
    })?;
    let mut all_exemptions: Vec<Value> = Vec::new();
    let mut exempted_by: Vec<Vec<usize>> = vec![Vec::new(); workloads.len()];
    for (members, plan) in groups.iter().zip(plans) {
        let offset = all_exemptions.len();
        for (local, &i) in members.iter().enumerate() {
            exempted_by[i] = plan.exempted_by[local].iter().map(|e| e + offset).collect();
        }
        all_exemptions.extend(plan.exemptions);
    }
    let mut settings = judge.base_value();
    if !all_exemptions.is_empty() {
        settings["exemptions"] = Value::Array(all_exemptions);
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
    for (w, j) in workloads.iter().zip(&judged) {
        let entry = namespaces
            .entry(w.creation.namespace.clone())
            .or_insert_with(|| NamespaceAdvice {
                level: "restricted".into(),
                next_level: None,
                blockers: Vec::new(),
            });
        if judge::rank(&j.strictest) < judge::rank(&entry.level) {
            entry.level = j.strictest.clone();
        }
    }
    // The blockers of each namespace: its workloads that fail the level above its own.
    for (w, j) in workloads.iter().zip(&judged) {
        let advice = namespaces
            .get_mut(&w.creation.namespace)
            .expect("every namespace is in");
        advice.next_level = judge::above(&advice.level).map(str::to_string);
        let Some(next) = advice.next_level.as_deref() else {
            continue;
        };
        if judge::rank(&j.strictest) >= judge::rank(next) {
            continue;
        }
        advice.blockers.push(Blocker {
            kind: w.creation.kind.name().to_string(),
            name: w.creation.name.clone(),
            checks: j.checks_at.get(next).cloned().unwrap_or_default(),
        });
    }

    let out = workloads
        .iter()
        .zip(judged)
        .zip(exempted_by)
        .map(|((w, j), exempted_by)| WorkloadAdvice {
            file: w.file.clone(),
            line: w.line,
            api_version: w.creation.request["object"]["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind: w.creation.kind.name().to_string(),
            namespace: w.creation.namespace.clone(),
            name: w.creation.name.clone(),
            strictest_level: j.strictest,
            violations: j.target.iter().map(judge::Attributed::finding).collect(),
            exempted_by,
            fix: j.fix,
            reason: j.reason,
        })
        .collect();
    Ok(Advice {
        settings,
        namespaces,
        workloads: out,
    })
}
