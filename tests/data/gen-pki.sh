#!/usr/bin/env bash
# gen-pki.sh OUTDIR - generate the test PKI at test time (never checked in).
# Filled in by the loader work; every tier depends on this fixture.
set -eu
out=$1
mkdir -p "$out"
