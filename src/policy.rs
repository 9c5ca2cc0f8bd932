//! Settings turned into what evaluation needs: for the enforced level and the optional warn
//! and audit levels, the resolved checks (and, enforced, the configured constraints), each with
//! the exemptions that name it. Built once per settings document; an exemption that selects
//! requests by who asks or where the pod runs applies to a request it selects
//! (`Policy::in_scope`), which shares the plans and only marks which exemptions apply.

use crate::checks::registry::{self, ResolvedCheck};
use crate::checks::{CheckFn, CheckInput, Violation};
use crate::constraints::{ConstraintFn, Constraints, CONSTRAINTS};
use crate::level::{Level, Version};
use crate::namespace::{LevelVersion, NamespacePolicy};
use crate::pod::{Container, Pod};
use crate::scope::AdmissionScope;
use crate::settings::{read_profiles, Exemption, ProfileSettings, Settings, WarnLevel};
use crate::value_exemption;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

#[derive(Clone, Copy)]
enum Rule {
    Check(CheckFn),
    Constraint(ConstraintFn),
}

#[derive(Clone)]
struct PlannedRule {
    id: &'static str,
    rule: Rule,
    /// The settings' exemptions that name this rule (indices), whether or not they apply to
    /// the request at hand (`Policy::applies`).
    exemptions: Vec<usize>,
}

/// The rules of one level (and version), in evaluation order.
#[derive(Clone, Default)]
struct Plan {
    /// `restricted:latest`, as messages print it.
    label: String,
    rules: Vec<PlannedRule>,
}

/// The levels a policy's plans are made for: the settings' own, or a namespace's.
struct Levels {
    enforce: (Level, Version),
    warn: Option<WarnLevel>,
    audit: Option<WarnLevel>,
    namespace_labels: bool,
}

/// How many per-namespace policies are kept built.
const MAX_NAMESPACE_POLICIES: usize = 64;

#[derive(Clone)]
pub struct Policy {
    enforce: Rc<Plan>,
    warn: Option<Rc<Plan>>,
    audit: Option<Rc<Plan>>,
    /// The settings this policy was built from (without their profiles): what it mutates and
    /// constrains, and the base of the policies of namespace levels.
    settings: Rc<Settings>,
    /// Whether the request namespace's labels choose the levels (the settings' `namespaceLabels`;
    /// never for the policy of a namespace's levels).
    namespace_labels: bool,
    /// Which of the settings' exemptions apply: those without who or where selectors always,
    /// the others only in the scope of a request they select (`in_scope`). The plans name
    /// every exemption, so scoping a policy to a request remakes nothing.
    applies: Rc<[bool]>,
    /// The policy for each combination of namespace levels seen, built once. A list: it holds
    /// a handful (at most `MAX_NAMESPACE_POLICIES`), and a hash map of them cost the module
    /// its own copy of the hash table's code.
    per_namespace: RefCell<Vec<(NamespacePolicy, Rc<Policy>)>>,
    /// The profiles, built when first asked for (see `profiles`).
    profiles: OnceCell<Result<Vec<Profile>, String>>,
    /// The profiles' settings text, when they were left unread (`Settings::for_evaluation`).
    unread_profiles: Option<Box<RawValue>>,
}

fn build_profiles(profiles: Vec<ProfileSettings>) -> Vec<Profile> {
    profiles
        .into_iter()
        .map(|p| Profile {
            name: p.name,
            policy: Rc::new(Policy::new(p.settings)),
        })
        .collect()
}

/// A named policy that admits what the base policy rejects, for whoever may use it.
#[derive(Clone)]
pub struct Profile {
    pub name: String,
    pub policy: Rc<Policy>,
}

/// One rule's violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub violation: Violation,
}

/// What the policy has to say about a pod.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// The enforced level's and the constraints' violations; any one rejects.
    pub rejection: Option<String>,
    /// The warn level's violations that the rejection does not already report.
    pub warning: Option<String>,
    /// The audit level's violations, all of them, for the audit log.
    pub audit: Option<String>,
}

fn plan(
    level: Level,
    version: Version,
    extra: &[(&'static str, Rule)],
    exemptions: &[Exemption],
) -> Rc<Plan> {
    let checks = registry::resolve(level, version.effective_minor())
        .into_iter()
        .map(|ResolvedCheck { id, evaluate }| (id, Rule::Check(evaluate)));
    let rules = checks
        .chain(extra.iter().copied())
        .map(|(id, rule)| {
            let exemptions = exemptions
                .iter()
                .enumerate()
                .filter(|(_, e)| e.checks.iter().any(|c| c == id))
                .map(|(i, _)| i)
                .collect();
            PlannedRule {
                id,
                rule,
                exemptions,
            }
        })
        .collect();
    Rc::new(Plan {
        label: format!("{level}:{version}"),
        rules,
    })
}

impl Policy {
    pub fn new(mut settings: Settings) -> Policy {
        let unread_profiles = settings.unread_profiles.take();
        let profiles = OnceCell::new();
        if unread_profiles.is_none() {
            let _ = profiles.set(Ok(build_profiles(std::mem::take(&mut settings.profiles))));
        }
        let levels = Levels {
            enforce: (settings.level, settings.version),
            warn: settings.warn,
            audit: settings.audit,
            namespace_labels: settings.namespace_labels,
        };
        Policy {
            profiles,
            unread_profiles,
            ..Policy::with_plans(Rc::new(settings), levels)
        }
    }

    /// The policy of `settings` at `levels`, without profiles.
    fn with_plans(settings: Rc<Settings>, levels: Levels) -> Policy {
        let exemptions = &settings.exemptions;
        let constraint_rules: Vec<(&'static str, Rule)> = CONSTRAINTS
            .iter()
            .filter(|c| (c.configured)(&settings.constraints))
            .map(|c| (c.id, Rule::Constraint(c.evaluate)))
            .collect();
        let enforce = plan(
            levels.enforce.0,
            levels.enforce.1,
            &constraint_rules,
            exemptions,
        );
        let warn = levels
            .warn
            .map(|w| plan(w.level, w.version, &[], exemptions));
        // A privileged audit level can find nothing.
        let audit = levels
            .audit
            .filter(|a| a.level != Level::Privileged)
            .map(|a| plan(a.level, a.version, &[], exemptions));
        let applies = exemptions.iter().map(|e| !e.has_selectors()).collect();
        Policy {
            enforce,
            warn,
            audit,
            applies,
            settings,
            namespace_labels: levels.namespace_labels,
            per_namespace: RefCell::new(Vec::new()),
            profiles: OnceCell::from(Ok(Vec::new())),
            unread_profiles: None,
        }
    }

    /// The policy for one request: with the exemptions whose who and where selectors all match
    /// it. Borrowed when no exemption has such selectors.
    pub fn in_scope(&self, scope: &AdmissionScope<'_>) -> Cow<'_, Policy> {
        if !self
            .settings
            .exemptions
            .iter()
            .any(Exemption::has_selectors)
        {
            return Cow::Borrowed(self);
        }
        Cow::Owned(Policy {
            enforce: Rc::clone(&self.enforce),
            warn: self.warn.clone(),
            audit: self.audit.clone(),
            settings: Rc::clone(&self.settings),
            namespace_labels: self.namespace_labels,
            applies: self
                .settings
                .exemptions
                .iter()
                .map(|e| !e.has_selectors() || e.selects(scope))
                .collect(),
            per_namespace: RefCell::new(Vec::new()),
            profiles: OnceCell::from(Ok(Vec::new())),
            unread_profiles: None,
        })
    }

    /// The profiles to try, in order, when this policy rejects; read from their settings text
    /// the first time they are needed, when the settings were read for evaluation.
    pub fn profiles(&self) -> Result<&[Profile], String> {
        self.profiles
            .get_or_init(|| match &self.unread_profiles {
                Some(text) => read_profiles(text).map(build_profiles),
                None => Ok(Vec::new()),
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// Whether the settings have any profile, without reading them.
    pub fn has_profiles(&self) -> bool {
        self.unread_profiles.is_some() || self.profiles().is_ok_and(|p| !p.is_empty())
    }

    /// Whether the request namespace's Pod Security labels choose the levels.
    pub fn reads_namespace_labels(&self) -> bool {
        self.namespace_labels
    }

    /// The levels for a namespace without Pod Security labels: the settings' own, as PSA's
    /// AdmissionConfiguration defaults (privileged:latest for an absent warn or audit).
    pub fn namespace_defaults(&self) -> NamespacePolicy {
        let mode = |m: Option<crate::settings::WarnLevel>| {
            m.map_or(LevelVersion::PRIVILEGED_LATEST, |m| LevelVersion {
                level: m.level,
                version: m.version,
            })
        };
        NamespacePolicy {
            enforce: LevelVersion {
                level: self.settings.level,
                version: self.settings.version,
            },
            warn: mode(self.settings.warn),
            audit: mode(self.settings.audit),
        }
    }

    /// This policy with a namespace's levels instead of the settings' (constraints, exemptions
    /// and the rest unchanged), built once per combination of levels.
    pub fn for_namespace(&self, levels: NamespacePolicy) -> Rc<Policy> {
        if let Some((_, policy)) = self
            .per_namespace
            .borrow()
            .iter()
            .find(|(l, _)| *l == levels)
        {
            return Rc::clone(policy);
        }
        let mode = |lv: LevelVersion| {
            (lv.level != Level::Privileged).then_some(WarnLevel {
                level: lv.level,
                version: lv.version,
            })
        };
        // The same settings (shared, not copied) at the namespace's levels.
        let policy = Rc::new(Policy::with_plans(
            Rc::clone(&self.settings),
            Levels {
                enforce: (levels.enforce.level, levels.enforce.version),
                warn: mode(levels.warn),
                audit: mode(levels.audit),
                namespace_labels: false,
            },
        ));
        let mut cache = self.per_namespace.borrow_mut();
        // Labels are written by namespace owners: any number of versions can be spelt, so
        // the cache is bounded rather than grown for each.
        if cache.len() >= MAX_NAMESPACE_POLICIES {
            cache.clear();
        }
        cache.push((levels, Rc::clone(&policy)));
        policy
    }

    /// The reasons (without details) the enforced level and constraints reject a pod for, as
    /// PSA's `ForbiddenReason` names them when it checks existing pods.
    pub fn rejection_reasons(&self, pod: &Pod<'_>) -> Vec<&'static str> {
        let all: Vec<&Container> = pod.containers.iter().collect();
        self.run(&self.enforce, pod, &all)
            .into_iter()
            .map(|f| f.violation.reason)
            .collect()
    }

    pub fn label(&self) -> &str {
        &self.enforce.label
    }

    /// `mutate: true` in the settings.
    pub fn mutates(&self) -> bool {
        self.settings.mutate
    }

    /// `judgeEveryUpdate: true` in the settings: no UPDATE is accepted for leaving the pod
    /// unchanged.
    pub fn judges_every_update(&self) -> bool {
        self.settings.judge_every_update
    }

    pub fn constraints(&self) -> &Constraints {
        &self.settings.constraints
    }

    fn planned(&self, rule: &str) -> Option<&PlannedRule> {
        self.enforce.rules.iter().find(|r| r.id == rule)
    }

    /// The exemptions naming `planned` that apply here, whole checks and values alike.
    fn applying_any<'a>(&'a self, planned: &'a PlannedRule) -> impl Iterator<Item = &'a Exemption> {
        planned
            .exemptions
            .iter()
            .filter(|&&i| self.applies[i])
            .map(|&i| &self.settings.exemptions[i])
    }

    /// The exemptions that take `planned` out of containers or the workload here.
    fn applying<'a>(&'a self, planned: &'a PlannedRule) -> impl Iterator<Item = &'a Exemption> {
        self.applying_any(planned).filter(|e| !e.exempts_values())
    }

    /// Whether an applying exemption takes the whole workload out of `planned`.
    fn exempts_workload(&self, planned: &PlannedRule) -> bool {
        self.applying(planned).any(Exemption::whole_workload)
    }

    /// Whether an applying exemption takes this container out of `planned`.
    fn exempts_container(&self, planned: &PlannedRule, container: &Container<'_>) -> bool {
        self.applying(planned).any(|e| e.covers(container))
    }

    /// The settings' exemptions, in settings order.
    pub fn exemptions(&self) -> &[Exemption] {
        &self.settings.exemptions
    }

    /// Whether applying exemptions take the whole workload out of every enforced rule (PSA's
    /// exempt runtime class, say): there is nothing left to check.
    pub fn exempts_every_rule(&self) -> bool {
        !self.enforce.rules.is_empty()
            && self.enforce.rules.iter().all(|r| self.exempts_workload(r))
    }

    /// Whether the enforced level or a constraint applies `rule` to this workload at all.
    pub fn enforces(&self, rule: &str) -> bool {
        self.planned(rule)
            .is_some_and(|r| !self.exempts_workload(r))
    }

    /// Whether an exemption takes this container out of `rule`.
    pub fn exempts(&self, rule: &str, container: &Container<'_>) -> bool {
        self.planned(rule)
            .is_some_and(|r| self.exempts_workload(r) || self.exempts_container(r, container))
    }

    /// Every violation of a plan, in evaluation order.
    fn run(&self, plan: &Plan, pod: &Pod<'_>, all: &[&Container<'_>]) -> Vec<Finding> {
        self.run_rules(&plan.rules, pod, all)
    }

    /// The violation of one enforced rule (a check or constraint id) by the given containers of
    /// a pod, exemptions applied, as a rejection would report it; `None` when the rule holds or
    /// is not enforced. For front ends that break a rejection down: which containers and which
    /// fields make a rule fail.
    pub fn rule_violation(
        &self,
        rule: &str,
        pod: &Pod<'_>,
        containers: &[&Container<'_>],
    ) -> Option<Violation> {
        let planned = self.planned(rule)?;
        self.run_rules(std::slice::from_ref(planned), pod, containers)
            .pop()
            .map(|f| f.violation)
    }

    /// The enforced violations of a pod rule by rule, each attributed as a front end shows it
    /// (which container, or the pod): to the pod when the rule fails with no container, and to
    /// each container that alone makes it fail or say something else. `None` is the pod; a
    /// number is a position in `pod.containers`.
    pub fn attributed_findings(&self, pod: &Pod<'_>) -> Vec<(Option<usize>, Finding)> {
        let mut out = Vec::new();
        for finding in self.enforced_findings(pod) {
            let rule = finding.check;
            let of_pod = self.rule_violation(rule, pod, &[]);
            if let Some(violation) = &of_pod {
                out.push((
                    None,
                    Finding {
                        check: rule,
                        violation: violation.clone(),
                    },
                ));
            }
            for (position, container) in pod.containers.iter().enumerate() {
                let Some(violation) = self.rule_violation(rule, pod, &[container]) else {
                    continue;
                };
                if of_pod.as_ref() != Some(&violation) {
                    out.push((
                        Some(position),
                        Finding {
                            check: rule,
                            violation,
                        },
                    ));
                }
            }
        }
        out
    }

    /// Every violation of `rules`, in their order.
    fn run_rules(
        &self,
        rules: &[PlannedRule],
        pod: &Pod<'_>,
        all: &[&Container<'_>],
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        for planned in rules {
            let applying = planned.exemptions.iter().any(|&i| self.applies[i]);
            if applying && self.exempts_workload(planned) {
                continue;
            }
            let filtered: Vec<&Container>;
            let containers = if !applying {
                all
            } else {
                filtered = all
                    .iter()
                    .copied()
                    .filter(|c| !self.exempts_container(planned, c))
                    .collect();
                &filtered
            };
            // Exempted values are masked in a copy of the pod that this rule alone sees.
            let value_exemptions: Vec<&dyn value_exemption::ValueExemption> = if applying {
                self.applying_any(planned)
                    .filter(|e| e.exempts_values())
                    .map(|e| e as &dyn value_exemption::ValueExemption)
                    .collect()
            } else {
                Vec::new()
            };
            let masked;
            let masked_containers: Vec<&Container>;
            let input = if value_exemptions.is_empty() {
                CheckInput { pod, containers }
            } else {
                let (pod, positions) = value_exemption::masked(pod, containers, &value_exemptions);
                masked = pod;
                masked_containers = positions
                    .into_iter()
                    .filter_map(|i| masked.containers.get(i))
                    .collect();
                CheckInput {
                    pod: &masked,
                    containers: &masked_containers,
                }
            };
            let violation = match planned.rule {
                Rule::Check(check) => check(&input),
                Rule::Constraint(constraint) => constraint(&input, &self.settings.constraints),
            };
            if let Some(violation) = violation {
                findings.push(Finding {
                    check: planned.id,
                    violation,
                });
            }
        }
        findings
    }

    /// The enforced rules' violations for one container alone, exemptions applied: what the
    /// configured level and constraints object to in it (pod-level findings included).
    pub fn findings_for_container(&self, pod: &Pod<'_>, container: &Container<'_>) -> Vec<Finding> {
        self.run(&self.enforce, pod, &[container])
    }

    /// The enforced level's and constraints' violations of a pod, exemptions applied, in the
    /// order a rejection lists them: what `evaluate` rejects for, rule by rule.
    pub fn enforced_findings(&self, pod: &Pod<'_>) -> Vec<Finding> {
        let all: Vec<&Container> = pod.containers.iter().collect();
        self.enforced_by(pod, &all)
    }

    /// `enforced_findings`, for the containers already gathered.
    fn enforced_by(&self, pod: &Pod<'_>, all: &[&Container<'_>]) -> Vec<Finding> {
        let mut enforced: Vec<Finding> = Vec::new();
        // A constraint that repeats a level check word for word (privileged,
        // allowPrivilegeEscalation) says nothing new.
        for f in self.run(&self.enforce, pod, all) {
            if !enforced.iter().any(|e| e.violation == f.violation) {
                enforced.push(f);
            }
        }
        enforced
    }

    pub fn evaluate(&self, pod: &Pod<'_>) -> Verdict {
        let all: Vec<&Container> = pod.containers.iter().collect();
        let enforced = self.enforced_by(pod, &all);
        let warning = self.warn.as_ref().and_then(|plan| {
            let mut findings = self.run(plan, pod, &all);
            // An enforced rejection already says these.
            findings.retain(|f| !enforced.iter().any(|e| e.violation == f.violation));
            (!findings.is_empty()).then(|| message("would violate", &plan.label, &findings))
        });
        let audit = self.audit.as_ref().and_then(|plan| {
            let findings = self.run(plan, pod, &all);
            (!findings.is_empty()).then(|| message("would violate", &plan.label, &findings))
        });
        Verdict {
            rejection: (!enforced.is_empty())
                .then(|| message("violates", &self.enforce.label, &enforced)),
            warning,
            audit,
        }
    }
}

/// Pod Security Admission's message: `violates PodSecurity "level:version": reason (detail), ...`
fn message(prefix: &str, label: &str, findings: &[Finding]) -> String {
    let mut out = format!("{prefix} PodSecurity \"{label}\": ");
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(f.violation.reason);
        if !f.violation.detail.is_empty() {
            out.push_str(" (");
            out.push_str(&f.violation.detail);
            out.push(')');
        }
    }
    out
}
