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

Set ``KEYSWEEP_LOG`` (e.g. ``debug``) before import to log to stderr.
"""

from ._keysweep import (
    Baseline,
    BaselineEntry,
    CheckFailure,
    Commit,
    Finding,
    KeysweepError,
    RotationError,
    Rule,
    RuleError,
    RuleSet,
    ScanError,
    ScanIterator,
    Scanner,
    ScanWarning,
    Secret,
    __version__,
)

__all__ = [
    "Baseline",
    "BaselineEntry",
    "CheckFailure",
    "Commit",
    "Finding",
    "KeysweepError",
    "RotationError",
    "Rule",
    "RuleError",
    "RuleSet",
    "ScanError",
    "ScanIterator",
    "ScanWarning",
    "Scanner",
    "Secret",
    "__version__",
]
