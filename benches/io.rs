//! File and directory benches: the parallel walk over many small files, and
//! memory-mapping vs reading files of several sizes (to choose the default
//! `mmap_threshold`, `DEFAULT_MMAP_THRESHOLD` in keysweep-core's input.rs).
//!
//! Groups:
//! * `small_files`  - `scan_paths` over 10,000 files of 1–4 KiB (one tempdir,
//!   written once), default threads (one per CPU) and one thread.
//! * `mmap_vs_read` - `scan_file` on files of 64 KiB, 256 KiB, 1, 2, 4, 16
//!   and 64 MiB with `MmapChoice::auto()` and `mmap_threshold(0)` (always
//!   map) vs `MmapChoice::never()` (always read), warm page cache, with the default
//!   rules and with a one-rule set whose keyword never occurs (so the I/O
//!   path dominates); plus the small-files walk both ways.
//!
//! Files live under cargo's `target/tmp` (the same file system as the
//! project, not a tmpfs) and are removed at the end.
//!
//! Run: `cargo bench --bench io -- --noplot`. See BENCHMARKS.md.

use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use keysweep::{FileOutcome, MmapChoice, RuleSetBuilder, ScanOptions, Scanner};
use std::path::Path;
use std::time::Duration;

mod common;
use common::MIB;

const SMALL_FILES: usize = 10_000;

fn small_tree() -> (tempfile::TempDir, u64) {
    let (text, _) = common::source_text(64 * MIB);
    let files = common::small_files(&text, SMALL_FILES, 50);
    let dir = common::tempdir();
    let bytes = common::write_tree(dir.path(), &files);
    common::warm(dir.path());
    (dir, bytes)
}

fn walk(scanner: &Scanner, root: &Path, opts: &ScanOptions) -> keysweep::ScanStats {
    scanner.scan_paths(&[root.to_path_buf()], opts, |ev| {
        black_box(ev);
    })
}

/// Options that map every file.
fn always_map() -> ScanOptions {
    let mut map = ScanOptions::new();
    // SAFETY: the bench's own temporary files; nothing else changes them.
    map.mmap(unsafe { MmapChoice::auto() }).mmap_threshold(0);
    map
}

fn small_files(c: &mut Criterion) {
    let scanner = Scanner::with_default_rules().unwrap();
    let (dir, bytes) = small_tree();
    let root = dir.path().to_path_buf();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stats = walk(&scanner, &root, &ScanOptions::new());
    let (files, scanned) = (stats.files, stats.bytes);
    eprintln!(
        "small_files: {files} files, {scanned} bytes ({:.1} MiB; {bytes} written), {} findings, {threads} CPUs",
        scanned as f64 / MIB as f64,
        stats.findings
    );
    assert_eq!(files as usize, SMALL_FILES);

    let mut g = c.benchmark_group("small_files");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(bytes));
    for t in [0usize, 1] {
        let mut opts = ScanOptions::new();
        opts.threads(t);
        let name = if t == 0 {
            format!("scan_paths_10k/threads=auto({threads})")
        } else {
            format!("scan_paths_10k/threads={t}")
        };
        g.bench_function(name, |b| b.iter(|| black_box(walk(&scanner, &root, &opts))));
    }
    g.finish();

    // The same walk with every file mapped vs every file read (reported in
    // the `mmap_vs_read` group; it shares this tree to write it only once).
    let map = always_map();
    let read = ScanOptions::new();
    let mut g = c.benchmark_group("mmap_vs_read");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(bytes));
    for (mode, opts) in [("mmap", &map), ("read", &read)] {
        g.bench_function(format!("walk_10k_small/{mode}"), |b| {
            b.iter(|| black_box(walk(&scanner, &root, opts)))
        });
    }
    g.finish();
    drop(dir);
}

fn mmap_vs_read(c: &mut Criterion) {
    let default = Scanner::with_default_rules().unwrap();
    // One rule whose keyword never occurs: the scan is a fast prefilter pass,
    // so the difference between mapping and reading shows.
    let io_only = Scanner::new(
        RuleSetBuilder::new()
            .default_rules(false)
            .add_toml(
                "bench",
                r#"
[[rules]]
id = "ks.bench.1"
name = "never"
kind = "bench-never"
severity = "low"
keywords = ["zq9xv_never_"]
regex = '''zq9xv_never_[a-z0-9]{20}'''
examples = ["zq9xv_never_abcdefghij0123456789"]
negative_examples = ["zq9xv_never_"]
"#,
            )
            .unwrap()
            .build()
            .unwrap(),
    );

    let sizes: [(usize, &str); 7] = [
        (64 * 1024, "64KiB"),
        (256 * 1024, "256KiB"),
        (MIB, "1MiB"),
        (2 * MIB, "2MiB"),
        (4 * MIB, "4MiB"),
        (16 * MIB, "16MiB"),
        (64 * MIB, "64MiB"),
    ];
    let (text, _) = common::corpus(64 * MIB, 20);
    let dir = common::tempdir();
    let mut paths = Vec::new();
    for &(size, label) in &sizes {
        let p = dir.path().join(format!("file-{label}.rs"));
        std::fs::write(&p, &text[..size]).unwrap();
        paths.push(p);
    }
    drop(text);
    common::warm(dir.path());

    let map = always_map();
    let read = ScanOptions::new();
    let modes = [("mmap", &map), ("read", &read)];

    let mut g = c.benchmark_group("mmap_vs_read");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (rules, scanner) in [("default_rules", &default), ("io_only", &io_only)] {
        let mut scratch = scanner.scratch();
        for (&(size, label), path) in sizes.iter().zip(&paths) {
            g.throughput(Throughput::Bytes(size as u64));
            g.sampling_mode(if size >= 4 * MIB {
                SamplingMode::Flat
            } else {
                SamplingMode::Auto
            });
            g.measurement_time(Duration::from_secs(if size >= 16 * MIB { 4 } else { 2 }));
            for (mode, opts) in modes {
                g.bench_with_input(
                    BenchmarkId::new(format!("{rules}/{mode}"), label),
                    path,
                    |b, path| {
                        b.iter(|| {
                            let out = scanner.scan_file(&mut scratch, path, opts).unwrap();
                            match out {
                                FileOutcome::Scanned { bytes, .. } => black_box(bytes),
                                _ => unreachable!(),
                            }
                        })
                    },
                );
            }
        }
    }
    g.finish();
    drop(dir);
}

criterion_group!(benches, small_files, mmap_vs_read);
criterion_main!(benches);
