//! The floor policy: the least work a Kubewarden waPC policy can do while still
//! being honest about it. `validate` parses the whole payload into the SDK's
//! `ValidationRequest` (so the cost of deserialising the request is paid) and
//! then accepts. It is the fixture of the runner's tests and the baseline the
//! benchmark compares the real policy against.

use kubewarden_policy_sdk::request::ValidationRequest;
use kubewarden_policy_sdk::settings::Validatable;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use kubewarden_policy_sdk::{accept_request, protocol_version_guest, validate_settings};
use serde::Deserialize;

/// The floor policy takes no settings; unknown keys are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Settings {}

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

#[no_mangle]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings::<Settings>);
    guest::register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> CallResult {
    let _request = ValidationRequest::<serde_json::Value>::new(payload)?;
    accept_request()
}
