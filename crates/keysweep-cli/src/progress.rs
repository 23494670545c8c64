//! A progress bar on stderr that appears only for scans longer than a moment.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    shown: Cell<bool>,
    bytes: Cell<u64>,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(500);

    /// A progress bar, or a no-op when `enabled` is false (not a terminal, -q).
    pub fn new(enabled: bool) -> Progress {
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
            shown: Cell::new(false),
            bytes: Cell::new(0),
        }
    }

    /// Counts one scanned file of `bytes` bytes.
    /// Whether a bar is shown (or may be): `false` makes [`file`](Self::file) a no-op.
    pub fn enabled(&self) -> bool {
        self.bar.is_some()
    }

    pub fn file(&self, bytes: u64) {
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

    /// Prints a line on stderr without garbling the bar.
    pub fn println(&self, msg: &str) {
        match &self.bar {
            Some(bar) if self.shown.get() => bar.suspend(|| eprintln!("{msg}")),
            _ => eprintln!("{msg}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
