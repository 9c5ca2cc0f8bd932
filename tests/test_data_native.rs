//! Every example request in test_data/ against its expected decision, natively.

mod support;

#[test]
fn every_example_request_gets_its_expected_decision() {
    let cases = support::load_cases();
    assert!(cases.len() >= 20);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let response = if case.session.is_some() {
                support::native_validate(case)
            } else {
                // Without a session, through the waPC entry point itself.
                let payload = support::validation_payload(&case.request, &case.settings);
                let response = security_context_policy::validate(&payload).unwrap();
                serde_json::from_slice(&response).unwrap()
            };
            support::check_case(case, &response).err()
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}
