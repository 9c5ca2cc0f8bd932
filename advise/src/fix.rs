//! The fix for a workload: the defaults the policy's own mutation sets (`mutate: true`), as an
//! RFC 6902 patch against the input object, when with them the workload passes the target level
//! without an exemption; else a one-line reason why an exemption is needed: the rules still
//! broken once every default is set, which only the workload's own choices break.

use crate::judge::{read_request, Judge};
use security_context_policy::mutation::mutate;
use security_context_policy::workload::{read_pod, WorkloadKind};
use serde_json::Value;

pub fn fix(judge: &Judge, request: &Value) -> Result<(Option<Value>, Option<String>), String> {
    let object = &request["object"];
    let kind = WorkloadKind::of_object(object).ok_or("not a workload")?;
    let pod = read_pod(kind, object)
        .map_err(|e| e.to_string())?
        .ok_or("the object carries no pod")?;
    let mut settings = judge.base_value();
    settings["mutate"] = Value::Bool(true);
    let policy = judge.policy(&settings.to_string())?;
    let mutated = mutate(&policy, kind, || Ok(object.clone()), &pod, false)?;
    let mut mutated_request = request.clone();
    if let Some(mutated) = &mutated {
        mutated_request["object"] = mutated.clone();
    }
    let left = judge.findings(judge.base_settings(), &read_request(&mutated_request)?)?;
    if left.is_empty() {
        let patch = json_patch::diff(object, &mutated_request["object"]);
        return Ok((
            Some(serde_json::to_value(patch).map_err(|e| e.to_string())?),
            None,
        ));
    }
    let mut checks: Vec<&str> = Vec::new();
    for f in &left {
        if !checks.contains(&f.check) {
            checks.push(f.check);
        }
    }
    Ok((
        None,
        Some(format!(
            "no default the policy sets satisfies {} at {}: the workload asks for it",
            checks.join(", "),
            judge.level()
        )),
    ))
}
