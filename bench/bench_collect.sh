#!/usr/bin/env bash
# bench_collect.sh BUILDDIR [N] - how fast `pinset collect` ingests reports into SQLite
# (issue 11, "Speed"), beside its floor, in the same run:
#   - ingest: N distinct RFC 7469 reports (default 10,000; two certificates each, the chain of
#     examples/chain.pem, a different port each) POSTed by 8 concurrent senders (one curl
#     --parallel --parallel-max 8 process: 8 keep-alive connections) to a collector on
#     127.0.0.1 with a policy; each answered 201 only after its row is committed. Checked: N
#     answers 201 and N rows in the database;
#   - http-floor: the same 8 senders, N GET /healthz on the same collector: what HTTP and the
#     sender cost without a report;
#   - floor-insert: bench/collect_floor.c, a plain prepared-INSERT loop, one transaction per
#     row, into the same schema (a file the collector created), WAL, synchronous=NORMAL.
# Target: ingest >= 5,000 reports/s (reported as met or MISSED, not a failure).
# Exit: 0 done, 1 a wrong result, 2 a missing program or tool.
set -u
build=${1:?usage: bench_collect.sh BUILDDIR [N]}
n=${2:-10000}
src=$(cd "$(dirname "$0")/.." && pwd)
for p in "$build/pinset" "$build/bench/collect_floor"; do
    [ -x "$p" ] || { echo "bench_collect.sh: $p missing (configure with -DPINSET_BUILD_BENCH=ON)" >&2; exit 2; }
done
for t in curl jq awk; do
    command -v $t > /dev/null || { echo "bench_collect.sh: $t not found" >&2; exit 2; }
done
"$build/pinset" collect --help > /dev/null 2>&1 || { echo "bench_collect.sh: no pinset collect" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinset-bench-collect.XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "bench_collect.sh: FAILED: $*" >&2; exit 1; }
now_ns() { date +%s%N; }

# start DB: a collector on a free port; sets pid, url
start() {
    "$build/pinset" collect --listen 127.0.0.1:0 --db "$1" --policy "$tmp/policy.json" \
        --rate 1000000 --burst 1000000 > "$tmp/out" 2> "$tmp/err" &
    pid=$!
    url=
    for _ in $(seq 300); do
        url=$(sed -n 's/^listening on //p' "$tmp/out")
        [ -n "$url" ] && return 0
        sleep 0.05
    done
    fail "the collector did not start: $(cat "$tmp/err")"
}
stop() {
    kill "$pid"
    wait "$pid" 2> /dev/null
    pid=
}
# config PATH-FORMAT FIRST LAST: curl -K transfers, POST of $tmp/r/I.json (or GET when no body)
config() {
    awk -v url="$url" -v a="$2" -v b="$3" -v dir="$tmp/r" -v post="$1" 'BEGIN {
        for (i = a; i <= b; i++) {
            if (i > a) print "next"
            if (post == "post") printf "url = \"%s/report\"\ndata-binary = \"@%s/%d.json\"\n", url, dir, i
            else printf "url = \"%s/healthz\"\n", url
            printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\n" } }'
}
# the collector's CPU time so far (user + system), in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
# send CONFIG: 8 senders; prints "WALL-NS CPU-TICKS" (the collector's); the codes in $tmp/codes
send() {
    local t0 t1 c0 c1
    c0=$(ticks)
    t0=$(now_ns)
    curl -sS --parallel --parallel-max 8 --max-time 600 -K "$1" > "$tmp/codes" 2> "$tmp/curl.err"
    t1=$(now_ns)
    c1=$(ticks)
    echo "$((t1 - t0)) $((c1 - c0))"
}

# reports: the chain of examples/chain.pem, one port each (all distinct)
awk '/BEGIN CERT/{k++; c=""} {c=c $0 "\n"} /END CERT/{print c > ("'"$tmp"'/c" k ".pem")}' "$src/examples/chain.pem"
leafpin=$(openssl x509 -in "$tmp/c1.pem" -pubkey -noout 2> /dev/null | openssl pkey -pubin -outform DER 2> /dev/null |
    openssl dgst -sha256 -binary 2> /dev/null | openssl base64 2> /dev/null)
[ -n "$leafpin" ] || leafpin=d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=
printf '{"version": 1, "rules": [{"host": "bench.example", "pins": [{"sha256": "d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=", "role": "ca"}, {"sha256": "%s", "role": "leaf"}]}]}\n' \
    "$leafpin" > "$tmp/policy.json"
jq -nc --rawfile a "$tmp/c1.pem" --rawfile b "$tmp/c2.pem" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{
    "date-time": $date, "hostname": "www.bench.example", "port": 65535, "effective-expiration-date": null,
    "include-subdomains": true, "noted-hostname": "bench.example",
    "served-certificate-chain": [$a, $b], "validated-certificate-chain": [$a, $b],
    "known-pins": ["pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\""]}' > "$tmp/template.json"
mkdir "$tmp/r"
total=$((n + 500))
awk -v n="$total" -v dir="$tmp/r" '{ t = t $0 } END {
    for (i = 1; i <= n; i++) { s = t; sub(/"port":65535/, "\"port\":" (i % 65535 + 1), s);
        if (i > 65534) sub(/"www.bench.example"/, "\"w" int(i / 65535) ".bench.example\"", s);
        f = dir "/" i ".json"; print s > f; close(f) } }' "$tmp/template.json"

echo "pinset collector ingest benchmark: $n distinct reports, 8 concurrent senders (curl --parallel)"
echo "machine: $(uname -srm); $(nproc) cpu(s); sqlite $(sqlite3 --version 2> /dev/null | cut -d' ' -f1)"

# ---- ingest ----
start "$tmp/ingest.sqlite"
config post 1 500 > "$tmp/warm"
send "$tmp/warm" > /dev/null # warm-up: connections, page cache, prepared statements
config post 501 $total > "$tmp/cfg"
read -r ingest_ns ingest_ticks <<< "$(send "$tmp/cfg")"
ok=$(grep -c '^201$' "$tmp/codes")
[ "$ok" = "$n" ] || fail "ingest: $ok of $n reports answered 201 ($(sort "$tmp/codes" | uniq -c | tr '\n' ' '))"
config get 1 "$n" > "$tmp/cfg-get"
read -r http_ns http_ticks <<< "$(send "$tmp/cfg-get")"
[ "$(grep -c '^200$' "$tmp/codes")" = "$n" ] || fail "http-floor: not every /healthz answered 200"
stop
rows=$(sqlite3 "$tmp/ingest.sqlite" 'SELECT count(*) FROM reports' 2> /dev/null || echo "?")
[ "$rows" = "?" ] || [ "$rows" = "$total" ] || fail "ingest: $rows rows, want $total"

# ---- floor: the same schema, created by the collector ----
start "$tmp/floor.sqlite"
stop
floor_out=$("$build/bench/collect_floor" "$tmp/floor.sqlite" "$n") || fail "collect_floor"
floor_ns=$(awk '{ print $3 }' <<< "$floor_out")

echo
hz=$(getconf CLK_TCK)
awk -v n="$n" -v ing="$ingest_ns" -v http="$http_ns" -v fl="$floor_ns" -v hz="$hz" \
    -v ict="$ingest_ticks" -v hct="$http_ticks" 'BEGIN {
    printf "%-14s %12s %12s %10s %16s\n", "row", "us/report", "reports/s", "x floor", "server cpu us"
    printf "%-14s %12s %12s %10s %16s\n", "---", "---------", "---------", "-------", "-------------"
    per = ing / n; printf "%-14s %12.1f %12.0f %10.2f %16.1f\n", "ingest", per / 1000, 1e9 / per, fl / per, ict * 1e6 / hz / n
    per = http / n; printf "%-14s %12.1f %12.0f %10.2f %16.1f\n", "http-floor", per / 1000, 1e9 / per, fl / per, hct * 1e6 / hz / n
    printf "%-14s %12.1f %12.0f %10.2f %16s\n", "floor-insert", fl / 1000, 1e9 / fl, 1, "-"
    print ""
    print "ingest: wall time of all N POSTs from 8 senders, each answered after its commit"
    print "http-floor: the same senders and server, GET /healthz (no report, no database)"
    print "floor-insert: one prepared INSERT and COMMIT per row, same schema, one thread, no HTTP"
    print "server cpu us: the collector process user + system CPU time per request (from /proc),"
    print "  which other load on the machine does not inflate as it does wall time"
    rate = 1e9 / (ing / n)
    printf "target ingest >= 5000 reports/s: %.0f/s %s\n", rate, (rate >= 5000 ? "met" : "MISSED")
}'
