"""Git inputs: Scanner.scan_git (history), Scanner.scan_staged (the index),
Commit, and the history records compared with `keysweep scan --git --format json`."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

import keysweep

from conftest import GitRepo, keysweep_bin
from test_cli import run_cli
from test_threads import big_haystack, measure

GIT_KEYS = ["commit", "blob"]
COMMIT_KEYS = ["commit", "author", "email", "date", "summary", "path"]


@dataclass
class History:
    """main:    c1 add config (config.py: GitHub token, line 2)
                c2 add settings (app/settings.env: AWS key, line 3)
                c3 remove config
                c4 rotate aws key (the key line replaced)
                c5 restore config (old/config.py: c1's config.py, same blob)
    feature:    f1 from c2, adds feature.txt (another AWS key, line 1)"""

    repo: GitRepo
    github: str
    aws: str
    aws_feature: str
    c1: str
    c2: str
    c3: str
    c4: str
    c5: str
    f1: str
    config_blob: str


@pytest.fixture(scope="module")
def history(
    tmp_path_factory: pytest.TempPathFactory,
    fake_github: Callable[[], str],
    fake_aws: Callable[[], str],
) -> History:
    repo = GitRepo(tmp_path_factory.mktemp("git") / "repo")
    github, aws, aws_feature = fake_github(), fake_aws(), fake_aws()
    config = f'DEBUG = True\nTOKEN = "{github}"\n'
    repo.write("config.py", config)
    repo.write("README.md", "nothing to see here\n")
    c1 = repo.commit("add config")
    repo.write("app/settings.env", f"# settings\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID={aws}\n")
    c2 = repo.commit("add settings")
    (repo.root / "config.py").unlink()
    c3 = repo.commit("remove config")
    repo.write("app/settings.env", "# settings\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID=${AWS_KEY}\n")
    c4 = repo.commit("rotate aws key")
    repo.write("old/config.py", config)
    c5 = repo.commit("restore config")
    repo.git("checkout", "-q", "-b", "feature", c2)
    repo.write("feature.txt", f"key {aws_feature}\n")
    f1 = repo.commit("feature work")
    repo.git("checkout", "-q", "main")
    return History(
        repo=repo,
        github=github,
        aws=aws,
        aws_feature=aws_feature,
        c1=c1,
        c2=c2,
        c3=c3,
        c4=c4,
        c5=c5,
        f1=f1,
        config_blob=repo.git("rev-parse", f"{c1}:config.py"),
    )


def where(findings: list[keysweep.Finding]) -> list[tuple[str | None, str | None, str]]:
    """(path, commit id, raw secret) of each finding, in order."""
    return [(f.path, f.commit.id if f.commit else None, f.secret.reveal()) for f in findings]


def test_finds_a_deleted_secret_with_its_commit(scanner: keysweep.Scanner, history: History) -> None:
    h = history
    found = scanner.scan_git(h.repo.root)
    assert where(found) == [
        ("app/settings.env", h.c2, h.aws),
        ("config.py", h.c1, h.github),
        ("feature.txt", h.f1, h.aws_feature),
    ]
    f = found[1]
    assert (f.rule_id, f.kind) == ("ks.github.1", "github-pat")
    assert (f.line, f.column, f.end_line, f.end_column) == (2, 10, 2, 50)
    assert f.blob == h.config_blob
    c = f.commit
    assert c is not None
    assert (c.id, c.path, c.summary) == (h.c1, "config.py", "add config")
    assert (c.author, c.email) == ("Ada Tester", "ada@example.com")
    assert c.date == "2024-01-01T12:00:00+02:00"
    assert f.provenance == [c]
    aws = found[0]
    assert (aws.line, aws.kind, aws.commit and aws.commit.summary) == (3, "aws-access-key-id", "add settings")
    # The same blob, restored at another path in c5, is scanned once.
    assert sum(f.blob == h.config_blob for f in found) == 1


def test_str_path_and_subdirectory(scanner: keysweep.Scanner, history: History) -> None:
    want = scanner.scan_git(history.repo.root)
    assert scanner.scan_git(str(history.repo.root)) == want
    # Like git, a directory inside the work tree names its repository.
    assert scanner.scan_git(history.repo.root / "app") == want


def test_since_commit_limits_the_range(scanner: keysweep.Scanner, history: History) -> None:
    h = history
    # Not reachable from c1: c2..c5 and f1. The restored config is new there.
    assert where(scanner.scan_git(h.repo.root, since_commit=h.c1)) == [
        ("app/settings.env", h.c2, h.aws),
        ("feature.txt", h.f1, h.aws_feature),
        ("old/config.py", h.c5, h.github),
    ]
    assert where(scanner.scan_git(h.repo.root, since_commit=h.c4)) == [
        ("feature.txt", h.f1, h.aws_feature),
        ("old/config.py", h.c5, h.github),
    ]
    assert scanner.scan_git(h.repo.root, since_commit="main", all_refs=False) == []
    assert where(scanner.scan_git(h.repo.root, since_commit="HEAD~1", all_refs=False)) == [
        ("old/config.py", h.c5, h.github),
    ]


def test_all_refs(scanner: keysweep.Scanner, history: History) -> None:
    h = history
    head_only = scanner.scan_git(h.repo.root, all_refs=False)
    assert where(head_only) == [
        ("app/settings.env", h.c2, h.aws),
        ("config.py", h.c1, h.github),
    ]


def test_log_opts(scanner: keysweep.Scanner, history: History) -> None:
    h = history
    assert where(scanner.scan_git(h.repo.root, log_opts=f"{h.c1}..{h.c3}")) == [
        ("app/settings.env", h.c2, h.aws),
    ]
    assert where(scanner.scan_git(h.repo.root, log_opts=h.c1)) == [("config.py", h.c1, h.github)]
    assert where(scanner.scan_git(h.repo.root, log_opts="main..feature")) == [
        ("feature.txt", h.f1, h.aws_feature),
    ]
    with pytest.raises(ValueError, match="since_commit and log_opts"):
        scanner.scan_git(h.repo.root, since_commit=h.c1, log_opts=f"{h.c1}..")


def test_all_provenance(scanner: keysweep.Scanner, history: History) -> None:
    h = history
    found = scanner.scan_git(h.repo.root, all_provenance=True)
    (gh,) = [f for f in found if f.kind == "github-pat"]
    assert [(c.id, c.path) for c in gh.provenance] == [(h.c1, "config.py"), (h.c5, "old/config.py")]
    assert gh.commit == gh.provenance[0]
    d = gh.to_dict()
    assert list(d)[-3:] == ["commit", "blob", "provenance"]
    assert d["provenance"] == [c.to_dict() for c in gh.provenance]
    assert "provenance" not in scanner.scan_git(h.repo.root)[1].to_dict()


def test_to_dict_shape_and_commit(scanner: keysweep.Scanner, history: History) -> None:
    f = scanner.scan_git(history.repo.root)[1]
    d = f.to_dict()
    assert list(d)[-2:] == GIT_KEYS
    assert list(d["commit"]) == COMMIT_KEYS
    assert f.commit is not None and d["commit"] == f.commit.to_dict()
    assert d["commit"]["commit"] == history.c1
    assert d["blob"] == history.config_blob
    revealed = f.to_dict(reveal=True)
    assert list(revealed)[-4:] == ["secret", "snippet", "commit", "blob"]
    # Findings of other scans have none of it.
    plain = scanner.scan_text(f"t = {history.github}")[0]
    assert (plain.commit, plain.blob, plain.provenance) == (None, None, [])
    assert not set(plain.to_dict()) & {"commit", "blob", "provenance"}


@pytest.mark.parametrize("all_provenance", [False, True])
def test_from_dict_round_trip(
    scanner: keysweep.Scanner, history: History, all_provenance: bool
) -> None:
    for f in scanner.scan_git(history.repo.root, all_provenance=all_provenance):
        g = keysweep.Finding.from_dict(f.to_dict(reveal=True))
        assert g == f and hash(g) == hash(f)
        assert g.to_dict(reveal=True) == f.to_dict(reveal=True)
        assert g.provenance == f.provenance
    f = scanner.scan_git(history.repo.root)[1]
    record = f.to_dict(reveal=True)
    record["blob"] = "0" * 40
    assert keysweep.Finding.from_dict(record) != f
    del record["blob"]
    with pytest.raises(KeyError, match="blob"):
        keysweep.Finding.from_dict(record)


def test_commit_object(scanner: keysweep.Scanner, history: History) -> None:
    f = scanner.scan_git(history.repo.root)[1]
    c = f.commit
    assert c is not None
    assert c == scanner.scan_git(history.repo.root)[1].commit
    assert hash(c) == hash(f.provenance[0])
    assert c != history.c1 and c != f.to_dict()["commit"]
    assert repr(c).startswith(f"Commit(id={history.c1!r}, author='Ada Tester'")
    with pytest.raises(AttributeError):
        c.id = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        keysweep.Commit()
    body = history.github[4:]
    for shown in (repr(f), str(f), repr(c), str(f.to_dict()), repr(f.provenance)):
        assert body not in shown, shown
    assert f"commit={history.c1[:12]!r}" in repr(f)
    with pytest.raises(TypeError):
        pickle.dumps(f)


def test_not_a_repository(scanner: keysweep.Scanner, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(keysweep.ScanError, match="not a readable git repository") as info:
        scanner.scan_git(plain)
    e = info.value
    assert isinstance(e, OSError) and isinstance(e, keysweep.KeysweepError)
    assert e.filename == str(plain)
    assert str(plain) in str(e)
    with pytest.raises(keysweep.ScanError) as info:
        scanner.scan_git(tmp_path / "missing")
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == str(tmp_path / "missing")
    with pytest.raises(keysweep.ScanError, match="not a readable git repository"):
        scanner.scan_staged(plain)
    with pytest.raises(keysweep.ScanError) as info:
        scanner.scan_staged(tmp_path / "missing")
    assert info.value.errno == errno.ENOENT


def test_bad_revision(scanner: keysweep.Scanner, history: History) -> None:
    root = history.repo.root
    calls: list[Callable[[], object]] = [
        lambda: scanner.scan_git(root, since_commit="no-such-rev"),
        lambda: scanner.scan_git(root, log_opts="no-such-rev..HEAD"),
        lambda: scanner.scan_git(root, log_opts="no-such-rev"),
    ]
    for call in calls:
        with pytest.raises(keysweep.ScanError, match="cannot resolve revision") as info:
            call()
        assert "no-such-rev" in str(info.value)
        assert info.value.filename == str(history.repo.root)
    with pytest.raises(ValueError, match="log_opts"):
        scanner.scan_git(history.repo.root, log_opts=" ")


def test_empty_repository(scanner: keysweep.Scanner, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "empty")
    assert scanner.scan_git(repo.root) == []
    assert scanner.scan_staged(repo.root) == []


def test_options(scanner: keysweep.Scanner, history: History) -> None:
    root = history.repo.root
    want = scanner.scan_git(root)
    assert scanner.scan_git(root, threads=1) == want
    assert scanner.scan_git(root, binary=True) == want
    # max_file_size skips larger blobs (feature.txt is 25 bytes, the others larger).
    assert [f.path for f in scanner.scan_git(root, max_file_size=25)] == ["feature.txt"]
    assert scanner.scan_git(root, max_file_size=24) == []


def test_binary_blobs(scanner: keysweep.Scanner, tmp_path: Path, fake_aws: Callable[[], str]) -> None:
    repo = GitRepo(tmp_path / "bin")
    (repo.root / "blob.bin").write_bytes(b"\0\1\2 " + fake_aws().encode() + b" \0")
    repo.commit("add binary")
    assert scanner.scan_git(repo.root) == []
    assert [f.path for f in scanner.scan_git(repo.root, binary=True)] == ["blob.bin"]


# -- the command line ---------------------------------------------------------


@pytest.fixture(scope="module")
def cli() -> Path:
    return keysweep_bin()


def ordered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: (r["path"], r["byte_start"], r["rule_id"], r["blob"]))


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ([], {}),
        (["--reveal"], {"reveal": True}),
        (["--all-provenance"], {"all_provenance": True}),
        (["--since-commit", "HEAD~3"], {"since_commit": "HEAD~3"}),
        (["--log-opts", "main..feature"], {"log_opts": "main..feature"}),
    ],
)
def test_to_dict_matches_the_cli(
    cli: Path,
    scanner: keysweep.Scanner,
    history: History,
    args: list[str],
    kwargs: dict[str, Any],
) -> None:
    reveal = bool(kwargs.pop("reveal", False))
    doc = run_cli(cli, history.repo.root, "--git", *args, ".")
    theirs = ordered(doc["findings"])
    ours = ordered([f.to_dict(reveal=reveal) for f in scanner.scan_git(history.repo.root, **kwargs)])
    assert theirs, "the command line found nothing"
    assert ours == theirs
    for a, b in zip(ours, theirs):
        assert list(a) == list(b)
        assert list(a["commit"]) == list(b["commit"])
    if reveal:
        for rec in theirs:
            assert keysweep.Finding.from_dict(rec).to_dict(reveal=True) == rec


# -- the GIL --------------------------------------------------------------------


def test_scan_git_releases_the_gil(
    scanner: keysweep.Scanner, tmp_path: Path, fake_aws: Callable[[], str]
) -> None:
    repo = GitRepo(tmp_path / "big")
    data = big_haystack(fake_aws, 8)
    for i in range(6):
        # Distinct contents: identical files would be one blob, scanned once.
        (repo.root / f"f{i}.txt").write_bytes(data + f"file {i}\n".encode())
    repo.commit("big files")
    share, elapsed = measure(lambda: scanner.scan_git(repo.root, threads=1))
    assert elapsed > 0.05, "scan too fast to measure; grow the history"
    # With the GIL held for the whole scan the share would be ~0.
    assert share > 0.2, f"main thread ran at {share:.0%} of its speed during a {elapsed:.2f}s scan"


# -- staged changes -------------------------------------------------------------


def test_scan_staged_reports_added_lines_only(
    scanner: keysweep.Scanner,
    tmp_path: Path,
    fake_aws: Callable[[], str],
    fake_github: Callable[[], str],
) -> None:
    repo = GitRepo(tmp_path / "staged")
    old, new, unstaged, fresh = fake_aws(), fake_github(), fake_aws(), fake_github()
    repo.write("settings.env", f"OLD={old}\n")
    repo.commit("existing secret")
    assert scanner.scan_staged(repo.root) == []
    # Stage a change that keeps the old secret and adds a new one, plus a new file.
    repo.write("settings.env", f"OLD={old}\n# more\nNEW={new}\n")
    repo.write("src/new.py", f'T = "{fresh}"\n')
    repo.git("add", "settings.env", "src/new.py")
    # Unstaged changes are not what a commit would contain.
    repo.write("settings.env", f"OLD={old}\n# more\nNEW={new}\nUNSTAGED={unstaged}\n")
    found = scanner.scan_staged(repo.root)
    assert [(f.path, f.line, f.secret.reveal()) for f in found] == [
        ("settings.env", 3, new),
        ("src/new.py", 1, fresh),
    ]
    assert all(f.commit is None and f.blob is None for f in found)
    assert [f.path for f in scanner.scan_staged(repo.root, paths=[repo.root / "src"])] == ["src/new.py"]
    assert [f.path for f in scanner.scan_staged(repo.root, paths="settings.env")] == ["settings.env"]
    assert scanner.scan_staged(repo.root, max_file_size=10) == []


def test_scan_staged_honours_keysweepignore_as_the_hook_does(
    scanner: keysweep.Scanner, tmp_path: Path, fake_github: Callable[[], str]
) -> None:
    repo = GitRepo(tmp_path / "ignored")
    kept, fixture = fake_github(), fake_github()
    repo.write(".keysweepignore", "fixtures/\n")
    repo.write("app.env", f"T={kept}\n")
    repo.write("fixtures/fake.env", f"T={fixture}\n")
    repo.git("add", ".keysweepignore", "app.env", "fixtures/fake.env")
    found = scanner.scan_staged(repo.root)
    assert [(f.path, f.secret.reveal()) for f in found] == [("app.env", kept)]
    # Named explicitly, as a hook framework passes files: still ignored.
    assert scanner.scan_staged(repo.root, paths=[repo.root / "fixtures" / "fake.env"]) == []
    # The hook agrees: it blocks on app.env, and passes the fixture alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYSWEEP_")}

    def hook(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(keysweep_bin()), "hook", *files],
            cwd=repo.root, env=env, capture_output=True, text=True, check=False,
        )

    both = hook("app.env", "fixtures/fake.env")
    assert both.returncode == 1, both.stderr
    assert "app.env" in both.stdout + both.stderr
    assert "fixtures/fake.env" not in both.stdout + both.stderr
    alone = hook("fixtures/fake.env")
    assert alone.returncode == 0, alone.stdout + alone.stderr
    everything = scanner.scan_staged(repo.root, ignore=False)
    assert sorted(str(f.path) for f in everything) == ["app.env", "fixtures/fake.env"]


def test_scan_staged_before_the_first_commit(
    scanner: keysweep.Scanner, tmp_path: Path, fake_github: Callable[[], str]
) -> None:
    repo = GitRepo(tmp_path / "fresh")
    token = fake_github()
    repo.write("a.txt", f"\n{token}\n")
    repo.git("add", "a.txt")
    found = scanner.scan_staged(os.fspath(repo.root))
    assert [(f.path, f.line, f.secret.reveal()) for f in found] == [("a.txt", 2, token)]
