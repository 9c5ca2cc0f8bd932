//! Which objects of the input are workloads of their own: a pod, ReplicaSet or Job whose
//! controller (`ownerReferences` with `controller: true`) is in the input belongs to it, so
//! `kubectl get pods,deployments,... -o json` reports each Deployment once, not once more per
//! ReplicaSet and pod. One whose controller is absent stands for itself.

use crate::judge::read_request;
use crate::request::{creation, Creation};
use crate::{InputObject, Options};
use security_context_policy::admission::AdmissionRequest;
use security_context_policy::scope::DEFAULT_SERVICE_ACCOUNT;
use security_context_policy::workload::read_pod;
use serde_json::Value;
use std::collections::BTreeSet;

/// A workload of the input: where it is, and its CREATE request.
pub struct Workload {
    pub file: String,
    pub line: usize,
    pub creation: Creation,
    /// `creation.request` as the evaluator reads it, read once.
    pub admission: AdmissionRequest,
    /// The pod's service account (`default` when it names none): with the namespace, what
    /// exemptions are scoped to.
    pub service_account: String,
}

/// How an owner is named in an `ownerReferences` entry: kind, name, and its namespace (owners
/// are in their dependants' namespace).
type OwnerKey = (String, String, String);

pub fn top_workloads(objects: &[InputObject], options: &Options) -> Result<Vec<Workload>, String> {
    let mut workloads = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let uid = format!("00000000-0000-4000-8000-{:012x}", i as u64 + 1);
        if let Some(creation) = creation(
            &object.value,
            &options.default_namespace,
            &options.requester,
            uid,
        ) {
            workloads.push((object, creation));
        }
    }
    let present: BTreeSet<OwnerKey> = workloads
        .iter()
        .map(|(_, c)| {
            (
                c.kind.name().to_string(),
                c.name.clone(),
                c.namespace.clone(),
            )
        })
        .collect();
    let uids: BTreeSet<&str> = workloads
        .iter()
        .filter_map(|(o, _)| o.value["metadata"]["uid"].as_str())
        .collect();
    workloads
        .into_iter()
        .filter(|(object, creation)| {
            !controller(&object.value, &creation.namespace).is_some_and(|(key, uid)| {
                present.contains(&key)
                    && uid.is_none_or(|uid| uids.is_empty() || uids.contains(uid))
            })
        })
        .map(|(object, creation)| {
            let service_account = read_pod(creation.kind, &creation.request["object"])
                .ok()
                .flatten()
                .and_then(|pod| pod.service_account_name.map(str::to_string))
                .unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.to_string());
            Ok(Workload {
                file: object.file.clone(),
                line: object.line,
                admission: read_request(&creation.request).map_err(|e| {
                    format!("{}: {e}", located(&object.file, object.line, &creation))
                })?,
                creation,
                service_account,
            })
        })
        .collect()
}

/// The object's controller, and its uid when the reference gives one.
fn controller<'v>(object: &'v Value, namespace: &str) -> Option<(OwnerKey, Option<&'v str>)> {
    object["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == Value::Bool(true))
        .map(|r| {
            (
                (
                    r["kind"].as_str().unwrap_or_default().to_string(),
                    r["name"].as_str().unwrap_or_default().to_string(),
                    namespace.to_string(),
                ),
                r["uid"].as_str(),
            )
        })
}

/// Where an object is and what it is, for an error about it: `file:line: Kind namespace/name`.
pub fn located(file: &str, line: usize, creation: &Creation) -> String {
    format!(
        "{}:{}: {} {}/{}",
        file,
        line,
        creation.kind.name(),
        creation.namespace,
        creation.name
    )
}
