# monitor_lib.sh - the service-mode helpers of the monitor's shell tests (sourced; needs
# PINSET_BIN, TMP, the configuration in $TMP/mon.json and a `bad` function):
#   start_monitor   pinset monitor --config $TMP/mon.json --listen 127.0.0.1:0 in the background,
#                   output in $TMP/svc.out and svc.err; waits (bounded) for its "listening on" line
#                   and sets MON_PID and MON_PORT
#   stop_monitor    SIGTERM, then waits at most 30 s (then SIGKILL); sets STOP_RC
start_monitor() {
    # emptied here, not by the background job's redirection: that may come after the first read
    # below, which would then find the previous monitor's port (and its messages)
    : > "$TMP/svc.out"
    : > "$TMP/svc.err"
    "$PINSET_BIN" monitor --config "$TMP/mon.json" --listen 127.0.0.1:0 > "$TMP/svc.out" 2> "$TMP/svc.err" &
    MON_PID=$!
    MON_PORT=
    for _ in $(seq 600); do
        MON_PORT=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$TMP/svc.out")
        [ -n "$MON_PORT" ] && break
        sleep 0.1
    done
    [ -n "$MON_PORT" ] || { bad "monitor did not listen"; cat "$TMP/svc.err"; exit 1; }
}
stop_monitor() {
    kill -TERM "$MON_PID"
    for _ in $(seq 300); do kill -0 "$MON_PID" 2> /dev/null || break; sleep 0.1; done
    if kill -0 "$MON_PID" 2> /dev/null; then
        STOP_RC=timeout
        kill -9 "$MON_PID"
    else
        wait "$MON_PID"
        STOP_RC=$?
    fi
    MON_PID=
}
