#!/usr/bin/env bash
# run-case.sh CASE.test - run one golden CLI case.
#
# A case is a text file of "key: value" lines ('#' starts a comment):
#   run: <command>          required; run by bash with $PINSET (the tool), $TESTDATA
#                           (the generated PKI), $SRC (source tree), $TMP (a fresh directory)
#   setup: <command>        optional, repeatable; run before `run` (same variables)
#   exit: N                 required; the expected exit status
#   stdout: <ERE>           repeatable; some line of stdout must match
#   stdout-not: <ERE>       repeatable; no line of stdout may match
#   stderr: <ERE>           repeatable; some line of stderr must match
#   stderr-not: <ERE>       repeatable
#   stdout-lines: N         stdout has exactly N lines
#   stderr-lines: N         stderr has exactly N lines
#   stdout-equals: <command>  stdout must equal this command's stdout, byte for byte
#   timeout: S              seconds (default 60)
set -u
case_file=$1
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}" "${PINSET_SOURCE_DIR:?}"
export PINSET="$PINSET_BIN" TESTDATA="$PINSET_TESTDATA" SRC="$PINSET_SOURCE_DIR"
TMP=$(mktemp -d) || exit 1
export TMP
trap 'rm -rf "$TMP"' EXIT

run= exit_want= timeout_s=60
setups=() out_re=() out_not=() err_re=() err_not=() equals=()
out_lines= err_lines=
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    key=${line%%:*}
    val=${line#*:}
    val=${val# }
    case "$key" in
    run) run=$val ;;
    setup) setups+=("$val") ;;
    exit) exit_want=$val ;;
    stdout) out_re+=("$val") ;;
    stdout-not) out_not+=("$val") ;;
    stderr) err_re+=("$val") ;;
    stderr-not) err_not+=("$val") ;;
    stdout-lines) out_lines=$val ;;
    stderr-lines) err_lines=$val ;;
    stdout-equals) equals+=("$val") ;;
    timeout) timeout_s=$val ;;
    *) echo "run-case: $case_file: unknown key '$key'" >&2; exit 2 ;;
    esac
done < "$case_file"
[ -n "$run" ] && [ -n "$exit_want" ] || { echo "run-case: $case_file: needs run: and exit:" >&2; exit 2; }

for s in "${setups[@]+"${setups[@]}"}"; do
    bash -c "$s" || { echo "run-case: setup failed: $s" >&2; exit 1; }
done
cd "$TMP" || exit 1
timeout -k 5 "$timeout_s" bash -c "$run" > "$TMP/.stdout" 2> "$TMP/.stderr" < /dev/null
got=$?
fail=0
report() { echo "FAIL: $*"; fail=1; }
[ "$got" = "$exit_want" ] || report "exit status $got, want $exit_want"
for re in "${out_re[@]+"${out_re[@]}"}"; do grep -Eq -- "$re" "$TMP/.stdout" || report "stdout lacks /$re/"; done
for re in "${out_not[@]+"${out_not[@]}"}"; do ! grep -Eq -- "$re" "$TMP/.stdout" || report "stdout has /$re/"; done
for re in "${err_re[@]+"${err_re[@]}"}"; do grep -Eq -- "$re" "$TMP/.stderr" || report "stderr lacks /$re/"; done
for re in "${err_not[@]+"${err_not[@]}"}"; do ! grep -Eq -- "$re" "$TMP/.stderr" || report "stderr has /$re/"; done
if [ -n "$out_lines" ]; then n=$(wc -l < "$TMP/.stdout"); [ "$n" = "$out_lines" ] || report "stdout has $n lines, want $out_lines"; fi
if [ -n "$err_lines" ]; then n=$(wc -l < "$TMP/.stderr"); [ "$n" = "$err_lines" ] || report "stderr has $n lines, want $err_lines"; fi
for cmd in "${equals[@]+"${equals[@]}"}"; do
    bash -c "$cmd" > "$TMP/.want" 2>/dev/null || report "reference command failed: $cmd"
    cmp -s "$TMP/.want" "$TMP/.stdout" || { report "stdout differs from: $cmd"; diff "$TMP/.want" "$TMP/.stdout" | head -20; }
done
if [ $fail -ne 0 ]; then
    echo "--- command: $run"
    echo "--- stdout:"; head -50 "$TMP/.stdout"
    echo "--- stderr:"; head -50 "$TMP/.stderr"
    exit 1
fi
exit 0
