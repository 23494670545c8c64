"""Archives: scan_path, iter_path and scan_file open zip/tar/gzip members
(nested), name them `outer!inner`, and `archives=False` leaves them closed."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Callable

import pytest

import keysweep


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _tar_gz(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


@pytest.fixture()
def archives(tmp_path: Path, fake_aws: Callable[[], str]) -> Path:
    jar = _zip({"application.properties": f"# app\nAWS_ACCESS_KEY_ID={fake_aws()}\n".encode()})
    (tmp_path / "outer.tar.gz").write_bytes(_tar_gz({"lib/app.jar": jar}))
    (tmp_path / "config.env.gz").write_bytes(gzip.compress(f"KEY={fake_aws()}\n".encode()))
    return tmp_path


def _paths(root: Path, found: list[keysweep.Finding]) -> list[str]:
    return sorted((f.path or "").replace(str(root) + "/", "") for f in found)


EXPECTED = ["config.env.gz!config.env", "outer.tar.gz!lib/app.jar!application.properties"]


def test_scan_path_opens_archives(scanner: keysweep.Scanner, archives: Path) -> None:
    assert _paths(archives, scanner.scan_path(archives)) == EXPECTED
    assert scanner.scan_path(archives, archives=False) == []


def test_iter_path_opens_archives(scanner: keysweep.Scanner, archives: Path) -> None:
    with scanner.iter_path(archives, threads=1) as it:
        assert _paths(archives, list(it)) == EXPECTED
    with scanner.iter_path(archives, archives=False) as it:
        assert list(it) == []


def test_scan_file_opens_an_archive(scanner: keysweep.Scanner, archives: Path) -> None:
    found = scanner.scan_file(archives / "outer.tar.gz")
    assert _paths(archives, found) == [EXPECTED[1]]
    assert [f.kind for f in found] == ["aws-access-key-id"]
    assert scanner.scan_file(archives / "outer.tar.gz", archives=False) == []


def test_unreadable_member_warns(scanner: keysweep.Scanner, tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b"x = 1\n" * 1000))
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.txt.gz").write_bytes(bytes(data))
    with pytest.warns(keysweep.ScanWarning, match=r"bad\.txt\.gz!bad\.txt: corrupt archive"):
        assert scanner.scan_file(tmp_path / "bad.txt.gz") == []
