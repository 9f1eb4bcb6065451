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
flags=$(PKG_CONFIG_PATH="$tmp" pkg-config --cflags --libs pinset-curl) || fail "pkg-config cannot read pinset-curl.pc"
# shellcheck disable=SC2086
cc -std=c99 -pedantic -Wall -Werror $san "$tmp/use_curl.c" -o "$tmp/use_curl" $flags > "$tmp/cc.log" 2>&1 ||
    { cat "$tmp/cc.log"; fail "a libcurl program does not build with pkg-config's pinset-curl flags"; }
out=$(LD_LIBRARY_PATH="$libdir" ASAN_OPTIONS=detect_leaks=0 "$tmp/use_curl") || fail "the pinset-curl program failed: $out"
[ "$out" = "PINSET_OK PINSET_E_NO_MATCH" ] || fail "unexpected output from the pinset-curl program: $out"

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
flags=$(PKG_CONFIG_PATH="$tmp" pkg-config --cflags --libs pinset-formats) ||
    fail "pkg-config cannot read pinset-formats.pc"
# shellcheck disable=SC2086
cc -std=c99 -pedantic -Wall -Werror $san "$tmp/use_formats.c" -o "$tmp/use_formats" $flags > "$tmp/cc.log" 2>&1 ||
    { cat "$tmp/cc.log"; fail "a program does not build with pkg-config's pinset-formats flags"; }
out=$(LD_LIBRARY_PATH="$libdir" ASAN_OPTIONS=detect_leaks=0 "$tmp/use_formats") ||
    fail "the pinset-formats program failed: $out"
[ "$out" = "PINSET_OK 1" ] || fail "unexpected output from the pinset-formats program: $out"

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

# find_package(pinset COMPONENTS curl) and pinset::curl: configured, built and run.
mkdir -p "$tmp/cmc"
cp "$tmp/use_curl.c" "$tmp/cmc/use_curl.c"
cat > "$tmp/cmc/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(use_curl C)
find_package(pinset 0.1 REQUIRED)
if(TARGET pinset::curl)
  message(FATAL_ERROR "pinset::curl defined without COMPONENTS curl")
endif()
find_package(pinset 0.1 REQUIRED COMPONENTS curl)
add_executable(use_curl use_curl.c)
target_link_libraries(use_curl PRIVATE pinset::curl)
CM
cmake -S "$tmp/cmc" -B "$tmp/cmc/b" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_C_FLAGS="$san" \
    -DCMAKE_EXE_LINKER_FLAGS="$san" > "$tmp/cmc.log" 2>&1 ||
    { cat "$tmp/cmc.log"; fail "find_package(pinset COMPONENTS curl) failed"; }
cmake --build "$tmp/cmc/b" > "$tmp/cmc.log" 2>&1 ||
    { cat "$tmp/cmc.log"; fail "a pinset::curl program does not build"; }
out=$(LD_LIBRARY_PATH="$libdir" ASAN_OPTIONS=detect_leaks=0 "$tmp/cmc/b/use_curl") ||
    fail "the pinset::curl program failed: $out"
[ "$out" = "PINSET_OK PINSET_E_NO_MATCH" ] || fail "unexpected output from the pinset::curl program: $out"
# find_package(pinset COMPONENTS formats) and pinset::formats: configured, built and run.
mkdir -p "$tmp/cmf"
cp "$tmp/use_formats.c" "$tmp/cmf/use_formats.c"
cat > "$tmp/cmf/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(use_formats C)
find_package(pinset 0.1 REQUIRED COMPONENTS formats)
add_executable(use_formats use_formats.c)
target_link_libraries(use_formats PRIVATE pinset::formats)
CM
cmake -S "$tmp/cmf" -B "$tmp/cmf/b" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_C_FLAGS="$san" \
    -DCMAKE_EXE_LINKER_FLAGS="$san" > "$tmp/cmf.log" 2>&1 ||
    { cat "$tmp/cmf.log"; fail "find_package(pinset COMPONENTS formats) failed"; }
cmake --build "$tmp/cmf/b" > "$tmp/cmf.log" 2>&1 ||
    { cat "$tmp/cmf.log"; fail "a pinset::formats program does not build"; }
out=$(LD_LIBRARY_PATH="$libdir" ASAN_OPTIONS=detect_leaks=0 "$tmp/cmf/b/use_formats") ||
    fail "the pinset::formats program failed: $out"
[ "$out" = "PINSET_OK 1" ] || fail "unexpected output from the pinset::formats program: $out"
echo "ok: installed tree complete; pkg-config and find_package consumers of pinset and pinset-curl build; a pinset-only program needs no libcurl"
