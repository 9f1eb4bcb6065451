#!/usr/bin/env bash
# test_probe_fetch.sh - `pinset fetch` against `openssl s_server` on 127.0.0.1
# (ephemeral ports, stopped at the end): pins equal the openssl pipeline's,
# --resolve and --connect-to dial elsewhere yet verify the original name,
# --servername, targets files, and a rogue chain reported as a validation failure.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl not found"; exit 77; }
P=$PINSET_TESTDATA/probe
[ -r "$P/ca.crt.pem" ] || { echo "skip: no test PKI in $P"; exit 77; }

TMP=$(mktemp -d) || exit 1
pids=()
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# serve NAME CERT KEY [CHAIN]: start s_server on an ephemeral port; sets PORT
serve() {
    local log="$TMP/$1.log" i extra=()
    [ $# -ge 4 ] && extra=(-cert_chain "$4")
    timeout 120 openssl s_server -www -accept "${ADDR:-127.0.0.1}:0" -cert "$2" -key "$3" "${extra[@]}" \
        >"$log" 2>&1 </dev/null &
    pids+=($!)
    PORT=
    for i in $(seq 1 50); do
        PORT=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$log" | head -1)
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    [ -n "${ADDR:-}" ] && return 1
    echo "FAIL: s_server $1 did not start"; cat "$log"; exit 1
}

# The seed pipeline, over a live server and over a file.
pipeline_live() {
    openssl s_client -connect "127.0.0.1:$1" -servername probe.test </dev/null 2>/dev/null |
        openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -binary | base64
}
pipeline_file() {
    openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -binary | base64
}

serve rsa "$P/leaf-rsa.crt.pem" "$P/leaf-rsa.key.pem" "$P/int.crt.pem"; RSA=$PORT
serve rogue "$P/rogue-leaf.crt.pem" "$P/rogue-leaf.key.pem"; ROGUE=$PORT
LEAF=$(pipeline_file "$P/leaf-rsa.crt.pem")
INT=$(pipeline_file "$P/int.crt.pem")
LIVE=$(pipeline_live "$RSA")
[ "$LIVE" = "$LEAF" ] || bad "the openssl pipeline disagrees with itself ($LIVE vs $LEAF)"

# 1. --resolve: dial 127.0.0.1, verify and pin probe.test
out=$("$PINSET_BIN" fetch --cafile "$P/ca.crt.pem" --resolve "probe.test:$RSA:127.0.0.1" \
      "probe.test:$RSA" 2>"$TMP/err"); rc=$?
[ $rc -eq 0 ] || bad "--resolve: exit $rc: $(cat "$TMP/err")"
grep -q "validation: ok for probe.test" <<<"$out" || bad "--resolve: not validated"
grep -q "spki:     $LIVE" <<<"$out" || bad "--resolve: leaf pin is not the pipeline's $LIVE"
grep -q "spki:     $INT" <<<"$out" || bad "--resolve: intermediate pin $INT missing"
grep -q "key:      RSA 2048 bits" <<<"$out" || bad "--resolve: key type"
grep -q "via 127.0.0.1:$RSA" <<<"$out" || bad "--resolve: dialed address not shown"
[ -s "$TMP/err" ] && bad "--resolve: unexpected stderr: $(cat "$TMP/err")"

# 1b. several --resolve addresses: a refused one (nothing listens on 127.0.0.2) is skipped
out=$("$PINSET_BIN" fetch --cafile "$P/ca.crt.pem" --resolve "probe.test:$RSA:127.0.0.2,127.0.0.1" \
      "probe.test:$RSA" 2>"$TMP/err"); rc=$?
[ $rc -eq 0 ] || bad "--resolve with two addresses: exit $rc: $(cat "$TMP/err")"
grep -q "via 127.0.0.1:$RSA" <<<"$out" || bad "--resolve with two addresses: $(head -1 <<<"$out")"

# 2. --connect-to: the user asks for probe.test:443; we dial 127.0.0.1:$RSA
out=$("$PINSET_BIN" fetch --cafile "$P/ca.crt.pem" --connect-to "probe.test:443:127.0.0.1:$RSA" \
      probe.test 2>"$TMP/err"); rc=$?
[ $rc -eq 0 ] || bad "--connect-to: exit $rc: $(cat "$TMP/err")"
grep -q "^probe.test:443 via 127.0.0.1:$RSA" <<<"$out" || bad "--connect-to: header: $(head -1 <<<"$out")"
grep -q "validation: ok for probe.test" <<<"$out" || bad "--connect-to: not validated"

# ... and the name verified stays the original one: another name fails validation
out=$("$PINSET_BIN" fetch --cafile "$P/ca.crt.pem" --connect-to "other.example:443:127.0.0.1:$RSA" \
      other.example 2>"$TMP/err"); rc=$?
[ $rc -eq 4 ] || bad "--connect-to other name: exit $rc, want 4"
grep -q "hostname mismatch" "$TMP/err" || bad "--connect-to other name: stderr: $(cat "$TMP/err")"
grep -q "spki:     $LIVE" <<<"$out" || bad "--connect-to other name: served chain not shown"

# 3. --servername overrides SNI and the verified name of an IP target
"$PINSET_BIN" fetch --cafile "$P/ca.crt.pem" --servername probe.test "127.0.0.1:$RSA" \
    >"$TMP/out" 2>"$TMP/err" || bad "--servername: exit $?: $(cat "$TMP/err")"
grep -q "validation: ok for probe.test" "$TMP/out" || bad "--servername: not validated"

# 4. a rogue chain: exit 4, the served chain still shown, the verify error named
out=$("$PINSET_BIN" fetch --cafile "$P/ca.crt.pem" --resolve "probe.test:$ROGUE:127.0.0.1" \
      "probe.test:$ROGUE" 2>"$TMP/err"); rc=$?
[ $rc -eq 4 ] || bad "rogue: exit $rc, want 4"
grep -q "validation: FAILED at depth 0: unable to get local issuer certificate" <<<"$out" ||
    bad "rogue: validation line: $(grep validation <<<"$out")"
grep -q "spki:     $(pipeline_file "$P/rogue-leaf.crt.pem")" <<<"$out" ||
    bad "rogue: served leaf pin missing"
grep -q "validated chain: none" <<<"$out" || bad "rogue: a validated chain was shown"
grep -q "^pinset: fetch: probe.test:$ROGUE: chain does not validate" "$TMP/err" ||
    bad "rogue: stderr: $(cat "$TMP/err")"

# 5. --format policy skips the rogue host (with a message) and pins the good one
out=$("$PINSET_BIN" fetch --format policy --cafile "$P/ca.crt.pem" \
      --resolve "probe.test:$RSA:127.0.0.1" --resolve "rogue.probe.test:$ROGUE:127.0.0.1" \
      "probe.test:$RSA" "rogue.probe.test:$ROGUE" 2>"$TMP/err"); rc=$?
[ $rc -eq 4 ] || bad "policy: exit $rc, want 4"
grep -q "rogue.probe.test:$ROGUE: not added to the policy" "$TMP/err" || bad "policy: stderr: $(cat "$TMP/err")"
grep -q "\"sha256\": \"$LEAF\"" <<<"$out" || bad "policy: leaf pin missing"
grep -q "\"sha256\": \"$INT\"" <<<"$out" || bad "policy: ca pin missing"
grep -q "rogue" <<<"$out" && bad "policy: the rogue host is in the policy"

# 6. a targets file, with an address column and comments
printf '# inventory\nprobe.test:%s 127.0.0.1\n\n  127.0.0.1:%s   # by address\n' "$RSA" "$RSA" >"$TMP/targets"
out=$("$PINSET_BIN" fetch --format json --cafile "$P/ca.crt.pem" --servername probe.test \
      --targets "$TMP/targets" 2>"$TMP/err"); rc=$?
[ $rc -eq 0 ] || bad "targets: exit $rc: $(cat "$TMP/err")"
[ "$(grep -c '"status": "ok"' <<<"$out")" = 2 ] || bad "targets: want 2 ok hosts"

# 7. the json output, checked with jq where it exists (the C test checks it with jansson)
if command -v jq >/dev/null 2>&1; then
    jq -e '.hosts[0].validated_chain[0].spki_sha256' <<<"$out" >/dev/null || bad "targets: jq"
fi

# 8. IPv6, where the loopback has it: an IP target is verified against the
#    certificate's IP:::1 and shown in brackets
if ADDR='[::1]' serve v6 "$P/leaf-rsa.crt.pem" "$P/leaf-rsa.key.pem" "$P/int.crt.pem"; then
    out=$("$PINSET_BIN" fetch --cafile "$P/ca.crt.pem" "[::1]:$PORT" 2>"$TMP/err"); rc=$?
    [ $rc -eq 0 ] || bad "ipv6: exit $rc: $(cat "$TMP/err")"
    grep -q "^\[::1\]:$PORT via \[::1\]:$PORT" <<<"$out" || bad "ipv6: header: $(head -1 <<<"$out")"
    grep -q "validation: ok for ::1" <<<"$out" || bad "ipv6: not validated"
    "$PINSET_BIN" fetch -4 --cafile "$P/ca.crt.pem" "[::1]:$PORT" >/dev/null 2>"$TMP/err"
    grep -q "dns: no address of the requested family for ::1" "$TMP/err" || bad "ipv6 with -4: $(cat "$TMP/err")"
else
    echo "note: no IPv6 loopback; the IPv6 case is skipped"
fi

[ $fail -eq 0 ] && echo "ok"
exit $fail
