//! Runs Kubewarden waPC policies (wasm32-wasip1 modules) in wasmtime, the way
//! `kwctl run` does, with the same engine pair as Kubewarden's
//! policy-evaluator (`wapc` 2 + `wasmtime-provider` 2.25 / wasmtime 48).
//!
//! ```no_run
//! use policy_runner::{PolicyModule, read_request_file};
//!
//! let module = PolicyModule::from_file("policy.wasm")?; // compile once
//! let policy = module.instantiate()?;                    // cheap
//! assert_eq!(policy.protocol_version()?, "v1");
//! let request = read_request_file("request.json")?;     // review or bare request
//! let settings = serde_json::json!({});
//! assert!(policy.validate_settings(&settings.to_string())?.valid);
//! let response = policy.evaluate(&request, &settings);  // kwctl's AdmissionResponse
//! println!("{}", serde_json::to_string(&response)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod admission;
pub mod error;
pub mod host;
pub mod input;
pub mod policy;
pub mod protocol;

pub use admission::{
    admission_response, encoded_json_patch, json_patch, AdmissionResponse, AdmissionResponseStatus,
};
pub use error::{Error, Result};
pub use host::{HostAnswer, HostCapabilities, HostRequest, ReplaySession, Responder};
pub use input::{
    admission_request_from_value, parse_request, parse_settings_json, read_request_file,
    read_settings_file,
};
pub use policy::{cache_dir, GuestLogs, LoadOptions, Policy, PolicyModule, DEFAULT_TIMEOUT};
pub use protocol::{SettingsValidationResponse, ValidationResponse};
