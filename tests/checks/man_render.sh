#!/usr/bin/env bash
# man_render.sh - every man page in docs/man/*.scd is built (build/man/) and
# renders with man(1) as a reader sees it, with no scdoc markup left over in
# the text: no code fence (```), no "#" heading marker, no *bold* or
# _underline_ asterisks and underscores, no literal \fB-style font escape.
# Leftovers appear when the source is not what scdoc expects (a fence around
# list items, a heading that does not start its line, an unclosed *), and
# scdoc passes them through silently.
#
# A shell comment in an example would read as a heading marker: say it in the
# prose above the example instead.
set -u
src=${PINSET_SOURCE_DIR:?}
build=${PINSET_BUILD_DIR:?}
export LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

command -v man > /dev/null || { echo "FAIL: man not installed (Debian man-db; scripts/install-deps.sh installs it)"; exit 1; }
command -v scdoc > /dev/null || { echo "FAIL: scdoc not installed (scripts/install-deps.sh installs it)"; exit 1; }

# leftovers FILE: the lines of rendered text that still hold scdoc or roff markup.
leftovers() {
    grep -nE -e '```' \
        -e '^ *#{1,3} [A-Z]' \
        -e '\*[A-Za-z0-9_-][^*]*\*' \
        -e '(^|[^[:alnum:]_])_[A-Za-z0-9][^_]*_($|[^[:alnum:]_])' \
        -e '\\f[A-Z(\[]' "$1"
}
# render PAGE OUT: the page as man shows it; fails on a man or troff error.
render() {
    man -l "$1" > "$2" 2> "$tmp/err" || { cat "$tmp/err"; return 1; }
    ! grep -i 'error' "$tmp/err" || return 1
    [ -s "$2" ] || { echo "empty output"; return 1; }
}

# Self-test: each kind of leftover is seen, and clean text passes.
printf 'T(1)\n\n# NAME\n\nt - x\n\n# DESCRIPTION\n\n*bold*, _under_ and *x*\\_y are fine.\n\n\tliteral: a_b, *.pem, 2*3\n' > "$tmp/ok.scd"
scdoc < "$tmp/ok.scd" > "$tmp/ok.1" || { echo "FAIL: self-test: scdoc refuses the clean page"; exit 1; }
render "$tmp/ok.1" "$tmp/ok.txt" || { echo "FAIL: self-test: the clean page does not render"; exit 1; }
if leftovers "$tmp/ok.txt"; then
    echo "FAIL: self-test: leftovers reported in a clean page"; exit 1
fi
# (inside a literal block, where scdoc leaves text as it is; a fence in running text stays too)
for bad in '```\n# OPTIONS\n```' '```\n\t## Heading\n```' '```\na *bold* word\n```' \
        '```\nan _underlined_ word\n```' '```\n- *curl*: x\n```' 'a \\\\fBfont\\\\fR escape' \
        'a fence ``` in text'; do
    printf 'T(1)\n\n# NAME\n\nt - x\n\n# DESCRIPTION\n\n%b\n' "$bad" > "$tmp/bad.scd"
    scdoc < "$tmp/bad.scd" > "$tmp/bad.1" 2> /dev/null || { echo "FAIL: self-test: scdoc refuses '$bad'"; exit 1; }
    render "$tmp/bad.1" "$tmp/bad.txt" || { echo "FAIL: self-test: '$bad' does not render"; exit 1; }
    leftovers "$tmp/bad.txt" > /dev/null || { echo "FAIL: self-test: leftover '$bad' not seen"; exit 1; }
done

fail=0 n=0
for scd in "$src"/docs/man/*.scd; do
    name=$(basename "$scd" .scd)
    page=$build/man/$name
    if [ ! -f "$page" ]; then
        echo "FAIL: $name: not built ($page; is scdoc installed?)"; fail=1; continue
    fi
    if ! render "$page" "$tmp/$name.txt" > "$tmp/why" 2>&1; then
        echo "FAIL: $name: man -l does not render it:"; sed 's/^/  /' "$tmp/why"; fail=1; continue
    fi
    if leftovers "$tmp/$name.txt" > "$tmp/left"; then
        echo "FAIL: $name: markup left in the rendered page (docs/man/$name.scd):"
        sed 's/^/  /' "$tmp/left"; fail=1
    fi
    n=$((n + 1))
done
[ "$n" -gt 0 ] || [ "$fail" -ne 0 ] || { echo "FAIL: no man page found in $src/docs/man"; exit 1; }
[ "$fail" -eq 0 ] || exit 1
echo "ok: $n man pages render with no markup left"
