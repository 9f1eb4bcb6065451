#!/usr/bin/env bash
# install.sh - `make install` gives a consumer what it needs: the libraries
# libpinset, libpinset-curl and libpinset-formats (shared and static), every
# public header, pinset.pc, pinset-curl.pc and pinset-formats.pc, the CMake package, the tool, the man pages and
# the bash, zsh and fish completion scripts;
# a program builds against the installed copy through pkg-config and through
# find_package(pinset), and one that uses only pinset does not need libcurl
# (or libevent), while one that uses pinset-curl (pkg-config, or
# find_package(pinset COMPONENTS curl) and pinset::curl) builds and runs, and
# so does one that uses pinset-formats.
set -u
build=${PINSET_BUILD_DIR:?}
src=${PINSET_SOURCE_DIR:?}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# run_consumer PROG WANT WHAT: run a built consumer against the staged libraries; its output is WANT.
run_consumer() {
    local out
    out=$(LD_LIBRARY_PATH="$libdir" ASAN_OPTIONS=detect_leaks=0 "$1") || fail "$3 failed: $out"
    [ "$out" = "$2" ] || fail "unexpected output from $3: $out"
}

# pc_consumer SRC PC WANT: SRC builds with pkg-config's flags for PC and prints WANT.
pc_consumer() {
    local flags
    flags=$(PKG_CONFIG_PATH="$tmp" pkg-config --cflags --libs "$2") || fail "pkg-config cannot read $2.pc"
    # shellcheck disable=SC2086
    cc -std=c99 -pedantic -Wall -Werror $san "$tmp/$1.c" -o "$tmp/$1" $flags > "$tmp/cc.log" 2>&1 ||
        { cat "$tmp/cc.log"; fail "a program does not build with pkg-config's $2 flags"; }
    run_consumer "$tmp/$1" "$3" "the $2 program"
}

# cmake_consumer SRC COMPONENT TARGET WANT [PRELUDE]: SRC builds with find_package(pinset
# COMPONENTS COMPONENT) and TARGET (PRELUDE: CMake lines before it) and prints WANT.
cmake_consumer() {
    local dir="$tmp/cm_$2"
    mkdir -p "$dir"
    cp "$tmp/$1.c" "$dir/$1.c"
    cat > "$dir/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project($1 C)
${5:-}
find_package(pinset 0.1 REQUIRED COMPONENTS $2)
add_executable($1 $1.c)
target_link_libraries($1 PRIVATE $3)
CM
    cmake -S "$dir" -B "$dir/b" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_C_FLAGS="$san" \
        -DCMAKE_EXE_LINKER_FLAGS="$san" > "$dir.log" 2>&1 ||
        { cat "$dir.log"; fail "find_package(pinset COMPONENTS $2) failed"; }
    cmake --build "$dir/b" > "$dir.log" 2>&1 || { cat "$dir.log"; fail "a $3 program does not build"; }
    run_consumer "$dir/b/$1" "$4" "the $3 program"
}

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ -n "$prefix" ] || fail "no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"
DESTDIR="$tmp/root" cmake --install "$build" > "$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "cmake --install failed"; }
root="$tmp/root$prefix"
libdir=$(find "$root" -name 'libpinset.so.0' -printf '%h\n' | head -n 1)
[ -n "$libdir" ] || fail "libpinset.so.0 not installed"
for f in "$libdir/libpinset.a" "$libdir/libpinset.so" "$libdir/pkgconfig/pinset.pc" \
         "$libdir/libpinset-curl.a" "$libdir/libpinset-curl.so" "$libdir/libpinset-curl.so.0" \
         "$libdir/pkgconfig/pinset-curl.pc" "$libdir/cmake/pinset/pinsetCurlTargets.cmake" \
         "$libdir/libpinset-formats.a" "$libdir/libpinset-formats.so" "$libdir/libpinset-formats.so.0" \
         "$libdir/pkgconfig/pinset-formats.pc" "$libdir/cmake/pinset/pinsetFormatsTargets.cmake" \
         "$libdir/cmake/pinset/pinsetConfig.cmake" "$libdir/cmake/pinset/pinsetConfigVersion.cmake" \
         "$libdir/cmake/pinset/pinsetTargets.cmake" "$root/bin/pinset"; do
    [ -e "$f" ] || fail "$f not installed"
done
for h in "$src"/include/pinset/*.h; do
    [ -f "$root/include/pinset/$(basename "$h")" ] || fail "header $(basename "$h") not installed"
done
if command -v scdoc > /dev/null; then
    for m in "$src"/docs/man/*.scd; do
        page=$(basename "$m" .scd)
        [ -f "$root/share/man/man1/$page" ] || fail "man page $page not installed"
    done
fi

# shell completion, where each shell looks for it
for f in share/bash-completion/completions/pinset share/zsh/site-functions/_pinset \
         share/fish/vendor_completions.d/pinset.fish; do
    [ -s "$root/$f" ] || fail "completion script $f not installed"
done
grep -q '^complete -F _pinset pinset$' "$root/share/bash-completion/completions/pinset" ||
    fail "the installed bash completion does not register _pinset"
head -n 1 "$root/share/zsh/site-functions/_pinset" | grep -qx '#compdef pinset' ||
    fail "the installed zsh completion does not start with #compdef pinset"
grep -q '^complete -c pinset ' "$root/share/fish/vendor_completions.d/pinset.fish" ||
    fail "the installed fish completion has no 'complete -c pinset'"

# pkg-config: the .pc names the install prefix (not DESTDIR), so point it at the staged tree.
sed "s|^prefix=.*|prefix=$root|" "$libdir/pkgconfig/pinset.pc" > "$tmp/pinset.pc"
sed "s|^prefix=.*|prefix=$root|" "$libdir/pkgconfig/pinset-curl.pc" > "$tmp/pinset-curl.pc"
# pinset.pc asks for no libcurl and no libevent, not even privately (static links)
reqs=$(PKG_CONFIG_PATH="$tmp" pkg-config --print-requires --print-requires-private pinset) ||
    fail "pkg-config cannot read pinset.pc"
! grep -qiE 'curl|event' <<<"$reqs" || fail "pinset.pc requires $(tr '\n' ' ' <<<"$reqs")"
cat > "$tmp/use.c" <<'C'
#include <pinset/pinset.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    pinset_pin pin;
    const char *text = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    pinset_err e = pinset_pin_parse(&pin, text, strlen(text), PINSET_PIN_SPKI, NULL);
    printf("%s %s\n", pinset_version(), pinset_err_name(e));
    return e == PINSET_OK ? 0 : 1;
}
C
flags=$(PKG_CONFIG_PATH="$tmp" pkg-config --cflags --libs pinset) || fail "pkg-config cannot read pinset.pc"
san=""
nm -D "$libdir/libpinset.so" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
cc -std=c99 -pedantic -Wall -Werror $san "$tmp/use.c" -o "$tmp/use" $flags > "$tmp/cc.log" 2>&1 ||
    { cat "$tmp/cc.log"; fail "a program does not build with pkg-config's flags"; }
out=$(LD_LIBRARY_PATH="$libdir" ASAN_OPTIONS=detect_leaks=0 "$tmp/use") || fail "the program failed: $out"
[ "$out" = "$(LD_LIBRARY_PATH="$libdir" ASAN_OPTIONS=detect_leaks=0 "$root/bin/pinset" version | awk '{print $2}') PINSET_OK" ] || fail "unexpected output: $out"
# ...and needs neither libcurl nor libevent, directly or through libpinset
deps=$(LD_LIBRARY_PATH="$libdir" ldd "$tmp/use") || fail "ldd cannot read the program"
! grep -qE 'lib(curl|event)' <<<"$deps" || fail "a pinset-only program loads: $(grep -E 'lib(curl|event)' <<<"$deps")"

# pinset-curl: the libcurl helper through pkg-config (Requires: pinset libcurl)
cat > "$tmp/use_curl.c" <<'C'
#include <pinset/curl.h>
#include <pinset/pinset.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    static const char doc[] = "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": "
                              "[\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"]}]}";
    pinset_policy *policy = NULL;
    pinset_curl *pc = NULL;
    CURL *curl = curl_easy_init();
    pinset_err e = pinset_policy_parse(&policy, (const uint8_t *)doc, strlen(doc), NULL);
    if (e == PINSET_OK) {
        e = pinset_curl_new(&pc, policy, NULL, NULL);
    }
    if (e == PINSET_OK) {
        e = curl == NULL ? PINSET_E_NOMEM : pinset_curl_setup(pc, curl, NULL);
    }
    printf("%s %s\n", pinset_err_name(e), pinset_err_name(pinset_curl_check(pc)));
    curl_easy_cleanup(curl);
    pinset_curl_free(pc);
    pinset_policy_free(policy);
    return e == PINSET_OK ? 0 : 1;
}
C
pc_consumer use_curl pinset-curl "PINSET_OK PINSET_E_NO_MATCH"

# pinset-formats through pkg-config: every format, those of libpinset passed on to it
sed "s|^prefix=.*|prefix=$root|" "$libdir/pkgconfig/pinset-formats.pc" > "$tmp/pinset-formats.pc"
cat > "$tmp/use_formats.c" <<'C'
#include <pinset/formats.h>
#include <pinset/pinset.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    static const char hdr[] = "pin-sha256=\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"; "
                              "pin-sha256=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"; max-age=60";
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_policy *policy = NULL;
    pinset_err e;
    o.host = "example.com";
    e = pinset_formats_import(&policy, NULL, (const uint8_t *)hdr, strlen(hdr), PINSET_FORMAT_HPKP,
                              &o, NULL);
    printf("%s %zu\n", pinset_err_name(e), pinset_policy_rule_count(policy));
    pinset_policy_free(policy);
    return e == PINSET_OK ? 0 : 1;
}
C
pc_consumer use_formats pinset-formats "PINSET_OK 1"

# CMake package: find_package(pinset) and link pinset::pinset (configure only: the imported
# target must resolve with its dependencies).
mkdir -p "$tmp/cm"
cp "$tmp/use.c" "$tmp/cm/use.c"
cat > "$tmp/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(use C)
find_package(pinset 0.1 REQUIRED)
add_executable(use use.c)
target_link_libraries(use PRIVATE pinset::pinset)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/b" -DCMAKE_PREFIX_PATH="$root" > "$tmp/cm.log" 2>&1 ||
    { cat "$tmp/cm.log"; fail "find_package(pinset) failed"; }
grep -qE 'pinset-curl|libcurl' "$tmp/cm/b/CMakeFiles/use.dir/link.txt" 2> /dev/null &&
    fail "find_package(pinset) without COMPONENTS curl pulls in pinset::curl"

# find_package(pinset COMPONENTS curl) and pinset::curl, ...formats and pinset::formats:
# configured, built and run; pinset::curl only when asked for.
cmake_consumer use_curl curl pinset::curl "PINSET_OK PINSET_E_NO_MATCH" 'find_package(pinset 0.1 REQUIRED)
if(TARGET pinset::curl)
  message(FATAL_ERROR "pinset::curl defined without COMPONENTS curl")
endif()'
cmake_consumer use_formats formats pinset::formats "PINSET_OK 1"
echo "ok: installed tree complete; pkg-config and find_package consumers of pinset, pinset-curl and pinset-formats build; a pinset-only program needs no libcurl"
