#!/bin/sh
# run-default.sh PINSET - pinset's main job on the embedded offline default.
set -eu
bin=$1
here=$(dirname "$0")/..
if "$bin" demo --help >/dev/null 2>&1; then
    exec "$bin" demo
fi
exec "$bin" hash "$here/examples/chain.pem"
