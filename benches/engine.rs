//! Engine benches: rule compilation and in-memory scanning throughput.
//!
//! Groups:
//! * `compile`      - `RuleSet::default_rules()` (keyword automaton + regexes).
//! * `large_buffer` - `scan_slice` over one 100 MiB buffer of real source text
//!   with planted fake secrets, next to a `memmem` count of "AKIA" over the
//!   same buffer (the floor for a single-literal search) in the same run.
//!
//! Run: `cargo bench --bench engine -- --noplot`. See BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use keysweep::{RuleSet, Scanner};
use std::time::Duration;

mod common;
use common::{Source, MIB};

const LARGE: usize = 100 * MIB;
const PLANTED: usize = 30;

fn compile(c: &mut Criterion) {
    let rules = RuleSet::default_rules().expect("default rules compile");
    eprintln!(
        "default rules: {} rules, keyword automaton memory: {} bytes ({:.1} KiB)",
        rules.len(),
        rules.keyword_automaton_memory(),
        rules.keyword_automaton_memory() as f64 / 1024.0
    );
    let mut g = c.benchmark_group("compile");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("default_rules", |b| {
        b.iter(|| black_box(RuleSet::default_rules().unwrap()))
    });
    g.finish();
}

fn large_buffer(c: &mut Criterion) {
    let (hay, src) = common::corpus(LARGE, PLANTED);
    let scanner = Scanner::with_default_rules().unwrap();
    let mut scratch = scanner.scratch();
    let findings = scanner.scan_slice(&mut scratch, &hay, None);
    let akia = memchr::memmem::find_iter(&hay, b"AKIA").count();
    eprintln!(
        "large_buffer: {} MiB of {} text, {} planted fake secrets, {} findings, {} \"AKIA\" occurrences",
        hay.len() / MIB,
        match src {
            Source::Registry => "cargo-registry .rs",
            Source::Synthetic => "synthetic",
        },
        PLANTED,
        findings.len(),
        akia
    );
    drop(findings);

    let mut g = c.benchmark_group("large_buffer");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(hay.len() as u64));
    g.bench_function("scan_slice_default_rules", |b| {
        b.iter(|| black_box(scanner.scan_slice(&mut scratch, black_box(&hay), None)))
    });
    let finder = memchr::memmem::Finder::new(b"AKIA");
    g.bench_function("memmem_count_AKIA_baseline", |b| {
        b.iter(|| black_box(finder.find_iter(black_box(&hay)).count()))
    });
    g.finish();
}

criterion_group!(benches, compile, large_buffer);
criterion_main!(benches);
