#!/usr/bin/env bash
# bench_collect_pg.sh BUILDDIR [N] - how fast `pinset collect` ingests reports into PostgreSQL
# (issue 11, "Speed": "the same for PostgreSQL"), beside its floor, in the same run; the SQLite
# figures are bench_collect.sh's, which this script follows:
#   - the server: a PostgreSQL that this script starts with tests/testlib/pg.sh (initdb in a
#     temporary directory, 127.0.0.1 and a free port, as an unprivileged user under root) with
#     the server's default settings: fsync and synchronous_commit on, so each commit waits for its
#     WAL flush (a stricter promise than SQLite's synchronous=NORMAL); stopped at the end;
#   - ingest: N distinct RFC 7469 reports (default 10,000; the reports of bench_collect.sh) POSTed
#     by 8 concurrent senders (one curl --parallel --parallel-max 8) to a collector on 127.0.0.1
#     with --db postgres://... (its writer commits what queued as one batch, one transaction);
#     each answered 201 only after its row is committed. Checked: N answers 201 and N rows;
#   - ingest-2: the same with two collectors on the one database, 4 senders each (what a second
#     collector behind a load balancer adds; each collector has one session);
#   - floor-insert-pg: bench/collect_floor_pg.c, a plain loop of one prepared INSERT per row
#     (autocommit) through libpq on one connection, into the same schema (a database the collector
#     migrated);
#   - ingest-async and floor-async: ingest and the floor again with synchronous_commit=off for
#     their sessions (`?options=-c synchronous_commit=off` in the URL): commits do not wait for
#     the WAL flush, as SQLite's synchronous=NORMAL does not wait for an fsync.
# Target: ingest >= 5,000 reports/s (reported as met or MISSED, not a failure).
# Exit: 0 done, 1 a wrong result, 2 a missing program or tool (the PostgreSQL server included).
set -u
build=${1:?usage: bench_collect_pg.sh BUILDDIR [N]}
n=${2:-10000}
src=$(cd "$(dirname "$0")/.." && pwd)
for p in "$build/pinset" "$build/bench/collect_floor_pg"; do
    [ -x "$p" ] || { echo "bench_collect_pg.sh: $p missing (configure with -DPINSET_BUILD_BENCH=ON)" >&2; exit 2; }
done
for t in curl jq awk openssl; do
    command -v $t > /dev/null || { echo "bench_collect_pg.sh: $t not found" >&2; exit 2; }
done
# shellcheck disable=SC1091
. "$src/tests/testlib/pg.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinset-bench-collect-pg.XXXXXX")
pid=
pid2=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
    [ -n "$pid2" ] && kill "$pid2" 2> /dev/null && wait "$pid2" 2> /dev/null
    pg_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
me=bench_collect_pg.sh
# shellcheck source=bench/collect_common.sh
. "$src/bench/collect_common.sh"

pg_start
rc=$?
[ $rc = 77 ] && { echo "bench_collect_pg.sh: skipped: $PG_SKIP" >&2; exit 2; }
[ $rc = 0 ] || fail "the PostgreSQL server did not start"
# db NAME: the URL of a new database NAME on the server
db() {
    pg_psql -d postgres -c "CREATE DATABASE $1" > /dev/null || fail "CREATE DATABASE $1"
    echo "${PG_URL%/*}/$1"
}
rows() { pg_psql -d "$1" -c 'SELECT count(*) FROM reports'; }

make_reports

echo "pinset collector ingest benchmark, PostgreSQL: $n distinct reports, 8 concurrent senders (curl --parallel)"
echo "machine: $(uname -srm); $(nproc) cpu(s); $("$PG_BIN/postgres" --version); fsync $(pg_psql -c 'SHOW fsync'), synchronous_commit $(pg_psql -c 'SHOW synchronous_commit')"

# ---- ingest: one collector ----
u1=$(db ingest)
start "$u1"
config post 1 500 > "$tmp/warm"
send "$tmp/warm" > /dev/null # warm-up: connections, caches, prepared statements
config post 501 $total > "$tmp/cfg"
read -r ingest_ns _ <<< "$(send "$tmp/cfg")"
ok=$(grep -c '^201$' "$tmp/codes")
[ "$ok" = "$n" ] || fail "ingest: $ok of $n reports answered 201 ($(sort "$tmp/codes" | uniq -c | tr '\n' ' '))"
stop
r=$(rows ingest)
[ "$r" = "$total" ] || fail "ingest: $r rows, want $total"

# ---- ingest-2: two collectors on one database, 4 senders each ----
u2=$(db ingest2)
start "$u2"
url1=$url
pid2=$pid
pid=
start "$u2"
url2=$url
url=$url1
config post 1 250 > "$tmp/warm1"
url=$url2
config post 251 500 > "$tmp/warm2"
curl -sS --parallel --parallel-max 4 --max-time 600 -K "$tmp/warm1" > /dev/null 2>&1 &
w=$!
curl -sS --parallel --parallel-max 4 --max-time 600 -K "$tmp/warm2" > /dev/null 2>&1
wait $w
half=$((500 + n / 2))
url=$url1
config post 501 $half > "$tmp/cfg1"
url=$url2
config post $((half + 1)) $total > "$tmp/cfg2"
t0=$(now_ns)
curl -sS --parallel --parallel-max 4 --max-time 600 -K "$tmp/cfg1" > "$tmp/codes1" 2> "$tmp/curl1.err" &
w=$!
curl -sS --parallel --parallel-max 4 --max-time 600 -K "$tmp/cfg2" > "$tmp/codes2" 2> "$tmp/curl2.err"
wait $w
t1=$(now_ns)
two_ns=$((t1 - t0))
ok=$(cat "$tmp/codes1" "$tmp/codes2" | grep -c '^201$')
[ "$ok" = "$n" ] || fail "ingest-2: $ok of $n reports answered 201"
stop
kill "$pid2" 2> /dev/null
wait "$pid2" 2> /dev/null
pid2=
r=$(rows ingest2)
[ "$r" = "$total" ] || fail "ingest-2: $r rows, want $total"

# ---- ingest-async: one collector, synchronous_commit off for its sessions (set in the URL) ----
u4="$(db async)?options=-c%20synchronous_commit%3Doff"
start "$u4"
config post 1 500 > "$tmp/warm"
send "$tmp/warm" > /dev/null
config post 501 $total > "$tmp/cfg"
read -r async_ns _ <<< "$(send "$tmp/cfg")"
ok=$(grep -c '^201$' "$tmp/codes")
[ "$ok" = "$n" ] || fail "ingest-async: $ok of $n reports answered 201"
stop
r=$(rows async)
[ "$r" = "$total" ] || fail "ingest-async: $r rows, want $total"

# ---- floor: the same schema, migrated by the collector ----
u3=$(db floor)
start "$u3"
stop
floor_out=$("$build/bench/collect_floor_pg" "$u3" "$n") || fail "collect_floor_pg"
floor_ns=$(awk '{ print $3 }' <<< "$floor_out")
r=$(rows floor)
[ "$r" = "$n" ] || fail "floor: $r rows, want $n"
u5="$(db floorasync)?options=-c%20synchronous_commit%3Doff"
start "$u5"
stop
floor_out=$("$build/bench/collect_floor_pg" "$u5" "$n") || fail "collect_floor_pg (async)"
floora_ns=$(awk '{ print $3 }' <<< "$floor_out")

echo
awk -v n="$n" -v ing="$ingest_ns" -v two="$two_ns" -v fl="$floor_ns" -v as="$async_ns" -v fla="$floora_ns" 'BEGIN {
    printf "%-16s %12s %12s %10s\n", "row", "us/report", "reports/s", "x floor"
    printf "%-16s %12s %12s %10s\n", "---", "---------", "---------", "-------"
    per = ing / n; printf "%-16s %12.1f %12.0f %10.2f\n", "ingest", per / 1000, 1e9 / per, fl / per
    per = two / n; printf "%-16s %12.1f %12.0f %10.2f\n", "ingest-2", per / 1000, 1e9 / per, fl / per
    printf "%-16s %12.1f %12.0f %10.2f\n", "floor-insert-pg", fl / 1000, 1e9 / fl, 1
    per = as / n; printf "%-16s %12.1f %12.0f %10.2f\n", "ingest-async", per / 1000, 1e9 / per, fla / per
    printf "%-16s %12.1f %12.0f %10.2f\n", "floor-async", fla / 1000, 1e9 / fla, 1
    print ""
    print "ingest: wall time of all N POSTs from 8 senders to one collector, each answered after its commit"
    print "ingest-2: the same N POSTs split over two collectors on the one database, 4 senders each"
    print "floor-insert-pg: one prepared INSERT (autocommit) per row, same schema, one connection, no HTTP"
    print "ingest-async, floor-async: the same with synchronous_commit=off in the URL (a commit does not"
    print "  wait for its WAL flush: a crash of the server, not of the collector, may lose the last ones)"
    rate = 1e9 / (ing / n)
    printf "target ingest >= 5000 reports/s: %.0f/s %s\n", rate, (rate >= 5000 ? "met" : "MISSED")
}'
