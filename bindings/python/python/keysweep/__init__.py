"""keysweep: find leaked credentials at high speed.

The engine is written in Rust (``keysweep._keysweep``); this package
re-exports it. Quick start::

    import keysweep

    scanner = keysweep.Scanner()
    for finding in scanner.scan_path("src"):
        print(finding)                  # never shows the raw secret
        print(finding.to_dict())        # the record of `keysweep scan --format json`

    for finding in scanner.scan_git("."):   # every blob of the history, once
        print(finding.commit.id, finding.path, finding.line)

    baseline = keysweep.Baseline.load(".keysweep-baseline.json")
    new = baseline.filter(scanner.scan_path("."))   # drop accepted findings

    plan = keysweep.rotation.plan("vault-kv2:secret/app/db", "random", field="password")
    status = keysweep.rotation.Engine().apply(plan)  # rotate it (see keysweep.rotation)

    found = keysweep.locate("findings.json", "keysweep-rotate.toml")  # where leaked values live
    plans = keysweep.plan_from_config("findings.json", "keysweep-rotate.toml")

Set ``KEYSWEEP_LOG`` (e.g. ``debug``) before import to log to stderr.
"""

from . import rotation
from ._keysweep import (
    Baseline,
    BaselineEntry,
    CheckFailure,
    Commit,
    Finding,
    GracePeriodError,
    KeysweepError,
    RotationAbortedError,
    RotationError,
    Rule,
    RuleError,
    RuleSet,
    ScanError,
    ScanIterator,
    Scanner,
    ScanWarning,
    Secret,
    StalePlanError,
    __version__,
    locate,
    plan_from_config,
)

__all__ = [
    "Baseline",
    "BaselineEntry",
    "CheckFailure",
    "Commit",
    "Finding",
    "GracePeriodError",
    "KeysweepError",
    "RotationAbortedError",
    "RotationError",
    "Rule",
    "RuleError",
    "RuleSet",
    "ScanError",
    "ScanIterator",
    "ScanWarning",
    "Scanner",
    "Secret",
    "StalePlanError",
    "__version__",
    "locate",
    "plan_from_config",
    "rotation",
]
