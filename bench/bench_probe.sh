#!/usr/bin/env bash
# bench_probe.sh BUILDDIR [N] - how fast `pinset fetch` probes N local TLS endpoints
# (default 500; issue 4, "How fast"), against what users run today, in the same run:
#   - the seed pipeline (openssl s_client | x509 | pkey | dgst | base64) once per host,
#     on a sample of $PINSET_BENCH_SAMPLE hosts (default 50), extrapolated to N;
#   - curl --pinnedpubkey once per host, same sample, extrapolated;
#   - one curl --parallel --parallel-max 16 over all N URLs (one pin list for all);
#   - bench/floor.c: a minimal in-process OpenSSL client, 2 threads x 16 handshakes
#     in flight, chain validation on;
#   - pinset check --format jsonl over all N (concurrency 32, as the floor): a policy of N
#     exact rules, one per endpoint (hN.probe.test, leaf pin of that endpoint's key + the
#     intermediate's pin, computed with the openssl pipeline from the certificate files
#     before timing), each host validated and checked against its own rule; it must exit 0
#     with N PASS lines or the benchmark fails;
#   - pinset fetch --format json over all N (concurrency 32, as the floor), each host
#     validated and every certificate of both chains described and pinned;
#   - peak memory (max RSS) of pinset fetch over 10,000 hosts (the N ports, repeated).
# The endpoints: bench/probe_server (ONE process, N ports, half EC P-256 and half
# RSA-2048 leaves with their intermediate) stands in for nginx, which is not installed.
# Needs a build with -DPINSET_BUILD_BENCH=ON; the test PKI script makes the certificates.
# Without curl the two curl rows (and their ratios) are skipped with a note.
# Exit: 0 done (targets missed are reported, not failures), 1 a wrong result (a pinset row
# did not PASS/validate every host, or the server did not start), 2 a missing tool.
set -u
build=${1:?usage: bench_probe.sh BUILDDIR [N]}
n=${2:-500}
sample=${PINSET_BENCH_SAMPLE:-50}
src=$(cd "$(dirname "$0")/.." && pwd)
for p in "$build/pinset" "$build/bench/probe_server" "$build/bench/floor"; do
    [ -x "$p" ] || { echo "bench_probe.sh: $p missing (configure with -DPINSET_BUILD_BENCH=ON)" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "bench_probe.sh: openssl not found" >&2; exit 2; }
have_curl=0; command -v curl >/dev/null && have_curl=1
fail() { echo "bench_probe.sh: FAILED: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinset-bench-probe.XXXXXX")
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && { exec 9>&-; wait "$srv_pid" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$src/tests/data/pki.d/30-probe.sh" "$tmp/pki" >/dev/null
P=$tmp/pki/probe
CA=$P/ca.crt.pem

# the server: reads its stdin until EOF, so closing fd 9 stops it
mkfifo "$tmp/ctl"
"$build/bench/probe_server" "$P" "$n" <"$tmp/ctl" >"$tmp/ports" &
srv_pid=$!
exec 9>"$tmp/ctl"
for _ in $(seq 1 100); do [ "$(wc -l <"$tmp/ports")" -ge "$n" ] && break; sleep 0.1; done
[ "$(wc -l <"$tmp/ports")" -ge "$n" ] || { echo "bench_probe.sh: server did not start" >&2; exit 1; }

pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64; }
PIN_EC=$(pin "$P/leaf-ec.crt.pem")
PIN_RSA=$(pin "$P/leaf-rsa.crt.pem")
PIN_INT=$(pin "$P/int.crt.pem")
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

awk '{ print "probe.test:" $1 " 127.0.0.1" }' "$tmp/ports" >"$tmp/targets"
head -n "$sample" "$tmp/ports" >"$tmp/sample"
# `check`: one name and one rule per endpoint (the leaves name *.probe.test).
# check_input PORTSFILE PREFIX writes PREFIX-targets and PREFIX-policy.json
check_input() {
    awk '{ print "h" NR ".probe.test:" $1 " 127.0.0.1" }' "$1" >"$2-targets"
    awk -v ec="$PIN_EC" -v rsa="$PIN_RSA" -v ca="$PIN_INT" '
        BEGIN { printf "{\n  \"version\": 1,\n  \"rules\": [" }
        {
            printf "%s\n    {\"host\": \"h%d.probe.test\", \"pins\": [", (NR > 1 ? "," : ""), NR
            printf "{\"sha256\": \"%s\", \"role\": \"leaf\"}, ", ($2 == "rsa" ? rsa : ec)
            printf "{\"sha256\": \"%s\", \"role\": \"ca\"}]}", ca
        }
        END { print "\n  ]\n}" }' "$1" >"$2-policy.json"
}
check_input "$tmp/ports" "$tmp/check"

echo "probe benchmark: $n endpoints on 127.0.0.1 (half EC P-256, half RSA-2048 leaves + intermediate)"
curl_v="no curl"; [ "$have_curl" = 1 ] && curl_v=$(curl --version | head -n 1 | cut -d' ' -f1-2)
echo "machine: $(uname -srm); $(nproc) cpu(s); $(openssl version); $curl_v"

# 1. the seed pipeline, once per host (sample)
t0=$(now); ok=0
while read -r port kind; do
    got=$(openssl s_client -connect "127.0.0.1:$port" -servername probe.test -verify_return_error \
          -CAfile "$CA" </dev/null 2>/dev/null | openssl x509 -pubkey -noout 2>/dev/null |
          openssl pkey -pubin -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64)
    want=$PIN_EC; [ "$kind" = rsa ] && want=$PIN_RSA
    [ "$got" = "$want" ] && ok=$((ok + 1))
done <"$tmp/sample"
t_pipe=$(awk -v t="$(since "$t0")" -v s="$sample" -v n="$n" 'BEGIN { printf "%.3f", t * n / s }')
echo "pipeline:        ${t_pipe} s (extrapolated from $sample hosts, $ok correct)"

t_curl1=; t_curlp=
if [ "$have_curl" = 1 ]; then
# 2. curl --pinnedpubkey, once per host (sample)
t0=$(now); ok=0
while read -r port kind; do
    want=$PIN_EC; [ "$kind" = rsa ] && want=$PIN_RSA
    curl -s -o /dev/null --cacert "$CA" --resolve "probe.test:$port:127.0.0.1" \
        --pinnedpubkey "sha256//$want" "https://probe.test:$port/" && ok=$((ok + 1))
done <"$tmp/sample"
t_curl1=$(awk -v t="$(since "$t0")" -v s="$sample" -v n="$n" 'BEGIN { printf "%.3f", t * n / s }')
echo "curl per host:   ${t_curl1} s (extrapolated from $sample hosts, $ok correct)"

# 3. one curl --parallel over all URLs: one pin list for all hosts
{
    echo "cacert = \"$CA\""
    echo "pinnedpubkey = \"sha256//$PIN_EC;sha256//$PIN_RSA\""
    echo "silent"
    while read -r port _; do
        echo "resolve = \"probe.test:$port:127.0.0.1\""
        echo "url = \"https://probe.test:$port/\""
        echo "output = \"/dev/null\""
    done <"$tmp/ports"
} >"$tmp/curl.cfg"
t0=$(now)
curl --parallel --parallel-max 16 -K "$tmp/curl.cfg" -w '%{http_code}\n' >"$tmp/curl.codes" 2>/dev/null
t_curlp=$(since "$t0")
echo "curl --parallel: ${t_curlp} s ($(grep -c '^200$' "$tmp/curl.codes") of $n answered)"
else
echo "note: curl not found; the curl rows are skipped"
fi

# 4. the floor
floor_out=$("$build/bench/floor" "$CA" "$tmp/ports" 16 2)
t_floor=$(awk '{ print $3 }' <<<"$floor_out")
echo "floor:           ${t_floor} s ($(awk '{ print $4 }' <<<"$floor_out") handshakes ok, 2 threads x 16)"

# 5. pinset check, each host against its own rule (median of 3); every run must PASS all N
runs=()
for _ in 1 2 3; do
    t0=$(now)
    "$build/pinset" check --policy "$tmp/check-policy.json" --format jsonl --concurrency 32 \
        --cafile "$CA" --targets "$tmp/check-targets" >"$tmp/check.jsonl" 2>"$tmp/check.err"
    rc=$?
    runs+=("$(since "$t0")")
    npass=$(grep -c '"verdict":"PASS"' "$tmp/check.jsonl")
    nval=$(grep -c '"validated":true' "$tmp/check.jsonl")
    nown=$(grep -c '"host":"\(h[0-9]*\.probe\.test\)".*"rule":{[^}]*"host":"\1"' "$tmp/check.jsonl")
    if [ "$rc" -ne 0 ] || [ "$npass" -ne "$n" ] || [ "$nval" -ne "$n" ] || [ "$nown" -ne "$n" ]; then
        head -n 3 "$tmp/check.err" >&2
        grep -v '"verdict":"PASS"' "$tmp/check.jsonl" | head -n 3 >&2
        fail "pinset check exit $rc, $npass PASS, $nval validated, $nown on their own rule, of $n hosts"
    fi
done
t_check=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
echo "pinset check:    ${t_check} s (exit 0, $n of $n PASS on their own rule, validated; median of ${runs[*]})"

# 6. pinset fetch (median of 3)
runs=()
for _ in 1 2 3; do
    t0=$(now)
    "$build/pinset" fetch --format json --concurrency 32 --cafile "$CA" --servername probe.test \
        --targets "$tmp/targets" >"$tmp/fetch.json" 2>"$tmp/fetch.err"
    rc=$?
    runs+=("$(since "$t0")")
done
t_pinset=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
okh=$(grep -c '"validated": true' "$tmp/fetch.json")
echo "pinset fetch:    ${t_pinset} s (exit $rc, $okh of $n validated; median of ${runs[*]})"

if [ "$rc" -ne 0 ] || [ "$okh" -ne "$n" ]; then fail "pinset fetch exit $rc, $okh of $n validated"; fi

# 7. peak memory over 10,000 hosts (the N ports repeated): fetch, and check with 10,000 rules
reps=$(( (10000 + n - 1) / n ))
for _ in $(seq 1 "$reps"); do cat "$tmp/targets"; done | head -n 10000 >"$tmp/targets10k"
for _ in $(seq 1 "$reps"); do cat "$tmp/ports"; done | head -n 10000 >"$tmp/ports10k"
check_input "$tmp/ports10k" "$tmp/check10k"
rss_kb=; rss_check_kb=
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$tmp/rss-check" "$build/pinset" check --format jsonl --concurrency 64 \
        --cafile "$CA" --policy "$tmp/check10k-policy.json" --targets "$tmp/check10k-targets" \
        >"$tmp/check10k.jsonl" 2>"$tmp/check10k.err"
    rc=$?
    npass=$(grep -c '"verdict":"PASS"' "$tmp/check10k.jsonl")
    if [ "$rc" -ne 0 ] || [ "$npass" -ne 10000 ]; then
        head -n 3 "$tmp/check10k.err" >&2
        fail "pinset check of 10,000 hosts: exit $rc, $npass of 10000 PASS"
    fi
    rss_check_kb=$(tail -n 1 "$tmp/rss-check")
    echo "pinset check of 10,000 hosts (10,000 rules): exit 0, all PASS, max RSS $((rss_check_kb / 1024)) MB"
    /usr/bin/time -f '%M' -o "$tmp/rss" "$build/pinset" fetch --format json --concurrency 64 \
        --cafile "$CA" --servername probe.test --targets "$tmp/targets10k" >/dev/null 2>&1
    rss_kb=$(tail -n 1 "$tmp/rss")
    echo "pinset fetch of 10,000 hosts: max RSS $((rss_kb / 1024)) MB"
else
    echo "note: /usr/bin/time not found; the peak memory rows are skipped"
fi

echo
awk -v pipe="$t_pipe" -v curl1="$t_curl1" -v curlp="$t_curlp" -v floor="$t_floor" -v c="$t_check" \
    -v f="$t_pinset" -v rss="$rss_kb" -v rssc="$rss_check_kb" '
function verdict(ok) { if (ok) return "met"; return "MISSED" }
function row(name, p) {
    printf "%s vs pipeline:        %6.1fx faster (target >= 40x)  %s\n", name, pipe / p, verdict(pipe / p >= 40)
    if (curl1 != "") {
        printf "%s vs curl per host:   %6.1fx faster (target >= 10x)  %s\n", name, curl1 / p, verdict(curl1 / p >= 10)
        printf "%s vs curl --parallel: %6.2fx faster (target > 1x)    %s\n", name, curlp / p, verdict(curlp / p > 1)
    } else {
        printf "%s vs curl:            skipped (curl not found)\n", name
    }
    printf "%s / floor:            %6.2fx time   (target <= 1.3x) %s\n", name, p / floor, verdict(p / floor <= 1.3)
}
BEGIN {
    # what the floor itself reaches: no client within 1.3x of it can beat these by more
    printf "floor vs pipeline:          %6.1fx faster", pipe / floor
    if (curl1 != "") printf "; floor vs curl per host: %.1fx; floor vs curl --parallel: %.2fx", curl1 / floor, curlp / floor
    print " (what a client exactly as fast as the floor would score)"
    row("check", c)
    print "(for comparison, fetch: describes and pins every certificate of both chains; not the issue target)"
    row("fetch", f)
    if (rssc != "") printf "peak memory, check of 10,000 hosts: %6.1f MB (target < 64 MB)  %s\n", rssc / 1024, verdict(rssc / 1024 < 64)
    if (rss != "") printf "peak memory, fetch of 10,000 hosts: %6.1f MB (target < 64 MB)  %s\n", rss / 1024, verdict(rss / 1024 < 64)
}'
