"""Round trip with the command line: `to_dict()` equals the records of
`keysweep scan --format json`, field by field."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import keysweep

from conftest import keysweep_bin

FIELDS = [
    "rule_id",
    "rule_name",
    "kind",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "byte_start",
    "byte_end",
    "fingerprint",
    "entropy",
    "secret_redacted",
    "snippet",
]


@pytest.fixture(scope="module")
def cli() -> Path:
    return keysweep_bin()


def run_cli(cli: Path, cwd: Path, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYSWEEP_")}
    out = subprocess.run(
        [str(cli), "scan", "--format", "json", "--no-progress", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode in (0, 1), out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def assert_same(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        for field in FIELDS:
            assert a[field] == b[field], (field, a[field], b[field])
        extra = set(b) - set(FIELDS) - {"secret"}
        assert not extra, f"the CLI record has fields to_dict() lacks: {extra}"
        assert list(a) == [k for k in b if k in a]


@pytest.mark.parametrize("reveal", [False, True])
def test_directory_round_trip(cli: Path, tree: Path, reveal: bool) -> None:
    scanner = keysweep.Scanner()
    extra = ["--reveal"] if reveal else []
    doc = run_cli(cli, tree.parent, *extra, "tree")
    cwd = os.getcwd()
    os.chdir(tree.parent)
    try:
        ours = [f.to_dict(reveal=reveal) for f in scanner.scan_path("tree")]
    finally:
        os.chdir(cwd)
    assert len(ours) == 4
    assert_same(ours, doc["findings"])
    if reveal:
        for a, b in zip(ours, doc["findings"]):
            assert a["secret"] == b["secret"]
            assert keysweep.Finding.from_dict(b).to_dict(reveal=True) == a
    else:
        assert all("secret" not in r for r in doc["findings"])


def test_dot_slash_paths_and_binary(cli: Path, tree: Path) -> None:
    doc = run_cli(cli, tree, "--binary", "--no-ignore", "./")
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        ours = [f.to_dict() for f in keysweep.Scanner().scan_path("./", binary=True, ignore=False)]
    finally:
        os.chdir(cwd)
    assert {r["path"] for r in ours} >= {"blob.bin", "ignored.log", "src/app.py"}
    assert_same(ours, doc["findings"])
