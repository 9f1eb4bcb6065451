#!/usr/bin/env bash
# test_collect_pages.sh - the bound on the collector's web view (issue 11; src/serve/server.c):
# each page (GET / and /host/NAME) runs queries over the whole store under its lock, so a client
# network has a token bucket of pages (--page-rate, --page-burst) apart from its reports'.
# With --page-burst 3 and --page-rate 1, real curl on 127.0.0.1: the first 3 pages are served,
# then a 429 with Retry-After comes within 20 more (a refill of 1 a second cannot keep up with
# 20 requests in a row unless they take 17 s); host pages share the bucket; /healthz, /metrics
# and reports are not limited by it; /metrics counts the 429s. Then the defaults: 30 pages in a
# row are all served. Every server is stopped on exit; every wait is bounded.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
for t in curl jq; do
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
done
D=$PINSET_TESTDATA/check
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/collect_lib.sh"
trap 'collector_stop_all; rm -rf "$TMP"' EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
get() {
    CODE=$(curl -sS -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' --max-time 30 "$1")
    BODY=$(cat "$TMP/body")
    HDRS=$(cat "$TMP/hdrs")
}
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rfc_report rogue.check.test 443 "$NOW" "$PIN_INT" "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/rogue.json"

collector_start A --db "$TMP/a.sqlite" --page-rate 1 --page-burst 3 || exit 1
CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 --data-binary "@$TMP/rogue.json" "$URL_A/report")
[ "$CODE" = 201 ] || bad "report: $CODE"
codes=
for _ in 1 2 3; do
    get "$URL_A/"
    codes="$codes $CODE"
done
[ "$codes" = " 200 200 200" ] && ok "the first 3 pages served ($codes)" || bad "first pages: $codes"
limited=
for _ in $(seq 20); do
    get "$URL_A/"
    [ "$CODE" = 429 ] && { limited=1; break; }
done
[ -n "$limited" ] && ok "a page beyond the burst: 429" || bad "no 429 in 20 pages past the burst"
grep -qi '^Retry-After: 1' <<< "$HDRS" && grep -q 'too many page views from 127\.0\.0\.0/24' <<< "$BODY" \
    && ok "429: Retry-After and the client network" || bad "429: $HDRS $BODY"
get "$URL_A/host/rogue.check.test"
[ "$CODE" = 429 ] && ok "host pages share the bucket: 429" || bad "host page: $CODE"
get "$URL_A/healthz"
[ "$CODE" = 200 ] && ok "/healthz not limited" || bad "/healthz: $CODE"
get "$URL_A/metrics"
[ "$CODE" = 200 ] && grep -Eq '^pinset_collect_responses_total\{code="429"\} [1-9]' <<< "$BODY" \
    && ok "/metrics not limited, counts the 429s" || bad "/metrics: $CODE"
grep -Eq '^pinset_collect_reports_refused_total\{reason="rate-limited"\} 0$' <<< "$BODY" \
    && ok "page refusals are not counted as refused reports" || bad "refused reports counted pages"
CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 --data-binary "@$TMP/rogue.json" "$URL_A/report")
[ "$CODE" = 201 ] && ok "reports have their own bucket: 201" || bad "report after pages: $CODE"
collector_stop A

# the defaults let a person browse: 30 pages in a row
collector_start B --db "$TMP/a.sqlite" || exit 1
codes=
for _ in $(seq 30); do
    get "$URL_B/"
    codes="$codes $CODE"
done
[ "$(tr ' ' '\n' <<< "$codes" | grep -c '^200$')" = 30 ] && ok "defaults: 30 pages served" || bad "defaults: $codes"
collector_stop B

"$PINSET_BIN" collect --listen 127.0.0.1:0 --db "$TMP/a.sqlite" --page-rate 0 > /dev/null 2> "$TMP/u.err"
[ $? = 2 ] && grep -q -- "--page-rate wants 1 to 1000000, got '0'" "$TMP/u.err" && ok "--page-rate 0: usage error" \
    || bad "--page-rate 0: $(cat "$TMP/u.err")"

echo "$fails failure(s)"
[ "$fails" = 0 ]
