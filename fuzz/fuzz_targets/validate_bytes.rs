//! Raw bytes into `validate`: it never panics, and its answer keeps the invariants.

#![no_main]

use libfuzzer_sys::fuzz_target;
use security_context_policy_fuzz::invariants::{self, RawPayload};

fuzz_target!(|payload: &[u8]| {
    let answer = invariants::validate(payload);
    let Ok(parsed) = serde_json::from_slice::<RawPayload>(payload) else {
        return;
    };
    invariants::settings_agree(parsed.settings_text().as_bytes(), &answer);
    invariants::mutation_is_idempotent(&answer, parsed.mutation_requested(), |object| {
        parsed.with_object(object)
    });
});
