#!/usr/bin/env bash
# test_update_openssl.sh - signed update documents are DSSE as others read
# and write it, not only as pinset reads its own: with the `openssl` command
# line and python3 (JSON and base64 only) and no pinset code,
#  1. the keyid `pinset keygen` prints and the envelope carries is the SHA-256
#     of the public key's DER SubjectPublicKeyInfo (`openssl pkey | openssl dgst`);
#  2. the signature of a document from `pinset sign` verifies with `openssl
#     pkeyutl -verify -rawin` (Ed25519) or `openssl dgst -sha256 -verify`
#     (P-256) over PAE(payloadType, payload) built here from the DSSE spec,
#     and stops verifying when one PAE byte changes;
#  3. a document whose payload, PAE and signature are made here with openssl
#     passes `pinset verify`, and fails it once its payload is re-serialised.
set -u
: "${PINSET_BIN:?}"
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl not found"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 not found"; exit 77; }
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
T=application/vnd.pinset.policy-update+json

cat > pol.json <<'J'
{"version": 1, "rules": [{"host": "api.example.com", "pins": [
  {"sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
  {"sha256": "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=", "role": "backup"}]}]}
J

# split DOC: payloadType into type, the decoded payload into body, the first
# signature into sig (raw) and its keyid into keyid
split() {
    python3 - "$1" <<'P'
import base64, json, sys
e = json.load(open(sys.argv[1]))
assert sorted(e) == ["payload", "payloadType", "signatures"], sorted(e)
open("type", "w").write(e["payloadType"])
open("body", "wb").write(base64.b64decode(e["payload"], validate=True))
open("sig", "wb").write(base64.b64decode(e["signatures"][0]["sig"], validate=True))
open("keyid", "w").write(e["signatures"][0]["keyid"])
P
}
# PAE(type, body) into pae: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
pae() {
    local t n
    t=$(cat type)
    n=$(wc -c < body)
    { printf 'DSSEv1 %d %s %d ' "${#t}" "$t" "$n"; cat body; } > pae
}
spki_sha256() { openssl pkey -pubin -in "$1" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }

for type in ed25519 p256; do
    key=$type.key
    out=$("$PINSET_BIN" keygen --type "$type" "$key") || { bad "$type: keygen"; continue; }
    want=$(spki_sha256 "$key.pub")
    printf '%s\n' "$out" | grep -q "^keyid: *$want " || bad "$type: keygen's keyid is not the spki sha-256 $want"
    "$PINSET_BIN" sign --key "$key" --serial 5 --scope api.example.com pol.json -o doc.json >/dev/null ||
        { bad "$type: sign"; continue; }
    split doc.json || { bad "$type: the envelope is not DSSE json"; continue; }
    [ "$(cat type)" = "$T" ] || bad "$type: payloadType $(cat type)"
    [ "$(cat keyid)" = "$want" ] || bad "$type: envelope keyid $(cat keyid), want $want"
    python3 -c 'import json,sys; p=json.load(open("body")); assert sorted(p)==["expires_at","issued_at","policy","scope","serial"], sorted(p); assert p["serial"]==5 and p["scope"]==["api.example.com"]' ||
        bad "$type: payload fields"
    pae
    if [ "$type" = ed25519 ]; then
        v() { openssl pkeyutl -verify -pubin -inkey "$key.pub" -rawin -in "$1" -sigfile sig >/dev/null 2>&1; }
    else
        v() { openssl dgst -sha256 -verify "$key.pub" -signature sig "$1" >/dev/null 2>&1; }
    fi
    v pae || bad "$type: openssl does not verify pinset's signature over the PAE"
    { printf 'DSSEv1 %d %s %d ' "${#T}" "$T" "$(wc -c < body)"; sed '1s/5/6/' body; } > pae2
    cmp -s pae pae2 && bad "$type: the altered PAE is not altered"
    v pae2 && bad "$type: openssl verifies an altered PAE: the check cannot fail"

    # the other way: a document made with openssl alone
    printf '%s' "$T" > type
    python3 - <<'P'
import json
pol = json.load(open("pol.json"))
body = {"serial": 9, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z", "policy": pol}
open("body", "wb").write(json.dumps(body, indent=1).encode())
P
    pae
    if [ "$type" = ed25519 ]; then
        openssl pkeyutl -sign -inkey "$key" -rawin -in pae -out sig || { bad "$type: openssl sign"; continue; }
    else
        openssl dgst -sha256 -sign "$key" -out sig pae || { bad "$type: openssl sign"; continue; }
    fi
    python3 - "$want" <<'P'
import base64, json, sys
b = open("body", "rb").read()
s = open("sig", "rb").read()
env = {"payloadType": open("type").read(), "payload": base64.b64encode(b).decode(),
       "signatures": [{"keyid": sys.argv[1], "sig": base64.b64encode(s).decode()}]}
open("ossl.json", "w").write(json.dumps(env))
# the same value, re-serialised (compact): what a careless relay would send
env["payload"] = base64.b64encode(json.dumps(json.loads(b), separators=(",", ":")).encode()).decode()
open("reser.json", "w").write(json.dumps(env))
P
    out=$("$PINSET_BIN" verify --root "$key.pub" --now 2027-01-01 ossl.json 2>&1)
    [ $? -eq 0 ] || bad "$type: pinset verify refuses openssl's document: $out"
    printf '%s\n' "$out" | grep -q '^serial: *9$' || bad "$type: serial not 9 in: $out"
    out=$("$PINSET_BIN" verify --root "$key.pub" --now 2027-01-01 reser.json 2>&1)
    [ $? -eq 1 ] || bad "$type: a re-serialised payload is not refused: $out"
done
[ $fail -eq 0 ] && echo "ok: keyid, PAE and signatures agree with openssl (ed25519, p256)"
exit $fail
