//! The evaluator, natively, as advice needs it: whether settings admit a request, and which
//! rules a request breaks, by the pod or by which container.

use security_context_policy::admission::{decide, judging_policy, AdmissionRequest};
use security_context_policy::checks::Violation;
use security_context_policy::context::NoContext;
use security_context_policy::decision::Decision;
use security_context_policy::pod::Container;
use security_context_policy::policy::Policy;
use security_context_policy::settings::Settings;
use security_context_policy::workload::{read_pod, WorkloadKind};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A request read once, for the many settings advice judges it with.
pub fn read_request(request: &Value) -> Result<AdmissionRequest, String> {
    serde_json::from_value(request.clone()).map_err(|e| format!("cannot read the request: {e}"))
}

/// The levels from the most permissive, for comparing.
const LEVELS: &[&str] = &["privileged", "baseline", "restricted"];

/// A level's place in `LEVELS`.
pub fn rank(level: &str) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(0)
}

/// The level above `level`.
pub fn above(level: &str) -> Option<&'static str> {
    LEVELS.get(rank(level) + 1).copied()
}

/// One rule broken by a workload: by the pod (`container` `None`) or by one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributed {
    pub check: &'static str,
    pub container: Option<ContainerRef>,
    pub violation: Violation,
}

/// A container of a pod, as exemptions select it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerRef {
    /// Its place among the pod's containers (init, regular, ephemeral).
    pub position: usize,
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub kind: &'static str,
    pub name: String,
    pub image: String,
}

impl Attributed {
    pub fn finding(&self) -> crate::Finding {
        crate::Finding {
            check: self.check.to_string(),
            container: self.container.as_ref().map(|c| c.name.clone()),
            message: if self.violation.detail.is_empty() {
                self.violation.reason.to_string()
            } else {
                format!("{} ({})", self.violation.reason, self.violation.detail)
            },
        }
    }
}

/// The target level and version, and settings made from them. One per thread: the policies it
/// compiles are not shared.
pub struct Judge {
    level: String,
    version: String,
    base: String,
    /// Policies by settings text: advice asks the same few settings over and over (each level,
    /// mutation, one scope's exemptions while they are pruned).
    policies: RefCell<HashMap<String, Rc<Policy>>>,
}

/// How many compiled policies a judge keeps.
const KEPT_POLICIES: usize = 256;

impl Judge {
    pub fn new(level: &str, version: &str) -> Result<Judge, String> {
        let judge = Judge {
            level: level.to_string(),
            version: version.to_string(),
            base: json!({"level": level, "version": version}).to_string(),
            policies: RefCell::new(HashMap::new()),
        };
        // Settings the policy refuses (an unknown version) are said once, here.
        judge.policy(&judge.base)?;
        Ok(judge)
    }

    /// The policy of a settings text, compiled once.
    pub fn policy(&self, settings: &str) -> Result<Rc<Policy>, String> {
        if let Some(policy) = self.policies.borrow().get(settings) {
            return Ok(Rc::clone(policy));
        }
        let policy = Rc::new(Policy::new(Settings::from_json(settings.as_bytes())?));
        let mut policies = self.policies.borrow_mut();
        if policies.len() >= KEPT_POLICIES {
            policies.clear();
        }
        policies.insert(settings.to_string(), Rc::clone(&policy));
        Ok(policy)
    }

    /// `{"level": <target>, "version": <target>}`
    pub fn base_settings(&self) -> &str {
        &self.base
    }

    pub fn base_value(&self) -> Value {
        serde_json::from_str(&self.base).unwrap_or_default()
    }

    /// The settings of another level at the target version.
    pub fn settings_at(&self, level: &str) -> String {
        json!({"level": level, "version": self.version}).to_string()
    }

    /// The target level's name.
    pub fn level(&self) -> &str {
        &self.level
    }

    /// The decision of `settings` on `request`.
    pub fn decide(&self, settings: &str, request: &AdmissionRequest) -> Result<Decision, String> {
        Ok(decide(&*self.policy(settings)?, request))
    }

    pub fn admits(&self, settings: &str, request: &AdmissionRequest) -> Result<bool, String> {
        Ok(matches!(
            self.decide(settings, request)?,
            Decision::Accept { .. }
        ))
    }

    /// The strictest level `request` passes with no exemption.
    pub fn strictest(&self, request: &AdmissionRequest) -> Result<String, String> {
        for level in ["restricted", "baseline"] {
            if self.admits(&self.settings_at(level), request)? {
                return Ok(level.to_string());
            }
        }
        Ok("privileged".to_string())
    }

    /// The rules `settings` find broken in `request`, each by the pod or by one container, in
    /// the order a rejection lists them.
    pub fn findings(
        &self,
        settings: &str,
        admission: &AdmissionRequest,
    ) -> Result<Vec<Attributed>, String> {
        let policy = self.policy(settings)?;
        let Some(judging) = judging_policy(&policy, admission, &NoContext)? else {
            return Ok(Vec::new());
        };
        let Some(kind) = WorkloadKind::of_object(&admission.object) else {
            return Ok(Vec::new());
        };
        let pod = match read_pod(kind, &admission.object) {
            Ok(Some(pod)) => pod,
            Ok(None) => return Ok(Vec::new()),
            Err(e) => return Err(e.to_string()),
        };
        Ok(judging
            .attributed_findings(&pod)
            .into_iter()
            .map(|(position, finding)| Attributed {
                check: finding.check,
                container: position.map(|p| container_ref(p, &pod.containers[p])),
                violation: finding.violation,
            })
            .collect())
    }
}

fn container_ref(position: usize, container: &Container<'_>) -> ContainerRef {
    ContainerRef {
        position,
        kind: container.kind.field(),
        name: container.name.to_string(),
        image: container.image.to_string(),
    }
}
