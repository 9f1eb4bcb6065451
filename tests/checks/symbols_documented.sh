#!/usr/bin/env bash
# symbols_documented.sh - docs/symbols.txt and the headers agree (STYLE.md
# section 9, after curl's symbols-in-versions test): every PINSET_API function
# declared in include/pinset/*.h has a line "name version" in docs/symbols.txt,
# and every name listed there is still declared in a public header (a function,
# or a type, macro or enum constant that the headers define).
set -u
src=${PINSET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# api_functions HEADER...: the names of PINSET_API function declarations.
api_functions() {
    perl -0777 -ne '
        s{/\*.*?\*/}{ }gs; s{//[^\n]*}{ }g;          # comments
        s{^[ \t]*#[^\n]*(\\\n[^\n]*)*}{ }mg;         # preprocessor lines (#define PINSET_API ...)
        while (/\bPINSET_API\b([^;{]*?)\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g) { print "$2\n" }
    ' "$@" | sort -u
}

# listed FILE: the names in symbols.txt; complains about malformed lines.
listed() {
    awk '
        /^[ \t]*(#|$)/ { next }
        NF < 2 || $1 !~ /^[A-Za-z_][A-Za-z0-9_]*$/ || $2 !~ /^[0-9]+\.[0-9]+\.[0-9]+$/ {
            printf "%s:%d: malformed (want \"symbol version [deprecated-version]\"): %s\n", FILENAME, NR, $0 > "/dev/stderr"
            bad = 1; next
        }
        { print $1 }
        END { exit bad }
    ' "$1"
}

# Self-test: the extractor sees multi-line and attributed declarations, not the macro.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/t.h" <<'H'
#define PINSET_API __attribute__((visibility("default")))
/** a */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_a_parse(pinset_a **out,
                                                       const char *s);
PINSET_API const char *pinset_b(const pinset_b *b); /**< b(x) */
/* PINSET_API void pinset_commented(void); */
H
got=$(api_functions "$tmp/t.h" | tr '\n' ' ')
[ "$got" = "pinset_a_parse pinset_b " ] || { echo "self-test: extractor gave '$got'"; exit 1; }

list=$src/docs/symbols.txt
[ -f "$list" ] || { echo "FAIL: docs/symbols.txt is missing"; exit 1; }
api=$(api_functions "$src"/include/pinset/*.h "$src"/include/pinset/*/*.h 2>/dev/null)
names=$(listed "$list") || { echo "FAIL: docs/symbols.txt has malformed lines (above)"; exit 1; }
fail=0

dups=$(sort <<<"$names" | uniq -d)
if [ -n "$dups" ]; then
    echo "FAIL: listed more than once in docs/symbols.txt:"; echo "$dups"; fail=1
fi
missing=$(comm -23 <(echo "$api") <(sort -u <<<"$names"))
if [ -n "$missing" ]; then
    echo "FAIL: PINSET_API functions missing from docs/symbols.txt:"; echo "$missing"; fail=1
fi
# Names that are not API functions must still be defined by a public header.
idents=$(cat "$src"/include/pinset/*.h | grep -oE '\b[A-Za-z_][A-Za-z0-9_]*\b' | sort -u)
stale=$(comm -23 <(sort -u <<<"$names") <(echo "$api") | comm -23 - <(echo "$idents"))
if [ -n "$stale" ]; then
    echo "FAIL: listed in docs/symbols.txt but not in any public header:"; echo "$stale"; fail=1
fi
[ $fail -eq 0 ] || exit 1
echo "ok: $(wc -l <<<"$api") PINSET_API functions, all in docs/symbols.txt ($(wc -l <<<"$names") lines)"
