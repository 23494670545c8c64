"""Baseline: building, saving, loading and applying baselines, byte for byte
compatible with `keysweep baseline create` and `keysweep scan --baseline`."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path
from typing import Callable

import pytest

import keysweep

from conftest import GitRepo, keysweep_bin


@pytest.fixture(scope="module")
def cli() -> Path:
    return keysweep_bin()


@pytest.fixture()
def default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in fingerprint key, as the command line gets below."""
    monkeypatch.delenv("KEYSWEEP_FINGERPRINT_KEY", raising=False)


def run(cli: Path, cwd: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYSWEEP_")}
    if key is not None:
        env["KEYSWEEP_FINGERPRINT_KEY"] = key
    return subprocess.run([str(cli), *args], cwd=cwd, env=env, capture_output=True, text=True)


def in_dir(path: Path, work: Callable[[], list[keysweep.Finding]]) -> list[keysweep.Finding]:
    cwd = os.getcwd()
    os.chdir(path)
    try:
        return work()
    finally:
        os.chdir(cwd)


def test_from_findings_membership_and_filter(
    tree: Path, fake_aws: Callable[[], str], default_key: None
) -> None:
    scanner = keysweep.Scanner()
    found = scanner.scan_path(tree)
    assert len(found) == 4
    accepted = keysweep.Baseline.from_findings(found[:2])
    assert len(accepted) == 2
    assert all(f in accepted for f in found[:2])
    assert not any(f in accepted for f in found[2:])
    left = accepted.filter(found)
    assert left == found[2:]
    assert all(a is b for a, b in zip(left, found[2:])), "filter returns the same objects"
    assert accepted.filter(iter(found)) == found[2:]
    assert keysweep.Baseline.from_findings(found).filter(found) == []
    # Identity is (rule, secret): the same secret elsewhere is still accepted,
    # a different secret is not.
    moved = scanner.scan_text(f"\n\n  other = {found[0].secret.reveal()}", path="moved.txt")
    assert moved[0] in accepted and accepted.filter(moved) == []
    assert scanner.scan_text(f"k = {fake_aws()}")[0] not in accepted
    # Fingerprints (hex) work too; other objects are never members.
    assert found[0].fingerprint in accepted
    assert found[0].fingerprint.upper() in accepted
    assert "0" * 64 not in accepted
    assert object() not in accepted
    assert not accepted.custom_key


def test_entries_json_and_equality(tree: Path, default_key: None) -> None:
    found = keysweep.Scanner().scan_path(tree)
    b = keysweep.Baseline.from_findings(found)
    entries = list(b)
    assert [e.fingerprint for e in entries] == sorted(f.fingerprint for f in found)
    by_fp = {f.fingerprint: f for f in found}
    for e in entries:
        f = by_fp[e.fingerprint]
        assert (e.rule_id, e.path) == (f.rule_id, f.path)
    assert repr(b) == "Baseline(<4 entries>)"
    assert repr(entries[0]).startswith("BaselineEntry(rule_id=")
    assert entries[0] == list(b)[0] and hash(entries[0]) == hash(list(b)[0])
    text = b.to_json()
    doc = json.loads(text)
    assert list(doc) == ["version", "fingerprint_key", "findings"]
    assert doc["version"] == 1 and doc["fingerprint_key"] == "default"
    assert text.endswith("}\n")
    for f in found:
        assert f.secret.reveal() not in text
    again = keysweep.Baseline.from_json(text)
    assert again == b and again.to_json() == text
    assert b != keysweep.Baseline.from_findings(found[:1])
    assert b != text
    empty = keysweep.Baseline.from_findings([])
    assert len(empty) == 0 and list(empty) == [] and empty.filter(found) == found


def test_duplicate_findings_keep_the_smallest_path(
    scanner: keysweep.Scanner, fake_github: Callable[[], str]
) -> None:
    token = fake_github()
    found = [
        scanner.scan_text(token, path=p)[0]
        for p in ("./z/last.txt", "b\\win.txt", "a/first.txt")
    ]
    found.append(scanner.scan_text(token)[0])  # no path
    (entry,) = keysweep.Baseline.from_findings(found)
    assert entry.path == "a/first.txt"
    (entry,) = keysweep.Baseline.from_findings(found[:1])
    assert entry.path == "z/last.txt"


def test_save_and_load(tmp_path: Path, tree: Path) -> None:
    scanner = keysweep.Scanner()
    b = keysweep.Baseline.from_findings(scanner.scan_path(tree), scanner=scanner)
    target = tmp_path / "out" / "baseline.json"
    target.parent.mkdir()
    b.save(target)
    assert os.listdir(target.parent) == ["baseline.json"], "no temporary file is left behind"
    assert target.read_text() == b.to_json()
    assert keysweep.Baseline.load(target) == b
    assert keysweep.Baseline.load(str(target)) == b
    # Saving again replaces the file.
    keysweep.Baseline.from_findings([]).save(target)
    assert len(keysweep.Baseline.load(target)) == 0
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        b.save("relative.json")
    finally:
        os.chdir(cwd)
    assert keysweep.Baseline.load(tmp_path / "relative.json") == b


def test_errors(tmp_path: Path, tree: Path) -> None:
    with pytest.raises(keysweep.ScanError) as info:
        keysweep.Baseline.load(tmp_path / "missing.json")
    assert info.value.errno == errno.ENOENT
    bad = tmp_path / "bad.json"
    bad.write_text('{\n "version": 1,\n "oops": "hunter2-s3cr3t"\n}\n')
    with pytest.raises(keysweep.RuleError) as rinfo:
        keysweep.Baseline.load(bad)
    assert isinstance(rinfo.value, ValueError)
    assert rinfo.value.origin == str(bad) and rinfo.value.line == 3
    assert "s3cr3t" not in str(rinfo.value)
    with pytest.raises(keysweep.RuleError, match="unsupported baseline version 2"):
        keysweep.Baseline.from_json('{"version": 2, "fingerprint_key": "default", "findings": []}')
    with pytest.raises(keysweep.RuleError, match="^mine.json:1:"):
        keysweep.Baseline.from_json("[", origin="mine.json")
    with pytest.raises(TypeError, match="Finding"):
        keysweep.Baseline.from_findings(["not a finding"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        keysweep.Baseline.from_findings(3)  # type: ignore[arg-type]
    b = keysweep.Baseline.from_findings([])
    with pytest.raises(TypeError, match="Finding"):
        b.filter([1])  # type: ignore[list-item]
    with pytest.raises(keysweep.ScanError):
        b.save(tmp_path / "no" / "such" / "dir" / "b.json")
    with pytest.raises(keysweep.ScanError):
        b.save(tree)  # a directory


def test_custom_fingerprint_key(tree: Path) -> None:
    plain = keysweep.Scanner(fingerprint_key=b"keysweep/fingerprint/v1")  # the built-in key
    custom = keysweep.Scanner(fingerprint_key=b"k" * 16)
    a = keysweep.Baseline.from_findings(plain.scan_path(tree), scanner=plain)
    b = keysweep.Baseline.from_findings(custom.scan_path(tree), scanner=custom)
    assert not a.custom_key and b.custom_key
    assert json.loads(b.to_json())["fingerprint_key"] == "custom"
    # Fingerprints differ with the key, so one baseline does not match the other's findings.
    assert a.filter(custom.scan_path(tree)) == custom.scan_path(tree)
    assert b.filter(custom.scan_path(tree)) == []


# -- the command line -----------------------------------------------------------


def test_same_file_as_the_cli(cli: Path, tree: Path, tmp_path: Path, default_key: None) -> None:
    theirs = tmp_path / "cli.json"
    out = run(cli, tree.parent, "baseline", "create", "-o", str(theirs), "tree")
    assert out.returncode == 0, out.stderr
    found = in_dir(tree.parent, lambda: keysweep.Scanner().scan_path("tree"))
    ours = tmp_path / "py.json"
    keysweep.Baseline.from_findings(found).save(ours)
    assert ours.read_bytes() == theirs.read_bytes()
    assert keysweep.Baseline.load(theirs) == keysweep.Baseline.load(ours)
    assert len(keysweep.Baseline.load(theirs)) == 4


def test_same_file_as_the_cli_with_a_custom_key(cli: Path, tree: Path, tmp_path: Path) -> None:
    key = "an-organisation-key-0123456789"
    theirs = tmp_path / "cli.json"
    out = run(cli, tree.parent, "baseline", "create", "-o", str(theirs), "tree", key=key)
    assert out.returncode == 0, out.stderr
    scanner = keysweep.Scanner(fingerprint_key=key)
    found = in_dir(tree.parent, lambda: scanner.scan_path("tree"))
    ours = tmp_path / "py.json"
    keysweep.Baseline.from_findings(found, scanner=scanner).save(ours)
    assert ours.read_bytes() == theirs.read_bytes()
    assert '"custom"' in ours.read_text()


def test_same_file_as_the_cli_for_history(
    cli: Path, tmp_path: Path, fake_github: Callable[[], str], default_key: None
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.env", f"TOKEN={fake_github()}\n")
    repo.commit("add a")
    repo.write("b/c.env", f"TOKEN={fake_github()}\n")
    (repo.root / "a.env").unlink()
    repo.commit("move on")
    theirs = tmp_path / "cli.json"
    out = run(cli, repo.root, "baseline", "create", "--git", "-o", str(theirs), ".")
    assert out.returncode == 0, out.stderr
    ours = tmp_path / "py.json"
    keysweep.Baseline.from_findings(keysweep.Scanner().scan_git(repo.root)).save(ours)
    assert ours.read_bytes() == theirs.read_bytes()
    assert [e.path for e in keysweep.Baseline.load(ours)] != []


def test_cli_honours_a_python_baseline(
    cli: Path, tree: Path, tmp_path: Path, fake_aws: Callable[[], str], default_key: None
) -> None:
    found = in_dir(tree.parent, lambda: keysweep.Scanner().scan_path("tree"))
    path = tmp_path / "accepted.json"
    keysweep.Baseline.from_findings(found[1:]).save(path)
    args = ["scan", "--format", "json", "--no-progress", "--baseline", str(path), "tree"]
    out = run(cli, tree.parent, *args)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert [r["fingerprint"] for r in doc["findings"]] == [found[0].fingerprint]
    assert doc["summary"]["baselined"] == 3
    # A new secret shows up; accepting everything silences the scan.
    (tree / "new.txt").write_text(f"k = {fake_aws()}\n")
    found = in_dir(tree.parent, lambda: keysweep.Scanner().scan_path("tree"))
    keysweep.Baseline.from_findings(found).save(path)
    out = run(cli, tree.parent, *args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["findings"] == []
