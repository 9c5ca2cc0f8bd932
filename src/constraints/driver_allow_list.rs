//! The shape shared by `allowedFlexVolumes` and `allowedCSIDrivers`: volumes of one source whose
//! driver must be on a list.

use super::violation;
use crate::checks::message::join_quoted;
use crate::checks::{CheckInput, Violation};
use crate::pod::Volume;

#[cfg_attr(scp_optimize_size, optimize(size))]
pub(crate) fn check(key: &str, field: &str, names: &[&str]) -> Result<(), String> {
    match names.iter().position(|n| n.is_empty()) {
        Some(i) => Err(format!("invalid settings: {key}[{i}].{field} is empty")),
        None => Ok(()),
    }
}

/// Every volume whose `driver_of` is not in `allowed`; an empty list allows any.
pub(crate) fn evaluate<'a>(
    input: &CheckInput<'_, 'a>,
    allowed: &[&str],
    reason: &'static str,
    what: &str,
    driver_of: impl Fn(&Volume<'a>) -> Option<&'a str>,
) -> Option<Violation> {
    if allowed.is_empty() {
        return None;
    }
    let details: Vec<String> = input
        .pod
        .volumes
        .iter()
        .filter_map(|v| driver_of(v).map(|d| (v, d)))
        .filter(|(_, d)| !allowed.contains(d))
        .map(|(v, d)| {
            format!(
                "volume \"{}\" uses {what} driver \"{d}\" (allowed: {})",
                v.name,
                join_quoted(allowed)
            )
        })
        .collect();
    violation(reason, details)
}
