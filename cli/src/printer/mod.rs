//! One writer per output format behind one interface, as ripgrep's printers: the evaluation
//! builds a `Report` and never knows how it is shown.

mod json;
mod junit;
mod sarif;
mod text;

use crate::report::Report;
use std::io::Write;

/// The output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per object, as `make examples` prints, then a summary.
    Text,
    /// The report as one JSON document.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning: one result per violation, on the violating key.
    Sarif,
    /// JUnit XML: one test case per pod-bearing object.
    Junit,
}

impl Format {
    /// Whether the format shows violations one by one (rule, container, key and line), which
    /// the breakdown computes only when asked.
    pub fn shows_violations(self) -> bool {
        matches!(self, Format::Json | Format::Sarif)
    }
}

/// Writes a report in one format.
pub trait Printer {
    fn print(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()>;
}

pub fn printer(format: Format) -> Box<dyn Printer> {
    match format {
        Format::Text => Box::new(text::TextPrinter),
        Format::Json => Box::new(json::JsonPrinter),
        Format::Sarif => Box::new(sarif::SarifPrinter),
        Format::Junit => Box::new(junit::JunitPrinter),
    }
}

/// `Deployment team-a/web`, or `Pod team-a/(generated name)` for an object without a name.
pub fn object_label(kind: &str, namespace: &str, name: &str) -> String {
    let name = if name.is_empty() {
        "(generated name)"
    } else {
        name
    };
    format!("{kind} {namespace}/{name}")
}
