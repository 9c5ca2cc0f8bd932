//! `security-context-policy`: the policy module on the command line, before and around the
//! admission gate. `check` judges manifests with the module's own verdicts, through the same
//! waPC host as `policy-runner run`; what the tool adds (positions, formats, which rule and
//! field) is computed here, never in the module.

mod admission_policy;
mod check_ids;
mod commands;
mod evaluation;
mod inputs;
mod label_selector;
mod manifest;
mod module;
mod offline_cluster;
mod printer;
mod report;
mod violations;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Kubewarden's security-context-policy outside the cluster: the module that decides
/// admission, run on manifests.
#[derive(Debug, Parser)]
#[command(name = "security-context-policy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge every pod-bearing object in manifests as the cluster's admission would, with the
    /// policy module's own verdicts and messages.
    #[command(after_help = commands::check::AFTER_HELP)]
    Check(commands::check::CheckArgs),
    /// Advise the tightest settings today's workloads pass: each namespace's level, the fewest
    /// and narrowest exemptions at a target level, and the fix for each workload.
    #[command(after_help = commands::advise::AFTER_HELP)]
    Advise(commands::advise::AdviseArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Advise(args) => commands::advise::run(args),
    }
}
