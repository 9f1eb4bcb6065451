#!/usr/bin/env bash
# man_options.sh - every command has a man page docs/man/pinset-<cmd>.1.scd, and
# its OPTIONS section documents exactly the options that `pinset <cmd> --help`
# prints (the options table drives both), with the same short names
# (STYLE.md section 14, after curl's test1139). -h/--help is common to every
# command and documented in pinset(1), so it is left out of the comparison.
#
# Man page convention: in "# OPTIONS", each option starts an unindented line
#   *-k*, *--kind* _KIND_      or      *--color* _WHEN_
set -u
src=${PINSET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${PINSET_BIN:?PINSET_BIN: the pinset tool}

# help_opts: "--help" text on stdin -> "s/long" lines (s is "-" without a short name).
help_opts() {
    sed -nE 's/^[[:space:]]+(-([A-Za-z0-9]), )?--([a-z0-9][a-z0-9-]*).*/\2\/\3/p' |
        sed 's#^/#-/#' | grep -v '/help$' | sort -u
}
# man_opts PAGE: the OPTIONS section's option lines -> "s/long".
man_opts() {
    awk '/^# /{ on = ($0 == "# OPTIONS") ; next } on && /^\*-/' "$1" |
        sed -nE 's/^(\*-([A-Za-z0-9])\*, )?\*--([a-z0-9][a-z0-9-]*)\*.*/\2\/\3/p' |
        sed 's#^/#-/#' | grep -v '/help$' | sort -u
}

# Self-test of both extractors on samples of the two formats.
got=$(printf '  -k, --kind KIND    x\n      --color WHEN   y\n  -h, --help   z\n' | help_opts | tr '\n' ' ')
[ "$got" = "-/color k/kind " ] || { echo "self-test: help_opts gave '$got'"; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf '# OPTIONS\n\n*-k*, *--kind* _KIND_\n\tx *--not-this*\n\n*--color* _WHEN_\n\ty\n\n# EXAMPLES\n\n*--nor-this*\n' > "$tmp/p.scd"
got=$(man_opts "$tmp/p.scd" | tr '\n' ' ')
[ "$got" = "-/color k/kind " ] || { echo "self-test: man_opts gave '$got'"; exit 1; }

[ -x "$bin" ] || { echo "FAIL: $bin is not executable"; exit 1; }
cmds=$("$bin" help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1}')
[ -n "$cmds" ] || { echo "FAIL: 'pinset help' lists no command"; exit 1; }
fail=0 no_page=()
for c in $cmds; do
    page=$src/docs/man/pinset-$c.1.scd
    if [ ! -f "$page" ]; then
        no_page+=("$c"); fail=1; continue
    fi
    h=$("$bin" "$c" --help | help_opts) || { echo "FAIL: pinset $c --help failed"; fail=1; continue; }
    m=$(man_opts "$page")
    only_help=$(comm -23 <(echo "$h") <(echo "$m") | grep . || true)
    only_man=$(comm -13 <(echo "$h") <(echo "$m") | grep . || true)
    if [ -n "$only_help" ]; then
        echo "FAIL: pinset $c --help has options missing from docs/man/pinset-$c.1.scd (short/long):"
        echo "$only_help" | sed 's/^/  /'; fail=1
    fi
    if [ -n "$only_man" ]; then
        echo "FAIL: docs/man/pinset-$c.1.scd documents options that pinset $c --help lacks (short/long):"
        echo "$only_man" | sed 's/^/  /'; fail=1
    fi
    grep -q "pinset-$c" "$src/docs/man/pinset.1.scd" 2>/dev/null ||
        { echo "FAIL: pinset(1) does not mention pinset-$c(1)"; fail=1; }
done
if [ ${#no_page[@]} -gt 0 ]; then
    echo "FAIL: commands without a man page docs/man/pinset-<cmd>.1.scd: ${no_page[*]}"
fi
[ $fail -eq 0 ] || exit 1
echo "ok: man pages match --help for: $(echo $cmds)"
