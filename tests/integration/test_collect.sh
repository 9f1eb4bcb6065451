#!/usr/bin/env bash
# test_collect.sh - `pinset collect` over real HTTP and HTTPS on 127.0.0.1 (curl as the client)
# and `pinset reports` on its database: a report stored with its class and deduplicated;
# hostile bodies refused with 400 (with the reason) and 413, none reaching the database
# (sqlite3); 429 from the per-network token bucket; 405/404; /healthz; /metrics passing
# `promtool check metrics`; the web view's headers (CSP, nosniff) and a report whose fields
# hold <script> and quotes rendered as text; HTTPS from --tls-cert/--tls-key; a clean stop on
# SIGTERM and SIGINT; an unreachable postgres:// refused at start (test_collect_pg.sh runs on
# a real PostgreSQL). Every server is stopped on exit; every wait bounded.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
for t in curl jq sqlite3; do
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
# post URL FILE: sets CODE, BODY (and HDRS)
post() {
    CODE=$(curl -sS -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' --max-time 30 \
        -H 'Content-Type: application/json' --data-binary "@$2" "$1/report")
    BODY=$(cat "$TMP/body")
    HDRS=$(cat "$TMP/hdrs")
}
get() {
    CODE=$(curl -sS -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' --max-time 30 "$1")
    BODY=$(cat "$TMP/body")
    HDRS=$(cat "$TMP/hdrs")
}
rows() { sqlite3 "$DB" 'SELECT count(*) FROM reports'; }
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
DB=$TMP/reports.sqlite

collector_start A --db "$DB" --policy "$D/policies/check.json" --cafile "$D/root.crt.pem" \
    --rate 1000 --burst 1000 || exit 1

# --- a report stored with its class; a second copy counted, not duplicated ---
rfc_report rogue.check.test 443 "$NOW" "$PIN_INT" "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/rogue.json"
post "$URL_A" "$TMP/rogue.json"
[ "$CODE" = 201 ] && ok "report: 201" || bad "report: $CODE $BODY"
[ "$(jq -r .class <<< "$BODY")" = interception ] && ok "report: class interception" || bad "report: $BODY"
post "$URL_A" "$TMP/rogue.json"
[ "$CODE" = 201 ] || bad "second copy: $CODE"
[ "$(rows)" = 1 ] && ok "dedup: one row" || bad "dedup: $(rows) rows"
[ "$(sqlite3 "$DB" 'SELECT count FROM reports')" = 2 ] && ok "dedup: count 2" || bad "dedup: count"
[ "$(sqlite3 "$DB" 'SELECT client FROM reports')" = 127.0.0.0/24 ] && ok "client truncated to /24" ||
    bad "client: $(sqlite3 "$DB" 'SELECT client FROM reports')"
# a rotation: the genuine public chain for a rule that pins other keys
rfc_report expiring.check.test 443 "$NOW" "$PIN_BACKUP" "$D/leaf.crt.pem" "$D/int.crt.pem" > "$TMP/drift.json"
post "$URL_A" "$TMP/drift.json"
[ "$(jq -r .class <<< "$BODY")" = rotation-drift ] && ok "rotation-drift" || bad "rotation-drift: $CODE $BODY"

# --- pinset reports on the database ---
"$PINSET_BIN" reports --db "$DB" --format json > "$TMP/rep.json" 2> "$TMP/rep.err"
rc=$?
[ $rc = 0 ] && ok "reports: exit 0" || bad "reports: exit $rc: $(cat "$TMP/rep.err")"
[ "$(jq -r '.groups[] | select(.host == "rogue.check.test") | "\(.class) \(.reports) \(.distinct)"' "$TMP/rep.json")" = "interception 2 1" ] &&
    ok "reports json: host, class, counts" || bad "reports json: $(cat "$TMP/rep.json")"
jq -e --arg p "$PIN_ROGUE" '.groups[] | select(.host == "rogue.check.test") | .keys[$p] == 2' "$TMP/rep.json" > /dev/null &&
    ok "reports json: keys seen" || bad "reports json: keys"
jq -e '.groups[] | select(.class == "rotation-drift") | .action | test("rotation")' "$TMP/rep.json" > /dev/null &&
    ok "reports json: action" || bad "reports json: action"
"$PINSET_BIN" reports --db "$DB" --host rogue.check.test > "$TMP/rep.txt"
grep -q '^rogue\.check\.test: interception: 2 reports (1 distinct)' "$TMP/rep.txt" && grep -q '^  do: ' "$TMP/rep.txt" &&
    ! grep -q expiring "$TMP/rep.txt" && ok "reports text, --host" || bad "reports text: $(cat "$TMP/rep.txt")"
[ "$("$PINSET_BIN" reports --db "$DB" --since 2000-01-01 --format json | jq '.groups | length')" = 2 ] &&
    ok "reports --since (date)" || bad "reports --since"

# --- hostile bodies: refused with the reason, nothing stored ---
before=$(rows)
hostile() { # NAME WANT-CODE WANT-REASON-ERE
    post "$URL_A" "$TMP/h.json"
    if [ "$CODE" = "$2" ] && grep -Eq -- "$3" <<< "$BODY"; then ok "hostile $1: $CODE"; else bad "hostile $1: $CODE $BODY"; fi
}
printf '{"hostname":' > "$TMP/h.json"; hostile truncated 400 'not JSON: line 1'
printf '[1,2]' > "$TMP/h.json"; hostile array 400 'not a JSON object'
printf '{"a":[[[[[[[[[[1]]]]]]]]]]}' > "$TMP/h.json"; hostile deep 400 'nested deeper than 4'
jq -c '. + {"extra": 1}' "$TMP/rogue.json" > "$TMP/h.json"; hostile unknown-member 400 'unknown member "extra"'
jq -c 'del(.port)' "$TMP/rogue.json" > "$TMP/h.json"; hostile missing-port 400 'missing member "port"'
jq -c '.port = 70000' "$TMP/rogue.json" > "$TMP/h.json"; hostile port-range 400 'port: not an integer from 0 to 65535'
jq -c '.hostname = "<script>alert(1)</script>"' "$TMP/rogue.json" > "$TMP/h.json"; hostile script-host 400 'hostname: not a host name'
jq -c '."served-certificate-chain" = ["<script>"]' "$TMP/rogue.json" > "$TMP/h.json"; hostile bad-cert 400 'not a PEM certificate'
jq -c '."known-pins" = ["pin-sha256=\"AAAA\""]' "$TMP/rogue.json" > "$TMP/h.json"; hostile bad-pin 400 'not a pin-sha256'
printf '{"port":1,"port":2}' > "$TMP/h.json"; hostile duplicate-key 400 'duplicate'
head -c 70000 /dev/zero | tr '\0' ' ' > "$TMP/h.json"; hostile oversize 413 'over 65536 bytes'
# over-size without a Content-Length (chunked)
CODE=$(head -c 100000 /dev/zero | tr '\0' 'a' | curl -sS -o "$TMP/body" -w '%{http_code}' --max-time 30 \
    -H 'Transfer-Encoding: chunked' --data-binary @- "$URL_A/report")
[ "$CODE" = 413 ] && ok "hostile chunked oversize: 413" || bad "hostile chunked oversize: $CODE"
[ "$(rows)" = "$before" ] && ok "nothing malformed stored" || bad "rows went from $before to $(rows)"

# --- other methods and paths ---
get "$URL_A/report"; [ "$CODE" = 405 ] && grep -qi '^Allow: POST' <<< "$HDRS" && ok "GET /report: 405" || bad "GET /report: $CODE"
get "$URL_A/nothing"; [ "$CODE" = 404 ] && ok "404" || bad "404: $CODE"
CODE=$(curl -sS -o /dev/null -D "$TMP/hdrs" -w '%{http_code}' --max-time 30 --data-binary x "$URL_A/")
[ "$CODE" = 405 ] && grep -qi '^Allow: GET, HEAD' "$TMP/hdrs" && ok "POST /: 405, Allow: GET, HEAD" || bad "POST /: $CODE"
get "$URL_A/host/nobody.example"; [ "$CODE" = 404 ] && ok "unknown host page: 404" || bad "unknown host: $CODE"
get "$URL_A/healthz"; [ "$CODE" = 200 ] && [ "$BODY" = ok ] && ok "/healthz" || bad "/healthz: $CODE $BODY"

# --- /metrics ---
get "$URL_A/metrics"
[ "$CODE" = 200 ] || bad "/metrics: $CODE"
grep -q '^pinset_collect_reports_stored_total{class="interception"} 2$' <<< "$BODY" && ok "metrics: stored by class" || bad "metrics: $BODY"
grep -q '^pinset_collect_reports_refused_total{reason="too-large"} 2$' <<< "$BODY" && ok "metrics: refused" || bad "metrics refused"
if command -v promtool > /dev/null; then
    promtool check metrics < "$TMP/body" > "$TMP/promtool" 2>&1 && ok "promtool check metrics" ||
        bad "promtool: $(cat "$TMP/promtool")"
fi

# --- the web view: headers, escaping of attacker-controlled fields ---
jq -nc --rawfile a "$D/rogue-leaf.crt.pem" --arg date "$NOW" --arg k "pin-sha256=\"$PIN_INT\"" '{
    "app-bundle-id": "<script>alert(\"x\")</script>", "app-version": "1\" onmouseover=\"alert(1)",
    "app-platform": "<img src=x onerror=alert(2)>", "app-platform-version": "'"'"'quoted'"'"'",
    "app-vendor-id": "&amp;", "trustkit-version": "3", "date-time": $date,
    "hostname": "xss.check.test", "port": 443, "noted-hostname": "xss.check.test",
    "include-subdomains": false, "enforce-pinning": true,
    "validated-certificate-chain": [$a], "known-pins": [$k], "validation-result": 1}' > "$TMP/xss.json"
post "$URL_A" "$TMP/xss.json"
[ "$CODE" = 201 ] && ok "TrustKit report with markup: 201" || bad "TrustKit xss: $CODE $BODY"
get "$URL_A/host/xss.check.test"
[ "$CODE" = 200 ] || bad "host page: $CODE"
grep -q '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' <<< "$BODY" && ok "web: <script> escaped" || bad "web: script not escaped"
grep -q '1&quot; onmouseover=&quot;alert(1)' <<< "$BODY" && ok "web: quotes escaped" || bad "web: quotes"
grep -q '&#39;quoted&#39;' <<< "$BODY" && grep -q '&amp;amp;' <<< "$BODY" && ok "web: apostrophes, ampersands" || bad "web: apostrophes"
grep -Eq '<script|<img' <<< "$BODY" && bad "web: raw markup on the page" || ok "web: no raw markup"
grep -qi "^Content-Security-Policy: default-src 'none'; style-src 'sha256-" <<< "$HDRS" && ok "web: CSP" || bad "web: CSP: $HDRS"
grep -qi '^X-Content-Type-Options: nosniff' <<< "$HDRS" && ok "web: nosniff" || bad "web: nosniff"
grep -qi '^Content-Type: text/html; charset=utf-8' <<< "$HDRS" || bad "web: content type"
get "$URL_A/"
grep -q 'href="/host/rogue.check.test"' <<< "$BODY" && grep -q '<svg id="chart"' <<< "$BODY" && ok "web: index, chart" || bad "web index"
grep -Eq '(src|href)="https?:' <<< "$BODY" && bad "web: external asset" || ok "web: no external asset"

collector_stop A
[ "$STOP_RC" = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $STOP_RC"
grep -q 'SIGTERM: stopping' "$TMP/A.err" || bad "SIGTERM: no message"

# --- 429: a burst of 3, refilled at 1 a second ---
collector_start B --db "$TMP/b.sqlite" --rate 1 --burst 3 || exit 1
codes=""
for _ in 1 2 3 4 5 6; do
    post "$URL_B" "$TMP/rogue.json"
    codes="$codes $CODE"
done
grep -q 429 <<< "$codes" && grep -q 201 <<< "$codes" && ok "rate limit: 429 after the burst ($codes)" || bad "rate limit: $codes"
grep -qi '^Retry-After: 1' <<< "$HDRS" && ok "429: Retry-After" || bad "429: no Retry-After"
[ "$(sqlite3 "$TMP/b.sqlite" 'SELECT sum(count) FROM reports')" -le 4 ] && ok "rate limit: refused reports not stored" || bad "rate limit stored too many"
collector_stop B INT
[ "$STOP_RC" = 0 ] && ok "SIGINT: exit 0" || bad "SIGINT: exit $STOP_RC"

# --- HTTPS ---
collector_start C --db "$TMP/c.sqlite" --tls-cert "$D/chain.pem" --tls-key "$D/leaf.key.pem" || exit 1
case $URL_C in https://*) ok "https: listening on $URL_C" ;; *) bad "https: $URL_C" ;; esac
CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --max-time 30 --cacert "$D/root.crt.pem" \
    --data-binary "@$TMP/rogue.json" "$URL_C/report")
[ "$CODE" = 201 ] && ok "https: report over TLS" || bad "https: $CODE"
CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 "http://127.0.0.1:$PORT_C/healthz" 2> /dev/null)
[ "$CODE" != 200 ] && ok "https: plain HTTP not served" || bad "https: plain http answered"
collector_stop C

# --- refusals at start ---
"$PINSET_BIN" collect --listen 127.0.0.1:0 --db 'postgres://u@127.0.0.1:1/reports?connect_timeout=5' > /dev/null 2> "$TMP/pg.err"
rc=$?
[ $rc = 3 ] && grep -q ': connect: ' "$TMP/pg.err" && ok "postgres:// unreachable: exit 3" || bad "postgres: $rc $(cat "$TMP/pg.err")"
"$PINSET_BIN" reports --db "$TMP/missing.sqlite" > /dev/null 2> "$TMP/miss.err"
rc=$?
[ $rc = 3 ] && [ ! -e "$TMP/missing.sqlite" ] && ok "reports: missing database (3, not created)" || bad "reports missing: $rc"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
