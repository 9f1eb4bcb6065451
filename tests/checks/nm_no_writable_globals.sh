#!/usr/bin/env bash
# nm_no_writable_globals.sh - libpinset (and libpinset-curl) has no mutable global or static state
# (STYLE.md section 6): no object symbol of the static library lives in a
# writable section (.data, .bss, thread-local, common).
#
# Sections are read with `objdump -t` rather than guessed from nm's letter:
# nm calls .data.rel.ro "d", but that is a `static const` table holding
# pointers, which the loader makes read-only after relocation (RELRO) - the
# very tables STYLE.md asks for. Symbols that ASan/UBSan instrumentation adds
# (__asan_*, ___asan_gen_*, __odr_asan*, __ubsan*, __sancov*) are not the
# library's own and are ignored; section symbols and file symbols too.
set -u
lib=${PINSET_LIB_STATIC:?PINSET_LIB_STATIC: the static libpinset.a}
command -v objdump >/dev/null || { echo "skip: objdump not found"; exit 77; }

# writable ARCHIVE: print "object: section symbol" for each writable object symbol.
writable() {
    objdump -t "$1" | awk '
        /^In archive|file format|^SYMBOL TABLE|^$/ { if ($0 ~ /file format/) obj = $1; next }
        {
            # value, 7 flag characters, section, size, name
            if ($0 !~ /^[0-9a-f]+ /) next
            flags = substr($0, length($1) + 2, 7)
            rest = substr($0, length($1) + 10)
            split(rest, f, /[ \t]+/)
            sect = f[1]; name = f[3]
            if (substr(flags, 6, 1) == "d" || substr(flags, 7, 1) == "f") next   # section / file symbols
            if (name ~ /^(__asan|___asan_gen_|__odr_asan|__ubsan|__sancov|\.L)/) next
            if (sect ~ /^\.data\.rel\.ro/) next
            if (sect ~ /^(\.data|\.bss|\.tdata|\.tbss)/ || sect == "*COM*")
                print obj " " sect " " name
        }'
}

# Self-test on a planted object: the check must see a static counter.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'static int counter;\nint bump(void);\nint bump(void) { return ++counter; }\nstatic const char *const names[] = {"a", "b"};\nconst char *name(int i);\nconst char *name(int i) { return names[i]; }\n' > "$tmp/t.c"
if cc -c -fPIC -O0 -o "$tmp/t.o" "$tmp/t.c" 2>/dev/null && ar rcs "$tmp/t.a" "$tmp/t.o"; then
    got=$(writable "$tmp/t.a")
    if ! grep -q ' counter$' <<<"$got" || grep -q ' names$' <<<"$got"; then
        echo "self-test failed: want 'counter' (mutable) and not 'names' (RELRO), got:"; echo "$got"; exit 1
    fi
fi

# libpinset.a, and libpinset-curl.a when the build names it
fail=0
for a in "$lib" ${PINSET_CURL_LIB_STATIC:+"$PINSET_CURL_LIB_STATIC"}; do
    [ -f "$a" ] || { echo "FAIL: $a not found"; fail=1; continue; }
    bad=$(writable "$a")
    if [ -n "$bad" ]; then
        echo "FAIL: writable data in $(basename "$a") (object section symbol):"
        echo "$bad"
        echo "make these tables 'static const' (and their pointers const), or move state into an object"
        fail=1
        continue
    fi
    echo "ok: no writable data or BSS symbols in $(basename "$a")"
done
exit $fail
