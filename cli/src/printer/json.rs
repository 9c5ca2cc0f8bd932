//! `--format json`: the report as it is, for scripts.

use super::Printer;
use crate::report::Report;
use std::io::Write;

pub struct JsonPrinter;

impl Printer for JsonPrinter {
    fn print(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)
    }
}
