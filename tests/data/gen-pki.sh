#!/usr/bin/env bash
# gen-pki.sh OUTDIR - generate the test PKI at test time (nothing private is checked in).
# Runs every tests/data/pki.d/*.sh in name order as `bash SCRIPT OUTDIR`; each script
# writes its own files under OUTDIR and must be idempotent (skip work already done).
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for s in "$here"/pki.d/*.sh; do
    [ -e "$s" ] || continue
    bash "$s" "$out"
done
