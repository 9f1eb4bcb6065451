#!/usr/bin/env bash
# test_plan_execute.sh - `pinset plan` planned, then executed: for each proposed chain of the
# test fleet (tests/testlib/plan_fleet.sh: a leaf on the backup key, a leaf on a new key, the
# rogue root's chain, the current chain), plan it (JSON), then serve that very chain from a real
# TLS server on 127.0.0.1 and check every version's policy against it with `pinset check`, a
# pinned client on libpinset's OpenSSL hook. Every (version, host) verdict the plan gave must be
# the one the client reaches, every version the plan says breaks must fail the check (exit 1),
# and every one it says passes must pass (exit 0). The plan of the live server (--host without
# --chain) must agree with the plan of the chain file, and a plan of a new leaf key (--key,
# --csr, and --rotate's candidates) with the plan of a leaf really issued on that key.
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}" "${PINSET_SOURCE_DIR:?}"
command -v openssl > /dev/null || { echo "skip: no openssl"; exit 77; }
command -v jq > /dev/null || { echo "skip: no jq"; exit 77; }
TESTDATA=$PINSET_TESTDATA
D=$TESTDATA/check
[ -s "$D/policies/check.json" ] || { echo "FAIL: no check PKI in $D (40-check.sh)"; exit 1; }
TMP=$(mktemp -d) || exit 1
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/testlib/tls_server.sh" # TRUST, tls_server, tls_server_stop
# shellcheck disable=SC1091
. "$PINSET_SOURCE_DIR/tests/testlib/plan_fleet.sh" # make_fleet
cleanup() {
    tls_server_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
make_fleet "$TMP/f" || { echo "FAIL: make_fleet"; exit 1; }

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# execute NAME CHAIN KEY WANT_PLAN_EXIT WANT_BREAKING(JSON array of names)
execute() {
    local name=$1 chain=$2 key=$3 want_rc=$4 want_breaking=$5 rc port leaf policy v hosts
    "$PINSET_BIN" plan --fleet "$TMP/f/fleet.json" --chain "$chain" --cafile "$TRUST" \
        --format json > "$TMP/$name.plan.json"
    rc=$?
    [ "$rc" = "$want_rc" ] && ok "$name: plan exit $rc" || bad "$name: plan exit $rc, want $want_rc"
    [ "$(jq -c .summary.breaking "$TMP/$name.plan.json")" = "$want_breaking" ] &&
        ok "$name: breaking $want_breaking" ||
        bad "$name: breaking $(jq -c .summary.breaking "$TMP/$name.plan.json"), want $want_breaking"
    # serve the proposed chain: its leaf with its key, the rest as the chain sent
    leaf=$TMP/$name.leaf.pem
    openssl x509 -in "$chain" -out "$leaf" || { bad "$name: leaf"; return; }
    tls_server "X$name" "$leaf" "$key" "$chain"
    port=PORT_X$name
    port=${!port}
    mapfile -t hosts < <(jq -r '.hosts[]' "$TMP/$name.plan.json")
    # planned live (--host, no --chain), from what the server sends: the same verdicts
    for h in "${hosts[@]}"; do
        "$PINSET_BIN" plan --fleet "$TMP/f/fleet.json" --host "$h" --cafile "$TRUST" \
            --connect-to "::127.0.0.1:$port" --format json > "$TMP/$name.live.json"
        [ "$(jq -c '[.results[] | [.version, .verdict, .reason]]' "$TMP/$name.live.json")" = \
            "$(jq -c --arg h "$h" '[.results[] | select(.host == $h) | [.version, .verdict, .reason]]' \
                "$TMP/$name.plan.json")" ] && ok "$name: live plan of $h agrees" ||
            bad "$name: live plan of $h differs from the plan of the chain file"
    done
    while IFS=$'\t' read -r v policy; do
        "$PINSET_BIN" check --policy "$policy" --cafile "$TRUST" --connect-to "::127.0.0.1:$port" \
            --format json "${hosts[@]}" > "$TMP/$name.$v.check.json"
        rc=$?
        for h in "${hosts[@]}"; do
            local want got
            want=$(jq -r --arg v "$v" --arg h "$h" \
                '.results[] | select(.version == $v and .host == $h) | "\(.verdict) \(.reason)"' \
                "$TMP/$name.plan.json")
            got=$(jq -r --arg h "$h" '.hosts[] | select(.host == $h) | "\(.verdict) \(.reason)"' \
                "$TMP/$name.$v.check.json")
            [ -n "$want" ] && [ "$want" = "$got" ] && ok "$name: $v on $h: plan and client say $got" ||
                bad "$name: $v on $h: plan says '$want', the pinned client '$got'"
        done
        if jq -e --arg v "$v" '[.results[] | select(.version == $v and .blocks)] | length > 0' \
            "$TMP/$name.plan.json" > /dev/null; then
            [ "$rc" = 1 ] && ok "$name: $v breaks, and its client fails" ||
                bad "$name: plan says $v breaks, but its check exits $rc"
        else
            [ "$rc" = 0 ] && ok "$name: $v passes, and its client connects" ||
                bad "$name: plan says $v passes, but its check exits $rc"
        fi
    done < <(jq -r '.versions[] | "\(.name)\t\(.policy)"' "$TMP/f/fleet.json" |
        sed "s#\t#\t$TMP/f/#")
}

execute backup "$TMP/f/backup-chain.pem" "$D/backup.key.pem" 1 '["1.0"]'
execute newkey "$TMP/f/newkey-chain.pem" "$TMP/f/newkey.key.pem" 1 '["1.0","3.0"]'
execute rogue "$D/rogue-chain.pem" "$D/rogue-leaf.key.pem" 1 '["1.0","2.0","3.0"]'
execute current "$D/chain.pem" "$D/leaf.key.pem" 0 '[]'

# --key / --csr: a leaf on a key under the current issuing chain, planned without issuing it,
# must agree with the plan of the leaf really issued on that key (executed above).
results() { jq -c '[.results[] | [.version, .host, .verdict, .reason, .blocks]]' "$1"; }
openssl req -new -key "$TMP/f/newkey.key.pem" -subj /CN=new -out "$TMP/new.csr" 2> /dev/null
"$PINSET_BIN" plan --fleet "$TMP/f/fleet.json" --chain "$D/chain.pem" --cafile "$TRUST" \
    --key "$D/backup.key.pem" --format json > "$TMP/key.plan.json"
[ "$(results "$TMP/key.plan.json")" = "$(results "$TMP/backup.plan.json")" ] &&
    ok "--key backup.key.pem: as the executed backup chain" || bad "--key backup.key.pem differs"
"$PINSET_BIN" plan --fleet "$TMP/f/fleet.json" --chain "$D/chain.pem" --cafile "$TRUST" \
    --csr "$TMP/new.csr" --format json > "$TMP/csr.plan.json"
[ "$(results "$TMP/csr.plan.json")" = "$(results "$TMP/newkey.plan.json")" ] &&
    ok "--csr new.csr: as the executed new-key chain" || bad "--csr new.csr differs"

# --rotate: the backup key is candidate 1 and what it says breaks is what broke when a leaf on
# that key was served (executed above); a new key breaks what the executed new-key chain broke.
"$PINSET_BIN" plan --fleet "$TMP/f/fleet.json" --chain "$D/chain.pem" --cafile "$TRUST" \
    --rotate check.test --format json > "$TMP/rotate.json"
[ "$(jq -c '.candidates[0].breaking' "$TMP/rotate.json")" = "$(jq -c .summary.breaking "$TMP/backup.plan.json")" ] &&
    ok "--rotate: the backup key breaks what the executed backup chain broke" ||
    bad "--rotate: the backup key's breaking differs from the executed plan"
[ "$(jq -c '.candidates[-1] | select(.new_key) | .breaking' "$TMP/rotate.json")" = \
    "$(jq -c .summary.breaking "$TMP/newkey.plan.json")" ] &&
    ok "--rotate: a new key breaks what the executed new-key chain broke" ||
    bad "--rotate: the new key's breaking differs from the executed plan"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
