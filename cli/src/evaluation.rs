//! Judging many requests with one compiled module: one instance per worker thread (a waPC
//! instance is not shared), each request through the module's `validate` with the same payload
//! `policy-runner run` sends, host calls answered by the offline cluster.

use crate::offline_cluster::{OfflineCluster, NEEDS_CLUSTER};
use policy_runner::{HostCapabilities, PolicyModule, Responder, ValidationResponse};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The module's answer to one request, and the host questions it asked that could not be
/// answered offline.
#[derive(Debug, Clone)]
pub struct Answer {
    pub response: Result<ValidationResponse, String>,
    pub unanswered: Vec<String>,
}

/// Judges `requests` (AdmissionRequests) with `settings`, on up to `threads` threads, and
/// returns the answers in the order of the requests. `after` runs on the worker's thread with
/// each request and its answer, for native work that should run in parallel too (the
/// breakdown of rejections); its results come back beside the answers.
pub fn judge_all<T: Send>(
    module: &PolicyModule,
    cluster: &Arc<OfflineCluster>,
    settings: &str,
    requests: &[&Value],
    threads: usize,
    after: &(dyn Fn(usize, &Answer) -> T + Sync),
) -> Result<Vec<(Answer, T)>, String> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(Answer, T)>>> =
        Mutex::new((0..requests.len()).map(|_| None).collect());
    let threads = threads.clamp(1, requests.len().max(1));
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let unanswered = Arc::new(Mutex::new(Vec::<String>::new()));
                let policy = match module.instantiate() {
                    Ok(policy) => policy,
                    Err(e) => {
                        *failure.lock().unwrap() =
                            Some(format!("cannot instantiate the module: {e}"));
                        return;
                    }
                };
                let log = Arc::clone(&unanswered);
                let offline = Arc::clone(cluster);
                policy.set_host_capabilities(HostCapabilities {
                    allow_context_aware: true,
                    replay: None,
                    responder: Some(Responder(Arc::new(move |request| {
                        Some(offline.answer(request).map_err(|what| {
                            log.lock().unwrap().push(what.clone());
                            format!("{NEEDS_CLUSTER}: {what}")
                        }))
                    }))),
                });
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        break;
                    };
                    unanswered.lock().unwrap().clear();
                    let text = request.to_string();
                    let response = policy.validate(&text, settings).map_err(|e| e.to_string());
                    let answer = Answer {
                        response,
                        unanswered: std::mem::take(&mut *unanswered.lock().unwrap()),
                    };
                    let extra = after(i, &answer);
                    results.lock().unwrap()[i] = Some((answer, extra));
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every request is judged"))
        .collect())
}
