//! `advise`: from the workloads of some manifests (or `kubectl get ... -o json`), the tightest
//! settings they pass today, as a ClusterAdmissionPolicy ready to apply with the report as
//! comments, or as JSON. The advice itself is library code (`security-context-policy-advise`),
//! shared with the playground.

use crate::inputs;
use crate::manifest::{self, Entry};
use clap::{Args, ValueEnum};
use security_context_policy_advise::{advise, Advice, InputObject, Options, Requester};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub const AFTER_HELP: &str = "\
Input: what `check` reads, and what `kubectl get pods,deployments,daemonsets,statefulsets,
replicasets,jobs,cronjobs -A -o json` prints; pods, ReplicaSets and Jobs whose controller is in
the input are reported as that controller.

Exit status: 0 with the advice printed; 2 when an input cannot be read (the advice covers the
documents that could).

Examples:
  kubectl get pods,deployments,daemonsets,statefulsets,replicasets,jobs,cronjobs -A -o json \\
    | security-context-policy advise - > policy.yaml
  security-context-policy advise --level baseline --format json manifests/";

/// The module reference the advised ClusterAdmissionPolicy names unless told.
const MODULE_REF: &str = "registry://registry.example.com/policies/security-context-policy:v0.1.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdviceFormat {
    /// A ClusterAdmissionPolicy for `kubectl apply`, the report as comments.
    Yaml,
    /// `{"settings", "namespaces", "workloads"}`.
    Json,
}

#[derive(Debug, Args)]
pub struct AdviseArgs {
    /// Manifest files or directories (as for `check`); `-` or nothing reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The target level of the advised settings
    #[arg(long, value_name = "LEVEL", default_value = "restricted", value_parser = ["restricted", "baseline"])]
    pub level: String,

    /// The target version (latest, or v1.0 ... v1.38)
    #[arg(long, value_name = "VERSION", default_value = "latest")]
    pub version: String,

    /// Also advise the tightest constraints every workload meets (a PodSecurityPolicy-style
    /// lockdown)
    #[arg(long)]
    pub constraints: bool,

    /// The namespace of objects that name none
    #[arg(short, long, value_name = "NS", default_value = "default")]
    pub namespace: String,

    /// The module the advised ClusterAdmissionPolicy names (spec.module)
    #[arg(long, value_name = "URI", default_value = MODULE_REF)]
    pub module_ref: String,

    /// Output format
    #[arg(long, value_enum, default_value_t = AdviceFormat::Yaml)]
    pub format: AdviceFormat,
}

pub fn run(args: AdviseArgs) -> ExitCode {
    let (sources, unreadable) = inputs::collect(&args.paths);
    let mut failed = false;
    for e in unreadable {
        eprintln!("ERROR {}: {}", e.name, e.message);
        failed = true;
    }
    let mut objects = Vec::new();
    for source in &sources {
        for entry in manifest::read(&source.text) {
            match entry {
                Entry::Object(o) => objects.push(InputObject {
                    file: source.name.clone(),
                    line: o.line,
                    value: o.value,
                }),
                Entry::Unreadable(e) => {
                    eprintln!(
                        "ERROR {}:{} (document {}): {}",
                        source.name, e.line, e.document, e.message
                    );
                    failed = true;
                }
            }
        }
    }
    let options = Options {
        level: args.level.clone(),
        version: args.version.clone(),
        default_namespace: args.namespace.clone(),
        requester: Requester {
            username: crate::commands::check::DEFAULT_USER.to_string(),
            groups: Vec::new(),
        },
        constraints: args.constraints,
    };
    let advice = match advise(&objects, &options) {
        Ok(advice) => advice,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match args.format {
        AdviceFormat::Json => serde_json::to_string_pretty(&advice).unwrap_or_default() + "\n",
        AdviceFormat::Yaml => policy_yaml(&advice, &args),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::from(if failed { 2 } else { 0 })
}

/// The resources of every kind that carries a pod, by API group, as the rules of a policy name
/// them.
fn rules() -> Value {
    json!([
        {"apiGroups": [""], "apiVersions": ["v1"],
         "resources": ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"],
         "operations": ["CREATE", "UPDATE"]},
        {"apiGroups": ["apps"], "apiVersions": ["v1"],
         "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
         "operations": ["CREATE", "UPDATE"]},
        {"apiGroups": ["batch"], "apiVersions": ["v1"],
         "resources": ["jobs", "cronjobs"],
         "operations": ["CREATE", "UPDATE"]}
    ])
}

/// The advised ClusterAdmissionPolicy, with the report as comments above it.
pub fn policy_yaml(advice: &Advice, args: &AdviseArgs) -> String {
    let mut out = String::new();
    let namespaces = advice.namespaces.len();
    let _ = writeln!(
        out,
        "# security-context-policy advise: {} {} in {namespaces} {}, target {}:{}",
        advice.workloads.len(),
        if advice.workloads.len() == 1 {
            "workload"
        } else {
            "workloads"
        },
        if namespaces == 1 {
            "namespace"
        } else {
            "namespaces"
        },
        args.level,
        args.version
    );
    let _ = writeln!(
        out,
        "#\n# The strictest Pod Security level each namespace passes today:"
    );
    for (name, ns) in &advice.namespaces {
        let _ = writeln!(out, "#   {name}: {}", ns.level);
        if let Some(next) = &ns.next_level {
            for b in &ns.blockers {
                let _ = writeln!(
                    out,
                    "#     blocks {next}: {} {} ({})",
                    b.kind,
                    b.name,
                    b.checks.join(", ")
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "#\n# Label them (a namespace enforces its level; warn at the next):"
    );
    for (name, ns) in &advice.namespaces {
        let mut labels = format!(
            "pod-security.kubernetes.io/enforce={} pod-security.kubernetes.io/enforce-version={}",
            ns.level, args.version
        );
        if let Some(next) = &ns.next_level {
            let _ = write!(
                labels,
                " pod-security.kubernetes.io/warn={next} pod-security.kubernetes.io/warn-version={}",
                args.version
            );
        }
        let _ = writeln!(
            out,
            "#   kubectl label --overwrite namespace {name} {labels}"
        );
    }
    let _ = writeln!(out, "#\n# Workloads:");
    for w in &advice.workloads {
        let _ = writeln!(
            out,
            "#   {} {}/{} ({}:{}): passes {}",
            w.kind, w.namespace, w.name, w.file, w.line, w.strictest_level
        );
        if w.violations.is_empty() {
            continue;
        }
        let mut checks: Vec<&str> = w.violations.iter().map(|v| v.check.as_str()).collect();
        checks.dedup();
        let exempted: Vec<String> = w
            .exempted_by
            .iter()
            .map(|i| format!("exemptions[{i}]"))
            .collect();
        let _ = writeln!(
            out,
            "#     at {}: {}; admitted by {}",
            args.level,
            checks.join(", "),
            exempted.join(", ")
        );
        match (&w.fix, &w.reason) {
            (Some(patch), _) => {
                let _ = writeln!(out, "#     fix (RFC 6902, against the object): {patch}");
            }
            (None, Some(reason)) => {
                let _ = writeln!(out, "#     no fix: {reason}");
            }
            (None, None) => {}
        }
    }
    let policy = json!({
        "apiVersion": "policies.kubewarden.io/v1",
        "kind": "ClusterAdmissionPolicy",
        "metadata": {"name": "security-context-policy"},
        "spec": {
            "module": args.module_ref,
            "mode": "protect",
            "mutating": false,
            "rules": rules(),
            "settings": advice.settings,
        }
    });
    out.push_str(&serde_yaml::to_string(&policy).unwrap_or_default());
    out
}
