"""Runs the typed usage example against the real module."""

from __future__ import annotations

from pathlib import Path

import pytest

from typecheck_usage import main


def test_typed_usage_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(tmp_path)
    out = capsys.readouterr().out
    assert "RotationError" in out and "bad.toml" in out
