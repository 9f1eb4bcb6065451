#!/bin/sh
# run.sh BUILD SECONDS - run every libFuzzer target for SECONDS on a copy of its seed corpus.
set -eu
build=$1
secs=$2
src=$(dirname "$0")
status=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    case "$bin" in *_replay) continue ;; esac
    name=$(basename "$bin")
    corpus=${name#fuzz_}
    work="$build/fuzz-work/$corpus"
    mkdir -p "$work"
    cp -n "$src/corpus/$corpus"/* "$work"/ 2>/dev/null || true
    echo "== $name ($secs s)"
    "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 "$work" || status=1
done
exit $status
