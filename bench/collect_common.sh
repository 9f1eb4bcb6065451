# collect_common.sh - what bench_collect.sh (SQLite) and bench_collect_pg.sh (PostgreSQL)
# share, sourced by both after they set: me (the script's name, for messages), build (the
# build directory), n (the reports to time), src (the source tree), tmp (a temporary directory
# the caller removes) and pid (empty: the collector's, once started).
#   fail MSG            print "ME: FAILED: MSG" and exit 1
#   now_ns              the wall clock in ns
#   start DB            a collector on a free port with --db DB and $tmp/policy.json; sets pid, url
#   stop                stop it; clears pid
#   config KIND A B     curl -K transfers to $url: POST of $tmp/r/I.json for I in A..B (KIND
#                       post), or as many GET /healthz (KIND get)
#   send CONFIG         run them with 8 senders; prints "WALL-NS CPU-TICKS" (the collector's
#                       user + system CPU time); the answers' codes in $tmp/codes
#   make_reports        $tmp/policy.json and total=n+500 distinct reports $tmp/r/1.json ..
#                       (the first 500 for the warm-up): the chain of examples/chain.pem, a
#                       different port each
# shellcheck shell=bash disable=SC2154 # me, build, src, tmp: set by the sourcing script

fail() { echo "$me: FAILED: $*" >&2; exit 1; }
now_ns() { date +%s%N; }

start() {
    "$build/pinset" collect --listen 127.0.0.1:0 --db "$1" --policy "$tmp/policy.json" \
        --rate 1000000 --burst 1000000 > "$tmp/out" 2> "$tmp/err" &
    pid=$!
    url=
    for _ in $(seq 300); do
        url=$(sed -n 's/^listening on //p' "$tmp/out")
        [ -n "$url" ] && return 0
        sleep 0.05
    done
    fail "the collector did not start: $(cat "$tmp/err")"
}
stop() {
    kill "$pid"
    wait "$pid" 2> /dev/null
    pid=
}
config() {
    awk -v url="$url" -v a="$2" -v b="$3" -v dir="$tmp/r" -v post="$1" 'BEGIN {
        for (i = a; i <= b; i++) {
            if (i > a) print "next"
            if (post == "post") printf "url = \"%s/report\"\ndata-binary = \"@%s/%d.json\"\n", url, dir, i
            else printf "url = \"%s/healthz\"\n", url
            printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\n" } }'
}
# the collector's CPU time so far (user + system), in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
send() {
    local t0 t1 c0 c1
    c0=$(ticks)
    t0=$(now_ns)
    curl -sS --parallel --parallel-max 8 --max-time 600 -K "$1" > "$tmp/codes" 2> "$tmp/curl.err"
    t1=$(now_ns)
    c1=$(ticks)
    echo "$((t1 - t0)) $((c1 - c0))"
}

make_reports() {
    local leafpin
    awk '/BEGIN CERT/{k++; c=""} {c=c $0 "\n"} /END CERT/{print c > ("'"$tmp"'/c" k ".pem")}' "$src/examples/chain.pem"
    leafpin=$(openssl x509 -in "$tmp/c1.pem" -pubkey -noout 2> /dev/null | openssl pkey -pubin -outform DER 2> /dev/null |
        openssl dgst -sha256 -binary 2> /dev/null | openssl base64 2> /dev/null)
    [ -n "$leafpin" ] || leafpin=d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=
    printf '{"version": 1, "rules": [{"host": "bench.example", "pins": [{"sha256": "d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=", "role": "ca"}, {"sha256": "%s", "role": "leaf"}]}]}\n' \
        "$leafpin" > "$tmp/policy.json"
    jq -nc --rawfile a "$tmp/c1.pem" --rawfile b "$tmp/c2.pem" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{
        "date-time": $date, "hostname": "www.bench.example", "port": 65535, "effective-expiration-date": null,
        "include-subdomains": true, "noted-hostname": "bench.example",
        "served-certificate-chain": [$a, $b], "validated-certificate-chain": [$a, $b],
        "known-pins": ["pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\""]}' > "$tmp/template.json"
    mkdir "$tmp/r"
    total=$((n + 500))
    awk -v n="$total" -v dir="$tmp/r" '{ t = t $0 } END {
        for (i = 1; i <= n; i++) { s = t; sub(/"port":65535/, "\"port\":" (i % 65535 + 1), s);
            if (i > 65534) sub(/"www.bench.example"/, "\"w" int(i / 65535) ".bench.example\"", s);
            f = dir "/" i ".json"; print s > f; close(f) } }' "$tmp/template.json"
}
