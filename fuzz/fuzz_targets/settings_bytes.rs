//! Raw bytes into `validate_settings`: it never panics, answers `{"valid": bool}`, and settings
//! it calls valid are usable by `validate`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use security_context_policy_fuzz::invariants;

fuzz_target!(|settings: &[u8]| {
    let answer = invariants::validate_settings(settings);
    if answer.valid {
        invariants::settings_usable_by_validate(settings);
    }
});
