# tls_server.sh - openssl s_server on 127.0.0.1 (ephemeral ports) for the shell tests, with the
# check PKI of tests/data/pki.d/40-check.sh; sourced by tests/cli cases and
# tests/integration/test_check_live.sh (the C tests have tls_server.c):
#
#   . "$SRC/tests/testlib/tls_server.sh"      # needs TESTDATA (the generated PKI)
#   start_server GOOD    # leaf + intermediate of the check PKI: sets PORT_GOOD
#   start_server ROGUE   # a leaf mis-issued by a second root that $TRUST also holds
#   down_port            # sets PORT_DOWN: a port that was free a moment ago (refused)
#   tls_server NAME CERT KEY [CHAIN]          # any other: sets PORT_NAME and PID_NAME
#                                             # (TLS_SERVER_OPTS: more s_server options)
#   $PINSET check --policy "$POLICY" --cafile "$TRUST" --connect-to "::127.0.0.1:$PORT_GOOD" ...
#
# tls_server_stop (run at exit: the sourcing shell's EXIT trap; call it from your own trap if
# you set one) stops every server. Every wait is bounded.
command -v openssl > /dev/null || { echo "tls_server.sh: no openssl" >&2; exit 1; }
D=${TESTDATA:?tls_server.sh: TESTDATA}/check
POLICY=$D/policies/check.json
TRUST=$D/trust.pem
_tls_pids=()
tls_server_stop() {
    local p
    for p in "${_tls_pids[@]+"${_tls_pids[@]}"}"; do
        kill -CONT "$p" 2> /dev/null
        kill "$p" 2> /dev/null
    done
    wait 2> /dev/null
}
trap tls_server_stop EXIT

tls_server() {
    local name=$1 log port= pid
    log=$(mktemp "${TMPDIR:-/tmp}/tls_server.XXXXXX") || exit 1
    # shellcheck disable=SC2086 # TLS_SERVER_OPTS: more s_server options, split on purpose
    openssl s_server -accept 127.0.0.1:0 -www -cert "$2" -key "$3" ${4:+-cert_chain "$4"} \
        ${TLS_SERVER_OPTS:-} > "$log" 2>&1 < /dev/null &
    pid=$!
    _tls_pids+=("$pid")
    for _ in $(seq 200); do
        port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$log" 2> /dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "tls_server.sh: server $name did not start" >&2; cat "$log" >&2; rm -f "$log"; exit 1; }
    rm -f "$log"
    printf -v "PORT_$name" '%s' "$port"
    printf -v "PID_$name" '%s' "$pid"
}

start_server() {
    case $1 in
    GOOD) tls_server GOOD "$D/leaf.crt.pem" "$D/leaf.key.pem" "$D/int.crt.pem" ;;
    ROGUE) tls_server ROGUE "$D/rogue-leaf.crt.pem" "$D/rogue-leaf.key.pem" ;;
    *) echo "tls_server.sh: unknown server $1" >&2; exit 1 ;;
    esac
}

# A port where nothing listens: bound by a socket that never listens, held until the end, so
# that no other test's server can take it meanwhile (a connection to it is refused).
down_port() {
    local fifo port= pid
    fifo=$(mktemp -u "${TMPDIR:-/tmp}/down_port.XXXXXX") && mkfifo "$fifo" || exit 1
    python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(600)' > "$fifo" &
    pid=$!
    _tls_pids+=("$pid")
    read -r -t 20 port < "$fifo"
    rm -f "$fifo"
    [ -n "$port" ] || { echo "tls_server.sh: no port for down_port" >&2; exit 1; }
    PORT_DOWN=$port
    PID_DOWN=$pid
}
