//! Settings turned into what evaluation needs: the resolved checks for the configured level and
//! version, each with the exemptions that apply to it. Built once per settings document.

use crate::checks::registry::{self, ResolvedCheck};
use crate::checks::{CheckInput, Violation};
use crate::pod::{Container, Pod};
use crate::settings::{Exemption, Settings};

struct PlannedCheck {
    check: ResolvedCheck,
    /// An exemption without images or containers names this check.
    exempt_workload: bool,
    /// Exemptions that name this check for some containers.
    container_exemptions: Vec<usize>,
}

pub struct Policy {
    exemptions: Vec<Exemption>,
    checks: Vec<PlannedCheck>,
    /// `restricted:latest`, as messages print it.
    label: String,
}

/// One check's violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub violation: Violation,
}

impl Policy {
    pub fn new(settings: Settings) -> Policy {
        let label = format!("{}:{}", settings.level, settings.version);
        let checks = registry::resolve(settings.level, settings.version.effective_minor())
            .into_iter()
            .map(|check| {
                let naming: Vec<usize> = settings
                    .exemptions
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.checks.iter().any(|id| id == check.id))
                    .map(|(i, _)| i)
                    .collect();
                PlannedCheck {
                    check,
                    exempt_workload: naming
                        .iter()
                        .any(|&i| settings.exemptions[i].whole_workload()),
                    container_exemptions: naming,
                }
            })
            .collect();
        Policy {
            exemptions: settings.exemptions,
            checks,
            label,
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Every violation of the pod, in evaluation order.
    pub fn evaluate(&self, pod: &Pod<'_>) -> Vec<Finding> {
        let all: Vec<&Container> = pod.containers.iter().collect();
        let mut findings = Vec::new();
        for planned in &self.checks {
            if planned.exempt_workload {
                continue;
            }
            let filtered: Vec<&Container>;
            let containers = if planned.container_exemptions.is_empty() {
                &all
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
            if let Some(violation) = (planned.check.evaluate)(&input) {
                findings.push(Finding {
                    check: planned.check.id,
                    violation,
                });
            }
        }
        findings
    }

    /// Pod Security Admission's message: `violates PodSecurity "level:version": reason (detail), ...`
    pub fn message(&self, prefix: &str, findings: &[Finding]) -> String {
        let mut out = format!("{prefix} PodSecurity \"{}\": ", self.label);
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
}
