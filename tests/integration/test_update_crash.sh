#!/usr/bin/env bash
# test_update_crash.sh - `pinset update` killed with SIGKILL at random points
# while it applies a sequence of documents with increasing serials. After
# every kill:
#  1. the state directory's current.dsse, when present, is byte for byte one
#     of the signed documents (the one in force before the run, or the one
#     being applied): never torn, and it verifies;
#  2. the serial in `state` is the one before the run or the new one, never
#     lower than before;
#  3. the serial of current.dsse is not above the persisted serial (the floor
#     is written first).
# A kill between the two writes leaves the new serial with the old document;
# the next run applies the next serial on top. At the end, a replay of every
# older document is refused (exit 1) and the last one is applied. Runs
# RUNS times (default 100), bounded by LIMIT seconds (default 45).
# What it does not prove: SIGKILL leaves the page cache intact, so this
# tests the order of renames, not what reaches the disk at a power loss
# (that is what the fsyncs are for; see docs/update-protocol.md).
set -u
: "${PINSET_BIN:?}"
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 not found"; exit 77; }
RUNS=${RUNS:-100}
LIMIT=${LIMIT:-45}
NDOCS=80
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
NOW=2027-01-20

"$PINSET_BIN" keygen k > /dev/null || exit 1
printf %s '{"version": 1, "rules": [{"host": "api.example.com", "pins": [{"sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, {"sha256": "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=", "role": "backup"}]}]}' > pol.json
# documents 1..NDOCS, issued a minute apart, all valid at NOW
for i in $(seq 1 $NDOCS); do
    "$PINSET_BIN" sign --key k --serial "$i" --now "@$((1798761600 + i * 60))" \
        --expires 2027-02-01 pol.json -o "d$i.json" > /dev/null || { echo "sign $i failed"; exit 1; }
done
mkdir -m 700 st

state_serial() { if [ -f st/state ]; then sed -n 's/^serial //p' st/state; else echo 0; fi; }
# which document current.dsse is (0: none; -1: none of them)
current_doc() {
    [ -f st/current.dsse ] || { echo 0; return; }
    for j in "$@"; do
        [ "$j" -gt 0 ] && cmp -s st/current.dsse "d$j.json" && { echo "$j"; return; }
    done
    echo -1
}

# one uninterrupted run to calibrate the kill delays
t0=$(date +%s%N)
"$PINSET_BIN" update --root k.pub --state st --now $NOW d1.json > /dev/null || bad "first update failed"
dur_us=$(( ($(date +%s%N) - t0) / 1000 ))
serial=1 cur=1 start=$(date +%s) runs=0 before=0 between=0 after=0
while [ $runs -lt "$RUNS" ] && [ $(( $(date +%s) - start )) -lt "$LIMIT" ] && [ $serial -lt $NDOCS ]; do
    next=$((serial + 1))
    delay=$(python3 -c "import random; print('%.6f' % (random.uniform(0, 1.3 * $dur_us) / 1e6))")
    "$PINSET_BIN" update --root k.pub --state st --now $NOW "d$next.json" > /dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 $pid 2> /dev/null
    wait $pid 2> /dev/null
    runs=$((runs + 1))
    s=$(state_serial)
    c=$(current_doc "$cur" "$next")
    if [ "$s" != "$serial" ] && [ "$s" != "$next" ]; then
        bad "run $runs: state serial $s, want $serial or $next"
    fi
    if [ "$c" = -1 ]; then
        bad "run $runs: current.dsse is neither d$cur.json nor d$next.json (torn)"
    elif [ "$c" -gt "$s" ]; then
        bad "run $runs: current.dsse is serial $c, above the persisted serial $s"
    fi
    if [ "$c" -gt 0 ] && ! "$PINSET_BIN" verify --root k.pub --now $NOW st/current.dsse > /dev/null; then
        bad "run $runs: current.dsse does not verify"
    fi
    if [ "$s" = "$serial" ]; then before=$((before + 1));
    elif [ "$c" = "$cur" ]; then between=$((between + 1));
    else after=$((after + 1)); fi
    [ "$s" -ge "$serial" ] 2> /dev/null && serial=$s
    [ "$c" -gt 0 ] 2> /dev/null && cur=$c
    [ $fail -eq 0 ] || break
done
echo "runs $runs: killed before the state was written $before, between the writes $between, after $after; serial $serial"
[ $runs -ge 20 ] || bad "only $runs runs in $LIMIT s"
# replays of every older document are refused and leave the state as it was
cp st/state state.saved
for i in $(seq 1 $((serial - 1))); do
    "$PINSET_BIN" update --root k.pub --state st --now $NOW "d$i.json" > /dev/null 2>&1
    rc=$?
    [ $rc -eq 1 ] || bad "replay of d$i.json: exit $rc, want 1"
done
cmp -s st/state state.saved || bad "a replay changed the state"
# the interrupted update (if any) completes, and the next one applies
"$PINSET_BIN" update --root k.pub --state st --now $NOW "d$serial.json" > /dev/null || bad "re-applying d$serial.json failed"
cmp -s st/current.dsse "d$serial.json" || bad "current.dsse is not d$serial.json after re-applying it"
if [ $serial -lt $NDOCS ]; then
    "$PINSET_BIN" update --root k.pub --state st --now $NOW "d$((serial + 1)).json" > /dev/null || bad "the next update failed"
fi
[ $fail -eq 0 ] && echo "ok"
exit $fail
