"""Concurrency: the GIL is released during scans, one Scanner serves many
threads with identical results, and fork() is survivable."""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest

import keysweep


def big_haystack(fake_aws: Callable[[], str], mib: int) -> bytes:
    """Text dense with keyword hits, so the engine has real work to do."""
    line = b"aws key AKIA token ghp_ secret = value; password: hunter2 xoxb- sk_live_\n"
    chunk = line * (1024 * 1024 // len(line))
    return chunk * mib + f"\nlast = {fake_aws()}\n".encode()


def spin_while(done: threading.Event) -> int:
    n = 0
    while not done.is_set():
        n += 1
    return n


def rate(seconds: float) -> float:
    stop = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < stop:
        n += 1
    return n / seconds


def measure(work: Callable[[], object]) -> tuple[float, float]:
    """(fraction of the free-running loop speed reached while `work` runs in
    another thread, seconds `work` took)."""
    done = threading.Event()
    result: list[object] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            done.set()

    # The loop's speed with an idle second thread: `rate` checks a clock, so
    # measure the same loop shape (an Event check) for a fixed time instead.
    idle = threading.Event()
    timer = threading.Timer(0.2, idle.set)
    t0 = time.perf_counter()
    timer.start()
    free = spin_while(idle) / (time.perf_counter() - t0)

    t = threading.Thread(target=run)
    start = time.perf_counter()
    t.start()
    n = spin_while(done)
    elapsed = time.perf_counter() - start
    t.join()
    assert result, "the scan failed"
    return n / (free * elapsed), elapsed


def test_scan_bytes_releases_the_gil(scanner: keysweep.Scanner, fake_aws: Callable[[], str]) -> None:
    data = big_haystack(fake_aws, 48)
    share, elapsed = measure(lambda: scanner.scan_bytes(data))
    assert elapsed > 0.05, "scan too fast to measure; grow the haystack"
    # With the GIL held for the whole scan the share would be ~0.
    assert share > 0.2, f"main thread ran at {share:.0%} of its speed during a {elapsed:.2f}s scan"


def test_scan_path_releases_the_gil(scanner: keysweep.Scanner, tmp_path: Path, fake_aws: Callable[[], str]) -> None:
    data = big_haystack(fake_aws, 8)
    for i in range(6):
        (tmp_path / f"f{i}.txt").write_bytes(data)
    share, elapsed = measure(lambda: scanner.scan_path(tmp_path, threads=1))
    assert share > 0.2, f"main thread ran at {share:.0%} of its speed during a {elapsed:.2f}s scan"


def test_one_scanner_many_threads_identical(
    scanner: keysweep.Scanner, tree: Path, fake_aws: Callable[[], str], fake_github: Callable[[], str]
) -> None:
    doc = "\n".join(f"k{i} = {fake_aws() if i % 2 else fake_github()}" for i in range(40))
    want_text = scanner.scan_text(doc)
    want_path = scanner.scan_path(tree)
    assert len(want_text) == 40

    def job(i: int) -> bool:
        if i % 3 == 0:
            return scanner.scan_path(tree, threads=2) == want_path
        if i % 3 == 1:
            return all(scanner.scan_text(doc) == want_text for _ in range(20))
        got = sorted(scanner.iter_path(tree), key=lambda f: (f.path or "", f.span[0], f.rule_id))
        return got == want_path

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(job, range(48)))


def test_free_threaded_stress(scanner: keysweep.Scanner, fake_github: Callable[[], str]) -> None:
    """Many threads hammer one Scanner and share findings; on a free-threaded
    build (python3.13t) this runs truly in parallel."""
    tokens = [fake_github() for _ in range(8)]
    texts = [f"t = {t}\n" for t in tokens]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    seen: list[keysweep.Finding] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(200):
                (f,) = scanner.scan_text(texts[i])
                assert f.secret.reveal() == tokens[i]
                with lock:
                    seen.append(f)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(seen)) == 8
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    assert isinstance(gil, bool)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_fork(scanner: keysweep.Scanner, tree: Path, fake_aws: Callable[[], str]) -> None:
    key = fake_aws()
    scanner.scan_text(key)  # warm the scratch pool
    it = scanner.iter_path(tree)
    with warnings.catch_warnings():
        # 3.12+ warns about fork() in a multi-threaded process.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            if [f.secret.reveal() for f in scanner.scan_text(key)] != [key]:
                code = 3
            elif len(scanner.scan_path(tree)) != 4:
                code = 4
            else:
                try:
                    next(it)
                    code = 5
                except keysweep.ScanError:
                    pass
        except BaseException:
            code = 6
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert len(list(it)) == 4
