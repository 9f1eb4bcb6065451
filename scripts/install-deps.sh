#!/bin/sh
# install-deps.sh - install the Debian packages pinset needs to build and test.
# As root: installs what is missing. Otherwise: prints the apt-get line and fails.
set -eu
PKGS="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev g++
libssl-dev openssl libjansson-dev libexpat1-dev libplist-dev libplist-utils libyaml-dev libcurl4-openssl-dev libevent-dev
libidn2-dev libpsl-dev libsqlite3-dev libpq-dev postgresql libmicrohttpd-dev libsimdjson-dev libcmocka-dev scdoc sqlite3 chromium
clang-format-16 hyperfine curl valgrind jq iproute2 prometheus python3 python3-yaml man-db groff-base
zsh fish
certspotter"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "pinset: missing packages; run as root:" >&2
    echo "  apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
