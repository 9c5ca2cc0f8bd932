//! Settings turned into what evaluation needs: for the enforced level and the optional warn
//! level, the resolved checks (and, enforced, the configured constraints), each with the
//! exemptions that apply to it. Built once per settings document; when an exemption selects
//! requests by who asks or where the pod runs, the plans are remade for each such request with
//! the exemptions that select it (`Policy::in_scope`).

use crate::checks::registry::{self, ResolvedCheck};
use crate::checks::{CheckFn, CheckInput, Violation};
use crate::constraints::{ConstraintFn, Constraints, CONSTRAINTS};
use crate::level::{Level, Version};
use crate::namespace::{LevelVersion, NamespacePolicy};
use crate::pod::{Container, Pod};
use crate::scope::AdmissionScope;
use crate::settings::{read_profiles, Exemption, ProfileSettings, Settings};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
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
    /// An exemption without images or containers names this rule.
    exempt_workload: bool,
    /// Exemptions that name this rule for some containers.
    container_exemptions: Vec<usize>,
}

/// The rules of one level (and version), in evaluation order.
#[derive(Clone, Default)]
struct Plan {
    /// `restricted:latest`, as messages print it.
    label: String,
    rules: Vec<PlannedRule>,
}

/// How many per-namespace policies are kept built.
const MAX_NAMESPACE_POLICIES: usize = 64;

#[derive(Clone)]
pub struct Policy {
    /// The exemptions the plans were made with: those without who or where selectors, and,
    /// in scope of a request (`in_scope`), those that select it.
    exemptions: Vec<Exemption>,
    enforce: Plan,
    warn: Option<Plan>,
    audit: Option<Plan>,
    /// The settings this policy was built from (without their profiles): what it mutates and
    /// constrains, and the base of the policies of namespace levels and of requests that
    /// exemptions select.
    settings: Settings,
    /// The policy for each combination of namespace levels seen, built once.
    per_namespace: RefCell<HashMap<NamespacePolicy, Rc<Policy>>>,
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
) -> Plan {
    let checks = registry::resolve(level, version.effective_minor())
        .into_iter()
        .map(|ResolvedCheck { id, evaluate }| (id, Rule::Check(evaluate)));
    let rules = checks
        .chain(extra.iter().copied())
        .map(|(id, rule)| {
            let naming: Vec<usize> = exemptions
                .iter()
                .enumerate()
                .filter(|(_, e)| e.checks.iter().any(|c| c == id))
                .map(|(i, _)| i)
                .collect();
            PlannedRule {
                id,
                rule,
                exempt_workload: naming.iter().any(|&i| exemptions[i].whole_workload()),
                container_exemptions: naming,
            }
        })
        .collect();
    Plan {
        label: format!("{level}:{version}"),
        rules,
    }
}

impl Policy {
    pub fn new(mut settings: Settings) -> Policy {
        let unread_profiles = settings.unread_profiles.take();
        let profiles = OnceCell::new();
        if unread_profiles.is_none() {
            let _ = profiles.set(Ok(build_profiles(std::mem::take(&mut settings.profiles))));
        }
        let unconditional = settings
            .exemptions
            .iter()
            .filter(|e| !e.has_selectors())
            .cloned()
            .collect();
        Policy {
            profiles,
            unread_profiles,
            ..Policy::with_plans(settings, unconditional)
        }
    }

    /// The policy of `settings` with its plans made for `exemptions`, without profiles.
    fn with_plans(settings: Settings, exemptions: Vec<Exemption>) -> Policy {
        let constraint_rules: Vec<(&'static str, Rule)> = CONSTRAINTS
            .iter()
            .filter(|c| (c.configured)(&settings.constraints))
            .map(|c| (c.id, Rule::Constraint(c.evaluate)))
            .collect();
        let enforce = plan(
            settings.level,
            settings.version,
            &constraint_rules,
            &exemptions,
        );
        let warn = settings
            .warn
            .map(|w| plan(w.level, w.version, &[], &exemptions));
        // A privileged audit level can find nothing.
        let audit = settings
            .audit
            .filter(|a| a.level != Level::Privileged)
            .map(|a| plan(a.level, a.version, &[], &exemptions));
        Policy {
            exemptions,
            enforce,
            warn,
            audit,
            settings,
            per_namespace: RefCell::new(HashMap::new()),
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
        let selected = self
            .settings
            .exemptions
            .iter()
            .filter(|e| e.selects(scope))
            .cloned()
            .collect();
        Cow::Owned(Policy::with_plans(self.settings.clone(), selected))
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
        self.settings.namespace_labels
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
        if let Some(policy) = self.per_namespace.borrow().get(&levels) {
            return Rc::clone(policy);
        }
        let mut settings = self.settings.clone();
        settings.level = levels.enforce.level;
        settings.version = levels.enforce.version;
        let mode = |lv: LevelVersion| {
            (lv.level != Level::Privileged).then_some(crate::settings::WarnLevel {
                level: lv.level,
                version: lv.version,
            })
        };
        settings.warn = mode(levels.warn);
        settings.audit = mode(levels.audit);
        settings.namespace_labels = false;
        let policy = Rc::new(Policy::new(settings));
        let mut cache = self.per_namespace.borrow_mut();
        // Labels are written by namespace owners: any number of versions can be spelt, so
        // the cache is bounded rather than grown for each.
        if cache.len() >= MAX_NAMESPACE_POLICIES {
            cache.clear();
        }
        cache.insert(levels, Rc::clone(&policy));
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

    /// Whether the enforced level or a constraint applies `rule` to this workload at all.
    pub fn enforces(&self, rule: &str) -> bool {
        self.planned(rule).is_some_and(|r| !r.exempt_workload)
    }

    /// Whether an exemption takes this container out of `rule`.
    pub fn exempts(&self, rule: &str, container: &Container<'_>) -> bool {
        self.planned(rule).is_some_and(|r| {
            r.exempt_workload
                || r.container_exemptions
                    .iter()
                    .any(|&i| self.exemptions[i].covers_container(container.name, container.image))
        })
    }

    /// Every violation of a plan, in evaluation order.
    fn run(&self, plan: &Plan, pod: &Pod<'_>, all: &[&Container<'_>]) -> Vec<Finding> {
        let mut findings = Vec::new();
        for planned in &plan.rules {
            if planned.exempt_workload {
                continue;
            }
            let filtered: Vec<&Container>;
            let containers = if planned.container_exemptions.is_empty() {
                all
            } else {
                filtered = all
                    .iter()
                    .copied()
                    .filter(|c| {
                        !planned
                            .container_exemptions
                            .iter()
                            .any(|&i| self.exemptions[i].covers_container(c.name, c.image))
                    })
                    .collect();
                &filtered
            };
            let input = CheckInput { pod, containers };
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

    pub fn evaluate(&self, pod: &Pod<'_>) -> Verdict {
        let all: Vec<&Container> = pod.containers.iter().collect();
        let mut enforced: Vec<Finding> = Vec::new();
        // A constraint that repeats a level check word for word (privileged,
        // allowPrivilegeEscalation) says nothing new.
        for f in self.run(&self.enforce, pod, &all) {
            if !enforced.iter().any(|e| e.violation == f.violation) {
                enforced.push(f);
            }
        }
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
