#!/usr/bin/env bash
# test_collect_pg.sh - `pinset collect --db postgres://...` on a real PostgreSQL server that this
# test starts (tests/testlib/pg.sh: initdb in a temporary directory, a free port on 127.0.0.1, as
# an unprivileged user when run as root; stopped at the end), with curl posting reports:
# a report stored with its class and deduplicated (one row, count 2, checked with psql); nothing
# malformed stored; `pinset reports --db postgres://... --format json` and the text form reading
# them; the web view showing the host; two collectors on one database receiving the same report
# count it twice in one row, and 2 x 100 copies posted to both at once by 8 senders each are all
# counted in that one row (no lost update); a session ended by the server is reconnected. Skipped
# (77) only where the PostgreSQL server binaries are missing. Every server is stopped on exit;
# every wait bounded.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}" "${PINSET_SOURCE_DIR:?}"
for t in curl jq; do
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
done
D=$PINSET_TESTDATA/check
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/integration/collect_lib.sh"
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/testlib/pg.sh"
trap 'collector_stop_all; pg_stop; rm -rf "$TMP"' EXIT

pg_start fsync=off
rc=$?
if [ $rc = 77 ]; then
    echo "skip: $PG_SKIP"
    exit 77
fi
[ $rc = 0 ] || exit 1
echo "PostgreSQL at $PG_URL ($PG_BIN)"

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
post() {
    CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --max-time 30 \
        -H 'Content-Type: application/json' --data-binary "@$2" "$1/report")
    BODY=$(cat "$TMP/body")
}
sql() { pg_psql -c "$1"; }
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)

collector_start A --db "$PG_URL" --policy "$D/policies/check.json" --cafile "$D/root.crt.pem" \
    --rate 100000 --burst 100000 || exit 1
[ "$(sql 'SELECT max(version) FROM schema_version')" = 4 ] && ok "schema migrated to version 4 (the collector's tables, then the monitor's, then its CT log states and outbox, then the CT positions)" ||
    bad "schema_version: $(sql 'SELECT * FROM schema_version')"

# --- a report stored with its class; a second copy counted, not duplicated ---
rfc_report rogue.check.test 443 "$NOW" "$PIN_INT" "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/rogue.json"
post "$URL_A" "$TMP/rogue.json"
[ "$CODE" = 201 ] && [ "$(jq -r .class <<< "$BODY")" = interception ] && ok "report: 201, class interception" ||
    bad "report: $CODE $BODY"
post "$URL_A" "$TMP/rogue.json"
[ "$CODE" = 201 ] || bad "second copy: $CODE"
[ "$(sql 'SELECT count(*) FROM reports')" = 1 ] && ok "dedup: one row" || bad "dedup: $(sql 'SELECT count(*) FROM reports') rows"
[ "$(sql 'SELECT count FROM reports')" = 2 ] && ok "dedup: count 2" || bad "dedup: count $(sql 'SELECT count FROM reports')"
[ "$(sql 'SELECT client FROM reports')" = 127.0.0.0/24 ] && ok "client truncated to /24" || bad "client: $(sql 'SELECT client FROM reports')"
[ "$(sql 'SELECT (last_seen >= first_seen)::int FROM reports')" = 1 ] && ok "first and last seen" || bad "seen"
rfc_report expiring.check.test 443 "$NOW" "$PIN_BACKUP" "$D/leaf.crt.pem" "$D/int.crt.pem" > "$TMP/drift.json"
post "$URL_A" "$TMP/drift.json"
[ "$(jq -r .class <<< "$BODY")" = rotation-drift ] && ok "rotation-drift" || bad "rotation-drift: $CODE $BODY"

# --- nothing malformed reaches the database ---
jq -c 'del(.port)' "$TMP/rogue.json" > "$TMP/h.json"
post "$URL_A" "$TMP/h.json"
[ "$CODE" = 400 ] && [ "$(sql 'SELECT sum(count) FROM reports')" = 3 ] && ok "hostile: 400, nothing stored" ||
    bad "hostile: $CODE, $(sql 'SELECT sum(count) FROM reports')"

# --- pinset reports on the database ---
"$PINSET_BIN" reports --db "$PG_URL" --format json > "$TMP/rep.json" 2> "$TMP/rep.err"
rc=$?
[ $rc = 0 ] && ok "reports: exit 0" || bad "reports: exit $rc: $(cat "$TMP/rep.err")"
[ "$(jq -r '.groups[] | select(.host == "rogue.check.test") | "\(.class) \(.reports) \(.distinct)"' "$TMP/rep.json")" = "interception 2 1" ] &&
    ok "reports json: host, class, counts" || bad "reports json: $(cat "$TMP/rep.json")"
jq -e --arg p "$PIN_ROGUE" '.groups[] | select(.host == "rogue.check.test") | .keys[$p] == 2' "$TMP/rep.json" > /dev/null &&
    ok "reports json: keys seen" || bad "reports json: keys"
[ "$(jq -r .db "$TMP/rep.json")" = "$PG_URL" ] && ok "reports json: db" || bad "reports json: db $(jq -r .db "$TMP/rep.json")"
"$PINSET_BIN" reports --db "$PG_URL" --host rogue.check.test > "$TMP/rep.txt"
grep -q '^rogue\.check\.test: interception: 2 reports (1 distinct)' "$TMP/rep.txt" && ! grep -q expiring "$TMP/rep.txt" &&
    ok "reports text, --host" || bad "reports text: $(cat "$TMP/rep.txt")"
# a database that is not a report database: refused, not created
pg_psql -c 'CREATE DATABASE empty' > /dev/null
"$PINSET_BIN" reports --db "${PG_URL%/*}/empty" > /dev/null 2> "$TMP/empty.err"
rc=$?
[ $rc = 3 ] && grep -q 'not a pinset report database' "$TMP/empty.err" &&
    [ "$(pg_psql -d empty -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] &&
    ok "reports: an empty database refused (3), nothing created" || bad "reports empty: $rc $(cat "$TMP/empty.err")"

# --- the web view reads the same database ---
CODE=$(curl -sS -o "$TMP/index.html" -w '%{http_code}' --max-time 30 "$URL_A/")
[ "$CODE" = 200 ] && grep -q 'href="/host/rogue.check.test"' "$TMP/index.html" && ok "web: index lists the host" || bad "web: $CODE"
CODE=$(curl -sS -o "$TMP/host.html" -w '%{http_code}' --max-time 30 "$URL_A/host/rogue.check.test")
[ "$CODE" = 200 ] && grep -q 'interception' "$TMP/host.html" && ok "web: host page" || bad "web host: $CODE"

# --- two collectors, one database ---
collector_start B --db "$PG_URL" --policy "$D/policies/check.json" --cafile "$D/root.crt.pem" \
    --rate 100000 --burst 100000 || exit 1
[ "$(sql 'SELECT count(*) FROM schema_version')" = 4 ] && ok "second collector: no second migration" || bad "schema_version twice"
rfc_report shared.check.test 443 "$NOW" "$PIN_INT" "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/shared.json"
post "$URL_A" "$TMP/shared.json"
a=$CODE
post "$URL_B" "$TMP/shared.json"
[ "$a $CODE" = "201 201" ] || bad "shared: $a $CODE"
[ "$(sql "SELECT count(*) || ' ' || sum(count) FROM reports WHERE host = 'shared.check.test'")" = "1 2" ] &&
    ok "two collectors, the same report: one row, count 2" ||
    bad "two collectors: $(sql "SELECT count(*), sum(count) FROM reports WHERE host = 'shared.check.test'")"
# 100 copies to each collector at once, 8 senders each: every one counted
for n in A B; do
    u="URL_$n"
    for i in $(seq 100); do
        [ "$i" = 1 ] || echo next
        printf 'url = "%s/report"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
            "${!u}" "$TMP/shared.json"
    done > "$TMP/cfg-$n"
done
curl -sS --parallel --parallel-max 8 --max-time 120 -K "$TMP/cfg-A" > "$TMP/codes-A" 2> "$TMP/curl-A.err" &
ca=$!
curl -sS --parallel --parallel-max 8 --max-time 120 -K "$TMP/cfg-B" > "$TMP/codes-B" 2> "$TMP/curl-B.err" &
cb=$!
wait $ca $cb
[ "$(cat "$TMP/codes-A" "$TMP/codes-B" | grep -c '^201$')" = 200 ] && ok "concurrent: 200 answers 201" ||
    bad "concurrent: $(sort "$TMP/codes-A" "$TMP/codes-B" | uniq -c | tr '\n' ' ')"
[ "$(sql "SELECT count(*) || ' ' || sum(count) FROM reports WHERE host = 'shared.check.test'")" = "1 202" ] &&
    ok "concurrent: one row, count 202 (no lost update)" ||
    bad "concurrent: $(sql "SELECT count(*), sum(count) FROM reports WHERE host = 'shared.check.test'")"
[ "$(sql "SELECT sum(h.count) FROM report_hours h JOIN reports r ON r.id = h.report_id WHERE r.host = 'shared.check.test'")" = 202 ] &&
    ok "concurrent: hourly counts 202" || bad "concurrent: hourly counts"
grep -q '^pinset_collect_store_errors_total 0$' <(curl -sS --max-time 30 "$URL_B/metrics") && ok "metrics: no store error" ||
    bad "metrics: store errors"

# --- a session ended by the server (failover, restart, idle timeout): reconnected ---
sql "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pinset') t" > /dev/null
post "$URL_A" "$TMP/rogue.json"
[ "$CODE" = 201 ] && [ "$(sql "SELECT count FROM reports WHERE host = 'rogue.check.test'")" = 3 ] &&
    ok "reconnected after the server ended the session" || bad "reconnect: $CODE $BODY"

collector_stop A
[ "$STOP_RC" = 0 ] && ok "collector A: SIGTERM, exit 0" || bad "collector A: exit $STOP_RC"
collector_stop B
[ "$STOP_RC" = 0 ] && ok "collector B: SIGTERM, exit 0" || bad "collector B: exit $STOP_RC"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
