//! `check`: every pod-bearing object of some manifests judged as the CREATE request the API
//! server would send the policy, through the policy module, with the module's own verdict and
//! message; the objects of other kinds counted, not judged.

use crate::admission_policy::{AdmissionPolicy, Applies, RequestShape};
use crate::evaluation::{judge_all, Answer};
use crate::inputs;
use crate::manifest::{self, Entry};
use crate::module;
use crate::offline_cluster::OfflineCluster;
use crate::printer::{printer, Format};
use crate::report::{InputError, ObjectResult, Report, Verdict};
use crate::violations::violations;
use clap::Args;
use policy_runner::{json_patch, read_settings_file, ReplaySession};
use security_context_policy_advise::request::{creation, Creation, Requester};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

pub const AFTER_HELP: &str = "\
Exit status: 0 when every pod-bearing object is admitted; 1 when one is rejected, or its verdict
needs what only the cluster knows (a namespace's labels, an image's USER, a SubjectAccessReview),
or with --fail-on-warn has warnings; 2 when an input, the settings or the policy cannot be read
(the documents that can be read are still reported).

Examples:
  security-context-policy check deploy/
  helm template my-release ./chart | security-context-policy check --policy policy.yaml -
  security-context-policy check --format sarif --settings settings.yaml manifests/ > results.sarif";

/// The user the requests come from when `--user` is not given.
pub const DEFAULT_USER: &str = "security-context-policy-check";

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Manifest files, or directories searched recursively for *.yaml, *.yml and *.json; `-`
    /// or nothing reads standard input (e.g. `helm template` or `kustomize build` output)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The policy's settings (YAML or JSON), as `validate_settings` takes them
    #[arg(long, value_name = "FILE", conflicts_with = "policy")]
    pub settings: Option<PathBuf>,

    /// A Kubewarden ClusterAdmissionPolicy or AdmissionPolicy manifest: its spec.settings are
    /// the settings, and its rules and selectors choose the objects it judges
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The namespace of objects that name none, as `kubectl apply -n`
    #[arg(short, long, value_name = "NS", default_value = "default")]
    pub namespace: String,

    /// The user that creates the objects (userInfo.username)
    #[arg(long, value_name = "NAME", default_value = DEFAULT_USER)]
    pub user: String,

    /// A group of that user (repeatable); system:authenticated is always added
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,

    /// A kwctl host-capabilities session (--record-host-capabilities-interactions) whose
    /// answers stand for the cluster's: namespaces, image configurations, access reviews
    #[arg(long, value_name = "FILE")]
    pub session: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Exit 1 when an admitted object has warnings
    #[arg(long)]
    pub fail_on_warn: bool,

    /// Judge with this policy module (.wasm) instead of the embedded one
    #[arg(long, value_name = "FILE")]
    pub module: Option<PathBuf>,

    /// Worker threads (default: the available cores)
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}

/// A failure that stops `check` before it judges anything: exit 2.
fn fatal(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {message}");
    ExitCode::from(2)
}

pub fn run(args: CheckArgs) -> ExitCode {
    match check(&args) {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = printer(args.format).print(&report, &mut out) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return fatal(format!("cannot write the report: {e}"));
                }
            }
            ExitCode::from(report.exit_code(args.fail_on_warn))
        }
        Err(message) => fatal(message),
    }
}

/// A pod-bearing object found in the input.
struct Found {
    file: String,
    object: manifest::Object,
    creation: Creation,
}

/// Reads the inputs and judges them into a report; `Err` for what stops everything (settings,
/// policy, module, session).
pub fn check(args: &CheckArgs) -> Result<Report, String> {
    let policy = match &args.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the policy {}: {e}", path.display()))?;
            Some(
                AdmissionPolicy::from_yaml(&text)
                    .map_err(|e| format!("the policy {}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let settings: Value = match (&args.settings, &policy) {
        (Some(path), _) => read_settings_file(path).map_err(|e| e.to_string())?,
        (None, Some(policy)) => policy.settings.clone(),
        (None, None) => Value::Object(Default::default()),
    };
    let settings = settings.to_string();
    let module = module::load(args.module.as_deref())?;
    let instance = module.instantiate().map_err(|e| e.to_string())?;
    let verdict = instance
        .validate_settings(&settings)
        .map_err(|e| format!("cannot validate the settings: {e}"))?;
    if !verdict.valid {
        return Err(format!(
            "Provided settings are not valid: {}",
            verdict.message.unwrap_or_default()
        ));
    }
    drop(instance);
    let session = match &args.session {
        Some(path) => Some(ReplaySession::from_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let requester = Requester {
        username: args.user.clone(),
        groups: args.groups.clone(),
    };

    let (sources, unreadable_files) = inputs::collect(&args.paths);
    let mut report = Report::default();
    report.summary.files = sources.len();
    report
        .errors
        .extend(unreadable_files.into_iter().map(|e| InputError {
            file: e.name,
            line: 0,
            document: None,
            message: e.message,
        }));
    let mut cluster = OfflineCluster::new(session);
    let mut found: Vec<Found> = Vec::new();
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    for source in &sources {
        for entry in manifest::read_parallel(&source.text, threads) {
            match entry {
                Entry::Unreadable(e) => report.errors.push(InputError {
                    file: source.name.clone(),
                    line: e.line,
                    document: Some(e.document),
                    message: e.message,
                }),
                Entry::Object(object) => {
                    report.summary.objects += 1;
                    let value = &object.value;
                    if value["apiVersion"] == "v1" && value["kind"] == "Namespace" {
                        cluster.add_namespace(value.clone());
                    }
                    let uid = format!("00000000-0000-4000-8000-{:012x}", found.len() as u64 + 1);
                    if let Some(creation) = creation(value, &args.namespace, &requester, uid) {
                        found.push(Found {
                            file: source.name.clone(),
                            object,
                            creation,
                        });
                    }
                }
            }
        }
    }
    report.summary.other = report.summary.objects - found.len();
    let cluster = Arc::new(cluster);

    // Which objects the policy is sent, as the API server decides from its rules.
    let applies: Vec<Applies> = found
        .iter()
        .map(|f| match &policy {
            None => Applies::Yes,
            Some(policy) => {
                let labels = labels_of(&f.object.value);
                let shape = RequestShape {
                    group: &f.creation.group,
                    version: &f.creation.version,
                    resource: &f.creation.resource,
                    namespace: &f.creation.namespace,
                    labels: &labels,
                };
                policy.applies(
                    &shape,
                    cluster.namespace_labels(&f.creation.namespace).as_ref(),
                )
            }
        })
        .collect();
    let judged: Vec<usize> = (0..found.len())
        .filter(|&i| applies[i] == Applies::Yes)
        .collect();
    let requests: Vec<&Value> = judged.iter().map(|&i| &found[i].creation.request).collect();
    let breakdown = args.format.shows_violations();
    let answers = judge_all(
        &module,
        &cluster,
        &settings,
        &requests,
        threads,
        &|i, answer| {
            let rejected = matches!(&answer.response, Ok(r) if !r.accepted);
            if breakdown && rejected && answer.unanswered.is_empty() {
                let f = &found[judged[i]];
                violations(
                    &settings,
                    &f.creation.request,
                    f.creation.kind,
                    &f.object.positions,
                    &cluster,
                )
            } else {
                Vec::new()
            }
        },
    )?;
    let mut answers = answers.into_iter();
    let monitor = policy
        .as_ref()
        .filter(|p| p.monitor)
        .map(|p| p.name.clone());
    for (f, applies) in found.iter().zip(&applies) {
        let mut result = ObjectResult {
            file: f.file.clone(),
            line: f.object.line,
            document: f.object.document,
            item: f.object.item,
            api_version: f.object.value["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind: f.creation.kind.name().to_string(),
            namespace: f.creation.namespace.clone(),
            name: f.creation.name.clone(),
            verdict: Verdict::Admitted,
            allowed: Some(true),
            message: None,
            warnings: Vec::new(),
            violations: Vec::new(),
            needs_cluster: Vec::new(),
            patch: None,
        };
        match applies {
            Applies::No => {
                result.verdict = Verdict::NotSelected;
                result.message = policy.as_ref().map(|p| {
                    format!(
                        "not sent to {}: its rules or selectors do not select it",
                        p.name
                    )
                });
            }
            Applies::Unknown(what) => {
                result.verdict = Verdict::Undecided;
                result.allowed = None;
                result.needs_cluster.push(what.clone());
            }
            Applies::Yes => {
                let (answer, located) = answers.next().expect("an answer per judged object");
                apply_answer(&mut result, answer, located, f, monitor.as_deref());
            }
        }
        report.results.push(result);
    }
    report.tally();
    Ok(report)
}

/// The module's answer as the API server would return it.
fn apply_answer(
    result: &mut ObjectResult,
    answer: Answer,
    located: Vec<crate::report::Violation>,
    found: &Found,
    monitor: Option<&str>,
) {
    let mut unanswered = answer.unanswered;
    unanswered.sort();
    unanswered.dedup();
    match answer.response {
        Err(e) => {
            // What policy-server answers for a guest that fails: a rejection (code 500).
            result.verdict = Verdict::Rejected;
            result.allowed = Some(false);
            result.message = Some(format!("internal server error: {e}"));
        }
        Ok(response) => {
            result.warnings = response.warnings.unwrap_or_default();
            result.message = response.message;
            if let Some(mutated) = &response.mutated_object {
                let original = &found.creation.request["object"];
                let patch = json_patch(original, mutated);
                if !patch.0.is_empty() {
                    result.patch = serde_json::to_value(patch).ok();
                }
            }
            if !unanswered.is_empty() {
                result.verdict = Verdict::Undecided;
                result.allowed = None;
                result.needs_cluster = unanswered;
            } else if response.accepted {
                result.verdict = Verdict::Admitted;
            } else if let Some(policy) = monitor {
                // policy-server answers a monitored policy's rejections with allowed: true.
                result.verdict = Verdict::Admitted;
                result.violations = located;
                result.warnings.push(format!(
                    "{policy} is in monitor mode: it logs this rejection and does not enforce it"
                ));
            } else {
                result.verdict = Verdict::Rejected;
                result.allowed = Some(false);
                result.violations = located;
            }
        }
    }
}

fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}
