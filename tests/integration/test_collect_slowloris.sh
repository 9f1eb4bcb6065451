#!/usr/bin/env bash
# test_collect_slowloris.sh - one address holding connections open (a slowloris: request headers
# sent a byte at a time, never finished) cannot lock everyone else out of `pinset collect`: the
# collector bounds connections per client address, so once 127.0.0.1 is refused, a report from
# 127.0.0.2 is still stored. The slow connections trickle a byte every second, so none idles out
# during the test. Every server and helper is stopped on exit; every wait bounded.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
for t in curl jq python3; do
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
done
D=$PINSET_TESTDATA/check
# shellcheck disable=SC1091
. "$D/pins.env"
TMP=$(mktemp -d) || exit 1
# shellcheck disable=SC1091
. "${PINSET_SOURCE_DIR:?}/tests/integration/collect_lib.sh"
LORIS=
trap '[ -n "$LORIS" ] && kill "$LORIS" 2> /dev/null; collector_stop_all; rm -rf "$TMP"' EXIT

# 127.0.0.2 must reach the loopback (Linux routes all of 127/8 there)
curl -s --max-time 5 --interface 127.0.0.2 -o /dev/null http://127.0.0.1:9/ 2> /dev/null
[ $? = 45 ] && { echo "skip: cannot bind 127.0.0.2"; exit 77; }

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

collector_start A --db "$TMP/r.sqlite" --policy "$D/policies/check.json" \
    --cafile "$D/root.crt.pem" --rate 1000 --burst 1000 || exit 1

# 600 connections from 127.0.0.1 (more than the collector's 512 in all), each an unfinished
# POST whose headers grow by one byte a second; at most 300 s
cat > "$TMP/loris.py" << 'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /report HTTP/1.1\r\nHost: x\r\nX-A: ")
        socks.append(s)
    except OSError:
        pass
print("open", len(socks), flush=True)
for _ in range(300):
    time.sleep(1)
    for s in list(socks):
        try:
            s.send(b"a")
        except OSError:
            socks.remove(s)
PY
python3 "$TMP/loris.py" "$PORT_A" 600 > "$TMP/loris.out" 2>&1 &
LORIS=$!
for _ in $(seq 300); do
    grep -q '^open' "$TMP/loris.out" && break
    sleep 0.1
done
grep -q '^open' "$TMP/loris.out" && ok "slow connections: $(cat "$TMP/loris.out")" ||
    bad "slow connections did not open: $(cat "$TMP/loris.out")"

# the flooding address is refused (bounded wait until the collector has taken its connections)
refused=0
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.1 "$URL_A/healthz")
    [ "$code" != 200 ] && { refused=1; break; }
    sleep 0.1
done
[ $refused = 1 ] && ok "the flooding address is refused" || bad "the flood took no effect"

# another address is still served, and its report stored
rfc_report rogue.check.test 443 "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$PIN_INT" \
    "$D/rogue-leaf.crt.pem" "$D/rogue-root.crt.pem" > "$TMP/rogue.json"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 30 --interface 127.0.0.2 \
    -H 'Content-Type: application/json' --data-binary "@$TMP/rogue.json" "$URL_A/report")
[ "$code" = 201 ] && ok "another address: report stored (201)" ||
    bad "another address locked out by one address's slow connections: $code $(cat "$TMP/body" 2> /dev/null)"

kill "$LORIS" 2> /dev/null
wait "$LORIS" 2> /dev/null
LORIS=
collector_stop A
[ "$STOP_RC" = 0 ] && ok "clean stop" || bad "stop: exit $STOP_RC"
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all ok"
