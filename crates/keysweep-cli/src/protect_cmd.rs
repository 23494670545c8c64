//! `keysweep protect`, `keysweep hook` and `keysweep install-hook`: keeping
//! secrets out of commits and pushes.

use anyhow::{bail, Context as _, Result};
use keysweep_core::{Baseline, Scanner, BASELINE_FILE};
use keysweep_git::{HistoryOptions, Range, StagedOptions};
use std::io::{BufRead, IsTerminal};
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
    push_lines: Vec<PushLine>,
}

/// One line git gives a pre-push hook on stdin.
struct PushLine {
    local_sha: String,
    remote_sha: String,
}

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

fn read_push_lines() -> Result<Vec<PushLine>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for line in stdin.lock().lines() {
        let line = line.context("reading the refs to push from standard input")?;
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [_local_ref, local_sha, _remote_ref, remote_sha] = parts[..] {
            out.push(PushLine {
                local_sha: local_sha.to_string(),
                remote_sha: remote_sha.to_string(),
            });
        } else if !line.trim().is_empty() {
            bail!("unexpected pre-push input line: {line:?}");
        }
    }
    Ok(out)
}

fn run(job: &Job<'_>, color: ColorWhen) -> Result<i32> {
    let repo = keysweep_git::open(job.repo)?;
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.git_dir().to_path_buf());
    let scanner = Scanner::new(load_rules_for(job.rules, std::slice::from_ref(&root))?);
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
    // Staged scans leave out `.keysweepignore`d files themselves
    // (`StagedOptions::ignore_file`); pre-push history findings are filtered here.
    let ignore = (!job.staged).then(|| keysweep_git::repo_ignore(&root));
    let mut reporter = Reporter::new(
        job.format.into(),
        job.reveal,
        baseline,
        crate::output::open(None)?,
    );
    let mut push = |item: Item| {
        if let (Some(ignore), Some(rel)) = (&ignore, item.finding.path.as_deref()) {
            if keysweep_git::is_ignored(ignore, rel) {
                tracing::debug!(path = %rel.display(), "ignored by .keysweepignore");
                return;
            }
        }
        reporter.push(item);
    };
    let totals = if job.staged {
        let opts = StagedOptions {
            paths: (!job.paths.is_empty()).then(|| job.paths.to_vec()),
            ..StagedOptions::default()
        };
        let (findings, stats) = keysweep_git::scan_staged(&scanner, job.repo, &opts)?;
        findings.into_iter().map(Item::plain).for_each(&mut push);
        Totals {
            files: stats.files,
            bytes: stats.bytes,
            skipped: stats.skipped,
            ..Totals::default()
        }
    } else {
        let ranges: Vec<Range> = if job.push_lines.is_empty() {
            vec![keysweep_git::pushed_range(job.repo)?]
        } else {
            job.push_lines
                .iter()
                .filter(|l| l.local_sha != ZERO_SHA) // deleting a remote ref sends nothing
                .map(|l| {
                    if l.remote_sha == ZERO_SHA {
                        // A new remote branch: what no remote-tracking branch has yet.
                        match keysweep_git::pushed_range(job.repo) {
                            Ok(Range::Custom { hidden, .. }) => Range::Custom {
                                tips: vec![l.local_sha.clone()],
                                hidden,
                            },
                            _ => Range::parse(&l.local_sha),
                        }
                    } else {
                        Range::Between {
                            from: l.remote_sha.clone(),
                            to: l.local_sha.clone(),
                        }
                    }
                })
                .collect()
        };
        let mut totals = Totals {
            commits: Some(0),
            ..Totals::default()
        };
        for range in ranges {
            let opts = HistoryOptions {
                range,
                ..HistoryOptions::default()
            };
            let stats = keysweep_git::scan_history(&scanner, job.repo, &opts, |hf| {
                push(Item::from_history(hf, false))
            })?;
            totals.files += stats.blobs;
            totals.bytes += stats.bytes;
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
    let exe = exe
        .map(|p| shell_quote(&p.to_string_lossy()))
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

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
