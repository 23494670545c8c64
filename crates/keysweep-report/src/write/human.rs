//! Human output: findings grouped by file, redacted, with a closing summary.

use keysweep_core::Severity;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;
use termcolor::{Buffer, Color, ColorSpec, WriteColor};

use crate::item::Item;
use crate::summary::Totals;

/// Renders findings (already sorted by path and position) and the summary.
pub fn render(
    items: &[Item],
    stats: &Totals,
    elapsed: Duration,
    reveal: bool,
    color: bool,
) -> std::io::Result<Vec<u8>> {
    let mut out = if color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    };
    let mut current: Option<String> = None;
    for item in items {
        let f = &item.finding;
        let path = item.path();
        if current.as_deref() != Some(path.as_str()) {
            if current.is_some() {
                writeln!(out)?;
            }
            out.set_color(ColorSpec::new().set_fg(Some(Color::Magenta)).set_bold(true))?;
            writeln!(out, "{path}")?;
            out.reset()?;
            current = Some(path);
        }
        write!(out, "  {}:{}  ", f.line, f.column)?;
        out.set_color(
            ColorSpec::new()
                .set_fg(Some(severity_color(f.rule.severity)))
                .set_bold(true),
        )?;
        write!(out, "{:<8}", f.rule.severity.as_str())?;
        out.reset()?;
        write!(out, "  {}  ", f.rule.name)?;
        out.set_color(ColorSpec::new().set_dimmed(true))?;
        write!(out, "{}", f.rule.id)?;
        out.reset()?;
        let secret = if reveal {
            String::from_utf8_lossy(f.secret.expose()).into_owned()
        } else {
            f.secret.redacted()
        };
        write!(out, "  ")?;
        out.set_color(ColorSpec::new().set_fg(Some(Color::Red)))?;
        write!(out, "{secret}")?;
        out.reset()?;
        writeln!(out, "  fp:{}", f.fingerprint.short())?;
        writeln!(out, "      {}", f.snippet)?;
        if !f.decoded.is_empty() {
            let chain: Vec<&str> = f.decoded.iter().map(|e| e.as_str()).collect();
            writeln!(out, "      decoded: {}", chain.join(" → "))?;
        }
        if let Some(git) = item.git() {
            for p in &git.provenance {
                out.set_color(ColorSpec::new().set_fg(Some(Color::Yellow)))?;
                write!(out, "      commit {}", &p.commit[..p.commit.len().min(12)])?;
                out.reset()?;
                writeln!(
                    out,
                    " {} <{}> {}  {}  ({})",
                    p.author, p.email, p.date, p.summary, p.path
                )?;
            }
        }
    }
    if !items.is_empty() {
        writeln!(out)?;
    }
    write_summary(&mut out, items, stats, elapsed)?;
    Ok(out.into_inner())
}

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Critical | Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low | Severity::Info => Color::Cyan,
    }
}

fn write_summary(
    out: &mut Buffer,
    items: &[Item],
    stats: &Totals,
    elapsed: Duration,
) -> std::io::Result<()> {
    if items.is_empty() {
        out.set_color(ColorSpec::new().set_fg(Some(Color::Green)).set_bold(true))?;
        writeln!(out, "no secrets found")?;
    } else {
        let files: std::collections::BTreeSet<_> = items.iter().map(Item::path).collect();
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for i in items {
            *by_rule.entry(&i.finding.rule.id).or_default() += 1;
        }
        let rules: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
        out.set_color(ColorSpec::new().set_fg(Some(Color::Red)).set_bold(true))?;
        writeln!(
            out,
            "{} finding{} in {} file{}: {}",
            items.len(),
            plural(items.len() as u64),
            files.len(),
            plural(files.len() as u64),
            rules.join(", ")
        )?;
    }
    out.reset()?;
    let secs = elapsed.as_secs_f64();
    let mib = stats.bytes as f64 / (1024.0 * 1024.0);
    let rate = if secs > 0.0 { mib / secs } else { 0.0 };
    let what = if stats.commits.is_some() {
        "blob"
    } else {
        "file"
    };
    write!(
        out,
        "scanned {} {what}{} ({mib:.1} MiB) in {secs:.2} s, {rate:.1} MiB/s",
        stats.files,
        plural(stats.files)
    )?;
    if let Some(c) = stats.commits {
        write!(out, " across {c} commit{}", plural(c))?;
    }
    if stats.baselined > 0 {
        write!(out, "; {} in the baseline", stats.baselined)?;
    }
    if stats.skipped > 0 {
        write!(out, "; {} skipped", stats.skipped)?;
    }
    if stats.errors > 0 {
        write!(out, "; {} error{}", stats.errors, plural(stats.errors))?;
    }
    writeln!(out)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
