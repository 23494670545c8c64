"""The exception hierarchy and what each error says."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import keysweep

GOOD = """
[[rules]]
id = "ks.good.1"
name = "good"
kind = "good-token"
severity = "low"
keywords = ["good_"]
regex = '''good_[a-z]{8}'''
examples = ["good_abcdefgh"]
negative_examples = ["good_"]
"""


def test_hierarchy() -> None:
    assert issubclass(keysweep.KeysweepError, Exception)
    assert keysweep.KeysweepError is not Exception
    assert issubclass(keysweep.RuleError, keysweep.KeysweepError)
    assert issubclass(keysweep.RuleError, ValueError)
    assert issubclass(keysweep.ScanError, keysweep.KeysweepError)
    assert issubclass(keysweep.ScanError, OSError)
    assert issubclass(keysweep.RotationError, keysweep.KeysweepError)
    assert issubclass(keysweep.ScanWarning, UserWarning)
    for cls in (keysweep.KeysweepError, keysweep.RuleError, keysweep.ScanError, keysweep.RotationError):
        assert cls.__module__ == "keysweep"
    with pytest.raises(keysweep.KeysweepError):
        raise keysweep.RotationError("rotation failed")


def test_bad_regex_names_the_rule() -> None:
    bad = GOOD + GOOD.replace("ks.good.1", "ks.bad.7").replace("good_[a-z]{8}", "(good_")
    with pytest.raises(keysweep.RuleError) as info:
        keysweep.RuleSet.from_toml(bad, origin="mine.toml")
    e = info.value
    assert "ks.bad.7" in str(e)
    assert str(e).startswith("mine.toml:")
    assert e.rule_id == "ks.bad.7"
    assert e.field == "regex"
    assert e.origin == "mine.toml"
    assert isinstance(e.line, int) and e.line > 10
    assert e.message is not None and "unclosed group" in e.message
    assert isinstance(e, ValueError)


def test_toml_syntax_and_schema_errors() -> None:
    with pytest.raises(keysweep.RuleError) as info:
        keysweep.RuleSet.from_toml("[[rules]\nid = ")
    assert info.value.line is not None
    missing = GOOD.replace('kind = "good-token"\n', "")
    with pytest.raises(keysweep.RuleError, match="kind") as info:
        keysweep.RuleSet.from_toml(missing)
    assert info.value.rule_id == "ks.good.1"
    with pytest.raises(keysweep.RuleError, match="duplicate rule id"):
        keysweep.RuleSet.from_toml(GOOD + GOOD)


def test_bad_rule_file_in_scanner(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace("keywords = [\"good_\"]", "keywords = []"))
    with pytest.raises(keysweep.RuleError, match="ks.good.1") as info:
        keysweep.Scanner([p])
    assert info.value.field == "keywords"
    assert info.value.origin == str(p)


def test_missing_rule_file() -> None:
    with pytest.raises(keysweep.ScanError) as info:
        keysweep.RuleSet.from_path("/nonexistent/rules.toml")
    assert info.value.errno == errno.ENOENT


def test_missing_path(scanner: keysweep.Scanner, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    for call in (scanner.scan_path, scanner.scan_file):
        with pytest.raises(keysweep.ScanError) as info:
            call(missing)
        e = info.value
        assert e.errno == errno.ENOENT
        assert e.filename == str(missing)
        assert isinstance(e, FileNotFoundError) or isinstance(e, OSError)
        assert "No such file or directory" in str(e)
    with pytest.raises(OSError):
        scanner.scan_path([tmp_path, missing])


def test_iter_path_raises_for_missing_path(scanner: keysweep.Scanner, tmp_path: Path) -> None:
    it = scanner.iter_path(tmp_path / "nope")
    with pytest.raises(keysweep.ScanError) as info:
        next(it)
    assert info.value.errno == errno.ENOENT
    assert list(it) == []


def test_scan_file_errors(scanner: keysweep.Scanner, tmp_path: Path) -> None:
    with pytest.raises(keysweep.ScanError) as info:
        scanner.scan_file(tmp_path)
    assert info.value.errno == errno.EISDIR
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 100)
    with pytest.raises(keysweep.ScanError) as info:
        scanner.scan_file(big, max_file_size=10)
    assert info.value.errno == errno.EFBIG
    assert scanner.scan_file(big, max_file_size=100) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_not_opened(scanner: keysweep.Scanner, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(keysweep.ScanError, match="not a regular file") as info:
        scanner.scan_path(fifo)
    assert info.value.filename == str(fifo)
    with pytest.raises(keysweep.ScanError, match="not a regular file"):
        scanner.scan_file(fifo)


def test_bad_argument_types(scanner: keysweep.Scanner) -> None:
    with pytest.raises(TypeError):
        scanner.scan_path(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        scanner.scan_path([b"bytes-path"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        keysweep.Scanner(fingerprint_key=3)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        scanner.scan_path(".", threads=-1)
