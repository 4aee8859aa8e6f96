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
#                  [--pose-model GRAPH] [--scale-out]
#
# With no camera the synthetic performer is the camera (--camera auto).
# --headless: stop both nodes once the clip is ready (benchmarks, scripts).
# The visitor's model is fine-tuned from the booth's base model: by default
# the 'demo' recipe of deploy/base_model.sh, made by 'trainer_node pretrain'
# on the first run (about 8 minutes on 2 cores) and cached in
# build/base-models/. --base: another base checkpoint (--warm-start is the
# older name); --cold: train from scratch, no base.
# --budget is the whole job's wall clock (loading, training, rendering).
# --scale-out: the shared set-up on one machine (deploy/README.md, "Scaling
# out"): a private PostgreSQL, two booths each with its own gateway process
# (--roles ingest,http), two worker processes (--roles worker), two sessions
# started at once; prints both clip links (one per line, booth-1 first).
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
SCALE_OUT=0

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
    --scale-out) SCALE_OUT=1; shift ;;
    --no-install) INSTALL=0; shift ;;
    --job-json) JOB_JSON=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: error: unknown argument '$1' (see deploy/demo.sh --help)" >&2; exit 2 ;;
  esac
done
case "$BUDGET" in ''|*[!0-9.]*) echo "demo: error: --budget must be a number of seconds, got '$BUDGET'" >&2; exit 2 ;; esac
case "$SECONDS_CAPTURE" in ''|*[!0-9.]*) echo "demo: error: --seconds must be a number, got '$SECONDS_CAPTURE'" >&2; exit 2 ;; esac

[ "$COLD" = 1 ] && [ -n "$BASE" ] && { echo "demo: error: --cold and --base exclude each other" >&2; exit 2; }

BIN=$ROOT/build/release
RUN_DIR=${RUN_DIR:-$ROOT/build/demo-run}
# shellcheck source=deploy/demo_lib.sh
source "$ROOT/deploy/demo_lib.sh"

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

mkdir -p "$RUN_DIR"
if [ -z "$HTTP_PORT" ]; then
  # 8080 when free, else any free port.
  if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then HTTP_PORT=0; else HTTP_PORT=8080; fi
fi

PIDS=()        # every node started, stopped in reverse order
PG_STATE=""    # the private PostgreSQL of --scale-out
stop_nodes() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -INT "${PIDS[$i]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
  if [ -n "$PG_STATE" ]; then tests/support/pg_server.sh stop "$PG_STATE" >/dev/null 2>&1 || true; PG_STATE=""; fi
}
trap 'stop_nodes; exit 130' INT TERM
trap 'stop_nodes' EXIT

# Even on loopback the link is authenticated: keys made once per demo folder.
KEYS="$RUN_DIR/keys"
keyed=(--curve-secret-key "$KEYS/trainer.key" --allowed-nodes "$KEYS/allowed_nodes")
base_args=()
[ -n "$BASE" ] && base_args=(--base-checkpoint "$BASE")
capture_extra=()
[ -n "$POSE_MODEL" ] && capture_extra=(--pose-model "$POSE_MODEL")

if [ "$SCALE_OUT" = 0 ]; then
  deploy/make_keys.sh "$KEYS" booth-1
  start_trainer trainer http,ingest --data-dir "$RUN_DIR/data" --http-port "$HTTP_PORT" \
    --ingest 'tcp://127.0.0.1:*' --train-budget "$BUDGET" "${keyed[@]}" "${base_args[@]}"
  PIDS+=("$STARTED_PID"); TRAINER_PID=$STARTED_PID; URL=$STARTED_URL
  # Operator actions need the operator token; the trainer made one in its
  # data folder (mode 0600) and printed where.
  AUTH=(-H "Authorization: Bearer $(cat "$STARTED_TOKEN_FILE")")
  say "trainer up: operator page $URL/ (token in $STARTED_TOKEN_FILE; logs: $RUN_DIR/trainer.log)"
  start_capture booth-1 "$STARTED_INGEST" "$URL" "${capture_extra[@]}"
  PIDS+=("$STARTED_PID")

  JOB=$(start_session "$URL" "$SECONDS_CAPTURE" "$BUDGET" "$CHOREO")
  t_session=$(date +%s)
  say "session started: job $JOB, capturing ${SECONDS_CAPTURE} s (POST $URL/api/sessions)"
  out=${JOB_JSON:-$RUN_DIR/job.json}
  follow_job "$URL" "$JOB" "$out" "" || exit 1
  job=$(cat "$out")
  say "done in $(( $(date +%s) - t_session )) s from Start: clip $(echo "$job" | jq -r '(.clip.width|tostring) + "x" + (.clip.height|tostring) + ", " + (.clip.frames|tostring) + " frames, " + (.clip.bytes|tostring) + " bytes"'); stop with Ctrl-C"
  say "visitor page: $(echo "$job" | jq -r .page_url)"
  CLIP_URL=$(echo "$job" | jq -r .clip_url)
  if [ "$HEADLESS" = 1 ]; then
    stop_nodes
    echo "$CLIP_URL"
    exit 0
  fi
  echo "$CLIP_URL"
  # Keep serving until Ctrl-C (the INT trap stops both nodes).
  wait "$TRAINER_PID" || true
  exit 0
fi

# --scale-out: a private PostgreSQL holds the queue, the job state and the
# events; two booths, each with its own gateway (ingest + HTTP front-end),
# and two workers that claim jobs from the shared queue. Each process has a
# data folder of its own, as on separate machines: the frames, checkpoints
# and clips go to the database's blob store, so any worker trains any
# booth's session and either gateway serves either clip.
PG_STATE="$RUN_DIR/postgres"
mkdir -p "$PG_STATE"
say "starting a private PostgreSQL (tests/support/pg_server.sh)…"
tests/support/pg_server.sh start "$PG_STATE" >/dev/null
if [ -f "$PG_STATE/skip_reason" ]; then
  echo "demo: error: --scale-out needs PostgreSQL: $(cat "$PG_STATE/skip_reason")" >&2; exit 1
fi
DB=$(cat "$PG_STATE/database_url")
say "PostgreSQL up on $(echo "$DB" | sed -E 's#//[^@]*@#//#')"
deploy/make_keys.sh "$KEYS" booth-1 booth-2
shared=(--database "$DB" --train-budget "$BUDGET" "${keyed[@]}")
URLS=(); INGESTS=()
token=()  # the first gateway makes the operator token; the second uses it too
for i in 1 2; do
  start_trainer "gateway-$i" http,ingest "${shared[@]}" --data-dir "$RUN_DIR/data-gateway-$i" \
    "${token[@]}" --roles ingest,http --http-port 0 \
    --ingest 'tcp://127.0.0.1:*'
  PIDS+=("$STARTED_PID"); URLS+=("$STARTED_URL"); INGESTS+=("$STARTED_INGEST")
  token=(--operator-token-file "$STARTED_TOKEN_FILE")
  AUTH=(-H "Authorization: Bearer $(cat "$STARTED_TOKEN_FILE")")
  say "gateway-$i up: operator page $STARTED_URL/ (logs: $RUN_DIR/gateway-$i.log)"
done
for i in 1 2; do
  start_trainer "worker-$i" "" "${shared[@]}" --data-dir "$RUN_DIR/data-worker-$i" --roles worker \
    "${base_args[@]}"
  PIDS+=("$STARTED_PID")
  say "worker-$i up (logs: $RUN_DIR/worker-$i.log)"
done
for i in 1 2; do
  start_capture "booth-$i" "${INGESTS[$((i - 1))]}" "${URLS[$((i - 1))]}" "${capture_extra[@]}"
  PIDS+=("$STARTED_PID")
done
JOBS=()
for i in 1 2; do
  JOBS+=("$(start_session "${URLS[$((i - 1))]}" "$SECONDS_CAPTURE" "$BUDGET" "$CHOREO")")
  say "booth-$i: session started, job ${JOBS[$((i - 1))]}"
done
t_session=$(date +%s)
FOLLOW=()
for i in 1 2; do
  follow_job "${URLS[$((i - 1))]}" "${JOBS[$((i - 1))]}" "$RUN_DIR/job-$i.json" "[booth-$i] " &
  FOLLOW+=($!)
done
ok=1
for pid in "${FOLLOW[@]}"; do wait "$pid" || ok=0; done
[ "$ok" = 1 ] || exit 1
say "both sessions done in $(( $(date +%s) - t_session )) s from Start"
for i in 1 2; do
  job=$(cat "$RUN_DIR/job-$i.json")
  say "booth-$i: visitor page $(echo "$job" | jq -r .page_url)"
done
# Every front-end serves every clip from the shared blob store: each clip
# is fetched whole from the other booth's gateway and compared with the
# size its worker recorded, and its last bytes by a Range request.
for i in 1 2; do
  job=$(cat "$RUN_DIR/job-$i.json")
  other=${URLS[$((2 - i))]}
  path=$(echo "$job" | jq -r '.clip_url | sub("^https?://[^/]*"; "")')
  want=$(echo "$job" | jq -r .clip.bytes)
  got=$(curl -sf -o /dev/null -w '%{size_download}' "$other$path" || echo failed)
  tail_code=$(curl -sf -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: bytes=-1000' "$other$path" || echo failed)
  if [ "$got" != "$want" ] || [ "$tail_code" != "206 1000" ]; then
    echo "demo: error: booth-$i's clip from the other gateway ($other$path): $got bytes (want $want), last 1000 bytes: $tail_code" >&2
    exit 1
  fi
  say "booth-$i: clip served by the other gateway too ($got bytes; a Range request answered 206)"
done
for i in 1 2; do jq -r .clip_url "$RUN_DIR/job-$i.json"; done
if [ "$HEADLESS" = 1 ]; then stop_nodes; exit 0; fi
# Keep serving until Ctrl-C (the INT trap stops every process).
wait "${PIDS[0]}" || true
