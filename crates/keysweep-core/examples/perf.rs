//! A small fixed-input driver for profiling (callgrind, perf) the engine.
//!
//! ```sh
//! cargo run --release -p keysweep-core --example perf -- compile [N]
//! cargo run --release -p keysweep-core --example perf -- scan DIR [N]   # lazy rules, one thread
//! ```
//!
//! `scan` reads every non-binary file under DIR (sorted) into memory first,
//! then scans each with `scan_slice` on one thread, `N` times.

use keysweep_core::{is_binary, RuleSet, RuleSetBuilder, Scanner};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
        if ft.is_dir() {
            files(&p, out);
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("compile") => {
            let n: usize = args.get(1).map_or(1, |s| s.parse().unwrap());
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(RuleSet::default_rules().unwrap());
            }
            eprintln!(
                "compile: {:.2} ms each",
                t.elapsed().as_secs_f64() * 1e3 / n as f64
            );
        }
        Some("scan") => {
            let dir = Path::new(&args[1]);
            let n: usize = args.get(2).map_or(1, |s| s.parse().unwrap());
            let mut paths = Vec::new();
            files(dir, &mut paths);
            let inputs: Vec<(Arc<Path>, Vec<u8>)> = paths
                .into_iter()
                .map(|p| {
                    let data = std::fs::read(&p).unwrap();
                    (Arc::from(p.as_path()), data)
                })
                .filter(|(_, d)| !is_binary(&d[..d.len().min(64 * 1024)]))
                .collect();
            let bytes: usize = inputs.iter().map(|(_, d)| d.len()).sum();
            let t = Instant::now();
            let rules = RuleSetBuilder::new().lazy(true).build().unwrap();
            let scanner = Scanner::new(rules);
            let mut scratch = scanner.scratch();
            eprintln!("lazy build: {:.2} ms", t.elapsed().as_secs_f64() * 1e3);
            let mut findings = 0;
            let t = Instant::now();
            for _ in 0..n {
                for (p, d) in &inputs {
                    findings += scanner.scan_slice(&mut scratch, d, Some(p)).len();
                }
            }
            let s = t.elapsed().as_secs_f64() / n as f64;
            eprintln!(
                "scan: {} files, {} bytes, {} findings, {:.1} ms each, {:.0} MB/s",
                inputs.len(),
                bytes,
                findings / n,
                s * 1e3,
                bytes as f64 / s / 1e6
            );
        }
        _ => eprintln!("usage: perf compile [N] | perf scan DIR [N]"),
    }
}
