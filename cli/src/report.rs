//! What `check` found, independent of how it is printed: one result per pod-bearing object,
//! the documents that could not be read, and the counts. Printers (`printer/`) only format it.

use serde::Serialize;

/// The verdict on one pod-bearing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// The module admits it (with `mode: monitor`, also what it would reject).
    Admitted,
    Rejected,
    /// The verdict needs what only the cluster knows (`needsCluster` says what).
    Undecided,
    /// The `--policy`'s rules or selectors do not send it to the policy.
    NotSelected,
}

/// One rule's objection, where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// The check or constraint id, as settings and exemptions name it.
    pub check: String,
    /// The container it is about; `None` for what the pod itself sets.
    pub container: Option<String>,
    /// The path of the key that violates in the object (for a missing field: the nearest
    /// enclosing key that exists), e.g. `spec.template.spec.containers[0].securityContext.privileged`.
    pub field: String,
    /// 1-based line of that key.
    pub line: usize,
    /// The rule's words: `reason (detail)`, as in the module's message.
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectResult {
    /// The path as given, or `<stdin>`.
    pub file: String,
    /// 1-based line of the object's first key.
    pub line: usize,
    /// 1-based number of its YAML document in the file.
    pub document: usize,
    /// Its index in a List's items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub verdict: Verdict,
    /// What the API server would answer: `null` when undecided.
    pub allowed: Option<bool>,
    /// The module's message, as the API server would return it.
    pub message: Option<String>,
    pub warnings: Vec<String>,
    pub violations: Vec<Violation>,
    /// What the verdict needs that only the cluster knows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs_cluster: Vec<String>,
    /// The policy would set defaults on it (`mutate: true`): the RFC 6902 patch it returns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<serde_json::Value>,
}

/// A document or file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputError {
    pub file: String,
    /// 1-based line; 0 for a file that could not be read at all.
    pub line: usize,
    /// 1-based document number; `None` for a whole file.
    pub document: Option<usize>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub files: usize,
    /// Objects read, List items counted one by one.
    pub objects: usize,
    /// Objects that carry a pod (one result each).
    pub pod_bearing: usize,
    pub admitted: usize,
    pub rejected: usize,
    pub undecided: usize,
    pub not_selected: usize,
    /// Objects of other kinds: counted, not judged.
    pub other: usize,
    pub unreadable: usize,
    /// Results with warnings.
    pub with_warnings: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub results: Vec<ObjectResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<InputError>,
    pub summary: Summary,
}

impl Report {
    /// Counts the results into the summary.
    pub fn tally(&mut self) {
        let s = &mut self.summary;
        s.pod_bearing = self.results.len();
        s.unreadable = self.errors.len();
        for r in &self.results {
            match r.verdict {
                Verdict::Admitted => s.admitted += 1,
                Verdict::Rejected => s.rejected += 1,
                Verdict::Undecided => s.undecided += 1,
                Verdict::NotSelected => s.not_selected += 1,
            }
            if !r.warnings.is_empty() {
                s.with_warnings += 1;
            }
        }
    }

    /// The exit code: 2 when some input could not be read, else 1 when something is rejected
    /// or undecided (or warned, with `fail_on_warn`), else 0.
    pub fn exit_code(&self, fail_on_warn: bool) -> u8 {
        let s = &self.summary;
        if s.unreadable > 0 {
            2
        } else if s.rejected > 0 || s.undecided > 0 || (fail_on_warn && s.with_warnings > 0) {
            1
        } else {
            0
        }
    }
}
