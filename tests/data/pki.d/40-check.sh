#!/usr/bin/env bash
# 40-check.sh OUTDIR - servers' certificates, a rogue CA and pin policies for the
# `pinset check` and `pinset explain` tests (tests/integration/test_check_*.sh,
# tests/cli/check_*.test, tests/cli/explain_*.test).
# Idempotent: everything is written into OUTDIR/check.tmp.$$ and renamed to OUTDIR/check at
# the end. The policies hold pins of keys generated here, so they are written here too.
#
# Files written into OUTDIR/check:
#   root.{key,crt}.pem        root CA "pinset check root" (EC P-256)
#   int.{key,crt}.pem         intermediate CA, signed by root
#   leaf.{key,crt}.pem        leaf (EC P-256), signed by int, valid 30 days; names
#                             DNS:check.test, DNS:*.check.test, DNS:*.sub.check.test,
#                             DNS:localhost, IP:127.0.0.1
#   chain.pem                 leaf then int (what a good server sends)
#   rogue-root.{key,crt}.pem  a second root that the client ALSO trusts (a mis-issuing CA)
#   rogue-leaf.{key,crt}.pem  leaf with the same names, signed by rogue-root
#   rogue-chain.pem           rogue-leaf alone
#   trust.pem                 root + rogue-root: what the client trusts
#   backup.key.pem            a key that is deployed nowhere (the backup pin)
#   pins.env                  PIN_ROOT, PIN_INT, PIN_LEAF, PIN_ROGUE, PIN_BACKUP (spki, base64),
#                             CERT_LEAF (cert pin), LEAF_NOT_AFTER (epoch seconds)
#   policies/check.json       rules for pass., rogue., report., leafonly., down., expiring.
#                             and certpin.check.test (see below)
#   policies/explain.json     exact, include_subdomains parent and exclusion rules
set -eu
out=$1
[ -s "$out/check/policies/explain.json" ] && exit 0
mkdir -p "$out"
work="$out/check.tmp.$$"
rm -rf "$work"
mkdir -p "$work/policies"
cd "$work"
umask 077

ec() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1"; }
spki_pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64; }
key_pin() { openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -binary | base64; }
cert_pin() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -binary | base64; }

cat > ca.ext <<'X'
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X
cat > leaf.ext <<'X'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:check.test, DNS:*.check.test, DNS:*.sub.check.test, DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X
selfsigned() {
    ec "$1.key.pem"
    openssl req -new -x509 -key "$1.key.pem" -subj "/CN=$2" -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.crt.pem"
}
# signed NAME CN ISSUER EXT DAYS
signed() {
    ec "$1.key.pem"
    openssl req -new -key "$1.key.pem" -subj "/CN=$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.crt.pem" -CAkey "$3.key.pem" \
        -set_serial "0x$(openssl rand -hex 8)" -days "$5" -sha256 -extfile "$4" -out "$1.crt.pem" 2>/dev/null
    rm -f "$1.csr"
}

selfsigned root "pinset check root"
signed int "pinset check intermediate" root ca.ext 1825
signed leaf "check.test" int leaf.ext 30
cat leaf.crt.pem int.crt.pem > chain.pem
selfsigned rogue-root "pinset check rogue root"
signed rogue-leaf "check.test" rogue-root leaf.ext 30
cp rogue-leaf.crt.pem rogue-chain.pem
cat root.crt.pem rogue-root.crt.pem > trust.pem
ec backup.key.pem
rm -f ca.ext leaf.ext ./*.srl

PIN_ROOT=$(spki_pin root.crt.pem)
PIN_INT=$(spki_pin int.crt.pem)
PIN_LEAF=$(spki_pin leaf.crt.pem)
PIN_ROGUE=$(spki_pin rogue-leaf.crt.pem)
PIN_BACKUP=$(key_pin backup.key.pem)
CERT_LEAF=$(cert_pin leaf.crt.pem)
LEAF_NOT_AFTER=$(date -u -d "$(openssl x509 -in leaf.crt.pem -noout -enddate | cut -d= -f2)" +%s)
# a rule that expires in 10 days (fail-open): `check --now` 15 days ahead sees EXPIRED_OPEN
EXPIRES=$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)
# a pin that stops counting in 20 days
PIN_NOT_AFTER=$(date -u -d '+20 days' +%Y-%m-%dT%H:%M:%SZ)
cat > pins.env <<E
PIN_ROOT=$PIN_ROOT
PIN_INT=$PIN_INT
PIN_LEAF=$PIN_LEAF
PIN_ROGUE=$PIN_ROGUE
PIN_BACKUP=$PIN_BACKUP
CERT_LEAF=$CERT_LEAF
LEAF_NOT_AFTER=$LEAF_NOT_AFTER
RULE_EXPIRES=$EXPIRES
PIN_NOT_AFTER=$PIN_NOT_AFTER
E

# check.json:
#   pass.     the issuing CA key + a backup: PASS, rotation ready, survives a new leaf key
#   rogue.    same pins; its server sends the rogue chain (trusted): FAIL no-match
#   report.   same pins in report mode, rogue chain: REPORT_ONLY_FAIL
#   leafonly. the leaf key alone (role leaf, not_after in 20 days): PASS, no backup, bricks on rotation
#   leafbackup. the leaf key + a backup: PASS, ready via the backup, not via a CA pin
#   down.     nothing listens: not checked (exit 4)
#   expiring. a wrong pin, the rule expires in 10 days, fail-open
#   certpin.  the leaf's certificate pin: PASS
cat > policies/check.json <<E
{
  "version": 1,
  "pinsets": {
    "check-ca": {
      "pins": [
        {"sha256": "$PIN_INT", "role": "ca", "label": "check intermediate"},
        {"sha256": "$PIN_BACKUP", "role": "backup", "label": "standby key"}
      ]
    }
  },
  "rules": [
    {"host": "pass.check.test", "pinset": "check-ca"},
    {"host": "rogue.check.test", "pinset": "check-ca"},
    {"host": "report.check.test", "pinset": "check-ca", "mode": "report"},
    {"host": "leafonly.check.test", "min_pins": 1,
     "pins": [{"sha256": "$PIN_LEAF", "role": "leaf", "label": "current leaf", "not_after": "$PIN_NOT_AFTER"}]},
    {"host": "leafbackup.check.test",
     "pins": [{"sha256": "$PIN_LEAF", "role": "leaf", "label": "current leaf"},
              {"sha256": "$PIN_BACKUP", "role": "backup", "label": "standby key"}]},
    {"host": "down.check.test", "pinset": "check-ca"},
    {"host": "expiring.check.test", "expires": "$EXPIRES", "on_expiry": "fail-open",
     "pins": [{"sha256": "$PIN_ROGUE", "role": "any", "label": "wrong key"},
              {"sha256": "$PIN_BACKUP", "role": "backup", "label": "standby key"}]},
    {"host": "certpin.check.test",
     "pins": [{"sha256": "$CERT_LEAF", "kind": "cert", "role": "leaf", "label": "leaf certificate"},
              {"sha256": "$PIN_BACKUP", "role": "backup", "label": "standby key"}]}
  ]
}
E

# explain.json: exact (api.), a parent with include_subdomains (sub.) and an exclusion under it
# (open.sub.); anything else under check.test is not pinned.
cat > policies/explain.json <<E
{
  "version": 1,
  "pinsets": {
    "check-ca": {
      "pins": [
        {"sha256": "$PIN_INT", "role": "ca", "label": "check intermediate"},
        {"sha256": "$PIN_BACKUP", "role": "backup", "label": "standby key"}
      ]
    }
  },
  "rules": [
    {"host": "api.check.test", "pinset": "check-ca"},
    {"host": "sub.check.test", "include_subdomains": true,
     "pins": [{"sha256": "$PIN_ROOT", "role": "ca", "label": "check root"},
              {"sha256": "$PIN_BACKUP", "role": "backup", "label": "standby key"}]},
    {"host": "open.sub.check.test", "exclude": true},
    {"host": "rogue.check.test", "pinset": "check-ca"}
  ]
}
E
cd "$out"
rm -rf "$out/check"
mv "$work" "$out/check"
