"""Typed usage of the public API; `mypy --strict` must accept this file.

It is also importable by pytest (it defines no tests), which keeps it honest
against the runtime: test_typecheck_usage.py runs `main()`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import urllib.request
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import keysweep
from keysweep import Baseline, BaselineEntry, Commit, Finding, RuleSet, Scanner, Secret, rotation
from keysweep.rotation import Engine, RotationPlan, RotationStatus


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


def describe_plan(plan: RotationPlan) -> list[str]:
    lines = [repr(plan), plan.id, plan.token, plan.created_at, plan.store, plan.issuer]
    field: str | None = plan.field
    lines += [str(field), plan.retire, plan.old_version, str(plan.old_credential), plan.plan_hash]
    grace: int = plan.grace
    target: dict[str, Any] = plan.target
    strategy: dict[str, Any] = plan.strategy
    lines += [f"{grace} {target['store']['kind']} {strategy['kind']}"]
    lines += [f"{s['step']} ({s['operation']}): {s['detail']}" for s in plan.steps]
    lines += [f"{r['severity']} {r['code']}: {r['message']}" for r in plan.risks]
    lines += [f"{p['action']} on {p['resource']}" for p in plan.permissions]
    lines += [str(c) for c in plan.preconditions]
    assert RotationPlan.from_json(plan.to_json(indent=None)) == plan
    assert json.loads(plan.to_json()) == plan.to_dict()
    return lines


def describe_status(st: RotationStatus) -> str:
    last: tuple[str, str] | None = st.last_step
    follow: list[str] = st.follow_ups
    record: dict[str, Any] = st.to_dict()
    return (
        f"{st.rotation_id} {st.token} {st.state} {st.mode} {st.terminal} {last} {st.error_class} "
        f"{st.incomplete} {st.deactivated_at} {st.new_credential} {st.new_version} {follow} "
        f"{record['state']}"
    )


def rotate_kv(engine: Engine, addr: str, token: str, tmp: Path) -> None:
    """One rotation of a KV v2 secret in OpenBao (the servers of scripts/servers)."""
    path = f"kspy-typed/{secrets.token_hex(6)}"
    old = secrets.token_hex(16)
    req = urllib.request.Request(
        f"{addr}/v1/secret/data/{path}",
        method="POST",
        data=json.dumps({"data": {"user": "app", "password": old}}).encode(),
        headers={"X-Vault-Token": token},
    )
    urllib.request.urlopen(req, timeout=30).close()
    saved = {k: os.environ.get(k) for k in ("VAULT_ADDR", "VAULT_TOKEN")}
    os.environ.update(VAULT_ADDR=addr, VAULT_TOKEN=token)
    try:
        plan = rotation.plan(
            f"vault-kv2:secret/{path}",
            "random",
            field="password",
            issuer_options={"length": 24, "alphabet": "abcdef0123456789"},
            store_options={"address": addr},
            strategy="overlap",
            grace=timedelta(hours=1),
            on_full="refuse",
            retire="soft-delete",
        )
        print("\n".join(describe_plan(plan)))
        plan.save(tmp / "plan.json", name="typed")
        pairs: list[tuple[str, RotationPlan]] = rotation.load_plans(tmp / "plan.json")
        rotation.save_plans(tmp / "plans.json", [plan, *pairs])
        again = RotationPlan.load(tmp / "plan.json")
        status: RotationStatus = engine.apply(again)
        print(describe_status(status))
        try:
            engine.finalize(status)
        except keysweep.GracePeriodError as e:
            remaining: int | None = e.remaining
            print("grace:", remaining, e.error_class, e.rotation_id)
        print(describe_status(engine.rollback(plan)))
        print([describe_status(engine.status(i)) for i in engine.list()], engine.plan_of(plan.id).id)
        try:
            engine.apply(plan)
        except keysweep.RotationError as e:
            st: RotationStatus | None = e.status
            print("again:", e.error_class, e.step, st.state if st else None)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def rotation_usage(tmp: Path) -> None:
    kinds: list[str] = rotation.backends()
    engine = Engine(tmp / "journal", fingerprint_key=None)
    print(kinds, engine.state_dir, engine.list(), repr(engine))
    try:
        rotation.plan("carrier-pigeon:loft/1", "random", grace="7d", allow_unversioned=False)
    except rotation.StalePlanError as e:
        print(e.reasons)
    except keysweep.RotationError as e:
        print("unsupported:", e.error_class, e.rotation_id, e.step, e.status)
    try:
        engine.resume("rot-000000000000")
    except keysweep.RotationAbortedError:
        raise
    except keysweep.RotationError as e:
        print("no journal:", e.rotation_id)
    try:
        rotation.plan("vault-kv2:secret/x", "random", field="a..b", grace=3600)
    except ValueError as e:
        print("bad field:", e)
    addr = os.environ.get("KEYSWEEP_BAO_ADDR")
    if addr and "vault-kv2" in kinds:
        rotate_kv(engine, addr, os.environ.get("KEYSWEEP_BAO_TOKEN", "root"), tmp)


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
    rotation_usage(tmp)
