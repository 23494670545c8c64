//! The keysweep command line.
//!
//! The `keysweep` binary is a thin shim over [`main`]. Exit codes are stable:
//! 0 no findings, 1 findings, 2 error; 130 when a run writing a report or
//! baseline file is interrupted (SIGINT, SIGTERM, SIGHUP), which deletes the
//! unfinished temporary file.
// One unsafe site, allowed where it is: opting in to memory maps
// (`scan_cmd::fs_options`).
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod args;
mod baseline_cmd;
mod logging;
mod output;
mod progress;
mod protect_cmd;
mod rotate;
mod rules_cmd;
mod scan_cmd;

use clap::Parser;

pub use args::Cli;

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    logging::init(cli.verbose, cli.quiet);
    let res = match &cli.command {
        args::Command::Scan(a) => scan_cmd::run(a, cli.color, cli.quiet),
        args::Command::Protect(a) => protect_cmd::protect(a, cli.color),
        args::Command::Hook(a) => protect_cmd::hook(a, cli.color),
        args::Command::InstallHook(a) => protect_cmd::install_hook(a),
        args::Command::Baseline(args::BaselineCommand::Create(a)) => baseline_cmd::create(a),
        args::Command::Baseline(args::BaselineCommand::Update(a)) => baseline_cmd::update(a),
        args::Command::Rules(args::RulesCommand::List { rules, format }) => {
            rules_cmd::list(rules, *format)
        }
        args::Command::Rules(args::RulesCommand::Explain { id, rules }) => {
            rules_cmd::explain(id, rules)
        }
        args::Command::Rules(args::RulesCommand::Check { files, rules }) => {
            rules_cmd::check(files, rules)
        }
        args::Command::Rotate(cmd) => rotate::run(cmd),
    };
    match res {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
