"""Shared fixtures: fake credentials (never real ones) and a small tree."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

import keysweep

REPO = Path(__file__).resolve().parents[3]
GEN_TOKEN = REPO / "scripts" / "gen-token.py"
AWS_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@pytest.fixture(scope="session")
def scanner() -> keysweep.Scanner:
    return keysweep.Scanner()


def _aws_candidate() -> str:
    return "AKIA" + "".join(secrets.choice(AWS_ALPHABET) for _ in range(16))


@pytest.fixture(scope="session")
def fake_aws(scanner: keysweep.Scanner) -> Callable[[], str]:
    """A random AWS-shaped access key id that the default rules report."""

    def make() -> str:
        while True:
            key = _aws_candidate()
            if "EXAMPLE" in key:
                continue
            found = scanner.scan_text(f"id = {key}\n")
            if [f.kind for f in found] == ["aws-access-key-id"]:
                return key

    return make


@pytest.fixture(scope="session")
def fake_github() -> Callable[[], str]:
    """A random GitHub-shaped token with a valid checksum (scripts/gen-token.py)."""

    def make() -> str:
        out = subprocess.run(
            [sys.executable, str(GEN_TOKEN), "github", "ghp_"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    return make


@pytest.fixture()
def tree(tmp_path: Path, fake_aws: Callable[[], str], fake_github: Callable[[], str]) -> Path:
    """A small directory tree with a few secrets, an ignored file and a binary file."""
    root = tmp_path / "tree"
    (root / "src" / "deep").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        f'AWS_KEY = "{fake_aws()}"\nprint("hi")\ntoken = "{fake_github()}"\n'
    )
    (root / "src" / "deep" / "conf.env").write_text(f"\n\nGITHUB_TOKEN={fake_github()}\n")
    (root / "src" / "clean.txt").write_text("nothing to see here\n" * 10)
    (root / "ignored.log").write_text(f"key={fake_aws()}\n")
    (root / ".gitignore").write_text("*.log\n")
    (root / "blob.bin").write_bytes(b"\0\1\2" + f" {fake_aws()} ".encode() + b"\0")
    (root / "uni.txt").write_text(f"héllo wörld → {fake_aws()} ✓\n", encoding="utf-8")
    return root


def keysweep_bin() -> Path:
    """The command-line binary: $KEYSWEEP_BIN, else `cargo build` at the repo
    root (with every rotation backend, for the plan round trip)."""
    env = os.environ.get("KEYSWEEP_BIN")
    if env:
        return Path(env)
    subprocess.run(
        ["cargo", "build", "--quiet", "--bin", "keysweep", "--features", "rotate-all"],
        cwd=REPO,
        check=True,
    )
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"])
    exe = target / "debug" / ("keysweep.exe" if os.name == "nt" else "keysweep")
    assert exe.is_file(), exe
    return exe


class GitRepo:
    """A throwaway git repository driven by the `git` command line. Identity
    and dates come from the environment of each call; the user's global and
    system configuration are not read (nor changed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.commits = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def env(self, date: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="Ada Tester",
            GIT_AUTHOR_EMAIL="ada@example.com",
            GIT_COMMITTER_NAME="Ada Tester",
            GIT_COMMITTER_EMAIL="ada@example.com",
        )
        if date is not None:
            env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        return env

    def git(self, *args: str, date: str | None = None) -> str:
        out = subprocess.run(
            ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
            cwd=self.root,
            env=self.env(date),
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def write(self, path: str, text: str) -> None:
        p = self.root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def commit(self, message: str, date: str | None = None) -> str:
        """Commits everything (additions and deletions); returns the commit id.
        Dates default to one day apart, so history order is unambiguous."""
        self.commits += 1
        date = date or f"2024-01-{self.commits:02d}T12:00:00+02:00"
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")
