//! What each check id means, for SARIF's rules: the Checks table (level checks) and the
//! Constraints table (constraint ids) of the documentation, read from the same text a reader
//! sees, so the help cannot drift from the docs.

use security_context_policy::settings::known_check_ids;
use std::collections::BTreeMap;

/// The documentation pages that hold the two tables.
const CHECKS_PAGE: &str = include_str!("../../docs/checks.md");
const SETTINGS_PAGE: &str = include_str!("../../docs/settings.md");

/// A check id's help: one line of plain text and the same in Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckHelp {
    pub text: String,
    pub markdown: String,
}

/// Every known check id with its help, in id order.
pub fn all() -> BTreeMap<&'static str, CheckHelp> {
    let mut rows = table_rows(CHECKS_PAGE);
    rows.extend(table_rows(SETTINGS_PAGE));
    known_check_ids()
        .into_iter()
        .map(|id| {
            let markdown = rows
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("`{id}`: see the project's documentation"));
            let text = markdown.replace('`', "").replace("\\|", "|");
            (id, CheckHelp { text, markdown })
        })
        .collect()
}

/// Rows of the Markdown tables in `page` that have an `id` column, by id: the Checks table as
/// `level check since revisions: forbids or requires …`, the Constraints table as
/// `` `key` constraint: requires … ``.
fn table_rows(page: &str) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    let mut header: Vec<String> = Vec::new();
    for line in page.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            header.clear();
            continue;
        }
        let cells = split_row(line);
        if header.is_empty() {
            header = cells;
            continue;
        }
        if cells
            .iter()
            .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue;
        }
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| cells.get(i))
                .map(String::as_str)
        };
        let Some(id) = column("id")
            .map(|c| c.trim_matches('`'))
            .filter(|c| !c.is_empty())
        else {
            continue;
        };
        let help = if let Some(rule) = column("forbids or requires") {
            format!(
                "{} check (revisions {}): forbids or requires {rule}",
                column("level").unwrap_or_default(),
                column("revisions").unwrap_or_default()
            )
        } else if let Some(rule) = column("requires") {
            format!("{} constraint: {rule}", column("key").unwrap_or_default())
        } else {
            continue;
        };
        rows.insert(id.to_string(), help);
    }
    rows
}

/// The cells of a table row, with `\|` kept inside a cell.
fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim_start_matches('|').trim_end_matches('|');
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push_str("\\|");
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    cells.push(cell.trim().to_string());
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_id_has_its_row_of_the_docs() {
        let help = all();
        for id in known_check_ids() {
            let h = &help[id];
            assert!(
                !h.markdown.contains("see the project's documentation"),
                "no row for {id} in docs/checks.md or docs/settings.md"
            );
            assert!(!h.text.contains('`'), "{id}: {}", h.text);
        }
        assert_eq!(
            help["privileged"].text,
            "baseline check (revisions 1.0): forbids or requires privileged: true"
        );
        assert!(help["runAsUserConstraint"]
            .text
            .starts_with("runAsUser constraint: MustRunAs"));
    }
}
