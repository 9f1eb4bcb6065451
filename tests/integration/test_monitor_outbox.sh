#!/usr/bin/env bash
# test_monitor_outbox.sh - `pinset monitor`'s alert outbox (issue 14): delivery off the round's
# path and durable across a crash, against a real TLS server on 127.0.0.1 (openssl s_server, the
# check PKI of tests/data/pki.d/40-check.sh; each of its three hosts raises an expiry alert in
# the first round), a real SQLite file and a webhook receiver (python3, threaded) that hangs,
# answers 500 or answers 200 as the test says (a file):
#   hang     a webhook that never answers does not hold the round: the round is stored
#            (/healthz 200) while the POST is in flight; the alerts are pending in the store
#   crash    kill -9 then: the next start delivers the same alerts (the same alert_id), not
#            raised again, each sink's part kept (the JSON-lines file has each alert once)
#   sigterm  SIGTERM while the webhook backs off (10 minutes): the monitor exits at once with 0,
#            the alerts pending with their attempt counted; the next start delivers them
#   give-up  a webhook that answers 500: retries + 1 attempts, then given up, recorded
#   too old  an alert left pending longer than give_up_seconds is given up without an attempt
# Every server is stopped on exit; every wait is bounded and waits on a condition; no timing
# is asserted.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v openssl > /dev/null || { echo "skip: no openssl"; exit 77; }
command -v jq > /dev/null || { echo "skip: no jq"; exit 77; }
command -v python3 > /dev/null || { echo "skip: no python3"; exit 77; }
command -v curl > /dev/null || { echo "skip: no curl"; exit 77; }
command -v sqlite3 > /dev/null || { echo "skip: no sqlite3"; exit 77; }
D=$PINSET_TESTDATA/check
[ -s "$D/pins.env" ] || { echo "FAIL: no check PKI in $D (40-check.sh)"; exit 1; }
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
TESTDATA=$PINSET_TESTDATA
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/testlib/tls_server.sh"
MON_PID=
HOOK_PID=
cleanup() {
    [ -n "$MON_PID" ] && kill -9 "$MON_PID" 2> /dev/null
    echo 200 > "$TMP/mode" # a handler that hangs returns
    [ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2> /dev/null
    tls_server_stop
    rm -rf "$TMP"
}
trap cleanup EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

start_server GOOD

# --- the receiver: what $TMP/mode says (hang: wait for another mode, at most 120 s; 500; 200).
# Each POST's answer and alert_id in $TMP/attempts; the alert_id of each 200 in $TMP/received ---
cat > "$TMP/hook.py" << 'PY'
import http.server, json, os, sys, time
d = sys.argv[1]
def mode():
    try:
        with open(os.path.join(d, "mode")) as f:
            return f.read().strip()
    except OSError:
        return "200"
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        aid = json.loads(body).get("alert_id", "none")
        for _ in range(1200):
            if mode() != "hang":
                break
            time.sleep(0.1)
        code = 500 if mode() == "500" else 200
        with open(os.path.join(d, "attempts"), "a") as f:
            f.write("%d %s\n" % (code, aid))
        if code == 200:
            with open(os.path.join(d, "received"), "a") as f:
                f.write(aid + "\n")
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.serve_forever()
PY
echo 200 > "$TMP/mode"
mkfifo "$TMP/hook.port"
python3 "$TMP/hook.py" "$TMP" > "$TMP/hook.port" &
HOOK_PID=$!
read -r -t 20 HOOK_PORT < "$TMP/hook.port" || { echo "FAIL: webhook receiver did not start"; exit 1; }

cat > "$TMP/policy.json" << EOF
{"version": 1, "rules": [
 {"host": "drift.check.test", "pins": [{"sha256": "$PIN_LEAF", "role": "leaf"}]},
 {"host": "fail.check.test", "pins": [{"sha256": "$PIN_INT", "role": "ca"}]},
 {"host": "backup.check.test", "pins": [{"sha256": "$PIN_INT", "role": "ca"}]}
]}
EOF
printf '%s\n' drift.check.test fail.check.test backup.check.test > "$TMP/targets.txt"

# config NAME WEBHOOK-JSON: the configuration (database NAME.db, alerts in NAME.jsonl)
config() {
    cat > "$TMP/mon.json" << EOF
{"inventory": [{"policy": "policy.json", "targets": ["targets.txt"]}],
 "interval_seconds": 600, "stop_deadline_seconds": 20,
 "probe": {"timeout_seconds": 10, "cafile": "$D/trust.pem", "connect_to": ["::127.0.0.1:$PORT_GOOD"]},
 "expiry": {"leaf_days": 60, "pins_days": 0, "rule_days": 0},
 "alerts": {"jsonl": "$1.jsonl",
            "webhook": {"url": "http://127.0.0.1:$HOOK_PORT/alert", $2}},
 "db": "$1.db"}
EOF
}
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/monitor_lib.sh"
# wait_for CMD...: until CMD succeeds, at most 60 s; its status
wait_for() {
    for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done
    "$@"
}
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MON_PORT/healthz")" = 200 ]; }
sql() { sqlite3 "$TMP/$1.db" "$2"; }
pending_is() { [ "$(sql "$1" 'SELECT count(*) FROM monitor_alerts WHERE pending != 0')" = "$2" ]; }
ids_of() { jq -r .alert_id "$TMP/$1.jsonl" | sort; }
received_ids() { sort -u "$TMP/received" 2> /dev/null; }
all_received() { [ "$(received_ids | grep -cxF -f <(ids_of "$1"))" = 3 ]; }

# --- hang: the round is not held by a webhook that does not answer ---
echo hang > "$TMP/mode"
config one '"retries": 3, "backoff_ms": 100, "timeout_seconds": 600'
start_monitor
wait_for healthy && ok "hang: the round finished and was stored while the webhook hangs" \
    || { bad "hang: the round waits for the webhook"; cat "$TMP/svc.err"; }
# The delivery thread writes the JSON-lines file after the round is stored: wait for it.
jsonl_has_3() { [ "$(wc -l < "$TMP/one.jsonl" 2> /dev/null)" = 3 ] && [ "$(ids_of one | grep -c '^[0-9a-f]\{32\}$')" = 3 ]; }
wait_for jsonl_has_3 \
    && ok "hang: each alert in the JSON-lines file, with an alert_id" || bad "hang: alerts $(cat "$TMP/one.jsonl")"
wait_for pending_is one 3 && [ "$(sql one 'SELECT count(*) FROM monitor_alerts WHERE pending = 4')" = 3 ] \
    && ok "hang: the alerts are pending in the store (the webhook's part only)" \
    || bad "hang: pending $(sql one 'SELECT id, pending, attempts FROM monitor_alerts')"

# --- crash: kill -9, the next start delivers what was pending, the same alerts ---
kill -9 "$MON_PID"
wait "$MON_PID" 2> /dev/null
MON_PID=
echo 200 > "$TMP/mode"
start_monitor
wait_for all_received one && ok "crash: the next start delivered every pending alert, the same alert_id" \
    || bad "crash: received $(received_ids | tr '\n' ' '), raised $(ids_of one | tr '\n' ' ')"
wait_for pending_is one 0 && ok "crash: nothing pending after" || bad "crash: still pending"
[ "$(wc -l < "$TMP/one.jsonl")" = 3 ] && [ "$(sql one 'SELECT count(*) FROM monitor_alerts')" = 3 ] \
    && ok "crash: not raised again, the JSON-lines file's part not repeated" \
    || bad "crash: $(wc -l < "$TMP/one.jsonl") lines, $(sql one 'SELECT count(*) FROM monitor_alerts') alerts"
[ "$(received_ids | wc -l)" = 3 ] && ok "crash: three distinct alert_ids at the receiver" \
    || bad "crash: $(received_ids | wc -l) distinct"
stop_monitor
[ "$STOP_RC" = 0 ] && ok "crash: SIGTERM, exit 0" || bad "crash: SIGTERM $STOP_RC"

# --- sigterm: the monitor does not wait for retries ---
: > "$TMP/attempts"
: > "$TMP/received"
echo 500 > "$TMP/mode"
config two '"retries": 5, "backoff_ms": 600000, "timeout_seconds": 30'
start_monitor
attempts3() { [ "$(grep -c '^500 ' "$TMP/attempts")" -ge 3 ]; }
wait_for attempts3 && wait_for healthy || bad "sigterm: no first attempts"
wait_for pending_is two 3
stop_monitor
[ "$STOP_RC" = 0 ] && ! grep -q 'stop deadline' "$TMP/svc.err" \
    && ok "sigterm: exit 0 without waiting for the retries (nor the stop deadline)" \
    || { bad "sigterm: $STOP_RC"; cat "$TMP/svc.err"; }
[ "$(sql two 'SELECT count(*) FROM monitor_alerts WHERE pending = 4 AND attempts = 1')" = 3 ] \
    && ok "sigterm: the alerts stay pending, one attempt each counted" \
    || bad "sigterm: $(sql two 'SELECT id, pending, attempts FROM monitor_alerts')"
echo 200 > "$TMP/mode"
start_monitor
wait_for all_received two && wait_for pending_is two 0 && ok "sigterm: the next start delivered them" \
    || bad "sigterm: received $(received_ids | tr '\n' ' ')"
stop_monitor

# --- give up: retries + 1 attempts, then given up and recorded ---
: > "$TMP/attempts"
echo 500 > "$TMP/mode"
config three '"retries": 1, "backoff_ms": 100, "timeout_seconds": 30'
timeout -k 5 120 "$PINSET_BIN" monitor --config "$TMP/mon.json" --once 1 > /dev/null 2> "$TMP/once.err"
rc=$?
[ "$rc" = 0 ] && ok "give-up: --once exits 0 after the outbox is done" || { bad "give-up: exit $rc"; cat "$TMP/once.err"; }
[ "$(grep -c '^500 ' "$TMP/attempts")" = 6 ] && ok "give-up: two attempts per alert" \
    || bad "give-up: attempts $(cat "$TMP/attempts")"
[ "$(sql three 'SELECT count(*) FROM monitor_alerts WHERE pending = 0 AND gave_up = 4 AND attempts = 2')" = 3 ] \
    && grep -q 'webhook: given up after 2 attempts' "$TMP/once.err" \
    && ok "give-up: recorded in the store (gave_up: the webhook), said on stderr" \
    || bad "give-up: $(sql three 'SELECT id, pending, attempts, gave_up FROM monitor_alerts')"

# --- too old: an alert pending past give_up_seconds (no monitor ran meanwhile) is not sent ---
: > "$TMP/attempts"
: > "$TMP/received"
echo 500 > "$TMP/mode"
config four '"retries": 5, "backoff_ms": 600000, "timeout_seconds": 30'
start_monitor
wait_for attempts3 && wait_for pending_is four 3 || bad "too old: no first attempts"
stop_monitor
sql four 'UPDATE monitor_alerts SET time = 1' # as if its round were long ago
echo 200 > "$TMP/mode"
timeout -k 5 120 "$PINSET_BIN" monitor --config "$TMP/mon.json" --once 1 > /dev/null 2> "$TMP/once.err"
rc=$?
[ "$rc" = 0 ] && [ ! -s "$TMP/received" ] \
    && [ "$(sql four 'SELECT count(*) FROM monitor_alerts WHERE pending = 0 AND gave_up = 4')" = 3 ] \
    && grep -q 'webhook: given up, 86400 seconds after its round' "$TMP/once.err" \
    && ok "too old: given up without an attempt, recorded" \
    || { bad "too old: exit $rc, received $(cat "$TMP/received"), $(sql four 'SELECT id, pending, gave_up FROM monitor_alerts')"; cat "$TMP/once.err"; }

echo "$fails failure(s)"
[ "$fails" = 0 ]
