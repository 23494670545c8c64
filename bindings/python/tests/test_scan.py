"""Scanner: scan_bytes, scan_text, scan_file, scan_path, iter_path."""

from __future__ import annotations

import array
import os
from pathlib import Path
from typing import Callable

import pytest

import keysweep


def rel(root: Path, findings: list[keysweep.Finding]) -> list[tuple[str, int, str]]:
    out = []
    for f in findings:
        assert f.path is not None
        out.append((Path(f.path).relative_to(root).as_posix(), f.line, f.kind))
    return out


def test_scan_text_and_bytes_agree(
    scanner: keysweep.Scanner, fake_aws: Callable[[], str], fake_github: Callable[[], str]
) -> None:
    text = f"a = {fake_aws()}\nb = {fake_github()}\n"
    from_text = scanner.scan_text(text)
    assert [f.kind for f in from_text] == ["aws-access-key-id", "github-pat"]
    assert scanner.scan_bytes(text.encode()) == from_text
    assert scanner.scan_bytes(bytearray(text.encode())) == from_text
    assert scanner.scan_bytes(memoryview(text.encode())) == from_text
    assert scanner.scan_bytes(array.array("b", text.encode())) == from_text


def test_clean_input(scanner: keysweep.Scanner) -> None:
    assert scanner.scan_text("") == []
    assert scanner.scan_bytes(b"nothing here\n" * 1000) == []


def test_scan_bytes_rejects_str_and_int(scanner: keysweep.Scanner) -> None:
    with pytest.raises(TypeError, match="scan_text"):
        scanner.scan_bytes("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        scanner.scan_bytes(5)  # type: ignore[arg-type]


def test_path_argument_attaches_and_allow_lists(
    scanner: keysweep.Scanner, fake_aws: Callable[[], str]
) -> None:
    rules = keysweep.RuleSet.from_toml(
        """
[[rules]]
id = "ks.t.1"
name = "T token"
kind = "t-token"
severity = "high"
keywords = ["tkn_"]
regex = '''\\b(?P<secret>tkn_[A-Za-z0-9]{20})\\b'''
examples = ["tkn_Q8w7E6r5T4y3U2i1O0p9"]
negative_examples = ["tkn_short"]
[rules.allow]
paths = ["**/fixtures/**"]
"""
    )
    s = keysweep.Scanner(rules)
    text = "tkn_Q8w7E6r5T4y3U2i1O0p9"
    assert [f.path for f in s.scan_text(text, path="src/a.py")] == ["src/a.py"]
    assert s.scan_text(text, path="src/fixtures/a.py") == []
    assert len(s.scan_bytes(text.encode(), path=Path("x"))) == 1


def test_scan_file(scanner: keysweep.Scanner, tree: Path) -> None:
    found = scanner.scan_file(tree / "src" / "app.py")
    assert [(f.line, f.kind) for f in found] == [(1, "aws-access-key-id"), (3, "github-pat")]
    assert all(f.path == str(tree / "src" / "app.py") for f in found)
    # Named files are scanned even when binary.
    assert [f.kind for f in scanner.scan_file(str(tree / "blob.bin"))] == ["aws-access-key-id"]
    assert scanner.scan_file(tree / "src" / "clean.txt") == []


def test_scan_file_matches_scan_text(scanner: keysweep.Scanner, tree: Path) -> None:
    p = tree / "uni.txt"
    by_file = scanner.scan_file(p)
    by_text = scanner.scan_text(p.read_text(encoding="utf-8"), path=p)
    assert by_file == by_text
    assert by_file[0].column == 15  # characters, not bytes


def test_scan_path_walks_honours_ignores_and_sorts(scanner: keysweep.Scanner, tree: Path) -> None:
    found = scanner.scan_path(tree)
    assert rel(tree, found) == [
        ("src/app.py", 1, "aws-access-key-id"),
        ("src/app.py", 3, "github-pat"),
        ("src/deep/conf.env", 3, "github-pat"),
        ("uni.txt", 1, "aws-access-key-id"),
    ]
    assert found == sorted(found, key=lambda f: (f.path or "", f.span[0], f.rule_id))


def test_scan_path_options(scanner: keysweep.Scanner, tree: Path) -> None:
    no_ignore = rel(tree, scanner.scan_path(str(tree), ignore=False))
    assert ("ignored.log", 1, "aws-access-key-id") in no_ignore
    binary = rel(tree, scanner.scan_path(tree, binary=True, threads=1))
    assert ("blob.bin", 1, "aws-access-key-id") in binary
    assert rel(tree, scanner.scan_path(tree, threads=1)) == rel(tree, scanner.scan_path(tree, threads=4))


def test_scan_path_max_file_size_warns(scanner: keysweep.Scanner, tree: Path) -> None:
    with pytest.warns(keysweep.ScanWarning, match="exceeds"):
        found = scanner.scan_path(tree, max_file_size=50)
    assert rel(tree, found) == [("uni.txt", 1, "aws-access-key-id")]


def test_scan_path_accepts_several_paths(scanner: keysweep.Scanner, tree: Path) -> None:
    found = scanner.scan_path([tree / "src" / "deep", str(tree / "uni.txt")])
    assert rel(tree, found) == [
        ("src/deep/conf.env", 3, "github-pat"),
        ("uni.txt", 1, "aws-access-key-id"),
    ]
    assert scanner.scan_path([]) == []


def test_dash_is_a_file_not_stdin(scanner: keysweep.Scanner, tmp_path: Path, fake_aws: Callable[[], str]) -> None:
    (tmp_path / "-").write_text(fake_aws())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        found = scanner.scan_path("-")
    finally:
        os.chdir(cwd)
    assert [f.to_dict()["path"] for f in found] == ["-"]


def test_iter_path_yields_the_same_findings(scanner: keysweep.Scanner, tree: Path) -> None:
    it = scanner.iter_path(tree, threads=2)
    assert iter(it) is it
    streamed = list(it)
    assert sorted(streamed, key=lambda f: (f.path or "", f.span[0], f.rule_id)) == scanner.scan_path(tree)
    with pytest.raises(StopIteration):
        next(it)


def test_iter_path_close_and_context_manager(scanner: keysweep.Scanner, tree: Path) -> None:
    with scanner.iter_path(tree) as it:
        first = next(it)
        assert first.path is not None
    with pytest.raises(StopIteration):
        next(it)
    it2 = scanner.iter_path(tree)
    it2.close()
    assert list(it2) == []


def test_closing_iter_path_stops_the_walk(
    scanner: keysweep.Scanner, tmp_path: Path, fake_aws: Callable[[], str]
) -> None:
    # 3,000 files, each with a secret: after one finding and close(), the
    # walk stops; what it scanned is bounded by the findings in flight (the
    # channel holds 256 messages) plus one file per thread, whatever the
    # machine's speed.
    key = fake_aws()
    for i in range(3000):
        (tmp_path / f"{i:04}.env").write_text(f"AWS_ACCESS_KEY_ID={key}\n# {i}\n")
    it = scanner.iter_path(tmp_path, threads=2)
    assert it.stats is None
    next(it)
    it.close()
    stats = it.stats
    assert stats is not None and stats["stopped"] is True
    assert 1 <= stats["files"] <= 1 + 256 + 2, stats
    assert list(it) == []

    # A scan read to its end reports every file and was not stopped.
    done = scanner.iter_path(tmp_path, threads=2)
    assert len(list(done)) == 3000
    assert done.stats is not None
    assert (done.stats["files"], done.stats["stopped"]) == (3000, False)


def test_scanner_repr_and_rules(scanner: keysweep.Scanner) -> None:
    assert repr(scanner) == f"Scanner(<{len(scanner.rules)} rules>)"
    assert len(scanner.rules) == len(keysweep.RuleSet.default())


def test_fingerprint_key_changes_fingerprints(fake_aws: Callable[[], str]) -> None:
    key = fake_aws()
    a = keysweep.Scanner(fingerprint_key="org-key-0123456789").scan_text(key)[0]
    b = keysweep.Scanner(fingerprint_key=b"org-key-0123456789").scan_text(key)[0]
    c = keysweep.Scanner(fingerprint_key="other-key-0123456789").scan_text(key)[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_encoded_secrets_are_decoded(fake_aws: Callable[[], str]) -> None:
    import base64

    key = fake_aws()
    line = base64.b64encode(f"AWS_ACCESS_KEY_ID={key}".encode()).decode()
    text = f"ENV_B64={line}\n"
    scanner = keysweep.Scanner()
    (f,) = scanner.scan_text(text)
    assert f.secret.reveal() == key
    assert f.decoded == ["base64"]
    assert text[f.span[0] : f.span[1]] == line
    assert f.to_dict()["decoded"] == ["base64"]
    assert keysweep.Finding.from_dict(f.to_dict(reveal=True)) == f
    assert keysweep.Scanner(decode_depth=0).scan_text(text) == []
    plain = scanner.scan_text(f"AWS_ACCESS_KEY_ID={key}\n")
    assert plain[0].decoded == [] and "decoded" not in plain[0].to_dict()
    assert plain[0].fingerprint == f.fingerprint
