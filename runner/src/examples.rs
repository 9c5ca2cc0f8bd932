//! `policy-runner examples`: every example of a `cases.json` through a policy, one decision
//! per line, checked against the expected decision.
//!
//! A cases file is a JSON list of `{name, request, settings, expect, message?, description?}`:
//! `request` is a request file relative to the cases file, `expect` is `allow` or `deny`, and
//! `message`, when given, must occur in the rejection message. `session`, when given, is a
//! kwctl replay session file (relative to the cases file) that answers the policy's host calls,
//! with context-aware access allowed, as `kwctl run --allow-context-aware
//! --replay-host-capabilities-interactions FILE`. `warning` and `audit`, when given, must occur in
//! some warning and some audit annotation.

use std::path::{Path, PathBuf};

use policy_runner::{
    read_request_file, HostCapabilities, LoadOptions, PolicyModule, ReplaySession,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, PartialEq)]
pub struct ExamplesArgs {
    pub cases: PathBuf,
    pub policy: PathBuf,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    request: String,
    #[serde(default)]
    settings: Value,
    expect: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    warning: Option<String>,
    /// A substring that some audit annotation's value must contain.
    #[serde(default)]
    audit: Option<String>,
    #[serde(default)]
    mutated: bool,
    #[serde(default)]
    session: Option<String>,
}

/// Prints every decision; `Ok(false)` when some decision differs from its expectation.
pub fn run_examples(args: &ExamplesArgs) -> Result<bool, String> {
    let text = std::fs::read_to_string(&args.cases)
        .map_err(|e| format!("{}: {e}", args.cases.display()))?;
    let cases: Vec<Case> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", args.cases.display()))?;
    let dir = args.cases.parent().unwrap_or(Path::new("."));
    let policy = PolicyModule::from_file_with(&args.policy, &LoadOptions::default())
        .and_then(|module| module.instantiate())
        .map_err(|e| e.to_string())?;

    let width = cases.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut unexpected = 0;
    for case in &cases {
        let request = read_request_file(dir.join(&case.request)).map_err(|e| e.to_string())?;
        let settings = if case.settings.is_null() {
            serde_json::json!({})
        } else {
            case.settings.clone()
        };
        let replay = match &case.session {
            Some(file) => {
                Some(ReplaySession::from_file(dir.join(file)).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        policy.set_host_capabilities(HostCapabilities {
            allow_context_aware: replay.is_some(),
            replay,
            ..Default::default()
        });
        let response = policy.evaluate(&request, &settings);
        let message = response
            .status
            .as_ref()
            .and_then(|s| s.message.clone())
            .unwrap_or_default();
        let warnings = response.warnings.clone().unwrap_or_default();
        let patch_ops = response
            .decoded_patch()
            .and_then(|p| p.ok())
            .and_then(|p| p.as_array().map(Vec::len));
        let as_expected = response.allowed == (case.expect == "allow")
            && patch_ops.is_some() == case.mutated
            && case.message.as_deref().is_none_or(|m| message.contains(m))
            && case
                .warning
                .as_deref()
                .is_none_or(|w| warnings.iter().any(|x| x.contains(w)))
            && case.audit.as_deref().is_none_or(|a| {
                response
                    .audit_annotations
                    .iter()
                    .flatten()
                    .any(|(_, value)| value.contains(a))
            });
        if !as_expected {
            unexpected += 1;
        }
        let kind = request["kind"]["kind"].as_str().unwrap_or("?");
        println!(
            "{} {:<width$}  {:<22} {}{}{}",
            if response.allowed { "ALLOW" } else { "DENY " },
            case.name,
            kind,
            settings,
            case.session
                .as_deref()
                .map(|s| format!("  session {s}"))
                .unwrap_or_default(),
            if as_expected {
                String::new()
            } else {
                format!("   <-- expected {}", case.expect)
            },
        );
        if !message.is_empty() {
            println!("      {message}");
        }
        if let Some(n) = patch_ops {
            println!("      mutated: a JSONPatch of {n} operations sets the missing defaults");
        }
        for warning in &warnings {
            println!("      warning: {warning}");
        }
        for (key, value) in response.audit_annotations.iter().flatten() {
            println!("      audit annotation {key}: {value}");
        }
    }
    println!(
        "{} examples: {} as expected, {} not",
        cases.len(),
        cases.len() - unexpected,
        unexpected
    );
    Ok(unexpected == 0)
}
