#!/usr/bin/env bash
# Benchmarks of the dance booth. Each prints one line per figure:
#   figure.name[param=value] = 123.4 unit  (target >= 100)
#
#   bench/run.sh                 list the benchmarks
#   bench/run.sh NAME [--quick]  build what it needs (Release) and run one
set -euo pipefail
cd "$(dirname "$0")/.."

list() {
  cat <<'LIST'
demo    A whole booth session through deploy/demo.sh --headless (synthetic camera):
        demo.seconds_to_clip and its parts demo.capture_seconds, demo.transfer_seconds,
        demo.train_seconds, demo.render_seconds, plus demo.train_generator_steps_per_second
        and demo.train_face_steps_per_second; trainer.threads[job=demo,...] (trainer_node's
        CPU seconds per wall second of the job's generator phase, target >= 1.8 on 2 cores),
        trainer.parallelism[job=demo,...] and its busiest threads' shares.
        --quick: 5 s capture and a 30 s training budget instead of 15 s and 240 s.
        Further arguments go to deploy/demo.sh (--no-install, --base FILE, ...).
capture The acquisition loop: V4l2Camera on the fake V4L2 driver, 640x480 MJPEG at 120 fps
        for 15 s, 1, 2 and 4 cameras, each camera thread copying frames into a bounded queue:
        capture.delivered_pct, capture.us_per_frame, capture.max_block_ms [cameras=N]
        (real time, 45 s); then the whole edge pipeline (the 'pipeline' benchmark below).
        --quick: 3 s per configuration and the pipeline's --quick.
transport
        Frames from capture nodes into the trainer's store over CURVE on loopback, durable
        acks (fsync): transport.fps[nodes=1], transport.fps[nodes=4], transport.mb_per_s[nodes=1],
        transport.fps_reqrep_baseline (one blocking request/reply per frame) and
        transport.speedup_vs_reqrep; then into PostgreSQL as segment blobs (a private server,
        fsync on): transport.fps[nodes=4,store=postgres], scale.ingest_mb_per_s[store=local|postgres]
        and [store=postgres,segment_cap_kib=256|1024]. --quick: fewer frames.
pipeline
        The whole edge pipeline with real processes: 2 synthetic cameras at 120 fps for 15 s,
        network pose on 2 workers, spool, streamer, trainer: pipeline.seconds_after_capture,
        pipeline.peak_rss_mb. Needs ../shared/assets. --quick: 5 s.
pose    The pose stage on real footage (../shared/assets, or $BOOTH_SHARED_DIR/assets), top-down
        (the multi-person finder at --finder-hz N, default 6; MoveNet on every frame): accuracy
        on tfjs_pose_1.mp4 against tfjs_pose_1.json (pose.pck_torso20, pose.pck_30px,
        pose.mean_px_error, pose.same_limb_rate, pose.jitter_px_per_frame2, [raw] and [smoothed];
        the reference was made by MoveNet, which flatters MoveNet), pose.wrong_person_rate on three
        composites with a second person (mirrored beside, a different person beside, a bystander
        crossing in front), smoothing on the synthetic performer, pose.ms_per_frame[model=movenet]
        (one thread) and the finder's per input size, pose.session_seconds[every=1] (15 s x 120
        fps x 2 cameras) with pose.finder_hz and pose.finder_cpu_share.
        --quick: one finder size and a 2 s session. --contact-sheet FILE.jpg: six crossing frames.
http    First slow clients (bench/http_slow_bench.sh, also alone as 'http-slow'): 300 clients
        trickling endless requests, http.api_p99_ms[slow_clients=300] of GET /api/health
        meanwhile (30 s; --quick 12 s). Then clip downloads while a job trains
        (bench/http_bench.sh): http.training_slowdown_pct
        with 64 clients downloading, the training speed with and without them, the bytes
        they got and the API's p99 latency meanwhile. --quick: 2 cycles of 6 s windows instead of 4 of 10 s.
trainer-quality
        How well a visitor is learnt, against the synthetic performer's exact rendering:
        fine-tune on a 15 s session of a performer the base never saw (ada, 'warmup'), draw a
        choreography neither saw ('disco'), compare frame by frame: trainer.ssim_body,
        trainer.ssim_face, trainer.ssim_person, trainer.ssim_whole and the same as psnr_*,
        [res=128|256,budget=60|120|300,warm=0|1], the empty backdrop's scores as calibration,
        trainer.warm60_minus_cold300_body[res=...], and trainer.ssim_body_real[res=128] on
        ../shared/assets/tfjs_pose_1.mp4 (skipped without it). The base checkpoints are made
        once by deploy/base_model.sh bench-128|bench-256 ('trainer_node pretrain', fixed recipes) and cached.
        --quick: warm, 128, 60 s only. --prepare: only make the base checkpoints.
        QUALITY_RESOLUTIONS / QUALITY_BUDGETS narrow the full run (e.g. "128", "60 300").
trainer-speed
        Training and rendering speed of the default model: trainer.its[res=128|256],
        trainer.overhead_pct, trainer.sys_cpu_pct, trainer.threads, trainer.gflops (with the
        CPU's peak), trainer.ms_per_rendered_frame; then a real job on JobRunner's thread:
        trainer.threads[job,...] and trainer.its[job,...]. --quick: 10 s windows instead of
        40 s, a 60 s job instead of 120 s.
events  A job's change (a write through the JobQueue) until an /api/events stream over HTTP
        shows it: scale.event_latency_ms[queue=embedded|postgres,p=50|99] (PostgreSQL: NOTIFY,
        the queue's listener, the event hub; a private server, fsync off). --quick: 30 changes.
store   The shared stores on a private PostgreSQL (tests/support/pg_server.sh; fsync off):
        scale.queue_claims_per_s[workers=1|16] (no-op jobs: claim, start rendering, finish),
        scale.claim_latency_ms[notify=on|off,p50|p99] (queued until an idle worker holds it;
        off: polling every 500 ms), store.blob_write_mb_per_s and store.blob_read_mb_per_s
        [store=postgres|local] (4 MiB blobs written in 64 KiB pieces). --quick: fewer jobs.
scale   Trainer workers as processes (trainer_node --roles worker --database) on a private
        PostgreSQL: scale.jobs_per_hour[workers=1|2|4] (two 12 s wall-clock-budget jobs per
        worker, tiny model; target: 4 workers >= 3 x one), scale.takeover_seconds[lease=30]
        from kill -9 of the worker training a job until another claims it to resume it
        (target <= 35; scale.takeover_to_training_seconds: until it trains again),
        scale.training_seconds_lost (since the last checkpoint; target <= the
        checkpoint interval, 5 s) and scale.duplicate_clips[takeover] (target 0). Claim
        latency with and without NOTIFY is in 'store'. --quick: one 8 s job per worker.
chaos   The chaos run: 100 jobs of 16 s wall-clock budget on a private PostgreSQL, 5 trainer
        workers as processes (lease 10 s), one hit every 6-16 s at random: SIGKILL (replaced a
        second later) two times in three, else SIGSTOP for 14 s then SIGCONT; the database
        crashed once (pg_ctl -m immediate) and restarted when 40 % are finished:
        scale.lost_jobs and scale.duplicate_clips (target 0), scale.fenced_writes (worker writes
        refused because the job was no longer theirs), scale.chaos_budget_refusals (first attempts
        refused by the budget check on a loaded machine), scale.chaos_kills, scale.chaos_pauses and
        scale.chaos_wall_seconds. About 10 minutes on 2 busy cores. --quick: 24 jobs.
        --seed N repeats a run's schedule of blows. Worker logs: build/bench-chaos/.
LIST
}

figure() {  # name value unit target
  printf '%s = %s %s  (target %s)\n' "$1" "$2" "$3" "$4"
}

bench_demo() {
  local seconds=15 budget=240
  if [ "${1:-}" = "--quick" ]; then seconds=5; budget=30; shift; fi
  # Any other arguments go to deploy/demo.sh (e.g. --no-install, --base FILE).
  local out; out=$(mktemp -d)
  RUN_DIR="$out/run" deploy/demo.sh --headless --seconds "$seconds" --budget "$budget" \
    --job-json "$out/job.json" "$@" >"$out/demo.log" 2>&1 &
  local demo=$!
  # The trainer's CPU time, thread by thread, from its start to its end
  # (trainer.threads[job=demo] below).
  while [ ! -s "$out/run/trainer.pid" ] && kill -0 "$demo" 2>/dev/null; do sleep 0.2; done
  local sampler=""
  if [ -s "$out/run/trainer.pid" ]; then
    bench/proc_cpu_sampler.sh "$(cat "$out/run/trainer.pid")" "$out/cpu.log" &
    sampler=$!
  fi
  wait "$demo" || { cat "$out/demo.log" >&2; exit 1; }
  [ -n "$sampler" ] && wait "$sampler"
  local job="$out/job.json"
  # Seconds from the operator's Start (job created) to the clip (job done),
  # after the build.
  local to_clip; to_clip=$(jq -r '(.updated_ms - .created_ms) / 1000' "$job")
  local p="seconds=$seconds,budget=$budget"
  figure "demo.seconds_to_clip[$p]" "$(printf '%.1f' "$to_clip")" s "<= 600"
  figure "demo.capture_seconds[$p]" "$(jq -r '.timings.capture_seconds + .timings.pose_seconds | .*10|round/10' "$job")" s "<= $((seconds + 1))"
  figure "demo.transfer_seconds[$p]" "$(jq -r '.timings.transfer_seconds | .*100|round/100' "$job")" s "<= 5"
  figure "demo.train_seconds[$p]" "$(jq -r '.timings.train_seconds | .*10|round/10' "$job")" s "<= $((budget + 1)) (budget + the last step)"
  figure "demo.render_seconds[$p,frames=$(jq -r .clip.frames "$job")]" "$(jq -r '.timings.render_seconds | .*10|round/10' "$job")" s "<= 30"
  figure "demo.train_generator_steps_per_second[$p,resolution=128]" "$(jq -r '.generator_steps_per_second | .*100|round/100' "$job")" steps/s ">= 2"
  figure "demo.train_face_steps_per_second[$p,resolution=128]" "$(jq -r '.face_steps_per_second | .*10|round/10' "$job")" steps/s "no target"
  demo_thread_figures "$job" "$out/cpu.log" "job=demo,$p"
  echo "# clip: $(jq -r '(.clip.width|tostring) + "x" + (.clip.height|tostring) + ", " + (.clip.frames|tostring) + " frames, " + (.clip.bytes|tostring) + " bytes"' "$job"); $(jq -r '"\(.generator_steps) generator steps, \(.face_steps) face-GAN steps"' "$job"); log $out/demo.log"
}

# trainer.threads[job=demo,...]: the trainer process's CPU seconds per wall
# second over the job's generator phase, from bench/proc_cpu_sampler.sh's
# snapshots (bench/README.md, "demo"); the shares of its busiest threads.
#   demo_thread_figures JOB_JSON CPU_LOG PARAMS
demo_thread_figures() {
  local job=$1 log=$2 p=$3
  [ -s "$log" ] || { echo "# no CPU samples of the trainer (no trainer.pid)"; return; }
  # The generator phase: training ends when rendering starts (the job's
  # last write is the end of rendering) and starts train_seconds earlier;
  # the generator phase is its first generator_steps / steps-per-second.
  # A second off each end: the tuner's first probe, publishing the model.
  local window
  window=$(jq -r '(.updated_ms / 1000 - .timings.render_seconds) as $until
    | ($until - .timings.train_seconds) as $start
    | (if .generator_steps_per_second > 0 then .generator_steps / .generator_steps_per_second else 0 end) as $gen
    | "\($start + 1) \($start + $gen - 1)"' "$job")
  awk -v from="${window% *}" -v to="${window#* }" -v tick="$(getconf CLK_TCK)" -v p="$p" \
      -v its="$(jq -r '.generator_steps_per_second | .*100|round/100' "$job")" '
    { if (!($1 in seen)) { seen[$1] = 1; times[++n] = $1 } ticks[$1, $2] = $3; tids[$2] = 1 }
    END {
      for (i = 1; i <= n; i++) {
        if (a == "" && times[i] >= from) a = times[i]
        if (times[i] <= to) b = times[i]
      }
      if (a == "" || b == "" || b - a < 3) {
        printf "# the generator phase (%.0f s) was too short to sample\n", to - from; exit
      }
      wall = b - a; total = 0; k = 0
      for (t in tids) {
        if (!((b, t) in ticks)) continue  # ended within the window
        used = (ticks[b, t] - ((a, t) in ticks ? ticks[a, t] : 0)) / tick
        total += used
        if (used > 0) { share[++k] = used; who[k] = t }
      }
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
        if (share[j] > share[i]) { x = share[i]; share[i] = share[j]; share[j] = x; x = who[i]; who[i] = who[j]; who[j] = x }
      printf "trainer.threads[%s] = %.2f  (target >= 1.8 on 2 cores; CPU seconds of trainer_node per wall second of the job'"'"'s generator phase, %.2f generator steps/s)\n", p, total / wall, its
      printf "trainer.parallelism[%s] = %.2f  (no target; CPU time of trainer_node over its busiest thread'"'"'s, 2.0: two threads shared the work evenly; does not drop with other load)\n", p, (k > 0 && share[1] > 0) ? total / share[1] : 0
      line = sprintf("# trainer_node threads over %.0f s of its generator phase (cores; share of the process):", wall)
      rest = total; shown = 0
      for (i = 1; i <= k && i <= 3 && share[i] >= 0.01 * total; i++) {
        line = line sprintf(" tid %s %.2f (%.0f%%);", who[i], share[i] / wall, 100 * share[i] / total)
        rest -= share[i]; ++shown
      }
      printf "%s %d other thread(s) %.2f\n", line, k - shown, (rest > 0 ? rest : 0) / wall
    }' "$log"
}

bench_capture() {
  local seconds=15
  if [ "${1:-}" = "--quick" ]; then seconds=3; fi
  local build_dir=${BUILD_DIR:-build/release}
  local log; log=$(mktemp)
  deploy/build.sh capture_bench >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  rm -f "$log"
  for cameras in 1 2 4; do
    "$build_dir/bench/capture_bench" --cameras "$cameras" --seconds "$seconds" --fps 120 \
      --width 640 --height 480
  done
  bench_pipeline "$@"
}

bench_transport() {
  deploy/build.sh transport_bench >/dev/null
  # The store=postgres figures on a private server with fsync on (durable
  # commits, as the local store's fsync); without PostgreSQL only the local ones.
  PG_SERVER_FSYNC=on private_pg_or_none
  if [ -n "${PG_STATE:-}" ] && [ -f "$PG_STATE/database_url" ]; then
    "${BUILD_DIR:-build/release}/bench/transport_bench" --database "$(cat "$PG_STATE/database_url")" "$@"
  else
    "${BUILD_DIR:-build/release}/bench/transport_bench" "$@"
  fi
}

bench_pipeline() {
  deploy/build.sh trainer_node capture_node >/dev/null
  bench/pipeline_bench.sh "$@"
}

bench_pose() {
  local assets="${BOOTH_SHARED_DIR:-../shared}/assets"
  if [ ! -f "$assets/tfjs_pose_1.mp4" ] || [ ! -f "$assets/tfpose_mobilenet_v2_small_graph_opt.pb" ] ||
     [ ! -f "$assets/movenet_singlepose_lightning_4_heads.onnx" ]; then
    echo "bench: error: pose needs $assets/tfjs_pose_1.mp4, tfjs_pose_1.json," \
      "tfpose_mobilenet_v2_small_graph_opt.pb and movenet_singlepose_lightning_4_heads.onnx (set BOOTH_SHARED_DIR)" >&2
    exit 2
  fi
  deploy/build.sh pose_bench >/dev/null
  # The project's manifest names ../shared/assets; point it at $assets.
  local out; out=$(mktemp -d)
  jq --arg w "$(realpath "$assets")/tfpose_mobilenet_v2_small_graph_opt.pb" '.weights = $w' \
    capture_node/pose/models/tfpose_mobilenet_v2_small.json >"$out/manifest.json"
  jq --arg w "$(realpath "$assets")/movenet_singlepose_lightning_4_heads.onnx" '.weights = $w' \
    capture_node/pose/models/movenet_singlepose_lightning.json >"$out/movenet.json"
  build/release/bench/pose_bench --assets "$assets" --manifest "$out/manifest.json" \
    --crop-manifest "$out/movenet.json" "$@"
}

bench_trainer_quality() {
  local mode=full
  case "${1:-}" in --quick) mode=quick ;; --prepare) mode=prepare ;; esac
  deploy/build.sh trainer_node trainer_quality_bench >/dev/null
  local bin=${BUILD_DIR:-build/release}/bench/trainer_quality_bench
  local out=${BENCH_OUT:-build/bench-quality}
  mkdir -p "$out"
  # shellcheck disable=SC2206
  local resolutions=(${QUALITY_RESOLUTIONS:-128 256}) budgets=(${QUALITY_BUDGETS:-60 120 300})
  if [ "$mode" = quick ]; then resolutions=(128); budgets=(60); fi
  declare -A bases
  for res in "${resolutions[@]}"; do bases[$res]=$(deploy/base_model.sh "bench-$res"); done
  [ "$mode" = prepare ] && { echo "# bases ready: ${bases[*]}"; return; }
  for res in "${resolutions[@]}"; do
    local calibration=--calibration
    for budget in "${budgets[@]}"; do
      for warm in 1 0; do
        [ "$mode" = quick ] && [ "$warm" = 0 ] && continue
        local args=(--resolution "$res" --budget "$budget" --save-png "$out/frames-res$res-budget$budget-warm$warm.png")
        [ "$warm" = 1 ] && args+=(--base "${bases[$res]}")
        "$bin" "${args[@]}" $calibration | tee "$out/res$res-budget$budget-warm$warm.txt"
        calibration=
      done
    done
    if [ "$mode" = full ]; then
      local warm60 cold300
      warm60=$(sed -n 's/^trainer.ssim_body\[.*warm=1\] = \([0-9.]*\).*/\1/p' "$out/res$res-budget60-warm1.txt")
      cold300=$(sed -n 's/^trainer.ssim_body\[.*warm=0\] = \([0-9.]*\).*/\1/p' "$out/res$res-budget300-warm0.txt")
      figure "trainer.warm60_minus_cold300_body[res=$res]" \
        "$(awk -v a="$warm60" -v b="$cold300" 'BEGIN { printf "%+.3f", a - b }')" "" "> 0: warm at 60 s beats cold at 300 s"
      if command -v ffmpeg >/dev/null 2>&1; then
        ffmpeg -loglevel error -y -i "$out/frames-res$res-budget300-warm1.png" \
          -i "$out/frames-res$res-budget300-warm0.png" -filter_complex hstack \
          "$out/warm-vs-cold-res$res-budget300.png" &&
          echo "# warm (left) next to cold (right), each stick | generated | truth: $out/warm-vs-cold-res$res-budget300.png"
      fi
    fi
  done
  if [ "$mode" = full ]; then
    local assets=${BOOTH_SHARED_DIR:-../shared}/assets
    if [ -f "$assets/tfjs_pose_1.mp4" ] && [ -f "$assets/tfjs_pose_1.json" ]; then
      "$bin" --resolution 128 --budget 300 --base "${bases[128]}" \
        --real-video "$assets/tfjs_pose_1.mp4" --real-keypoints "$assets/tfjs_pose_1.json" \
        --save-png "$out/frames-real-res128.png" | tee "$out/real-res128.txt"
    else
      echo "# trainer.ssim_body_real skipped: $assets/tfjs_pose_1.mp4 and .json not found"
    fi
  fi
}

# A private PostgreSQL server (tests/support/pg_server.sh) in a new folder,
# $PG_STATE, stopped and removed when the script exits; its URL is in
# $PG_STATE/database_url. Where no server can run it says why and goes on
# without one ($PG_STATE/database_url then missing).
private_pg_or_none() {
  PG_STATE=$(mktemp -d)
  trap 'tests/support/pg_server.sh stop "$PG_STATE" >/dev/null; rm -rf "$PG_STATE"' EXIT
  tests/support/pg_server.sh start "$PG_STATE" >&2 || true
  if [ ! -f "$PG_STATE/database_url" ]; then
    echo "# no PostgreSQL server: $(cat "$PG_STATE/skip_reason" 2>/dev/null || echo 'it did not start')"
  fi
}

# As private_pg_or_none, but a benchmark that cannot run without the server stops.
private_pg() {
  private_pg_or_none >/dev/null
  if [ ! -f "$PG_STATE/database_url" ]; then
    echo "bench: error: no PostgreSQL server: $(cat "$PG_STATE/skip_reason" 2>/dev/null)" >&2
    exit 2
  fi
}

bench_store() {
  deploy/build.sh store_bench >/dev/null
  private_pg
  "${BUILD_DIR:-build/release}/bench/store_bench" --database "$(cat "$PG_STATE/database_url")" \
    --local-dir "$PG_STATE/blobs" "$@"
}

bench_scale() {
  deploy/build.sh scale_bench trainer_node >/dev/null
  private_pg
  "${BUILD_DIR:-build/release}/bench/scale_bench" --database "$(cat "$PG_STATE/database_url")" \
    --trainer "${BUILD_DIR:-build/release}/trainer_node/trainer_node" --dir "$PG_STATE/fleet" "$@"
}

bench_chaos() {
  deploy/build.sh chaos_bench trainer_node >/dev/null
  private_pg
  # The workers' logs stay for reading after the run (the database goes).
  local out=${BENCH_OUT:-build/bench-chaos}
  rm -rf "$out" && mkdir -p "$out"
  "${BUILD_DIR:-build/release}/bench/chaos_bench" --database "$(cat "$PG_STATE/database_url")" \
    --trainer "${BUILD_DIR:-build/release}/trainer_node/trainer_node" --dir "$out" \
    --pg-server tests/support/pg_server.sh --pg-state "$PG_STATE" "$@"
}

bench_events() {
  deploy/build.sh event_bench >/dev/null
  private_pg
  "${BUILD_DIR:-build/release}/bench/event_bench" --database "$(cat "$PG_STATE/database_url")" "$@"
}

bench_trainer_speed() {
  local seconds=40 job_seconds=120
  [ "${1:-}" = "--quick" ] && seconds=10 && job_seconds=60
  deploy/build.sh trainer_speed_bench >/dev/null
  local bin=${BUILD_DIR:-build/release}/bench/trainer_speed_bench
  "$bin" --resolution 128 --seconds "$seconds"
  "$bin" --resolution 128 --seconds 0 --job-seconds "$job_seconds" | grep -E '^trainer|^#'
  "$bin" --resolution 256 --seconds "$seconds" --render false | grep -E '^trainer.its|^#'
}

case "${1:-}" in
  ""|-h|--help|list) list ;;
  demo) shift; bench_demo "$@" ;;
  capture) shift; bench_capture "$@" ;;
  transport) shift; bench_transport "$@" ;;
  pipeline) shift; bench_pipeline "$@" ;;
  pose) shift; bench_pose "$@" ;;
  http) shift; bench/http_slow_bench.sh "$@"; exec bench/http_bench.sh "$@" ;;
  http-slow) shift; exec bench/http_slow_bench.sh "$@" ;;
  trainer-quality) shift; bench_trainer_quality "$@" ;;
  trainer-speed) shift; bench_trainer_speed "$@" ;;
  store) shift; bench_store "$@" ;;
  scale) shift; bench_scale "$@" ;;
  chaos) shift; bench_chaos "$@" ;;
  events) shift; bench_events "$@" ;;
  *) echo "bench: error: unknown benchmark '$1'" >&2; list >&2; exit 2 ;;
esac
