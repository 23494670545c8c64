//! Collects findings from any scan mode, applies the baseline, streams JSON
//! Lines, and writes the final report in the chosen format.

use anyhow::Result;
use keysweep_core::{Baseline, RuleSet};
use std::io::Write;
use std::time::Instant;

use crate::args::{ColorWhen, Format};
use crate::output::{human, sarif, Destination};
use crate::report::{FindingRecord, Item, Summary, Totals};

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

    /// Adds one finding (dropped if the baseline has it; streamed for JSON Lines).
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
            let res = serde_json::to_writer(
                &mut self.dest,
                &FindingRecord::from_item(&item, self.reveal),
            )
            .map_err(std::io::Error::from)
            .and_then(|_| self.dest.write_all(b"\n"))
            .and_then(|_| self.dest.flush());
            if let Err(e) = res {
                self.write_error = Some(e);
            }
        }
        self.items.push(item);
    }

    /// The findings so far.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Writes the report; returns the number of findings reported.
    pub fn finish(mut self, rules: &RuleSet, mut totals: Totals, color: ColorWhen) -> Result<u64> {
        if let Some(e) = self.write_error.take() {
            return Err(e.into());
        }
        totals.baselined = self.baselined;
        let elapsed = self.start.elapsed();
        self.items.sort_by(|a, b| {
            (a.path(), a.finding.span.start, &a.finding.rule.id).cmp(&(
                b.path(),
                b.finding.span.start,
                &b.finding.rule.id,
            ))
        });
        let n = self.items.len() as u64;
        let dest = &mut self.dest;
        match self.format {
            Format::Jsonl => {}
            Format::Json => {
                let records: Vec<FindingRecord> = self
                    .items
                    .iter()
                    .map(|i| FindingRecord::from_item(i, self.reveal))
                    .collect();
                let doc = serde_json::json!({
                    "tool": "keysweep",
                    "version": env!("CARGO_PKG_VERSION"),
                    "findings": records,
                    "summary": Summary::new(&totals, n, elapsed),
                });
                serde_json::to_writer_pretty(&mut *dest, &doc)?;
                dest.write_all(b"\n")?;
            }
            Format::Sarif => {
                let log = sarif::render(&self.items, rules, self.reveal);
                serde_json::to_writer_pretty(&mut *dest, &log)?;
                dest.write_all(b"\n")?;
            }
            Format::Human => {
                let use_color = match color {
                    ColorWhen::Always => true,
                    ColorWhen::Never => false,
                    ColorWhen::Auto => dest.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
                };
                dest.write_all(&human::render(
                    &self.items,
                    &totals,
                    elapsed,
                    self.reveal,
                    use_color,
                )?)?;
            }
        }
        self.dest.finish()?;
        Ok(n)
    }
}
