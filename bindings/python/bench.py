#!/usr/bin/env python3
"""Benchmarks the Python bindings against the keysweep CLI and detect-secrets.

    python bindings/python/bench.py [--tree DIR] [--runs N] [--cli PATH]

Needs the `keysweep` package installed (bindings/python/run-tests.sh does
that) and, for the comparison, `pip install detect-secrets`. Prints Markdown
tables for BENCHMARKS.md:

1. a whole-tree scan (default: the cargo registry sources, ~/.cargo/registry/src)
   by the CLI (`keysweep scan --format json`, release build), by
   `Scanner.scan_path` and `Scanner.iter_path`, and by `detect-secrets scan
   --all-files` (one run; it is much slower);
2. the per-call cost of `scan_text` / `scan_bytes` on 1 KB inputs.

Wall times are the median of --runs runs after one warm-up run, so the tree
is in the page cache for every tool.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import keysweep

ROOT = Path(__file__).resolve().parents[2]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def release_cli() -> Path:
    """The CLI built in release mode by the root workspace."""
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "keysweep"], cwd=ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(meta.stdout)["target_directory"]) / "release" / "keysweep"


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    fn()  # warm-up: page cache, lazy initialisation
    times = []
    result: Any = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run_cli(cli: Path, tree: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYSWEEP_")}
    out = subprocess.run(
        [str(cli), "scan", "--format", "json", "--no-progress", "--quiet", str(tree)],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode not in (0, 1):
        raise SystemExit(f"keysweep CLI failed ({out.returncode}): {out.stderr[-2000:]}")
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def run_detect_secrets(tree: Path, timeout: float) -> tuple[float | None, int | None, str]:
    exe = shutil.which("detect-secrets") or str(Path(sys.executable).parent / "detect-secrets")
    if not Path(exe).exists():
        return None, None, "not installed (pip install detect-secrets)"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [exe, "scan", "--all-files", str(tree)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tree,
        )
    except subprocess.TimeoutExpired:
        return -timeout, None, f"{version}; stopped after {timeout:.0f} s (timeout)"
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        return None, None, f"{version}; failed: {out.stderr[-500:]}"
    results = json.loads(out.stdout).get("results", {})
    return elapsed, sum(len(v) for v in results.values()), version


def per_call(fn: Callable[[], object], min_time: float = 1.0) -> float:
    """Microseconds per call."""
    n = 100
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return dt / n * 1e6
        n *= 4


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", type=Path, default=Path.home() / ".cargo" / "registry" / "src")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cli", type=Path, default=None, help="keysweep binary (default: cargo build --release)")
    ap.add_argument("--no-detect-secrets", action="store_true")
    ap.add_argument("--detect-secrets-timeout", type=float, default=900.0,
                    help="seconds (default 900; it scans about 0.1-1 MiB/s)")
    args = ap.parse_args()
    tree: Path = args.tree.resolve()
    cli: Path = args.cli or release_cli()

    scanner = keysweep.Scanner()
    t_cli, doc = timed(lambda: run_cli(cli, tree), args.runs)
    summary = doc["summary"]
    mib = summary["bytes"] / (1024 * 1024)
    t_py, found = timed(lambda: scanner.scan_path(tree), args.runs)
    t_iter, streamed = timed(lambda: list(scanner.iter_path(tree)), args.runs)
    if len(found) != len(doc["findings"]) or len(streamed) != len(found):
        print(f"warning: finding counts differ: CLI {len(doc['findings'])}, scan_path {len(found)}, "
              f"iter_path {len(streamed)}", file=sys.stderr)

    if args.no_detect_secrets:
        t_ds, n_ds, ds_note = None, None, "skipped"
    else:
        t_ds, n_ds, ds_note = run_detect_secrets(tree, args.detect_secrets_timeout)

    def row(name: str, t: float | None, n: int | None, note: str = "") -> str:
        if t is None:
            return f"| {name} | n/a | n/a | n/a | {note} |"
        if t < 0:  # timed out after -t seconds: bounds only
            return f"| {name} | > {-t:.0f} | < {mib / -t:.2f} | n/a | {note} |"
        speed = mib / t
        return f"| {name} | {t:.2f} | {speed:.0f} | {n} | {note} |" if speed >= 10 else \
            f"| {name} | {t:.2f} | {speed:.2f} | {n} | {note} |"

    print(f"### Whole-tree scan: `{tree}`\n")
    print(f"{summary['files']} files scanned, {mib:.0f} MiB; {cpu_model()}, {os.cpu_count()} CPUs; "
          f"Python {platform.python_version()}, keysweep {keysweep.__version__}; "
          f"median of {args.runs} runs after a warm-up (detect-secrets: one run).\n")
    print("| tool | wall time (s) | MiB/s | findings | notes |")
    print("|---|---:|---:|---:|---|")
    print(row("keysweep CLI `scan --format json`", t_cli, len(doc["findings"]), "release build, output to a pipe"))
    print(row("Python `Scanner.scan_path`", t_py, len(found), f"{t_py / t_cli:.2f}x the CLI's time"))
    print(row("Python `list(Scanner.iter_path)`", t_iter, len(streamed), f"{t_iter / t_cli:.2f}x the CLI's time"))
    print(row("detect-secrets `scan --all-files`", t_ds, n_ds,
              ds_note + (f"; {abs(t_ds) / t_cli:.0f}x the CLI's time" + (" or more" if t_ds < 0 else "")
                         if t_ds else "")))

    clean = ("lorem ipsum dolor sit amet, consectetur adipiscing elit " * 20)[:1024]
    line = "aws_key = AKIAQYLPMN5HHHFPZAM2\n"
    dirty = clean[: 1024 - len(line)] + line
    assert len(scanner.scan_text(dirty)) == 1 and scanner.scan_text(clean) == []
    clean_b = clean.encode()
    print("\n### Per-call cost of in-memory scans (1 KB inputs)\n")
    print("| call | µs per call |")
    print("|---|---:|")
    print(f"| `scan_text('')` | {per_call(lambda: scanner.scan_text('')):.2f} |")
    print(f"| `scan_text(1 KB, no secret)` | {per_call(lambda: scanner.scan_text(clean)):.2f} |")
    print(f"| `scan_bytes(1 KB, no secret)` | {per_call(lambda: scanner.scan_bytes(clean_b)):.2f} |")
    print(f"| `scan_text(1 KB, one secret)` | {per_call(lambda: scanner.scan_text(dirty)):.2f} |")


if __name__ == "__main__":
    main()
