//! `keysweep baseline create|update`.

use anyhow::{Context as _, Result};
use keysweep_core::{Baseline, Finding, Scanner};
use keysweep_git::HistoryOptions;
use std::io::Write;

use crate::args::BaselineArgs;
use crate::progress::Progress;
use crate::scan_cmd::{collect_fs, collect_git};

fn scan_all(args: &BaselineArgs, scanner: &Scanner) -> Result<Vec<Finding>> {
    let progress = Progress::new(false);
    let mut found = Vec::new();
    let failed = if args.git.git {
        collect_git(
            scanner,
            &args.paths,
            &args.git,
            HistoryOptions::default(),
            &progress,
            &mut |i| found.push(i.finding),
        )?
        .1
    } else {
        let mut opts = crate::scan_cmd::fs_options(false);
        opts.ignore(!args.no_ignore);
        collect_fs(scanner, &args.paths, &opts, &progress, &mut |i| {
            found.push(i.finding)
        })
        .1
    };
    anyhow::ensure!(
        !failed,
        "some paths could not be scanned; the baseline was not written"
    );
    Ok(found)
}

fn write(path: &std::path::Path, baseline: &Baseline) -> Result<()> {
    let mut dest = crate::output::open(Some(path))?;
    dest.write_all(baseline.to_json().as_bytes())?;
    Ok(dest.finish()?)
}

pub fn create(args: &BaselineArgs) -> Result<i32> {
    let scanner = crate::rules_cmd::scanner(
        &args.rules,
        crate::rules_cmd::load_rules_for(&args.rules, &args.paths)?,
    );
    let found = scan_all(args, &scanner)?;
    let baseline = Baseline::from_findings(&found, scanner.fingerprint_key());
    write(&args.file, &baseline)?;
    eprintln!(
        "wrote {} with {} findings",
        args.file.display(),
        baseline.len()
    );
    Ok(0)
}

pub fn update(args: &BaselineArgs) -> Result<i32> {
    let scanner = crate::rules_cmd::scanner(
        &args.rules,
        crate::rules_cmd::load_rules_for(&args.rules, &args.paths)?,
    );
    let mut baseline = if args.file.exists() {
        Baseline::load(&args.file)?
    } else {
        Baseline::default()
    };
    if baseline.custom_key() == scanner.fingerprint_key().is_default() {
        eprintln!(
            "warning: {} was made with a different fingerprint key setting (KEYSWEEP_FINGERPRINT_KEY); its entries will not match",
            args.file.display()
        );
    }
    let found = scan_all(args, &scanner).context("scanning for the baseline update")?;
    let added = baseline.add(&found);
    let dropped = baseline.retain_present(&found);
    write(&args.file, &baseline)?;
    eprintln!(
        "updated {}: {added} added, {dropped} dropped, {} in total",
        args.file.display(),
        baseline.len()
    );
    Ok(0)
}
