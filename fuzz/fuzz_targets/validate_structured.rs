//! Structure-aware AdmissionRequests of every kind, with random settings, into `validate`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use security_context_policy_fuzz::invariants;
use security_context_policy_fuzz::request_model::ValidatePayload;

fuzz_target!(|described: ValidatePayload| {
    let payload = described.render().to_string();
    let answer = invariants::validate(payload.as_bytes());
    let settings = described
        .settings_json()
        .map_or_else(|| "null".to_string(), |s| s.to_string());
    invariants::settings_agree(settings.as_bytes(), &answer);
    if answer.accepted {
        // validate reads the settings before anything else: it cannot accept with settings
        // that validate_settings rejects. Except their profiles: those are read only when the
        // base settings reject (validate_settings, which Kubewarden calls first, reads them).
        let settings_answer = invariants::validate_settings(settings.as_bytes());
        let only_profiles = settings_answer
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("invalid settings: profiles"));
        assert!(
            settings_answer.valid || only_profiles,
            "validate used settings that validate_settings rejects: {:?}\n{settings}",
            settings_answer.message
        );
    }
    invariants::mutation_is_idempotent(&answer, described.mutation_requested(), |object| {
        described
            .render_with_object(Some(object.clone()))
            .to_string()
            .into_bytes()
    });
});
