#!/usr/bin/env bash
# Lints the binding crate, builds and installs the Python package into a venv,
# then runs its checks: pytest, mypy --strict (tests, including
# typecheck_usage.py) and mypy.stubtest (the hand-written stubs against the
# compiled module). Exits non-zero on the first failure.
#
#   bindings/python/run-tests.sh
#
# Environment:
#   KEYSWEEP_VENV     the venv to create or reuse (default ~/.cache/keysweep/venv)
#   PYTHON            the interpreter that creates it (default python3, >= 3.9)
#   CARGO_TARGET_DIR  cargo's output (default bindings/python/target)
#   KEYSWEEP_PY_PROFILE  cargo profile of the module under test (default dev;
#                     `release` for an optimised build)
#   KEYSWEEP_BIN      the CLI for the JSON and rotation-plan round-trip tests
#                     (default: built here with --features rotate-all)
#   KEYSWEEP_*        the servers of `scripts/servers start DIR` (`. DIR/env`):
#                     without them the rotation tests are skipped, unless
#                     KEYSWEEP_REQUIRE_SERVERS=1
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${KEYSWEEP_VENV:-$HOME/.cache/keysweep/venv}"
PYTHON="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }

# The command line, built by the root workspace into its own target dir
# (before CARGO_TARGET_DIR is defaulted for the bindings below).
if [[ -z "${KEYSWEEP_BIN:-}" ]]; then
    step "python: build the keysweep CLI with every rotation backend (round-trip tests)"
    (cd "$ROOT" && cargo build --quiet --bin keysweep --features rotate-all)
    root_target="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    export KEYSWEEP_BIN="$root_target/debug/keysweep"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HERE/target}"

step "python: cargo fmt --check, cargo clippy (-D warnings)"
(cd "$HERE" && cargo fmt --check && cargo clippy --quiet --all-targets -- -D warnings)

step "python: venv at $VENV"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
# maturin's build backend runs `maturin` from PATH.
export PATH="$VENV/bin:$PATH"
"$PY" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9,<2" "pytest>=7" "mypy>=1.10" typing_extensions

# The tests need a working module, not a fast one: the dev profile reuses the
# dependencies the root workspace's `cargo test` already compiled into a
# shared CARGO_TARGET_DIR (the two lock files pin the same versions), where a
# release build with every backend costs about 11 CPU-minutes on its own.
profile="${KEYSWEEP_PY_PROFILE:-dev}"
step "python: pip install bindings/python (maturin, --profile $profile)"
MATURIN_PEP517_ARGS="--profile $profile" "$PY" -m pip install --quiet --disable-pip-version-check \
    --no-deps --force-reinstall --no-build-isolation "$HERE"

cd "$HERE"
step "python: pytest"
"$PY" -m pytest -q

step "python: mypy --strict"
"$PY" -m mypy --strict tests

step "python: mypy.stubtest keysweep"
"$PY" -m mypy.stubtest keysweep
