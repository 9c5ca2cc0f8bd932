//! A line diff for showing what mutation changed.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// ' ' kept, '+' added, '-' removed.
    pub op: char,
    pub text: String,
}

/// The lines of `before` and `after`, marked by a longest-common-subsequence alignment.
/// Quadratic, which is fine for manifests; beyond 5000 lines a side it gives a plain
/// remove-all/add-all.
pub fn line_diff(before: &str, after: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let line = |op: char, text: &str| DiffLine {
        op,
        text: text.to_string(),
    };
    if a.len() > 5000 || b.len() > 5000 {
        return a
            .iter()
            .map(|l| line('-', l))
            .chain(b.iter().map(|l| line('+', l)))
            .collect();
    }
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(line(' ', a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(line('+', b[j]));
            j += 1;
        } else {
            out.push(line('-', a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_added_and_removed_lines() {
        let d = line_diff("a\nb\nc\n", "a\nx\nc\nd\n");
        let ops: String = d.iter().map(|l| l.op).collect();
        assert_eq!(ops, " +- +");
        let text: Vec<_> = d.iter().map(|l| format!("{}{}", l.op, l.text)).collect();
        assert_eq!(text, [" a", "+x", "-b", " c", "+d"]);
    }
}
