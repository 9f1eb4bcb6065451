#!/usr/bin/env bash
# test_monitor.sh - `pinset monitor` (issue #14) against real TLS servers on 127.0.0.1 (openssl
# s_server, ephemeral ports; the check PKI of tests/data/pki.d/40-check.sh), a real SQLite file,
# a webhook receiver (python3 http.server), a command hook and a JSON-lines file:
#   rounds      --once: the first round sees the good server, the next ones the rogue one (the
#               host's connect-to changes in the configuration): pin drift, a new failure, a
#               backup key live, leaf expiry under the threshold; each alert once per change,
#               in every sink, the webhook retried after a 500
#   service     /healthz, /metrics (promtool check metrics), the status page (CSP, escaping),
#               SIGHUP with a bad then a good configuration, SIGTERM: exit 0
#   stop        SIGTERM during a round stuck on a silent server: exit 0 after stop_deadline
#   recovery    every host down (ERROR): new_failure, also for a host that was FAIL (it fails
#               otherwise); back up: recovered once per host
# Every server is stopped on exit; every wait is bounded and waits on a condition (the round in
# progress is seen in /metrics, not guessed with a sleep); no timing is asserted.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v openssl > /dev/null || { echo "skip: no openssl"; exit 77; }
command -v jq > /dev/null || { echo "skip: no jq"; exit 77; }
command -v python3 > /dev/null || { echo "skip: no python3"; exit 77; }
command -v curl > /dev/null || { echo "skip: no curl"; exit 77; }
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
    [ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2> /dev/null
    tls_server_stop
    rm -rf "$TMP"
}
trap cleanup EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

start_server GOOD
start_server ROGUE
tls_server TARPIT "$D/leaf.crt.pem" "$D/leaf.key.pem" "$D/int.crt.pem"
kill -STOP "$PID_TARPIT"

# --- the webhook receiver: 500 to the first POST, 200 after; one body a line in hook.jsonl ---
cat > "$TMP/hook.py" << 'PY'
import http.server, sys
out = sys.argv[1]
n = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        n[0] += 1
        code = 500 if n[0] == 1 else 200
        if code == 200:
            with open(out, "ab") as f:
                f.write(body.strip() + b"\n")
        with open(out + ".attempts", "a") as f:
            f.write("%d %s\n" % (code, self.headers.get("Content-Type")))
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
mkfifo "$TMP/hook.port"
python3 "$TMP/hook.py" "$TMP/webhook.jsonl" > "$TMP/hook.port" &
HOOK_PID=$!
read -r -t 20 HOOK_PORT < "$TMP/hook.port" || { echo "FAIL: webhook receiver did not start"; exit 1; }

cat > "$TMP/policy.json" << EOF
{"version": 1, "rules": [
 {"host": "drift.check.test", "pins": [{"sha256": "$PIN_LEAF", "role": "leaf"}, {"sha256": "$PIN_ROGUE", "role": "leaf"}]},
 {"host": "fail.check.test", "pins": [{"sha256": "$PIN_INT", "role": "ca"}, {"sha256": "$PIN_BACKUP", "role": "backup"}]},
 {"host": "backup.check.test", "pins": [{"sha256": "$PIN_INT", "role": "ca"}, {"sha256": "$PIN_ROGUE", "role": "backup"}]}
]}
EOF
printf '%s\n' drift.check.test fail.check.test backup.check.test > "$TMP/targets.txt"

# config PORT [EXTRA-JSON]: the monitor's configuration, every host dialed at 127.0.0.1:PORT
config() {
    cat > "$TMP/mon.json" << EOF
{"inventory": [{"policy": "policy.json", "targets": ["targets.txt"]}],
 "interval_seconds": ${INTERVAL:-1}, "stop_deadline_seconds": 2,
 "probe": {"timeout_seconds": ${TIMEOUT:-5}, "cafile": "$D/trust.pem", "connect_to": ["::127.0.0.1:$1"]},
 "expiry": {"leaf_days": 60, "pins_days": 0, "rule_days": 0},
 "alerts": {"jsonl": "alerts.jsonl",
            "command": {"argv": ["sh", "-c", "cat >> \"\$0\"", "$TMP/command.jsonl"], "timeout_seconds": 10},
            "webhook": {"url": "http://127.0.0.1:$HOOK_PORT/alert", "retries": 3, "backoff_ms": 100, "timeout_seconds": 10}},
 "db": "state.db"${2:+, $2}}
EOF
}
monitor() {
    timeout -k 5 120 "$PINSET_BIN" monitor --config "$TMP/mon.json" "$@" > "$TMP/out" 2> "$TMP/err"
    RC=$?
}
kinds() { jq -r '"\(.kind) \(.host)"' "$1" | sort | tr '\n' ' '; }

# --- round 1: the good server ---
config "$PORT_GOOD"
monitor --once 1
[ "$RC" = 0 ] && ok "round 1: exit 0" || { bad "round 1: exit $RC"; cat "$TMP/err"; }
want1="expiry backup.check.test expiry drift.check.test expiry fail.check.test "
[ "$(kinds "$TMP/alerts.jsonl")" = "$want1" ] && ok "round 1: leaf expiry under 60 days, nothing else" \
    || bad "round 1 alerts: $(kinds "$TMP/alerts.jsonl")"
jq 'select(.host == "drift.check.test") | .expiring[0].what == "leaf" and .current.outcome == "PASS" and .previous == null and .port == 443 and .shard == "0/1"' \
    "$TMP/alerts.jsonl" | grep -qx true && ok "round 1: the alert document" || bad "round 1: document $(head -1 "$TMP/alerts.jsonl")"
[ "$(kinds "$TMP/command.jsonl")" = "$want1" ] && ok "round 1: command hook got each alert on stdin" \
    || bad "round 1 command hook: $(kinds "$TMP/command.jsonl")"
[ "$(kinds "$TMP/webhook.jsonl")" = "$want1" ] && ok "round 1: webhook got each alert" \
    || bad "round 1 webhook: $(kinds "$TMP/webhook.jsonl")"
[ "$(head -1 "$TMP/webhook.jsonl.attempts")" = "500 application/json" ] && [ "$(wc -l < "$TMP/webhook.jsonl.attempts")" = 4 ] \
    && ok "webhook: JSON body, the 500 retried" || bad "webhook attempts: $(cat "$TMP/webhook.jsonl.attempts")"

# --- rounds 2 and 3: the rogue server (a leaf from another trusted root) ---
config "$PORT_ROGUE"
monitor --once 2
[ "$RC" = 0 ] && ok "rounds 2-3: exit 0" || { bad "rounds 2-3: exit $RC"; cat "$TMP/err"; }
tail -n +4 "$TMP/alerts.jsonl" > "$TMP/new.jsonl"
want2="backup_live backup.check.test new_failure fail.check.test pin_drift backup.check.test pin_drift drift.check.test pin_drift fail.check.test "
[ "$(kinds "$TMP/new.jsonl")" = "$want2" ] && ok "round 2: drift, new failure, backup live; expiry not repeated; round 3 adds nothing" \
    || bad "rounds 2-3 alerts: $(kinds "$TMP/new.jsonl")"
jq "select(.kind == \"pin_drift\" and .host == \"drift.check.test\") | .previous.leaf_spki == \"$PIN_LEAF\" and .current.leaf_spki == \"$PIN_ROGUE\"" \
    "$TMP/new.jsonl" | grep -qx true && ok "pin drift names the old and new leaf keys" || bad "pin drift document"
jq "select(.kind == \"backup_live\") | .backup_pin == \"$PIN_ROGUE\"" "$TMP/new.jsonl" | grep -qx true \
    && ok "backup_live names the backup pin" || bad "backup_live document"
jq 'select(.kind == "new_failure") | .previous.outcome == "PASS" and .current.outcome == "FAIL"' "$TMP/new.jsonl" | grep -qx true \
    && ok "new failure: PASS to FAIL" || bad "new_failure document"
[ "$(kinds "$TMP/command.jsonl")" = "$(kinds "$TMP/alerts.jsonl")" ] && [ "$(kinds "$TMP/webhook.jsonl")" = "$(kinds "$TMP/alerts.jsonl")" ] \
    && ok "every sink got the same alerts" || bad "sinks differ"

# --- the service: HTTP, SIGHUP, SIGTERM ---
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/monitor_lib.sh"
config "$PORT_ROGUE"
start_monitor
code=
for _ in $(seq 600); do # a round of three hosts: may be slow under load (bounded: 60 s)
    code=$(curl -s -o "$TMP/health" -w '%{http_code}' "http://127.0.0.1:$MON_PORT/healthz")
    [ "$code" = 200 ] && break
    sleep 0.1
done
[ "$code" = 200 ] && ok "/healthz 200 after a round" || bad "/healthz: $code"
curl -s "http://127.0.0.1:$MON_PORT/metrics" > "$TMP/metrics"
grep -q '^pinset_monitor_host_result{host="fail.check.test",port="443",result="fail"} 1$' "$TMP/metrics" \
    && grep -q '^pinset_monitor_host_result{host="fail.check.test",port="443",result="pass"} 0$' "$TMP/metrics" \
    && grep -q '^pinset_monitor_rounds_total{result="ok"} [1-9]' "$TMP/metrics" \
    && grep -q '^pinset_monitor_leaf_not_after_timestamp_seconds{host="drift.check.test",port="443"} [0-9]' "$TMP/metrics" \
    && grep -q '^pinset_monitor_alerts_total{kind="pin_drift"} 0$' "$TMP/metrics" \
    && ok "/metrics: results 0/1, rounds, expiry timestamps, alerts by kind" || { bad "/metrics"; head -40 "$TMP/metrics"; }
if command -v promtool > /dev/null; then
    promtool check metrics < "$TMP/metrics" > "$TMP/lint" 2>&1 && ok "/metrics: promtool check metrics" \
        || { bad "/metrics: promtool"; cat "$TMP/lint"; }
fi
curl -s -D "$TMP/headers" -o "$TMP/page" "http://127.0.0.1:$MON_PORT/"
grep -qi "^Content-Security-Policy: default-src 'none'; style-src 'sha256-" "$TMP/headers" \
    && grep -q '<td>fail.check.test:443</td><td>FAIL</td>' "$TMP/page" && ok "status page: hosts, results, CSP" \
    || { bad "status page"; head -c 2000 "$TMP/page"; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MON_PORT/")" = 405 ] && ok "POST refused (405)" || bad "POST not 405"

cp "$TMP/mon.json" "$TMP/mon.good"
echo '{"inventory": [{"policy": "policy.json"}], "alerts": {"webhook": {"url": "http://127.0.0.1:1/", "retry": 1}}, "db": "state.db"}' > "$TMP/mon.json"
kill -HUP "$MON_PID"
for _ in $(seq 600); do grep -q 'SIGHUP' "$TMP/svc.err" && break; sleep 0.1; done
grep -q 'SIGHUP: configuration refused, the one in force is kept: .*mon.json: alerts.webhook.retry: unknown key' "$TMP/svc.err" \
    && kill -0 "$MON_PID" && ok "SIGHUP: a bad configuration is refused with the key path, the monitor goes on" \
    || { bad "SIGHUP bad"; cat "$TMP/svc.err"; }
cp "$TMP/mon.good" "$TMP/mon.json"
kill -HUP "$MON_PID"
for _ in $(seq 600); do grep -q 'SIGHUP: configuration reloaded' "$TMP/svc.err" && break; sleep 0.1; done
grep -q 'SIGHUP: configuration reloaded' "$TMP/svc.err" && ok "SIGHUP: a good configuration is taken" || bad "SIGHUP good"
stop_monitor
[ "$STOP_RC" = 0 ] && grep -q 'SIGTERM: stopping' "$TMP/svc.err" && ok "SIGTERM: exit 0" || bad "SIGTERM: $STOP_RC"

# --- a round over its deadline is abandoned: nothing of it stored, counted as abandoned ---
before=$(sqlite3 "$TMP/state.db" 'SELECT max(last_round) FROM monitor_hosts' 2> /dev/null)
TIMEOUT=4 INTERVAL=600 config "$PORT_TARPIT" '"round_deadline_seconds": 1'
start_monitor
for _ in $(seq 600); do grep -q 'round abandoned: its results were not kept' "$TMP/svc.err" && break; sleep 0.1; done
curl -s "http://127.0.0.1:$MON_PORT/metrics" > "$TMP/metrics"
grep -q 'round over its deadline (1 s): abandoned' "$TMP/svc.err" \
    && grep -q '^pinset_monitor_rounds_total{result="abandoned"} 1$' "$TMP/metrics" \
    && grep -q '^pinset_monitor_rounds_total{result="ok"} 0$' "$TMP/metrics" \
    && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MON_PORT/healthz")" = 503 ] \
    && ok "a round over round_deadline_seconds is abandoned; /healthz 503 without a finished round" \
    || { bad "round deadline"; cat "$TMP/svc.err"; grep '^pinset_monitor_round' "$TMP/metrics";
         curl -s -o /dev/null -w 'healthz %{http_code}\n' "http://127.0.0.1:$MON_PORT/healthz"; }
if command -v sqlite3 > /dev/null; then
    [ "$(sqlite3 "$TMP/state.db" 'SELECT max(last_round) FROM monitor_hosts')" = "$before" ] \
        && ok "the abandoned round stored nothing" || bad "the abandoned round changed the state"
fi
stop_monitor

# --- SIGTERM while a round waits on a silent server: abandoned after stop_deadline, exit 0 ---
TIMEOUT=60 INTERVAL=600 config "$PORT_TARPIT"
start_monitor
# wait until the round is running (its probe then waits on the stopped server), not a fixed time:
# a SIGTERM before the round starts stops at once, without the deadline this case is about
running=
for _ in $(seq 600); do
    curl -s "http://127.0.0.1:$MON_PORT/metrics" | grep -q '^pinset_monitor_round_in_progress 1$' && { running=1; break; }
    sleep 0.1
done
[ -n "$running" ] || bad "the round did not start"
stop_monitor
[ "$STOP_RC" = 0 ] && grep -q 'stop deadline (2 s) reached: the round in progress is abandoned' "$TMP/svc.err" \
    && ok "SIGTERM during a stuck round: abandoned after the deadline, exit 0" || { bad "stuck round: $STOP_RC"; cat "$TMP/svc.err"; }

# --- a host's failure: alerted again when it fails otherwise (FAIL to ERROR), recovered once ---
down_port
lines_before=$(wc -l < "$TMP/alerts.jsonl")
config "$PORT_DOWN"
monitor --once 2
tail -n +$((lines_before + 1)) "$TMP/alerts.jsonl" > "$TMP/new.jsonl"
[ "$(jq -r 'select(.kind == "new_failure") | .host' "$TMP/new.jsonl" | sort | tr '\n' ' ')" = "backup.check.test drift.check.test fail.check.test " ] \
    && jq 'select(.host == "fail.check.test") | .previous.outcome == "FAIL" and .current.outcome == "ERROR"' "$TMP/new.jsonl" | grep -qx true \
    && ok "every host down: new_failure each, FAIL to ERROR too (it fails otherwise); not repeated" \
    || { bad "down: $(kinds "$TMP/new.jsonl")"; cat "$TMP/err"; }
lines_before=$(wc -l < "$TMP/alerts.jsonl")
config "$PORT_GOOD"
monitor --once 2
tail -n +$((lines_before + 1)) "$TMP/alerts.jsonl" > "$TMP/new.jsonl"
[ "$(jq -r 'select(.kind == "recovered") | .host' "$TMP/new.jsonl" | sort | tr '\n' ' ')" = "backup.check.test drift.check.test fail.check.test " ] \
    && jq 'select(.kind == "recovered" and .host == "drift.check.test") | .previous.outcome == "ERROR" and .current.outcome == "PASS"' "$TMP/new.jsonl" | grep -qx true \
    && ok "back up: recovered once for each host" || { bad "recovered: $(kinds "$TMP/new.jsonl")"; cat "$TMP/err"; }

echo "$fails failure(s)"
[ "$fails" = 0 ]
