#!/usr/bin/env bash
# 20-attack.sh OUTDIR - the test PKI for the verdict path and the attack tests
# (tests/integration/test_attacks.c, tests/unit/test_verify.c, examples).
# Idempotent: every file is written once (to a temporary name, then renamed).
#
# Files written into OUTDIR/attack/ (keys *.key.pem, certificates *.crt.pem and *.crt.der):
#   root            genuine root CA (EC P-256, self-signed)
#   int             genuine intermediate CA (EC P-256, signed by root)
#   rogue-root      a second root the client ALSO trusts (a mis-issuing CA)
#   leaf-rsa        leaf, RSA 2048, signed by int
#   leaf-ec         leaf, EC P-256, signed by int
#   leaf-ed25519    leaf, Ed25519, signed by int
#   leaf-ec-rot     a second leaf with the SAME key as leaf-ec (rotation), new serial
#   rogue-leaf      leaf, EC P-256 (its own key), signed by rogue-root
#   stray-root      a root the client does NOT trust
#   stray-leaf      leaf, EC P-256, signed by stray-root (path validation fails)
#   fake-int        self-signed, with the genuine intermediate's subject name but its own key
#   forged-leaf     leaf signed by fake-int, without authorityKeyIdentifier: a chain
#                   builder takes the genuine int as its issuer and the signature fails
#   every leaf names: example.com, www.example.com, xn--bcher-kva.example
#   (bücher.example), other.example, IP 127.0.0.1
#   trust.pem                 root + rogue-root: what the client trusts
#   T.chain.pem               for each genuine leaf T: T then int (what the server sends)
#   rogue.chain.pem           rogue-leaf (rogue-root is a trust anchor, not sent)
#   stray.chain.pem           stray-leaf, stray-root
#   forged.chain.pem          forged-leaf, then the genuine int
#   stuff-ca.chain.pem        rogue-leaf, then the genuine int and root appended (chain stuffing)
#   stuff-leaf.chain.pem      rogue-leaf, then the genuine leaf-ec appended (chain stuffing)
set -eu
out=$1/attack
mkdir -p "$out"
cd "$out"
umask 077

once() {
    local f=$1
    shift
    [ -s "$f" ] && return 0
    tmp="$f.tmp.$$"
    "$@"
    mv -f "$tmp" "$f"
}

eckey() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp"; }
rsakey() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp"; }
todet() { openssl x509 -in "$1" -outform DER -out "$tmp"; }
edkey() { openssl genpkey -algorithm ED25519 -out "$tmp"; }

cat > ext.cnf.tmp.$$ <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:example.com, DNS:www.example.com, DNS:xn--bcher-kva.example, DNS:other.example, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_noakid]
authorityKeyIdentifier = none
subjectKeyIdentifier = none
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:example.com, DNS:www.example.com, DNS:xn--bcher-kva.example, DNS:other.example, IP:127.0.0.1
EOF
mv -f ext.cnf.tmp.$$ ext.cnf

selfsigned() { # name cn
    openssl req -x509 -new -key "$1.key.pem" -subj "/CN=$2" -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" -out "$tmp"
}

issue() { # name cn issuer section serial [keyfile]
    local key=${6:-$1.key.pem}
    openssl req -new -key "$key" -subj "/CN=$2" -out "$tmp.csr"
    openssl x509 -req -in "$tmp.csr" -CA "$3.crt.pem" -CAkey "$3.key.pem" -set_serial "$5" \
        -days 3000 -sha256 -extfile ext.cnf -extensions "$4" -out "$tmp" 2>/dev/null
    rm -f "$tmp.csr"
}

once root.key.pem eckey
once rogue-root.key.pem eckey
once int.key.pem eckey
once leaf-rsa.key.pem rsakey
once leaf-ec.key.pem eckey
once leaf-ed25519.key.pem edkey
once rogue-leaf.key.pem eckey
once stray-root.key.pem eckey
once stray-leaf.key.pem eckey
once fake-int.key.pem eckey
once forged-leaf.key.pem eckey

once root.crt.pem selfsigned root "pinset test root"
once rogue-root.crt.pem selfsigned rogue-root "pinset rogue root"
once int.crt.pem issue int "pinset test intermediate" root ca 1001
once leaf-rsa.crt.pem issue leaf-rsa example.com int leaf 2001
once leaf-ec.crt.pem issue leaf-ec example.com int leaf 2002
once leaf-ed25519.crt.pem issue leaf-ed25519 example.com int leaf 2003
once leaf-ec-rot.crt.pem issue leaf-ec-rot example.com int leaf 2004 leaf-ec.key.pem
once rogue-leaf.crt.pem issue rogue-leaf example.com rogue-root leaf 6661
once stray-root.crt.pem selfsigned stray-root "pinset stray root"
once stray-leaf.crt.pem issue stray-leaf example.com stray-root leaf 7771
once fake-int.crt.pem selfsigned fake-int "pinset test intermediate"
once forged-leaf.crt.pem issue forged-leaf example.com fake-int leaf_noakid 8881

[ -s leaf-ec-rot.key.pem ] || cp leaf-ec.key.pem leaf-ec-rot.key.pem

for c in root rogue-root int leaf-rsa leaf-ec leaf-ed25519 leaf-ec-rot rogue-leaf stray-root stray-leaf fake-int forged-leaf; do
    once "$c.crt.der" todet "$c.crt.pem"
done

cat_to() { # file parts...
    local f=$1
    shift
    [ -s "$f" ] && return 0
    cat "$@" > "$f.tmp.$$"
    mv -f "$f.tmp.$$" "$f"
}
cat_to trust.pem root.crt.pem rogue-root.crt.pem
for t in leaf-rsa leaf-ec leaf-ed25519 leaf-ec-rot; do
    cat_to "$t.chain.pem" "$t.crt.pem" int.crt.pem
done
cat_to rogue.chain.pem rogue-leaf.crt.pem
cat_to stray.chain.pem stray-leaf.crt.pem stray-root.crt.pem
cat_to forged.chain.pem forged-leaf.crt.pem int.crt.pem
cat_to stuff-ca.chain.pem rogue-leaf.crt.pem int.crt.pem root.crt.pem
cat_to stuff-leaf.chain.pem rogue-leaf.crt.pem leaf-ec.crt.pem
