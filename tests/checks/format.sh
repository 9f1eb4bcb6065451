#!/usr/bin/env bash
# format.sh - every C source and header is as clang-format-16 writes it
# (docs/STYLE.md section 13: clang-format is the authority; `make format` fixes).
set -u
src=${PINSET_SOURCE_DIR:?}
cd "$src" || exit 1
fmt=$(command -v clang-format-16) || { echo "FAIL: clang-format-16 not installed (scripts/install-deps.sh installs it)"; exit 1; }
files=$(find src include tests fuzz bench examples \( -name '*.[ch]' -o -name '*.cpp' \) -not -path '*/build/*' | sort)
[ -n "$files" ] || { echo "FAIL: no C files found under $src"; exit 1; }
# self-test: a file that is not formatted must be caught
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int  f(void){return 0;}\n' > "$tmp/bad.c"
cp .clang-format "$tmp/"
if "$fmt" --dry-run --Werror "$tmp/bad.c" 2>/dev/null; then
    echo "FAIL: the check does not see a badly formatted file"
    exit 1
fi
# shellcheck disable=SC2086
if ! out=$("$fmt" --dry-run --Werror $files 2>&1); then
    echo "FAIL: not formatted (run 'make format'):"
    grep -oE '^[^:]+\.[ch]' <<<"$out" | sort -u
    exit 1
fi
echo "ok: $(wc -w <<<"$files") files formatted"
