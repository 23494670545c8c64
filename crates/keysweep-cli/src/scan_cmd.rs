//! `keysweep scan`.

use anyhow::Result;
use keysweep_core::{Finding, ScanEvent, ScanOptions, ScanStats, Scanner, SkipReason};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::args::{ColorWhen, Format, ScanArgs};
use crate::output::{human, sarif, Destination};
use crate::report::{display_path, FindingRecord, Summary};
use crate::rules_cmd::load_rules;

/// Runs a scan and returns the exit code (0 clean, 1 findings, 2 error).
pub fn run(args: &ScanArgs, color: ColorWhen, quiet: bool) -> Result<i32> {
    let rules = load_rules(&args.rules)?;
    let scanner = Scanner::new(rules);
    let mut opts = ScanOptions::new();
    opts.max_file_size(args.max_file_size)
        .binary(args.binary)
        .ignore(!args.no_ignore)
        .follow_links(args.follow)
        .threads(args.threads.unwrap_or(0));
    if args.no_mmap {
        opts.mmap_threshold(None);
    }
    let mut dest = Destination::open(args.output.as_deref())?;
    let start = Instant::now();
    let progress = Progress::new(!quiet && !args.no_progress && std::io::stderr().is_terminal());

    let (tx, rx) = crossbeam_channel::bounded::<ScanEvent>(256);
    let mut findings: Vec<Finding> = Vec::new();
    let mut explicit_errors = 0u64;
    let mut write_error: Option<std::io::Error> = None;
    let stats: ScanStats = std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let stats = scanner.scan_paths(&args.paths, &opts, |ev| {
                let _ = tx.send(ev);
            });
            drop(tx);
            stats
        });
        for ev in rx.iter() {
            match ev {
                ScanEvent::Scanned {
                    bytes,
                    findings: found,
                    ..
                } => {
                    progress.file(bytes);
                    if args.format == Format::Jsonl && write_error.is_none() {
                        for f in &found {
                            let res = serde_json::to_writer(
                                &mut dest,
                                &FindingRecord::new(f, args.reveal),
                            )
                            .map_err(std::io::Error::from)
                            .and_then(|_| dest.write_all(b"\n"));
                            if let Err(e) = res {
                                write_error = Some(e);
                                break;
                            }
                        }
                        let _ = dest.flush();
                    }
                    findings.extend(found);
                }
                ScanEvent::Skipped {
                    path,
                    reason,
                    explicit,
                } => match reason {
                    SkipReason::TooLarge { .. } => progress
                        .println(&format!("note: skipped {}: {reason}", display_path(&path))),
                    _ if explicit => progress
                        .println(&format!("note: skipped {}: {reason}", display_path(&path))),
                    _ => tracing::debug!(path = %path.display(), %reason, "skipped"),
                },
                ScanEvent::Error { error, explicit } => {
                    if explicit {
                        explicit_errors += 1;
                        progress.println(&format!("error: {error}"));
                    } else {
                        progress.println(&format!("warning: {error}"));
                    }
                }
                _ => {}
            }
        }
        handle.join().expect("scan thread panicked")
    });
    progress.finish();
    if let Some(e) = write_error {
        return Err(e.into());
    }
    let elapsed = start.elapsed();
    findings.sort_by(|a, b| {
        (&a.path, a.span.start, &a.rule.id).cmp(&(&b.path, b.span.start, &b.rule.id))
    });
    let n = findings.len() as u64;
    match args.format {
        Format::Jsonl => {}
        Format::Json => {
            let records: Vec<FindingRecord> = findings
                .iter()
                .map(|f| FindingRecord::new(f, args.reveal))
                .collect();
            let doc = serde_json::json!({
                "tool": "keysweep",
                "version": env!("CARGO_PKG_VERSION"),
                "findings": records,
                "summary": Summary::new(&stats, n, elapsed),
            });
            serde_json::to_writer_pretty(&mut dest, &doc)?;
            dest.write_all(b"\n")?;
        }
        Format::Sarif => {
            let log = sarif::render(&findings, scanner.rules(), args.reveal);
            serde_json::to_writer_pretty(&mut dest, &log)?;
            dest.write_all(b"\n")?;
        }
        Format::Human => {
            let use_color = match color {
                ColorWhen::Always => true,
                ColorWhen::Never => false,
                ColorWhen::Auto => dest.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            dest.write_all(&human::render(
                &findings,
                &stats,
                elapsed,
                args.reveal,
                use_color,
            )?)?;
        }
    }
    dest.finish()?;
    Ok(if explicit_errors > 0 {
        2
    } else if n > 0 {
        1
    } else {
        0
    })
}

/// A progress bar on stderr that appears only for scans longer than a moment.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    shown: std::cell::Cell<bool>,
    bytes: std::cell::Cell<u64>,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(500);

    fn new(enabled: bool) -> Progress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::hidden(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} files, {msg} ({elapsed})")
                    .expect("static template"),
            );
            bar
        });
        Progress {
            bar,
            start: Instant::now(),
            shown: std::cell::Cell::new(false),
            bytes: std::cell::Cell::new(0),
        }
    }

    fn file(&self, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        self.bytes.set(self.bytes.get() + bytes);
        if !self.shown.get() && self.start.elapsed() > Self::DELAY {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
            self.shown.set(true);
        }
        bar.set_message(format!(
            "{:.1} MiB",
            self.bytes.get() as f64 / (1024.0 * 1024.0)
        ));
    }

    fn println(&self, msg: &str) {
        match &self.bar {
            Some(bar) if self.shown.get() => bar.suspend(|| eprintln!("{msg}")),
            _ => eprintln!("{msg}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
