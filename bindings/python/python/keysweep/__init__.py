"""keysweep: find leaked credentials at high speed.

The engine is written in Rust (``keysweep._keysweep``); this package
re-exports it. Quick start::

    import keysweep

    scanner = keysweep.Scanner()
    for finding in scanner.scan_path("src"):
        print(finding)                  # never shows the raw secret
        print(finding.to_dict())        # the record of `keysweep scan --format json`

Set ``KEYSWEEP_LOG`` (e.g. ``debug``) before import to log to stderr.
"""

from ._keysweep import (
    CheckFailure,
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
    "CheckFailure",
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
