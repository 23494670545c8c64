//! The report writers and [`Reporter`], which drives them.

pub mod human;
pub mod sarif;

use keysweep_core::Baseline;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::destination::Destination;
use crate::error::Result;
use crate::item::{sort_items, Item};
use crate::record::Record;
use crate::summary::{Summary, Totals};

/// A report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Findings grouped by file, with a closing summary, for terminals.
    Human,
    /// One JSON document: `tool`, `version`, `findings` ([`Record`]s) and
    /// `summary` ([`Summary`]).
    Json,
    /// One [`Record`] per line, written as findings arrive.
    Jsonl,
    /// SARIF 2.1.0, as GitHub code scanning accepts it.
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    /// `human`, `json`, `jsonl` or `sarif`.
    fn from_str(s: &str) -> std::result::Result<Format, UnknownFormat> {
        Ok(match s {
            "human" => Format::Human,
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            "sarif" => Format::Sarif,
            _ => return Err(UnknownFormat(s.to_string())),
        })
    }
}

/// A format name other than `human`, `json`, `jsonl`, `sarif`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?} (expected human, json, jsonl or sarif)")]
pub struct UnknownFormat(pub String);

/// The JSON report document of `items` (in the order given).
pub fn json_document(
    items: &[Item],
    totals: &Totals,
    elapsed: Duration,
    reveal: bool,
) -> serde_json::Value {
    let records: Vec<Record> = items.iter().map(|i| Record::new(i, reveal)).collect();
    serde_json::json!({
        "tool": "keysweep",
        "version": env!("CARGO_PKG_VERSION"),
        "findings": records,
        "summary": Summary::new(totals, items.len() as u64, elapsed),
    })
}

/// Collects findings from any scan, leaves out those of a baseline, streams
/// JSON Lines as findings arrive, and writes the final report in its format
/// when finished. Findings are reported in [`Item::report_order`].
pub struct Reporter {
    format: Format,
    reveal: bool,
    baseline: Option<Baseline>,
    dest: Destination,
    items: Vec<Item>,
    baselined: u64,
    write_error: Option<std::io::Error>,
    start: Instant,
}

impl Reporter {
    /// A reporter writing `format` to `dest`; the raw secrets are included
    /// only with `reveal`; findings the `baseline` has are left out (and
    /// counted).
    pub fn new(
        format: Format,
        reveal: bool,
        baseline: Option<Baseline>,
        dest: Destination,
    ) -> Reporter {
        Reporter {
            format,
            reveal,
            baseline,
            dest,
            items: Vec::new(),
            baselined: 0,
            write_error: None,
            start: Instant::now(),
        }
    }

    /// Adds one finding (dropped if the baseline has it; written at once for
    /// JSON Lines).
    pub fn push(&mut self, item: Item) {
        if self
            .baseline
            .as_ref()
            .is_some_and(|b| b.contains(&item.finding))
        {
            self.baselined += 1;
            return;
        }
        if self.format == Format::Jsonl && self.write_error.is_none() {
            let res = serde_json::to_writer(&mut self.dest, &Record::new(&item, self.reveal))
                .map_err(std::io::Error::from)
                .and_then(|_| self.dest.write_all(b"\n"))
                .and_then(|_| self.dest.flush());
            if let Err(e) = res {
                self.write_error = Some(e);
            }
        }
        self.items.push(item);
    }

    /// The findings so far (not left out by the baseline).
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Whether the destination is a terminal (for a program choosing colour).
    pub fn is_terminal(&self) -> bool {
        self.dest.is_terminal()
    }

    /// Writes the report and moves it into place; returns the number of
    /// findings reported. `color` applies to the human format.
    pub fn finish(mut self, mut totals: Totals, color: bool) -> Result<u64> {
        if let Some(e) = self.write_error.take() {
            return Err(e.into());
        }
        totals.baselined = self.baselined;
        let elapsed = self.start.elapsed();
        sort_items(&mut self.items);
        let n = self.items.len() as u64;
        let dest = &mut self.dest;
        match self.format {
            Format::Jsonl => {}
            Format::Json => {
                let doc = json_document(&self.items, &totals, elapsed, self.reveal);
                serde_json::to_writer_pretty(&mut *dest, &doc).map_err(std::io::Error::from)?;
                dest.write_all(b"\n")?;
            }
            Format::Sarif => {
                let log = sarif::render(&self.items, self.reveal);
                serde_json::to_writer_pretty(&mut *dest, &log).map_err(std::io::Error::from)?;
                dest.write_all(b"\n")?;
            }
            Format::Human => {
                dest.write_all(&human::render(
                    &self.items,
                    &totals,
                    elapsed,
                    self.reveal,
                    color,
                )?)?;
            }
        }
        self.dest.finish()?;
        Ok(n)
    }
}
