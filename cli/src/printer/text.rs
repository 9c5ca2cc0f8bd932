//! `--format text`: a line per object, as `make examples` prints (the verdict, where the object
//! is, what it is), the module's message and warnings indented below, then a summary.

use super::{object_label, Printer};
use crate::report::{Report, Verdict};
use std::io::Write;

pub struct TextPrinter;

impl Printer for TextPrinter {
    fn print(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        for r in &report.results {
            let verdict = match r.verdict {
                Verdict::Admitted => "ALLOW",
                Verdict::Rejected => "DENY ",
                Verdict::Undecided => "NEEDS",
                Verdict::NotSelected => "SKIP ",
            };
            writeln!(
                out,
                "{verdict} {:<40} {}",
                format!("{}:{}", r.file, r.line),
                object_label(&r.kind, &r.namespace, &r.name)
            )?;
            if let Some(message) = &r.message {
                writeln!(out, "      {message}")?;
            }
            for what in &r.needs_cluster {
                writeln!(out, "      needs the cluster: {what}")?;
            }
            for warning in &r.warnings {
                writeln!(out, "      warning: {warning}")?;
            }
        }
        for e in &report.errors {
            let place = match e.document {
                Some(document) => format!("{}:{} (document {document})", e.file, e.line),
                None => e.file.clone(),
            };
            writeln!(out, "ERROR {place}: {}", e.message)?;
        }
        let s = &report.summary;
        let mut line = format!(
            "{} pod-bearing {}: {} admitted, {} rejected, {} need the cluster",
            s.pod_bearing,
            if s.pod_bearing == 1 {
                "object"
            } else {
                "objects"
            },
            s.admitted,
            s.rejected,
            s.undecided
        );
        if s.not_selected > 0 {
            line.push_str(&format!(", {} not selected by the policy", s.not_selected));
        }
        line.push_str(&format!(
            "; {} other {} not judged; {} unreadable; {} {}",
            s.other,
            if s.other == 1 { "object" } else { "objects" },
            s.unreadable,
            s.files,
            if s.files == 1 { "file" } else { "files" }
        ));
        writeln!(out, "{line}")
    }
}
