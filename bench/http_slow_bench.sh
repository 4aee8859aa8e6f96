#!/usr/bin/env bash
# Do slow clients freeze the API? 300 clients (slowloris) each send a
# request line and then one header line every 2 s, never finishing, and
# come back a second after the server closes them; meanwhile GET
# /api/health is asked every 50 ms on a new connection and timed (a probe
# without an answer within 5 s counts 5000 ms).
#
#   http.api_p99_ms[slow_clients=300]   (target <= 250)
#
# The trainer runs as shipped (HTTP settings included: 128 workers,
# --http-timeout 10 s); no capture node, nothing trains. All clients are on
# 127.0.0.1, the same address as the probe.
#
#   bench/http_slow_bench.sh [--quick]     (part of bench/run.sh http)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30 clients=${SLOW_CLIENTS:-300}
[ "${1:-}" = "--quick" ] && seconds=12

deploy/build.sh trainer_node http_slow_clients >/dev/null
BIN=build/release
out=$(mktemp -d)
TRAINER_PID=""
cleanup() {
  [ -n "$TRAINER_PID" ] && kill -INT "$TRAINER_PID" 2>/dev/null && wait "$TRAINER_PID" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "bench http-slow: error: $*; logs in $out" >&2; exit 1; }

"$BIN/trainer_node/trainer_node" --data-dir "$out/data" --http-port 0 --ingest 'tcp://127.0.0.1:*' \
  --insecure >"$out/trainer.log" 2>&1 &
TRAINER_PID=$!
for _ in $(seq 1 300); do grep -q '^HTTP_URL=' "$out/trainer.log" && break; sleep 0.1; done
URL=$(sed -n 's/^HTTP_URL=//p' "$out/trainer.log")
[ -n "$URL" ] || fail "trainer_node did not start"
port=${URL##*:}
"$BIN/bench/http_slow_clients" 127.0.0.1 "$port" "$clients" "$seconds" 2 >"$out/load.json" ||
  fail "the slow-client load failed"
load=$(cat "$out/load.json")
printf 'http.api_p99_ms[slow_clients=%s] = %.1f ms  (target <= 250)\n' "$clients" "$(echo "$load" | jq -r .p99_ms)"
echo "# $(echo "$load" | jq -r '"\(.probes) probes in \(.seconds) s: p50 \(.p50_ms*10|round/10) ms, max \(.max_ms*10|round/10) ms, \(.probe_failed) without an answer; slow clients connected \(.slow_connects) times, closed by the server \(.slow_closed_by_server) times"')"
echo "# logs $out"
