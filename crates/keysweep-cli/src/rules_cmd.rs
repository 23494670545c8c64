//! `keysweep rules list|check`.

use anyhow::Result;
use keysweep_core::{RuleSet, RuleSetBuilder};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

use crate::args::{Format, RuleArgs};

/// Builds the rule set selected by the common rule options.
pub fn load_rules(args: &RuleArgs) -> Result<RuleSet> {
    let mut b = RuleSetBuilder::new();
    b.default_rules(!args.no_default_rules);
    for p in &args.rules {
        b.add_path(p)?;
    }
    Ok(b.build()?)
}

pub fn list(args: &RuleArgs, format: Format) -> Result<i32> {
    let rules = load_rules(args)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        Format::Json | Format::Jsonl | Format::Sarif => {
            let list: Vec<_> = rules
                .rules()
                .map(|r| {
                    json!({
                        "id": r.id, "name": r.name, "kind": r.kind,
                        "severity": r.severity, "keywords": r.keywords,
                        "description": r.description, "references": r.references,
                        "checksum": r.checksum.map(|c| c.name()),
                        "min_entropy": r.min_entropy, "origin": r.origin,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        Format::Human => {
            for r in rules.rules() {
                writeln!(
                    out,
                    "{:<22} {:<8} {:<28} {}  [{}]",
                    r.id,
                    r.severity.as_str(),
                    r.kind,
                    r.name,
                    r.keywords.join(", ")
                )?;
            }
            writeln!(out, "{} rules", rules.len())?;
        }
    }
    out.flush()?;
    Ok(0)
}

pub fn check(files: &[PathBuf], args: &RuleArgs) -> Result<i32> {
    let rules = if files.is_empty() {
        load_rules(args)?
    } else {
        let mut b = RuleSetBuilder::new();
        b.default_rules(false);
        for f in files {
            b.add_path(f)?;
        }
        b.build()?
    };
    let mut failed = 0;
    let mut examples = 0;
    let mut out = std::io::stdout().lock();
    for c in rules.check_examples() {
        examples += c.checked;
        if !c.failures.is_empty() {
            failed += 1;
            for f in &c.failures {
                writeln!(out, "FAIL {} ({}): {f}", c.rule_id, c.origin)?;
            }
        }
    }
    writeln!(
        out,
        "{} rules, {examples} examples checked: {} passed, {failed} failed",
        rules.len(),
        rules.len() - failed
    )?;
    Ok(if failed == 0 { 0 } else { 1 })
}
