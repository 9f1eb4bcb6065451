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
me=bench_collect.sh
# shellcheck source=bench/collect_common.sh
. "$src/bench/collect_common.sh"
make_reports

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
