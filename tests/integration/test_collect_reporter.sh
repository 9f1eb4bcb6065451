#!/usr/bin/env bash
# test_collect_reporter.sh - end to end with the library's own delivery: examples/reporting_client
# (libpinset-curl's pinned client with its reporter, a report-mode rule whose report_uris name the
# collector) fetches from a rogue TLS server on 127.0.0.1 (a leaf mis-issued by a second root the
# client also trusts); the reporter POSTs the report from its thread to a real `pinset collect`,
# which must store it once with the class interception; `pinset reports` and the web view show it.
# Every server is stopped on exit; every wait is bounded.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
for t in curl jq openssl; do
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
done
CLIENT=${PINSET_BUILD_DIR:-.}/examples/reporting_client
[ -x "$CLIENT" ] || { echo "skip: no $CLIENT"; exit 77; }
D=$PINSET_TESTDATA/check
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
TESTDATA=$PINSET_TESTDATA
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/testlib/tls_server.sh" # start_server, tls_server_stop
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/collect_lib.sh"
trap 'tls_server_stop; collector_stop_all; rm -rf "$TMP"' EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# the collector classifies against the same policy, with the genuine root as its trust anchor
collector_start R --db "$TMP/r.sqlite" --cafile "$D/root.crt.pem" || exit 1
jq -n --arg int "$PIN_INT" --arg backup "$PIN_BACKUP" --arg uri "$URL_R/report" '{
    "version": 1,
    "rules": [{"host": "report.check.test", "mode": "report",
               "pins": [{"sha256": $int, "role": "ca"}, {"sha256": $backup, "role": "backup"}],
               "report_uris": [$uri]}]}' > "$TMP/policy.json"
start_server ROGUE

timeout -k 5 60 "$CLIENT" "$TMP/policy.json" report.check.test "$PORT_ROGUE" "$D/trust.pem" 127.0.0.1 \
    > "$TMP/client.out" 2> "$TMP/client.err"
rc=$?
[ $rc = 0 ] && ok "report mode: the client went through (exit 0)" || bad "client exit $rc: $(cat "$TMP/client.err")"
grep -q 'reports: 1 sent' "$TMP/client.err" && ok "the reporter sent one report" || bad "reporter: $(cat "$TMP/client.err")"

"$PINSET_BIN" reports --db "$TMP/r.sqlite" --format json > "$TMP/rep.json" || bad "pinset reports failed"
[ "$(jq -r '.groups[] | "\(.host) \(.class) \(.reports)"' "$TMP/rep.json")" = "report.check.test interception 1" ] &&
    ok "stored once, class interception" || bad "stored: $(cat "$TMP/rep.json")"
jq -e --arg p "$PIN_ROGUE" '.groups[0].keys[$p] == 1' "$TMP/rep.json" > /dev/null &&
    ok "the rogue key is among the keys seen" || bad "keys: $(jq -c '.groups[0].keys' "$TMP/rep.json")"
page=$(curl -sS --max-time 30 "$URL_R/host/report.check.test")
grep -q '<h2 class="class interception">interception</h2>' <<< "$page" && ok "web view: the host page shows it" ||
    bad "web view: $(head -c 300 <<< "$page")"

collector_stop R
[ "$STOP_RC" = 0 ] || bad "collector exit $STOP_RC"
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
