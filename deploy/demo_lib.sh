# Shell functions shared by deploy/demo.sh (one booth, one trainer) and its
# --scale-out mode (several booths and trainer processes on one PostgreSQL).
# Sourced, not run. Expects BIN (the build folder) and RUN_DIR.

say() { echo "[demo $(date +%H:%M:%S)] $*"; }

# Starts trainer_node with the given arguments, logging to RUN_DIR/NAME.log,
# and waits until it has printed what the other processes need:
#   start_trainer NAME WANT ARGS...
# WANT: "http" (HTTP_URL and OPERATOR_TOKEN_FILE), "ingest" (INGEST_ENDPOINT),
# "http,ingest" or "" (nothing: a worker). Sets STARTED_PID, STARTED_URL,
# STARTED_INGEST and STARTED_TOKEN_FILE, and writes the process id to
# RUN_DIR/NAME.pid (benchmarks sample its CPU time). Exits the script when
# the process dies first.
start_trainer() {
  local name=$1 want=$2; shift 2
  local log="$RUN_DIR/$name.log"
  "$BIN/trainer_node/trainer_node" "$@" >"$log" 2>&1 &
  STARTED_PID=$!
  echo "$STARTED_PID" >"$RUN_DIR/$name.pid"
  STARTED_URL=""; STARTED_INGEST=""; STARTED_TOKEN_FILE=""
  local ready
  for _ in $(seq 1 150); do
    STARTED_URL=$(sed -n 's/^HTTP_URL=//p' "$log" | head -n1)
    STARTED_INGEST=$(sed -n 's/^INGEST_ENDPOINT=//p' "$log" | head -n1)
    STARTED_TOKEN_FILE=$(sed -n 's/^OPERATOR_TOKEN_FILE=//p' "$log" | head -n1)
    ready=1
    case ",$want," in *,http,*) [ -n "$STARTED_URL" ] && [ -n "$STARTED_TOKEN_FILE" ] || ready=0 ;; esac
    case ",$want," in *,ingest,*) [ -n "$STARTED_INGEST" ] || ready=0 ;; esac
    if [ -z "$want" ]; then
      # A worker prints nothing to wait for: alive after a moment is enough.
      sleep 1
      kill -0 "$STARTED_PID" 2>/dev/null && ready=1 || ready=0
    fi
    [ "$ready" = 1 ] && return 0
    if ! kill -0 "$STARTED_PID" 2>/dev/null; then
      echo "demo: error: trainer_node ($name) did not start:" >&2
      grep -i error "$log" >&2 || tail -5 "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "demo: error: trainer_node ($name) printed no ${want:-sign of life} in 15 s; see $log" >&2
  exit 1
}

# Starts capture_node NODE_ID against the trainer endpoint(s) INGEST and waits
# until the trainer's API at URL lists it:
#   start_capture NODE_ID INGEST URL EXTRA_ARGS...
# Uses KEYS (deploy/make_keys.sh's folder), CAMERA and AUTH. Sets STARTED_PID.
start_capture() {
  local node=$1 ingest=$2 url=$3; shift 3
  local log="$RUN_DIR/capture-$node.log"
  "$BIN/capture_node/capture_node" --trainer "$ingest" --camera "$CAMERA" --node-id "$node" \
    --spool-dir "$RUN_DIR/spool-$node" --curve-secret-key "$KEYS/$node.key" \
    --trainer-public-key "$KEYS/trainer.pub" "$@" >"$log" 2>&1 &
  STARTED_PID=$!
  local nodes
  for _ in $(seq 1 100); do
    nodes=$(curl -sf "${AUTH[@]}" "$url/api/nodes" || echo '[]')
    [ "$(echo "$nodes" | jq --arg n "$node" '[.[] | select(.node_id == $n)] | length')" -ge 1 ] && break
    if ! kill -0 "$STARTED_PID" 2>/dev/null; then
      echo "demo: error: capture_node $node did not start:" >&2
      grep -i error "$log" >&2 || tail -5 "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
  say "capture node connected: $(echo "$nodes" | jq -r --arg n "$node" '.[] | select(.node_id == $n) | .node_id + " (" + ([.cameras[] | .camera_id + " " + .kind + " " + (.width|tostring) + "x" + (.height|tostring) + "@" + (.fps|tostring)] | join(", ")) + "; pose " + .pose_source + ")"')"
}

# Starts a session through the API at URL; prints the job's id.
#   start_session URL SECONDS BUDGET CHOREOGRAPHY
start_session() {
  local url=$1 seconds=$2 budget=$3 choreo=$4 body resp job
  body=$(jq -nc --argjson s "$seconds" --argjson b "$budget" --arg c "$choreo" \
    '{seconds: $s, budget_seconds: $b} + (if $c == "" then {} else {choreography: $c} end)')
  resp=$(curl -s -X POST "${AUTH[@]}" -H 'Content-Type: application/json' -d "$body" "$url/api/sessions")
  job=$(echo "$resp" | jq -r '.id // empty')
  [ -n "$job" ] || { echo "demo: error: the trainer refused the session: $(echo "$resp" | jq -r '.error // .')" >&2; return 1; }
  echo "$job"
}

# Follows job JOB through the API at URL once a second, printing each
# milestone once (states can pass between two polls), until it is done;
# writes the final job JSON to OUT_JSON. Returns 1 when the job fails or is
# cancelled. Lines are prefixed with PREFIX (empty for one booth).
#   follow_job URL JOB OUT_JSON PREFIX
follow_job() {
  local url=$1 id=$2 out=$3 p=${4:-}
  local printed=0 last_print=0 last_frames=-1 job state r now frames
  rank() { case "$1" in receiving) echo 0 ;; queued|claimed) echo 1 ;; training) echo 2 ;; rendering) echo 3 ;; done) echo 4 ;; *) echo -1 ;; esac; }
  while true; do
    job=$(curl -sf "${AUTH[@]}" "$url/api/jobs/$id" || true)
    [ -n "$job" ] || { sleep 1; continue; }
    state=$(echo "$job" | jq -r .state)
    if [ "$state" = failed ] || [ "$state" = cancelled ]; then
      echo "demo: error: ${p}job $id $state: $(echo "$job" | jq -r .error)" >&2; return 1
    fi
    r=$(rank "$state"); now=$(date +%s)
    if [ "$r" = 0 ]; then
      frames=$(echo "$job" | jq -r .frames_received)
      if [ "$frames" != "$last_frames" ] && [ $((now - last_print)) -ge 2 ]; then
        say "${p}receiving: $(echo "$job" | jq -r .detail)"; last_print=$now; last_frames=$frames
      fi
    fi
    if [ "$r" -ge 1 ] && [ "$printed" -lt 1 ]; then
      say "${p}session captured: $(echo "$job" | jq -r '[.cameras[] | .node + "/" + .camera + " " + (.frames|tostring) + " frames"] | join(", ")') in $(echo "$job" | jq -r '.timings.capture_seconds*10|round/10') s"
      say "${p}frames received by the trainer: $(echo "$job" | jq -r .frames_received), verified against the manifest (transfer $(echo "$job" | jq -r '.timings.transfer_seconds*100|round/100') s)"
      say "${p}job queued"
      printed=1
    fi
    if [ "$r" -ge 2 ] && [ "$printed" -lt 2 ]; then
      say "${p}training started: budget $(echo "$job" | jq -r .train_budget_seconds) s, $(echo "$job" | jq -r .detail)"; printed=2; last_print=$now
    fi
    if [ "$r" = 2 ] && [ $((now - last_print)) -ge 10 ]; then
      say "${p}$(echo "$job" | jq -r '"training: " + (.generator_steps|tostring) + " generator steps (" + (.generator_steps_per_second*100|round/100|tostring) + "/s), " + (.face_steps|tostring) + " face-GAN steps (" + (.face_steps_per_second*10|round/10|tostring) + "/s), loss G " + (.loss_g*1000|round/1000|tostring) + " D " + (.loss_d*1000|round/1000|tostring) + " L1 " + (.loss_l1*1000|round/1000|tostring) + ", " + (.eta_seconds|round|tostring) + " s left"')"
      last_print=$now
    fi
    if [ "$r" -ge 3 ] && [ "$printed" -lt 3 ]; then
      say "${p}training done: $(echo "$job" | jq -r '(.timings.train_seconds*10|round/10|tostring) + " s: " + (.generator_steps|tostring) + " generator steps (" + (.generator_steps_per_second*100|round/100|tostring) + "/s), " + (.face_steps|tostring) + " face-GAN steps (" + (.face_steps_per_second*10|round/10|tostring) + "/s)"')"
      say "${p}rendering: $(echo "$job" | jq -r .detail)"
      printed=3
    fi
    if [ "$state" = done ]; then
      echo "$job" >"$out"
      return 0
    fi
    sleep 1
  done
}
