#!/usr/bin/env bash
# test_update_http.sh - a pinned client fetching signed policy updates from a
# loopback HTTPS server (`openssl s_server -WWW` on 127.0.0.1, the check PKI)
# with `pinset update --root ROOT.pub --state DIR URL` (libpinset-curl), and
# pinning that same server with the policy in force (`pinset check`):
#  1. rotation of the server's leaf key: v1 pins key A (and a backup); v2
#     adds key B; the server switches to B; the client, on v2, keeps passing
#     (and on v1 it would fail: the test can tell);
#  2. rotation of the signing key: v1 and v2 are signed by signing key S1
#     (delegation generation 1 from the root); v3 by S2 (generation 2); the
#     client needs only the root key throughout;
#  3. refusals over HTTP, each exit 1 with its reason and the state directory
#     byte for byte as it was: replayed older documents (rollback), a body
#     over the size cap (16 MiB), a bad signature, and a document by S1 after
#     generation 2 was applied (delegation rollback).
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v openssl > /dev/null || { echo "skip: openssl not found"; exit 77; }
command -v python3 > /dev/null || { echo "skip: python3 not found"; exit 77; }
TESTDATA=$PINSET_TESTDATA
# shellcheck source=../testlib/tls_server.sh
. "$(dirname "$0")/../testlib/tls_server.sh" # D, TRUST; tls_server NAME CERT KEY [CHAIN]
TMP=$(mktemp -d) || exit 1
trap 'tls_server_stop; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
P=$PINSET_BIN

# serve TMP/www over HTTPS (s_server -WWW: files from its working directory) as NAME: sets PORT
serve() {
    cd "$TMP/www" || exit 1
    TLS_SERVER_OPTS=-WWW tls_server "$1" "$2" "$3" "$D/int.crt.pem"
    cd "$TMP" || exit 1
    local v="PORT_$1"
    PORT=${!v}
}

key_pin() { openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -binary | base64; }

# leaf key B: a second leaf of the check PKI's intermediate, with the same names
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leafB.key.pem || exit 1
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:check.test,DNS:*.check.test,IP:127.0.0.1\n' > leafB.ext
openssl req -new -key leafB.key.pem -subj /CN=check.test -out leafB.csr 2> /dev/null &&
    openssl x509 -req -in leafB.csr -CA "$D/int.crt.pem" -CAkey "$D/int.key.pem" -CAcreateserial \
        -days 30 -sha256 -extfile leafB.ext -out leafB.crt.pem 2> /dev/null || exit 1
PIN_A=$(key_pin "$D/leaf.key.pem")
PIN_B=$(key_pin leafB.key.pem)
PIN_BACKUP=$(key_pin "$D/backup.key.pem")
policy() { # policy FILE PIN...: api.check.test pinned to the pins, the backup key as backup
    local f=$1 pins="" p
    shift
    for p in "$@"; do pins="$pins{\"sha256\": \"$p\"}, "; done
    printf '{"version": 1, "rules": [{"host": "api.check.test", "pins": [%s{"sha256": "%s", "role": "backup"}]}]}' \
        "$pins" "$PIN_BACKUP" > "$f"
}
policy v1.json "$PIN_A"
policy v2.json "$PIN_A" "$PIN_B"
policy v3.json "$PIN_B"

# keys: the root (the client's only trust), signing keys S1 (generation 1) and S2 (generation 2)
for k in root s1 s2; do "$P" keygen "$k" > /dev/null || exit 1; done
"$P" delegate --root-key root --key s1.pub --expires "@$(($(date +%s) + 30 * 86400))" --serial 1 -o s1.deleg > /dev/null || exit 1
"$P" delegate --root-key root --key s2.pub --expires "@$(($(date +%s) + 30 * 86400))" --serial 2 -o s2.deleg > /dev/null || exit 1
mkdir -m 755 www
sign() { "$P" sign --key "$1" --delegation "$1.deleg" --serial "$2" "$3" -o "www/$4" > /dev/null || exit 1; }
sign s1 1 v1.json v1.dsse
sign s1 2 v2.json v2.dsse
sign s2 3 v3.json v3.dsse
sign s1 4 v3.json v4-old-key.dsse
# a bad signature: the payload changed (serial 5) under S2's signature
python3 - www/v3.dsse www/bad-sig.dsse << 'PY' || exit 1
import base64, json, sys
e = json.load(open(sys.argv[1]))
p = base64.b64decode(e["payload"]).replace(b'"serial":3', b'"serial":5', 1)
e["payload"] = base64.b64encode(p).decode()
open(sys.argv[2], "w").write(json.dumps(e))
PY
head -c $((16 * 1024 * 1024 + 4096)) /dev/zero | tr '\0' ' ' > www/huge.dsse

mkdir -m 700 state
in_force() { # the policy in force: the payload of state/current.dsse
    python3 -c 'import base64, json, sys
e = json.load(open("state/current.dsse"))
print(json.dumps(json.loads(base64.b64decode(e["payload"]))["policy"]))' > in-force.json
}
update() { "$P" update --root root.pub --state state --cafile "$TRUST" --timeout 60 "https://127.0.0.1:$PORT/$1" > out 2> err; }
check() { # check POLICY: pinset check of api.check.test on the server; its exit status
    "$P" check -p "$1" --cafile "$TRUST" --connect-to "::127.0.0.1:$PORT" -t 10 api.check.test > /dev/null 2>&1
}
refused() { # refused DOC REASON: exit 1, the reason, the state as it was
    tar -C state -cf before.tar .
    update "$1"
    rc=$?
    [ $rc -eq 1 ] || bad "$1: exit $rc, want 1 ($(cat err))"
    grep -qF "$2" err || bad "$1: stderr lacks '$2': $(cat err)"
    tar -C state -cf after.tar .
    cmp -s before.tar after.tar || bad "$1 changed the state directory"
}

# 1. the server has key A; the client applies v1 and pins with it
serve A "$D/leaf.crt.pem" "$D/leaf.key.pem"
update v1.dsse || bad "v1: $(cat err)"
grep -q '^applied serial 1: ' out || bad "v1 not applied: $(cat out)"
in_force
check in-force.json || bad "v1 in force: the check against key A failed"
# v2 adds key B
update v2.dsse || bad "v2: $(cat err)"
grep -q '^applied serial 2: ' out || bad "v2 not applied: $(cat out)"
in_force
cp in-force.json v2-in-force.json
check in-force.json || bad "v2 in force: the check against key A failed"
# replay of v1 over HTTP
refused v1.dsse "rollback: serial 1 is below the applied serial 2"

# 2. the server switches to key B: the client on v2 keeps passing; v1 would have failed
kill "$PID_A"
wait "$PID_A" 2> /dev/null
serve B "$TMP/leafB.crt.pem" "$TMP/leafB.key.pem"
check v2-in-force.json || bad "v2 in force: the check against key B failed"
check v1.json && bad "v1 passed against key B: the check cannot tell the keys apart"

# 3. the signing key rotates: v3 by S2 (generation 2), fetched from the server on key B
update v3.dsse || bad "v3: $(cat err)"
grep -q '^applied serial 3: ' out || bad "v3 not applied: $(cat out)"
grep -q '^delegation 2$' state/state || bad "the state does not hold delegation generation 2"
in_force
check in-force.json || bad "v3 in force: the check against key B failed"

# 4. refusals over HTTP, each leaving the state as it was
# v2 replayed: refused first because S1's generation is revoked (signatures come before serials)
refused v2.dsse "delegation rollback: delegation serial 1 is below the highest accepted, 2"
refused v4-old-key.dsse "delegation rollback: delegation serial 1 is below the highest accepted, 2"
refused bad-sig.dsse "the signature by a delegated key does not verify"
refused huge.dsse "fetch: the document is larger than 16777216 octets"
in_force
check in-force.json || bad "after the refusals: the check failed"

[ $fail -eq 0 ] && echo "ok: leaf key A -> B and signing key S1 -> S2 over HTTPS; 4 refusals left the state intact"
exit $fail
