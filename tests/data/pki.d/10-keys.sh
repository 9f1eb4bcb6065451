#!/usr/bin/env bash
# 10-keys.sh OUTDIR - the test PKI for loading objects (bundle.c) and pins.
# Idempotent: every file is written once (to a temporary name, then renamed).
#
# Files written into OUTDIR (T is each key type below):
#   passphrase.txt                the passphrase of every *.enc.* file and *.p12 ("pinset-test-pass")
#   ca-root.{key.pem,crt.pem,crt.der}   root CA (RSA 3072, self-signed, CA:TRUE)
#   ca-int.{key.pem,crt.pem,crt.der}    intermediate CA (EC P-256, signed by the root, CA:TRUE)
#   ca-chain.pem                  ca-int.crt.pem then ca-root.crt.pem
#   leaf-T.key.pem                private key, PKCS#8 PEM (PRIVATE KEY)
#   leaf-T.key.der                private key, PKCS#8 DER
#   leaf-T.key.enc.pem            encrypted PKCS#8 PEM (ENCRYPTED PRIVATE KEY, AES-256)
#   leaf-T.key.enc.der            encrypted PKCS#8 DER
#   leaf-T.pub.pem / .pub.der     SubjectPublicKeyInfo (PUBLIC KEY)
#   leaf-T.crt.pem / .crt.der     leaf certificate (CN=leaf-T.test, SAN DNS:leaf-T.test), signed by ca-int
#   leaf-T.csr.pem / .csr.der     certificate request (CERTIFICATE REQUEST)
#   leaf-T.p12                    PKCS#12: key + leaf + ca-int, AES-256/PBKDF2, passphrase.txt
#   leaf-T.fullchain.pem          leaf, ca-int, ca-root
#   for T in rsa2048 ec256 only (legacy forms):
#   leaf-T.key.trad.pem / .trad.der     traditional key (RSA PRIVATE KEY / EC PRIVATE KEY)
#   leaf-T.key.trad.enc.pem       traditional PEM encrypted with Proc-Type/DEK-Info headers
#   leaf-rsa2048.rsapub.pem / .rsapub.der   PKCS#1 RSAPublicKey (RSA PUBLIC KEY)
#   renew-1.crt.pem, renew-2.crt.pem (+ .der)   two certificates for the SAME key (leaf-ec256.key.pem),
#                                 different serials and validity (a renewal)
#   leaf-ec256.nopass.p12         PKCS#12 (key + leaf) with an empty password
#   mixed.pem                     leaf-ec256.crt, leaf-rsa2048.key, ca-int.crt, leaf-ed25519.pub,
#                                 leaf-ec384.csr, in that order
# Key types T: rsa2048 rsa3072 rsa4096 rsa8192 rsapss ec256 ec384 ec521 ed25519 ed448
set -eu
out=$1
mkdir -p "$out"
cd "$out"
umask 077

TYPES="rsa2048 rsa3072 rsa4096 rsa8192 rsapss ec256 ec384 ec521 ed25519 ed448"
PASS=pinset-test-pass

# once FILE CMD...: unless FILE exists, run CMD with every argument "@T" replaced
# by a temporary path (also in $tmp, for shell functions), then rename it to FILE
once() {
    local f=$1 a args=()
    shift
    [ -s "$f" ] && return 0
    tmp="$f.tmp.$$"
    for a in "$@"; do
        if [ "$a" = @T ]; then args+=("$tmp"); else args+=("$a"); fi
    done
    "${args[@]}"
    mv -f "$tmp" "$f"
}

genkey() {
    case $1 in
    rsa*) [ "$1" = rsapss ] && { openssl genpkey -quiet -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$tmp"; return; }
        openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:${1#rsa}" -out "$tmp" ;;
    ec256) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$tmp" ;;
    ec384) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$tmp" ;;
    ec521) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -pkeyopt ec_param_enc:named_curve -out "$tmp" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$tmp" ;;
    ed448) openssl genpkey -algorithm ED448 -out "$tmp" ;;
    *) echo "unknown key type $1" >&2; exit 1 ;;
    esac
}

# signing digest option: none for EdDSA signers
mdopt() {
    case $1 in ed25519|ed448) ;; *) echo "-sha256" ;; esac
}

[ -s passphrase.txt ] || printf '%s\n' "$PASS" > passphrase.txt

# ---- CAs ----
once ca-root.key.pem genkey rsa3072
once ca-root.crt.pem openssl req -x509 -new -key ca-root.key.pem -sha256 -days 7300 \
    -subj "/C=ZZ/O=pinset test/CN=pinset test root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -set_serial 1 -out @T
once ca-int.key.pem genkey ec256
if [ ! -s ca-int.crt.pem ]; then
    openssl req -new -key ca-int.key.pem -subj "/C=ZZ/O=pinset test/CN=pinset test intermediate" \
        -out ca-int.csr.tmp.$$
    printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca-int.ext.$$
    once ca-int.crt.pem openssl x509 -req -in ca-int.csr.tmp.$$ -CA ca-root.crt.pem -CAkey ca-root.key.pem \
        -sha256 -days 7000 -set_serial 2 -extfile ca-int.ext.$$ -out @T
    rm -f ca-int.csr.tmp.$$ ca-int.ext.$$
fi
once ca-root.crt.der openssl x509 -in ca-root.crt.pem -outform DER -out @T
once ca-int.crt.der openssl x509 -in ca-int.crt.pem -outform DER -out @T
once ca-chain.pem sh -c 'cat ca-int.crt.pem ca-root.crt.pem > "$0"' @T

# leafcert T KEY OUT SERIAL DAYS
leafcert() {
    local t=$1 key=$2 o=$3 serial=$4 days=$5 csr ext
    csr="$o.csr.$$"
    ext="$o.ext.$$"
    openssl req -new -key "$key" $(mdopt "$t") -subj "/C=ZZ/O=pinset test/CN=leaf-$t.test" -out "$csr"
    printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:leaf-%s.test\nextendedKeyUsage=serverAuth\n' "$t" > "$ext"
    openssl x509 -req -in "$csr" -CA ca-int.crt.pem -CAkey ca-int.key.pem -sha256 \
        -days "$days" -set_serial "$serial" -extfile "$ext" -out "$tmp"
    rm -f "$csr" "$ext"
}

n=100
for t in $TYPES; do
    n=$((n + 1))
    b=leaf-$t
    once "$b.key.pem" genkey "$t"
    once "$b.key.der" openssl pkey -in "$b.key.pem" -outform DER -out @T
    once "$b.key.enc.pem" openssl pkcs8 -topk8 -in "$b.key.pem" -v2 aes-256-cbc -passout file:passphrase.txt -out @T
    once "$b.key.enc.der" openssl pkcs8 -topk8 -in "$b.key.pem" -v2 aes-256-cbc -passout file:passphrase.txt -outform DER -out @T
    once "$b.pub.pem" openssl pkey -in "$b.key.pem" -pubout -out @T
    once "$b.pub.der" openssl pkey -in "$b.key.pem" -pubout -outform DER -out @T
    once "$b.crt.pem" leafcert "$t" "$b.key.pem" "$b.crt.pem" "$n" 3650
    once "$b.crt.der" openssl x509 -in "$b.crt.pem" -outform DER -out @T
    once "$b.csr.pem" openssl req -new -key "$b.key.pem" $(mdopt "$t") -subj "/C=ZZ/O=pinset test/CN=leaf-$t.test" -out @T
    once "$b.csr.der" openssl req -in "$b.csr.pem" -outform DER -out @T
    once "$b.p12" openssl pkcs12 -export -inkey "$b.key.pem" -in "$b.crt.pem" -certfile ca-int.crt.pem \
        -passout file:passphrase.txt -out @T
    once "$b.fullchain.pem" sh -c 'cat "$1" ca-int.crt.pem ca-root.crt.pem > "$0"' @T "$b.crt.pem"
done

# ---- legacy forms ----
once leaf-rsa2048.key.trad.pem openssl rsa -in leaf-rsa2048.key.pem -traditional -out @T
once leaf-rsa2048.key.trad.der openssl rsa -in leaf-rsa2048.key.pem -traditional -outform DER -out @T
once leaf-rsa2048.key.trad.enc.pem openssl rsa -in leaf-rsa2048.key.pem -traditional -aes256 -passout file:passphrase.txt -out @T
once leaf-ec256.key.trad.pem openssl ec -in leaf-ec256.key.pem -out @T
once leaf-ec256.key.trad.der openssl ec -in leaf-ec256.key.pem -outform DER -out @T
once leaf-ec256.key.trad.enc.pem openssl ec -in leaf-ec256.key.pem -aes256 -passout file:passphrase.txt -out @T
once leaf-rsa2048.rsapub.pem openssl rsa -in leaf-rsa2048.key.pem -RSAPublicKey_out -out @T
once leaf-rsa2048.rsapub.der openssl rsa -in leaf-rsa2048.key.pem -RSAPublicKey_out -outform DER -out @T

# ---- renewal: two certificates for the same key ----
once renew-1.crt.pem leafcert ec256 leaf-ec256.key.pem renew-1.crt.pem 901 365
once renew-2.crt.pem leafcert ec256 leaf-ec256.key.pem renew-2.crt.pem 902 730
once renew-1.crt.der openssl x509 -in renew-1.crt.pem -outform DER -out @T
once renew-2.crt.der openssl x509 -in renew-2.crt.pem -outform DER -out @T

# ---- a PKCS#12 with an empty password (loads without a passphrase) ----
once leaf-ec256.nopass.p12 openssl pkcs12 -export -inkey leaf-ec256.key.pem -in leaf-ec256.crt.pem \
    -passout pass: -out @T

# ---- a bundle mixing certificates and keys ----
once mixed.pem sh -c 'cat leaf-ec256.crt.pem leaf-rsa2048.key.pem ca-int.crt.pem leaf-ed25519.pub.pem \
    leaf-ec384.csr.pem > "$0"' @T
exit 0
