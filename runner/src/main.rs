//! `policy-runner`: a stand-in for `kwctl run` on local waPC policies.

mod examples;

use std::path::PathBuf;
use std::process::ExitCode;

use examples::{run_examples, ExamplesArgs};

use policy_runner::{
    parse_settings_json, read_request_file, read_settings_file, GuestLogs, HostCapabilities,
    LoadOptions, PolicyModule, ReplaySession,
};

const USAGE: &str = "\
Usage: policy-runner [-v] run [OPTIONS] --request-path <PATH> <POLICY>
       policy-runner examples --cases <CASES.json> <POLICY>

Runs a Kubewarden waPC policy (a local .wasm file, optionally as file://URI)
against an admission request and prints the AdmissionResponse as JSON, like
`kwctl run`. Settings are validated first; invalid settings are an error.

Options of `run`:
  -r, --request-path <PATH>    AdmissionReview or AdmissionRequest JSON file (- for stdin)
  -s, --settings-path <PATH>   settings file, YAML or JSON (wins over --settings-json)
      --settings-json <VALUE>  settings as a JSON string
  -e, --execution-mode <MODE>  only `kubewarden` (waPC) is supported
      --disable-wasmtime-cache compile the module without the on-disk cache
      --allow-context-aware    let the policy read Kubernetes resources (host capabilities)
      --replay-host-capabilities-interactions <FILE>
                               answer the policy's host calls (Kubernetes, OCI, DNS) from
                               kwctl's session file, in order; there is no cluster otherwise
  -v, --verbose                print the policy's log records on stderr
  -h, --help                   print this help

`examples` evaluates every example listed in a cases file (test_data/cases.json)
and prints each decision and message; it fails when a decision is not the
expected one. A case with a `session` replays that session file, with
context-aware access allowed.

Environment:
  POLICY_RUNNER_CACHE_DIR      wasmtime cache directory
                               (default: $XDG_CACHE_HOME or ~/.cache, /policy-runner/wasmtime)
";

#[derive(Debug, Default, PartialEq)]
struct RunArgs {
    request_path: PathBuf,
    settings_path: Option<PathBuf>,
    settings_json: Option<String>,
    policy: PathBuf,
    disable_cache: bool,
    verbose: bool,
    allow_context_aware: bool,
    replay: Option<PathBuf>,
}

#[derive(Debug, PartialEq)]
enum Command {
    Run(Box<RunArgs>),
    Examples(ExamplesArgs),
    Help,
    Version,
}

/// Parses the arguments (without the program name).
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut verbose = false;
    loop {
        match args.next().as_deref() {
            Some("-v" | "--verbose") => verbose = true,
            Some("-h" | "--help" | "help") => return Ok(Command::Help),
            Some("-V" | "--version") => return Ok(Command::Version),
            Some("run") => break,
            Some("examples") => return parse_examples(args),
            Some(other) => return Err(format!("unexpected argument '{other}'")),
            None => return Err("missing subcommand (only `run` is supported)".into()),
        }
    }

    let mut run = RunArgs {
        verbose,
        ..Default::default()
    };
    let mut request_path = None;
    let mut policy = None;
    let mut only_positional = false;
    while let Some(arg) = args.next() {
        if only_positional || !arg.starts_with('-') || arg == "-" {
            if policy.replace(arg.clone()).is_some() {
                return Err(format!("unexpected argument '{arg}': one policy only"));
            }
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if arg.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("a value is required for '{name}'"))
        };
        match flag.as_str() {
            "--" => only_positional = true,
            "-r" | "--request-path" => request_path = Some(value("--request-path <PATH>")?),
            "-s" | "--settings-path" => {
                run.settings_path = Some(value("--settings-path <PATH>")?.into())
            }
            "--settings-json" => run.settings_json = Some(value("--settings-json <VALUE>")?),
            "-e" | "--execution-mode" => {
                let mode = value("--execution-mode <MODE>")?;
                if mode != "kubewarden" {
                    return Err(format!(
                        "execution mode '{mode}' is not supported (only 'kubewarden')"
                    ));
                }
            }
            "--disable-wasmtime-cache" if inline.is_none() => run.disable_cache = true,
            "--allow-context-aware" if inline.is_none() => run.allow_context_aware = true,
            "--replay-host-capabilities-interactions" => {
                run.replay = Some(value("--replay-host-capabilities-interactions <FILE>")?.into())
            }
            "-v" | "--verbose" if inline.is_none() => run.verbose = true,
            "-h" | "--help" if inline.is_none() => return Ok(Command::Help),
            _ => return Err(format!("unexpected argument '{arg}'")),
        }
    }
    run.request_path = request_path
        .ok_or("the following required argument was not provided: --request-path <PATH>")?
        .into();
    let policy = policy.ok_or("the following required argument was not provided: <POLICY>")?;
    run.policy = policy_path(&policy)?;
    Ok(Command::Run(Box::new(run)))
}

fn parse_examples(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut args = args;
    let mut cases = None;
    let mut policy = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cases" => cases = Some(args.next().ok_or("a value is required for '--cases'")?),
            flag if flag.starts_with('-') => return Err(format!("unexpected argument '{flag}'")),
            _ => {
                if policy.replace(arg.clone()).is_some() {
                    return Err(format!("unexpected argument '{arg}': one policy only"));
                }
            }
        }
    }
    Ok(Command::Examples(ExamplesArgs {
        cases: cases
            .ok_or("the following required argument was not provided: --cases <PATH>")?
            .into(),
        policy: policy_path(
            &policy.ok_or("the following required argument was not provided: <POLICY>")?,
        )?,
    }))
}

/// A local path or `file://` URI; remote policies are out of scope.
fn policy_path(uri: &str) -> Result<PathBuf, String> {
    if let Some(path) = uri.strip_prefix("file://") {
        return Ok(path.into());
    }
    if uri.contains("://") {
        return Err(format!(
            "policy '{uri}': only local files (a path or file://) are supported"
        ));
    }
    Ok(uri.into())
}

fn cache_dir() -> Option<PathBuf> {
    policy_runner::cache_dir("POLICY_RUNNER_CACHE_DIR", "policy-runner")
}

fn run(args: &RunArgs) -> Result<(), String> {
    let request = read_request_file(&args.request_path).map_err(|e| e.to_string())?;
    let settings = if let Some(path) = &args.settings_path {
        read_settings_file(path).map_err(|e| e.to_string())?
    } else if let Some(json) = &args.settings_json {
        parse_settings_json(json).map_err(|e| e.to_string())?
    } else {
        serde_json::json!({})
    };

    let options = LoadOptions {
        cache_dir: if args.disable_cache {
            None
        } else {
            cache_dir()
        },
        guest_logs: if args.verbose {
            GuestLogs::Stderr
        } else {
            GuestLogs::Discard
        },
        ..LoadOptions::default()
    };
    let replay = match &args.replay {
        Some(path) => Some(ReplaySession::from_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let policy = PolicyModule::from_file_with(&args.policy, &options)
        .and_then(|module| module.instantiate())
        .map_err(|e| e.to_string())?;
    policy.set_host_capabilities(HostCapabilities {
        allow_context_aware: args.allow_context_aware,
        replay,
        ..Default::default()
    });

    let verdict = match policy.validate_settings(&settings.to_string()) {
        Ok(verdict) => verdict,
        Err(e) => {
            return Err(format!(
                "Provided settings are not valid: Error invoking settings validation callback: {e}"
            ))
        }
    };
    if !verdict.valid {
        return Err(format!(
            "Provided settings are not valid: {}",
            verdict.message.unwrap_or_default()
        ));
    }

    let response = policy.evaluate(&request, &settings);
    let text = serde_json::to_string(&response).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("policy-runner {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Examples(args)) => match run_examples(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(message) => {
                eprintln!("Error: {message}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Run(args)) => match run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("Error: {message}");
                ExitCode::FAILURE
            }
        },
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    fn run_args(args: &[&str]) -> RunArgs {
        match parse(args) {
            Ok(Command::Run(run)) => *run,
            other => panic!("expected run, got {other:?}"),
        }
    }

    #[test]
    fn parses_kwctl_style_run() {
        let run = run_args(&[
            "run",
            "-r",
            "req.json",
            "--settings-json",
            "{}",
            "file:///tmp/p.wasm",
        ]);
        assert_eq!(run.request_path, PathBuf::from("req.json"));
        assert_eq!(run.settings_json.as_deref(), Some("{}"));
        assert_eq!(run.policy, PathBuf::from("/tmp/p.wasm"));
        assert!(!run.verbose && !run.disable_cache);
    }

    #[test]
    fn accepts_equals_form_and_flags_after_policy() {
        let run = run_args(&[
            "-v",
            "run",
            "p.wasm",
            "--request-path=r.json",
            "-s",
            "s.yaml",
            "--disable-wasmtime-cache",
            "-e",
            "kubewarden",
        ]);
        assert_eq!(run.request_path, PathBuf::from("r.json"));
        assert_eq!(run.settings_path, Some(PathBuf::from("s.yaml")));
        assert!(run.verbose && run.disable_cache);
        assert!(!run.allow_context_aware && run.replay.is_none());
    }

    #[test]
    fn parses_kwctl_context_aware_flags() {
        let run = run_args(&[
            "run",
            "--allow-context-aware",
            "-r",
            "r.json",
            "--replay-host-capabilities-interactions",
            "test_data/sessions/s.yml",
            "p.wasm",
        ]);
        assert!(run.allow_context_aware);
        assert_eq!(run.replay, Some(PathBuf::from("test_data/sessions/s.yml")));
        let run = run_args(&[
            "run",
            "-r",
            "r.json",
            "--replay-host-capabilities-interactions=s.yml",
            "p.wasm",
        ]);
        assert!(!run.allow_context_aware);
        assert_eq!(run.replay, Some(PathBuf::from("s.yml")));
        assert!(parse(&["run", "-r", "r.json", "p.wasm", "--allow-context-aware=yes"]).is_err());
        assert!(parse(&[
            "run",
            "-r",
            "r.json",
            "p.wasm",
            "--replay-host-capabilities-interactions"
        ])
        .is_err());
    }

    #[test]
    fn rejects_bad_usage() {
        for args in [
            &["run", "-r", "r.json", "--bogus", "p.wasm"][..],
            &["run", "p.wasm"],
            &["run", "-r", "r.json"],
            &["run", "-r"],
            &["run", "-r", "r.json", "a.wasm", "b.wasm"],
            &["run", "-r", "r.json", "-e", "opa", "p.wasm"],
            &["run", "-r", "r.json", "registry://ghcr.io/x/y:1"],
            &["bench"],
            &[],
        ] {
            assert!(parse(args).is_err(), "{args:?} should be a usage error");
        }
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert_eq!(parse(&["run", "-h"]), Ok(Command::Help));
        assert_eq!(parse(&["--version"]), Ok(Command::Version));
        assert_eq!(
            parse(&["examples", "--cases", "c.json", "p.wasm"]),
            Ok(Command::Examples(ExamplesArgs {
                cases: "c.json".into(),
                policy: "p.wasm".into()
            }))
        );
        assert!(parse(&["examples", "p.wasm"]).is_err());
    }
}
