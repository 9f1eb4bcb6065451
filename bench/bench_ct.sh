#!/usr/bin/env bash
# bench_ct.sh BUILD_DIR - the Certificate Transparency benchmark (issue 14): entries processed
# per CPU second against a loopback RFC 6962 log of PINSET_BENCH_CT_ENTRIES (default 1,000,000)
# entries (bench/bench_ct_log.c), in one run:
#   ct-floor      in process: read each entry, DER walk to the SPKI, SHA-256 (bench_ct_floor.c)
#   ct-floor+merkle  the same plus each entry's RFC 6962 leaf hash and the tree's node hashes
#   pinset        pinset ct-watch --once --batch 1000: tree head, entries, Merkle tree, names,
#                 the known-keys check against the policy (example.com and its subdomains)
#   certspotter   certspotter (Debian package) on the same log and watch list (.example.com),
#                 until its state says every entry is verified
# CPU time (user + system, all threads) is the figure: "on one core". Wall time is shown too.
set -u
build=${1:?usage: bench_ct.sh BUILD_DIR}
n=${PINSET_BENCH_CT_ENTRIES:-1000000}
bin=$build/pinset
server=$build/bench/bench_ct_log
floor=$build/bench/bench_ct_floor
for p in "$bin" "$server" "$floor"; do
    [ -x "$p" ] || { echo "note: $p not built; CT benchmark skipped"; exit 0; }
done
[ -x /usr/bin/time ] || { echo "note: no /usr/bin/time; CT benchmark skipped"; exit 0; }
tmp=$(mktemp -d) || exit 1
server_pid= cs_pid=
cleanup() {
    [ -n "$cs_pid" ] && kill "$cs_pid" 2>/dev/null && wait "$cs_pid" 2>/dev/null
    exec 3>&- 2>/dev/null
    [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The log: it serves until its standard input (our fd 3) closes.
mkfifo "$tmp/ctl"
"$server" "$n" "$tmp" < "$tmp/ctl" > "$tmp/server.log" 2>&1 &
server_pid=$!
exec 3> "$tmp/ctl"
for _ in $(seq 1 600); do [ -s "$tmp/url" ] && break; sleep 0.5; done
[ -s "$tmp/url" ] || fail "the log did not start: $(cat "$tmp/server.log")"
url=$(cat "$tmp/url")
# 2 entries in 64 are certificates for pinned names on keys the policy does not know.
want_alerts=$(( (n / 64) * 2 + ( n % 64 > 1 ? 1 : 0 ) + ( n % 64 > 3 ? 1 : 0 ) ))

rate() { awk -v n="$n" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
row() { printf '%-16s %10s s cpu %10s s wall %12s entries/cpu-s\n' "$1" "$2" "$3" "$(rate "$2")"; }
echo "CT benchmark: $n entries, loopback RFC 6962 log $url"

# floor, and the floor with the Merkle hashing that verifying the entries needs
line=$("$floor" "$n") || fail "bench_ct_floor"
floor_cpu=$(awk '{ printf "%.3f", $3 * $4 / 1e9 }' <<<"$line")
row ct-floor "$floor_cpu" -
line=$("$floor" "$n" merkle) || fail "bench_ct_floor merkle"
merkle_cpu=$(awk '{ printf "%.3f", $3 * $4 / 1e9 }' <<<"$line")
row ct-floor+merkle "$merkle_cpu" -

# pinset ct-watch
/usr/bin/time -f "%U %S %e %M" -o "$tmp/pinset.time" "$bin" ct-watch --log "$url" \
    --log-key "$tmp/log.pem" --policy "$tmp/policy.json" --state "$tmp/state" --once \
    --batch 1000 --format json > "$tmp/pinset.out" 2> "$tmp/pinset.err"
rc=$?
[ "$rc" = 1 ] || fail "pinset ct-watch exited $rc, not 1 (alerts): $(tail -3 "$tmp/pinset.err")"
grep -q "\"tree_size\":$n,\"start\":0,\"end\":$n," "$tmp/pinset.out" || fail "pinset did not check every entry"
got=$(grep -c '"alert":"unknown-key"' "$tmp/pinset.out")
[ "$got" = "$want_alerts" ] || fail "pinset alerted $got times, not $want_alerts"
read -r u s w mem < <(tail -1 "$tmp/pinset.time")
pinset_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
row pinset "$pinset_cpu" "$w"
echo "              ($got alerts, max RSS $((mem / 1024)) MiB)"

# certspotter
cs_cpu=
if command -v certspotter > /dev/null; then
    mkdir "$tmp/cs"
    start=$(date +%s.%N)
    certspotter -logs "$tmp/loglist.json" -watchlist "$tmp/watchlist" -state_dir "$tmp/cs" \
        -no_save -stdout -batch_size 1000 > "$tmp/cs.out" 2> "$tmp/cs.err" &
    cs_pid=$!
    done_=
    for _ in $(seq 1 3600); do
        if grep -q "\"verified_position\":{[^}]*\"size\":$n}" "$tmp"/cs/logs/*/state.json 2>/dev/null; then
            done_=1
            break
        fi
        kill -0 "$cs_pid" 2>/dev/null || break
        sleep 0.25
    done
    end=$(date +%s.%N)
    if [ -n "$done_" ] && [ -r "/proc/$cs_pid/stat" ]; then
        tck=$(getconf CLK_TCK)
        cs_cpu=$(awk -v t="$tck" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$cs_pid/stat")
        row certspotter "$cs_cpu" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
        echo "              ($(grep -c 'DNS Name' "$tmp/cs.out") matches printed)"
    else
        echo "note: certspotter did not finish ($(tail -1 "$tmp/cs.err"))"
    fi
    kill "$cs_pid" 2>/dev/null
    wait "$cs_pid" 2>/dev/null
    cs_pid=
else
    echo "note: certspotter is not installed; its row is skipped"
fi

awk -v p="$pinset_cpu" -v f="$floor_cpu" -v m="$merkle_cpu" -v c="${cs_cpu:-0}" 'BEGIN {
    if (c > 0) {
        r = c / p
        printf "pinset vs certspotter: %.1fx the entries per CPU second (target >= 5x): %s\n", r,
               (r >= 5 ? "met" : "MISSED")
    }
    r = p / f
    printf "pinset vs floor: %.1fx the floor CPU time (target <= 2x): %s\n", r,
           (r <= 2 ? "met" : "MISSED")
    printf "pinset vs floor+merkle: %.1fx its CPU time (no target: the hashing a verifying monitor cannot skip)\n", p / m
}'
