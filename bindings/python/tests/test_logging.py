"""KEYSWEEP_LOG turns on the engine's diagnostics on stderr at import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import keysweep

CODE = """
import sys, keysweep
s = keysweep.Scanner()
print(len(s.scan_text(sys.argv[1])), len(s.scan_path(sys.argv[2])))
"""


def run(env_value: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KEYSWEEP_LOG"}
    if env_value is not None:
        env["KEYSWEEP_LOG"] = env_value
    return subprocess.run(
        [sys.executable, "-c", CODE, *args], env=env, capture_output=True, text=True, check=True
    )


def test_debug_logging_goes_to_stderr_without_secrets(
    tree: Path, fake_github: Callable[[], str]
) -> None:
    token = fake_github()
    out = run("debug", f"t = {token}", str(tree))
    assert out.stdout.split() == ["1", "4"]
    assert "compiled rules" in out.stderr
    assert "keysweep_core" in out.stderr
    assert token[4:] not in out.stderr
    for f in keysweep.Scanner().scan_path(tree):
        assert f.secret.reveal()[4:] not in out.stderr


def test_silent_by_default_and_bad_filter_is_reported(tree: Path) -> None:
    quiet = run(None, "x", str(tree))
    assert quiet.stderr == ""
    bad = run("keysweep_core=notalevel", "x", str(tree))
    assert "KEYSWEEP_LOG" in bad.stderr
    assert bad.stdout.split() == ["0", "4"]
