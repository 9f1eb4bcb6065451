#!/usr/bin/env bash
# pg.sh - a real PostgreSQL server for the tests, started and stopped by the tests themselves.
#
# Sourced (bash):
#   pg_start [SETTING=VALUE...]  initdb in a new temporary directory, a free port on 127.0.0.1 (and
#                 a socket directory inside the temporary directory; nothing else listens), extra
#                 server settings as given; waits (bounded) with pg_isready, creates the database
#                 "pinset" and sets PG_URL (postgres://pinset@127.0.0.1:PORT/pinset), PG_PORT,
#                 PG_DIR, PG_BIN. Returns 0, 77 when the server binaries are missing (PG_SKIP says
#                 why), or 1 (the server's log on stderr).
#   pg_stop       stops the server (fast, then kill after 30 s) and removes its directory; call it
#                 from the EXIT trap. Safe to call twice or when nothing was started.
#   pg_psql ARGS  psql on that database (-X -q -A -t -v ON_ERROR_STOP=1).
# Executed:
#   pg.sh run CMD [ARG...]   starts a server, runs CMD with PINSET_PG_URL set, stops the server;
#                            exits with CMD's status, or 77 when the binaries are missing.
#
# PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the user
# "postgres" (the Debian package creates it), else "nobody", through runuser; its temporary
# directory is owned by that user. As another user, the server runs as that user.
# The server binaries are looked for in /usr/lib/postgresql/*/bin (Debian's layout; the newest
# version first), then on PATH, or only in $PINSET_PG_BINDIR when set; scripts/install-deps.sh
# installs them (the package postgresql).

PG_DIR=
PG_URL=
PG_PORT=
PG_BIN=
PG_SKIP=
_pg_user=

_pg_find_bin() {
    local d dirs
    if [ -n "${PINSET_PG_BINDIR:-}" ]; then
        dirs=$PINSET_PG_BINDIR
    else
        dirs="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -rV) $(dirname "$(command -v initdb 2> /dev/null || echo /nonexistent/x)")"
    fi
    for d in $dirs; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && [ -x "$d/pg_isready" ] && [ -x "$d/psql" ]; then
            PG_BIN=$d
            return 0
        fi
    done
    return 1
}

# _pg_as CMD...: CMD as the server's user, in its directory (readable by that user)
_pg_as() {
    if [ -n "$_pg_user" ]; then
        (cd "$PG_DIR" && runuser -u "$_pg_user" -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2> /dev/null ||
        echo $((20000 + RANDOM % 40000))
}

pg_start() {
    local try opts=() s base
    if ! _pg_find_bin; then
        PG_SKIP="PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in ${PINSET_PG_BINDIR:-/usr/lib/postgresql/*/bin or on PATH}: install the package postgresql (scripts/install-deps.sh)"
        return 77
    fi
    if [ "$(id -u)" = 0 ]; then
        if id postgres > /dev/null 2>&1; then _pg_user=postgres; else _pg_user=nobody; fi
        command -v runuser > /dev/null || { echo "pg.sh: running as root and no runuser" >&2; return 1; }
    fi
    base=${TMPDIR:-/tmp}
    # the server's user must reach its directory: under root, a private TMPDIR gives way to /tmp
    if [ -n "$_pg_user" ] && ! runuser -u "$_pg_user" -- test -x "$base" 2> /dev/null; then
        base=/tmp
    fi
    PG_DIR=$(mktemp -d "$base/pinset-pg.XXXXXX") || return 1
    chmod 700 "$PG_DIR"
    [ -n "$_pg_user" ] && chown "$_pg_user" "$PG_DIR"
    if ! _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U pinset --auth=trust --encoding=UTF8 --locale=C -N \
        > "$PG_DIR/initdb.log" 2>&1; then
        echo "pg.sh: initdb failed:" >&2
        cat "$PG_DIR/initdb.log" >&2
        return 1
    fi
    for s in "$@"; do
        opts+=(-c "$s")
    done
    for try in 1 2 3; do
        PG_PORT=$(_pg_free_port)
        # listen on 127.0.0.1 only; the socket in the temporary directory, not /var/run
        if _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR ${opts[*]}" start > "$PG_DIR/pg_ctl.log" 2>&1; then
            break
        fi
        PG_PORT=
        [ "$try" = 3 ] || sleep 0.2
    done
    if [ -z "$PG_PORT" ]; then
        echo "pg.sh: the server did not start:" >&2
        cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2 2> /dev/null
        return 1
    fi
    for _ in $(seq 100); do
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 && break
        sleep 0.1
    done
    if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 5; then
        echo "pg.sh: the server on port $PG_PORT is not ready:" >&2
        cat "$PG_DIR/server.log" >&2
        return 1
    fi
    if ! "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U pinset -d postgres -v ON_ERROR_STOP=1 \
        -c 'CREATE DATABASE pinset' > "$PG_DIR/createdb.log" 2>&1; then
        echo "pg.sh: CREATE DATABASE failed:" >&2
        cat "$PG_DIR/createdb.log" >&2
        return 1
    fi
    PG_URL="postgres://pinset@127.0.0.1:$PG_PORT/pinset"
    return 0
}

pg_psql() {
    "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U pinset -d pinset "$@"
}

pg_stop() {
    local pid
    [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        if ! _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop > /dev/null 2>&1; then
            pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2> /dev/null)
            [ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null
            echo "pg.sh: the server did not stop within 30 s; killed" >&2
        fi
    fi
    rm -rf "$PG_DIR"
    PG_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    [ "${1:-}" = run ] && [ $# -ge 2 ] || { echo "usage: pg.sh run CMD [ARG...]" >&2; exit 2; }
    shift
    trap pg_stop EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    pg_start fsync=off
    rc=$?
    if [ $rc = 77 ]; then
        echo "skip: $PG_SKIP"
        exit 77
    fi
    [ $rc = 0 ] || exit 1
    PINSET_PG_URL=$PG_URL "$@"
    exit $?
fi
