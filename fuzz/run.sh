#!/bin/sh
# run.sh BUILD SECONDS [NAME...] - run libFuzzer targets, one at a time, each for
# SECONDS on a copy of its seed corpus (fuzz/corpus/<name>/), with the
# dictionary fuzz/<name>.dict when there is one. With NAMEs, only those
# targets run. Each run is bounded: -max_total_time, -timeout per input and
# -rss_limit_mb. New inputs stay in BUILD/fuzz-work/<name>/; a crash, leak,
# timeout or OOM leaves its input in BUILD/fuzz-artifacts/<name>/ and makes
# the script exit 1 (after the remaining targets ran).
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD SECONDS [NAME...]" >&2
    exit 2
fi
build=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
case "$secs" in
'' | *[!0-9]* | 0)
    # libFuzzer reads -max_total_time=0 as "forever": refuse it
    echo "run.sh: SECONDS must be a whole number of at least 1, not '$secs'" >&2
    exit 2
    ;;
esac
status=0
ran=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    case "$bin" in *_replay) continue ;; esac
    name=$(basename "$bin")
    corpus=${name#fuzz_}
    if [ $# -gt 0 ]; then
        case " $* " in *" $corpus "*) ;; *) continue ;; esac
    fi
    work="$build/fuzz-work/$corpus"
    art="$build/fuzz-artifacts/$corpus"
    mkdir -p "$work" "$art"
    cp -n "$src/corpus/$corpus"/* "$work"/ 2>/dev/null || true
    dict=
    if [ -f "$src/$corpus.dict" ]; then
        dict="-dict=$src/$corpus.dict"
    fi
    echo "== $name ($secs s)${dict:+ with $corpus.dict}"
    # shellcheck disable=SC2086 # $dict is one word or none
    if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$art/" $dict "$work"; then
        echo "run.sh: $name found a problem; see $art/" >&2
        status=1
    fi
    ran=$((ran + 1))
done
if [ "$ran" -eq 0 ]; then
    echo "run.sh: no fuzz target in $build/fuzz (configure with -DPINSET_BUILD_FUZZERS=ON under clang)" >&2
    exit 1
fi
exit $status
