"""keysweep.rotation against REAL local servers (scripts/servers start DIR,
then `. DIR/env`): OpenBao for the KV v2 store, PostgreSQL for the role
issuer, moto for AWS Secrets Manager. Without the servers' variables the
tests that need them are skipped, unless KEYSWEEP_REQUIRE_SERVERS=1 (then they
fail). Every test checks that no secret value (old or new) shows up in plans,
statuses, errors, reprs, journals or the CLI's output."""

from __future__ import annotations

import _thread
import json
import os
import secrets
import select
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

import keysweep
from keysweep import rotation
from keysweep.rotation import (
    Engine,
    GracePeriodError,
    RotationError,
    RotationPlan,
    RotationStatus,
    StalePlanError,
)

from conftest import keysweep_bin

SERVERS = {
    "bao": "KEYSWEEP_BAO_ADDR",
    "postgres": "KEYSWEEP_PG_ADMIN_URL",
    "moto": "KEYSWEEP_MOTO_ENDPOINT",
}
KINDS = {"bao": "vault-kv2", "postgres": "postgres", "moto": "aws-secretsmanager"}
ALPHANUMERIC = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def need(*servers: str) -> None:
    """Skips (or, under KEYSWEEP_REQUIRE_SERVERS=1, fails) unless the servers
    are configured and this build has their backends."""
    strict = os.environ.get("KEYSWEEP_REQUIRE_SERVERS") == "1"
    for s in servers:
        var = SERVERS[s]
        if not os.environ.get(var):
            msg = f"needs {s}: {var} is unset (`scripts/servers start DIR` and `. DIR/env` set it)"
            if strict:
                pytest.fail(f"{msg}, but KEYSWEEP_REQUIRE_SERVERS=1")
            pytest.skip(msg)
        if KINDS[s] not in rotation.backends():
            msg = f"needs the {KINDS[s]} backend, which this build of keysweep lacks"
            if strict:
                pytest.fail(msg)
            pytest.skip(msg)


def fake_password(n: int = 24) -> str:
    """A random fake credential (only the throw-away test servers know it)."""
    return "".join(secrets.choice(sorted(ALPHANUMERIC)) for _ in range(n))


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}x{secrets.token_hex(4)}"


def assert_clean(values: list[str], *texts: object) -> None:
    """No secret value appears in any of `texts` (str() of each)."""
    for text in texts:
        s = str(text)
        for v in values:
            assert v not in s, f"a secret value leaked into: {s[:200]}..."


def assert_clean_dir(values: list[str], root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for v in values:
                assert v.encode() not in data, f"a secret value leaked into {p}"


class Bao:
    """The OpenBao dev server's HTTP API (KV v2 at `secret/`), as root."""

    def __init__(self, addr: str, token: str) -> None:
        self.addr = addr
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(
            f"{self.addr}/v1/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"X-Vault-Token": self.token},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return json.loads(text) if text else {}

    def put(self, path: str, data: dict[str, str]) -> int:
        version: int = self.call("POST", f"secret/data/{path}", {"data": data})["data"]["version"]
        return version

    def get(self, path: str) -> dict[str, str]:
        data: dict[str, str] = self.call("GET", f"secret/data/{path}")["data"]["data"]
        return data

    def current_version(self, path: str) -> int:
        version: int = self.call("GET", f"secret/metadata/{path}")["data"]["current_version"]
        return version


@pytest.fixture()
def bao(monkeypatch: pytest.MonkeyPatch) -> Bao:
    need("bao")
    addr, token = os.environ["KEYSWEEP_BAO_ADDR"], os.environ.get("KEYSWEEP_BAO_TOKEN", "root")
    # The backends read Vault's own variables, as the command line does.
    monkeypatch.setenv("VAULT_ADDR", addr)
    monkeypatch.setenv("VAULT_TOKEN", token)
    for var in ("VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_ROLE_ID", "VAULT_SECRET_ID"):
        monkeypatch.delenv(var, raising=False)
    return Bao(addr, token)


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    return Engine(tmp_path / "journal")


@pytest.fixture()
def kv_secret(bao: Bao) -> tuple[str, str]:
    """A fresh KV v2 secret {"username": "app", "password": <fake>}: (path, password)."""
    path = unique("kspy/") + "/db"
    old = fake_password()
    assert bao.put(path, {"username": "app", "password": old}) == 1
    return path, old


def test_kv2_random_plan_apply_finalize(bao: Bao, engine: Engine, kv_secret: tuple[str, str], tmp_path: Path) -> None:
    path, old = kv_secret
    store = f"vault-kv2:secret/{path}"
    plan = rotation.plan(store, "random", field="password", grace="1h")
    assert isinstance(plan, RotationPlan)
    assert plan.id.startswith("rot-") and plan.id in repr(plan)
    assert (plan.store, plan.field, plan.issuer, plan.grace) == (store, "password", "random", 3600)
    assert plan.strategy == {"kind": "overlap", "grace_secs": 3600, "on_full": "refuse"}
    assert plan.retire == "drop_labels" and plan.old_version == "1"
    assert plan.target["store"]["kind"] == "vault-kv2"
    steps = [s["step"] for s in plan.steps]
    assert steps[0] == "lock" and "promote" in steps
    assert {r["code"] for r in plan.risks} >= {"manual-follow-up"}
    text = plan.to_json()
    assert json.loads(text) == plan.to_dict()
    assert RotationPlan.from_json(text) == plan and hash(RotationPlan.from_json(text)) == hash(plan)
    assert RotationPlan.from_json(plan.to_json(indent=None)) == plan
    assert_clean([old], text, repr(plan), plan.to_dict(), plan.preconditions)
    assert engine.list() == []

    status = engine.apply(plan)
    assert isinstance(status, RotationStatus)
    # The random issuer cannot deactivate anything: apply ends at CUTOVER,
    # with the follow-up (restart consumers) recorded.
    assert status.state == "CUTOVER", status
    assert status.mode == "apply" and not status.terminal
    assert status.rotation_id == plan.id and status.new_version == "2"
    assert status.follow_ups and "consumer" in status.follow_ups[0]
    cur = bao.get(path)
    new = cur["password"]
    assert cur["username"] == "app" and new != old
    assert len(new) == 40 and set(new) <= ALPHANUMERIC
    assert bao.current_version(path) == 2

    with pytest.raises(GracePeriodError) as info:
        engine.finalize(plan.id)
    e = info.value
    assert e.remaining is not None and 0 < e.remaining <= 3600
    assert e.rotation_id == plan.id and e.status == status and isinstance(e, RotationError)
    assert "finalize" in str(e) and "--force" not in str(e)

    done = engine.finalize(plan, force=True)
    assert done.state == "DONE" and done.terminal and done.mode == "finalize"
    assert engine.list() == [plan.id]
    assert engine.status(plan.id) == done == engine.status(done)
    assert engine.plan_of(plan.id) == plan
    assert bao.get(path) == {"username": "app", "password": new}
    assert done.to_dict()["state"] == "DONE" and done.to_dict()["rotation_id"] == plan.id
    values = [old, new]
    assert_clean(values, repr(status), status.to_dict(), repr(done), done.to_dict(), e, repr(engine))
    assert_clean_dir(values, tmp_path)
    audit = os.environ.get("KEYSWEEP_BAO_AUDIT_LOG")
    if audit and Path(audit).is_file():
        assert_clean(values, Path(audit).read_text(errors="replace"))


def test_stale_plan_changes_nothing(bao: Bao, engine: Engine, kv_secret: tuple[str, str]) -> None:
    path, old = kv_secret
    plan = rotation.plan(f"vault-kv2:secret/{path}", "random", field="password")
    other = fake_password()
    bao.put(path, {"username": "app", "password": other})
    with pytest.raises(StalePlanError) as info:
        engine.apply(plan)
    e = info.value
    assert e.error_class == "stale" and e.rotation_id == plan.id
    assert e.status is None and e.step is None
    assert any("version" in r for r in e.reasons), e.reasons
    assert plan.id in str(e)
    assert_clean([old, other], e, e.reasons)
    assert bao.get(path) == {"username": "app", "password": other}
    assert bao.current_version(path) == 2
    assert engine.list() == []

    # An edited plan is refused the same way (its hash no longer matches).
    fresh = rotation.plan(f"vault-kv2:secret/{path}", "random", field="password")
    doc = fresh.to_dict()
    doc["strategy"]["grace_secs"] = 0
    with pytest.raises(StalePlanError, match="plan_hash does not match") as info:
        engine.apply(RotationPlan.from_json(json.dumps(doc)))
    assert info.value.error_class == "stale" and "edited" in info.value.reasons[0]
    assert bao.current_version(path) == 2


def test_rollback_restores_the_old_value(bao: Bao, engine: Engine, kv_secret: tuple[str, str]) -> None:
    path, old = kv_secret
    plan = rotation.plan(f"vault-kv2:secret/{path}", "random", field="password", grace=0)
    status = engine.apply(plan)
    new = bao.get(path)["password"]
    assert new != old and status.state == "CUTOVER"
    back = engine.rollback(plan.id)
    assert back.state == "ROLLED_BACK" and back.terminal and back.mode == "rollback"
    assert bao.get(path) == {"username": "app", "password": old}
    with pytest.raises(RotationError) as info:
        engine.finalize(plan.id, force=True)
    assert "ROLLED_BACK" in str(info.value) and info.value.status == back
    with pytest.raises(RotationError, match="already applied"):
        engine.apply(plan)
    assert_clean([old, new], back.to_dict(), info.value)


def test_plan_files_round_trip_with_the_cli(
    bao: Bao, engine: Engine, kv_secret: tuple[str, str], tmp_path: Path
) -> None:
    path, old = kv_secret
    store = f"vault-kv2:secret/{path}"
    plan = rotation.plan(store, "random", field="password", issuer_options={"length": 32})
    assert plan.target["issuer"]["options"]["length"] == "32"
    pf = tmp_path / "plan.json"
    plan.save(pf)
    doc = json.loads(pf.read_text())
    assert doc["format"] == "keysweep-rotation-plan" and doc["version"] == 1
    assert doc["plans"] == [{"name": plan.id, "plan": plan.to_dict()}]
    assert RotationPlan.load(pf) == plan
    assert rotation.load_plans(pf) == [(plan.id, plan)]
    rotation.save_plans(tmp_path / "two.json", [plan, ("second", plan)])
    assert rotation.load_plans(tmp_path / "two.json") == [(plan.id, plan), ("second", plan)]
    with pytest.raises(ValueError, match="load_plans"):
        RotationPlan.load(tmp_path / "two.json")

    # A plan made in Python, applied by the command line.
    cli = keysweep_bin()
    state = tmp_path / "cli-journal"
    out = subprocess.run(
        [str(cli), "rotate", "apply", "--plan", str(pf), "--state-dir", str(state), "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "KEYSWEEP_LOG": "trace"},
    )
    if "cargo feature" in out.stderr:
        pytest.skip(f"{cli} lacks the vault backend (build it with `cargo build --features rotate-all`)")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["results"][0]
    assert result["name"] == plan.id and result["status"]["state"] == "CUTOVER"
    new = bao.get(path)["password"]
    assert new != old and len(new) == 32
    # ... and continued from its journal in Python.
    cli_engine = Engine(state)
    assert cli_engine.status(plan.id).to_dict() == result["status"]
    assert cli_engine.finalize(plan.id, force=True).state == "DONE"
    assert_clean([old, new], out.stdout, out.stderr)
    assert_clean_dir([old, new], tmp_path)

    # A plan made by the command line, applied in Python.
    path2 = unique("kspy/") + "/cli"
    old2 = fake_password()
    bao.put(path2, {"username": "app", "password": old2})
    pf2 = tmp_path / "cli-plan.json"
    out = subprocess.run(
        [str(cli), "rotate", "plan", "--store", f"vault-kv2:secret/{path2}", "--issuer", "random",
         "--field", "password", "--grace", "0s", "-o", str(pf2), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    ((name, cli_plan),) = rotation.load_plans(pf2)
    assert name == "command-line" and cli_plan.grace == 0
    assert engine.apply(cli_plan).state == "CUTOVER"
    new2 = bao.get(path2)["password"]
    assert new2 != old2
    assert engine.finalize(cli_plan.id).state == "DONE"  # grace 0: no force needed
    assert_clean([old2, new2], out.stdout, out.stderr, pf2.read_text())


def test_fingerprint_key_is_honoured(
    bao: Bao, kv_secret: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, old = kv_secret
    store = f"vault-kv2:secret/{path}"

    def value_fp(p: RotationPlan) -> str:
        (fp,) = [c["fingerprint"] for c in p.preconditions if c["kind"] == "current_value"]
        assert isinstance(fp, str)
        return fp

    monkeypatch.delenv("KEYSWEEP_FINGERPRINT_KEY", raising=False)
    default = rotation.plan(store, "random", field="password")
    monkeypatch.setenv("KEYSWEEP_FINGERPRINT_KEY", "team-key-1")
    keyed = rotation.plan(store, "random", field="password")
    assert value_fp(keyed) != value_fp(default)
    assert value_fp(rotation.plan(store, "random", field="password", fingerprint_key=b"team-key-1")) == value_fp(keyed)
    # The engine checks the value's fingerprint with its own key: another key
    # sees a different value, so the plan is stale.
    with pytest.raises(StalePlanError, match="fingerprint"):
        Engine(tmp_path / "other", fingerprint_key="another-key").apply(keyed)
    assert Engine(tmp_path / "same").apply(keyed).state == "CUTOVER"  # key from the environment
    assert bao.get(path)["password"] != old


def test_postgres_role_in_kv2(bao: Bao, engine: Engine, tmp_path: Path) -> None:
    need("postgres")
    admin = os.environ["KEYSWEEP_PG_ADMIN_URL"]
    u = urllib.parse.urlsplit(admin)
    host, port = u.hostname or "127.0.0.1", u.port or 5432

    def psql(url: str, sql: str) -> bool:
        r = subprocess.run(
            ["psql", url, "-XqAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True,
            text=True,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
        return r.returncode == 0

    role = unique("kspy_")
    old = fake_password()
    assert psql(admin, f"CREATE ROLE {role} LOGIN PASSWORD '{old}'")
    try:

        def url(pw: str) -> str:
            return f"postgres://{role}:{pw}@{host}:{port}/postgres"

        assert psql(url(old), "select 1")
        path = unique("kspy/") + "/pg"
        bao.put(path, {"dsn": url(old), "pool": "5"})
        plan = rotation.plan(
            f"vault-kv2:secret/{path}",
            f"postgres:{role}",
            field="dsn#password",
            issuer_options={"host": host, "port": port, "dbname": "postgres"},
            retire="soft-delete",
        )
        assert plan.old_credential == role and plan.retire == "soft_delete"
        assert {r["code"] for r in plan.risks} >= {"no-overlap"}
        assert_clean([old], plan.to_json(), repr(plan))
        status = engine.apply(plan)
        assert status.state in ("CUTOVER", "OLD_DEACTIVATED"), status
        cur = bao.get(path)
        assert cur["pool"] == "5"
        new = cur["dsn"].split(f"{role}:", 1)[1].split("@", 1)[0]
        assert new != old and cur["dsn"] == url(new), "only the password changed"
        assert psql(url(new), "select 1"), "the new password works"
        assert not psql(url(old), "select 1"), "the leaked password is refused"
        done = engine.finalize(plan.id, force=True)
        assert done.state == "DONE"
        assert psql(url(new), "select 1") and not psql(url(old), "select 1")
        assert_clean([old, new], repr(status), status.to_dict(), done.to_dict())
        assert_clean_dir([old, new], tmp_path)
    finally:
        psql(admin, f"DROP ROLE IF EXISTS {role}")


def test_aws_secrets_manager(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    need("moto")
    boto3 = pytest.importorskip("boto3")
    endpoint = os.environ["KEYSWEEP_MOTO_ENDPOINT"]
    creds = {
        "aws_access_key_id": os.environ["KEYSWEEP_MOTO_ACCESS_KEY_ID"],
        "aws_secret_access_key": os.environ["KEYSWEEP_MOTO_SECRET_ACCESS_KEY"],
    }
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["aws_secret_access_key"])
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1", **creds)
    name = unique("kspy/")
    old = fake_password()
    sm.create_secret(Name=name, SecretString=json.dumps({"username": "app", "password": old}))
    plan = rotation.plan(
        f"aws-secretsmanager:{name}",
        "random",
        field="password",
        store_options={"endpoint_url": endpoint, "region": "us-east-1"},
    )
    assert plan.target["store"]["options"] == {"endpoint_url": endpoint, "region": "us-east-1"}
    assert engine.apply(plan).state == "CUTOVER"
    # (VersionStage explicitly: moto's default version lags behind the labels.)
    cur = json.loads(sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])
    prev = json.loads(sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"])
    assert cur["username"] == "app" and cur["password"] != old and prev["password"] == old
    assert engine.finalize(plan.id, force=True).state == "DONE"
    assert_clean([old, cur["password"]], plan.to_json(), engine.status(plan.id).to_dict())


class SlowProxy:
    """A TCP proxy in Python threads that holds every client chunk for
    `delay` seconds: a rotation through it lasts a while, and can only finish
    if Python threads run while it does."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target = target
        self.delay = delay
        self.chunks = 0
        # With `hold_when` set, the first client chunk for which it returns
        # true is neither forwarded nor answered: `holding` is set and the
        # connection waits for `release`, then closes without forwarding it.
        # A test can then act while a request is provably in flight, without
        # timing.
        self.hold_when: Callable[[], bool] | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.pump, args=(conn,), daemon=True).start()

    def pump(self, client: socket.socket) -> None:
        with client, socket.create_connection(self.target) as upstream:
            while True:
                ready, _, _ = select.select([client, upstream], [], [], 10)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is client:
                        self.chunks += 1
                        if self.hold_when is not None and self.hold_when():
                            self.hold_when = None
                            self.holding.set()
                            self.release.wait(120)
                            return
                        time.sleep(self.delay)
                        upstream.sendall(data)
                    else:
                        client.sendall(data)

    def close(self) -> None:
        self.release.set()
        self.server.close()


@pytest.fixture()
def slow_bao(bao: Bao) -> Iterator[SlowProxy]:
    u = urllib.parse.urlsplit(bao.addr)
    proxy = SlowProxy((u.hostname or "127.0.0.1", u.port or 8200), 0.05)
    yield proxy
    proxy.close()


def test_apply_releases_the_gil(
    bao: Bao, engine: Engine, kv_secret: tuple[str, str], slow_bao: SlowProxy
) -> None:
    path, old = kv_secret
    plan = rotation.plan(
        f"vault-kv2:secret/{path}",
        "random",
        field="password",
        store_options={"address": f"http://127.0.0.1:{slow_bao.port}"},
    )
    before = slow_bao.chunks
    share, elapsed, status = measure(lambda: engine.apply(plan))
    assert isinstance(status, RotationStatus) and status.state == "CUTOVER"
    assert slow_bao.chunks - before >= 5, "the rotation did not go through the proxy"
    assert elapsed > 0.2, "apply too fast to measure; raise the proxy's delay"
    # With the GIL held for the whole apply the share would be ~0 (and the
    # proxy, a Python thread, could not have forwarded anything).
    assert share > 0.2, f"main thread ran at {share:.0%} of its speed during a {elapsed:.2f}s apply"
    assert bao.get(path)["password"] != old


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_ctrl_c_stops_apply_and_resume_finishes_it(
    bao: Bao, engine: Engine, kv_secret: tuple[str, str], slow_bao: SlowProxy
) -> None:
    path, old = kv_secret
    plan = rotation.plan(
        f"vault-kv2:secret/{path}",
        "random",
        field="password",
        store_options={"address": f"http://127.0.0.1:{slow_bao.port}"},
    )
    # The first request after four journaled steps is held: the signal lands
    # while apply is provably mid-rotation, and apply can only return by
    # reacting to it, since that request never ends.
    journal = Path(engine.state_dir) / f"{plan.id}.jsonl"
    slow_bao.hold_when = lambda: journal.is_file() and journal.read_text().count("\n") >= 4
    stop = threading.Event()

    def interrupt_mid_apply() -> None:
        if slow_bao.holding.wait(120) and not stop.is_set():
            _thread.interrupt_main()

    watcher = threading.Thread(target=interrupt_mid_apply, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.apply(plan)
        # Raised while the request was still held: it stopped on the signal,
        # not at the end of the rotation.
        assert not slow_bao.release.is_set()
    finally:
        stop.set()
        slow_bao.holding.set()  # wakes the watcher if nothing was held
        slow_bao.release.set()
        watcher.join()
    stopped = engine.status(plan.id)
    assert not stopped.terminal and stopped.state != "CUTOVER", stopped
    slow_bao.delay = 0.0
    done = engine.resume(plan.id)
    assert done.state == "CUTOVER", done
    assert bao.get(path)["password"] != old


def measure(work: Callable[[], object]) -> tuple[float, float, object]:
    """(fraction of its free speed a busy loop keeps while `work` runs in
    another thread, seconds `work` took, its result)."""
    done = threading.Event()
    result: list[object] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as e:  # reported below
            result.append(e)
        finally:
            done.set()

    def spin(ev: threading.Event) -> int:
        n = 0
        while not ev.is_set():
            n += 1
        return n

    idle = threading.Event()
    timer = threading.Timer(0.2, idle.set)
    t0 = time.perf_counter()
    timer.start()
    free = spin(idle) / (time.perf_counter() - t0)
    t = threading.Thread(target=run)
    start = time.perf_counter()
    t.start()
    n = spin(done)
    elapsed = time.perf_counter() - start
    t.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return n / (free * elapsed), elapsed, result[0]


# --- Errors (no server needed unless noted) --------------------------------


def test_unknown_store_kind_is_a_rotation_error() -> None:
    with pytest.raises(RotationError) as info:
        rotation.plan("carrier-pigeon:loft/7", "random")
    e = info.value
    assert e.error_class == "unsupported"
    assert "unknown store kind `carrier-pigeon`" in str(e) and "vault-kv2" in str(e)
    assert isinstance(e, keysweep.KeysweepError) and not isinstance(e, StalePlanError)


def test_unknown_issuer_kind_is_a_rotation_error(bao: Bao, kv_secret: tuple[str, str]) -> None:
    path, _ = kv_secret
    with pytest.raises(RotationError, match="unknown issuer kind `smoke-signal`") as info:
        rotation.plan(f"vault-kv2:secret/{path}", "smoke-signal:bob")
    assert info.value.error_class == "unsupported"


def test_bad_arguments_are_value_errors() -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: rotation.plan("no-colon", "random"), "KIND:LOCATOR"),
        (lambda: rotation.plan(":locator", "random"), "KIND:LOCATOR"),
        (lambda: rotation.plan("vault-kv2:", "random"), "KIND:LOCATOR"),
        (lambda: rotation.plan("vault-kv2:secret/a", ""), "KIND"),
        (lambda: rotation.plan("vault-kv2:secret/a", "random", field="a..b"), "empty path segment"),
        (lambda: rotation.plan("vault-kv2:secret/a", "random", field="dsn#user"), "#password"),
        (lambda: rotation.plan("vault-kv2:secret/a", "random", id_field=""), "empty path segment"),
        (lambda: rotation.plan("vault-kv2:secret/a", "random", strategy="yolo"), "strategy"),  # type: ignore[arg-type]
        (lambda: rotation.plan("vault-kv2:secret/a", "random", on_full="panic"), "on_full"),  # type: ignore[arg-type]
        (lambda: rotation.plan("vault-kv2:secret/a", "random", retire="shred"), "retire"),  # type: ignore[arg-type]
        (lambda: rotation.plan("vault-kv2:secret/a", "random", grace="soon"), "duration"),
        (lambda: rotation.plan("vault-kv2:secret/a", "random", grace=-1), "negative"),
        (lambda: rotation.plan("vault-kv2:secret/a", "random", grace=timedelta(days=-1)), "negative"),
        (lambda: RotationPlan.from_json("{not json"), "not JSON"),
        (lambda: RotationPlan.from_json('{"id": "rot-1"}'), "not a keysweep plan"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(TypeError):
        rotation.plan("vault-kv2:secret/a", "random", store_options={"a": [1]})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        rotation.plan("vault-kv2:secret/a", "random", store_options=["a"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rotation.plan("vault-kv2:secret/a", "random", grace=True)
    with pytest.raises(TypeError):
        Engine(fingerprint_key=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Engine().status(3)  # type: ignore[arg-type]


def test_engine_errors_without_a_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(tmp_path / "none")
    assert engine.list() == [] and engine.state_dir == str(tmp_path / "none")
    assert repr(engine) == f"Engine(state_dir={str(tmp_path / 'none')!r})"
    with pytest.raises(RotationError, match="no journal for rotation rot-000000000000") as info:
        engine.status("rot-000000000000")
    assert info.value.rotation_id == "rot-000000000000" and info.value.error_class == "other"
    with pytest.raises(RotationError, match="invalid rotation id"):
        engine.resume("../escape")
    with pytest.raises(RotationError, match="no journal"):
        engine.rollback("rot-000000000000")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KEYSWEEP_STATE_DIR", raising=False)
    assert Engine().state_dir == str(tmp_path / ".keysweep" / "rotations")
    monkeypatch.setenv("KEYSWEEP_STATE_DIR", "from-env")
    assert Engine().state_dir == str(tmp_path / "from-env")
    monkeypatch.setenv("LOG_SIGNABLE_BODY", "true")
    with pytest.raises(RotationError, match="LOG_SIGNABLE_BODY"):
        rotation.plan("vault-kv2:secret/a", "random")
    with pytest.raises(RotationError, match="LOG_SIGNABLE_BODY"):
        engine.resume("rot-000000000000")


def test_missing_field_is_a_rotation_error(bao: Bao, kv_secret: tuple[str, str]) -> None:
    path, old = kv_secret
    with pytest.raises(RotationError) as info:
        rotation.plan(f"vault-kv2:secret/{path}", "random", field="nope")
    e = info.value
    assert e.error_class == "invalid" and "field not found" in str(e)
    assert_clean([old], e)
    with pytest.raises(RotationError) as info:
        rotation.plan("vault-kv2:secret/" + unique("kspy/") + "/missing", "random")
    assert info.value.error_class == "not_found"


def test_backends_and_exports() -> None:
    kinds = rotation.backends()
    assert "random" in kinds
    for k in ("vault-kv2", "vault-kv1", "postgres", "aws-secretsmanager", "aws-iam-access-key"):
        assert k in kinds, f"the default build lacks {k}"
    assert keysweep.rotation is rotation
    assert rotation.RotationError is keysweep.RotationError
    assert issubclass(keysweep.StalePlanError, keysweep.RotationError)
    assert issubclass(keysweep.RotationAbortedError, keysweep.RotationError)
    assert issubclass(keysweep.GracePeriodError, keysweep.RotationError)
    for cls in (RotationPlan, RotationStatus, Engine):
        assert cls.__module__ == "keysweep.rotation"
    e = RotationError("x")
    assert (e.error_class, e.rotation_id, e.step, e.status) == (None, None, None, None)
    assert StalePlanError("y").reasons == () and GracePeriodError("z").remaining is None
