//! `make bench` (its last step): what `security-context-policy check` costs on 10,000
//! pod-bearing objects, against the two figures the CLI's speed goals are stated in:
//!
//! - **the module's own time**: the same AdmissionRequests judged directly through
//!   `policy_runner` (one compiled module, one instance per thread, as many threads as the CLI
//!   uses), so that what the CLI adds (process start, YAML parsing, building requests, the
//!   breakdown of violations with their lines, printing) shows as a ratio (goal: at most 2x);
//! - **kwctl per object**: `kwctl scaffold admission-request` + `kwctl run` on a sample of the
//!   same objects, which is how one judges a manifest with kwctl (goal: the CLI at least 100x
//!   faster per object).
//!
//! ```text
//! cargo run --release -p security-context-policy-cli --example bench_check -- \
//!     target/release/security-context-policy policy.wasm
//! ```
//!
//! (`make bench` runs it with the same profile overrides as `make cli`.) The objects are
//! generated deterministically (a fixed-seed PRNG) into target/bench-check/manifests.yaml.
//! Prints figures; asserts nothing about them. kwctl is `$KWCTL`, else `kwctl` on PATH, else
//! ../shared/kwctl/kwctl beside this clone; without one its row is skipped.

use policy_runner::{LoadOptions, PolicyModule};
use security_context_policy::workload::WorkloadKind;
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Pod-bearing objects in the generated file.
const WORKLOADS: usize = 10_000;
/// Timed runs of each measurement; the best is reported (see [`best`]).
const RUNS: usize = 3;
/// Objects judged one by one with kwctl: each costs two kwctl processes.
const KWCTL_SAMPLE: usize = 20;
/// The namespace the CLI gives objects that name none (its `--namespace` default).
const DEFAULT_NAMESPACE: &str = "default";
/// The user the CLI's requests come from (its `--user` default).
const CLI_USER: &str = "security-context-policy-check";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cli, module_path) = match args.as_slice() {
        [cli, module] => (PathBuf::from(cli), PathBuf::from(module)),
        _ => (
            PathBuf::from("target/release/security-context-policy"),
            PathBuf::from("policy.wasm"),
        ),
    };
    let dir = PathBuf::from("target/bench-check");
    std::fs::create_dir_all(&dir).expect("target/bench-check can be created");
    let dir = std::path::absolute(&dir).expect("an absolute path");
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);

    // The input, written once and read back: the requests timed below are built from the
    // documents as the file holds them, like the CLI's.
    let manifests = dir.join("manifests.yaml");
    let text = generate();
    std::fs::write(&manifests, &text).expect("the manifests can be written");
    let documents: Vec<Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).expect("a generated document reads back"))
        .collect();
    let workloads: Vec<&Value> = documents
        .iter()
        .filter(|d| WorkloadKind::of_object(d).is_some())
        .collect();
    let requests: Vec<String> = workloads
        .iter()
        .enumerate()
        .map(|(i, object)| request(object, i).to_string())
        .collect();
    let n = workloads.len();
    let module_bytes = std::fs::read(&module_path).expect("the policy module is readable");
    println!(
        "security-context-policy check: {n} pod-bearing objects and {} others, one file of {:.1} MB ({}); \
         {threads} threads; {} ({} bytes)",
        documents.len() - n,
        text.len() as f64 / 1e6,
        manifests.display(),
        module_path.display(),
        module_bytes.len()
    );
    println!();

    // The CLI, on a module cache of its own: the first run compiles the module and fills the
    // cache; the timed runs load it from there, as every run after a user's first does.
    let cache = dir.join("cache");
    let _ = std::fs::remove_dir_all(&cache);
    let cli_command = |format: &str, input: &Path| {
        let mut command = Command::new(&cli);
        command
            .args(["check", "--format", format])
            .arg(input)
            .env("SECURITY_CONTEXT_POLICY_CACHE_DIR", &cache);
        command
    };
    let cold = run_cli(cli_command("text", &manifests), &dir.join("out-first.text"));
    let formats = ["text", "json", "sarif"];
    let mut cli_times = Vec::new();
    for format in formats {
        let out = dir.join(format!("out.{format}"));
        let times: Vec<Duration> = (0..RUNS)
            .map(|_| run_cli(cli_command(format, &manifests), &out))
            .collect();
        cli_times.push(best(times));
    }
    // `advise` on the same objects (native code, no module): its goal is at most 5x check.
    let advise_time = best(
        (0..RUNS)
            .map(|_| {
                let mut command = Command::new(&cli);
                command.args(["advise", "--format", "json"]).arg(&manifests);
                run_cli(command, &dir.join("out-advise.json"))
            })
            .collect(),
    );
    // What every run pays before its first object: the process, the module from the cache,
    // one instance and the settings' validation. Measured on a file with no pod-bearing object.
    let empty = dir.join("no-workloads.yaml");
    std::fs::write(
        &empty,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty\ndata: {}\n",
    )
    .expect("the empty input can be written");
    let start = best(
        (0..5)
            .map(|_| run_cli(cli_command("text", &empty), &dir.join("out-empty.txt")))
            .collect(),
    );
    let summary = cli_summary(&dir.join("out.json"));

    // The module alone, loaded with the CLI's options (the default, with its 30 s limit per
    // call): compiled outside the timing, the requests' JSON built before it.
    let module = PolicyModule::from_bytes_with(&module_bytes, &LoadOptions::default())
        .expect("the policy module compiles");
    let mut verdicts = Vec::new();
    let module_time = best(
        (0..RUNS)
            .map(|_| {
                let (time, accepted) = judge(&module, &requests, threads);
                verdicts = accepted;
                time
            })
            .collect(),
    );
    let admitted = verdicts.iter().filter(|&&a| a).count();

    let kwctl = kwctl_per_object(&dir, &module_path, &workloads, &verdicts);

    let text_time = cli_times[0];
    let per_object = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let row = |what: &str, d: Duration| {
        println!(
            "| {what:<60} | {:>9.3} | {:>9.0} | {:>8.1} |",
            d.as_secs_f64(),
            n as f64 / d.as_secs_f64(),
            per_object(d)
        );
    };
    println!(
        "| {:<60} | {:>9} | {:>9} | {:>8} |",
        "what (best of 3 runs; start: of 5)", "seconds", "objects/s", "µs/object"
    );
    println!("| {:-<60} | {:->9} | {:->9} | {:->8} |", "", "", "", "");
    for (format, time) in formats.iter().zip(&cli_times) {
        row(&format!("check --format {format}"), *time);
    }
    row("advise --format json (target restricted)", advise_time);
    row(
        &format!("module alone: validate, {threads} threads, one instance each"),
        module_time,
    );
    println!(
        "| {:<60} | {:>9.3} | {:>9} | {:>8} |",
        "check start: process, cached module, settings (no object)",
        start.as_secs_f64(),
        "",
        ""
    );
    println!(
        "| {:<60} | {:>9.3} | {:>9} | {:>8} |",
        "check --format text, first run (empty cache: compiles)",
        cold.as_secs_f64(),
        "",
        ""
    );
    if let Some(k) = &kwctl {
        println!(
            "| {:<60} | {:>9.3} | {:>9.1} | {:>8.0} |",
            format!(
                "kwctl scaffold + run, per object (mean of {})",
                k.per_object.len()
            ),
            k.mean().as_secs_f64(),
            1.0 / k.mean().as_secs_f64(),
            k.mean().as_secs_f64() * 1e6
        );
    }
    println!();
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("ratios (goals: CLI / module at most 2x, kwctl / CLI per object at least 100x):");
    println!(
        "  advise / check --format text: {:.2}x (goal: at most 5x)",
        advise_time.as_secs_f64() / text_time.as_secs_f64()
    );
    for (format, time) in formats.iter().zip(&cli_times) {
        println!(
            "  check --format {format:<5} / module: {:.2}x; without the start: {:.2}x",
            ratio(*time, module_time),
            ratio(time.saturating_sub(start), module_time)
        );
    }
    match &kwctl {
        Some(k) => println!(
            "  kwctl per object / check --format text per object: {:.0}x",
            k.mean().as_secs_f64() / (text_time.as_secs_f64() / n as f64)
        ),
        None => {
            println!("  kwctl: not found ($KWCTL, kwctl on PATH, ../shared/kwctl/kwctl): skipped")
        }
    }
    println!();
    println!(
        "verdicts: module {admitted} admitted, {} rejected of {n}",
        n - admitted
    );
    match summary {
        Some((cli_admitted, cli_rejected)) => println!(
            "          check  {cli_admitted} admitted, {cli_rejected} rejected (--format json summary)"
        ),
        None => println!("          check: no summary read from out.json"),
    }
    if let Some(k) = &kwctl {
        println!(
            "          kwctl  agrees with the module on {} of {} sampled objects",
            k.agreeing,
            k.per_object.len()
        );
    }
    println!();
    println!("commands:");
    println!(
        "  SECURITY_CONTEXT_POLICY_CACHE_DIR={} {} check --format text|json|sarif {} >{}/out.FORMAT",
        cache.display(),
        cli.display(),
        manifests.display(),
        dir.display()
    );
    println!("  (one untimed run first fills the cache: the timed runs load the compiled module from it)");
    println!(
        "  module alone: policy_runner PolicyModule::from_bytes_with(policy.wasm), {threads} \
         threads, Policy::validate(request, \"{{}}\") per object, request JSON built before timing"
    );
    if let Some(k) = &kwctl {
        println!(
            "  KUBECONFIG={0}/kubeconfig {1} scaffold admission-request --operation CREATE \
             --object {0}/kwctl/object-NN.yaml >{0}/kwctl/request-NN.json",
            dir.display(),
            k.binary.display()
        );
        println!(
            "  KUBECONFIG={0}/kubeconfig KWCTL_BIN={1} scripts/kwctl-offline.sh run --request-path \
             {0}/kwctl/request-NN.json --settings-json '{{}}' {2}",
            dir.display(),
            k.binary.display(),
            module_path.display()
        );
        println!("  (one untimed kwctl run first, so that kwctl's own module cache is warm)");
    }
}

/// The fastest of some runs: on a shared 2-core machine, other work (a build, a test run) only
/// ever adds time, to the CLI and to the module alike, so the best run is the closest to what
/// the work itself costs, and ratios of best runs move least from run to run.
fn best(times: Vec<Duration>) -> Duration {
    times.into_iter().min().expect("at least one run")
}

/// Runs the CLI with its report going to `out`, and returns the wall time of the process. Exit
/// 1 (something rejected) is the expected outcome; anything else means the figures would be
/// of something other than a check, so it stops the benchmark.
fn run_cli(mut command: Command, out: &Path) -> Duration {
    let file = std::fs::File::create(out).expect("the report file can be created");
    let start = Instant::now();
    let output = command
        .stdout(file)
        .stderr(Stdio::piped())
        .output()
        .expect("the CLI starts");
    let elapsed = start.elapsed();
    match output.status.code() {
        Some(0 | 1) => elapsed,
        _ => panic!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// `summary.admitted` and `summary.rejected` of the CLI's JSON report, to show that the CLI
/// reached the module's verdicts; `None` if the report has another shape.
fn cli_summary(path: &Path) -> Option<(u64, u64)> {
    let report: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let summary = &report["summary"];
    Some((summary["admitted"].as_u64()?, summary["rejected"].as_u64()?))
}

/// The CREATE AdmissionRequest `check` sends for `object` (its `creation`, with the default
/// `--namespace` and `--user`), the `i`th pod-bearing object.
fn request(object: &Value, i: usize) -> Value {
    let kind = WorkloadKind::of_object(object).expect("a pod-bearing object");
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .filter(|ns| !ns.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE)
        .to_string();
    let mut object = object.clone();
    object["metadata"]["namespace"] = Value::String(namespace.clone());
    let gvk = json!({"group": group, "version": version, "kind": kind.name()});
    let resource = format!("{}s", kind.name().to_ascii_lowercase());
    let gvr = json!({"group": group, "version": version, "resource": resource});
    json!({
        "uid": format!("00000000-0000-4000-8000-{:012x}", i + 1),
        "kind": gvk,
        "resource": gvr,
        "requestKind": gvk,
        "requestResource": gvr,
        "name": object["metadata"]["name"],
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": CLI_USER, "groups": ["system:authenticated"]},
        "object": object,
        "oldObject": null,
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
    })
}

/// Judges every request with the settings `{}` on `threads` threads, one instance each, taking
/// requests from a shared counter like the CLI's workers. Only the `validate` calls are timed:
/// the instances are made before the clock starts (they cost microseconds against seconds).
/// Returns the time and whether each request was accepted.
fn judge(module: &PolicyModule, requests: &[String], threads: usize) -> (Duration, Vec<bool>) {
    let next = AtomicUsize::new(0);
    let ready = Barrier::new(threads + 1);
    let mut accepted = vec![false; requests.len()];
    let elapsed = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let policy = module.instantiate().expect("the module instantiates");
                    ready.wait();
                    let mut answers = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(request) = requests.get(i) else {
                            break;
                        };
                        let response = policy.validate(request, "{}").expect("the module answers");
                        answers.push((i, response.accepted));
                    }
                    answers
                })
            })
            .collect();
        ready.wait();
        let start = Instant::now();
        let answers: Vec<_> = workers
            .into_iter()
            .map(|w| w.join().expect("a worker finishes"))
            .collect();
        let elapsed = start.elapsed();
        for (i, ok) in answers.into_iter().flatten() {
            accepted[i] = ok;
        }
        elapsed
    });
    (elapsed, accepted)
}

struct KwctlFigures {
    binary: PathBuf,
    /// Scaffold + run, per sampled object.
    per_object: Vec<Duration>,
    /// Sampled objects on which kwctl's `allowed` is the module's.
    agreeing: usize,
}

impl KwctlFigures {
    fn mean(&self) -> Duration {
        self.per_object.iter().sum::<Duration>() / self.per_object.len() as u32
    }
}

/// kwctl to time: `$KWCTL`, `kwctl` on PATH, or ../shared/kwctl/kwctl beside this clone.
fn find_kwctl() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KWCTL").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("kwctl"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let beside = workspace_root().join("../shared/kwctl/kwctl");
        beside.is_file().then_some(beside)
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ is in the workspace")
        .to_path_buf()
}

/// Judges a sample of the objects with kwctl the way one checks a manifest with it: scaffold the
/// CREATE request from the object's file, then run the policy on it, two processes per object.
/// kwctl builds a Kubernetes client even offline, so it gets a kubeconfig whose server, on
/// loopback, is never reached, and runs through scripts/kwctl-offline.sh so that it does not
/// fetch Sigstore's trust root (as `make e2e-tests` does).
fn kwctl_per_object(
    dir: &Path,
    module: &Path,
    workloads: &[&Value],
    verdicts: &[bool],
) -> Option<KwctlFigures> {
    let binary = find_kwctl()?;
    let root = workspace_root();
    let offline = root.join("scripts/kwctl-offline.sh");
    let module = std::path::absolute(module).expect("an absolute path");
    let work = dir.join("kwctl");
    std::fs::create_dir_all(&work).expect("target/bench-check/kwctl can be created");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n  - name: unreachable\n    \
         cluster: {server: \"http://127.0.0.1:9\"}\ncontexts:\n  - name: unreachable\n    \
         context: {cluster: unreachable, user: nobody}\ncurrent-context: unreachable\n\
         users:\n  - name: nobody\n    user: {}\n",
    )
    .expect("the kubeconfig can be written");
    let kwctl = |args: &[&str], stdout: &Path| {
        let file = std::fs::File::create(stdout).expect("kwctl's output file can be created");
        let output = Command::new(&offline)
            .args(args)
            .env("KWCTL_BIN", &binary)
            .env("KUBECONFIG", &kubeconfig)
            .stdout(file)
            .stderr(Stdio::piped())
            .output()
            .expect("kwctl starts");
        assert!(
            output.status.success(),
            "kwctl {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let judge_one = |k: usize, index: usize| -> (Duration, Option<bool>) {
        let object = work.join(format!("object-{k:02}.yaml"));
        let request = work.join(format!("request-{k:02}.json"));
        let response = work.join(format!("response-{k:02}.json"));
        std::fs::write(
            &object,
            serde_yaml::to_string(workloads[index]).expect("an object as YAML"),
        )
        .expect("the object's file can be written");
        let (object_arg, request_arg) = (object.to_str().unwrap(), request.to_str().unwrap());
        let start = Instant::now();
        kwctl(
            &[
                "scaffold",
                "admission-request",
                "--operation",
                "CREATE",
                "--object",
                object_arg,
            ],
            &request,
        );
        kwctl(
            &[
                "run",
                "--request-path",
                request_arg,
                "--settings-json",
                "{}",
                module.to_str().unwrap(),
            ],
            &response,
        );
        let elapsed = start.elapsed();
        let allowed = std::fs::read(&response)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|r| r["allowed"].as_bool());
        (elapsed, allowed)
    };
    // Untimed: kwctl compiles the module on its first run and caches it, like the CLI.
    judge_one(0, 0);
    let step = workloads.len() / KWCTL_SAMPLE;
    let mut per_object = Vec::new();
    let mut agreeing = 0;
    for k in 0..KWCTL_SAMPLE {
        let index = k * step;
        let (elapsed, allowed) = judge_one(k, index);
        per_object.push(elapsed);
        if allowed == Some(verdicts[index]) {
            agreeing += 1;
        }
    }
    Some(KwctlFigures {
        binary,
        per_object,
        agreeing,
    })
}

/// splitmix64 with a fixed seed: the same objects on every run, without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// How far a generated pod is from `restricted`: a minority is compliant, most are not, in
/// the ways real manifests are not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hardening {
    /// Meets `restricted`.
    Restricted,
    /// Hardened, but misses one of `restricted`'s requirements.
    Partial,
    /// No security context at all (the most common case in the wild).
    Plain,
    /// Something `baseline` forbids too: privileged, host namespaces, hostPath, added
    /// capabilities, host ports.
    Risky,
}

const APPS: &[&str] = &[
    "web",
    "api",
    "worker",
    "cache",
    "frontend",
    "checkout",
    "billing",
    "search",
    "auth",
    "metrics",
    "ingest",
    "reports",
    "gateway",
    "scheduler",
    "notifier",
];
const IMAGES: &[&str] = &[
    "nginx:1.27.3",
    "registry.example.com/shop/api:2.4.1",
    "redis:7.2-alpine",
    "postgres:16.4",
    "ghcr.io/example/worker:v0.9.3",
    "quay.io/prometheus/node-exporter:v1.8.1",
    "python:3.12-slim",
    "envoyproxy/envoy:v1.30.1",
    "registry.k8s.io/pause:3.9",
];
const NAMESPACES: &[&str] = &[
    "shop",
    "payments",
    "monitoring",
    "data",
    "platform",
    "team-a",
    "team-b",
];

/// The manifests: WORKLOADS pod-bearing objects, a Service after every 10th and a ConfigMap
/// after every 20th, as one multi-document YAML file.
fn generate() -> String {
    let mut rng = Rng(0x5EC0_27E7);
    let mut text = String::new();
    let mut push = |value: &Value| {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(value).expect("a value as YAML"));
    };
    for i in 0..WORKLOADS {
        let app = format!("{}-{i}", rng.pick(APPS));
        let namespace = (!rng.percent(20)).then(|| rng.pick(NAMESPACES));
        push(&workload(&mut rng, &app, namespace));
        if i % 10 == 9 {
            push(&service(&app, namespace));
        }
        if i % 20 == 19 {
            push(&config_map(&app, namespace));
        }
    }
    text
}

fn metadata(name: &str, namespace: Option<&str>, app: &str) -> Value {
    let mut metadata = json!({
        "name": name,
        "labels": {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "bench"},
    });
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    metadata
}

fn workload(rng: &mut Rng, app: &str, namespace: Option<&str>) -> Value {
    let hardening = match rng.below(100) {
        0..20 => Hardening::Restricted,
        20..55 => Hardening::Partial,
        55..85 => Hardening::Plain,
        _ => Hardening::Risky,
    };
    let labels = json!({"app.kubernetes.io/name": app});
    let template = |rng: &mut Rng, restart: &str| {
        json!({
            "metadata": {"labels": labels},
            "spec": pod_spec(rng, app, hardening, restart),
        })
    };
    let metadata = metadata(app, namespace, app);
    match rng.below(100) {
        0..35 => json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {
                "replicas": 1 + rng.below(5),
                "selector": {"matchLabels": labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "template": template(rng, "Always"),
            },
        }),
        35..47 => json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata,
            "spec": {
                "serviceName": app,
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "template": template(rng, "Always"),
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
                }],
            },
        }),
        47..55 => json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": metadata,
            "spec": {
                "selector": {"matchLabels": labels},
                "updateStrategy": {"type": "RollingUpdate"},
                "template": template(rng, "Always"),
            },
        }),
        55..65 => json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
            "spec": {"backoffLimit": 4, "ttlSecondsAfterFinished": 3600, "template": template(rng, "Never")},
        }),
        65..75 => json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata,
            "spec": {
                "schedule": format!("{} */6 * * *", rng.below(60)),
                "concurrencyPolicy": "Forbid",
                "jobTemplate": {"spec": {"backoffLimit": 2, "template": template(rng, "OnFailure")}},
            },
        }),
        _ => json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": pod_spec(rng, app, hardening, "Always"),
        }),
    }
}

fn pod_spec(rng: &mut Rng, app: &str, hardening: Hardening, restart: &str) -> Value {
    let containers = match rng.below(100) {
        0..70 => 1,
        70..90 => 2,
        _ => 3 + rng.below(2),
    };
    let mut spec = json!({
        "serviceAccountName": app,
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 30,
        "containers": (0..containers)
            .map(|c| container(rng, &format!("{app}-{c}"), hardening, c == 0))
            .collect::<Vec<_>>(),
        "volumes": [
            {"name": "config", "configMap": {"name": format!("{app}-config")}},
            {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        ],
    });
    if rng.percent(25) {
        spec["initContainers"] = json!([container(rng, "init", hardening, false)]);
    }
    if rng.percent(30) {
        spec["volumes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "tls", "secret": {"secretName": format!("{app}-tls")}}));
    }
    if rng.percent(20) {
        spec["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
    }
    match hardening {
        Hardening::Restricted => {
            spec["securityContext"] = json!({
                "runAsNonRoot": true, "runAsUser": 10001, "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            });
        }
        Hardening::Partial => {
            // Often the seccomp profile is the one thing left out.
            spec["securityContext"] = if rng.percent(50) {
                json!({"runAsNonRoot": true, "runAsUser": 1000})
            } else {
                json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}})
            };
        }
        Hardening::Plain => {}
        Hardening::Risky => match rng.below(3) {
            0 => spec["hostNetwork"] = json!(true),
            1 => {
                spec["hostPID"] = json!(true);
                spec["volumes"].as_array_mut().unwrap().push(
                    json!({"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}}),
                );
            }
            _ => {
                spec["volumes"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}));
            }
        },
    }
    spec
}

fn container(rng: &mut Rng, name: &str, hardening: Hardening, serves: bool) -> Value {
    let mut container = json!({
        "name": name,
        "image": rng.pick(IMAGES),
        "imagePullPolicy": "IfNotPresent",
        "args": ["--log-format=json", format!("--workers={}", 1 + rng.below(8))],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/app", "readOnly": true},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    });
    if serves {
        container["ports"] = json!([
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
        ]);
        container["readinessProbe"] = json!({
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 10,
        });
    }
    let restricted = json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
    });
    match hardening {
        Hardening::Restricted => container["securityContext"] = restricted,
        Hardening::Partial => {
            let mut context = restricted;
            match rng.below(3) {
                0 => context["capabilities"] = json!({"drop": ["NET_RAW"]}),
                1 => {
                    context
                        .as_object_mut()
                        .unwrap()
                        .remove("allowPrivilegeEscalation");
                }
                _ => context["seccompProfile"] = json!({"type": "Unconfined"}),
            }
            container["securityContext"] = context;
        }
        Hardening::Plain => {}
        Hardening::Risky => match rng.below(4) {
            0 => container["securityContext"] = json!({"privileged": true}),
            1 => {
                container["securityContext"] =
                    json!({"capabilities": {"add": ["NET_ADMIN", "SYS_TIME"]}})
            }
            2 => {
                container["securityContext"] =
                    json!({"runAsUser": 0, "allowPrivilegeEscalation": true})
            }
            _ => {
                container["ports"] =
                    json!([{"name": "http", "containerPort": 8080, "hostPort": 8080}])
            }
        },
    }
    container
}

fn service(app: &str, namespace: Option<&str>) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service", "metadata": metadata(app, namespace, app),
        "spec": {
            "selector": {"app.kubernetes.io/name": app},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    })
}

fn config_map(app: &str, namespace: Option<&str>) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": metadata(&format!("{app}-config"), namespace, app),
        "data": {"app.yaml": "listen: :8080\nmetrics: :9090\n", "LOG_FORMAT": "json"},
    })
}
