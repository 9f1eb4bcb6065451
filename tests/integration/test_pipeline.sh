#!/usr/bin/env bash
# test_pipeline.sh - for every key type of the test PKI, the spki pin that
# `pinset hash --format hpkp` prints for each form of the key (certificate PEM
# and DER, public key, private key, encrypted key, CSR, PKCS#12, and through a
# pipe and process substitution) equals the openssl pipeline
#   openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64
# Same key in two certificates: same spki pin, different cert pins.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v openssl >/dev/null 2>&1 || exit 77
[ -x "$PINSET_BIN" ] || exit 77
"$PINSET_BIN" hash --help >/dev/null 2>&1 || exit 77
cd "$PINSET_TESTDATA" || exit 1

fails=0 passes=0
check() { # name want got
    if [ "$2" = "$3" ]; then
        passes=$((passes + 1))
    else
        echo "FAIL: $1: pinset says '$3', openssl says '$2'" >&2
        fails=$((fails + 1))
    fi
}
pins() { "$PINSET_BIN" hash --format hpkp "$@" 2>&1 | sed -n 's/^pin-sha256="\(.*\)"$/\1/p' | sort -u; }

for t in rsa2048 rsa3072 rsa4096 rsa8192 rsapss ec256 ec384 ec521 ed25519 ed448; do
    b=leaf-$t
    want=$(openssl x509 -in "$b.crt.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -binary | base64)
    for f in crt.pem crt.der pub.pem pub.der key.pem key.der csr.pem csr.der; do
        check "$b.$f" "$want" "$(pins "$b.$f")"
    done
    check "$b.key.enc.pem" "$want" "$(pins --passphrase-file passphrase.txt "$b.key.enc.pem")"
    # the PKCS#12 holds the leaf, the intermediate and the key: leaf and key share the pin
    check "$b.p12" "$want" "$(pins --passphrase-file passphrase.txt "$b.p12" | grep -Fx -- "$want")"
    check "$b stdin" "$want" "$(cat "$b.crt.pem" | pins -)"
    check "$b <(...)" "$want" "$(pins <(cat "$b.crt.der"))"
done

s1=$(pins renew-1.crt.pem) s2=$(pins renew-2.crt.pem)
# cert pins in the text form: hpkp takes key pins only (hash refuses --kind cert with it)
cert_pin() { "$PINSET_BIN" hash --kind cert "$1" | sed -n 's/^  pin: *\([^ ]*\) (cert)$/\1/p'; }
c1=$(cert_pin renew-1.crt.pem)
c2=$(cert_pin renew-2.crt.pem)
check "renewal spki" "$s1" "$s2"
if [ -n "$c1" ] && [ "$c1" != "$c2" ]; then passes=$((passes + 1)); else
    echo "FAIL: renewal: cert pins should differ ('$c1' '$c2')" >&2; fails=$((fails + 1)); fi
want=$(openssl x509 -in renew-1.crt.pem -outform DER | openssl dgst -sha256 -binary | base64)
check "renewal cert pin" "$want" "$c1"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
