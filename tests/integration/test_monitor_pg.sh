#!/usr/bin/env bash
# test_monitor_pg.sh - `pinset monitor --db postgres://...` on a real PostgreSQL server that the
# test starts (tests/testlib/pg.sh): the store's libpq backend does not implement the monitor's
# functions (store_ops mon_hosts, mon_round) yet, so the monitor refuses the database with that
# reason, exit 3, before any round, and writes nothing into it.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}" "${PINSET_SOURCE_DIR:?}"
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/testlib/pg.sh"
TMP=$(mktemp -d) || exit 1
cleanup() {
    pg_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
pg_start
rc=$?
[ "$rc" = 77 ] && { echo "skip: ${PG_SKIP:-no PostgreSQL server}"; exit 77; }
[ "$rc" = 0 ] || { echo "FAIL: the PostgreSQL server did not start"; exit 1; }
cp "$PINSET_TESTDATA/check/policies/check.json" "$TMP/policy.json"
: > "$TMP/none.txt"
printf '{"inventory": [{"policy": "policy.json", "targets": ["none.txt"]}], "alerts": {"jsonl": "alerts.jsonl"}}' > "$TMP/mon.json"
timeout -k 5 60 "$PINSET_BIN" monitor --config "$TMP/mon.json" --db "$PG_URL" --once 1 > "$TMP/out" 2> "$TMP/err"
rc=$?
fails=0
[ "$rc" = 3 ] && echo "ok: exit 3" || { echo "FAIL: exit $rc"; fails=1; }
grep -q "^pinset: monitor: db postgres://.*: the postgres backend does not keep the monitor's tables yet$" "$TMP/err" \
    && echo "ok: the reason is given" || { echo "FAIL: $(cat "$TMP/err")"; fails=1; }
[ ! -e "$TMP/alerts.jsonl" ] && echo "ok: no round ran" || { echo "FAIL: a round ran"; fails=1; }
[ "$(pg_psql -c "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'monitor%'")" = 0 ] \
    && echo "ok: no monitor table in PostgreSQL" || { echo "FAIL: monitor tables"; fails=1; }
exit $fails
