# plan_fleet.sh - a fleet of client versions and proposed chains for the `pinset plan` tests
# (tests/cli/plan_*.test, tests/integration/test_plan_execute.sh), built from the check PKI of
# tests/data/pki.d/40-check.sh. Source it with TESTDATA set, then call make_fleet DIR:
#
#   DIR/fleet.json            four versions (docs/fleet-format.md):
#     0.9  share 0.05, end of support 2020-01-01 (out of support): the leaf key alone
#     1.0  share 0.3,  end 2099-12-31: the leaf key alone (role leaf)
#     2.0  share 0.5:  the intermediate (role ca) and the backup key, for check.test and
#                      api.check.test
#     3.0  share 0.15: the leaf key and the backup key (role backup)
#   DIR/v0.9.json DIR/v1/policy.json DIR/v2/policy.json DIR/v3/policy.json   their policies
#   DIR/backup-chain.pem      proposed: a leaf on the backup key, signed by the intermediate,
#                             then the intermediate     (DIR/backup-leaf.crt.pem alone)
#   DIR/newkey-chain.pem      proposed: a leaf on a new key no policy names, signed by the
#                             intermediate, then the intermediate (DIR/newkey.key.pem its key)
#   DIR/nonames-chain.pem     a leaf for other.example only, signed by the intermediate
# and sets PIN_* from pins.env. The trust anchors are $TESTDATA/check/trust.pem.
: "${TESTDATA:?plan_fleet.sh: TESTDATA}"
_pd=$TESTDATA/check
# shellcheck disable=SC1091 # generated at test time
. "$_pd/pins.env"

# _plan_leaf OUT KEY SAN: a 30-day leaf on KEY for SAN, signed by the check intermediate.
_plan_leaf() {
    printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
        "extendedKeyUsage = serverAuth" "subjectAltName = $3" > "$1.ext"
    openssl req -new -key "$2" -subj "/CN=plan" -out "$1.csr" 2> /dev/null &&
        openssl x509 -req -in "$1.csr" -CA "$_pd/int.crt.pem" -CAkey "$_pd/int.key.pem" \
            -set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 -extfile "$1.ext" \
            -out "$1" 2> /dev/null
    rm -f "$1.csr" "$1.ext"
}

_plan_policy() { # OUT RULES-JSON
    mkdir -p "$(dirname "$1")"
    printf '{"version": 1, "rules": [%s]}\n' "$2" > "$1"
}

make_fleet() {
    local d=$1 names='DNS:check.test, DNS:*.check.test, DNS:localhost, IP:127.0.0.1'
    mkdir -p "$d"
    _plan_policy "$d/v0.9.json" "{\"host\": \"check.test\", \"min_pins\": 1,
        \"pins\": [{\"sha256\": \"$PIN_LEAF\", \"role\": \"leaf\"}]}"
    _plan_policy "$d/v1/policy.json" "{\"host\": \"check.test\", \"min_pins\": 1,
        \"pins\": [{\"sha256\": \"$PIN_LEAF\", \"role\": \"leaf\"}]}"
    _plan_policy "$d/v2/policy.json" "{\"host\": \"check.test\",
        \"pins\": [{\"sha256\": \"$PIN_INT\", \"role\": \"ca\"}, {\"sha256\": \"$PIN_BACKUP\", \"role\": \"backup\"}]},
        {\"host\": \"api.check.test\",
        \"pins\": [{\"sha256\": \"$PIN_INT\", \"role\": \"ca\"}, {\"sha256\": \"$PIN_BACKUP\", \"role\": \"backup\"}]}"
    _plan_policy "$d/v3/policy.json" "{\"host\": \"check.test\",
        \"pins\": [{\"sha256\": \"$PIN_LEAF\", \"role\": \"leaf\"}, {\"sha256\": \"$PIN_BACKUP\", \"role\": \"backup\"}]}"
    cat > "$d/fleet.json" << 'F'
{
  "versions": [
    {"name": "0.9", "policy": "v0.9.json", "share": 0.05, "end_of_support": "2020-01-01"},
    {"name": "1.0", "policy": "v1/policy.json", "share": 0.3, "end_of_support": "2099-12-31"},
    {"name": "2.0", "policy": "v2/policy.json", "share": 0.5},
    {"name": "3.0", "policy": "v3/policy.json", "share": 0.15}
  ]
}
F
    _plan_leaf "$d/backup-leaf.crt.pem" "$_pd/backup.key.pem" "$names" || return 1
    cat "$d/backup-leaf.crt.pem" "$_pd/int.crt.pem" > "$d/backup-chain.pem"
    openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/newkey.key.pem" || return 1
    _plan_leaf "$d/newkey.crt.pem" "$d/newkey.key.pem" "$names" || return 1
    cat "$d/newkey.crt.pem" "$_pd/int.crt.pem" > "$d/newkey-chain.pem"
    _plan_leaf "$d/nonames.crt.pem" "$d/newkey.key.pem" "DNS:other.example" || return 1
    cat "$d/nonames.crt.pem" "$_pd/int.crt.pem" > "$d/nonames-chain.pem"
}
