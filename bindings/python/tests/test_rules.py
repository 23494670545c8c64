"""Rule and RuleSet, and how a Scanner picks its rules."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

import keysweep

TOKEN_RULE = """
[[rules]]
id = "ks.acme.1"
name = "ACME token"
description = "A token of the ACME API."
kind = "acme-token"
severity = "critical"
keywords = ["acme_"]
regex = '''\\b(?P<secret>acme_[a-z0-9]{20})\\b'''
min_entropy = 3.0
references = ["https://acme.invalid/docs"]
examples = ["key = acme_q8w7e6r5t4y3u2i1o0p9"]
negative_examples = ["acme_short"]
"""
TOKEN = "acme_z8w7e6r5t4y3u2i1o0p1"


def test_from_toml() -> None:
    rs = keysweep.RuleSet.from_toml(TOKEN_RULE)
    assert len(rs) == 1
    assert rs.ids() == ["ks.acme.1"]
    assert repr(rs) == "RuleSet(<1 rules>)"
    (rule,) = list(rs)
    assert rule.id == "ks.acme.1"
    assert rule.name == "ACME token"
    assert rule.kind == "acme-token"
    assert rule.severity == "critical"
    assert rule.keywords == ["acme_"]
    assert rule.description == "A token of the ACME API."
    assert rule.references == ["https://acme.invalid/docs"]
    assert rule.examples == ["key = acme_q8w7e6r5t4y3u2i1o0p9"]
    assert rule.negative_examples == ["acme_short"]
    assert rule.min_entropy == 3.0
    assert "acme_" in rule.regex
    assert rule.origin.startswith("<inline>")
    assert repr(rule) == "Rule(id='ks.acme.1', kind='acme-token', severity='critical')"
    assert rs.get("ks.acme.1") == rule
    assert rs.get("nope") is None
    assert "ks.acme.1" in rs and rule in rs and "x" not in rs and 3 not in rs


def test_default_rules() -> None:
    rs = keysweep.RuleSet.default()
    assert len(rs) >= 40
    ids = [r.id for r in rs]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("ks.") for i in ids)
    assert rs.check() == []
    for r in rs:
        assert r.examples and r.negative_examples


def test_from_path_file_and_dir(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(TOKEN_RULE)
    (tmp_path / "b.toml").write_text(TOKEN_RULE.replace("ks.acme.1", "ks.acme.2"))
    (tmp_path / "notes.txt").write_text("not rules")
    assert keysweep.RuleSet.from_path(tmp_path / "a.toml").ids() == ["ks.acme.1"]
    assert keysweep.RuleSet.from_path(str(tmp_path)).ids() == ["ks.acme.1", "ks.acme.2"]
    with_defaults = keysweep.RuleSet.from_path(tmp_path / "a.toml", default_rules=True)
    assert len(with_defaults) == len(keysweep.RuleSet.default()) + 1


def test_check_reports_failures() -> None:
    bad = TOKEN_RULE.replace('negative_examples = ["acme_short"]', 'negative_examples = ["acme_q8w7e6r5t4y3u2i1o0p7"]')
    bad = bad.replace('examples = ["key = acme_q8w7e6r5t4y3u2i1o0p9"]', 'examples = ["key = acme_tooshort"]', 1)
    failures = keysweep.RuleSet.from_toml(bad).check()
    kinds = sorted(f.kind for f in failures)
    assert kinds == ["example-missed", "negative-matched"]
    assert all(f.rule_id == "ks.acme.1" and f.index == 0 for f in failures)
    assert all("example #1" in f.message for f in failures)
    assert "ks.acme.1" in repr(failures[0]) and "ks.acme.1" in str(failures[0])


def test_scanner_rule_selection(tmp_path: Path, fake_aws: Callable[[], str]) -> None:
    text = f"{TOKEN}\n{fake_aws()}\n"
    path = tmp_path / "acme.toml"
    path.write_text(TOKEN_RULE)

    def kinds(s: keysweep.Scanner) -> list[str]:
        return [f.kind for f in s.scan_text(text)]

    assert kinds(keysweep.Scanner()) == ["aws-access-key-id"]
    # Paths: defaults plus the file, unless default_rules=False.
    assert kinds(keysweep.Scanner([path])) == ["acme-token", "aws-access-key-id"]
    assert kinds(keysweep.Scanner(str(path))) == ["acme-token", "aws-access-key-id"]
    assert kinds(keysweep.Scanner([path], default_rules=False)) == ["acme-token"]
    # A lone RuleSet is used exactly as compiled.
    acme = keysweep.RuleSet.from_toml(TOKEN_RULE)
    assert kinds(keysweep.Scanner(acme)) == ["acme-token"]
    assert kinds(keysweep.Scanner([acme])) == ["acme-token", "aws-access-key-id"]
    assert kinds(keysweep.Scanner(keysweep.RuleSet.default())) == ["aws-access-key-id"]
    assert kinds(keysweep.Scanner([], default_rules=False)) == []
    with pytest.raises(TypeError):
        keysweep.Scanner(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        keysweep.Scanner([1.5])  # type: ignore[list-item]


def test_user_rule_replaces_default() -> None:
    aws = keysweep.RuleSet.default().get("ks.aws.1")
    assert aws is not None
    replacement = TOKEN_RULE.replace("ks.acme.1", "ks.aws.1")
    s = keysweep.Scanner([keysweep.RuleSet.from_toml(replacement)])
    assert len(s.rules) == len(keysweep.RuleSet.default())
    replaced = s.rules.get("ks.aws.1")
    assert replaced is not None and replaced.kind == "acme-token"
