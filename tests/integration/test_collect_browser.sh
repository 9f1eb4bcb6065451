#!/usr/bin/env bash
# test_collect_browser.sh - the collector's web view in a real browser: headless Chromium
# (Debian package chromium) loads / and a host page from `pinset collect` on 127.0.0.1; the
# test reads the DOM Chromium built (--dump-dom): the host, the class and the count are there,
# and a TrustKit report whose fields hold <script>, <img onerror> and quotes renders as text
# (no script or img element in the DOM, the text visible). Screenshots of both pages are saved
# in the build directory (collect-index.png, collect-host.png). Skipped (77) without chromium.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "skip: no chromium"; exit 77; }
for t in curl jq; do
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
done
D=$PINSET_TESTDATA/check
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
OUT=${PINSET_BUILD_DIR:-$TMP}
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/collect_lib.sh"
trap 'collector_stop_all; rm -rf "$TMP"' EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# browser ARGS... URL: headless Chromium with a throw-away profile, bounded
browser() {
    HOME=$TMP timeout -k 5 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-dev-shm-usage --user-data-dir="$TMP/profile" --window-size=1100,900 "$@" 2> "$TMP/chromium.err"
}

collector_start W --db "$TMP/w.sqlite" --policy "$D/policies/check.json" --cafile "$D/root.crt.pem" || exit 1
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rfc_report rogue.check.test 443 "$NOW" "$PIN_INT" "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/rogue.json"
for _ in 1 2; do
    curl -sS -o /dev/null --max-time 30 --data-binary "@$TMP/rogue.json" "$URL_W/report"
done
jq -nc --rawfile a "$D/rogue-leaf.crt.pem" --arg date "$NOW" --arg k "pin-sha256=\"$PIN_INT\"" '{
    "app-bundle-id": "<script>document.title=\"pwned\"</script>", "app-version": "\"><img src=x onerror=alert(1)>",
    "trustkit-version": "3", "date-time": $date, "hostname": "xss.check.test", "port": 443,
    "noted-hostname": "xss.check.test", "validated-certificate-chain": [$a], "known-pins": [$k],
    "validation-result": 2}' > "$TMP/xss.json"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 --data-binary "@$TMP/xss.json" "$URL_W/report")
[ "$code" = 201 ] || bad "xss report: $code"

# --- the index ---
browser --dump-dom "$URL_W/" > "$TMP/index.dom"
[ -s "$TMP/index.dom" ] || { bad "chromium gave no DOM: $(tail -5 "$TMP/chromium.err")"; exit 1; }
row=$(tr -d '\n' < "$TMP/index.dom" | grep -o '<tr><td class="host"><a href="/host/rogue.check.test">rogue.check.test</a></td>[^/]*</td><td class="count">[0-9]*</td>')
[ -n "$row" ] && ok "DOM: the host's row" || bad "DOM: no row for rogue.check.test"
grep -q 'class="class interception">interception</td>' <<< "$row" && ok "DOM: class interception" || bad "DOM: class: $row"
grep -q '<td class="count">2</td>' <<< "$row" && ok "DOM: count 2" || bad "DOM: count: $row"
grep -q '<svg id="chart"' "$TMP/index.dom" && ok "DOM: the chart" || bad "DOM: no chart"
browser --screenshot="$OUT/collect-index.png" "$URL_W/" > /dev/null
[ "$(head -c 8 "$OUT/collect-index.png" 2> /dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    ok "screenshot: $OUT/collect-index.png" || bad "screenshot of / missing"

# --- the host page of the hostile report ---
browser --dump-dom "$URL_W/host/xss.check.test" > "$TMP/host.dom"
grep -q '<h1 id="host">xss.check.test</h1>' "$TMP/host.dom" && ok "DOM: host page" || bad "DOM: host page: $(head -c 300 "$TMP/host.dom")"
grep -q 'class="class interception">interception</h2>' "$TMP/host.dom" && ok "DOM: host page class" || bad "DOM: host page class"
if grep -qi '<script\|<img' "$TMP/host.dom"; then bad "DOM: a script or img element was created"; else ok "DOM: no script or img element"; fi
grep -q '&lt;script&gt;document.title="pwned"&lt;/script&gt;' "$TMP/host.dom" && ok "DOM: <script> shown as text" || bad "DOM: script text missing"
grep -q '"&gt;&lt;img src=x onerror=alert(1)&gt;' "$TMP/host.dom" && ok "DOM: quotes and <img> shown as text" || bad "DOM: img text missing"
grep -q '<title>pwned</title>' "$TMP/host.dom" && bad "DOM: the script ran" || ok "DOM: the script did not run"
browser --screenshot="$OUT/collect-host.png" "$URL_W/host/xss.check.test" > /dev/null
[ -s "$OUT/collect-host.png" ] && ok "screenshot: $OUT/collect-host.png" || bad "screenshot of the host page missing"

collector_stop W
[ "$STOP_RC" = 0 ] || bad "collector exit $STOP_RC"
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
