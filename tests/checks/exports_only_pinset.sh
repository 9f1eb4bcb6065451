#!/usr/bin/env bash
# exports_only_pinset.sh - the shared libraries export only the public API
# (STYLE.md sections 1 and 9): every defined dynamic symbol of libpinset.so and
# libpinset-curl.so and libpinset-formats.so is pinset_*, and none is an internal pinset__* one. The
# linker's own markers (_init, _fini, _edata, _end, __bss_start) are not
# symbols of ours and are ignored. And every PINSET_API function of the
# public headers (docs/symbols.txt lists them) is exported by one of them.
set -u
lib=${PINSET_LIB_SHARED:?PINSET_LIB_SHARED: the shared libpinset.so}
curl_lib=${PINSET_CURL_LIB_SHARED:?PINSET_CURL_LIB_SHARED: the shared libpinset-curl.so}
formats_lib=${PINSET_FORMATS_LIB_SHARED:?PINSET_FORMATS_LIB_SHARED: the shared libpinset-formats.so}

# check LIB SYMBOL: LIB exports SYMBOL and nothing outside pinset_*.
check() {
    local lib=$1 want=$2 syms bad
    [ -f "$lib" ] || { echo "FAIL: $lib not found"; return 1; }
    syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u)
    [ -n "$syms" ] || { echo "FAIL: nm -D shows no defined symbol in $lib"; return 1; }
    grep -qx "$want" <<<"$syms" || { echo "FAIL: $want is not exported by $(basename "$lib")"; return 1; }
    bad=$(grep -vE '^pinset_[a-z0-9]' <<<"$syms" | grep -vxE '_init|_fini|_edata|_end|__bss_start' || true)
    if [ -n "$bad" ]; then
        echo "FAIL: $(basename "$lib") exports symbols outside the public API:"
        echo "$bad"
        echo "(internal functions are pinset__* and the build uses -fvisibility=hidden;"
        echo " only declarations marked PINSET_API may be exported)"
        return 1
    fi
    echo "ok: $(basename "$lib"): $(wc -l <<<"$syms") exported symbols, all pinset_*"
}

fail=0
check "$lib" pinset_version || fail=1
check "$curl_lib" pinset_curl_new || fail=1
check "$formats_lib" pinset_formats_import || fail=1

# Every PINSET_API function the public headers declare is exported by one of
# the three libraries: a declaration nothing defines (or defines without
# PINSET_API, hidden by -fvisibility=hidden) would link in no application.
src=${PINSET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
api=$(perl -0777 -ne '
    s{/\*.*?\*/}{ }gs; s{//[^\n]*}{ }g;
    s{^[ \t]*#[^\n]*(\\\n[^\n]*)*}{ }mg;
    while (/\bPINSET_API\b([^;{]*?)\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g) { print "$2\n" }
' "$src"/include/pinset/*.h | sort -u)
exported=$(for l in "$lib" "$curl_lib" "$formats_lib"; do
    nm -D --defined-only "$l" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//'
done | sort -u)
[ -n "$api" ] || { echo "FAIL: no PINSET_API function found in $src/include/pinset"; exit 1; }
missing=$(comm -23 <(echo "$api") <(echo "$exported"))
if [ -n "$missing" ]; then
    echo "FAIL: PINSET_API functions declared in include/pinset but exported by no library:"
    echo "$missing"
    fail=1
else
    echo "ok: the $(wc -l <<<"$api") PINSET_API functions of include/pinset are all exported"
fi
exit $fail
