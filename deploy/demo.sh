#!/usr/bin/env bash
# One whole booth session on this machine, as an operator would run it:
# installs what is missing, builds (Release), starts trainer_node and
# capture_node on loopback, starts a session through the trainer's HTTP API,
# follows it to the clip and prints the clip's download URL as the last
# line. Then it keeps serving until Ctrl-C, which stops both nodes cleanly.
#
#   deploy/demo.sh [--budget SECONDS] [--seconds SECONDS] [--camera SPEC]
#                  [--choreography NAME] [--http-port PORT] [--headless]
#                  [--no-install] [--job-json FILE] [--base CHECKPOINT | --cold]
#                  [--pose-model GRAPH]
#
# With no camera the synthetic performer is the camera (--camera auto).
# --headless: stop both nodes once the clip is ready (benchmarks, scripts).
# The visitor's model is fine-tuned from the booth's base model: by default
# the 'demo' recipe of deploy/base_model.sh, made by 'trainer_node pretrain'
# on the first run (about 8 minutes on 2 cores) and cached in
# build/base-models/. --base: another base checkpoint (--warm-start is the
# older name); --cold: train from scratch, no base.
# --budget is the whole job's wall clock (loading, training, rendering).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUDGET=240          # whole-job seconds: Start to clip within 6 minutes on 2 cores
SECONDS_CAPTURE=15
CAMERA=auto
CHOREO=""
HTTP_PORT=""
HEADLESS=0
INSTALL=1
JOB_JSON=""
POSE_MODEL=""
BASE=""
COLD=0

usage() { sed -n "2,$(( $(grep -n '^set -euo' "$0" | head -1 | cut -d: -f1) - 1 ))p" "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) BUDGET=$2; shift 2 ;;
    --seconds) SECONDS_CAPTURE=$2; shift 2 ;;
    --camera) CAMERA=$2; shift 2 ;;
    --choreography) CHOREO=$2; shift 2 ;;
    --http-port) HTTP_PORT=$2; shift 2 ;;
    --pose-model) POSE_MODEL=$2; shift 2 ;;
    --base|--warm-start) BASE=$2; shift 2 ;;
    --cold) COLD=1; shift ;;
    --headless) HEADLESS=1; shift ;;
    --no-install) INSTALL=0; shift ;;
    --job-json) JOB_JSON=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: error: unknown argument '$1' (see deploy/demo.sh --help)" >&2; exit 2 ;;
  esac
done
case "$BUDGET" in ''|*[!0-9.]*) echo "demo: error: --budget must be a number of seconds, got '$BUDGET'" >&2; exit 2 ;; esac
case "$SECONDS_CAPTURE" in ''|*[!0-9.]*) echo "demo: error: --seconds must be a number, got '$SECONDS_CAPTURE'" >&2; exit 2 ;; esac

[ "$COLD" = 1 ] && [ -n "$BASE" ] && { echo "demo: error: --cold and --base exclude each other" >&2; exit 2; }

say() { echo "[demo $(date +%H:%M:%S)] $*"; }

if [ "$INSTALL" = 1 ]; then deploy/install_deps.sh; fi
say "building (Release)…"
t_build=$(date +%s)
deploy/build.sh trainer_node capture_node >/dev/null
say "build done in $(( $(date +%s) - t_build )) s"

if [ "$COLD" = 0 ] && [ -z "$BASE" ]; then
  t_base=$(date +%s)
  say "base model: deploy/base_model.sh demo (made once, then cached)…"
  BASE=$(deploy/base_model.sh demo)
  say "base model ready in $(( $(date +%s) - t_base )) s: $BASE"
fi

RUN_DIR=${RUN_DIR:-$ROOT/build/demo-run}
mkdir -p "$RUN_DIR"
BIN=$ROOT/build/release

if [ -z "$HTTP_PORT" ]; then
  # 8080 when free, else any free port.
  if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then HTTP_PORT=0; else HTTP_PORT=8080; fi
fi

TRAINER_PID=""; CAPTURE_PID=""
stop_nodes() {
  for pid in $CAPTURE_PID $TRAINER_PID; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in $CAPTURE_PID $TRAINER_PID; do wait "$pid" 2>/dev/null || true; done
  CAPTURE_PID=""; TRAINER_PID=""
}
trap 'stop_nodes; exit 130' INT TERM
trap 'stop_nodes' EXIT

# Even on loopback the link is authenticated: keys made once per demo folder.
KEYS="$RUN_DIR/keys"
deploy/make_keys.sh "$KEYS" booth-1
trainer_args=(--data-dir "$RUN_DIR/data" --http-port "$HTTP_PORT" --ingest 'tcp://127.0.0.1:*'
  --train-budget "$BUDGET" --curve-secret-key "$KEYS/trainer.key" --allowed-nodes "$KEYS/allowed_nodes")
[ -n "$BASE" ] && trainer_args+=(--base-checkpoint "$BASE")
"$BIN/trainer_node/trainer_node" "${trainer_args[@]}" >"$RUN_DIR/trainer.log" 2>&1 &
TRAINER_PID=$!
URL=""; INGEST=""
for _ in $(seq 1 100); do
  URL=$(sed -n 's/^HTTP_URL=//p' "$RUN_DIR/trainer.log" | head -n1)
  INGEST=$(sed -n 's/^INGEST_ENDPOINT=//p' "$RUN_DIR/trainer.log" | head -n1)
  [ -n "$URL" ] && [ -n "$INGEST" ] && break
  if ! kill -0 "$TRAINER_PID" 2>/dev/null; then
    echo "demo: error: trainer_node did not start:" >&2; grep -i error "$RUN_DIR/trainer.log" >&2 || tail -5 "$RUN_DIR/trainer.log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$URL" ] || { echo "demo: error: trainer_node printed no URL; see $RUN_DIR/trainer.log" >&2; exit 1; }
# Operator actions need the operator token; the trainer made one in its
# data folder (mode 0600) and printed where.
TOKEN_FILE=$(sed -n 's/^OPERATOR_TOKEN_FILE=//p' "$RUN_DIR/trainer.log" | head -n1)
AUTH=(-H "Authorization: Bearer $(cat "$TOKEN_FILE")")
say "trainer up: operator page $URL/ (token in $TOKEN_FILE; logs: $RUN_DIR/trainer.log)"

capture_args=(--trainer "$INGEST" --camera "$CAMERA" --node-id booth-1 --spool-dir "$RUN_DIR/spool"
  --curve-secret-key "$KEYS/booth-1.key" --trainer-public-key "$KEYS/trainer.pub")
[ -n "$POSE_MODEL" ] && capture_args+=(--pose-model "$POSE_MODEL")
"$BIN/capture_node/capture_node" "${capture_args[@]}" >"$RUN_DIR/capture.log" 2>&1 &
CAPTURE_PID=$!
for _ in $(seq 1 100); do
  nodes=$(curl -sf "${AUTH[@]}" "$URL/api/nodes" || echo '[]')
  [ "$(echo "$nodes" | jq length)" -ge 1 ] && break
  if ! kill -0 "$CAPTURE_PID" 2>/dev/null; then
    echo "demo: error: capture_node did not start:" >&2; grep -i error "$RUN_DIR/capture.log" >&2 || tail -5 "$RUN_DIR/capture.log" >&2
    exit 1
  fi
  sleep 0.2
done
say "capture node connected: $(echo "$nodes" | jq -r '.[] | .node_id + " (" + ([.cameras[] | .camera_id + " " + .kind + " " + (.width|tostring) + "x" + (.height|tostring) + "@" + (.fps|tostring)] | join(", ")) + "; pose " + .pose_source + ")"')"

body=$(jq -nc --argjson s "$SECONDS_CAPTURE" --argjson b "$BUDGET" --arg c "$CHOREO" \
  '{seconds: $s, budget_seconds: $b} + (if $c == "" then {} else {choreography: $c} end)')
resp=$(curl -s -X POST "${AUTH[@]}" -H 'Content-Type: application/json' -d "$body" "$URL/api/sessions")
JOB=$(echo "$resp" | jq -r '.id // empty')
[ -n "$JOB" ] || { echo "demo: error: the trainer refused the session: $(echo "$resp" | jq -r '.error // .')" >&2; exit 1; }
t_session=$(date +%s)
say "session started: job $JOB, capturing ${SECONDS_CAPTURE} s (POST $URL/api/sessions)"

# Polls the job once a second. States can pass between two polls (a short
# queue, say), so each milestone is printed once, as soon as it is behind us.
rank() { case "$1" in receiving) echo 0 ;; queued|claimed) echo 1 ;; training) echo 2 ;; rendering) echo 3 ;; done) echo 4 ;; *) echo -1 ;; esac; }
printed=0; last_print=0; last_frames=-1
while true; do
  job=$(curl -sf "${AUTH[@]}" "$URL/api/jobs/$JOB" || true)
  [ -n "$job" ] || { sleep 1; continue; }
  state=$(echo "$job" | jq -r .state)
  if [ "$state" = failed ] || [ "$state" = cancelled ]; then
    echo "demo: error: job $state: $(echo "$job" | jq -r .error)" >&2; exit 1
  fi
  r=$(rank "$state"); now=$(date +%s)
  if [ "$r" = 0 ]; then
    frames=$(echo "$job" | jq -r .frames_received)
    if [ "$frames" != "$last_frames" ] && [ $((now - last_print)) -ge 2 ]; then
      say "receiving: $(echo "$job" | jq -r .detail)"; last_print=$now; last_frames=$frames
    fi
  fi
  if [ "$r" -ge 1 ] && [ "$printed" -lt 1 ]; then
    say "session captured: $(echo "$job" | jq -r '[.cameras[] | .node + "/" + .camera + " " + (.frames|tostring) + " frames"] | join(", ")') in $(echo "$job" | jq -r '.timings.capture_seconds*10|round/10') s"
    say "frames received by the trainer: $(echo "$job" | jq -r .frames_received), verified against the manifest (transfer $(echo "$job" | jq -r '.timings.transfer_seconds*100|round/100') s)"
    say "job queued"
    printed=1
  fi
  if [ "$r" -ge 2 ] && [ "$printed" -lt 2 ]; then
    say "training started: budget $(echo "$job" | jq -r .train_budget_seconds) s, $(echo "$job" | jq -r .detail)"; printed=2; last_print=$now
  fi
  if [ "$r" = 2 ] && [ $((now - last_print)) -ge 10 ]; then
    say "$(echo "$job" | jq -r '"training: iteration " + (.iterations|tostring) + ", loss G " + (.loss_g*1000|round/1000|tostring) + " D " + (.loss_d*1000|round/1000|tostring) + " L1 " + (.loss_l1*1000|round/1000|tostring) + ", " + (.iterations_per_second*100|round/100|tostring) + " it/s, " + (.eta_seconds|round|tostring) + " s left"')"
    last_print=$now
  fi
  if [ "$r" -ge 3 ] && [ "$printed" -lt 3 ]; then
    say "training done: $(echo "$job" | jq -r '(.iterations|tostring) + " iterations in " + (.timings.train_seconds*10|round/10|tostring) + " s (" + (.iterations_per_second*100|round/100|tostring) + " it/s)"')"
    say "rendering: $(echo "$job" | jq -r .detail)"
    printed=3
  fi
  [ "$state" = done ] && break
  sleep 1
done

[ -n "$JOB_JSON" ] && echo "$job" > "$JOB_JSON"
say "done in $(( $(date +%s) - t_session )) s from Start: clip $(echo "$job" | jq -r '(.clip.width|tostring) + "x" + (.clip.height|tostring) + ", " + (.clip.frames|tostring) + " frames, " + (.clip.bytes|tostring) + " bytes"'); stop with Ctrl-C"
CLIP_URL=$(echo "$job" | jq -r .clip_url)
say "visitor page: $(echo "$job" | jq -r .page_url)"
if [ "$HEADLESS" = 1 ]; then
  stop_nodes
  echo "$CLIP_URL"
  exit 0
fi
echo "$CLIP_URL"
# Keep serving until Ctrl-C (the INT trap stops both nodes).
wait "$TRAINER_PID" || true
