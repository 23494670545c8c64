//! `keysweep rules list|check`.

use anyhow::Result;
use keysweep_core::{RuleSet, RuleSetBuilder};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

use crate::args::{Format, RuleArgs};

/// Builds the rule set selected by the common rule options.
pub fn load_rules(args: &RuleArgs) -> Result<RuleSet> {
    build(args, &[], false)
}

/// Like [`load_rules`], also picking up a `.gitleaks.toml` at the root of the
/// first directory in `roots` unless told not to.
/// Regexes are compiled lazily (only the rules whose keywords hit), which keeps
/// hooks and small scans fast; `rules` commands compile everything up front.
pub fn load_rules_for(args: &RuleArgs, roots: &[PathBuf]) -> Result<RuleSet> {
    build(args, roots, true)
}

/// A scanner over `rules` with the fingerprint key of
/// `KEYSWEEP_FINGERPRINT_KEY` (else the built-in one) and `--decode-depth`.
pub fn scanner(args: &RuleArgs, rules: RuleSet) -> keysweep_core::Scanner {
    keysweep_core::Scanner::new(rules)
        .with_fingerprint_key(keysweep_core::FingerprintKey::from_env())
        .with_decode_depth(args.decode_depth)
}

fn build(args: &RuleArgs, roots: &[PathBuf], lazy: bool) -> Result<RuleSet> {
    let mut b = RuleSetBuilder::new();
    b.default_rules(!args.no_default_rules).lazy(lazy);
    for p in &args.rules {
        b.add_path(p)?;
    }
    let gitleaks = match &args.gitleaks_config {
        Some(p) => Some(p.clone()),
        None if !args.no_gitleaks_config => roots
            .iter()
            .find(|r| r.is_dir())
            .map(|r| r.join(".gitleaks.toml"))
            .filter(|p| p.is_file()),
        None => None,
    };
    if let Some(path) = gitleaks {
        let imp = keysweep_core::import_gitleaks_file(&path)?;
        eprintln!(
            "note: using gitleaks config {} ({} rule{} imported{})",
            path.display(),
            imp.rules.len(),
            if imp.rules.len() == 1 { "" } else { "s" },
            if args.gitleaks_config.is_none() {
                "; --no-gitleaks-config to skip"
            } else {
                ""
            }
        );
        for w in &imp.warnings {
            eprintln!("warning: {}: {w}", path.display());
        }
        b.add_rules(imp.rules).global_allow(imp.global_allow);
    }
    Ok(b.build()?)
}

pub fn explain(id: &str, args: &RuleArgs) -> Result<i32> {
    let rules = load_rules(args)?;
    let Some(r) = rules.get(id) else {
        anyhow::bail!("no rule with id {id:?} (see `keysweep rules list`)");
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} — {}", r.id, r.name)?;
    writeln!(out, "  kind:      {}", r.kind)?;
    writeln!(out, "  severity:  {}", r.severity)?;
    writeln!(out, "  defined:   {}", r.origin)?;
    if !r.description.is_empty() {
        writeln!(out, "\n  {}\n", r.description)?;
    }
    writeln!(out, "  A match needs:")?;
    if r.keywords.is_empty() {
        writeln!(out, "    - no keyword: the regex runs over every input")?;
    } else {
        writeln!(
            out,
            "    - one of the keywords (ASCII case-insensitive): {}",
            r.keywords.join(", ")
        )?;
    }
    writeln!(
        out,
        "    - the regex, within {} bytes after the keyword: {}",
        r.window, r.regex
    )?;
    if let Some(p) = &r.path {
        writeln!(out, "    - a path matching: {p}")?;
    }
    if let Some(e) = r.min_entropy {
        writeln!(
            out,
            "    - a secret with Shannon entropy of at least {e} bits per byte"
        )?;
    }
    if let Some(c) = r.checksum {
        writeln!(out, "    - a valid checksum ({})", c.name())?;
    }
    writeln!(out, "    - not a placeholder (example, changeme, ${{VAR}}, <your-...>, xxxxxx, repeated or sequential characters)")?;
    writeln!(
        out,
        "    - no `keysweep:allow`, `gitleaks:allow` or `pragma: allowlist secret` on its line"
    )?;
    let a = &r.allow;
    if !a.stopwords.is_empty() {
        writeln!(
            out,
            "    - none of the stopwords: {}",
            a.stopwords.join(", ")
        )?;
    }
    for re in &a.regexes {
        writeln!(out, "    - a secret not matching: {re}")?;
    }
    for p in &a.paths {
        writeln!(out, "    - a path not matching the glob: {p}")?;
    }
    for p in &a.path_regexes {
        writeln!(out, "    - a path not matching: {p}")?;
    }
    if !r.references.is_empty() {
        writeln!(out, "\n  References:")?;
        for u in &r.references {
            writeln!(out, "    {u}")?;
        }
    }
    if !r.examples.is_empty() {
        writeln!(
            out,
            "\n  Examples (fake values with the right shape): {}",
            r.examples.len()
        )?;
        for e in r.examples.iter().take(3) {
            writeln!(out, "    {e}")?;
        }
    }
    Ok(0)
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
