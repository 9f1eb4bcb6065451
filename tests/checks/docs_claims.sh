#!/usr/bin/env bash
# docs_claims.sh - the user-facing docs describe only what the tool does. The
# README, the man pages (docs/man/*.scd) and `pinset --help` may not say that
# pinset converts, signs, collects, monitors or plans while `pinset help` lists
# no such command; a line that marks the feature as future work ("planned",
# "still to come", "not yet") may. A few phrases use these words for something
# else (IDNA labels converted, self-signed certificates, node_exporter's
# textfile collector) and are allowed below.
set -u
src=${PINSET_SOURCE_DIR:?}
bin=${PINSET_BIN:?PINSET_BIN: the pinset tool}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# feature (a command name) and the words that claim it: verbs and the tool's own nouns, not words
# that certificates and monitoring systems use for themselves (signature, signed, monitoring)
features='convert:convert|converts|converted|converting|converter|converters
sign:sign|signs
collect:collect|collects|collecting
monitor:monitor|monitors
plan:plan|plans'
future='planned|still to come|not yet|roadmap'
allowed='converted to A-labels|self-signed|textfile collector'

# claims CMDS FILE...: "file:line: text" for every claim of a feature not in CMDS.
claims() {
    local cmds=$1 f re
    shift
    while IFS=: read -r f re; do
        grep -qx "$f" <<<"$cmds" && continue
        grep -HniwE "$re" "$@" | sed -E "s/($allowed)//gI" | grep -iE ":.*\b($re)\b" |
            grep -viE "$future" | sort -u
    done <<<"$features"
}

# Self-test: a planted claim is seen, future work and the allowed phrases are not.
printf 'pinset computes, checks and converts pins\n' > "$tmp/bad.txt"
printf 'IDNA U-labels are converted to A-labels, self-signed\nconverters are planned\n' > "$tmp/ok.txt"
[ -n "$(claims hash "$tmp/bad.txt")" ] || { echo "FAIL: self-test: a planted claim is not seen"; exit 1; }
[ -z "$(claims hash "$tmp/ok.txt")" ] || { echo "FAIL: self-test: allowed text reported"; exit 1; }
[ -z "$(claims "$(printf 'hash\nconvert')" "$tmp/bad.txt")" ] ||
    { echo "FAIL: self-test: a claim of an existing command reported"; exit 1; }

[ -x "$bin" ] || { echo "FAIL: $bin is not executable"; exit 1; }
cmds=$("$bin" help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1}')
[ -n "$cmds" ] || { echo "FAIL: 'pinset help' lists no command"; exit 1; }
"$bin" --help > "$tmp/pinset --help" || { echo "FAIL: pinset --help failed"; exit 1; }
cd "$src" || exit 1
found=$(claims "$cmds" README.md docs/man/*.scd "$tmp/pinset --help" | sed "s|$tmp/||")
if [ -n "$found" ]; then
    echo "FAIL: the docs describe features that pinset $(echo $cmds | tr ' ' ',') does not have"
    echo "(say what exists, or mark the feature as planned):"
    echo "$found" | sed 's/^/  /'
    exit 1
fi
echo "ok: the docs claim no command beyond: $(echo $cmds)"
