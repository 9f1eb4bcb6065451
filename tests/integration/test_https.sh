#!/usr/bin/env bash
# test_https.sh - HTTPS on the tool's two servers (issue 14; src/serve/httpd.c), with the check
# PKI of tests/data/pki.d/40-check.sh and real curl verifying against its root (--cacert):
#   collect   --tls-cert/--tls-key: GET /healthz and /metrics, a report POSTed and stored
#             (sqlite3); plain HTTP to the port gets no HTTP answer; TLS 1.1 refused by the
#             server while TLS 1.2 is served (openssl s_client, SECLEVEL=0 on the client)
#   monitor   --tls-cert/--tls-key, then "tls_cert"/"tls_key" in the configuration (relative
#             to its directory): /healthz after a round and /metrics over HTTPS; plain HTTP
#             gets no HTTP answer
#   refusals  a key that is not the certificate's, a missing key, a key open to every user,
#             for both commands: exit 3, the message names the file, nothing of the key shown,
#             and nothing listens
# Every server is stopped on exit; every wait is bounded; no timing is asserted.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
for t in curl jq sqlite3 openssl; do
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
done
D=$PINSET_TESTDATA/check
[ -s "$D/pins.env" ] || { echo "FAIL: no check PKI in $D (40-check.sh)"; exit 1; }
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
TESTDATA=$PINSET_TESTDATA
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/testlib/tls_server.sh"
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/collect_lib.sh"
MON_PID=
cleanup() {
    # every child killed before the one wait (in tls_server_stop): a wait for all children
    # while the TLS server still runs would never return
    [ -n "$MON_PID" ] && kill -9 "$MON_PID" 2> /dev/null
    for p in "${_collectors[@]+"${_collectors[@]}"}"; do
        kill -KILL "$p" 2> /dev/null
    done
    tls_server_stop
    rm -rf "$TMP"
}
trap cleanup EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
CA=$D/root.crt.pem
# hget URL: GET over HTTPS, verified against the test root; sets CODE and BODY
hget() {
    CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --max-time 30 --cacert "$CA" "$1")
    BODY=$(cat "$TMP/body" 2> /dev/null)
}
# plain_refused HOSTPORT: plain HTTP to an HTTPS port gets no HTTP status
plain_refused() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "http://$1/healthz")
    [ "$code" = 000 ]
}
# tls_version HOSTPORT -tls1_N: 0 when the server completes a handshake in that version
tls_version() {
    openssl s_client -connect "$1" "$2" -cipher 'DEFAULT:@SECLEVEL=0' -servername localhost \
        < /dev/null > "$TMP/s_client.out" 2>&1 &&
        grep -q "Protocol *: ${3}" "$TMP/s_client.out"
}
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---------------------------------------------------------------- collect
collector_start C --db "$TMP/c.sqlite" --policy "$D/policies/check.json" --cafile "$CA" \
    --tls-cert "$D/chain.pem" --tls-key "$D/leaf.key.pem" || exit 1
case $URL_C in https://127.0.0.1:*) ok "collect: listening on $URL_C" ;; *) bad "collect: $URL_C" ;; esac
hget "$URL_C/healthz"
[ "$CODE" = 200 ] && [ "$BODY" = ok ] && ok "collect: GET /healthz over HTTPS" || bad "collect /healthz: $CODE $BODY"
rfc_report rogue.check.test 443 "$NOW" "$PIN_INT" "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/rogue.json"
CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --max-time 30 --cacert "$CA" \
    -H 'Content-Type: application/json' --data-binary "@$TMP/rogue.json" "$URL_C/report")
[ "$CODE" = 201 ] && [ "$(jq -r .class "$TMP/body")" = interception ] && ok "collect: report POSTed over HTTPS: 201" \
    || bad "collect POST: $CODE $(cat "$TMP/body")"
[ "$(sqlite3 "$TMP/c.sqlite" "SELECT host || ' ' || class FROM reports")" = "rogue.check.test interception" ] \
    && ok "collect: the report is in the database" || bad "collect: database"
hget "$URL_C/metrics"
[ "$CODE" = 200 ] && grep -q '^pinset_collect_reports_stored_total{class="interception"} 1$' <<< "$BODY" \
    && ok "collect: GET /metrics over HTTPS counts it" || bad "collect /metrics: $CODE"
plain_refused "127.0.0.1:$PORT_C" && ok "collect: plain HTTP to the HTTPS port: no HTTP answer" || bad "collect: plain HTTP answered"
tls_version "127.0.0.1:$PORT_C" -tls1_2 TLSv1.2 && ok "collect: TLS 1.2 served" || bad "collect: TLS 1.2: $(tail -5 "$TMP/s_client.out")"
tls_version "127.0.0.1:$PORT_C" -tls1_1 TLSv1.1 && bad "collect: TLS 1.1 accepted" || ok "collect: TLS 1.1 refused"
collector_stop C
[ "$STOP_RC" = 0 ] && ok "collect: SIGTERM: exit 0" || bad "collect: stop $STOP_RC"

# ---------------------------------------------------------------- monitor
start_server GOOD
cat > "$TMP/mon.json" << EOF
{"inventory": [{"policy": "$D/policies/check.json", "targets": ["targets.txt"]}],
 "interval_seconds": 600,
 "probe": {"timeout_seconds": 10, "cafile": "$D/trust.pem", "connect_to": ["::127.0.0.1:$PORT_GOOD"]},
 "db": "state.db"}
EOF
echo pass.check.test > "$TMP/targets.txt"
# start_monitor ARGS...: sets MON_URL (without the final /) and MON_PID
start_monitor() {
    : > "$TMP/svc.out"
    : > "$TMP/svc.err"
    "$PINSET_BIN" monitor "$@" > "$TMP/svc.out" 2> "$TMP/svc.err" &
    MON_PID=$!
    MON_URL=
    for _ in $(seq 300); do
        MON_URL=$(sed -n 's|^listening on \(https\{0,1\}://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$TMP/svc.out")
        [ -n "$MON_URL" ] && break
        kill -0 "$MON_PID" 2> /dev/null || break
        sleep 0.1
    done
    [ -n "$MON_URL" ] || { bad "monitor did not listen: $(cat "$TMP/svc.err")"; return 1; }
}
stop_monitor() {
    kill -TERM "$MON_PID"
    for _ in $(seq 300); do kill -0 "$MON_PID" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$MON_PID" 2> /dev/null
    wait "$MON_PID"
    STOP_RC=$?
    MON_PID=
}
# check_monitor WHAT: /healthz (once a round has finished) and /metrics over HTTPS, plain refused
check_monitor() {
    case $MON_URL in https://*) ok "$1: listening on $MON_URL/" ;; *) bad "$1: $MON_URL" ;; esac
    for _ in $(seq 300); do
        hget "$MON_URL/healthz"
        [ "$CODE" = 200 ] && break
        sleep 0.1
    done
    [ "$CODE" = 200 ] && grep -q '^ok: the last round finished' <<< "$BODY" && ok "$1: GET /healthz over HTTPS" \
        || bad "$1 /healthz: $CODE $BODY"
    hget "$MON_URL/metrics"
    [ "$CODE" = 200 ] && grep -q '^pinset_monitor_host_result{host="pass.check.test",port="443",result="pass"} 1$' <<< "$BODY" \
        && ok "$1: GET /metrics over HTTPS" || bad "$1 /metrics: $CODE $(head -5 <<< "$BODY")"
    plain_refused "${MON_URL#https://}" && ok "$1: plain HTTP: no HTTP answer" || bad "$1: plain HTTP answered"
}
if start_monitor --config "$TMP/mon.json" --listen 127.0.0.1:0 --tls-cert "$D/chain.pem" --tls-key "$D/leaf.key.pem"; then
    check_monitor "monitor --tls-cert"
    stop_monitor
    [ "$STOP_RC" = 0 ] && ok "monitor: SIGTERM: exit 0" || bad "monitor: stop $STOP_RC"
fi

# the same from the configuration file, paths relative to its directory
mkdir "$TMP/etc"
cp "$D/chain.pem" "$TMP/etc/server.pem"
cp -p "$D/leaf.key.pem" "$TMP/etc/server.key"
jq '. + {"listen": "127.0.0.1:0", "tls_cert": "server.pem", "tls_key": "server.key",
         "db": "../state.db", "inventory": [{"policy": .inventory[0].policy, "targets": ["../targets.txt"]}]}' \
    "$TMP/mon.json" > "$TMP/etc/mon.json"
if start_monitor --config "$TMP/etc/mon.json"; then
    check_monitor "monitor tls_cert/tls_key"
    stop_monitor
fi

# ---------------------------------------------------------------- refusals: exit 3, nothing listens
cp "$D/leaf.key.pem" "$TMP/open.key"
chmod 644 "$TMP/open.key"
# refused NAME WANT-ERE COMMAND...: exit 3 before listening, stderr matches, no key text in it
refused() {
    local name=$1 want=$2 rc
    shift 2
    timeout -k 5 60 "$@" > "$TMP/r.out" 2> "$TMP/r.err"
    rc=$?
    if [ $rc = 3 ] && grep -Eq -- "$want" "$TMP/r.err" && ! grep -q listening "$TMP/r.out" &&
        ! grep -q 'PRIVATE KEY' "$TMP/r.err" && ! grep -qF "$(sed -n 2p "$D/leaf.key.pem")" "$TMP/r.err"; then
        ok "$name: exit 3: $(head -1 "$TMP/r.err")"
    else
        bad "$name: exit $rc: $(cat "$TMP/r.err")"
    fi
}
COL=("$PINSET_BIN" collect --listen 127.0.0.1:0 --db "$TMP/r.sqlite")
MON=("$PINSET_BIN" monitor --config "$TMP/mon.json" --listen 127.0.0.1:0)
refused "collect: mismatched key" "rogue-leaf\.key\.pem: the TLS key is not the key of the certificate in .*chain\.pem" \
    "${COL[@]}" --tls-cert "$D/chain.pem" --tls-key "$D/rogue-leaf.key.pem"
refused "monitor: mismatched key" "rogue-leaf\.key\.pem: the TLS key is not the key of the certificate in .*chain\.pem" \
    "${MON[@]}" --tls-cert "$D/chain.pem" --tls-key "$D/rogue-leaf.key.pem"
refused "collect: missing key" "missing\.key: the TLS key: No such file" \
    "${COL[@]}" --tls-cert "$D/chain.pem" --tls-key "$TMP/missing.key"
refused "monitor: missing key" "missing\.key: the TLS key: No such file" \
    "${MON[@]}" --tls-cert "$D/chain.pem" --tls-key "$TMP/missing.key"
refused "collect: key open to every user" "open\.key: the TLS key is open to every user \(mode 0644\)" \
    "${COL[@]}" --tls-cert "$D/chain.pem" --tls-key "$TMP/open.key"
refused "monitor: key open to every user" "open\.key: the TLS key is open to every user \(mode 0644\)" \
    "${MON[@]}" --tls-cert "$D/chain.pem" --tls-key "$TMP/open.key"
refused "monitor --check-config: mismatched key" "rogue-leaf\.key\.pem: the TLS key is not the key" \
    "$PINSET_BIN" monitor --config "$TMP/mon.json" --listen 127.0.0.1:0 --check-config \
    --tls-cert "$D/chain.pem" --tls-key "$D/rogue-leaf.key.pem"
[ ! -e "$TMP/r.sqlite" ] && ok "collect: the database is not created when the TLS files are refused" || bad "r.sqlite created"

echo "$fails failure(s)"
[ "$fails" = 0 ]
