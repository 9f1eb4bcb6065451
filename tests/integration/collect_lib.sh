# collect_lib.sh - helpers for the collector's shell tests (sourced; needs PINSET_BIN, TMP):
#   collector_start NAME [ARGS...]  pinset collect --listen 127.0.0.1:0 ARGS in the background;
#                                   waits (bounded) for its "listening on" line and sets
#                                   PORT_NAME, PID_NAME and URL_NAME
#   collector_stop NAME [SIGNAL]    stops it (default SIGTERM), waits at most 30 s; sets STOP_RC
#   collector_stop_all              every collector still running (call from the EXIT trap)
#   rfc_report HOST PORT DATE KNOWN-PIN CERT.pem...   an RFC 7469 report (jq) on stdout
_collectors=()
collector_start() {
    local name=$1 url= pid
    shift
    # emptied here, not by the background job's redirection, which may come after the first read
    # below (a collector started again under the same name would give the previous one's port)
    : > "$TMP/$name.out"
    : > "$TMP/$name.err"
    "$PINSET_BIN" collect --listen 127.0.0.1:0 "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
    pid=$!
    _collectors+=("$pid")
    for _ in $(seq 300); do
        url=$(sed -n 's/^listening on \(https\{0,1\}:\/\/127\.0\.0\.1:[0-9][0-9]*\)$/\1/p' "$TMP/$name.out" 2> /dev/null)
        [ -n "$url" ] && break
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    if [ -z "$url" ]; then
        echo "collector $name did not start:" >&2
        cat "$TMP/$name.err" >&2
        return 1
    fi
    printf -v "URL_$name" '%s' "$url"
    printf -v "PORT_$name" '%s' "${url##*:}"
    printf -v "PID_$name" '%s' "$pid"
}

collector_stop() {
    local name=$1 sig=${2:-TERM} pidvar="PID_$1" pid
    pid=${!pidvar}
    kill "-$sig" "$pid" 2> /dev/null
    for _ in $(seq 300); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2> /dev/null; then
        kill -KILL "$pid" 2> /dev/null
        echo "collector $name did not stop within 30 s" >&2
    fi
    wait "$pid" 2> /dev/null
    STOP_RC=$?
}

collector_stop_all() {
    local p
    for p in "${_collectors[@]+"${_collectors[@]}"}"; do
        kill -KILL "$p" 2> /dev/null
    done
    wait 2> /dev/null
}

rfc_report() {
    local host=$1 port=$2 date=$3 known=$4 args=() i=0 f
    shift 4
    for f in "$@"; do
        args+=(--rawfile "c$i" "$f")
        i=$((i + 1))
    done
    jq -nc "${args[@]}" --arg host "$host" --argjson port "$port" --arg date "$date" \
        --arg known "pin-sha256=\"$known\"" '
        [$ARGS.named | to_entries[] | select(.key | startswith("c")) | .value] as $chain |
        {"date-time": $date, "hostname": $host, "port": $port, "effective-expiration-date": null,
         "include-subdomains": false, "noted-hostname": $host,
         "served-certificate-chain": $chain, "validated-certificate-chain": $chain,
         "known-pins": [$known]}'
}
