//! Human output of plans, journals and statuses (ids and fingerprints only).

use keysweep_rotate::{
    format_duration, JournalRecord, Operation, PlanFile, Precondition, RotationPlan,
    RotationStatus, Severity, State, Strategy,
};
use std::io::{self, Write};
use std::path::Path;

fn strategy(s: &Strategy) -> String {
    match s {
        Strategy::Overlap {
            grace_secs,
            on_full,
        } => format!(
            "overlap (grace {}, when full: {})",
            format_duration(*grace_secs),
            serde_json::to_value(on_full)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        Strategy::ContainFirst { grace_secs } => {
            format!("contain-first (grace {})", format_duration(*grace_secs))
        }
        _ => "other".into(),
    }
}

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The plan, shaped like `terraform plan`.
pub fn plan(out: &mut impl Write, file: &PlanFile, saved: Option<&Path>) -> io::Result<()> {
    writeln!(
        out,
        "keysweep will perform the following rotation{} (read-only so far; nothing has changed):",
        if file.plans.len() == 1 { "" } else { "s" }
    )?;
    for np in &file.plans {
        let p = &np.plan;
        let t = &p.target;
        writeln!(out)?;
        writeln!(out, "  # {} ({})", p.id, np.name)?;
        write!(out, "  ~ store    {}", t.store)?;
        if let Some(f) = &t.field {
            write!(out, "  field {f}")?;
        }
        if let Some(f) = &t.id_field {
            write!(out, "  id field {f}")?;
        }
        writeln!(out, "  (current version {})", p.old_version)?;
        write!(out, "  ~ issuer   {}", t.issuer.kind)?;
        if !t.issuer.principal.is_empty() {
            write!(out, ":{}", t.issuer.principal)?;
        }
        if let Some(c) = &p.old_credential {
            write!(out, "  (leaked credential {c})")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "    strategy {}; retire old version: {}",
            strategy(&p.strategy),
            word(&p.retire)
        )?;
        for (op, label) in [
            (Operation::Apply, "apply"),
            (Operation::Finalize, "finalize"),
        ] {
            writeln!(out, "    {label}:")?;
            for s in p.steps.iter().filter(|s| s.operation == op) {
                writeln!(out, "      + {:<12} {}", s.step.to_string(), s.detail)?;
            }
        }
        writeln!(out, "    preconditions (re-checked by apply):")?;
        for pc in &p.preconditions {
            let text = match pc {
                Precondition::CurrentVersion { version } => format!("current version is {version}"),
                Precondition::CurrentValue { fingerprint } => {
                    format!("current value has fingerprint {}", fingerprint.short())
                }
                Precondition::NoForeignPending => "no pending version from another rotation".into(),
                Precondition::Credentials { ids } => format!(
                    "issuer credentials are exactly [{}]",
                    ids.iter()
                        .map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            writeln!(out, "      - {text}")?;
        }
        if !p.permissions.is_empty() {
            writeln!(out, "    permissions needed:")?;
            for perm in &p.permissions {
                writeln!(out, "      - {}  on {}", perm.action, perm.resource)?;
            }
        }
        if !p.risks.is_empty() {
            writeln!(out, "    risks:")?;
            for r in &p.risks {
                let sev = match r.severity {
                    Severity::High => "HIGH",
                    Severity::Warning => "warning",
                    _ => "info",
                };
                writeln!(out, "      ! [{sev}] {}: {}", r.code, r.message)?;
            }
        }
    }
    writeln!(out)?;
    write!(out, "Plan: {} to rotate.", file.plans.len())?;
    match saved {
        Some(path) => writeln!(
            out,
            " Saved to {}.\nRun `keysweep rotate apply --plan {}` to carry it out.",
            path.display(),
            path.display()
        ),
        None => writeln!(out, " Not saved (use -o FILE to apply it later)."),
    }
}

fn journal_path(dir: &Path, id: &str) -> std::path::PathBuf {
    dir.join(format!("{id}.jsonl"))
}

/// How many records the journal has now (0 if none).
pub fn journal_len(dir: &Path, id: &str) -> usize {
    std::fs::read_to_string(journal_path(dir, id))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Prints the journal records appended after the first `from`, one line per
/// finished step, like `terraform apply`'s progress.
pub fn journal_since(out: &mut impl Write, dir: &Path, id: &str, from: usize) -> io::Result<()> {
    let Ok(text) = std::fs::read_to_string(journal_path(dir, id)) else {
        return Ok(());
    };
    for line in text.lines().skip(from) {
        let Ok(r) = serde_json::from_str::<JournalRecord>(line) else {
            continue;
        };
        let phase = word(&r.phase);
        let mark = match phase.as_str() {
            "ok" => "✓",
            "failed" => "✗",
            _ => continue,
        };
        write!(out, "  {mark} {:<12}", r.step.to_string())?;
        for (k, v) in &r.ids {
            write!(out, " {k}={v}")?;
        }
        if let Some(c) = r.error_class {
            write!(out, " ({c})")?;
        }
        if let Some(n) = &r.note {
            write!(out, " — {n}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One status line (plus follow-ups and the next command).
pub fn status_line(
    out: &mut impl Write,
    st: &RotationStatus,
    plan: Option<&RotationPlan>,
) -> io::Result<()> {
    write!(out, "{}  {}", st.rotation_id, st.state)?;
    if let Some(p) = plan {
        write!(out, "  {}", p.target.store)?;
        if let Some(f) = &p.target.field {
            write!(out, " field {f}")?;
        }
    }
    if let Some(c) = &st.new_credential {
        write!(out, "  new credential {c}")?;
    }
    if let Some(v) = &st.new_version {
        write!(out, "  new version {v}")?;
    }
    if let Some(s) = st.incomplete {
        write!(out, "  (interrupted during {s})")?;
    }
    if let Some(c) = st.error_class {
        write!(out, "  last error: {c}")?;
    }
    writeln!(out)?;
    for f in &st.follow_ups {
        writeln!(out, "    follow-up: {f}")?;
    }
    let id = &st.rotation_id;
    let next = match st.state {
        State::OldDeactivated | State::Cutover if st.incomplete.is_none() => {
            let when = match (st.deactivated_at, plan) {
                (Some(at), Some(p)) => {
                    let secs = p.strategy.grace_secs() as i64;
                    at.checked_add(jiff::SignedDuration::from_secs(secs))
                        .map(|t| format!(" after {t}"))
                        .unwrap_or_default()
                }
                _ => String::new(),
            };
            Some(format!(
                "check consumers, then `keysweep rotate finalize {id}`{when} (or `rollback {id}`)"
            ))
        }
        s if s.is_terminal() => None,
        _ => Some(format!(
            "`keysweep rotate resume {id}` (or `rollback {id}`)"
        )),
    };
    if let Some(n) = next {
        writeln!(out, "    next: {n}")?;
    }
    Ok(())
}
