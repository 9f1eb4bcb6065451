#!/usr/bin/env bash
# docs_examples_lint.sh - every JSON example in the documentation is valid JSON,
# and every policy example passes `pinset lint` with no error and no warning,
# judged at the current time (so a date in an example that has come close is
# caught before readers copy it).
#
# Which blocks: in Markdown (README.md, docs/**/*.md), every fenced block opened
# with ```json, and every unlabelled fenced block whose first non-blank line
# starts with '{' or '['; in the scdoc man pages (docs/man/*.scd, whose literal
# blocks carry no label), every ``` block whose first non-blank line starts
# with '{' or '['. A block is a policy when it is a JSON object with a "rules"
# or a "pinsets" member (a fragment of a policy must be written as a whole
# policy to be shown); any other JSON (a report document, an output example)
# only has to be valid JSON (jq). A failure names the file and the line of the
# block's opening fence.
set -u
src=${PINSET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${PINSET_BIN:?PINSET_BIN: the pinset tool}
command -v jq > /dev/null || { echo "FAIL: jq is needed"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# extract OUTDIR FILE...: write each JSON block to OUTDIR/N.json and a line
# "N<TAB>FILE<TAB>LINE" to OUTDIR/index.
extract() {
    local out=$1
    shift
    awk -v out="$out" '
        function flush() {
            if (json || (unlabelled && first ~ /^[[:space:]]*[{[]/)) {
                n++
                printf "%s", body > (out "/" n ".json")
                close(out "/" n ".json")
                printf "%d\t%s\t%d\n", n, FILENAME, start >> (out "/index")
            }
        }
        FNR == 1 { infence = 0; scd = FILENAME ~ /\.scd$/ }
        /^[[:space:]]*```/ {
            if (!infence) {
                label = $0; sub(/^[[:space:]]*```[[:space:]]*/, "", label); sub(/[[:space:]].*$/, "", label)
                infence = 1; start = FNR; body = ""; first = ""
                json = !scd && label == "json"
                unlabelled = scd || label == ""
            } else {
                flush(); infence = 0
            }
            next
        }
        infence {
            body = body $0 "\n"
            if (first == "" && $0 ~ /[^[:space:]]/) { first = $0 }
        }
        END { if (n == 0) { printf "" >> (out "/index") } }
    ' "$@"
}

# check_blocks OUTDIR SRCROOT: print one line per failing block; return 1 if any.
check_blocks() {
    local out=$1 root=$2 n file line bad=0 kind res rc
    while IFS=$'\t' read -r n file line; do
        file=${file#"$root"/}
        if ! jq -e . "$out/$n.json" > /dev/null 2> "$out/jq.err"; then
            echo "$file:$line: not valid JSON: $(head -1 "$out/jq.err")"; bad=1; continue
        fi
        kind=$(jq -r 'if type == "object" and (has("rules") or has("pinsets")) then "policy" else "other" end' "$out/$n.json")
        [ "$kind" = policy ] || continue
        res=$(cd "$out" && "$bin" lint "$n.json" 2>&1)
        rc=$?
        if [ $rc -ne 0 ] || grep -Eq '^[^:]*: [^:]*: (error|warning): ' <<<"$res"; then
            echo "$file:$line: policy example fails pinset lint (exit $rc):"
            # findings: "N.json: PATH: ..."; parse errors: "pinset: lint: N.json:L:C: ...",
            # where L counts from the block's first line: shown as the file's line
            awk -v n="$n.json" -v f="$file" -v at="$line" '''
                index($0, n ": ") == 1 { if ($0 !~ /: info: /) print "  " substr($0, length(n) + 3); next }
                index($0, "pinset: lint: " n ":") == 1 {
                    rest = substr($0, length("pinset: lint: " n ":") + 1)
                    l = rest; sub(/:.*/, "", l)
                    if (l ~ /^[0-9]+$/) { sub(/^[0-9]+/, "", rest); print "  " f ":" (at + l) rest } else { print "  " rest }
                    next
                }
                { print "  " $0 }''' <<<"$res"
            bad=1
        fi
    done < "$out/index"
    return $bad
}

# Self-test on planted documents: a clean policy, a policy lint refuses, a
# policy that does not parse, invalid JSON in a ```json block and in a man
# page, an unlabelled policy block; a shell block and a valid report pass.
pk='"sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "role": "ca"'
bk='"sha256": "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=", "role": "backup"'
mkdir -p "$tmp/doc/man" "$tmp/out" "$tmp/good"
cat > "$tmp/doc/a.md" <<EOF
# planted

\`\`\`json
{"version": 1, "rules": [{"host": "example.com", "pins": [{$pk}, {$bk}]}]}
\`\`\`

\`\`\`sh
echo '{not json'
\`\`\`

\`\`\`json
{"version": 1, "rules": []}
\`\`\`

\`\`\`json
{"hostname": "www.example.com", "port": 443}
\`\`\`

\`\`\`json
{"version": 1, "rules": [{"host": "example.com", "bogus": 1}]}
\`\`\`

\`\`\`
{"version": 1, "rules": [{"host": "example.com", "pins": [{$pk}]}]}
\`\`\`

\`\`\`json
{"date-time": 2029-01-01}
\`\`\`
EOF
printf 'x(1)\n\n# EXAMPLES\n\n```\npinset lint p.json\n```\n\n```\n{"a": [1,}\n```\n' > "$tmp/doc/man/x.1.scd"
extract "$tmp/out" "$tmp/doc/a.md" "$tmp/doc/man/x.1.scd"
got=$(check_blocks "$tmp/out" "$tmp/doc" | grep -oE '^[a-z./0-9]+:[0-9]+:' | tr '\n' ' ')
want="a.md:11: a.md:19: a.md:23: a.md:27: man/x.1.scd:9: "
[ "$got" = "$want" ] || { echo "self-test: flagged '$got', want '$want'"; check_blocks "$tmp/out" "$tmp/doc"; exit 1; }
printf '# clean\n\n```json\n{"version": 1, "rules": [{"host": "example.com", "pins": [{%s}, {%s}]}]}\n```\n' "$pk" "$bk" > "$tmp/good/g.md"
extract "$tmp/good" "$tmp/good/g.md"
check_blocks "$tmp/good" "$tmp" > /dev/null || { echo "self-test: a clean policy was flagged"; exit 1; }

# The documentation itself.
[ -x "$bin" ] || { echo "FAIL: $bin is not executable"; exit 1; }
mkdir -p "$tmp/docs"
mapfile -t files < <(cd "$src" && { ls README.md; find docs -name '*.md' -o -name '*.scd'; } | sort)
extract "$tmp/docs" "${files[@]/#/$src/}"
blocks=$(wc -l < "$tmp/docs/index")
policies=$(cut -f1 "$tmp/docs/index" | while read -r n; do
    jq -r 'if type == "object" and (has("rules") or has("pinsets")) then "p" else empty end' "$tmp/docs/$n.json" 2> /dev/null
done | wc -l)
[ "$policies" -gt 0 ] || { echo "FAIL: found no policy example in the docs (has the extractor stopped seeing them?)"; exit 1; }
if ! check_blocks "$tmp/docs" "$src"; then
    echo "FAIL: fix the examples above (docs/lint-rules.md says what each finding means)"
    exit 1
fi
echo "ok: $blocks JSON block(s) in ${#files[@]} files are valid; $policies policy example(s) pass pinset lint"
