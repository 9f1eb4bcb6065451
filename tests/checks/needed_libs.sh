#!/usr/bin/env bash
# needed_libs.sh - each shared library needs what it should and nothing more
# (README "Libraries", DESIGN.md "Dependencies"): libpinset.so never NEEDs
# libcurl or libevent (an application that only pins pulls in neither), and
# libpinset-curl.so NEEDs libpinset and libcurl and resolves every pinset_*
# symbol it uses from libpinset's exports (no pinset__* internal);
# libpinset-formats.so NEEDs libpinset, never libcurl or libevent, and uses no
# libpinset internal either.
set -u
lib=${PINSET_LIB_SHARED:?PINSET_LIB_SHARED: the shared libpinset.so}
curl_lib=${PINSET_CURL_LIB_SHARED:?PINSET_CURL_LIB_SHARED: the shared libpinset-curl.so}
formats_lib=${PINSET_FORMATS_LIB_SHARED:?PINSET_FORMATS_LIB_SHARED: the shared libpinset-formats.so}
command -v readelf > /dev/null || { echo "skip: readelf not found"; exit 77; }

# needed FILE: the DT_NEEDED entries, one per line.
needed() {
    readelf -d "$1" | sed -n 's/.*(NEEDED)[^[]*\[\(.*\)\]$/\1/p'
}

# check_core FILE: fails, naming them, when FILE needs libcurl or libevent.
check_core() {
    local bad
    bad=$(needed "$1" | grep -E '^lib(curl|event)[a-z0-9_-]*\.so' || true)
    if [ -n "$bad" ]; then
        echo "FAIL: $(basename "$1") needs a library that only libpinset-curl or the tool may need:"
        echo "$bad"
        return 1
    fi
}

# links_libpinset_only_public FILE: fails unless FILE needs libpinset and resolves every pinset_*
# symbol it uses from libpinset's exports (no pinset__* internal, which libpinset.so hides).
links_libpinset_only_public() {
    local bad=0 internal
    grep -qE '^libpinset\.so' <<<"$(needed "$1")" || { echo "FAIL: $(basename "$1") does not need libpinset"; bad=1; }
    internal=$(nm -D --undefined-only "$1" 2>/dev/null | awk '{ print $NF }' | grep '^pinset__' || true)
    if [ -n "$internal" ]; then
        echo "FAIL: $(basename "$1") uses libpinset internals, which libpinset.so does not export:"
        echo "$internal"
        bad=1
    fi
    return $bad
}

# check_curl FILE: fails unless FILE needs libpinset and libcurl and uses no pinset__* symbol.
check_curl() {
    local bad=0
    links_libpinset_only_public "$1" || bad=1
    grep -qE '^libcurl(-[a-z]+)?\.so' <<<"$(needed "$1")" || { echo "FAIL: $(basename "$1") does not need libcurl"; bad=1; }
    return $bad
}

# check_formats FILE: fails unless FILE needs libpinset, not libcurl or libevent, and no internal.
check_formats() {
    local bad=0
    links_libpinset_only_public "$1" || bad=1
    check_core "$1" || bad=1
    return $bad
}

# Self-test: planted libraries that the checks must refuse, and one they must accept.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
printf 'int pinset__hidden(void);\nint f(void);\nint f(void) { return pinset__hidden(); }\n' > "$tmp/t.c"
printf 'int g(void);\nint g(void) { return 0; }\n' > "$tmp/g.c"
if "$cc" -shared -fPIC -o "$tmp/libcurl.so.4" "$tmp/g.c" 2> /dev/null &&
    "$cc" -shared -fPIC -o "$tmp/libpinset.so.0" "$tmp/g.c" 2> /dev/null; then
    ln -s libcurl.so.4 "$tmp/libcurl.so"
    ln -s libpinset.so.0 "$tmp/libpinset.so"
    "$cc" -shared -fPIC -o "$tmp/bad_core.so" "$tmp/g.c" -L"$tmp" -Wl,--no-as-needed -lcurl ||
        { echo "self-test: cannot link a planted library"; exit 1; }
    "$cc" -shared -fPIC -o "$tmp/bad_curl.so" "$tmp/t.c" -L"$tmp" -Wl,--no-as-needed -lpinset ||
        { echo "self-test: cannot link a planted library"; exit 1; }
    "$cc" -shared -fPIC -o "$tmp/good_curl.so" "$tmp/g.c" -L"$tmp" -Wl,--no-as-needed -lpinset -lcurl ||
        { echo "self-test: cannot link a planted library"; exit 1; }
    "$cc" -shared -fPIC -o "$tmp/good_formats.so" "$tmp/g.c" -L"$tmp" -Wl,--no-as-needed -lpinset ||
        { echo "self-test: cannot link a planted library"; exit 1; }
    check_core "$tmp/bad_core.so" > /dev/null && { echo "self-test: a library needing libcurl passed"; exit 1; }
    check_core "$tmp/good_curl.so" > /dev/null && { echo "self-test: a library needing libcurl passed"; exit 1; }
    check_core "$tmp/libpinset.so.0" > /dev/null || { echo "self-test: a clean library failed"; exit 1; }
    check_curl "$tmp/bad_curl.so" > "$tmp/out" && { echo "self-test: no libcurl, internals used, passed"; exit 1; }
    grep -q 'pinset__hidden' "$tmp/out" || { echo "self-test: the internal symbol was not named"; exit 1; }
    check_curl "$tmp/good_curl.so" > /dev/null || { echo "self-test: a good libpinset-curl failed"; exit 1; }
    check_formats "$tmp/bad_curl.so" > /dev/null && { echo "self-test: formats using internals passed"; exit 1; }
    check_formats "$tmp/good_curl.so" > /dev/null && { echo "self-test: formats needing libcurl passed"; exit 1; }
    check_formats "$tmp/good_formats.so" > /dev/null || { echo "self-test: a good libpinset-formats failed"; exit 1; }
    check_formats "$tmp/bad_core.so" > /dev/null && { echo "self-test: formats without libpinset passed"; exit 1; }
fi

[ -f "$lib" ] || { echo "FAIL: $lib not found"; exit 1; }
[ -f "$curl_lib" ] || { echo "FAIL: $curl_lib not found"; exit 1; }
[ -f "$formats_lib" ] || { echo "FAIL: $formats_lib not found"; exit 1; }
fail=0
check_core "$lib" || fail=1
check_curl "$curl_lib" || fail=1
check_formats "$formats_lib" || fail=1
[ $fail -eq 0 ] || exit 1
echo "ok: $(basename "$lib") needs $(needed "$lib" | tr '\n' ' ')"
echo "ok: $(basename "$curl_lib") needs $(needed "$curl_lib" | tr '\n' ' ')"
echo "ok: $(basename "$formats_lib") needs $(needed "$formats_lib" | tr '\n' ' ')"
