"""Rotation of leaked credentials (the engine of ``keysweep rotate``).

Plan (read-only), apply, then finalize after the grace period::

    from keysweep import rotation

    plan = rotation.plan("vault-kv2:secret/app/db", "random", field="password")
    print(plan, plan.risks)              # ids and fingerprints, never values
    plan.save("plan.json")               # `keysweep rotate apply --plan plan.json` reads it

    engine = rotation.Engine(".keysweep/rotations")
    status = engine.apply(plan)          # StalePlanError if the target changed since planning
    status.state                         # "OLD_DEACTIVATED" ("CUTOVER" if the issuer cannot deactivate)
    engine.rollback(plan.id)             # or, after the grace period:
    engine.finalize(plan.id)             # "DONE"

From a ``keysweep-rotate.toml`` config, as ``keysweep rotate locate`` and
``keysweep rotate plan --config`` do::

    found = rotation.locate("findings.json", "keysweep-rotate.toml")
    found.located, found.not_located     # places, never values
    print(found.suggested_config)        # [[rotation]] entries to review and append
    plans = rotation.plan_from_config("findings.json", "keysweep-rotate.toml")
    rotation.save_plans("plan.json", plans)

Stores: ``aws-secretsmanager``, ``vault-kv2``, ``vault-kv1``; issuers:
``random``, ``aws-iam-access-key``, ``postgres`` (see ``backends()``).
Credentials come from the environment as for the command line (the AWS chain;
``VAULT_ADDR``/``VAULT_TOKEN`` or AppRole; ``KEYSWEEP_PG_ADMIN_URL``), and
``KEYSWEEP_FINGERPRINT_KEY`` is honoured. Every call runs without the GIL on an
internal runtime; no asyncio is needed.
"""

from ._keysweep import (
    Engine,
    GracePeriodError,
    LocateResult,
    RotationAbortedError,
    RotationError,
    RotationPlan,
    RotationStatus,
    StalePlanError,
    backends,
    load_plans,
    locate,
    plan,
    plan_from_config,
    save_plans,
)

__all__ = [
    "Engine",
    "GracePeriodError",
    "LocateResult",
    "RotationAbortedError",
    "RotationError",
    "RotationPlan",
    "RotationStatus",
    "StalePlanError",
    "backends",
    "load_plans",
    "locate",
    "plan",
    "plan_from_config",
    "save_plans",
]
