"""keysweep.locate() and keysweep.plan_from_config(): the config-driven
`keysweep rotate locate` / `keysweep rotate plan --config` from Python.

Error paths run without servers; the end-to-end tests use the REAL local
servers of test_rotation.py (OpenBao, moto), skipped without them unless
KEYSWEEP_REQUIRE_SERVERS=1. Every result is checked for secret values."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

import keysweep
from keysweep import rotation
from keysweep.rotation import Engine, LocateResult, RotationError, RotationPlan

from test_rotation import Bao, assert_clean, bao, fake_password, need, unique  # noqa: F401 (bao: a fixture)

FP = "ab" * 32


def leaked_url(tmp_path: Path, password: str) -> tuple[str, list[keysweep.Finding]]:
    """A postgres:// URL with `password`, leaked in a file and scanned."""
    url = f"postgres://app:{password}@127.0.0.1:5432/postgres"
    app = tmp_path / "app"
    app.mkdir()
    (app / "config.env").write_text(f"DATABASE_URL={url}\n")
    findings = keysweep.Scanner().scan_path(str(app))
    assert findings, "the scanner should flag the URL"
    return url, findings


def write_findings(path: Path, findings: list[keysweep.Finding]) -> Path:
    path.write_text(json.dumps({"findings": [f.to_dict() for f in findings]}))
    return path


def record(fp: str = FP, **kw: Any) -> dict[str, Any]:
    return {"rule_id": "ks.x.1", "kind": "generic", "path": "a.env", "line": 1, "fingerprint": fp, **kw}


@pytest.fixture()
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs in tmp_path (no stray ./keysweep-rotate.toml), without body logging."""
    monkeypatch.chdir(tmp_path)
    for var in ("LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_exports() -> None:
    assert keysweep.locate is rotation.locate
    assert keysweep.plan_from_config is rotation.plan_from_config
    assert LocateResult.__module__ == "keysweep.rotation"
    for name in ("locate", "plan_from_config"):
        assert name in keysweep.__all__ and name in rotation.__all__


def test_locate_refusals(in_tmp: Path) -> None:
    cfg = in_tmp / "keysweep-rotate.toml"
    cfg.write_text("[locate]\naws = false\n")
    with pytest.raises(ValueError, match="nothing to search") as info:
        keysweep.locate([record()], cfg)
    assert "--" not in str(info.value)  # no command-line flags in library errors
    # The default config file is ./keysweep-rotate.toml, as for the CLI.
    with pytest.raises(ValueError, match="nothing to search"):
        keysweep.locate([record()])
    with pytest.raises(ValueError, match="no findings"):
        keysweep.locate([], cfg)
    with pytest.raises(ValueError, match="empty Vault mount"):
        keysweep.locate([record()], cfg, vault_mounts=["/"])
    bad = in_tmp / "findings.jsonl"
    bad.write_text(json.dumps(record()) + "\nnot json\n")
    with pytest.raises(ValueError, match=r"findings\.jsonl: line 2: expected"):
        keysweep.locate(bad, cfg)
    with pytest.raises(ValueError, match="no valid rule_id/fingerprint"):
        keysweep.locate([record(fp="abc")], cfg)
    with pytest.raises(TypeError):
        keysweep.locate(3, cfg)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        keysweep.locate([3], cfg)  # type: ignore[list-item]
    # Unreadable files are ScanErrors, as everywhere in keysweep.
    with pytest.raises(keysweep.ScanError, match="missing.toml"):
        keysweep.locate([record()], in_tmp / "missing.toml")
    with pytest.raises(keysweep.ScanError, match="missing.json"):
        keysweep.locate(in_tmp / "missing.json", cfg)


def test_plan_from_config_refusals(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = in_tmp / "rotate.toml"
    cfg.write_text("")
    with pytest.raises(ValueError, match="nothing to plan"):
        keysweep.plan_from_config(config=cfg)
    cfg.write_text(
        '[[rotation]]\nname = "x"\nstore = { kind = "vault-kv2", locator = "secret/a" }\n'
        'issuer = { kind = "random" }\nstrategy = "yolo"\n'
    )
    with pytest.raises(ValueError, match=r'rotate\.toml: \[\[rotation\]\] #1 \("x"\): strategy'):
        keysweep.plan_from_config(config=cfg)
    cfg.write_text(
        f'[[rotation]]\nname = "pigeon"\nfingerprints = ["{FP}"]\n'
        'store = { kind = "carrier-pigeon", locator = "loft/7" }\nissuer = { kind = "random" }\n'
    )
    with pytest.raises(ValueError, match="matches the given findings"):
        keysweep.plan_from_config([record(fp="cd" * 32)], cfg)
    with pytest.raises(ValueError, match="lists no findings"):
        keysweep.plan_from_config([], cfg)
    with pytest.raises(ValueError, match='no \\[\\[rotation\\]\\] named "nope"'):
        keysweep.plan_from_config(config=cfg, rotations=["nope"])
    # Selected (by finding, fingerprint or name): the store kind is unknown.
    calls: list[Callable[[], object]] = [
        lambda: keysweep.plan_from_config([record()], cfg),
        lambda: keysweep.plan_from_config(config=cfg, fingerprints=[FP.upper()]),
        lambda: keysweep.plan_from_config(config=cfg, rotations=["pigeon"]),
    ]
    for call in calls:
        with pytest.raises(RotationError, match="unknown store kind `carrier-pigeon`") as info:
            call()
        assert info.value.error_class == "unsupported" and '"pigeon"' in str(info.value)
    # Both body-logging variables of the AWS SDK are refused, by every entry point.
    for var in ("LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"):
        monkeypatch.setenv(var, "1")
        with pytest.raises(RotationError, match=var):
            keysweep.plan_from_config(config=cfg)
        with pytest.raises(RotationError, match=var):
            rotation.plan("vault-kv2:secret/a", "random")
        monkeypatch.delenv(var)


def test_locate_and_plan_from_config_in_openbao(bao: Bao, in_tmp: Path) -> None:
    old = fake_password()
    url, findings = leaked_url(in_tmp, old)
    path = unique("kspy/") + "/db"
    assert bao.put(path, {"dsn": url, "pool": "5"}) == 1
    mount = "secret/" + path.split("/")[0]
    (in_tmp / "keysweep-rotate.toml").write_text("[locate]\naws = false\n")

    found = keysweep.locate(findings, vault_mounts=[mount])
    assert isinstance(found, LocateResult)
    assert found.searched == [f"Vault {mount}"]
    assert found.located and found.not_located == [], found.to_dict()
    hit = found.located[0]
    assert (hit["store"]["kind"], hit["store"]["locator"]) == ("vault-kv2", f"secret/{path}")
    assert (hit["field"], hit["version"], hit["labels"]) == ("dsn#password", "1", ["current"])
    assert hit["fingerprint"] == findings[0].to_dict()["fingerprint"]
    assert hit["hints"]["url_user"] == "app" and hit["hints"]["url_port"] == 5432
    assert 'kind = "postgres"' in found.suggested_config
    assert 'principal = "app"' in found.suggested_config
    assert found.to_dict() == {"searched": found.searched, "located": found.located, "not_located": []}
    assert "located=1" in repr(found)
    # A findings file (the CLI's `scan --format json`) gives the same answer.
    ffile = write_findings(in_tmp / "findings.json", findings)
    assert keysweep.locate(ffile, vault_mounts=[mount]).to_dict() == found.to_dict()
    assert_clean([old], repr(found), found.to_dict(), found.suggested_config)

    # Plan the entry for it, selected by the findings file.
    cfg = in_tmp / "rotate.toml"
    cfg.write_text(
        f'[[rotation]]\nname = "app-db"\nfingerprints = ["{hit["fingerprint"]}"]\n'
        f'store = {{ kind = "vault-kv2", locator = "secret/{path}" }}\nfield = "dsn#password"\n'
        'issuer = { kind = "random" }\ngrace = "1h"\n\n'
        f'[[rotation]]\nname = "other"\nfingerprints = ["{"cd" * 32}"]\n'
        'store = { kind = "vault-kv2", locator = "secret/elsewhere" }\nissuer = { kind = "random" }\n'
    )
    plans = keysweep.plan_from_config(ffile, cfg)
    assert [name for name, _ in plans] == ["app-db"]
    plan = plans[0][1]
    assert isinstance(plan, RotationPlan)
    assert (plan.store, plan.field, plan.issuer, plan.grace) == (f"vault-kv2:secret/{path}", "dsn#password", "random", 3600)
    assert [n for n, _ in keysweep.plan_from_config(findings, cfg)] == ["app-db"]
    assert [n for n, _ in keysweep.plan_from_config(config=cfg, rotations=["app-db"])] == ["app-db"]
    rotation.save_plans(in_tmp / "plan.json", plans)
    assert rotation.load_plans(in_tmp / "plan.json") == [("app-db", plan)]
    assert_clean([old], plan.to_json(), (in_tmp / "plan.json").read_text())

    engine = Engine(in_tmp / "journal")
    status = engine.apply(plan)
    assert status.state == "CUTOVER", status
    new_url = bao.get(path)["dsn"]
    assert new_url != url and new_url.startswith("postgres://app:") and bao.get(path)["pool"] == "5"
    new = new_url.split(":")[2].split("@")[0]
    assert_clean([old, new], status.to_dict(), repr(status))


def test_locate_in_secrets_manager(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
    old = fake_password()
    url, findings = leaked_url(in_tmp, old)
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1", **creds)
    name = unique("kspyloc/")
    sm.create_secret(Name=name, SecretString=json.dumps({"dsn": url}))

    found = keysweep.locate(findings, aws_prefix=name, endpoint_url=endpoint, region="us-east-1")
    assert found.searched == ["AWS Secrets Manager"]
    assert found.located and found.not_located == [], found.to_dict()
    hit = found.located[0]
    assert hit["store"]["kind"] == "aws-secretsmanager"
    assert f":secret:{name}" in hit["store"]["locator"]
    assert hit["field"] == "dsn#password" and "AWSCURRENT" in hit["labels"]
    assert f'name = "{name.replace("/", "-")}"' in found.suggested_config
    # Not searched: the leaked value is reported as not located.
    other = keysweep.locate(findings, aws_prefix=unique("kspynone/"), endpoint_url=endpoint, region="us-east-1")
    assert other.located == [] and len(other.not_located) == len(findings)
    assert_clean([old], found.to_dict(), found.suggested_config, repr(found))
