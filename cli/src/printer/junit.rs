//! `--format junit`: one test suite per file, one test case per pod-bearing object, failing
//! with the module's message when the object is rejected; an object whose verdict needs the
//! cluster is an error, one the policy does not select is skipped, and an unreadable document
//! is an error of its own.

use super::{object_label, Printer};
use crate::report::{Report, Verdict};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::Write;

pub struct JunitPrinter;

impl Printer for JunitPrinter {
    fn print(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        print_junit(report, out)
    }
}

fn print_junit<'r>(report: &'r Report, out: &mut dyn Write) -> std::io::Result<()> {
    {
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        let mut suite = |file: &'r str| -> &'r str {
            if !order.contains(&file) {
                order.push(file);
            }
            file
        };
        let mut cases: Vec<(&str, TestCase)> = Vec::new();
        for r in &report.results {
            let status = match r.verdict {
                Verdict::Admitted => TestCaseStatus::success(),
                Verdict::Rejected => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_type("rejected");
                    if let Some(message) = &r.message {
                        status.set_message(message.as_str());
                        status.set_description(message.as_str());
                    }
                    status
                }
                Verdict::Undecided => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status.set_type("needs-cluster");
                    let why = format!("needs the cluster: {}", r.needs_cluster.join("; "));
                    status.set_message(why.as_str());
                    status
                }
                Verdict::NotSelected => {
                    let mut status = TestCaseStatus::skipped();
                    if let Some(message) = &r.message {
                        status.set_message(message.as_str());
                    }
                    status
                }
            };
            let name = format!(
                "{} (line {})",
                object_label(&r.kind, &r.namespace, &r.name),
                r.line
            );
            let mut case = TestCase::new(name, status);
            case.set_classname(r.file.as_str());
            if !r.warnings.is_empty() {
                case.set_system_out(r.warnings.join("\n"));
            }
            cases.push((suite(&r.file), case));
        }
        for e in &report.errors {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type("unreadable");
            status.set_message(e.message.as_str());
            let name = match e.document {
                Some(document) => format!("document {document} (line {})", e.line),
                None => "file".to_string(),
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(e.file.as_str());
            cases.push((suite(&e.file), case));
        }
        for (file, case) in cases {
            suites
                .entry(file)
                .or_insert_with(|| TestSuite::new(file))
                .add_test_case(case);
        }
        let mut junit = quick_junit::Report::new("security-context-policy check");
        for file in order {
            if let Some(suite) = suites.remove(file) {
                junit.add_test_suite(suite);
            }
        }
        junit
            .serialize(&mut *out)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        writeln!(out)
    }
}
