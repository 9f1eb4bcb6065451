#!/usr/bin/env bash
# test_hash_curl.sh - what `pinset hash --format curl` prints works in real curl:
# an `openssl s_server` on 127.0.0.1 (ephemeral port) serves the check PKI's
# leaf and intermediate; `curl --pinnedpubkey "$(pinset hash --format curl
# chain.pem)"` is accepted, where chain.pem holds the whole chain. curl checks
# only the server's own key (a pin of the intermediate alone fails with exit
# 90), which is why hash prints the leaf's key only for curl.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl not found"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "skip: curl not found"; exit 77; }
D=$PINSET_TESTDATA/check
[ -r "$D/chain.pem" ] || { echo "FAIL: no check PKI in $D (40-check.sh)"; exit 1; }

TMP=$(mktemp -d) || exit 1
pid=
cleanup() {
    [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
    rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

timeout 120 openssl s_server -www -accept 127.0.0.1:0 -cert "$D/leaf.crt.pem" \
    -key "$D/leaf.key.pem" -cert_chain "$D/int.crt.pem" >"$TMP/server.log" 2>&1 </dev/null &
pid=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$TMP/server.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || { echo "FAIL: s_server did not start"; cat "$TMP/server.log"; exit 1; }

# curl_pin PIN: curl's exit status for the server with --pinnedpubkey PIN
curl_pin() {
    curl -sS -o /dev/null --max-time 20 --cacert "$D/root.crt.pem" --pinnedpubkey "$1" \
        "https://127.0.0.1:$PORT/" 2>>"$TMP/curl.err"
}

# 1. the whole chain file (leaf, intermediate) gives one pin, the leaf's, and curl takes it
cat "$D/leaf.crt.pem" "$D/int.crt.pem" "$D/root.crt.pem" >"$TMP/chain.pem"
pin=$("$PINSET_BIN" hash --format curl "$TMP/chain.pem" 2>"$TMP/err"); rc=$?
[ $rc -eq 0 ] || bad "hash: exit $rc: $(cat "$TMP/err")"
[ "$(printf '%s\n' "$pin" | wc -l)" = 1 ] || bad "hash: want one pin, got: $pin"
grep -q "left out objects 2, 3 for --format curl" "$TMP/err" || bad "hash: stderr: $(cat "$TMP/err")"
curl_pin "$pin"; rc=$?
[ $rc -eq 0 ] || bad "curl --pinnedpubkey with the leaf-only output: exit $rc, want 0: $(tail -1 "$TMP/curl.err")"

# 2. the same from the chain as the server sends it, read from standard input
pin2=$("$PINSET_BIN" hash --format curl - <"$D/chain.pem" 2>/dev/null)
[ "$pin2" = "$pin" ] || bad "hash of chain.pem on stdin: $pin2, want $pin"

# 3. a server's file of its key and its chain: the key and the leaf are one pin, taken by curl
cat "$D/leaf.key.pem" "$D/chain.pem" >"$TMP/server.pem"
pin3=$("$PINSET_BIN" hash --format curl "$TMP/server.pem" 2>/dev/null)
[ "$pin3" = "$pin" ] || bad "hash of key + chain: $pin3, want $pin"
curl_pin "$pin3"; rc=$?
[ $rc -eq 0 ] || bad "curl --pinnedpubkey with the key + chain output: exit $rc, want 0"

# 4. controls: curl refuses the intermediate's key (it checks the leaf only) and a wrong pin
int=$("$PINSET_BIN" hash --format curl "$D/int.crt.pem")
curl_pin "$int"; rc=$?
[ $rc -eq 90 ] || bad "curl --pinnedpubkey with the intermediate's pin: exit $rc, want 90"
curl_pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; rc=$?
[ $rc -eq 90 ] || bad "curl --pinnedpubkey with a wrong pin: exit $rc, want 90"

[ $fail -eq 0 ] && echo "ok"
exit $fail
