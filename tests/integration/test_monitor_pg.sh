#!/usr/bin/env bash
# test_monitor_pg.sh - `pinset monitor --db postgres://...` (issue #14) on a real PostgreSQL server
# that the test starts (tests/testlib/pg.sh), against real TLS servers on 127.0.0.1 (openssl
# s_server; the check PKI of tests/data/pki.d/40-check.sh):
#   rounds   --once: the first round sees the good server, the next ones (another process) the
#            rogue one: the state the first process left in PostgreSQL is what the second compares
#            with (pin drift, a new failure, a backup key live; expiry not repeated); the hosts'
#            state, the rounds and the alerts are rows in PostgreSQL (checked with psql)
#   shards   two monitors with --shard 0/2 and --shard 1/2 at once on one database: each keeps
#            its own hosts (none clobbered), each finds the drift of its own hosts the next round
# Every server is stopped on exit; every wait is bounded; no timing is asserted.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}" "${PINSET_SOURCE_DIR:?}"
command -v openssl > /dev/null || { echo "skip: no openssl"; exit 77; }
command -v jq > /dev/null || { echo "skip: no jq"; exit 77; }
D=$PINSET_TESTDATA/check
[ -s "$D/pins.env" ] || { echo "FAIL: no check PKI in $D (40-check.sh)"; exit 1; }
# shellcheck disable=SC1091
. "$D/pins.env"
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/testlib/pg.sh"
TMP=$(mktemp -d) || exit 1
TESTDATA=$PINSET_TESTDATA
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/testlib/tls_server.sh"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null; done
    tls_server_stop
    pg_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
pg_start
rc=$?
[ "$rc" = 77 ] && { echo "skip: ${PG_SKIP:-no PostgreSQL server}"; exit 77; }
[ "$rc" = 0 ] || { echo "FAIL: the PostgreSQL server did not start"; exit 1; }

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# q SQL: one value from PostgreSQL (the first database)
q() { pg_psql -c "$1"; }

start_server GOOD
start_server ROGUE

# setup DIR: the policy and targets of test_monitor.sh in DIR
setup() {
    mkdir -p "$1"
    cat > "$1/policy.json" << EOF
{"version": 1, "rules": [
 {"host": "drift.check.test", "pins": [{"sha256": "$PIN_LEAF", "role": "leaf"}, {"sha256": "$PIN_ROGUE", "role": "leaf"}]},
 {"host": "fail.check.test", "pins": [{"sha256": "$PIN_INT", "role": "ca"}, {"sha256": "$PIN_BACKUP", "role": "backup"}]},
 {"host": "backup.check.test", "pins": [{"sha256": "$PIN_INT", "role": "ca"}, {"sha256": "$PIN_ROGUE", "role": "backup"}]}
]}
EOF
    printf '%s\n' drift.check.test fail.check.test backup.check.test > "$1/targets.txt"
}
# config DIR PORT: the monitor's configuration in DIR, every host dialed at 127.0.0.1:PORT; no db
# in it (--db gives it)
config() {
    cat > "$1/mon.json" << EOF
{"inventory": [{"policy": "policy.json", "targets": ["targets.txt"]}],
 "interval_seconds": 1, "stop_deadline_seconds": 2,
 "probe": {"timeout_seconds": 5, "cafile": "$D/trust.pem", "connect_to": ["::127.0.0.1:$2"]},
 "expiry": {"leaf_days": 60, "pins_days": 0, "rule_days": 0},
 "alerts": {"jsonl": "alerts.jsonl"}}
EOF
}
# monitor DIR ARGS...: pinset monitor on DIR's configuration; RC and the return status its status
# (in the background only the latter reaches the caller)
monitor() {
    local dir=$1
    shift
    timeout -k 5 120 "$PINSET_BIN" monitor --config "$dir/mon.json" "$@" > "$dir/out" 2> "$dir/err"
    RC=$?
    return $RC
}
kinds() { jq -r '"\(.kind) \(.host)"' "$1" | sort | tr '\n' ' '; }
# rows SQL: the rows of a query, one a line, columns '|'-separated, joined with spaces
rows() { q "$1" | tr '\n' ' '; }

# --- round 1: the good server; the state, the round and the alerts in PostgreSQL ---
A=$TMP/a
setup "$A"
config "$A" "$PORT_GOOD"
monitor "$A" --db "$PG_URL" --once 1
[ "$RC" = 0 ] && ok "round 1: exit 0" || { bad "round 1: exit $RC"; cat "$A/err"; }
want1="expiry backup.check.test expiry drift.check.test expiry fail.check.test "
[ "$(kinds "$A/alerts.jsonl")" = "$want1" ] && ok "round 1: leaf expiry under 60 days, nothing else" \
    || bad "round 1 alerts: $(kinds "$A/alerts.jsonl")"
[ "$(q "SELECT max(version) FROM schema_version")" = 4 ] && ok "PostgreSQL migrated to schema version 4" \
    || bad "schema version: $(q "SELECT max(version) FROM schema_version")"
got=$(rows "SELECT host, port, shard, outcome, leaf_spki = '$PIN_LEAF' FROM monitor_hosts ORDER BY host")
want="backup.check.test|443|0/1|PASS|t drift.check.test|443|0/1|PASS|t fail.check.test|443|0/1|PASS|t "
[ "$got" = "$want" ] && ok "round 1: each host's state is a row of monitor_hosts" || bad "monitor_hosts: $got"
[ "$(rows "SELECT shard, hosts, alerts, finished >= started FROM monitor_rounds")" = "0/1|3|3|t " ] \
    && ok "round 1: a row of monitor_rounds (3 hosts, 3 alerts)" || bad "monitor_rounds: $(rows "SELECT * FROM monitor_rounds")"
[ "$(rows "SELECT kind, host FROM monitor_alerts ORDER BY host")" = "expiry|backup.check.test expiry|drift.check.test expiry|fail.check.test " ] \
    && ok "round 1: the alerts are rows of monitor_alerts" || bad "monitor_alerts: $(rows "SELECT kind, host FROM monitor_alerts")"
[ "$(q "SELECT count(*) FROM monitor_alerts WHERE body::jsonb ->> 'kind' = kind AND (body::jsonb ->> 'port')::int = 443")" = 3 ] \
    && ok "round 1: each alert row keeps its JSON document" || bad "monitor_alerts bodies: $(q "SELECT body FROM monitor_alerts LIMIT 1")"

# --- rounds 2 and 3, another process: the rogue server, compared with round 1's state in PostgreSQL ---
config "$A" "$PORT_ROGUE"
monitor "$A" --db "$PG_URL" --once 2
[ "$RC" = 0 ] && ok "rounds 2-3: exit 0" || { bad "rounds 2-3: exit $RC"; cat "$A/err"; }
tail -n +4 "$A/alerts.jsonl" > "$A/new.jsonl"
want2="backup_live backup.check.test new_failure fail.check.test pin_drift backup.check.test pin_drift drift.check.test pin_drift fail.check.test "
[ "$(kinds "$A/new.jsonl")" = "$want2" ] \
    && ok "round 2: drift, new failure, backup live against the state read from PostgreSQL; round 3 adds nothing" \
    || bad "rounds 2-3 alerts: $(kinds "$A/new.jsonl")"
jq "select(.kind == \"pin_drift\" and .host == \"drift.check.test\") | .previous.leaf_spki == \"$PIN_LEAF\" and .current.leaf_spki == \"$PIN_ROGUE\"" \
    "$A/new.jsonl" | grep -qx true && ok "pin drift names the old key (from PostgreSQL) and the new" || bad "pin drift document"
[ "$(rows "SELECT host, outcome, leaf_spki = '$PIN_ROGUE' FROM monitor_hosts ORDER BY host")" = "backup.check.test|PASS|t drift.check.test|PASS|t fail.check.test|FAIL|t " ] \
    && ok "rounds 2-3: monitor_hosts holds the last state (fail.check.test FAIL, the rogue leaf)" \
    || bad "monitor_hosts after: $(rows "SELECT host, outcome FROM monitor_hosts ORDER BY host")"
[ "$(rows "SELECT hosts, alerts FROM monitor_rounds ORDER BY id")" = "3|3 3|5 3|0 " ] \
    && ok "three rounds in monitor_rounds (3, 5 and 0 alerts)" || bad "monitor_rounds: $(rows "SELECT hosts, alerts FROM monitor_rounds ORDER BY id")"
[ "$(q "SELECT count(*) FROM monitor_alerts")" = "$(wc -l < "$A/alerts.jsonl")" ] \
    && [ "$(q "SELECT count(*) FROM monitor_alerts WHERE kind = 'pin_drift'")" = 3 ] \
    && ok "monitor_alerts holds every alert the sinks got" || bad "monitor_alerts: $(rows "SELECT kind, host FROM monitor_alerts")"

# --- shards: two monitors at once on one database (a new one), each its own hosts ---
pg_psql -c "CREATE DATABASE shards" > /dev/null || bad "CREATE DATABASE shards"
URL2=${PG_URL%/*}/shards
S0=$TMP/s0
S1=$TMP/s1
setup "$S0"
setup "$S1"
# both_once PORT N: the two monitors at once, N rounds each; RC0 RC1 their statuses
both_once() {
    config "$S0" "$1"
    config "$S1" "$1"
    monitor "$S0" --db "$URL2" --shard 0/2 --once "$2" &
    PIDS+=($!)
    local p0=$!
    monitor "$S1" --db "$URL2" --shard 1/2 --once "$2"
    RC1=$RC
    wait "$p0"
    RC0=$?
}
both_once "$PORT_GOOD" 2
[ "$RC0" = 0 ] && [ "$RC1" = 0 ] && ok "shards: two monitors at once on one database, exit 0" \
    || { bad "shards: exit $RC0 $RC1"; cat "$S0/err" "$S1/err"; }
# sorted: backup (0), drift (1), fail (2); index mod 2
got=$(pg_psql -d shards -c "SELECT shard, host, outcome FROM monitor_hosts ORDER BY shard, host" | tr '\n' ' ')
[ "$got" = "0/2|backup.check.test|PASS 0/2|fail.check.test|PASS 1/2|drift.check.test|PASS " ] \
    && ok "shards: monitor_hosts holds both shards' hosts, each with its shard" || bad "shards monitor_hosts: $got"
got=$(pg_psql -d shards -c "SELECT shard, count(*) FROM monitor_rounds GROUP BY shard ORDER BY shard" | tr '\n' ' ')
[ "$got" = "0/2|2 1/2|2 " ] && ok "shards: two rounds of each in monitor_rounds" || bad "shards monitor_rounds: $got"
[ "$(kinds "$S0/alerts.jsonl")" = "expiry backup.check.test expiry fail.check.test " ] \
    && [ "$(kinds "$S1/alerts.jsonl")" = "expiry drift.check.test " ] \
    && ok "shards: each monitor alerts on its own hosts only" || bad "shards alerts: $(kinds "$S0/alerts.jsonl") / $(kinds "$S1/alerts.jsonl")"
both_once "$PORT_ROGUE" 1
[ "$RC0" = 0 ] && [ "$RC1" = 0 ] && ok "shards, next round: exit 0" || { bad "shards next: exit $RC0 $RC1"; cat "$S0/err" "$S1/err"; }
tail -n +3 "$S0/alerts.jsonl" > "$S0/new.jsonl"
tail -n +2 "$S1/alerts.jsonl" > "$S1/new.jsonl"
[ "$(kinds "$S0/new.jsonl")" = "backup_live backup.check.test new_failure fail.check.test pin_drift backup.check.test pin_drift fail.check.test " ] \
    && [ "$(kinds "$S1/new.jsonl")" = "pin_drift drift.check.test " ] \
    && ok "shards: each finds the drift of its own hosts (neither's state was clobbered by the other)" \
    || bad "shards next alerts: $(kinds "$S0/new.jsonl") / $(kinds "$S1/new.jsonl")"
got=$(pg_psql -d shards -c "SELECT shard, host, outcome FROM monitor_hosts ORDER BY shard, host" | tr '\n' ' ')
[ "$got" = "0/2|backup.check.test|PASS 0/2|fail.check.test|FAIL 1/2|drift.check.test|PASS " ] \
    && ok "shards: three hosts, each shard's last state" || bad "shards monitor_hosts after: $got"
[ "$(q "SELECT count(*) FROM monitor_hosts")" = 3 ] && [ "$(q "SELECT count(*) FROM monitor_rounds")" = 3 ] \
    && ok "the first database is untouched by the shards' monitors" || bad "first database changed"

echo "$fails failure(s)"
[ "$fails" = 0 ]
