#!/usr/bin/env bash
# test_check_live.sh - `pinset check` and `pinset explain` against real TLS servers on
# 127.0.0.1 (openssl s_server, ephemeral ports), with the PKI and policies of
# tests/data/pki.d/40-check.sh:
#   good server   leaf + intermediate of the check PKI (pass., leafonly., leafbackup., certpin.,
#                 expiring., api.)
#   rogue server  a leaf mis-issued by a second root that the client also trusts (rogue., report.)
#   down          a port where nothing listens
#   tarpit        an s_server stopped with SIGSTOP: the kernel accepts, nobody answers
# Every server is stopped on exit; every wait is bounded.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }
D=$PINSET_TESTDATA/check
[ -s "$D/policies/check.json" ] || { echo "FAIL: no check PKI in $D (40-check.sh)"; exit 1; }
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
TESTDATA=$PINSET_TESTDATA
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/testlib/tls_server.sh" # POLICY, tls_server, tls_server_stop
cleanup() {
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
# a port that was free a moment ago: connections are refused
down_port

MAP=(--connect-to "rogue.check.test:443:127.0.0.1:$PORT_ROGUE"
     --connect-to "report.check.test:443:127.0.0.1:$PORT_ROGUE"
     --connect-to "down.check.test:443:127.0.0.1:$PORT_DOWN"
     --connect-to "tarpit.check.test:443:127.0.0.1:$PORT_TARPIT"
     --connect-to "unpinned.check.test:443:127.0.0.1:$PORT_ROGUE"
     --connect-to "::127.0.0.1:$PORT_GOOD")
# check ARGS...: runs pinset check with the trust of both roots; sets RC, OUT, ERR
check() {
    timeout -k 5 60 "$PINSET_BIN" check --policy "$POLICY" --cafile "$D/trust.pem" "${MAP[@]}" \
        -t 5 "$@" > "$TMP/out" 2> "$TMP/err"
    RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}
expect_rc() { [ "$RC" = "$1" ] && ok "$2: exit $1" || { bad "$2: exit $RC, want $1"; echo "$OUT"; echo "$ERR"; }; }
has() { grep -Eq -- "$2" <<< "$1"; }

# --- verdicts and exit codes ---
check pass.check.test
expect_rc 0 "passing host"
has "$OUT" '^pass\.check\.test:443 \(127\.0\.0\.1:[0-9]+\): PASS$' || bad "passing host: no PASS line"
has "$OUT" 'matched: +pin \[0\] "check intermediate" \(spki, role ca\) at depth 1' || bad "passing host: matched pin not shown"

check rogue.check.test
expect_rc 1 "mis-issued certificate (rogue CA trusted)"
has "$OUT" '^rogue\.check\.test:443 .*: FAIL$' || bad "rogue: no FAIL line"
has "$OUT" 'verdict: +FAIL \(no-match\)' || bad "rogue: verdict not FAIL (no-match)"
has "$OUT" '0 ERROR' || bad "rogue: a pin failure was counted as an error"

check report.check.test
expect_rc 0 "report mode mismatch without --strict"
has "$OUT" '^report\.check\.test:443 .*: REPORT_ONLY_FAIL$' || bad "report: REPORT_ONLY_FAIL not shown"
has "$ERR" 'report\.check\.test:443: report-only pin mismatch' || bad "report: no warning on stderr"
check --strict report.check.test
expect_rc 1 "report mode mismatch with --strict"

check down.check.test
expect_rc 4 "host down"
has "$OUT" '^down\.check\.test:443 .*: ERROR$' || bad "down: no ERROR line"
has "$ERR" 'down\.check\.test:443: not checked: refused' || bad "down: no refused message"

check pass.check.test down.check.test rogue.check.test
expect_rc 1 "mixed pass, down and rogue (a security finding outranks an outage)"
has "$OUT" '^3 hosts: 1 PASS, 1 FAIL, 0 REPORT_ONLY_FAIL, 0 NOT_PINNED, 0 EXPIRED_OPEN, 1 ERROR$' \
    || bad "mixed: summary line"

start=$(date +%s)
check --timeout 1 tarpit.check.test
end=$(date +%s)
expect_rc 4 "tarpit host times out"
[ $((end - start)) -le 4 ] && ok "tarpit: --timeout 1 bounds the probe" || bad "tarpit took $((end - start)) s"
has "$ERR" 'tarpit\.check\.test:443: not checked: timeout' || bad "tarpit: no timeout message"

# a chain that does not validate is FAIL, pinned or not, in every mode
timeout -k 5 60 "$PINSET_BIN" check --policy "$POLICY" --cafile "$D/root.crt.pem" "${MAP[@]}" -t 5 \
    -f json report.check.test unpinned.check.test > "$TMP/out" 2> "$TMP/err"
RC=$?
expect_rc 1 "chain that does not validate"
[ "$(jq -r '[.hosts[] | .host + " " + .result + " " + (.validated|tostring) + " " + .reason] | join(",")' "$TMP/out")" = \
  "report.check.test FAIL false path-invalid,unpinned.check.test FAIL false path-invalid" ] \
    && ok "invalid chain: FAIL, not softened by report mode or by not being pinned" \
    || { bad "invalid chain: got $(jq -c '[.hosts[] | [.host,.result,.verdict,.reason]]' "$TMP/out")"; }

# --- rotation readiness ---
check -f json pass.check.test leafonly.check.test leafbackup.check.test certpin.check.test
expect_rc 0 "rotation hosts"
got=$(jq -r '.hosts[] | [.host, (.rotation.ready|tostring), (.rotation.backup_pins|tostring),
    (.rotation.new_leaf_key_passes|tostring), (.rotation.backup_leaf_key_passes|tostring),
    (.rotation.backup_pin.label // "-")] | join(" ")' "$TMP/out")
want="certpin.check.test true 1 false true standby key
leafbackup.check.test true 1 false true standby key
leafonly.check.test false 0 false false -
pass.check.test true 1 true true standby key"
[ "$got" = "$want" ] && ok "rotation readiness with and without a backup pin" \
    || { bad "rotation readiness"; echo "got:"; echo "$got"; echo "want:"; echo "$want"; }
has "$(check leafonly.check.test; echo "$OUT")" 'rotation: +NOT READY: no backup pin' \
    || bad "rotation: text does not say NOT READY"

# --- expiry: leaf, pins, rule (and --now) ---
now=$(date -u +%s)
check -f json leafonly.check.test
want_days=$(( (LEAF_NOT_AFTER - now) / 86400 ))
got_days=$(jq -r '.hosts[0].leaf_expiry_days' "$TMP/out")
[ "$got_days" -ge $((want_days - 1)) ] && [ "$got_days" -le "$want_days" ] \
    && ok "leaf_expiry_days $got_days" || bad "leaf_expiry_days $got_days, want $want_days"
pin_days=$(jq -r '.hosts[0].pins_expiry_days' "$TMP/out")
[ "$pin_days" -ge 18 ] && [ "$pin_days" -le 20 ] && ok "pins_expiry_days $pin_days" \
    || bad "pins_expiry_days $pin_days, want about 19"
later=$(date -u -d '+15 days' +%Y-%m-%dT%H:%M:%SZ)
check --now "$later" -f json expiring.check.test
expect_rc 0 "rule expired fail-open at --now"
[ "$(jq -r '.hosts[0] | .result + " " + .verdict + " " + (.rule_expired|tostring) + " " + (.rule_expiry_days|tostring)' "$TMP/out")" \
  = "EXPIRED_OPEN EXPIRED_OPEN true -6" ] && ok "--now: EXPIRED_OPEN after the rule expired" \
    || bad "--now: got $(jq -c '.hosts[0] | [.result,.verdict,.rule_expired,.rule_expiry_days]' "$TMP/out")"
check expiring.check.test
expect_rc 1 "rule not expired yet: its wrong pin fails"

# --- every host of the policy, each output format ---
check -f json
expect_rc 1 "whole policy"
[ "$(jq -r '.total, .counts.PASS, .counts.FAIL, .counts.REPORT_ONLY_FAIL, .counts.ERROR' "$TMP/out" | tr '\n' ' ')" \
  = "8 4 2 1 1 " ] && ok "whole policy: 8 hosts, 4 PASS, 2 FAIL, 1 REPORT_ONLY_FAIL, 1 ERROR" \
    || bad "whole policy counts: $(jq -c '.counts' "$TMP/out")"
jq -e '.hosts | map(.host) == (map(.host) | sort)' "$TMP/out" > /dev/null && ok "json: hosts sorted" || bad "json: hosts not sorted"
keys=$(jq -r '.hosts[0] | keys_unsorted | join(",")' "$TMP/out")
[ "$keys" = "target,host,port,address,status,error,result,verdict,reason,explain,validated,verify_error,client_accepts,protocol,rule,match,mode,rule_expired,matched_pin,rotation,leaf_not_after,leaf_expiry_days,rule_expiry_days,pins_expiry_days,expiry_alert" ] \
    && ok "json: stable host fields" || bad "json: host fields $keys"

check -f jsonl
n=$(wc -l < "$TMP/out")
[ "$n" = 8 ] && ok "jsonl: one line per host" || bad "jsonl: $n lines"
jq -e -s 'length == 8 and all(.[]; has("host") and has("result") and has("verdict"))' "$TMP/out" > /dev/null \
    && ok "jsonl: every line is a host object" || bad "jsonl: lines do not parse"
[ "$(jq -r 'select(.host == "down.check.test") | .result + " " + (.verdict|tostring) + " " + .rule.host + " " + .status' "$TMP/out")" \
  = "ERROR null down.check.test refused" ] && ok "jsonl: a host that is down still names its rule" \
    || bad "jsonl: down.check.test: $(jq -c 'select(.host == "down.check.test")' "$TMP/out")"

check -f prometheus pass.check.test rogue.check.test down.check.test
expect_rc 1 "prometheus"
badlines=$(grep -v '^#' "$TMP/out" | grep -Ev '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9]+$' || true)
[ -z "$badlines" ] && ok "prometheus: every sample parses as name{labels} value" || { bad "prometheus lines:"; echo "$badlines"; }
for m in $(grep -v '^#' "$TMP/out" | sed -E 's/[{ ].*//' | sort -u); do
    grep -q "^# TYPE $m gauge$" "$TMP/out" && grep -q "^# HELP $m " "$TMP/out" || bad "prometheus: $m lacks HELP/TYPE"
done
has "$OUT" '^pinset_check_pass\{host="pass\.check\.test",port="443",address=""\} 1$' || bad "prometheus: pass sample"
has "$OUT" '^pinset_check_pass\{host="rogue\.check\.test",port="443",address=""\} 0$' || bad "prometheus: rogue sample"
has "$OUT" '^pinset_check_up\{host="down\.check\.test",port="443",address=""\} 0$' || bad "prometheus: down sample"
has "$OUT" "^pinset_leaf_expiry_timestamp_seconds\\{host=\"pass\\.check\\.test\",port=\"443\",address=\"\"\\} $LEAF_NOT_AFTER\$" || bad "prometheus: leaf expiry"
has "$OUT" '^pinset_check_result\{host="rogue\.check\.test",port="443",address="",result="fail"\} 1$' || bad "prometheus: result series"
has "$OUT" '^pinset_check_result\{host="rogue\.check\.test",port="443",address="",result="pass"\} 0$' || bad "prometheus: result 0 series"
has "$OUT" '^pinset_check_hosts\{result="fail"\} 1$' || bad "prometheus: host counts"
if command -v promtool > /dev/null; then
    promtool check metrics < "$TMP/out" > "$TMP/lint" 2>&1 && ok "prometheus: promtool check metrics" \
        || { bad "prometheus: promtool check metrics"; cat "$TMP/lint"; }
fi

check -f nagios pass.check.test rogue.check.test
expect_rc 2 "nagios: CRITICAL is exit 2 (Monitoring Plugins)"
[ "$(wc -l < "$TMP/out")" = 1 ] && has "$OUT" '^PINSET CRITICAL - 2 hosts: 1 pass, 1 fail, .* \| hosts=2 pass=1 fail=1 .*min_leaf_expiry_days=-?[0-9]+$' \
    && ok "nagios: one status line with perfdata" || bad "nagios: $OUT"
check -f nagios pass.check.test
has "$OUT" '^PINSET OK - 1 host: 1 pass' && ok "nagios OK" || bad "nagios OK: $OUT"
check -f nagios pass.check.test report.check.test
has "$OUT" '^PINSET WARNING - 2 hosts: 1 pass, 0 fail, 1 report-only fail' && [ "$RC" = 1 ] && ok "nagios WARNING" \
    || bad "nagios WARNING: $RC $OUT"
check -f nagios pass.check.test down.check.test
has "$OUT" '^PINSET UNKNOWN - ' && [ "$RC" = 3 ] && ok "nagios UNKNOWN" || bad "nagios UNKNOWN: $RC $OUT"

# --- --shard: the shards partition the hosts exactly ---
for N in 1 3 5; do
    : > "$TMP/all"
    for ((I = 0; I < N; I++)); do
        check -f jsonl --shard "$I/$N"
        jq -r .host "$TMP/out" >> "$TMP/all"
    done
    if [ "$(sort "$TMP/all")" = "$(jq -r '.rules[].host' "$POLICY" | sort)" ] && \
       [ "$(sort "$TMP/all" | uniq -d)" = "" ]; then
        ok "--shard I/$N: union is every host, no overlap"
    else
        bad "--shard I/$N: got $(sort "$TMP/all" | tr '\n' ' ')"
    fi
done
# duplicates count once, and the order of the arguments does not change the shards
check -f jsonl --shard 0/2 rogue.check.test pass.check.test PASS.check.test pass.check.test. leafonly.check.test
[ "$(jq -r .host "$TMP/out" | tr '\n' ' ')" = "leafonly.check.test rogue.check.test " ] \
    && ok "--shard after sorting and deduplication" || bad "--shard dedup: $(jq -r .host "$TMP/out" | tr '\n' ' ')"

# --- --targets file with addresses ---
printf '# inventory\npass.check.test:%s 127.0.0.1\n\nrogue.check.test:%s 127.0.0.1   # rogue\n' \
    "$PORT_GOOD" "$PORT_ROGUE" > "$TMP/targets"
timeout -k 5 60 "$PINSET_BIN" check --policy "$POLICY" --cafile "$D/trust.pem" --targets "$TMP/targets" \
    -f jsonl > "$TMP/out" 2> "$TMP/err"
RC=$?
expect_rc 1 "--targets with addresses"
[ "$(jq -r '.host + ":" + (.port|tostring) + " " + .result' "$TMP/out" | tr '\n' ' ')" = \
  "pass.check.test:$PORT_GOOD PASS rogue.check.test:$PORT_ROGUE FAIL " ] && ok "--targets: hosts, ports, results" \
    || bad "--targets: $(cat "$TMP/out")"

# --- --resolve (curl syntax), and --targets from standard input ---
timeout -k 5 60 "$PINSET_BIN" check --policy "$POLICY" --cafile "$D/trust.pem" \
    --resolve "pass.check.test:$PORT_GOOD:127.0.0.1" -f jsonl "pass.check.test:$PORT_GOOD" > "$TMP/out" 2> "$TMP/err"
RC=$?
expect_rc 0 "--resolve"
[ "$(jq -r '.address + " " + .result' "$TMP/out")" = "127.0.0.1:$PORT_GOOD PASS" ] && ok "--resolve: dialed the address" \
    || bad "--resolve: $(cat "$TMP/out") $(cat "$TMP/err")"
printf 'rogue.check.test:%s 127.0.0.1\n' "$PORT_ROGUE" | timeout -k 5 60 "$PINSET_BIN" check --policy "$POLICY" \
    --cafile "$D/trust.pem" --targets - -f jsonl > "$TMP/out" 2> "$TMP/err"
RC=$?
expect_rc 1 "--targets -"
[ "$(jq -r '.host + " " + .result' "$TMP/out")" = "rogue.check.test FAIL" ] && ok "--targets - reads standard input" \
    || bad "--targets -: $(cat "$TMP/out") $(cat "$TMP/err")"

# --- explain, live ---
timeout -k 5 60 "$PINSET_BIN" explain --policy "$D/policies/explain.json" --cafile "$D/trust.pem" \
    --connect-to "api.check.test:443:127.0.0.1:$PORT_GOOD" api.check.test > "$TMP/out" 2> "$TMP/err"
RC=$?
OUT=$(cat "$TMP/out")
expect_rc 0 "explain live"
has "$OUT" "^4 chain +live: 127\.0\.0\.1:$PORT_GOOD, 2 certificates sent$" || bad "explain live: chain line"
has "$OUT" 'equals pin \[0\] \(spki, role ca\) <- matched' || bad "explain live: matched element"
has "$OUT" '^5 verdict +PASS \(none\): host "api\.check\.test"' || bad "explain live: verdict"
timeout -k 5 60 "$PINSET_BIN" explain --policy "$D/policies/explain.json" --cafile "$D/trust.pem" \
    --connect-to "rogue.check.test:443:127.0.0.1:$PORT_ROGUE" -f json rogue.check.test > "$TMP/out" 2> "$TMP/err"
RC=$?
expect_rc 1 "explain live rogue"
[ "$(jq -r '.result + " " + .verdict + " " + .reason + " " + .chain.source + " " + (.chain.error|tostring)' "$TMP/out")" \
  = "FAIL FAIL no-match live null" ] && ok "explain live rogue json" || bad "explain live rogue: $(cat "$TMP/out")"
timeout -k 5 60 "$PINSET_BIN" explain --policy "$D/policies/explain.json" --cafile "$D/trust.pem" \
    --connect-to "api.check.test:443:127.0.0.1:$PORT_DOWN" api.check.test > "$TMP/out" 2> "$TMP/err"
RC=$?
expect_rc 4 "explain live, host down"
has "$(cat "$TMP/out")" '^5 verdict +ERROR: no verdict: refused' || bad "explain down: $(cat "$TMP/out")"

timeout -k 5 60 "$PINSET_BIN" explain --policy "$D/policies/explain.json" --cafile "$D/root.crt.pem" \
    --connect-to "www.check.test:443:127.0.0.1:$PORT_ROGUE" www.check.test > "$TMP/out" 2> "$TMP/err"
RC=$?
OUT=$(cat "$TMP/out")
expect_rc 1 "explain live, chain does not validate, host not pinned"
has "$OUT" '^ +validation FAILED: unable to get local issuer certificate; pins are matched only against a validated chain' \
    || bad "explain live invalid: validation line"
has "$OUT" '^5 verdict +FAIL: NOT_PINNED \(path-invalid\): host "www\.check\.test": no rule' \
    || bad "explain live invalid: verdict line: $OUT"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
