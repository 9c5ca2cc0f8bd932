//! Structure-aware settings documents into `validate_settings`; those it calls valid must be
//! usable by `validate`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use security_context_policy_fuzz::invariants;
use security_context_policy_fuzz::settings_model::SettingsDocument;

fuzz_target!(|document: SettingsDocument| {
    let settings = document.render().to_string();
    let answer = invariants::validate_settings(settings.as_bytes());
    if answer.valid {
        invariants::settings_usable_by_validate(settings.as_bytes());
    }
});
