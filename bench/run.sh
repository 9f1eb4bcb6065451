#!/bin/sh
# run.sh BUILDDIR - the pin benchmark (see bench/README.md).
#
# Generates a bundle of $PINSET_BENCH_CERTS certificates (default 10000) in a
# temporary directory, then measures in the same run:
#   - the openssl CLI pipeline, once per certificate, on the first
#     $PINSET_BENCH_SAMPLE certificates (default 200), extrapolated per cert;
#   - the floor (bench/floor_hash.c: d2i_X509 + i2d_X509_PUBKEY + SHA-256);
#   - pinset's library rows (bench/bench_hash.c);
#   - `pinset hash --format hpkp` over the whole bundle, if the command exists.
# Then the other benchmarks, each skipped with a note when its program or tool is
# missing: bench_handshake (callgrind), bench_lookup (policy of
# $PINSET_BENCH_RULES rules, default 1000000: issue 3) and bench_probe.sh
# ($PINSET_BENCH_HOSTS loopback TLS endpoints, default 500, pipeline/curl sample
# $PINSET_BENCH_PROBE_SAMPLE, default 50: issue 4). A wrong result in any of them
# fails run.sh; a missed target is reported, not a failure.
# Library rows are the median of $PINSET_BENCH_REPS runs (default 7), the CLI
# and pipeline rows the median of 3. Every row must compute the same pins
# (checksums and the pipeline's base64 are compared); a mismatch fails.
set -eu

build=${1:?usage: run.sh BUILDDIR}
certs=${PINSET_BENCH_CERTS:-10000}
sample=${PINSET_BENCH_SAMPLE:-200}
reps=${PINSET_BENCH_REPS:-7}
openssl=${OPENSSL:-openssl}

for prog in gen_bundle floor_hash bench_hash; do
    if [ ! -x "$build/bench/$prog" ]; then
        echo "run.sh: $build/bench/$prog is missing (configure with -DPINSET_BUILD_BENCH=ON)" >&2
        exit 2
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinset-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

median3() { printf '%s\n%s\n%s\n' "$1" "$2" "$3" | sort -n | sed -n 2p; }

echo "pinset pin benchmark: $certs certificates, pipeline sample $sample, $reps repetitions"
echo "machine: $(uname -srm); $(nproc) cpu(s); $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
echo "openssl: $($openssl version)"
echo

t0=$(now_ns)
"$build/bench/gen_bundle" "$certs" "$tmp" "$sample"
t1=$(now_ns)
echo "generated $tmp/bundle.pem ($(wc -c <"$tmp/bundle.pem") bytes) in $(( (t1 - t0) / 1000000 )) ms"

# ---- library rows ----
"$build/bench/floor_hash" "$tmp/bundle.pem" "$reps" "$tmp/floor.pins" "$sample" >"$tmp/results"
"$build/bench/bench_hash" "$tmp/bundle.pem" "$reps" >>"$tmp/results"

# ---- the openssl pipeline, once per certificate, on a sample ----
pipeline_once() {
    : >"$tmp/pipeline.pins"
    for f in "$tmp"/sample/*.pem; do
        "$openssl" x509 -in "$f" -pubkey -noout | "$openssl" pkey -pubin -outform DER |
            "$openssl" dgst -sha256 -binary | "$openssl" base64 >>"$tmp/pipeline.pins"
    done
}
nsample=$(find "$tmp/sample" -name "*.pem" | wc -l)
runs=""
for _ in 1 2 3; do
    t0=$(now_ns)
    pipeline_once
    t1=$(now_ns)
    runs="$runs $((t1 - t0))"
done
# shellcheck disable=SC2086
pipe_ns=$(median3 $runs)
echo "RESULT pipeline $(awk -v t="$pipe_ns" -v n="$nsample" 'BEGIN { printf "%.1f", t / n }') - $nsample -" >>"$tmp/results"
if ! cmp -s "$tmp/pipeline.pins" "$tmp/floor.pins"; then
    echo "run.sh: the openssl pipeline's pins differ from the floor's" >&2
    exit 1
fi

# ---- the CLI, if `pinset hash` exists ----
if [ -x "$build/pinset" ] && "$build/pinset" hash --help >/dev/null 2>&1; then
    runs=""
    cli_ok=1
    for _ in 1 2 3; do
        t0=$(now_ns)
        if ! "$build/pinset" hash --format hpkp "$tmp/bundle.pem" >"$tmp/cli.out" 2>"$tmp/cli.err"; then
            cli_ok=0
            break
        fi
        t1=$(now_ns)
        runs="$runs $((t1 - t0))"
    done
    if [ "$cli_ok" = 1 ]; then
        # shellcheck disable=SC2086
        cli_ns=$(median3 $runs)
        echo "RESULT cli-hash-hpkp $(awk -v t="$cli_ns" -v n="$certs" 'BEGIN { printf "%.1f", t / n }') - $certs -" >>"$tmp/results"
        first=$(head -n 1 "$tmp/floor.pins")
        if ! grep -q -F "$first" "$tmp/cli.out"; then
            echo "run.sh: pinset hash output does not contain the first certificate's pin" >&2
            exit 1
        fi
    else
        echo "note: pinset hash --format hpkp failed ($(head -n 1 "$tmp/cli.err")); row skipped"
    fi
else
    echo "note: $build/pinset hash is not available; the cli row is skipped"
fi

# ---- all library rows computed the same pins ----
if [ "$(awk '$6 != "-" { print $6 }' "$tmp/results" | sort -u | wc -l)" -ne 1 ]; then
    echo "run.sh: rows computed different pins:" >&2
    cat "$tmp/results" >&2
    exit 1
fi

# ---- the table ----
echo
awk -v pipe="$(awk '$2 == "pipeline" { print $3 }' "$tmp/results")" \
    -v floor="$(awk '$2 == "floor" { print $3 }' "$tmp/results")" \
    -v floorcpu="$(awk '$2 == "floor" { print $4 }' "$tmp/results")" '
BEGIN {
    printf "%-24s %10s %10s %10s %12s %9s %9s\n", "row", "us/cert", "cpu us", "certs/s", "x pipeline", "x floor", "cpu x fl"
    printf "%-24s %10s %10s %10s %12s %9s %9s\n", "---", "-------", "------", "-------", "----------", "-------", "--------"
}
{
    ns = $3
    cpu = $4 == "-" ? "-" : sprintf("%.2f", $4 / 1000)
    cx = $4 == "-" ? "-" : sprintf("%.2f", floorcpu / $4)
    printf "%-24s %10.2f %10s %10.0f %12.1f %9.2f %9s\n", $2, ns / 1000, cpu, 1e9 / ns, pipe / ns, floor / ns, cx
    t[$2] = ns
    c[$2] = $4
}
END {
    print ""
    print "us/cert: median wall time (CLOCK_MONOTONIC); cpu us: median process CPU time (library rows)"
    print "pipeline: measured on the sample, once per certificate (4 processes each), extrapolated per certificate"
    print "x pipeline = throughput relative to the pipeline; x floor = floor time / row time (>1 is faster)"
    row = "bundle-pins-only"
    if (row in t) {
        printf "target %s >= 200x pipeline: %.1fx %s\n", row, pipe / t[row], (pipe / t[row] >= 200 ? "met" : "MISSED")
        printf "target %s >= 3x faster than floor: %.2fx wall %s, %.2fx cpu %s\n", row, floor / t[row], (floor / t[row] >= 3 ? "met" : "MISSED"), floorcpu / c[row], (floorcpu / c[row] >= 3 ? "met" : "MISSED")
    }
}' "$tmp/results"
# the verdict path in a TLS 1.3 handshake (bench/bench_handshake.c, owned by verdict): callgrind Ir, pinned vs unpinned
if [ -x "$build/bench/bench_handshake" ]; then echo; "$build/bench/bench_handshake" 20 || echo "note: bench_handshake needs valgrind; try $build/bench/bench_handshake --time"; fi

# policy lookup at scale (bench/bench_lookup.c, issue 3)
echo
if [ -x "$build/bench/bench_lookup" ]; then
    "$build/bench/bench_lookup" "${PINSET_BENCH_RULES:-1000000}" || { echo "run.sh: bench_lookup failed" >&2; exit 1; }
else
    echo "note: $build/bench/bench_lookup is missing; the lookup rows are skipped"
fi

# Android Network Security Config import beside the expat floor (bench/bench_android.c, issue 10)
echo
if [ -x "$build/bench/bench_android" ]; then
    "$build/bench/bench_android" "${PINSET_BENCH_ANDROID_DOMAINS:-100000}" || { echo "run.sh: bench_android failed" >&2; exit 1; }
else
    echo "note: $build/bench/bench_android is missing; the Android import rows are skipped"
fi

# live probing of loopback TLS endpoints (bench/bench_probe.sh, issue 4)
echo
if ! command -v bash >/dev/null 2>&1; then
    echo "note: bash not found; the probe benchmark is skipped"
else
    rc=0
    PINSET_BENCH_SAMPLE=${PINSET_BENCH_PROBE_SAMPLE:-50} \
        bash "$(dirname "$0")/bench_probe.sh" "$build" "${PINSET_BENCH_HOSTS:-500}" || rc=$?
    case $rc in
    0) ;;
    2) echo "note: the probe benchmark is skipped (a program or tool it needs is missing, see above)" ;;
    *) echo "run.sh: the probe benchmark failed (exit $rc)" >&2; exit 1 ;;
    esac
fi

# the report collector's ingest into SQLite (bench/bench_collect.sh, issue 11)
echo
rc=0
bash "$(dirname "$0")/bench_collect.sh" "$build" "${PINSET_BENCH_REPORTS:-10000}" || rc=$?
case $rc in
0) ;;
2) echo "note: the collector benchmark is skipped (a program or tool it needs is missing, see above)" ;;
*) echo "run.sh: the collector benchmark failed (exit $rc)" >&2; exit 1 ;;
esac

# the report collector's ingest into PostgreSQL (bench/bench_collect_pg.sh, issue 11)
echo
rc=0
bash "$(dirname "$0")/bench_collect_pg.sh" "$build" "${PINSET_BENCH_REPORTS:-10000}" || rc=$?
case $rc in
0) ;;
2) echo "note: the PostgreSQL collector benchmark is skipped (a program, tool or the server is missing, see above)" ;;
*) echo "run.sh: the PostgreSQL collector benchmark failed (exit $rc)" >&2; exit 1 ;;
esac

# Certificate Transparency: a loopback RFC 6962 log of 1,000,000 entries (bench/bench_ct.sh, issue 14)
echo
if command -v bash >/dev/null 2>&1; then
    bash "$(dirname "$0")/bench_ct.sh" "$build" || { echo "run.sh: the CT benchmark failed" >&2; exit 1; }
fi
