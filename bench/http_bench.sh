#!/usr/bin/env bash
# Do clip downloads starve training? The trainer trains a visitor's job
# while 64 clients download a finished clip over and over; training speed
# (the job's own generator steps over the job's own timestamps) is compared with
# the same job's speed just before and just after, without downloads. The
# windows alternate (quiet, downloads, quiet, downloads, ..., quiet) and the
# figure is the median over the download windows of the speed lost against
# the mean of the two quiet windows around each: slow drift and a burst of
# other work on the machine move single windows, not the median.
#
#   http.training_slowdown_pct[downloads=64]   generator steps/s lost (target <= 15)
#   http.train_generator_steps_per_second[downloads=0|64]
#   http.clip_mb_per_s[downloads=64]          what the 64 clients received
#   http.api_p99_ms[downloads=64]             GET /api/health while they download
# and the same again with every core kept busy by nice-19 spinners
# ([...,idle_cores_spun=1], see measure() below).
#
# The trainer runs as shipped (default model size and HTTP settings,
# including the --clip-bandwidth budget); its ingest runs --insecure on
# loopback (transport security is not what is measured). The 64 clients
# stand in for visitors' phones elsewhere on the network; on this machine
# they share the trainer's cores, so their own receiving work is charged to
# the measurement too (LOAD_NICE=19 runs them at the lowest priority).
#
#   bench/http_bench.sh [--quick]     (bench/run.sh http [--quick])
set -euo pipefail
cd "$(dirname "$0")/.."
phase=10 cycles=4
[ "${1:-}" = "--quick" ] && phase=6 cycles=2
budget=$((2 * (2 * cycles + 1) * (phase + 1) + 90))
clients=${CLIENTS:-64}
load_nice=${LOAD_NICE:-0}
# CLIP_BANDWIDTH=MB/s overrides the trainer's --clip-bandwidth (0 = unlimited).
extra=() tag0=""
if [ -n "${CLIP_BANDWIDTH:-}" ]; then
  extra=(--clip-bandwidth "$CLIP_BANDWIDTH") tag0=",clip_bandwidth=$CLIP_BANDWIDTH"
fi

deploy/build.sh trainer_node capture_node http_download_load >/dev/null
BIN=build/release
out=$(mktemp -d)
TRAINER_PID=""; CAPTURE_PID=""; SPINNERS=""
cleanup() {
  [ -n "$SPINNERS" ] && kill $SPINNERS 2>/dev/null || true
  for pid in $CAPTURE_PID $TRAINER_PID; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in $CAPTURE_PID $TRAINER_PID; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
fail() { echo "bench http: error: $*; logs in $out" >&2; exit 1; }

printf 'bench-operator-token-%s\n' "$RANDOM$RANDOM$RANDOM" > "$out/token"
chmod 600 "$out/token"
"$BIN/trainer_node/trainer_node" --data-dir "$out/data" --http-port 0 --ingest 'tcp://127.0.0.1:*' \
  --insecure --operator-token-file "$out/token" --train-budget 15 "${extra[@]}" \
  >"$out/trainer.log" 2>&1 &
TRAINER_PID=$!
for _ in $(seq 1 300); do grep -q '^INGEST_ENDPOINT=' "$out/trainer.log" && break; sleep 0.1; done
URL=$(sed -n 's/^HTTP_URL=//p' "$out/trainer.log")
INGEST=$(sed -n 's/^INGEST_ENDPOINT=//p' "$out/trainer.log")
[ -n "$URL" ] || fail "trainer_node did not start"
AUTH=(-H "Authorization: Bearer $(cat "$out/token")")
"$BIN/capture_node/capture_node" --insecure --trainer "$INGEST" --camera synthetic --width 320 \
  --height 240 --fps 15 --spool-dir "$out/spool" >"$out/capture.log" 2>&1 &
CAPTURE_PID=$!
for _ in $(seq 1 300); do
  [ "$(curl -sf "${AUTH[@]}" "$URL/api/nodes" | jq length 2>/dev/null || echo 0)" -ge 1 ] && break
  sleep 0.2
done

session() {  # seconds budget -> job id
  curl -sf -X POST "${AUTH[@]}" -H 'Content-Type: application/json' \
    -d "{\"seconds\": $1, \"budget_seconds\": $2}" "$URL/api/sessions" | jq -r .id
}
job() { curl -sf "${AUTH[@]}" "$URL/api/jobs/$1"; }
wait_state() {  # id jq-condition timeout
  for _ in $(seq 1 $(($3 * 2))); do
    local j; j=$(job "$1" || true)
    [ "$(echo "$j" | jq -r .state)" = failed ] && fail "job $1 failed: $(echo "$j" | jq -r .error)"
    echo "$j" | jq -e "$2" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "job $1 did not reach $2 within $3 s"
}
# Generator steps per second of a job between now and `seconds` later, from
# its own saved (generator_steps, updated_ms) pairs (the measured job's
# budget is long: it stays in the generator phase).
rate() {  # id seconds
  local a b; a=$(job "$1" | jq -r '"\(.generator_steps) \(.updated_ms)"')
  sleep "$2"
  b=$(job "$1" | jq -r '"\(.generator_steps) \(.updated_ms)"')
  echo "$a $b" | awk '{ printf "%.4f\n", ($3 - $1) / (($4 - $2) / 1000) }'
}

# A finished clip to download.
first=$(session 3 15)
[ -n "$first" ] || fail "the trainer refused the first session"
wait_state "$first" '.state == "done"' 300
clip_path=$(job "$first" | jq -r '.clip_url' | sed "s|^$URL||")
clip_bytes=$(job "$first" | jq -r '.clip.bytes')

# The measured job: a long budget; measure once training is under way.
second=$(session 3 "$budget")
wait_state "$second" '.state == "training" and .generator_steps > 3' 120
# One measurement pass on the running job; $1 names it in the figures.
measure() {
  local tag=$1
  local quiet=() busy=() loads=() losses=()
  quiet+=("$(rate "$second" "$phase")")
  for c in $(seq 1 "$cycles"); do
    nice -n "$load_nice" "$BIN/bench/http_download_load" "$URL" "$clip_path" "$clients" "$phase" \
      >"$out/load$tag$c.json" &
    local load_pid=$!
    sleep 1
    busy+=("$(rate "$second" $((phase - 2)))")
    wait "$load_pid" || fail "the load generator failed"
    loads+=("$out/load$tag$c.json")
    quiet+=("$(rate "$second" "$phase")")
  done
  [ "$(job "$second" | jq -r .state)" = training ] || fail "training ended before the measurement did"
  # Per download window: the speed lost against its two quiet neighbours.
  for i in $(seq 0 $((cycles - 1))); do
    losses+=("$(echo "${quiet[$i]} ${busy[$i]} ${quiet[$((i + 1))]}" | awk '{ printf "%.2f", 100 * (1 - $2 / (($1 + $3) / 2)) }')")
  done
  local slowdown base during load p
  slowdown=$(printf '%s\n' "${losses[@]}" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  base=$(printf '%s\n' "${quiet[@]}" | awk '{ s += $1 } END { printf "%.4f", s / NR }')
  during=$(printf '%s\n' "${busy[@]}" | awk '{ s += $1 } END { printf "%.4f", s / NR }')
  load=$(jq -s '{bytes: (map(.bytes) | add), downloads: (map(.downloads) | add), refused: (map(.refused) | add),
    errors: (map(.errors) | add), health_p50_ms: (map(.health_p50_ms) | max), health_p99_ms: (map(.health_p99_ms) | max),
    health_failed: (map(.health_failed) | add)}' "${loads[@]}")
  p="downloads=$clients$tag0$tag"
  printf 'http.training_slowdown_pct[%s] = %.1f %%  (target <= 15)\n' "$p" "$slowdown"
  printf 'http.train_generator_steps_per_second[%s] = %.2f steps/s  (quiet windows: %s)\n' \
    "${p/downloads=$clients/downloads=0}" "$base" "${quiet[*]}"
  printf 'http.train_generator_steps_per_second[%s] = %.2f steps/s  (windows: %s; loss per window %%: %s)\n' \
    "$p" "$during" "${busy[*]}" "${losses[*]}"
  printf 'http.clip_mb_per_s[%s] = %.1f MB/s  (target <= 16, the --clip-bandwidth budget)\n' "$p" \
    "$(echo "$load" | jq -r ".bytes / ($phase * $cycles) / 1e6")"
  printf 'http.api_p99_ms[%s] = %.1f ms  (target <= 250)\n' "$p" "$(echo "$load" | jq -r .health_p99_ms)"
  echo "# $(echo "$load" | jq -r '"\(.downloads) whole downloads, \(.refused) told to retry, \(.errors) errors, health p50 \(.health_p50_ms*10|round/10) ms, \(.health_failed) health failures"') of a $clip_bytes-byte clip in $cycles windows of $phase s; load at nice $load_nice"
}

sleep 5
measure ""
# The same with every core kept busy by a spinner at nice 19, in the quiet
# windows too. On this kind of machine (virtual CPUs) training runs faster
# when no core ever goes idle (its threads wake each other thousands of
# times per step), so the download load alone can make training faster;
# with the cores never idle the comparison holds only the downloads' cost.
SPINNERS=""
for _ in $(seq 1 "$(nproc)"); do
  nice -n 19 sh -c 'while :; do :; done' &
  SPINNERS="$SPINNERS $!"
done
sleep 2
measure ",idle_cores_spun=1"
kill $SPINNERS 2>/dev/null || true
SPINNERS=""
echo "# logs $out"
