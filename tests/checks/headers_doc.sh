#!/usr/bin/env bash
# headers_doc.sh - every PINSET_API declaration in include/pinset/*.h carries a
# Doxygen comment (STYLE.md sections 3 and 14). A declaration is documented when
#   (a) a /** ... */ block ends on the line right above it, or
#   (b) it carries a trailing /**< ... */ comment, or
#   (c) it belongs to a group: it follows, with no blank line or other text in
#       between, a declaration documented by (a) or (c) - several small getters
#       under one /** */ comment, as bundle.h and policy.h write them.
# A plain /* ... */ comment (such as a "---- section ----" banner) does not
# count: Doxygen ignores it, and so does this check.
set -u
src=${PINSET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# undocumented HEADER...: "file:line: name" for each undocumented declaration.
undocumented() {
    perl -e '
    for my $file (@ARGV) {
        open(my $fh, "<", $file) or die "$file: $!";
        my @l = <$fh>; close $fh;
        my $prev = "none";   # what the previous non-declaration context was
        my $i = 0;
        while ($i < @l) {
            my $line = $l[$i];
            if ($line =~ /^\s*#/ || $line !~ /\bPINSET_API\b/) {
                if ($line =~ /^\s*$/) { $prev = "blank" }
                elsif ($line =~ /\*\/\s*$/) {
                    # the end of a comment: find where it starts
                    my $j = $i; $j-- while $j > 0 && $l[$j] !~ /\/\*/;
                    $prev = ($l[$j] =~ /\/\*\*(?!\*)/ && $l[$j] !~ /\/\*\*</) ? "doc" : "other";
                } else { $prev = "other" }
                $i++; next;
            }
            # a declaration: from this line to the one holding its ";"
            my $start = $i; my $text = $line;
            while ($text !~ /;/ && $i + 1 < @l) { $i++; $text .= $l[$i] }
            # a trailing comment may sit on the line after the ";" only if it starts there
            my ($name) = $text =~ /\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/;
            $name //= "?";
            my $ok = $prev eq "doc" || $prev eq "group" || $text =~ /\/\*\*</;
            if ($prev eq "doc" || $prev eq "group") { $prev = "group" }
            elsif ($text =~ /\/\*\*</) { $prev = "trailing" }
            else { $prev = "undocumented" }
            print "$file:", $start + 1, ": $name\n" unless $ok;
            $i++;
        }
    }' "$@"
}

# Self-test on the three accepted shapes and two refused ones.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/t.h" <<'H'
/**
 * A.
 */
PINSET_API int pinset_a(void);
PINSET_API int pinset_a2(void);

PINSET_API int pinset_b(void); /**< B. */
PINSET_API int pinset_c(void);
/* ---- a banner ---- */
PINSET_API int pinset_d(int x,
                        int y);
/** E. */
PINSET_API int pinset_e(void);
H
got=$(undocumented "$tmp/t.h" | sed 's/.*: //' | tr '\n' ' ')
[ "$got" = "pinset_c pinset_d " ] || { echo "self-test: expected 'pinset_c pinset_d ', got '$got'"; exit 1; }

bad=$(cd "$src" && undocumented include/pinset/*.h)
if [ -n "$bad" ]; then
    echo "FAIL: PINSET_API declarations without a Doxygen comment (/** above, /**< after, or in a /** group):"
    echo "$bad"
    exit 1
fi
echo "ok: every PINSET_API declaration in include/pinset is documented"
