"""Typed usage of the public API; `mypy --strict` must accept this file.

It is also importable by pytest (it defines no tests), which keeps it honest
against the runtime: test_typecheck_usage.py runs `main()`.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

import keysweep
from keysweep import Baseline, BaselineEntry, Commit, Finding, RuleSet, Scanner, Secret


def summarise(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return counts


def describe(f: Finding) -> str:
    start, end = f.span
    secret: Secret = f.secret
    raw: str = secret.reveal()
    raw_bytes: bytes = secret.reveal_bytes()
    assert len(raw_bytes) == end - start == len(secret)
    record: dict[str, Any] = f.to_dict(reveal=False)
    again: Finding = Finding.from_dict(f.to_dict(reveal=True))
    assert again == f and raw
    path: str | None = f.path
    return (
        f"{f.rule_id} {f.rule_name} {f.severity} {path}:{f.line}:{f.column}-"
        f"{f.end_line}:{f.end_column} {f.fingerprint[:12]} {f.entropy:.2f} "
        f"{f.secret_redacted} {f.snippet} {record['rule_id']}"
    )


def rules_report(rules: RuleSet) -> list[str]:
    lines = [f"{r.id} {r.name} {r.kind} {r.severity} {','.join(r.keywords)}" for r in rules]
    for r in rules:
        _: list[str] = r.examples + r.negative_examples + r.references
        desc: str = r.description
        floor: float | None = r.min_entropy
        assert desc is not None and (floor is None or floor > 0)
    for failure in rules.check():
        lines.append(f"{failure.rule_id} {failure.kind} {failure.index} {failure.message}")
    first = rules.get(rules.ids()[0])
    assert first is not None and first.id in rules and len(rules) > 0
    return lines


def history_report(scanner: Scanner, repo: Path) -> list[str]:
    lines: list[str] = []
    found = scanner.scan_git(
        repo,
        since_commit=None,
        all_refs=True,
        log_opts=None,
        all_provenance=True,
        threads=1,
        binary=False,
        max_file_size=1 << 20,
    )
    found += scanner.scan_git(os.fspath(repo), since_commit="HEAD", all_refs=False) if found else []
    found += scanner.scan_git(repo, log_opts="HEAD~1..HEAD") if len(found) > 1 else []
    for f in found:
        commit: Commit | None = f.commit
        blob: str | None = f.blob
        if commit is not None:
            lines.append(
                f"{commit.id[:12]} {commit.author} <{commit.email}> {commit.date} "
                f"{commit.summary} {commit.path} {blob} {f.path}:{f.line}"
            )
        for c in f.provenance:
            record: dict[str, str] = c.to_dict()
            lines.append(record["commit"])
    staged: list[Finding] = scanner.scan_staged(repo, paths=[repo / "a.txt"], max_file_size=1 << 20)
    staged += scanner.scan_staged(os.fspath(repo), paths="a.txt") + scanner.scan_staged(repo)
    lines += [describe(f) for f in staged]
    return lines


def apply_baseline(scanner: Scanner, found: list[Finding], tmp: Path) -> list[Finding]:
    baseline: Baseline = Baseline.from_findings(found, scanner=scanner)
    baseline.save(tmp / "baseline.json")
    again = Baseline.load(os.fspath(tmp / "baseline.json"))
    assert again == Baseline.from_json(baseline.to_json(), origin="inline")
    entries: list[BaselineEntry] = list(again)
    for e in entries:
        print(e.fingerprint[:12], e.rule_id, e.path)
    assert len(again) == len(entries) and not again.custom_key
    assert all(f in again for f in found) and all(f.fingerprint in again for f in found)
    return Baseline.from_findings(found[:1]).filter(iter(found))


def main(tmp: Path) -> None:
    scanner = Scanner()
    custom = Scanner(RuleSet.default(), fingerprint_key=b"k" * 16)
    (tmp / "rules").mkdir()
    merged = Scanner([RuleSet.default(), os.fspath(tmp / "rules")], default_rules=False)
    text = "nothing here"
    out: list[Finding] = scanner.scan_text(text) + scanner.scan_bytes(text.encode(), path="x")
    out += custom.scan_bytes(bytearray(b"abc")) + merged.scan_bytes(memoryview(b"abc"))
    (tmp / "a.txt").write_text(text)
    out += scanner.scan_file(tmp / "a.txt", max_file_size=1 << 20)
    out += scanner.scan_path(tmp, threads=2, ignore=True, binary=False, max_file_size=None)
    out += scanner.scan_path([tmp, str(tmp)], follow_links=False)
    with scanner.iter_path(tmp) as it:
        for f in it:
            print(describe(f))
    print(summarise(out), rules_report(scanner.rules), keysweep.__version__)
    try:
        RuleSet.from_toml("[[rules]]", origin="bad.toml")
    except keysweep.RuleError as e:
        where: tuple[str | None, int | None, str | None] = (e.origin, e.line, e.rule_id)
        print(where, e.field, e.column, e.message)
    try:
        scanner.scan_path(tmp / "missing")
    except keysweep.ScanError as e:
        print(e.errno, e.filename, e.strerror)
    except keysweep.KeysweepError:
        raise
    try:
        raise keysweep.RotationError("x")
    except keysweep.KeysweepError as e:
        print(type(e).__name__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", keysweep.ScanWarning)
        scanner.scan_path(tmp, max_file_size=1)
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q"], cwd=repo, check=True)
    (repo / "a.txt").write_text(text)
    subprocess.run(["git", "add", "a.txt"], cwd=repo, check=True)
    print(history_report(scanner, repo))
    print(apply_baseline(scanner, out, tmp))
    try:
        scanner.scan_git(tmp / "rules")
    except keysweep.ScanError as e:
        print("not a repository:", e.filename)
