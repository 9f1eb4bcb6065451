#!/usr/bin/env bash
# 25-deep.sh OUTDIR - a chain longer than a verdict holds (PINSET_CHAIN_MAX = 16), for
# the chain-too-long tests (tests/integration/test_attacks.c, tests/cli/explain_chain_deep*.test).
# Idempotent: everything is written into OUTDIR/deep.tmp.$$ and renamed to OUTDIR/deep at the end.
#
# Files written into OUTDIR/deep:
#   root.{key,crt}.pem        root CA "pinset deep root" (EC P-256)
#   i1 .. i17.crt.pem         17 intermediates, i1 signed by root, i(k+1) by i(k)
#   leaf.{key,crt}.pem        leaf (EC P-256) signed by i17; names DNS:example.com, IP:127.0.0.1
#   trust.pem                 root and the 17 intermediates: the validated chain has 19
#                             certificates when only the leaf is presented
#   leaf.chain.pem            the leaf alone (what the server sends)
#   pins.env                  PIN_ROOT, PIN_LEAF (spki, base64)
#   policy.json               example.com pinned to the leaf's key (depth 0, inside the first 16
#                             certificates: a verdict over a truncated chain would PASS), with a
#                             backup pin
set -eu
out=$1
[ -s "$out/deep/policy.json" ] && exit 0
mkdir -p "$out"
work="$out/deep.tmp.$$"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
umask 077

ec() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
spki_pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64; }

cat > ext.cnf <<'X'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:example.com, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X

issue() { # name cn issuer section serial
    openssl req -new -key "$1.key.pem" -subj "/CN=$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.crt.pem" -CAkey "$3.key.pem" -set_serial "$5" \
        -days 3000 -sha256 -extfile ext.cnf -extensions "$4" -out "$1.crt.pem" 2>/dev/null
    rm -f "$1.csr"
}

ec root.key.pem
openssl req -x509 -new -key root.key.pem -subj "/CN=pinset deep root" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out root.crt.pem
cp root.crt.pem trust.pem
prev=root
for i in $(seq 1 17); do
    ec "i$i.key.pem"
    issue "i$i" "pinset deep intermediate $i" "$prev" ca "$((100 + i))"
    cat "i$i.crt.pem" >> trust.pem
    prev=i$i
done
ec leaf.key.pem
issue leaf example.com "$prev" leaf 200
cp leaf.crt.pem leaf.chain.pem
rm -f i*.key.pem

{
    echo "PIN_ROOT=$(spki_pin root.crt.pem)"
    echo "PIN_LEAF=$(spki_pin leaf.crt.pem)"
} > pins.env
cat > policy.json <<X
{
  "version": 1,
  "rules": [
    {"host": "example.com", "report_uris": ["https://reports.invalid/pin"], "pins": ["$(spki_pin leaf.crt.pem)", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="]}
  ]
}
X
rm -rf "$out/deep"
mv "$work" "$out/deep"
