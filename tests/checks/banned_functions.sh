#!/usr/bin/env bash
# banned_functions.sh - the functions STYLE.md section 7 bans are not called
# anywhere in src/ (defence in depth beyond the `#pragma GCC poison` in
# internal.h and src/cli/common.h, which a file can escape by not including
# them, by including them too early, or by PINSET_NO_POISON). Comments are
# stripped first, so prose may name a banned function.
set -u
src=${PINSET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
banned='strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|strncpy|sscanf'

# scan FILE...: "file:line: text" for each call of a banned function.
scan() {
    perl -ne '
        BEGIN { $re = qr/(?<![A-Za-z0-9_])(?:'"$banned"')\s*\(/ }
        if ($ARGV ne $last) { $in = 0; $last = $ARGV }
        my $l = $_;
        if ($in) { if ($l =~ s{^.*?\*/}{}) { $in = 0 } else { next } }
        $l =~ s{/\*.*?\*/}{}g;
        if ($l =~ s{/\*.*$}{}) { $in = 1 }
        $l =~ s{//.*$}{};
        $l =~ s{"(?:\\.|[^"\\])*"}{""}g;          # string literals
        next if $l =~ /^\s*#\s*pragma\s+GCC\s+poison/;
        print "$ARGV:$.: $_" if $l =~ $re;
    } continue { close ARGV if eof' "$@"
}

# Self-test: a call is found; snprintf, fgets, a comment and a string are not.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int f(char *d){\n  snprintf(d, 1, "x"); fgets(d, 1, 0);\n  /* never strcpy(d, s) */\n  puts("sprintf(x)");\n  return atoi(d);\n}\n' > "$tmp/t.c"
got=$(scan "$tmp/t.c")
{ [ "$(wc -l <<<"$got")" = 1 ] && grep -q ':5: .*atoi' <<<"$got"; } ||
    { echo "self-test: expected one hit (atoi on line 5), got:"; echo "$got"; exit 1; }

if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t files < <(cd "$src" && git ls-files --cached --others --exclude-standard -- 'src/*.c' 'src/*.h' 'src/**/*.c' 'src/**/*.h' | sort -u)
else
    mapfile -t files < <(cd "$src" && find src -name '*.[ch]' | sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no source files found under $src/src"; exit 1; }
hits=$(cd "$src" && scan "${files[@]}")
if [ -n "$hits" ]; then
    echo "FAIL: banned functions called (STYLE.md section 7: use snprintf, memcpy with a bound, strtol...):"
    echo "$hits"
    exit 1
fi
echo "ok: no banned function in ${#files[@]} files under src/"
