#!/usr/bin/env bash
# test_plan_rotations.sh - issue 13's scenario: a fleet of five client versions shipped over two
# years, each with the pins it shipped in a different policy format, and two years of rotations
# (a leaf key renewal, a move to the backup key, an intermediate change like the 2024 moves
# between CAs, a root change). Each step is planned (`pinset plan --at` the day of the step),
# then executed: the step's chain is served from a real TLS server on 127.0.0.1 and every
# version's policy is checked against it by a pinned client (`pinset check --now`, libpinset's
# OpenSSL hook). Every version the plan says passes must pass, every one it says fails must
# fail, with the same verdict and reason; the plan exits 0 exactly when no version in support
# breaks; and the verdicts, the versions that break and the exit status are also the ones
# worked out by hand below, so the test does not only compare pinset with itself.
#
# The PKI is built here with the openssl command line (nothing from the generated test PKI):
#   R1 (old root) -> I1, I2 (the CA move of step 3)     R2 (new root) -> I3
#   leaf keys: K0 (at first), K1 (step 1: renewal; 1.1 shipped it as its next key),
#              KB (the backup key: steps 2 and 3), K2 (step 4: a new key under the new root)
# Days count from T0, today: every certificate is valid from now for more than two years.
#
#   version  format    pins                 share  end of support
#   1.0      native    K0 (leaf)            0.05   T0+120
#   1.1      OkHttp    K0, K1               0.10   T0+200
#   2.0      Chromium  I1                   0.25   T0+540
#   2.1      TrustKit  I1, I2, KB           0.35   -
#   3.0      native    R1, R2 (ca, on the parent domain with subdomains)  0.25  -
#
#   step           at      chain            breaks            in support and breaking  exit
#   1 renew leaf   T0+60   K1 / I1 / R1     1.0               1.0                      1
#   2 to backup    T0+240  KB / I1 / R1     1.0 1.1           -                        0
#   3 new interm.  T0+420  KB / I2 / R1     1.0 1.1 2.0       2.0                      1
#   4 new root     T0+660  K2 / I3 / R2     all but 3.0       2.1                      1
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}" "${PINSET_SOURCE_DIR:?}"
command -v openssl > /dev/null || { echo "skip: no openssl"; exit 77; }
command -v jq > /dev/null || { echo "skip: no jq"; exit 77; }
# shellcheck disable=SC2034 # read by tls_server.sh
TESTDATA=$PINSET_TESTDATA
TMP=$(mktemp -d) || exit 1
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/testlib/tls_server.sh" # tls_server, tls_server_stop
cleanup() {
    tls_server_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
HOST=api.example.org
P=$TMP/pki
F=$TMP/fleet
mkdir -p "$P" "$F"

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() {
    echo "FAIL: $*"
    exit 1
}

# ---- the PKI ----
ec() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
key_pin() { openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -binary | base64; }
printf '%s\n' "basicConstraints = critical, CA:TRUE" "keyUsage = critical, keyCertSign, cRLSign" \
    "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" > "$P/ca.ext"
printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
    "extendedKeyUsage = serverAuth" "subjectAltName = DNS:$HOST" > "$P/leaf.ext"
root() { # NAME CN
    ec "$P/$1.key.pem" && openssl req -new -x509 -key "$P/$1.key.pem" -subj "/CN=$2" -days 1100 \
        -sha256 -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$P/$1.crt.pem" 2> /dev/null
}
issue() { # OUT KEY CN ISSUER EXT DAYS
    openssl req -new -key "$2" -subj "/CN=$3" -out "$1.csr" 2> /dev/null &&
        openssl x509 -req -in "$1.csr" -CA "$P/$4.crt.pem" -CAkey "$P/$4.key.pem" \
            -set_serial "0x$(openssl rand -hex 8)" -days "$6" -sha256 -extfile "$5" -out "$1" \
            2> /dev/null && rm -f "$1.csr"
}
root R1 "rotations old root" && root R2 "rotations new root" || die "roots"
for i in I1:R1 I2:R1 I3:R2; do
    ec "$P/${i%:*}.key.pem" &&
        issue "$P/${i%:*}.crt.pem" "$P/${i%:*}.key.pem" "rotations ${i%:*}" "${i#*:}" "$P/ca.ext" 1000 ||
        die "intermediate ${i%:*}"
done
for k in K0 K1 KB K2; do ec "$P/$k.key.pem" || die "key $k"; done
cat "$P/R1.crt.pem" "$P/R2.crt.pem" > "$P/roots.pem"
ROOTS=$P/roots.pem
# step chains: leaf (800 days) then its intermediate
step_chain() { # STEP KEY INTERMEDIATE
    issue "$P/$1.leaf.pem" "$P/$2.key.pem" "$HOST" "$3" "$P/leaf.ext" 800 &&
        cat "$P/$1.leaf.pem" "$P/$3.crt.pem" > "$P/$1.chain.pem"
}
step_chain renew K1 I1 && step_chain backup KB I1 && step_chain interm KB I2 &&
    step_chain root K2 I3 || die "step chains"
declare -A PIN
for k in K0 K1 KB K2; do PIN[$k]=$(key_pin "$P/$k.key.pem"); done
for c in R1 R2 I1 I2 I3; do
    PIN[$c]=$(openssl x509 -in "$P/$c.crt.pem" -pubkey -noout |
        openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
done
for k in "${!PIN[@]}"; do [ ${#PIN[$k]} = 44 ] || die "pin of $k"; done

# ---- the fleet ----
day() { date -u -d "+$1 days" +%Y-%m-%d; }
cat > "$F/v1.0.json" << E
{"version": 1, "rules": [{"host": "$HOST", "min_pins": 1,
  "pins": [{"sha256": "${PIN[K0]}", "role": "leaf"}]}]}
E
cat > "$F/v1.1.okhttp" << E
# CertificatePinner.Builder().add("$HOST", the leaf key, the next leaf key)
$HOST sha256/${PIN[K0]} sha256/${PIN[K1]}
E
cat > "$F/v2.0.chromium.json" << E
{"pinsets": [{"name": "$HOST", "static_spki_hashes": ["sha256/${PIN[I1]}"]}],
 "entries": [{"name": "$HOST", "policy": "custom", "pins": "$HOST"}]}
E
cat > "$F/v2.1.trustkit.json" << E
{"TSKConfiguration": {"TSKPinnedDomains": {"$HOST": {
  "TSKPublicKeyHashes": ["${PIN[I1]}", "${PIN[I2]}", "${PIN[KB]}"]}}}}
E
cat > "$F/v3.0.json" << E
{"version": 1, "rules": [{"host": "example.org", "include_subdomains": true,
  "pins": [{"sha256": "${PIN[R1]}", "role": "ca"}, {"sha256": "${PIN[R2]}", "role": "ca"}]}]}
E
cat > "$F/fleet.json" << E
{
  "versions": [
    {"name": "1.0", "policy": "v1.0.json", "share": 0.05, "end_of_support": "$(day 120)"},
    {"name": "1.1", "policy": "v1.1.okhttp", "share": 0.1, "end_of_support": "$(day 200)"},
    {"name": "2.0", "policy": "v2.0.chromium.json", "share": 0.25, "end_of_support": "$(day 540)"},
    {"name": "2.1", "policy": "v2.1.trustkit.json", "share": 0.35},
    {"name": "3.0", "policy": "v3.0.json", "share": 0.25}
  ]
}
E
VERSIONS=(1.0 1.1 2.0 2.1 3.0)
declare -A POLICY=([1.0]=v1.0.json [1.1]=v1.1.okhttp [2.0]=v2.0.chromium.json
    [2.1]=v2.1.trustkit.json [3.0]=v3.0.json)

# ---- plan, then execute ----
cells() { jq -c '[.results[] | [.version, .host, .verdict, .reason, .blocks, .in_support]]' "$1"; }
# step NAME KEY DAYS WANT_EXIT WANT_BREAKING(JSON) WANT_SHARE WANT_VERDICTS WANT_IN_SUPPORT
# (the last two: one word per version, in fleet order)
step() {
    local name=$1 key=$2 at want_rc=$4 want_breaking=$5 want_share=$6 rc port pid v i=0 want got
    local -a verdicts
    read -r -a verdicts <<< "$7"
    at=$(day "$3")
    timeout 60 "$PINSET_BIN" plan --fleet "$F/fleet.json" --chain "$P/$name.chain.pem" --cafile "$ROOTS" \
        --at "$at" --format json > "$TMP/$name.plan.json" 2> "$TMP/$name.plan.err"
    rc=$?
    [ "$(jq -c .hosts "$TMP/$name.plan.json" 2> /dev/null)" = "[\"$HOST\"]" ] &&
        ok "$name: plan judges $HOST only" ||
        { bad "$name: plan exit $rc, hosts $(jq -c .hosts "$TMP/$name.plan.json" 2> /dev/null)"
          cat "$TMP/$name.plan.err"; return; }
    [ "$rc" = "$want_rc" ] && ok "$name: plan exit $rc" || bad "$name: plan exit $rc, want $want_rc"
    # exit 0 exactly when no version in support blocks (from the plan's own cells)
    if jq -e '[.results[] | select(.blocks and .in_support)] | length == 0' \
        "$TMP/$name.plan.json" > /dev/null; then
        [ "$rc" = 0 ] && ok "$name: no version in support breaks, and plan exits 0" ||
            bad "$name: no version in support breaks, but plan exits $rc"
    else
        [ "$rc" = 1 ] && ok "$name: a version in support breaks, and plan exits 1" ||
            bad "$name: a version in support breaks, but plan exits $rc"
    fi
    got=$(jq -c .summary.breaking "$TMP/$name.plan.json")
    [ "$got" = "$want_breaking" ] && ok "$name: breaking $got" ||
        bad "$name: breaking $got, want $want_breaking"
    got=$(jq -r '.summary.share_at_risk' "$TMP/$name.plan.json")
    awk -v a="$got" -v b="$want_share" 'BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9) }' &&
        ok "$name: share at risk $got" || bad "$name: share at risk $got, want $want_share"
    got=$(jq -r '[.results[] | .in_support] | join(" ")' "$TMP/$name.plan.json")
    [ "$got" = "$8" ] && ok "$name: in support: $got" || bad "$name: in support: $got, want $8"

    # serve the step's chain on loopback: its leaf with its key, the intermediate as the chain
    tls_server "S$name" "$P/$name.leaf.pem" "$P/$key.key.pem" "$P/$name.chain.pem"
    port=PORT_S$name
    port=${!port}
    pid=PID_S$name
    pid=${!pid}
    # planned live (--host, no --chain): what the server sends gives the same cells
    timeout 60 "$PINSET_BIN" plan --fleet "$F/fleet.json" --host "$HOST" --cafile "$ROOTS" \
        --connect-to "::127.0.0.1:$port" --timeout 10 --at "$at" --format json \
        > "$TMP/$name.live.json" 2> "$TMP/$name.live.err"
    [ "$(cells "$TMP/$name.live.json")" = "$(cells "$TMP/$name.plan.json")" ] &&
        ok "$name: the live plan agrees with the plan of the chain file" ||
        { bad "$name: the live plan differs from the plan of the chain file"
          cat "$TMP/$name.live.err"; }
    for v in "${VERSIONS[@]}"; do
        timeout 60 "$PINSET_BIN" check --policy "$F/${POLICY[$v]}" --cafile "$ROOTS" --now "$at" \
            --connect-to "::127.0.0.1:$port" --timeout 10 -f json "$HOST" \
            > "$TMP/$name.$v.check.json" 2> "$TMP/$name.$v.check.err"
        rc=$?
        want=$(jq -r --arg v "$v" '.results[] | select(.version == $v) | "\(.verdict) \(.reason)"' \
            "$TMP/$name.plan.json")
        got=$(jq -r '.hosts[0] | "\(.verdict) \(.reason)"' "$TMP/$name.$v.check.json" 2> /dev/null)
        [ -n "$want" ] && [ "$want" = "$got" ] && ok "$name: $v: plan and pinned client say $got" ||
            { bad "$name: $v: plan says '$want', the pinned client '$got' (exit $rc)"
              cat "$TMP/$name.$v.check.err"; }
        if jq -e --arg v "$v" '.results[] | select(.version == $v) | .blocks' \
            "$TMP/$name.plan.json" > /dev/null; then
            [ "$rc" = 1 ] && ok "$name: plan says $v breaks, and its client fails" ||
                bad "$name: plan says $v breaks, but its client exits $rc"
        else
            [ "$rc" = 0 ] && ok "$name: plan says $v passes, and its client connects" ||
                bad "$name: plan says $v passes, but its client exits $rc"
        fi
        # worked out by hand
        [ "${got%% *}" = "${verdicts[$i]}" ] && ok "$name: $v is ${verdicts[$i]}, as expected" ||
            bad "$name: $v is '${got%% *}', expected ${verdicts[$i]}"
        i=$((i + 1))
    done
    kill "$pid" 2> /dev/null # this step's server is done (tls_server_stop reaps it)
}

t0=$(date +%s)
#    name   key day exit breaking  share verdicts: 1.0 1.1 2.0 2.1 3.0   in support: 1.0 ... 3.0
step renew  K1  60  1    '["1.0"]' 0.05  "FAIL PASS PASS PASS PASS" "true true true true true"
step backup KB  240 0    '[]'      0     "FAIL FAIL PASS PASS PASS" "false false true true true"
step interm KB  420 1    '["2.0"]' 0.25  "FAIL FAIL FAIL PASS PASS" "false false true true true"
step root   K2  660 1    '["2.1"]' 0.35  "FAIL FAIL FAIL FAIL PASS" "false false false true true"
echo "steps took $(($(date +%s) - t0)) s"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
