#!/usr/bin/env bash
# 30-probe.sh OUTDIR - server certificates for the probe engine and `pinset fetch` tests.
# Idempotent: everything is written into OUTDIR/probe.tmp.$$ and renamed to OUTDIR/probe at the end.
#
# Files written into OUTDIR/probe:
#   ca.{key,crt}.pem          root CA "pinset probe test root" (EC P-256, self-signed): pass with --cafile
#   int.{key,crt}.pem         intermediate CA (EC P-256), signed by ca
#   leaf-ec.{key,crt}.pem     leaf (EC P-256), signed by int
#   leaf-rsa.{key,crt}.pem    leaf (RSA 2048), signed by int
#   chain-ec.pem, chain-rsa.pem   leaf then int (what a server sends)
#   rogue-ca.{key,crt}.pem    a CA nobody trusts; rogue-leaf.{key,crt}.pem signed by it; rogue-chain.pem
#   leaf-long.{key,crt}.pem   leaf (EC P-256) signed by int, with a subject of about 390 octets
#                             (six long OUs, one in UTF-8): labels and output must cope;
#                             chain-long.pem = leaf-long then int
# Every leaf names DNS:probe.test, DNS:*.probe.test, DNS:localhost, IP:127.0.0.1 and IP:::1.
set -eu
out=$1
[ -s "$out/probe/chain-long.pem" ] && exit 0
mkdir -p "$out"
work="$out/probe.tmp.$$"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
umask 077

ec() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1"; }
rsa() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"; }

cat > ca.ext <<'X'
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X
cat > leaf.ext <<'X'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:probe.test, DNS:*.probe.test, DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X

# selfsigned NAME CN
selfsigned() {
    ec "$1.key.pem"
    openssl req -new -x509 -key "$1.key.pem" -subj "/CN=$2" -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.crt.pem"
}
# signed NAME SUBJECT ISSUER EXT KEYFN (a bare name is a CN)
signed() {
    local subj=$2
    case $subj in /*) ;; *) subj="/CN=$subj" ;; esac
    "$5" "$1.key.pem"
    openssl req -new -utf8 -key "$1.key.pem" -subj "$subj" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.crt.pem" -CAkey "$3.key.pem" -set_serial "0x$(openssl rand -hex 8)" \
        -days 825 -sha256 -extfile "$4" -out "$1.crt.pem" 2>/dev/null
    rm -f "$1.csr"
}

selfsigned ca "pinset probe test root"
signed int "pinset probe test intermediate" ca ca.ext ec
signed leaf-ec probe.test int leaf.ext ec
signed leaf-rsa probe.test int leaf.ext rsa
cat leaf-ec.crt.pem int.crt.pem > chain-ec.pem
cat leaf-rsa.crt.pem int.crt.pem > chain-rsa.pem
selfsigned rogue-ca "pinset probe rogue root"
signed rogue-leaf probe.test rogue-ca leaf.ext ec
cat rogue-leaf.crt.pem > rogue-chain.pem
ou=$(printf 'x%.0s' $(seq 1 60))
signed leaf-long "/CN=probe.test/OU=a$ou/OU=b$ou/OU=c$ou/OU=d$ou/OU=e$ou/OU=Zürich ☃ ${ou:0:40}" int leaf.ext ec
cat leaf-long.crt.pem int.crt.pem > chain-long.pem
rm -f ca.ext leaf.ext ./*.srl
cd "$out"
rm -rf "$out/probe"
mv "$work" "$out/probe"
