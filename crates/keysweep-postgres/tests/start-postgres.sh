#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for keysweep-postgres's integration
# tests (tests/postgres.rs) and prints how to reach it:
#
#   KEYSWEEP_PG_ADMIN_URL=postgres://keysweep_admin:<pw>@127.0.0.1:<port>/postgres
#   KEYSWEEP_PG_PID=<postmaster pid>
#   KEYSWEEP_PG_LOG=<server log file>
#
# Usage: start-postgres.sh <datadir> <port>
#
# * The data directory is initialised only when it is missing or empty; the
#   bootstrap superuser is `keysweep_admin`, with a random password kept in
#   <datadir>/keysweep_admin.password, so a second run on the same directory
#   reuses the cluster (and if it is already running, only prints).
# * Listens on 127.0.0.1:<port> only, with no Unix socket; pg_hba.conf asks
#   for scram-sha-256 on every connection.
# * log_statement=all by default (KEYSWEEP_PG_LOG_STATEMENT overrides it), so
#   the tests can check that no plaintext password reaches the server log.
#   fsync is off: this cluster is disposable.
# * Works as root (the server runs as the `postgres` user via runuser; the
#   data directory and its parents must be reachable by that user, e.g. under
#   /tmp) and as an ordinary user (runs as that user).
# * Binaries: $PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH.
#
# Stop it with `kill <KEYSWEEP_PG_PID>` (smart shutdown) or
# `pg_ctl stop -D <datadir>`.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 <datadir> <port>" >&2
    exit 2
fi
port=$2
case "$port" in
    ''|*[!0-9]*) echo "port must be a number" >&2; exit 2 ;;
esac
datadir=$(realpath -m -- "$1")

if [ -z "${PG_BIN:-}" ]; then
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
pgbin() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN/$1"; else command -v "$1"; fi
}

# Runs a command as the user that owns the cluster.
if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    as_owner() { runuser -u postgres -- "$@"; }
else
    owner=$(id -un)
    as_owner() { "$@"; }
fi

pwfile="$datadir/keysweep_admin.password"
logfile="$datadir/postgres.log"

mkdir -p -- "$datadir"
if [ "$(id -u)" -eq 0 ]; then
    chown "$owner" -- "$datadir"
fi
chmod 700 -- "$datadir"

if [ -z "$(ls -A -- "$datadir")" ]; then
    password=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
    tmp=$(mktemp)
    printf '%s\n' "$password" >"$tmp"
    if [ "$(id -u)" -eq 0 ]; then chown "$owner" -- "$tmp"; fi
    as_owner "$(pgbin initdb)" -D "$datadir" --username=keysweep_admin --pwfile="$tmp" \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --no-locale \
        >"$datadir.initdb.log" 2>&1 || { rm -f -- "$tmp"; cat "$datadir.initdb.log" >&2; exit 1; }
    rm -f -- "$tmp"
    rm -f -- "$datadir.initdb.log"
    printf '%s\n' "$password" >"$pwfile"
    chmod 600 -- "$pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown "$owner" -- "$pwfile"; fi
fi

if [ ! -f "$pwfile" ]; then
    echo "$datadir is not empty and has no keysweep_admin.password: not a cluster made by $0" >&2
    exit 1
fi
password=$(head -n 1 -- "$pwfile")

if ! as_owner "$(pgbin pg_ctl)" status -D "$datadir" >/dev/null 2>&1; then
    opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=''"
    opts="$opts -c password_encryption=scram-sha-256"
    opts="$opts -c log_statement=${KEYSWEEP_PG_LOG_STATEMENT:-all}"
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_owner "$(pgbin pg_ctl)" start -D "$datadir" -l "$logfile" -w -t 60 -o "$opts" >/dev/null
fi

pid=$(head -n 1 -- "$datadir/postmaster.pid")
echo "KEYSWEEP_PG_ADMIN_URL=postgres://keysweep_admin:$password@127.0.0.1:$port/postgres"
echo "KEYSWEEP_PG_PID=$pid"
echo "KEYSWEEP_PG_LOG=$logfile"
