#!/usr/bin/env bash
# The whole edge pipeline as a booth runs it: trainer_node and capture_node
# as real processes on loopback, two synthetic cameras at 120 fps for 15 s
# (frames pre-rendered and looped, so a camera costs a copy as a real one
# does), the network pose estimator on 2 workers, the spool, the streamer,
# and the trainer's durable acks. Prints:
#   pipeline.seconds_after_capture  end of capture -> last frame posed, every
#                                   record acked and the manifest verified
#                                   (the job turns "queued")
#   pipeline.peak_rss_mb            capture_node's peak resident memory
#   pipeline.frames                 frames the trainer stored (2 x 15 s x 120 fps)
# Needs ../shared/assets (the pose network); prints why and exits 0 without.
#
#   bench/pipeline_bench.sh [--quick] [--seconds S] [--fps F] [--cameras N]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${BUILD_DIR:-build/release}

seconds=15 fps=120 cameras=2 workers=2
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) seconds=5; shift ;;
    --seconds) seconds=$2; shift 2 ;;
    --fps) fps=$2; shift 2 ;;
    --cameras) cameras=$2; shift 2 ;;
    *) echo "pipeline_bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# The model manifest names the published graph under ../shared/assets.
model="$ROOT/capture_node/pose/models/tfpose_mobilenet_v2_small.json"
if [ ! -f "${BOOTH_SHARED_DIR:-$ROOT/../shared}/assets/tfpose_mobilenet_v2_small_graph_opt.pb" ]; then
  echo "# pipeline: skipped: no pose network under ../shared/assets (set BOOTH_SHARED_DIR)"
  exit 0
fi

figure() { printf '%s = %s %s  (target %s)\n' "$1" "$2" "$3" "$4"; }

out=$(mktemp -d)
trainer_pid="" capture_pid=""
cleanup() {
  for pid in $capture_pid $trainer_pid; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in $capture_pid $trainer_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$out"
}
trap cleanup EXIT

# The trainer only has to receive: a tiny model and budget keep it out of
# the way (training starts after the figure is taken).
deploy/make_keys.sh "$out/keys" booth-1
"$BIN/trainer_node/trainer_node" --data-dir "$out/data" --http-port 0 --ingest 'tcp://127.0.0.1:*' \
  --curve-secret-key "$out/keys/trainer.key" --allowed-nodes "$out/keys/allowed_nodes" \
  --train-budget 1 --resolution 64 --ngf 8 --ndf 8 --blocks 1 --clip-seconds 1 --panel-size 64 \
  >"$out/trainer.log" 2>&1 &
trainer_pid=$!
url="" ingest=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^HTTP_URL=//p' "$out/trainer.log" | head -n1)
  ingest=$(sed -n 's/^INGEST_ENDPOINT=//p' "$out/trainer.log" | head -n1)
  [ -n "$url" ] && [ -n "$ingest" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$out/trainer.log" >&2; exit 1; }
# Operator calls carry the token the trainer made in its data folder.
auth=(-H "Authorization: Bearer $(cat "$(sed -n 's/^OPERATOR_TOKEN_FILE=//p' "$out/trainer.log" | head -n1)")")

camera_args=()
for i in $(seq 0 $((cameras - 1))); do camera_args+=(--camera "synthetic:ada:warmup:$i"); done
"$BIN/capture_node/capture_node" --trainer "$ingest" "${camera_args[@]}" --fps "$fps" \
  --node-id booth-1 --curve-secret-key "$out/keys/booth-1.key" --trainer-public-key "$out/keys/trainer.pub" \
  --width 640 --height 480 --synthetic-loop-frames "$fps" --pose network --pose-model "$model" \
  --pose-workers "$workers" --spool-dir "$out/spool" --max-capture-seconds 600 \
  >"$out/capture.log" 2>&1 &
capture_pid=$!
for _ in $(seq 1 600); do
  [ "$(curl -sf "${auth[@]}" "$url/api/nodes" | jq length 2>/dev/null || echo 0)" -ge 1 ] && break
  kill -0 "$capture_pid" 2>/dev/null || { cat "$out/capture.log" >&2; exit 1; }
  sleep 0.2
done

job=$(curl -sf -X POST "${auth[@]}" -H 'Content-Type: application/json' -d "{\"seconds\": $seconds, \"budget_seconds\": 5}" \
  "$url/api/sessions" | jq -r .id)
[ -n "$job" ] && [ "$job" != null ] || { cat "$out/trainer.log" >&2; exit 1; }
state=receiving
while [ "$state" = receiving ]; do
  sleep 0.5
  body=$(curl -sf "${auth[@]}" "$url/api/jobs/$job" || echo '{}')
  state=$(echo "$body" | jq -r '.state // "receiving"')
done
[ "$state" != failed ] && [ "$state" != cancelled ] || { echo "pipeline: the job $state: $(echo "$body" | jq -r .error)" >&2; exit 1; }
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$capture_pid/status")
# The job's own clock: created at Start, updated when it turned queued.
after=$(echo "$body" | jq -r '(.updated_ms - .created_ms) / 1000 - .timings.capture_seconds')
p="cameras=$cameras,fps=$fps,seconds=$seconds,workers=$workers"
figure "pipeline.seconds_after_capture[$p]" "$(printf '%.1f' "$after")" s "report"
figure "pipeline.peak_rss_mb[$p]" "$(awk -v k="$rss_kb" 'BEGIN{printf "%.0f", k/1024}')" MB "<= 500"
figure "pipeline.frames[$p]" "$(echo "$body" | jq -r .frames_received)" frames "report; nominal $((cameras * seconds * fps)): capture runs on the wall clock, a few frames more or less"
echo "# pose stage: $(echo "$body" | jq -r '.timings.pose_seconds | .*10|round/10') s after capture; capture $(echo "$body" | jq -r '.timings.capture_seconds | .*10|round/10') s; $(grep -c 'pose: ' "$out/capture.log" || true) frames without pose"
