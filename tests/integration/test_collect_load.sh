#!/usr/bin/env bash
# test_collect_load.sh - `pinset collect` under load, with real curl (8 parallel connections,
# curl --parallel) on 127.0.0.1:
#   load     10,000 reports (2,500 distinct, each sent 4 times): every one answered 201, the
#            database holds exactly 2,500 rows whose counts sum to 10,000 (none lost, none
#            duplicated beyond the dedup rule), and the collector's peak memory does not grow
#            with the number of reports (VmHWM after the first 2,000 and after all 10,000, with
#            ASan's quarantine bounded)
#   index    1,001 hosts: the web view lists 1,000 and says so (a page bounded whatever is posted)
#   kill -9  10,000 distinct reports while the collector is killed with SIGKILL mid-load: every
#            report that was answered 201 is in the database afterwards.
# Every server is stopped on exit; every wait is bounded.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
for t in curl jq sqlite3 awk; do
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
done
D=$PINSET_TESTDATA/check
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/collect_lib.sh"
trap 'collector_stop_all; rm -rf "$TMP"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status"; }

# N distinct reports $TMP/r/1.json ... $TMP/r/N.json: the same chain, port i
rfc_report rogue.check.test 65535 "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$PIN_INT" \
    "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/template.json"
mkdir "$TMP/r"
awk -v n=10000 -v dir="$TMP/r" '{ t = t $0 } END {
    for (i = 1; i <= n; i++) { s = t; sub(/"port":65535/, "\"port\":" i, s); f = dir "/" i ".json"; print s > f; close(f) } }' "$TMP/template.json"
[ -s "$TMP/r/10000.json" ] && grep -q '"port":10000,' "$TMP/r/10000.json" || { echo "FAIL: reports not generated"; exit 1; }

# curl_config URL FIRST LAST REPEAT > FILE: one transfer per report (ports FIRST..LAST), REPEAT rounds
curl_config() {
    awk -v url="$1" -v a="$2" -v b="$3" -v rep="$4" -v dir="$TMP/r" 'BEGIN {
        for (r = 0; r < rep; r++) for (i = a; i <= b; i++) {
            if (n++ > 0) print "next" # between transfers only: a trailing one is an empty transfer
            printf "url = \"%s/report?r=%d&i=%d\"\ndata-binary = \"@%s/%d.json\"\n", url, r, i, dir, i
            printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code} %%{url_effective}\\n\"\n" } }'
}
# send CONFIG OUT: curl --parallel (8), one "code url" line per transfer
send() {
    curl -sS --parallel --parallel-max 8 --max-time 120 -K "$1" > "$2" 2> /dev/null
}

# --- load: 10,000 reports, 2,500 distinct ---
DB=$TMP/load.sqlite
collector_start L --db "$DB" --policy "$D/policies/check.json" --cafile "$D/root.crt.pem" \
    --rate 1000000 --burst 1000000 || exit 1
curl_config "$URL_L" 1 500 4 > "$TMP/c1"
send "$TMP/c1" "$TMP/o1"
hwm1=$(hwm_kb "$PID_L")
curl_config "$URL_L" 501 2500 4 > "$TMP/c2"
send "$TMP/c2" "$TMP/o2"
hwm2=$(hwm_kb "$PID_L")
n201=$(cat "$TMP/o1" "$TMP/o2" | grep -c '^201 ')
total=$(cat "$TMP/o1" "$TMP/o2" | wc -l)
[ "$total" = 10000 ] && [ "$n201" = 10000 ] && ok "load: 10000 sent, 10000 answered 201" ||
    bad "load: $total sent, $n201 answered 201 ($(cat "$TMP/o1" "$TMP/o2" | cut -d' ' -f1 | sort | uniq -c | tr '\n' ' '))"
rows=$(sqlite3 "$DB" 'SELECT count(*) FROM reports')
sum=$(sqlite3 "$DB" 'SELECT sum(count) FROM reports')
[ "$rows" = 2500 ] && ok "load: 2500 rows (dedup)" || bad "load: $rows rows, want 2500"
[ "$sum" = 10000 ] && ok "load: counts sum to 10000 (none lost)" || bad "load: counts sum to $sum"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM reports WHERE count != 4')" = 0 ] &&
    ok "load: every distinct report counted 4 times" || bad "load: uneven counts"
echo "peak memory: ${hwm1} kB after 2,000 reports, ${hwm2} kB after 10,000"
[ -n "$hwm1" ] && [ -n "$hwm2" ] && [ $((hwm2 - hwm1)) -lt 65536 ] &&
    ok "load: memory bounded (peak grew $(((hwm2 - hwm1) / 1024)) MiB over 8,000 more reports)" ||
    bad "load: peak memory grew from ${hwm1} to ${hwm2} kB"
collector_stop L
[ "$STOP_RC" = 0 ] || bad "load: collector exit $STOP_RC"

# --- the index stays bounded: 1,001 hosts, 1,000 rows shown and a note ---
mkdir "$TMP/h"
awk -v n=1001 -v dir="$TMP/h" '{ t = t $0 } END {
    for (i = 1; i <= n; i++) { s = t; gsub(/rogue\.check\.test/, "h" i ".check.test", s); f = dir "/" i ".json"; print s > f; close(f) } }' "$TMP/template.json"
collector_start H --db "$TMP/hosts.sqlite" --rate 1000000 --burst 1000000 || exit 1
awk -v url="$URL_H" -v dir="$TMP/h" 'BEGIN { for (i = 1; i <= 1001; i++) { if (i > 1) print "next"
    printf "url = \"%s/report\"\ndata-binary = \"@%s/%d.json\"\noutput = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\n", url, dir, i } }' > "$TMP/ch"
send "$TMP/ch" "$TMP/oh"
[ "$(grep -c '^201' "$TMP/oh")" = 1001 ] || bad "hosts: $(sort "$TMP/oh" | uniq -c | tr '\n' ' ')"
curl -sS --max-time 60 -o "$TMP/index.html" "$URL_H/"
shown=$(grep -o '<td class="host">' "$TMP/index.html" | wc -l)
[ "$shown" = 1000 ] && grep -q 'id="more"' "$TMP/index.html" && ok "index: 1000 of 1001 hosts shown, with a note" ||
    bad "index: $shown host rows"
collector_stop H

# --- kill -9 mid-load: no report answered 201 is lost ---
DB=$TMP/kill.sqlite
collector_start K --db "$DB" --rate 1000000 --burst 1000000 || exit 1
curl_config "$URL_K" 1 10000 1 > "$TMP/ck"
send "$TMP/ck" "$TMP/ok" &
sender=$!
for _ in $(seq 600); do
    n=$(sqlite3 "$DB" 'SELECT count(*) FROM reports' 2> /dev/null || echo 0)
    [ "${n:-0}" -ge 2000 ] && break
    sleep 0.05
done
kill -KILL "$PID_K"
wait "$PID_K" 2> /dev/null
for _ in $(seq 1200); do
    kill -0 "$sender" 2> /dev/null || break
    sleep 0.1
done
kill "$sender" 2> /dev/null
wait "$sender" 2> /dev/null
grep '^201 ' "$TMP/ok" | sed -n 's/.*[?&]i=\([0-9]*\)$/\1/p' | sort -n > "$TMP/answered"
sqlite3 "$DB" 'SELECT port FROM reports' | sort -n > "$TMP/stored"
answered=$(wc -l < "$TMP/answered")
stored=$(wc -l < "$TMP/stored")
lost=$(comm -23 "$TMP/answered" "$TMP/stored" | wc -l)
echo "kill -9: $answered answered 201, $stored stored"
[ "$answered" -gt 0 ] && [ "$answered" -lt 10000 ] && ok "kill -9: killed mid-load" || bad "kill -9: $answered answered (not mid-load)"
[ "$lost" = 0 ] && ok "kill -9: no report answered 201 lost" || bad "kill -9: $lost reports answered 201 are missing"
[ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] && ok "kill -9: database intact" || bad "kill -9: integrity_check"
# the collector opens the database again after the crash
collector_start K2 --db "$DB" || bad "kill -9: collector does not restart on the database"
[ -n "${PID_K2:-}" ] && collector_stop K2

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
