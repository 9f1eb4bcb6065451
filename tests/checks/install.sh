#!/usr/bin/env bash
# install.sh - `make install` gives a consumer what it needs: the library
# (shared and static), every public header, pinset.pc, the CMake package,
# the tool and the man pages; and a program builds against the installed
# copy through pkg-config and through find_package(pinset).
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

# pkg-config: the .pc names the install prefix (not DESTDIR), so point it at the staged tree.
sed "s|^prefix=.*|prefix=$root|" "$libdir/pkgconfig/pinset.pc" > "$tmp/pinset.pc"
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
echo "ok: installed tree complete; pkg-config and find_package consumers build"
