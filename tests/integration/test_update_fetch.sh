#!/usr/bin/env bash
# test_update_fetch.sh - the transfer bounds of `pinset update URL`
# (libpinset-curl, curl_update.h; docs/update-protocol.md "Fetching")
# against a scripted HTTP server on 127.0.0.1 (python3's http.server):
#  - a redirect is refused (exit 3), not followed to the document it names;
#  - a 404 is refused (exit 3);
#  - a Content-Length over 16 MiB is refused before the body (exit 1);
#  - a chunked body with no length is cut off once it passes 16 MiB (exit 1),
#    and the server saw the client go away before it had sent 32 MiB;
#  - a server that stalls after its headers is given up after --timeout (exit 3);
#  - an ftp:// URL is not fetched (it is no http or https URL);
#  - with --max-redirects 2, a redirect loop stops at the bound (exit 3) and
#    one redirect is followed;
#  - the document itself is applied (exit 0).
# Every refusal leaves the state directory byte for byte as it was.
set -u
: "${PINSET_BIN:?}"
command -v python3 > /dev/null || { echo "skip: python3 not found"; exit 77; }
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
printf %s '{"version": 1, "rules": [{"host": "api.example.com", "pins": [{"sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, {"sha256": "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=", "role": "backup"}]}]}' > pol.json
"$P" sign --key root --serial 1 pol.json -o doc.dsse > /dev/null || exit 1
"$P" sign --key root --serial 2 pol.json -o doc2.dsse > /dev/null || exit 1

cat > server.py << 'PY'
import http.server, sys, time
MIB = 1024 * 1024
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def body(self, code, data, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        p = self.path
        if p == "/doc.dsse":
            self.body(200, open("doc.dsse", "rb").read())
        elif p == "/redirect":
            self.body(302, b"", [("Location", "/doc2.dsse")])
        elif p == "/doc2.dsse":
            self.body(200, open("doc2.dsse", "rb").read())
        elif p == "/loop":
            self.body(302, b"", [("Location", "/loop")])
        elif p == "/missing":
            self.body(404, b"no such document\n")
        elif p == "/length-huge":
            self.send_response(200)
            self.send_header("Content-Length", str(17 * MIB))
            self.end_headers()
            self.wfile.flush()
        elif p == "/chunked-huge":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            sent = 0
            try:
                while sent < 32 * MIB:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                self.wfile.write(b"0\r\n\r\n")
                open("chunked.log", "w").write("all sent\n")
            except OSError:
                open("chunked.log", "w").write("client gone after %d\n" % sent)
        elif p == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(20)
        else:
            self.body(404, b"")
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
mkfifo port.fifo || exit 1
python3 server.py > port.fifo &
SPID=$!
read -r -t 20 PORT < port.fifo || { echo "server did not start"; exit 1; }

mkdir -m 700 state
U="http://127.0.0.1:$PORT"
update() { "$P" update --root root.pub --state state --timeout "${T:-20}" "$U/$1" > out 2> err; }
update doc.dsse || bad "doc.dsse: $(cat err)"
grep -q '^applied serial 1: ' out || bad "doc.dsse not applied: $(cat out)"

refused() { # refused PATH EXIT REASON
    tar -C state -cf before.tar .
    update "$1"
    rc=$?
    [ $rc -eq "$2" ] || bad "$1: exit $rc, want $2 ($(cat err))"
    grep -qF -- "$3" err || bad "$1: stderr lacks '$3': $(cat err)"
    tar -C state -cf after.tar .
    cmp -s before.tar after.tar || bad "$1 changed the state directory"
}
refused redirect 3 "fetch: redirect refused (HTTP status 302)"
refused missing 3 "fetch: HTTP status 404"
refused length-huge 1 "fetch: the document is larger than 16777216 octets"
refused chunked-huge 1 "fetch: the document is larger than 16777216 octets"
for _ in $(seq 100); do [ -s chunked.log ] && break; sleep 0.1; done
grep -q '^client gone after' chunked.log || bad "the chunked body was not cut off: $(cat chunked.log 2> /dev/null)"
T=1 refused stall 3 "fetch: Operation timed out"
tar -C state -cf before.tar .
"$P" update --root root.pub --state state "ftp://127.0.0.1:$PORT/doc.dsse" > out 2> err
rc=$?
[ $rc -ne 0 ] || bad "ftp:// accepted"
tar -C state -cf after.tar .
cmp -s before.tar after.tar || bad "ftp:// changed the state directory"

# with --max-redirects: a redirect loop stops at the bound; one redirect is followed
update() { "$P" update --root root.pub --state state --max-redirects 2 "$U/$1" > out 2> err; }
refused loop 3 "fetch: more than 2 redirects"
update redirect || bad "redirect with --max-redirects 2: $(cat err)"
grep -q '^applied serial 2: ' out || bad "the redirect to doc2.dsse was not followed: $(cat out)"

[ $fail -eq 0 ] && echo "ok: redirect, 404, oversize (by length and while receiving), stall, another scheme and a redirect loop refused; a bounded redirect followed"
exit $fail
