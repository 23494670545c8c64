//! `keysweep protect`, `keysweep hook` and `keysweep install-hook`: keeping
//! secrets out of commits and pushes.

use anyhow::{bail, Context as _, Result};
use keysweep_core::{Baseline, BASELINE_FILE};
use keysweep_git::{HistoryEvent, HistoryOptions, PushUpdate, StagedEvent, StagedOptions};
use std::io::{IsTerminal, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::args::{ColorWhen, Format, HookArgs, InstallHookArgs, ProtectArgs, RuleArgs};
use crate::rules_cmd::load_rules_for;
use crate::scan_cmd::exit_code;
use keysweep_report::{Item, Reporter, Totals};

/// `keysweep protect --staged | --pre-push`.
pub fn protect(args: &ProtectArgs, color: ColorWhen) -> Result<i32> {
    let input = if args.pre_push {
        read_push_lines()?
    } else {
        Vec::new()
    };
    run(
        &Job {
            repo: &args.repo,
            rules: &args.rules,
            baseline: args.baseline.as_deref(),
            format: args.format,
            reveal: args.reveal,
            staged: args.staged,
            paths: &args.paths,
            push_lines: input,
        },
        color,
    )
}

/// `keysweep hook FILE...` (pre-commit framework entry point).
pub fn hook(args: &HookArgs, color: ColorWhen) -> Result<i32> {
    run(
        &Job {
            repo: Path::new("."),
            rules: &args.rules,
            baseline: args.baseline.as_deref(),
            format: Format::Human,
            reveal: false,
            staged: true,
            paths: &args.files,
            push_lines: Vec::new(),
        },
        color,
    )
}

struct Job<'a> {
    repo: &'a Path,
    rules: &'a RuleArgs,
    baseline: Option<&'a Path>,
    format: Format,
    reveal: bool,
    staged: bool,
    paths: &'a [PathBuf],
    push_lines: Vec<PushUpdate>,
}

/// One line git gives a pre-push hook on stdin.
/// The ref updates git writes to a pre-push hook's standard input (none
/// when it is a terminal: a hook run by hand).
fn read_push_lines() -> Result<Vec<PushUpdate>> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(Vec::new());
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .context("reading the refs to push from standard input")?;
    Ok(PushUpdate::parse_all(&text)?)
}

fn run(job: &Job<'_>, color: ColorWhen) -> Result<i32> {
    let repo = keysweep_git::open(job.repo)?;
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.git_dir().to_path_buf());
    let scanner = crate::rules_cmd::scanner(
        job.rules,
        load_rules_for(job.rules, std::slice::from_ref(&root))?,
    );
    let baseline = match job.baseline {
        Some(p) => Some(Baseline::load(p)?),
        None => {
            let default = root.join(BASELINE_FILE);
            if default.is_file() {
                tracing::info!(path = %default.display(), "using the repository's baseline");
                Some(Baseline::load(&default)?)
            } else {
                None
            }
        }
    };
    // Staged and pre-push scans both leave out `.keysweepignore`d files
    // (`StagedOptions::ignore_file`, `HistoryOptions::ignore_file`).
    let mut reporter = Reporter::new(
        job.format.into(),
        job.reveal,
        baseline,
        crate::output::open(None)?,
    );
    let totals = if job.staged {
        let opts = StagedOptions {
            paths: (!job.paths.is_empty()).then(|| job.paths.to_vec()),
            ..StagedOptions::default()
        };
        let stats = keysweep_git::visit_staged(&scanner, job.repo, &opts, |ev| {
            match ev {
                StagedEvent::Finding(f) => reporter.push(Item::plain(f)),
                StagedEvent::Skipped { path, reason } => {
                    eprintln!(
                        "note: skipped {path}: {}",
                        crate::scan_cmd::skip_note(&reason)
                    );
                }
                _ => {}
            }
            ControlFlow::Continue(())
        })?;
        Totals {
            files: stats.files,
            bytes: stats.bytes,
            skipped: stats.skipped,
            ..Totals::default()
        }
    } else {
        let mut totals = Totals {
            commits: Some(0),
            ..Totals::default()
        };
        for range in keysweep_git::push_ranges(job.repo, &job.push_lines)? {
            let opts = HistoryOptions {
                range,
                ignore_file: true,
                ..HistoryOptions::default()
            };
            let stats = keysweep_git::scan_history(&scanner, job.repo, &opts, |ev| {
                match ev {
                    HistoryEvent::Finding(hf) => reporter.push(Item::from_history(hf, false)),
                    HistoryEvent::Unreadable { path, error, .. } => {
                        eprintln!("warning: {path}: {error}");
                    }
                    _ => {}
                }
                ControlFlow::Continue(())
            })?;
            totals.files += stats.blobs;
            totals.bytes += stats.bytes;
            totals.errors += stats.unreadable;
            totals.commits = Some(totals.commits.unwrap_or(0) + stats.commits);
        }
        totals
    };
    let fingerprints: Vec<String> = reporter
        .items()
        .iter()
        .map(|i| i.finding.fingerprint.to_hex())
        .collect();
    let color = crate::output::use_color(color, &reporter);
    let n = reporter.finish(totals, color)?;
    if n > 0 && job.format == Format::Human {
        let what = if job.staged { "commit" } else { "push" };
        eprintln!(
            "\nkeysweep blocked this {what}: {n} secret{} in the {}.",
            if n == 1 { "" } else { "s" },
            if job.staged {
                "staged changes"
            } else {
                "commits being pushed"
            }
        );
        eprintln!("What to do next:");
        eprintln!("  1. Remove the secret from the file and stage the change again; load it from the environment or a secret manager instead.");
        eprintln!("  2. A false positive? Put a `keysweep:allow` comment on that line, or accept it in the baseline: keysweep baseline update");
        eprintln!(
            "  3. A real credential? Treat it as leaked and replace it: keysweep rotate plan --finding {}",
            fingerprints.first().map(String::as_str).unwrap_or("<fingerprint>")
        );
    }
    Ok(exit_code(false, n))
}

/// `keysweep install-hook`: a plain git hook for teams without pre-commit.
pub fn install_hook(args: &InstallHookArgs) -> Result<i32> {
    let repo = keysweep_git::open(&args.repo)?;
    let hooks = repo.common_dir().join("hooks");
    std::fs::create_dir_all(&hooks).with_context(|| format!("creating {}", hooks.display()))?;
    let (name, mode) = if args.pre_push {
        ("pre-push", "--pre-push")
    } else {
        ("pre-commit", "--staged")
    };
    let path = hooks.join(name);
    if path.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to replace it (or call `keysweep protect {mode}` from it)",
            path.display()
        );
    }
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    // A path shlex cannot quote (a NUL byte) falls back to `keysweep` on PATH.
    let exe = exe
        .and_then(|p| {
            shlex::try_quote(&p.to_string_lossy())
                .ok()
                .map(|q| q.into_owned())
        })
        .unwrap_or_else(|| "keysweep".into());
    let script = format!(
        "#!/bin/sh\n\
         # Installed by `keysweep install-hook`: refuses {what} that add secrets.\n\
         # Exit codes: 0 clean, 1 secrets found (blocks), 2 error (blocks).\n\
         KEYSWEEP={exe}\n\
         command -v \"$KEYSWEEP\" >/dev/null 2>&1 || KEYSWEEP=keysweep\n\
         exec \"$KEYSWEEP\" protect {mode}\n",
        what = if args.pre_push { "pushes" } else { "commits" },
    );
    std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    eprintln!("installed {}", path.display());
    Ok(0)
}
