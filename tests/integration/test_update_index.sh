#!/usr/bin/env bash
# test_update_index.sh - a client following the index that `pinset publish`
# writes (`pinset update --index URL`, libpinset-curl's
# pinset_curl_update_apply_index; docs/update-protocol.md "Following the
# index"), against a loopback HTTPS server (python3's http.server with the
# check PKI) that serves the published directory and logs every request:
#  1. v1 published under pins/ and applied by the index: the document path is
#     resolved against the index's URL (pins/updates/1.dsse);
#  2. the index unchanged: "up to date", exit 0, and nothing fetched but the index;
#  3. v2 published: applied;
#  4. refusals, each exit 1 with the member named and the state directory
#     byte for byte as it was: an index whose sha256 is not the document's
#     (the document fetched, then refused before the updater); hostile
#     document paths (../x, /etc/passwd, http://evil/, ?a: nothing fetched
#     beyond the index); an index over 64 KiB; and exit 3 when the document
#     it names is missing (404);
#  5. an index naming an older serial than the one applied: "up to date",
#     nothing fetched; the same older document behind an index that claims a
#     higher serial is fetched and refused by the updater (rollback).
set -u
: "${PINSET_BIN:?}" "${PINSET_TESTDATA:?}"
command -v python3 > /dev/null || { echo "skip: python3 not found"; exit 77; }
D=$PINSET_TESTDATA/check
TMP=$(mktemp -d) || exit 1
SPID=
stop() {
    [ -n "$SPID" ] && kill "$SPID" 2> /dev/null
    wait 2> /dev/null
    rm -rf "$TMP"
}
trap stop EXIT
cd "$TMP" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
P=$PINSET_BIN

"$P" keygen root > /dev/null || exit 1
pol() { # pol FILE PIN: api.example.com pinned to PIN, with a backup
    printf '{"version": 1, "rules": [{"host": "api.example.com", "pins": [{"sha256": "%s"}, {"sha256": "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=", "role": "backup"}]}]}' "$2" > "$1"
}
pol v1.json AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
pol v2.json BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=
pol v3.json CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=
for n in 1 2 3; do "$P" sign --key root --serial $n v$n.json -o v$n.dsse > /dev/null || exit 1; done
mkdir -p www/pins www/bad || exit 1

cat > server.py << 'PY'
import functools, http.server, ssl, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        with open(sys.argv[4], "a") as f:
            f.write(self.path + "\n")
        super().do_GET()
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=sys.argv[1]))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
mkfifo port.fifo || exit 1
python3 server.py "$TMP/www" "$D/chain.pem" "$D/leaf.key.pem" "$TMP/requests.log" > port.fifo &
SPID=$!
read -r -t 20 PORT < port.fifo || { echo "server did not start"; exit 1; }
U="https://127.0.0.1:$PORT"

mkdir -m 700 state
update() { # update PATH: pinset update --index of $U/PATH; the requests it made in requests.log
    : > requests.log
    "$P" update --root root.pub --state state --cafile "$D/trust.pem" --timeout 20 --index "$U/$1" > out 2> err
}
requests() { tr '\n' ' ' < requests.log; }
sha() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }

# 1. v1, by the index
"$P" publish --root root.pub --out www/pins v1.dsse > /dev/null || exit 1
update pins/index.json || bad "v1: exit $? ($(cat err))"
grep -q '^applied serial 1: 1 rule: api.example.com$' out || bad "v1 not applied: $(cat out)"
[ "$(requests)" = "/pins/index.json /pins/updates/1.dsse " ] || bad "v1: requests $(requests)"
cmp -s state/current.dsse v1.dsse || bad "v1: current.dsse is not v1"

# 2. the index unchanged: up to date, only the index fetched
update pins/index.json || bad "unchanged: exit $? ($(cat err))"
grep -q '^up to date serial 1: the index names serial 1$' out || bad "unchanged: $(cat out)"
[ "$(requests)" = "/pins/index.json " ] || bad "unchanged: fetched more than the index: $(requests)"

# 3. v2 published: applied
"$P" publish --root root.pub --out www/pins v2.dsse > /dev/null || exit 1
update pins/index.json || bad "v2: exit $? ($(cat err))"
grep -q '^applied serial 2: ' out || bad "v2 not applied: $(cat out)"
[ "$(requests)" = "/pins/index.json /pins/updates/2.dsse " ] || bad "v2: requests $(requests)"
cmp -s state/current.dsse v2.dsse || bad "v2: current.dsse is not v2"

# bad/NAME/index.json: an index of SERIAL naming DOCUMENT with SHA256
index() { # index NAME SERIAL DOCUMENT SHA256
    mkdir -p "www/bad/$1/updates" || exit 1
    python3 -c 'import json, sys
json.dump({"serial": int(sys.argv[2]), "document": sys.argv[3], "sha256": sys.argv[4],
           "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2036-01-01T00:00:00Z"},
          open(sys.argv[1], "w"), indent=2)' "www/bad/$1/index.json" "$2" "$3" "$4" || exit 1
}
refused() { # refused NAME EXIT REASON REQUESTS: exit EXIT, REASON (if any) on stderr, only
    #          REQUESTS made, the state as it was
    tar -C state -cf before.tar .
    update "bad/$1/index.json"
    rc=$?
    [ $rc -eq "$2" ] || bad "$1: exit $rc, want $2 ($(cat err))"
    [ -z "$3" ] || grep -qF -- "$3" err || bad "$1: stderr lacks '$3': $(cat err)"
    [ "$(requests)" = "$4" ] || bad "$1: requests $(requests), want $4"
    tar -C state -cf after.tar .
    cmp -s before.tar after.tar || bad "$1 changed the state directory"
}

# 4. the index's sha256 is v2's, the document is v3: fetched, refused before the updater
index sha 3 updates/3.dsse "$(sha v2.dsse)"
cp v3.dsse www/bad/sha/updates/3.dsse
refused sha 1 "sha256: the document's SHA-256 is $(sha v3.dsse), not the index's $(sha v2.dsse): not applied" \
    "/bad/sha/index.json /bad/sha/updates/3.dsse "
# hostile document paths: refused with the member named, nothing fetched beyond the index
cp v3.dsse www/bad/x
index dotdot 3 ../x "$(sha v3.dsse)"
refused dotdot 1 "document: document contains \"..\"" "/bad/dotdot/index.json "
index absolute 3 /etc/passwd "$(sha v3.dsse)"
refused absolute 1 "document: document is an absolute path" "/bad/absolute/index.json "
index scheme 3 http://evil/ "$(sha v3.dsse)"
refused scheme 1 "document: document has a scheme" "/bad/scheme/index.json "
index query 3 '?a' "$(sha v3.dsse)"
refused query 1 "document: document has a query" "/bad/query/index.json "
index short 3 updates/3.dsse "$(sha v3.dsse | cut -c1-63)"
refused short 1 "sha256: sha256 is not 64 hex digits" "/bad/short/index.json "
index zero 0 updates/3.dsse "$(sha v3.dsse)"
refused zero 1 "serial: serial is not a positive integer" "/bad/zero/index.json "
# the document the index names is missing: the transfer fails (exit 3), named as the document's
index missing 3 updates/3.dsse "$(sha v3.dsse)"
refused missing 3 "document: fetch: HTTP status 404" "/bad/missing/index.json /bad/missing/updates/3.dsse "
# an index over 64 KiB (valid JSON, padded): refused while it arrives
index huge 3 updates/3.dsse "$(sha v3.dsse)"
{ head -c 70000 /dev/zero | tr '\0' ' '; cat www/bad/huge/index.json; } > huge.json
mv huge.json www/bad/huge/index.json
refused huge 1 "fetch: the index is larger than 65536 octets" "/bad/huge/index.json "

# 5. an index naming serial 1 while 2 is applied: up to date, nothing fetched, nothing changed
index old 1 updates/1.dsse "$(sha v1.dsse)"
cp v1.dsse www/bad/old/updates/1.dsse
refused old 0 "" "/bad/old/index.json "
grep -q '^up to date serial 2: the index names serial 1$' out || bad "old: $(cat out)"
# the same older document behind an index that claims serial 9: the updater refuses the rollback
index forced 9 updates/1.dsse "$(sha v1.dsse)"
cp v1.dsse www/bad/forced/updates/1.dsse
refused forced 1 "rollback: serial 1 is below the applied serial 2" \
    "/bad/forced/index.json /bad/forced/updates/1.dsse "
cmp -s state/current.dsse v2.dsse || bad "after the refusals: current.dsse is not v2"

[ $fail -eq 0 ] && echo "ok: v1 and v2 by the index, up to date with one request, 9 hostile indexes refused with the state intact, an older serial not fetched and its rollback refused"
exit $fail
