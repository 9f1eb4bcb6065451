#!/usr/bin/env bash
# bench_monitor.sh BUILDDIR [N] - the memory of `pinset monitor` watching N hosts (default
# 100,000; issue 14, "Monitor memory for 100,000 watched hosts under 200 MB"):
#   two rounds (--once 2: the second compares with the first's state, loaded from the database)
#   over N names (hI.check.test, one rule for check.test and its subdomains pinning the check
#   PKI's intermediate) all dialed at one openssl s_server on 127.0.0.1; peak memory (max RSS,
#   /usr/bin/time) and the time of the run. Every host must PASS (checked in the database).
# Exit: 0 done (a missed target is reported as MISSED, not a failure), 1 a wrong result, 2 a
# missing tool.
set -u
build=${1:?usage: bench_monitor.sh BUILDDIR [N]}
n=${2:-100000}
src=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$build/pinset" ] || { echo "bench_monitor.sh: $build/pinset missing" >&2; exit 2; }
for t in openssl sqlite3 /usr/bin/time; do
    command -v $t > /dev/null || { echo "bench_monitor.sh: $t not found" >&2; exit 2; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinset-bench-monitor.XXXXXX")
srv=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2> /dev/null && wait "$srv" 2> /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "bench_monitor.sh: FAILED: $*" >&2; exit 1; }

bash "$src/tests/data/pki.d/40-check.sh" "$tmp" > /dev/null 2>&1 || fail "the test PKI"
D=$tmp/check
# shellcheck disable=SC1091
. "$D/pins.env"
openssl s_server -www -accept 127.0.0.1:0 -cert "$D/leaf.crt.pem" \
    -key "$D/leaf.key.pem" -cert_chain "$D/int.crt.pem" > "$tmp/srv.log" 2>&1 < /dev/null &
srv=$!
port=
for _ in $(seq 200); do
    port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/srv.log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || fail "s_server did not start: $(cat "$tmp/srv.log")"
cat > "$tmp/policy.json" << EOF
{"version": 1, "rules": [{"host": "check.test", "include_subdomains": true,
  "pins": [{"sha256": "$PIN_INT", "role": "ca"}, {"sha256": "$PIN_BACKUP", "role": "backup"}]}]}
EOF
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "h%d.check.test\n", i }' > "$tmp/hosts.txt"
cat > "$tmp/mon.json" << EOF
{"inventory": [{"policy": "policy.json", "targets": ["hosts.txt"]}],
 "interval_seconds": 3600,
 "probe": {"timeout_seconds": 30, "concurrency": 64, "cafile": "$D/trust.pem",
           "connect_to": ["::127.0.0.1:$port"]},
 "db": "state.db"}
EOF
t0=$(date +%s)
/usr/bin/time -f '%M %e' -o "$tmp/time" "$build/pinset" monitor --config "$tmp/mon.json" --once 2 \
    2> "$tmp/err" || fail "pinset monitor: $(tail -3 "$tmp/err")"
read -r kib secs < "$tmp/time"
pass=$(sqlite3 "$tmp/state.db" "SELECT count(*) FROM monitor_hosts WHERE outcome = 'PASS'")
[ "$pass" = "$n" ] || fail "$pass of $n hosts PASS: $(grep -v 'round done' "$tmp/err" | head -3)"
mib=$((kib / 1024))
verdict=met
[ "$mib" -lt 200 ] || verdict=MISSED
printf 'monitor  %d hosts, 2 rounds: max RSS %d MiB (target < 200 MiB: %s), %.0f s (%d handshakes)\n' \
    "$n" "$mib" "$verdict" "$secs" "$((2 * n))"
