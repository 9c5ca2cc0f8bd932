//! security-context-policy: a Kubewarden policy that enforces the Pod Security Standards, exactly
//! as Kubernetes' Pod Security Admission defines them, on every workload kind that carries a pod.
//!
//! This file only wires waPC to the evaluator; everything else is host-independent.
//!
//! `scripts/build-wasm.sh` builds the module with `--cfg scp_optimize_size` (its toolchain may
//! use unstable features): code that only settings validation or host calls run is then
//! optimised for size (`#[optimize(size)]`), the request path for speed.
#![cfg_attr(scp_optimize_size, feature(optimize_attribute))]

pub mod admission;
pub mod capabilities;
pub mod checks;
pub mod constraints;
pub mod context;
pub mod decision;
pub mod explain;
pub mod glob;
#[cfg(feature = "wapc")]
pub mod host;
pub mod image_config;
pub mod image_user;
pub mod json_text;
pub mod kyverno_policy;
pub mod level;
pub mod mutation;
pub mod namespace;
pub mod pod;
pub mod pod_security_policy;
pub mod policy;
pub mod profiles;
pub mod reader;
pub mod scope;
pub mod security_context;
pub mod settings;
pub mod sparse_object;
pub mod value_exemption;
pub mod workload;

#[cfg(feature = "wapc")]
pub use wapc_entry::{validate, validate_settings};

/// The waPC entry points Kubewarden calls.
#[cfg(feature = "wapc")]
mod wapc_entry {
    use crate::admission;
    use crate::decision::{Decision, Outcome};
    use crate::host::WapcContext;
    use crate::settings;
    use kubewarden_policy_sdk::response::ValidationResponse;
    use kubewarden_policy_sdk::settings::SettingsValidationResponse;
    use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};

    #[no_mangle]
    pub extern "C" fn wapc_init() {
        guest::register_function("validate", validate);
        guest::register_function("validate_settings", validate_settings);
        guest::register_function(
            "protocol_version",
            kubewarden_policy_sdk::protocol_version_guest,
        );
    }

    /// Decides with the host's answers (namespace labels, access reviews) at hand; they are
    /// asked only when the decision needs them.
    pub fn validate(payload: &[u8]) -> CallResult {
        let Outcome {
            decision,
            audit_annotations,
        } = admission::validate_with(payload, &WapcContext);
        let audit_annotations =
            (!audit_annotations.is_empty()).then(|| audit_annotations.into_iter().collect());
        let response = match decision {
            Decision::Accept { warnings, mutated } => ValidationResponse {
                accepted: true,
                message: None,
                code: None,
                mutated_object: mutated,
                audit_annotations,
                warnings: (!warnings.is_empty()).then_some(warnings),
            },
            Decision::Reject { message, warnings } => ValidationResponse {
                accepted: false,
                message: Some(message),
                code: None,
                mutated_object: None,
                audit_annotations,
                warnings: (!warnings.is_empty()).then_some(warnings),
            },
        };
        Ok(serde_json::to_vec(&response)?)
    }

    /// Unlike the SDK's helper, unreadable settings are answered `valid: false` with the reason,
    /// not with a guest error.
    pub fn validate_settings(payload: &[u8]) -> CallResult {
        let response = match settings::Settings::from_json(payload) {
            Ok(_) => SettingsValidationResponse {
                valid: true,
                message: None,
            },
            Err(message) => SettingsValidationResponse {
                valid: false,
                message: Some(message),
            },
        };
        Ok(serde_json::to_vec(&response)?)
    }
}
