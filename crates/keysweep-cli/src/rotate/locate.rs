//! `keysweep rotate locate`: which store entry holds each leaked value.
//!
//! The search is `keysweep_backends::locate`; this prints its places (never
//! values) and writes the suggested config.

use super::args::{LocateArgs, RotateFormat};
use anyhow::{bail, Context, Result};
use keysweep_backends::{LocateError, LocateOptions, VaultMount};
use keysweep_rotate::FingerprintKey;
use std::io::Write;

pub async fn run(a: &LocateArgs) -> Result<i32> {
    let cfg = super::load_config(&a.common)?;
    let findings = super::load_findings(&a.findings)?;
    if findings.is_empty() {
        bail!("{}: no findings to locate", a.findings.display());
    }
    let mut opts = LocateOptions::from_config(&cfg);
    for m in &a.vault_mounts {
        opts.vault_mounts
            .push(m.parse::<VaultMount>().context("--vault-mount")?);
    }
    if a.no_aws {
        opts.aws = None;
    }
    if let Some(aws) = &mut opts.aws {
        aws.options = super::aws_defaults(&a.common, &cfg);
        if let Some(p) = &a.aws_prefix {
            aws.name_prefix = Some(p.clone());
        }
    }
    let report = match keysweep_backends::locate(&findings, FingerprintKey::from_env(), &opts).await
    {
        Ok(r) => r,
        Err(LocateError::NothingToSearch) => {
            bail!(
                "nothing to search: enable [locate] aws, or give --vault-mount / [[locate.vault]]"
            )
        }
        Err(e @ LocateError::NotBuiltIn { feature }) => {
            bail!("{e}; rebuild with --features {feature}")
        }
        Err(e) => return Err(e.into()),
    };

    if let Some(path) = &a.suggest_config {
        let mut dest = crate::output::open(Some(path))?;
        dest.write_all(keysweep_backends::suggest_config(&report.located).as_bytes())?;
        dest.finish()?;
    }
    let mut out = std::io::stdout().lock();
    match a.common.format {
        RotateFormat::Json => {
            let missing: Vec<_> = report
                .not_located
                .iter()
                .map(|f| serde_json::json!({"rule_id": f.rule_id, "fingerprint": f.fingerprint, "path": f.path, "line": f.line}))
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"searched": report.searched, "located": report.located, "not_located": missing}),
            )?;
            writeln!(out)?;
        }
        RotateFormat::Human => {
            writeln!(out, "Searched: {}", report.searched.join(", "))?;
            for l in &report.located {
                write!(
                    out,
                    "  {} {}  {}:{}\n    → {}",
                    l.rule_id,
                    &l.fingerprint[..12],
                    l.path,
                    l.line,
                    l.store
                )?;
                if let Some(f) = &l.field {
                    write!(out, "  field {f}")?;
                }
                write!(out, "  version {}", l.version)?;
                if !l.labels.is_empty() {
                    write!(out, " ({})", l.labels.join(", "))?;
                }
                writeln!(out)?;
            }
            for f in &report.not_located {
                writeln!(
                    out,
                    "  {} {}  {}:{}\n    → not found in any searched store",
                    f.rule_id,
                    &f.fingerprint[..12],
                    f.path,
                    f.line
                )?;
            }
            writeln!(
                out,
                "\nLocated {} of {} findings.",
                findings.len() - report.not_located.len(),
                findings.len()
            )?;
            if let Some(p) = &a.suggest_config {
                writeln!(
                    out,
                    "Suggested [[rotation]] entries written to {}.",
                    p.display()
                )?;
            }
        }
    }
    Ok(if report.not_located.is_empty() { 0 } else { 1 })
}
