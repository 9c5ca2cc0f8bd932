//! RBAC-granted profiles: PodSecurityPolicy's `use`, brought back.
//!
//! When the base settings reject a workload, each profile is tried in order: the API server is
//! asked (a SubjectAccessReview through `ClusterContext::can_i`) whether the requesting user, or
//! else the pod's service account, may `use` the profile; the first granted profile that accepts
//! the workload admits it. Nothing is asked on the accepted path.

use crate::context::{AccessReview, ClusterContext};
use crate::decision::{Decision, Outcome};
use crate::policy::{Policy, Profile};
use crate::scope::AdmissionScope;
use std::fmt;

/// The API group of the profiles RBAC grants. It names no served resource: like
/// PodSecurityPolicy's `use`, it exists only in RBAC rules and SubjectAccessReviews.
pub const API_GROUP: &str = "security-context-policy.kubewarden.io";
/// The resource RBAC grants on; the resource name is the profile's `name`.
pub const RESOURCE: &str = "profiles";
/// The verb, as PodSecurityPolicy's.
pub const VERB: &str = "use";
/// The audit annotation naming the profile that admitted a workload (the API server prefixes
/// it with the webhook's name).
pub const ADMITTED_BY_ANNOTATION: &str = "admitted-by-profile";

/// Whom a profile was granted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// The requesting user, by name or by one of their groups.
    User(String),
    /// The pod's service account, `namespace/name`.
    ServiceAccount(String),
}

impl fmt::Display for Grantee {
    #[cfg_attr(scp_optimize_size, optimize(size))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grantee::User(name) => write!(f, "user \"{name}\""),
            Grantee::ServiceAccount(name) => write!(f, "service account \"{name}\""),
        }
    }
}

/// What the profiles made of a workload the base settings reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileOutcome {
    /// `profile`, granted to `grantee`, accepts the workload with `outcome` (an acceptance).
    Admitted {
        profile: String,
        grantee: Grantee,
        outcome: Outcome,
    },
    /// No granted profile accepts it; the message says which were granted and why each
    /// rejects, or that none was.
    Rejected { message: String },
}

/// Tries `profiles` in order for a workload the base settings rejected with `base_rejection`.
/// `decide` judges the request under one profile's policy.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn try_profiles(
    profiles: &[Profile],
    scope: &AdmissionScope<'_>,
    base_rejection: &str,
    context: &dyn ClusterContext,
    decide: impl Fn(&Policy) -> Outcome,
) -> ProfileOutcome {
    let mut still_reject = Vec::new();
    for profile in profiles {
        let grantee = match granted_to(&profile.name, scope, context) {
            Ok(Some(grantee)) => grantee,
            Ok(None) => continue,
            Err(failure) => {
                return ProfileOutcome::Rejected {
                    message: format!(
                    "{base_rejection}; cannot tell whether profile \"{}\" is granted: {failure}",
                    profile.name
                ),
                }
            }
        };
        let outcome = decide(&profile.policy);
        match outcome.decision {
            Decision::Accept { .. } => {
                return ProfileOutcome::Admitted {
                    profile: profile.name.clone(),
                    grantee,
                    outcome,
                }
            }
            Decision::Reject { message, .. } => {
                still_reject.push(format!(
                    "profile \"{}\" (granted to {grantee}): {message}",
                    profile.name
                ));
            }
        }
    }
    let message = if still_reject.is_empty() {
        let names: Vec<String> = profiles.iter().map(|p| format!("\"{}\"", p.name)).collect();
        format!(
            "{base_rejection}; no profile is granted to user \"{}\" or service account \"{}\" (profiles: {})",
            scope.username,
            scope.service_account_ref(),
            names.join(", ")
        )
    } else {
        format!(
            "{base_rejection}; the granted profiles reject it too: {}",
            still_reject.join("; ")
        )
    };
    ProfileOutcome::Rejected { message }
}

/// The warning that says which profile admitted a workload and what the base settings said.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn admitted_warning(profile: &str, grantee: &Grantee, base_rejection: &str) -> String {
    format!("admitted by profile \"{profile}\", granted to {grantee}; the base settings reject it: {base_rejection}")
}

/// Whether the requesting user, or else the pod's service account, may use the profile.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn granted_to(
    profile: &str,
    scope: &AdmissionScope<'_>,
    context: &dyn ClusterContext,
) -> Result<Option<Grantee>, crate::context::ContextError> {
    let review = |user: String, groups: Vec<String>| AccessReview {
        user,
        groups,
        verb: VERB.to_string(),
        group: API_GROUP.to_string(),
        resource: RESOURCE.to_string(),
        name: profile.to_string(),
        namespace: scope.namespace.to_string(),
    };
    let service_account_user = scope.service_account_user();
    // A SubjectAccessReview needs a user or a group; a request with neither has no requester
    // to ask about.
    let has_requester = !scope.username.is_empty() || !scope.groups.is_empty();
    if has_requester && context.can_i(&review(scope.username.to_string(), scope.groups.to_vec()))? {
        return Ok(Some(Grantee::User(scope.username.to_string())));
    }
    // The service account asking for itself was just asked about.
    if scope.username != service_account_user
        && context.can_i(&review(
            service_account_user,
            scope.service_account_groups(),
        ))?
    {
        return Ok(Some(Grantee::ServiceAccount(scope.service_account_ref())));
    }
    Ok(None)
}
