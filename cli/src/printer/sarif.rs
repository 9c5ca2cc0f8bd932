//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning reads it. One rule per check id (the
//! id settings and exemptions use), its help from the docs' tables; one result per violation,
//! on the line of the key that violates. What has no rule of its own (a rejection with no
//! breakdown, an undecided object, a warning, an unreadable document) has a rule of the tool.

use super::{object_label, Printer};
use crate::check_ids;
use crate::report::{Report, Verdict};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;
use std::io::Write;

pub struct SarifPrinter;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/kubewarden";

/// The tool's own rules, beside the check ids.
const TOOL_RULES: &[(&str, &str)] = &[
    (
        "rejected",
        "The policy rejects the object for a reason that no single check names (an object it cannot read, a host error): see the message.",
    ),
    (
        "needs-cluster",
        "The verdict needs what only the cluster knows (a namespace's labels, an image's USER, a SubjectAccessReview): give the Namespace in the input or a kwctl session with --session.",
    ),
    (
        "warning",
        "The policy admits the object with a warning (the warn level, or a default it could not apply).",
    ),
    (
        "unreadable-document",
        "A document of the input could not be read as a Kubernetes object.",
    ),
];

/// A fingerprint that stays the same while the object and the violating key do, wherever
/// lines move: FNV-1a over the parts, in hex.
fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0u8]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn text(text: impl Into<String>) -> Message {
    Message {
        text: Some(text.into()),
        ..Default::default()
    }
}

fn location(file: &str, line: usize) -> Location {
    Location {
        physical_location: Some(PhysicalLocation {
            artifact_location: Some(ArtifactLocation {
                uri: Some(file.to_string()),
                ..Default::default()
            }),
            region: Some(Region {
                start_line: Some(line.max(1) as i64),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl Printer for SarifPrinter {
    fn print(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let checks = check_ids::all()
            .into_iter()
            .map(|(id, help)| (id, help.text, Some(help.markdown)));
        let tool = TOOL_RULES
            .iter()
            .map(|(id, text)| (*id, text.to_string(), None));
        let mut rules: Vec<ReportingDescriptor> = Vec::new();
        let mut index: BTreeMap<String, i64> = BTreeMap::new();
        for (id, text, markdown) in checks.chain(tool) {
            index.insert(id.to_string(), rules.len() as i64);
            let mut rule = ReportingDescriptor::builder()
                .id(id.to_string())
                .short_description(
                    MultiformatMessageString::builder()
                        .text(text.clone())
                        .build(),
                )
                .build();
            // The checks' help is the docs' row, in both forms.
            rule.help = markdown.map(|markdown| {
                MultiformatMessageString::builder()
                    .text(text)
                    .markdown(markdown)
                    .build()
            });
            rules.push(rule);
        }
        let result = |rule: &str,
                      level: ResultLevel,
                      message: String,
                      file: &str,
                      line: usize,
                      parts: &[&str]| {
            let mut result = SarifResult::builder()
                .rule_id(rule.to_string())
                .level(level)
                .message(text(message))
                .locations(vec![location(file, line)])
                .partial_fingerprints(BTreeMap::from([(
                    "securityContextPolicy/v1".to_string(),
                    fingerprint(parts),
                )]))
                .build();
            result.rule_index = index.get(rule).copied();
            result
        };
        let mut results = Vec::new();
        for r in &report.results {
            let object = object_label(&r.kind, &r.namespace, &r.name);
            let id = [r.file.as_str(), &r.kind, &r.namespace, &r.name];
            match r.verdict {
                Verdict::Rejected if !r.violations.is_empty() => {
                    for v in &r.violations {
                        let mut parts = id.to_vec();
                        parts.extend([v.check.as_str(), &v.field]);
                        results.push(result(
                            &v.check,
                            ResultLevel::Error,
                            format!("{object}: {}", v.message),
                            &r.file,
                            v.line,
                            &parts,
                        ));
                    }
                }
                Verdict::Rejected => {
                    let mut parts = id.to_vec();
                    parts.push("rejected");
                    results.push(result(
                        "rejected",
                        ResultLevel::Error,
                        format!("{object}: {}", r.message.as_deref().unwrap_or("rejected")),
                        &r.file,
                        r.line,
                        &parts,
                    ));
                }
                Verdict::Undecided => {
                    let mut parts = id.to_vec();
                    parts.push("needs-cluster");
                    results.push(result(
                        "needs-cluster",
                        ResultLevel::Warning,
                        format!(
                            "{object}: needs the cluster: {}",
                            r.needs_cluster.join("; ")
                        ),
                        &r.file,
                        r.line,
                        &parts,
                    ));
                }
                Verdict::Admitted | Verdict::NotSelected => {}
            }
            for warning in &r.warnings {
                let mut parts = id.to_vec();
                parts.extend(["warning", warning.as_str()]);
                results.push(result(
                    "warning",
                    ResultLevel::Warning,
                    format!("{object}: {warning}"),
                    &r.file,
                    r.line,
                    &parts,
                ));
            }
        }
        for e in &report.errors {
            let document = e.document.map(|d| d.to_string()).unwrap_or_default();
            results.push(result(
                "unreadable-document",
                ResultLevel::Error,
                e.message.clone(),
                &e.file,
                e.line,
                &[&e.file, &document, "unreadable"],
            ));
        }
        let driver = ToolComponent::builder()
            .name("security-context-policy".to_string())
            .version(env!("CARGO_PKG_VERSION").to_string())
            .information_uri(INFORMATION_URI.to_string())
            .rules(rules)
            .build();
        let run = Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .results(results)
            .build();
        let sarif = Sarif::builder()
            .schema(SCHEMA.to_string())
            .version(serde_json::Value::String("2.1.0".to_string()))
            .runs(vec![run])
            .build();
        serde_json::to_writer_pretty(&mut *out, &sarif)?;
        writeln!(out)
    }
}
