//! What the policy answers: a decision, and the audit annotations that go with it. Below
//! everything that decides, so that admission, profiles and the waPC wiring share it without
//! importing one another.

use serde_json::Value;
use std::collections::BTreeMap;

/// The policy's verdict on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept {
        warnings: Vec<String>,
        /// The object with defaults set, when `mutate: true` set any.
        mutated: Option<Value>,
    },
    Reject {
        message: String,
        warnings: Vec<String>,
    },
}

/// A decision and the annotations it asks the API server to record in the audit log (Pod
/// Security Admission's `audit-violations`, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    pub audit_annotations: BTreeMap<String, String>,
}

impl From<Decision> for Outcome {
    fn from(decision: Decision) -> Outcome {
        Outcome {
            decision,
            audit_annotations: BTreeMap::new(),
        }
    }
}

impl Decision {
    /// Accepted, with nothing to say.
    pub fn accept() -> Decision {
        Decision::Accept {
            warnings: Vec::new(),
            mutated: None,
        }
    }

    /// Rejected with `message`, and no warnings.
    pub fn reject(message: String) -> Decision {
        Decision::Reject {
            message,
            warnings: Vec::new(),
        }
    }
}
