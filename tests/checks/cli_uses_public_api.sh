#!/usr/bin/env bash
# cli_uses_public_api.sh - the tool uses only the public API (STYLE.md section 1):
# no file in src/cli includes a header of src/lib, by path or by name. Quoted
# includes must name a file of src/cli itself; angle includes must not name
# src/lib or one of its headers.
set -u
src=${PINSET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# check_tree ROOT: print one line per offending include; exit 1 if any.
check_tree() {
    local root=$1 bad=0 f line inc base
    local -A lib_headers=()
    for f in "$root"/src/lib/*.h "$root"/src/lib/*/*.h; do
        [ -e "$f" ] && lib_headers[$(basename "$f")]=1
    done
    while IFS= read -r f; do
        while IFS= read -r line; do
            inc=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*([<"][^>"]+[>"]).*/\1/p' <<<"${line#*:}")
            [ -n "$inc" ] || continue
            base=$(basename "${inc:1:${#inc}-2}")
            case "$inc" in
            \"*)
                if [ ! -e "$root/src/cli/${inc:1:${#inc}-2}" ] || [[ "$inc" == *..* ]]; then
                    echo "${f#"$root"/}:${line%%:*}: includes $inc, which is not a src/cli header"; bad=1
                fi ;;
            \<*)
                # <x.h> without a directory resolves to src/lib only through -Isrc/lib;
                # <openssl/pem.h> and <pinset/pin.h> are other libraries' headers.
                if [[ "$inc" == *src/lib* ]] || { [[ "$inc" != */* ]] && [ -n "${lib_headers[$base]:-}" ]; }; then
                    echo "${f#"$root"/}:${line%%:*}: includes $inc, a src/lib header"; bad=1
                fi ;;
            esac
        done < <(grep -n '#[[:space:]]*include' "$f")
    done < <(find "$root/src/cli" -type f \( -name '*.c' -o -name '*.h' \) | sort)
    return $bad
}

# Self-test: the check must catch three planted violations (one in a subfolder), and must not mistake
# <openssl/pem.h> for src/lib/pem.h.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/cli/sub" "$tmp/src/lib"
echo '#include "../lib/internal.h"' > "$tmp/src/cli/a.c"
echo '#include "../../lib/internal.h"' > "$tmp/src/cli/sub/d.c" # subfolders are checked too
echo '#include <internal.h>' > "$tmp/src/cli/b.c"
printf '#include <openssl/pem.h>\n#include <pinset/pin.h>\n#include "c.h"\n' > "$tmp/src/cli/c.c"
: > "$tmp/src/cli/c.h"
: > "$tmp/src/lib/internal.h"
: > "$tmp/src/lib/pem.h"
n=$(check_tree "$tmp" | wc -l)
if [ "$n" != 3 ]; then
    echo "self-test: expected 3 violations in the planted tree, found $n"; exit 1
fi

check_tree "$src" || { echo "FAIL: src/cli must use include/pinset only (STYLE.md section 1)"; exit 1; }
echo "ok: src/cli includes no src/lib header"
