"""Finding and Secret: fields, redaction, to_dict / from_dict."""

from __future__ import annotations

import pickle
from typing import Callable

import pytest

import keysweep

RECORD_KEYS = [
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


def one(scanner: keysweep.Scanner, text: str) -> keysweep.Finding:
    found = scanner.scan_text(text)
    assert len(found) == 1, found
    return found[0]


def test_fields(scanner: keysweep.Scanner, fake_aws: Callable[[], str]) -> None:
    key = fake_aws()
    text = f"first\n  é = {key} # end\n"
    f = one(scanner, text)
    assert f.rule_id == "ks.aws.1"
    assert f.kind == "aws-access-key-id"
    assert f.rule_name
    assert f.severity in {"critical", "high", "medium", "low", "info"}
    assert f.path is None
    assert (f.line, f.column) == (2, 7)
    assert (f.end_line, f.end_column) == (2, 27)
    start, end = f.span
    assert text.encode()[start:end] == key.encode()
    assert len(f.fingerprint) == 64 and int(f.fingerprint, 16) >= 0
    assert 3.0 <= f.entropy <= 5.0
    assert f.secret_redacted == "AKIA*****"
    assert f.snippet == "é = AKIA***** # end"


def test_repr_and_str_never_show_the_secret(
    scanner: keysweep.Scanner, fake_github: Callable[[], str]
) -> None:
    token = fake_github()
    f = one(scanner, f"token: {token}\n")
    body = token[4:]
    for shown in (repr(f), str(f), repr(f.secret), str(f.secret), f.snippet, str(f.to_dict())):
        assert body not in shown, shown
    assert str(f.secret) == "ghp_*****"
    assert repr(f.secret) == "Secret('ghp_*****', len=40)"
    assert repr(f).startswith("Finding(rule_id='ks.github.1'")
    assert f.secret.redacted == "ghp_*****"


def test_reveal(scanner: keysweep.Scanner, fake_github: Callable[[], str]) -> None:
    token = fake_github()
    f = one(scanner, f"x={token}")
    assert f.secret.reveal() == token
    assert f.secret.reveal_bytes() == token.encode()
    assert len(f.secret) == len(token)
    assert f.secret == one(scanner, f"y = {token}").secret
    assert hash(f.secret) == hash(one(scanner, token).secret)
    assert f.secret != "not a secret object"


def test_invalid_utf8_secret_reveals_lossy(fake_aws: Callable[[], str]) -> None:
    rules = keysweep.RuleSet.from_toml(
        """
[[rules]]
id = "ks.bytes.1"
name = "bytes"
kind = "bytes-token"
severity = "low"
keywords = ["tok_"]
regex = '''tok_(?P<secret>[^\\s]{16})'''
examples = ["tok_abcdEFGH1234ijkl"]
negative_examples = ["tok_"]
"""
    )
    s = keysweep.Scanner(rules)
    raw = b"tok_\xff\xfeAB7qZ9mK2pL5xW8v"
    f = s.scan_bytes(raw)[0]
    assert f.secret.reveal_bytes() == raw[4:20]
    assert "\ufffd" in f.secret.reveal()


def test_immutable(scanner: keysweep.Scanner, fake_aws: Callable[[], str]) -> None:
    f = one(scanner, fake_aws())
    with pytest.raises(AttributeError):
        f.line = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        f.secret.redacted = "x"  # type: ignore[misc]


def test_secret_cannot_be_pickled(scanner: keysweep.Scanner, fake_aws: Callable[[], str]) -> None:
    f = one(scanner, fake_aws())
    with pytest.raises(TypeError):
        pickle.dumps(f.secret)
    with pytest.raises(TypeError):
        pickle.dumps(f)


def test_to_dict_shape(scanner: keysweep.Scanner, fake_aws: Callable[[], str]) -> None:
    f = one(scanner, fake_aws())
    d = f.to_dict()
    assert list(d) == RECORD_KEYS
    assert d["path"] == ""
    assert (d["byte_start"], d["byte_end"]) == f.span
    assert d["entropy"] == round(f.entropy, 3)
    revealed = f.to_dict(reveal=True)
    assert list(revealed) == RECORD_KEYS[:-1] + ["secret", "snippet"]
    assert revealed["secret"] == f.secret.reveal()


def test_to_dict_path_is_shown_like_the_cli(
    scanner: keysweep.Scanner, fake_aws: Callable[[], str]
) -> None:
    f = scanner.scan_text(fake_aws(), path="./a/b.txt")[0]
    assert f.path == "./a/b.txt"
    assert f.to_dict()["path"] == "a/b.txt"


def test_from_dict_round_trip(scanner: keysweep.Scanner, fake_github: Callable[[], str]) -> None:
    f = scanner.scan_text(f"\n  t = {fake_github()}\n", path="x/y.cfg")[0]
    g = keysweep.Finding.from_dict(f.to_dict(reveal=True))
    assert g == f
    assert hash(g) == hash(f)
    assert g.to_dict(reveal=True) == f.to_dict(reveal=True)
    with pytest.raises(KeyError, match="secret"):
        keysweep.Finding.from_dict(f.to_dict())


def test_equality_and_hash(scanner: keysweep.Scanner, fake_aws: Callable[[], str]) -> None:
    key = fake_aws()
    a = one(scanner, key)
    b = one(scanner, key)
    c = one(scanner, " " + key)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert a != object()
