//! The shape shared by `hostNetwork`, `hostPID` and `hostIPC`: PodSecurityPolicy's booleans,
//! where `false` forbids the pod to share that host namespace and `true` allows it.

use super::violation;
use crate::checks::Violation;

/// Whether a boolean PSP control is configured to forbid: only `false` constrains anything.
pub(crate) fn forbids(setting: Option<bool>) -> bool {
    setting == Some(false)
}

/// A violation when the pod shares the host namespace named by `field` (`hostNetwork`, ...).
pub(crate) fn evaluate(
    setting: Option<bool>,
    field: &'static str,
    shares: bool,
) -> Option<Violation> {
    if !forbids(setting) || !shares {
        return None;
    }
    violation(field, vec![format!("pod must not set {field}=true")])
}
